"""What the commands print on the terminal: the text report of `archspec check`, the block
table of `archspec blocks`, the summary of `archspec build`, and a status line for slow work.

Results arrive as plain data (the Protocols below), so that this layer imports nothing above it.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from archspec.core.errors import STATE, Diagnostic
from archspec.core.units import Shape, parity_text

if TYPE_CHECKING:  # imported where used: the CLI imports this module at start-up
    from archspec.frontend.expect import FileResult
    from archspec.ir.graph import Graph


class CheckedFile(Protocol):
    """One file's outcome in `archspec check` (app/check.py's FileResult)."""

    @property
    def file(self) -> str: ...
    @property
    def diagnostics(self) -> list[Diagnostic]: ...
    @property
    def graph(self) -> Graph | None: ...
    @property
    def errors(self) -> list[Diagnostic]: ...
    @property
    def warnings(self) -> list[Diagnostic]: ...
    @property
    def found(self) -> bool: ...
    @property
    def ok(self) -> bool: ...
    @property
    def exit_code(self) -> int: ...
    @property
    def outputs(self) -> Mapping[str, Shape]: ...


class SavedTarget(Protocol):
    """Where a model was saved (backends/keras/save.py's Target)."""

    @property
    def path(self) -> Path: ...
    @property
    def label(self) -> str: ...


class SavedModel(Protocol):
    """What an export did (backends/keras/save.py's Saved)."""

    @property
    def target(self) -> SavedTarget: ...
    @property
    def size(self) -> int: ...
    @property
    def max_abs_diff(self) -> float | None: ...
    @property
    def relative_diff(self) -> float | None: ...
    @property
    def cleaned(self) -> list[str]: ...
    @property
    def warnings(self) -> list[Diagnostic]: ...


def out(line: str = "") -> None:
    """One line on stdout."""
    sys.stdout.write(line + "\n")


def success(line: str, quiet: bool = False) -> None:
    """A line that says all went well ("Wrote: ..."), on stdout unless `quiet` (-q)."""
    if not quiet:
        out(line)


def colour(stream: Any) -> bool:
    """Whether to colour what goes to `stream`: a terminal, unless NO_COLOR is set (to anything
    but the empty string: no-color.org) or --no-color was given."""
    return stream.isatty() and not os.environ.get("NO_COLOR") and not STATE.get("no_color")


@contextmanager
def status(message: str) -> Iterator[None]:
    """A status line on stderr while slow work runs, only when stderr is a terminal."""
    tty = sys.stderr.isatty()
    if tty:
        sys.stderr.write(f"\r{message}...")
        sys.stderr.flush()
    try:
        yield
    finally:
        if tty:
            sys.stderr.write("\r" + " " * (len(message) + 3) + "\r")
            sys.stderr.flush()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def check_output(results: Sequence[FileResult], fmt: str, table: bool = False,
                 quiet: bool = False, sets: Sequence[str] = ()) -> None:  # fmt: skip
    """`archspec check`'s report in `fmt`: text (check_report), json, github or sarif (json
    and sarif name the `--set` values, `sets`); a spec read from standard input (`-`) is named
    `<stdin>`."""
    from archspec.render import report

    for r in results:
        r.file = "<stdin>" if r.file == "-" else r.file
    if fmt == "text":
        check_report(results, table, quiet)
    elif fmt == "json":
        out(report.to_json(results, table=table, sets=sets))
    else:
        out(report.to_github(results) if fmt == "github" else report.to_sarif(results, sets))


def check_report(results: Sequence[CheckedFile], table: bool = False, quiet: bool = False) -> None:
    """One line per valid spec on stdout; diagnostics (with the source line) on stderr. `quiet`
    (-q): only the diagnostics and the FAIL lines."""
    from archspec.render import text

    colour_err, colour_out = colour(sys.stderr), colour(sys.stdout)
    for r in results:
        if r.diagnostics:
            sys.stdout.flush()
            sys.stderr.write(text.format_diagnostics(r.diagnostics, colour_err) + "\n")
            sys.stderr.flush()
        if r.graph is None or not r.ok:
            mark = "\033[1;31mFAIL\033[0m" if colour_out else "FAIL"
            out(f"{mark}  {text.safe(r.file) or chr(34) * 2}: {_plural(len(r.errors), 'error')}")
            continue
        if quiet:
            continue
        g = r.graph
        c = g.cost
        mark = "\033[1;32mok\033[0m" if colour_out else "ok"
        outs = ", ".join(text.shape_str(s) for s in g.output_shapes.values())
        out(
            f"{mark}    {text.safe(r.file)}: {g.name}: {c.params:,} params "
            f"({c.trainable:,} trainable), {text.macs_str(c.macs)} MACs, output {outs}"
        )
        if table:
            out(text.summary_table(g))
            out()
            out(text.outputs_table(g, list(r.outputs)))
            out()
    # a path not found is no spec checked, nor is a spec stopped by a usage or I/O error (a
    # --set of a param it lacks, say: exit 2), which is not called invalid
    found = [r for r in results if r.found]
    checked = [r for r in found if r.exit_code != 2]
    valid = sum(r.ok for r in checked)
    parts = [f"{_plural(len(checked), 'spec')} checked", f"{valid} valid"]
    if valid != len(checked):
        errors = sum(len(r.errors) for r in checked)
        parts.append(f"{len(checked) - valid} invalid ({_plural(errors, 'error')})")
    if len(checked) != len(found):
        parts.append(f"{len(found) - len(checked)} not checked (usage or I/O errors)")
    if len(found) != len(results):
        parts.append(f"{_plural(len(results) - len(found), 'path')} not found")
    warnings = sum(len(r.warnings) for r in results)
    if warnings:
        parts.append(_plural(warnings, "warning"))
    success(", ".join(parts), quiet)


def blocks_table(types: Sequence[str] = ()) -> None:
    """The block types (all, or `types`): parameters, defaults, descriptions; then the plugins
    that failed to load, when all are listed. An unknown type is a usage error (exit 2)."""
    from archspec.blocks import PLUGIN_ERRORS
    from archspec.core.errors import usage_error
    from archspec.frontend.jsonschema import block_rows, block_types
    from archspec.frontend.schema import type_hint

    known = block_types()
    for kind in types:
        if kind not in known:
            raise usage_error(
                "E003", f"unknown block type `{kind}`",
                hint=type_hint(kind, known) or "run `archspec blocks` for the list",
            )  # fmt: skip
    listed = list(dict.fromkeys(types) or known)  # a type asked for twice is listed once
    once = [k for k in listed if not known[k].repeatable]
    if len(once) == len(listed):
        out("Every block also takes: name, inputs, trainable (see `archspec schema`).")
    else:
        but = "".join(f" (`{k}`: no repeat)" for k in once)
        out(f"Every block also takes: name, inputs, repeat, repeat_names{but}, trainable (see "
            "`archspec schema`).")  # fmt: skip
    for kind in listed:
        model = known[kind]
        doc = " ".join((model.__doc__ or "").strip().split("\n\n")[0].split())
        out()
        out(f"{kind}: {doc}")
        rows = block_rows(kind, names=bool(types))
        if not rows:
            out("  (no parameters)")
            continue
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for r in rows:
            cells = [r[i].ljust(widths[i]) for i in range(3)]
            out(("  " + "  ".join(cells) + "  " + r[3]).rstrip())
    if not types:
        out()
        out("`archspec blocks TYPE` also lists the names a key of `one of N names` takes.")
    if PLUGIN_ERRORS and not types:
        out()
        out("Plugins that failed to load:")
        for name, why in PLUGIN_ERRORS.items():
            out(f"  {name}: {why}")


def build_summary(
    graph: Graph,
    model: Any = None,
    weights: Sequence[Any] = (),
    unloaded: Sequence[str] = (),
    quiet: bool = False,
    backend: str | None = None,
) -> None:
    """Keras's per-layer table of `model` (if given), then the block table (headed by the Keras
    `backend` that built the model: by default, that of the Keras imported in this process) and
    the totals, then the `weights` files loaded (their `describe()`) and the weighted layers
    that none loaded (`unloaded`: a new head on a pretrained backbone); nothing with `quiet`."""
    from archspec.render import text

    keras = sys.modules.get("keras")  # the model's, imported by then; never imported here
    backend = backend or getattr(getattr(keras, "backend", None), "backend", lambda: None)()

    if quiet:
        return
    if model is not None:
        # Keras prints through a rich console that is 80 columns wide when not on a terminal
        os.environ.setdefault("COLUMNS", "120")
        model.summary(print_fn=lambda line, **_: out(line), line_length=116)
    out(f"Model: {graph.name}" + (f" (built by Keras on {backend})" if backend else ""))
    out(text.summary_table(graph))
    out()
    out(text.totals(graph))
    for loaded in weights:
        out(f"Loaded weights: {loaded.describe()}")
    if unloaded:
        shown = ", ".join(unloaded[:5]) + (", ..." if len(unloaded) > 5 else "")
        n = len(unloaded)
        out(f"Initial weights kept: {n} weighted layer{'' if n == 1 else 's'} ({shown})")


def saved_summary(saved: SavedModel, tolerance: float, quiet: bool = False) -> None:
    """Where the model was saved, its size, the parity check (if run), what was cleaned up and
    the warnings about the file (only those two with `quiet`), on stderr."""
    from archspec.render import text

    for note in saved.cleaned:
        sys.stderr.write(f"archspec: an interrupted save was cleaned up: {note}\n")
    target = saved.target
    success(f"Saved: {target.path} ({target.label}, {text.human(saved.size)}B)", quiet)
    if saved.max_abs_diff is not None:
        measured = parity_text(saved.max_abs_diff, saved.relative_diff)
        success(f"Verified: {measured} (tolerance {tolerance:g})", quiet)
    if saved.warnings:
        sys.stdout.flush()
        sys.stderr.write(text.format_diagnostics(saved.warnings, colour(sys.stderr)) + "\n")


def failure(error: BaseException, debug: bool = False) -> int:
    """What the CLI prints for `error`, which ended a run, and the exit code: an ArchspecError's
    diagnostics (1 or 2); Click's usage error as Click shows it (2; 0 for the help shown without
    arguments); Ctrl-C or an abort, 130; anything else is a bug (internal_error, 3)."""
    from typer import Abort, Exit, TyperException  # the CLI's, imported by then

    from archspec.core.errors import ArchspecError

    if isinstance(error, ArchspecError):
        error_report(error.diagnostics)
        return error.exit_code
    if isinstance(error, (Abort, KeyboardInterrupt)):
        sys.stderr.write("Aborted.\n" if isinstance(error, Abort) else "Interrupted.\n")
        return 130
    if isinstance(error, Exit):
        return error.exit_code
    if isinstance(error, TyperException):  # Click's usage errors, as Typer re-exports them
        getattr(error, "show", lambda: None)()
        code = getattr(error, "exit_code", 2)
        return 0 if type(error).__name__ == "NoArgsIsHelpError" else max(code, 2)
    internal_error(error, debug)
    return 3


def error_report(diagnostics: Sequence[Diagnostic]) -> None:
    """An ArchspecError on stderr: its diagnostics with the source lines (the first
    text.MAX_SHOWN), then how many."""
    from archspec.render import text

    sys.stderr.write(text.format_diagnostics(diagnostics, colour(sys.stderr), where="") + "\n")
    errors = sum(d.severity == "error" for d in diagnostics)
    if errors > 1:
        sys.stderr.write(f"{errors} errors\n")


#: terminal escape sequences: CSI (colours, cursor), OSC (titles, links), and two-character ones
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.?)", re.S)


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences (Keras colours its messages)."""
    return _ANSI.sub("", text)


def internal_error(error: BaseException, debug: bool = False) -> None:
    """An unexpected exception (a bug) on stderr: its traceback with --debug, else one line.
    Without colour (colour()), the exception's text loses its terminal escapes (Keras colours
    its text)."""
    if debug:
        traceback.print_exception(error)
        return
    detail = str(error)
    if not colour(sys.stderr):
        detail = strip_ansi(detail)
    sys.stderr.write(
        f"archspec: internal error: {type(error).__name__}: {detail}\n"
        "This is a bug in archspec; run again with --debug for the traceback.\n"
    )
