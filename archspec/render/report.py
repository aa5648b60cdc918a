"""Machine-readable reports of `archspec check`: JSON, GitHub workflow commands, SARIF 2.1.0.

All three read the same FileResults (frontend/expect.py); rule ids are the stable error codes of
archspec/core/errors.py. The JSON structure is documented in the README ("archspec check") and is
versioned by its `version` field: fields are only ever added.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from archspec.core.errors import CODES, Diagnostic, format_path
from archspec.frontend.expect import FileResult

JSON_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("archspec")
    except Exception:  # not installed (running from a source tree)
        return "0"


# -- JSON -----------------------------------------------------------------------------------


def diagnostic_dict(d: Diagnostic) -> dict[str, Any]:
    """One diagnostic as plain data (the JSON report's `errors` / `warnings` items)."""
    return {
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "file": d.file,
        "line": d.line,
        "col": d.col,
        "path": format_path(d.path),
        "key_path": list(d.path),
        "hint": d.hint,
    }


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
    """Per block: name, type, output shape, params, MACs (the `--table` rows)."""
    g = result.graph
    if g is None:
        return None
    rows = []
    for b in g.blocks:
        c = b.cost(g)
        rows.append(
            {
                "name": b.name,
                "type": b.type,
                "output_shape": list(b.shape),
                "params": c.params,
                "macs": c.macs,
            }
        )
    return rows


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


def to_json(results: Sequence[FileResult], table: bool = False) -> str:
    """The JSON report: `{"version", "ok", "summary", "files": [...]}` (see the README)."""
    files = []
    for r in results:
        entry: dict[str, Any] = {
            "file": r.file,
            "ok": r.ok,
            "errors": [diagnostic_dict(d) for d in r.errors],
            "warnings": [diagnostic_dict(d) for d in r.warnings],
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
    }
    return json.dumps(report, indent=2)


def summary(results: Sequence[FileResult]) -> dict[str, int]:
    return {
        "files": len(results),
        "valid": sum(r.ok for r in results),
        "invalid": sum(not r.ok for r in results),
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
    """`::error file=F,line=L,col=C,title=archspec E201::message` (hint on a second line)."""
    props = []
    if d.file:
        props.append(("file", d.file))
    if d.line is not None:
        props.append(("line", str(d.line)))
        if d.col is not None:
            props.append(("col", str(d.col)))
    props.append(("title", f"archspec {d.code}"))
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{d.severity} {head}::{escape_data(message)}"


def to_github(results: Sequence[FileResult]) -> str:
    """One annotation per diagnostic, then a plain summary line for the log."""
    lines = [github_line(d) for r in results for d in r.diagnostics]
    s = summary(results)
    lines.append(
        f"archspec check: {s['files']} file(s), {s['invalid']} invalid, "
        f"{s['errors']} error(s), {s['warnings']} warning(s)"
    )
    return "\n".join(lines)


# -- SARIF 2.1.0 ----------------------------------------------------------------------------


def _uri(file: str) -> str:
    """A relative path as a URI reference with forward slashes (relative to the checkout)."""
    p = Path(file)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_uri()
    return p.as_posix()


def to_sarif(results: Sequence[FileResult]) -> str:
    """A SARIF 2.1.0 log with one run; every error code is a rule with a stable id."""
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
    for r in results:
        for d in r.diagnostics:
            text = d.message + (f" (hint: {d.hint})" if d.hint else "")
            entry: dict[str, Any] = {
                "ruleId": d.code,
                "level": d.severity,
                "message": {"text": text},
            }
            if d.code in CODES:
                entry["ruleIndex"] = codes.index(d.code)
            file = d.file or r.file
            uri = _uri(file)
            index = artifacts.setdefault(uri, len(artifacts))
            location: dict[str, Any] = {
                "physicalLocation": {"artifactLocation": {"uri": uri, "index": index}}
            }
            if d.line is not None:
                region: dict[str, int] = {"startLine": d.line}
                if d.col is not None:
                    region["startColumn"] = d.col
                location["physicalLocation"]["region"] = region
            if d.path:
                location["logicalLocations"] = [
                    {"fullyQualifiedName": format_path(d.path), "kind": "member"}
                ]
            entry["locations"] = [location]
            sarif_results.append(entry)
    log = {
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
    return json.dumps(log, indent=2)


def _words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w]
