"""Machine-readable reports of `archspec check`: JSON, GitHub workflow commands, SARIF 2.1.0.

All three read the same FileResults (frontend/expect.py); rule ids are the stable error codes of
archspec/core/errors.py. The JSON structure is documented in the README ("archspec check") and is
versioned by its `version` field: fields are only ever added.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from archspec.core.errors import CODES, Diagnostic, KeyPath, format_path
from archspec.frontend.expect import FileResult
from archspec.render.text import (
    MAX_NOTES,
    MESSAGE_CHARS,
    NOTE_CHARS,
    clip,
    more_line,
    note_text,
    notes_shown,
    safe,
    shown,
)

JSON_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _version() -> str:
    """The installed archspec-cnn's version (not the distribution `archspec`: PyPI's unrelated
    project of that name), or "0" when running from a source tree."""
    try:
        from importlib.metadata import version

        return version("archspec-cnn")
    except Exception:  # not installed
        return "0"


# -- JSON -----------------------------------------------------------------------------------


def _clipped_path(path: KeyPath) -> KeyPath:
    return tuple(clip(p, 200) if isinstance(p, str) else p for p in path[:64])


def diagnostic_dict(d: Diagnostic) -> dict[str, Any]:
    """One diagnostic as plain data (the JSON report's `errors` / `warnings` items). Text from
    the spec is clipped (JSON escapes control characters itself)."""
    path = _clipped_path(d.path)
    return {
        "code": d.code,
        "severity": d.severity,
        "message": clip(d.message, MESSAGE_CHARS),
        "file": d.file,
        "line": d.line,
        "col": d.col,
        "path": clip(format_path(path), MESSAGE_CHARS),
        "key_path": list(path),
        "hint": None if d.hint is None else clip(d.hint, MESSAGE_CHARS),
        # where else it belongs: a definition, the spec that included this one, a --set
        "notes": [
            {"message": clip(r.message, NOTE_CHARS), "file": r.file, "line": r.line, "col": r.col}
            for r in d.related[:MAX_NOTES]
        ],
        "notes_omitted": max(0, len(d.related) - MAX_NOTES),
    }


def _json_size(d: Diagnostic) -> int:
    return len(json.dumps(diagnostic_dict(d), indent=2)) + 8 * len(d.path)


def totals_dict(result: FileResult) -> dict[str, Any] | None:
    """The model's figures, or None when the spec did not get as far as the graph."""
    g = result.graph
    if g is None:
        return None
    c = g.cost
    return {
        "name": g.name,
        "params": c.params,
        "trainable_params": c.trainable,
        "non_trainable_params": c.non_trainable,
        "macs": c.macs,
        "output_shapes": {name: list(shape) for name, shape in result.outputs.items()},
    }


def blocks_list(result: FileResult) -> list[dict[str, Any]] | None:
    """The `--table` rows, as the text table has them (Graph.block_rows): name, type, output
    shape, params (and the trainable ones), MACs per block as written, a user-defined block's
    one row for its instance, and whether all its layers are frozen."""
    g = result.graph
    if g is None:
        return None
    return [
        {"name": name, "type": kind, "output_shape": list(shape), "params": c.params,
         "trainable_params": c.trainable, "macs": c.macs, "frozen": frozen}
        for name, kind, shape, c, frozen in g.block_rows()
    ]  # fmt: skip


def outputs_list(result: FileResult) -> list[dict[str, Any]] | None:
    """Per model output (Graph.feature_info): name (as `outputs` names it), the Keras layer,
    shape, channels and stride relative to the input as [height, width] (null for none)."""
    g = result.graph
    if g is None:
        return None
    infos = g.feature_info()
    return [
        {
            "name": name,
            "layer": f.name,
            "shape": list(f.shape),
            "channels": f.channels,
            "stride": None if f.stride is None else list(f.stride),
        }
        for name, f in zip(result.outputs or [f.name for f in infos], infos, strict=True)
    ]


def to_json(results: Sequence[FileResult], table: bool = False, sets: Sequence[str] = ()) -> str:
    """The JSON report: `{"version", "ok", "summary", "files": [...], "skipped": [...],
    "sets": [...]}` (see the README; `sets`: the `--set` values checked with). Per file, the
    first text.MAX_SHOWN diagnostics; `omitted` counts the rest (the summary counts all)."""
    files, skipped = [], []
    for r in results:
        # W101 (what a folder search skipped) names its own path: listed apart, not in a file's
        skipped += [diagnostic_dict(d) for d in r.diagnostics if d.code == "W101"]
        show, rest = shown([d for d in r.diagnostics if d.code != "W101"], _json_size)
        entry: dict[str, Any] = {
            "file": r.file,
            "ok": r.ok,
            "errors": [diagnostic_dict(d) for d in show if d.severity == "error"],
            "warnings": [diagnostic_dict(d) for d in show if d.severity == "warning"],
            "omitted": len(rest),
            "totals": totals_dict(r),
            "outputs": outputs_list(r),
        }
        if table:
            entry["blocks"] = blocks_list(r)
        files.append(entry)
    report = {
        "version": JSON_VERSION,
        "ok": all(r.ok for r in results),
        "summary": summary(results),
        "files": files,
        "skipped": skipped,
        "sets": [str(s) for s in sets],
    }
    return json.dumps(report, indent=2)


def summary(results: Sequence[FileResult]) -> dict[str, int]:
    """The counts: files found; valid, invalid and not checked (stopped by a usage or I/O
    error, exit 2) among them; paths not found (E001; not the run's own "no spec found", which
    has no file); all errors and warnings."""
    found = [r for r in results if r.found]
    unchecked = sum(r.exit_code == 2 for r in found)
    return {
        "files": len(found),
        "valid": sum(r.ok for r in found),
        "invalid": sum(not r.ok for r in found) - unchecked,
        "not_checked": unchecked,
        "not_found": sum(not r.found and r.file != "" for r in results),
        "errors": sum(len(r.errors) for r in results),
        "warnings": sum(len(r.warnings) for r in results),
    }


# -- GitHub workflow commands ---------------------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped (as @actions/core does)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as the message, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(d: Diagnostic) -> str:
    """`::error file=F,line=L,col=C,title=archspec E201::message` (hint on a second line).
    Control characters from the spec are escaped (`\\x1b`; newlines are `%0A`), text clipped."""
    props = []
    if d.file:
        props.append(("file", safe(d.file)))
    if d.line is not None:
        props.append(("line", str(d.line)))
        if d.col is not None:
            props.append(("col", str(d.col)))
    props.append(("title", f"archspec {d.code}"))
    hint = f"\nhint: {safe(d.hint, lines=True)}" if d.hint else ""
    notes = "".join(f"\nnote: {note}" for note in notes_shown(d))
    message = safe(d.message, lines=True) + notes + hint
    head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{d.severity} {head}::{escape_data(message)}"


def to_github(results: Sequence[FileResult]) -> str:
    """One annotation per diagnostic (the first text.MAX_SHOWN of each file, then a notice
    counting the rest), then a plain summary line for the log."""
    lines = []
    for r in results:
        show, rest = shown(r.diagnostics, lambda d: len(github_line(d)) + 1)
        lines += [github_line(d) for d in show]
        if rest:
            where = f"file={escape_property(safe(r.file))},title=archspec"
            lines.append(f"::notice {where}::{escape_data(more_line(rest))}")
    s = summary(results)
    missing = f"{s['not_found']} path(s) not found, " if s["not_found"] else ""
    if s["not_checked"]:
        missing = f"{s['not_checked']} not checked, {missing}"
    lines.append(
        f"archspec check: {s['files']} file(s), {s['invalid']} invalid, {missing}"
        f"{s['errors']} error(s), {s['warnings']} warning(s)"
    )
    return "\n".join(lines)


# -- SARIF 2.1.0 ----------------------------------------------------------------------------


def _uri(file: str) -> str:
    """A relative path as a URI reference with forward slashes (relative to the checkout),
    `..` resolved and percent-encoded (RFC 3986: `a b#1.yaml` is `a%20b%231.yaml`)."""
    p = Path(os.path.normpath(file))
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_uri()
    return quote(p.as_posix(), safe="/")


def _sarif_size(d: Diagnostic) -> int:
    """About the bytes of a SARIF result: fixed structure, the file's URI, escaped text."""
    text = len(d.message) + len(d.hint or "")
    notes = sum(
        300 + 3 * len(r.file or "") + 4 * min(len(r.message), NOTE_CHARS)
        for r in d.related[:MAX_NOTES]
    )
    return (600 + 3 * len(d.file or "") + 4 * min(text, 2 * MESSAGE_CHARS) + 8 * len(d.path)
            + notes)  # fmt: skip


def _place(file: str | None, line: int | None, col: int | None, artifacts: dict[str, int]
           ) -> dict[str, Any]:  # fmt: skip
    """A SARIF location's physicalLocation for a diagnostic or a note (its file added to
    `artifacts`); empty without a file (`check ""`)."""
    if not file:
        return {}
    uri = _uri(file)
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": uri, "index": artifacts.setdefault(uri, len(artifacts))}
    }
    # about the whole file (W101, E001, a size limit): its first line, as code scanning needs one
    region = physical["region"] = {"startLine": line or 1}
    if col is not None:
        region["startColumn"] = col
    return {"physicalLocation": physical}


def to_sarif(results: Sequence[FileResult], sets: Sequence[str] = ()) -> str:
    """A SARIF 2.1.0 log with one run; every error code is a rule with a stable id. The run's
    properties name the `--set` values (`sets`); its category is the upload's to give (GitHub's
    upload-sarif sets one per job and matrix value where the log has none)."""
    codes = list(CODES)
    rules = [
        {
            "id": code,
            "name": "".join(w.capitalize() for w in _words(CODES[code])),
            "shortDescription": {"text": CODES[code]},
            "defaultConfiguration": {"level": "warning" if code.startswith("W") else "error"},
        }
        for code in codes
    ]
    sarif_results = []
    artifacts: dict[str, int] = {}
    notes: list[dict[str, Any]] = []
    failed = False
    for r in results:
        show, rest = shown(r.diagnostics, _sarif_size)
        if rest:
            notes.append({
                "level": "note",
                "message": {"text": more_line(rest, f" in {safe(r.file)}")},
                "locations": [_place(r.file, None, None, artifacts)],
            })  # fmt: skip
        for d in show:
            text = safe(d.message) + (f" (hint: {safe(d.hint)})" if d.hint else "")
            entry: dict[str, Any] = {
                "ruleId": d.code,
                "level": d.severity,
                "message": {"text": text},
            }
            if d.code in CODES:
                entry["ruleIndex"] = codes.index(d.code)
            location = _place(d.file or r.file, d.line, d.col, artifacts)
            if not location:  # about the run, not a file (no spec found, a bad --set)
                notes.append({"level": d.severity, "message": {"text": text},
                              "descriptor": {"id": d.code}})  # fmt: skip
                failed = failed or d.severity == "error"
                continue
            if d.path:
                name = safe(format_path(_clipped_path(d.path)))
                location["logicalLocations"] = [{"fullyQualifiedName": name, "kind": "member"}]
            if location:
                entry["locations"] = [location]
            related = []  # the notes: where else it belongs (the spec that included this one)
            for k, note in enumerate(d.related[:MAX_NOTES]):
                place = _place(note.file, note.line, note.col, artifacts)
                related.append({"id": k, "message": {"text": note_text(note)}, **place})
            if len(d.related) > MAX_NOTES:  # how many more, as the text says
                related.append({"id": MAX_NOTES, "message": {"text": notes_shown(d)[-1]}})
            if related:
                entry["relatedLocations"] = related
            sarif_results.append(entry)
    log: dict[str, Any] = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "archspec",
                        "version": _version(),
                        "rules": rules,
                    }
                },
                "artifacts": [{"location": {"uri": uri}} for uri in artifacts],
                "results": sarif_results,
            }
        ],
    }
    if sets:
        log["runs"][0]["properties"] = {"sets": [str(s) for s in sets]}
    if notes:  # diagnostics left out of a file ("... and 12 more errors in spec.yaml"), or
        # about the run (no spec found, a bad --set: the run did not succeed)
        invocation = {"executionSuccessful": not failed, "toolExecutionNotifications": notes}
        log["runs"][0]["invocations"] = [invocation]
    return json.dumps(log, indent=2)


def _words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w]
