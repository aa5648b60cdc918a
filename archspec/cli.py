"""The command line: thin Typer commands over the stages. The one place where an ArchspecError
becomes a message and an exit code (0 ok, 1 invalid spec, 2 usage or I/O, 3 internal error)."""

from __future__ import annotations

import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from archspec import api
from archspec.errors import ArchspecError, usage_error
from archspec.render import text

app = typer.Typer(
    name="archspec",
    help="Compile declarative YAML CNN specs to Keras; check them statically, fast.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SpecArg = Annotated[
    Path, typer.Argument(help="The spec file (YAML).", show_default=False, metavar="SPEC")
]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a spec param: --set width=32 (repeatable).",
        metavar="NAME=VALUE",
        show_default=False,
    ),
]
Debug = Annotated[bool, typer.Option("--debug", help="Show Python tracebacks of internal errors.")]


@app.callback()
def _root() -> None:
    """Compile declarative YAML CNN specs to Keras; check them statically, fast."""


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


@contextmanager
def _status(message: str) -> Any:
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


@app.command()
def build(
    spec: SpecArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Save the model here: .keras, .tflite, .onnx, or a folder (SavedModel).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output.")] = False,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="keras, savedmodel, tflite or onnx (default: from the output's suffix).",
            show_default=False,
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Reload the saved model and compare its outputs with Keras's."
        ),
    ] = False,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Max abs difference --verify accepts.")
    ] = 1e-4,
    layers: Annotated[
        bool, typer.Option("--layers", help="Print Keras's per-layer table.")
    ] = False,
    sets: Sets = None,
    debug: Debug = False,
) -> None:
    """Compile SPEC to a Keras model, print its summary, optionally save or export it."""
    from archspec.save import check_target, export

    if output is None and (fmt is not None or verify):
        raise usage_error("E003", "--format and --verify need an output: -o PATH")
    if not tolerance >= 0:
        raise usage_error("E003", f"--tolerance must be >= 0. Received: {tolerance}")
    graph = api.analyze(spec, sets=sets or ())
    target = check_target(output, force, fmt, verify) if output is not None else None
    with _status("building the Keras model"):
        model = api.compile(graph)
    if layers:
        model.summary(print_fn=lambda line, **_: _out(line), line_length=110)
    _out(f"Model: {graph.name}")
    _out(text.summary_table(graph))
    _out()
    _out(text.totals(graph))
    if target is not None:
        saved = export(
            model, target, force=force, verify=verify, tolerance=tolerance, status=_status
        )
        for note in saved.cleaned:
            sys.stderr.write(f"archspec: an interrupted save was cleaned up: {note}\n")
        _out(f"Saved: {target.path} ({target.label}, {text.human(saved.size)}B)")
        if saved.max_abs_diff is not None:
            _out(f"Verified: max abs difference {saved.max_abs_diff:.2g} (tolerance {tolerance:g})")


@app.command()
def render(spec: SpecArg, sets: Sets = None, debug: Debug = False) -> None:
    """Print SPEC fully expanded (params, defaults, repeats and user-defined blocks resolved)
    as YAML that is itself a valid spec building the same model."""
    from archspec.render.spec import render_spec

    _out(render_spec(api.load(spec, sets=sets or ()), source=str(spec)).rstrip("\n"))


@app.command()
def plot(
    spec: SpecArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="The diagram: .svg, .png, .dot (.pdf with a system Graphviz). "
            "Default: <spec file stem>.svg in the current folder. Replaced if it exists.",
            show_default=False,
        ),
    ] = None,
    collapse: Annotated[bool, typer.Option("--collapse", help="Draw one box per block.")] = False,
    rankdir: Annotated[
        str, typer.Option("--rankdir", help="Layout: TB (top to bottom) or LR.", metavar="TB|LR")
    ] = "TB",
    sets: Sets = None,
    debug: Debug = False,
) -> None:
    """Draw SPEC's architecture (no TensorFlow; no system Graphviz needed for .svg and .png)."""
    from archspec.render import dot

    target = output if output is not None else Path(spec.stem + ".svg")
    dot.output_format(target)  # a bad suffix fails before the spec is read
    graph = api.analyze(spec, sets=sets or ())
    with _status(f"drawing {target}"):
        dot.plot(graph, target, collapse=collapse, rankdir=rankdir.upper())
    _out(f"Wrote: {target}")


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The spec before.", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The spec after.", show_default=False)],
    fmt: Annotated[
        str,
        typer.Option(
            "--format", help="text, json, or markdown (for a PR comment).", metavar="FORMAT"
        ),
    ] = "text",
    sets: Sets = None,
    debug: Debug = False,
) -> None:
    """Compare two specs: blocks added, removed and changed; params and MACs before and after."""
    import json

    from archspec import diff as diffing
    from archspec.errors import usage_error

    if fmt not in diffing.FORMATS:
        raise usage_error(
            "E003", f"--format must be one of {', '.join(diffing.FORMATS)}; received {fmt!r}"
        )
    result = diffing.diff(api.analyze(old, sets=sets or ()), api.analyze(new, sets=sets or ()))
    if fmt == "json":
        _out(json.dumps(diffing.to_json(result), indent=2))
    else:
        _out(diffing.format_markdown(result) if fmt == "markdown" else diffing.format_text(result))


def main() -> None:
    """Entry point: run the app, turn errors into messages and exit codes."""
    debug = "--debug" in sys.argv
    try:
        # Without standalone mode, Typer returns (not raises) the code of a typer.Exit, and
        # turns Ctrl-C into Exit(130): pass it on, or an interrupted command would exit 0.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            if code == 130:
                sys.stderr.write("Interrupted.\n")
            sys.exit(code)
    except ArchspecError as e:
        colour = sys.stderr.isatty()
        sys.stderr.write(text.format_diagnostics(e.diagnostics, colour) + "\n")
        errors = sum(d.severity == "error" for d in e.diagnostics)
        if errors > 1:
            sys.stderr.write(f"{errors} errors\n")
        sys.exit(e.exit_code)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.stderr.write("Aborted.\n")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    except typer.TyperException as e:  # click's usage errors, as Typer re-exports them
        show = getattr(e, "show", None)
        if show is not None:
            show()
        code = getattr(e, "exit_code", 2)
        sys.exit(0 if type(e).__name__ == "NoArgsIsHelpError" else max(code, 2))
    except Exception as e:
        if debug:
            traceback.print_exc()
        else:
            sys.stderr.write(
                f"archspec: internal error: {type(e).__name__}: {e}\n"
                "This is a bug in archspec; run again with --debug for the traceback.\n"
            )
        sys.exit(3)
