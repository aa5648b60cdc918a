"""The command line: thin Typer commands over the stages. The one place where an ArchspecError
becomes a message and an exit code (0 ok, 1 invalid spec, 2 usage or I/O, 3 internal error)."""

import os
import sys
import traceback
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from archspec.core.errors import ArchspecError, usage_error

if TYPE_CHECKING:
    from archspec.core.limits import Limits

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
# Limits a real model may reach (archspec/core/limits.py; the README's "Guarantees"). A command that
# reads a spec takes these five and passes `_limits(...)` to api.load / api.analyze.
MaxFileSize = Annotated[
    str | None,
    typer.Option("--max-file-size", help="Raise the spec file size limit (1M = 1 MiB).",
                 metavar="BYTES", show_default=False),
]  # fmt: skip
MaxBlocks = Annotated[
    str | None,
    typer.Option("--max-blocks", help="Raise the limit on blocks after expansion (10000).",
                 metavar="N", show_default=False),
]  # fmt: skip
MaxLayers = Annotated[
    str | None,
    typer.Option("--max-layers", help="Raise the limit on layers (50000).", metavar="N",
                 show_default=False),
]  # fmt: skip
MaxParams = Annotated[
    str | None,
    typer.Option("--max-params", help="Raise the parameter limit (2G).", metavar="N",
                 show_default=False),
]  # fmt: skip
MaxActivationMemory = Annotated[
    str | None,
    typer.Option("--max-activation-memory",
                 help="Raise the activation memory limit (16G = 16 GiB; float32, batch 1).",
                 metavar="BYTES", show_default=False),
]  # fmt: skip


def _limits(
    file_size: str | None,
    blocks: str | None,
    layers: str | None,
    params: str | None,
    activation_memory: str | None,
) -> "Limits":
    """The Limits from the limit flags (a bad value is a usage error)."""
    from archspec.core.limits import from_options

    return from_options({
        "--max-file-size": file_size, "--max-blocks": blocks, "--max-layers": layers,
        "--max-params": params, "--max-activation-memory": activation_memory,
    })  # fmt: skip


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
    max_file_size: MaxFileSize = None,
    max_blocks: MaxBlocks = None,
    max_layers: MaxLayers = None,
    max_params: MaxParams = None,
    max_activation_memory: MaxActivationMemory = None,
) -> None:
    """Compile SPEC to a Keras model, print its summary, optionally save or export it."""
    from archspec import app as api
    from archspec.backends.keras.save import check_target, export
    from archspec.render import text

    if output is None and (fmt is not None or verify):
        raise usage_error("E003", "--format and --verify need an output: -o PATH")
    if not tolerance >= 0:
        raise usage_error("E003", f"--tolerance must be >= 0. Received: {tolerance}")
    limits = _limits(max_file_size, max_blocks, max_layers, max_params, max_activation_memory)
    resolved = api.load(spec, sets=sets or (), limits=limits)
    graph = api.analyze(resolved)
    target = check_target(output, force, fmt, verify) if output is not None else None
    shapes = None  # where the model must run: at what size, if its input's is unknown
    if target is not None and (verify or target.format == "onnx"):
        from archspec.backends.keras.verify import run_shapes

        shapes = run_shapes(graph, resolved.doc)
    with _status("building the Keras model"):
        model = api.compile(graph)
    if layers:
        # Keras prints through a rich console that is 80 columns wide when not on a terminal
        os.environ.setdefault("COLUMNS", "120")
        model.summary(print_fn=lambda line, **_: _out(line), line_length=116)
    _out(f"Model: {graph.name}")
    _out(text.summary_table(graph))
    _out()
    _out(text.totals(graph))
    if target is not None:
        saved = export(
            model, target, force=force, verify=verify, tolerance=tolerance, status=_status,
            shapes=shapes,
        )  # fmt: skip
        for note in saved.cleaned:
            sys.stderr.write(f"archspec: an interrupted save was cleaned up: {note}\n")
        _out(f"Saved: {target.path} ({target.label}, {text.human(saved.size)}B)")
        if saved.max_abs_diff is not None:
            _out(f"Verified: max abs difference {saved.max_abs_diff:.2g} (tolerance {tolerance:g})")


@app.command()
def render(spec: SpecArg, sets: Sets = None, debug: Debug = False) -> None:
    """Print SPEC fully expanded (params, defaults, repeats and user-defined blocks resolved)
    as YAML that is itself a valid spec building the same model."""
    from archspec import app as api
    from archspec.render.spec import render_spec

    resolved = api.load(spec, sets=sets or ())
    api.analyze(resolved)  # shape errors too: what is rendered must build
    _out(render_spec(resolved, source=str(spec)).rstrip("\n"))


class Format(str, Enum):
    """Output formats of `archspec check`."""

    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


@app.command()
def check(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Spec files, or folders searched recursively for *.yaml / *.yml.",
            show_default=False,
            metavar="PATH",
        ),
    ],
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="text (default), json, github (workflow annotations) or sarif (2.1.0).",
            case_sensitive=False,
        ),
    ] = Format.text,
    table: Annotated[
        bool, typer.Option("--table", help="Add the per-block table of each valid spec.")
    ] = False,
    sets: Sets = None,
    debug: Debug = False,
    max_file_size: MaxFileSize = None,
    max_blocks: MaxBlocks = None,
    max_layers: MaxLayers = None,
    max_params: MaxParams = None,
    max_activation_memory: MaxActivationMemory = None,
) -> None:
    """Validate specs without TensorFlow: schema, shapes, budget, expect.

    Prints each valid spec's totals. Exit 0 when every spec is valid, 1 when any is
    invalid, 2 for usage or I/O errors."""
    import gc

    from archspec.app import check as checker

    limits = _limits(max_file_size, max_blocks, max_layers, max_params, max_activation_memory)
    # A short-lived process: the objects that importing pydantic and the block models created
    # live until it ends, and what checking creates is freed by reference counting. Without
    # the cyclic collector's passes over the growing document, the cost stays linear in blocks.
    gc.freeze()
    gc.disable()
    try:
        results = checker.run(paths, sets=sets or (), limits=limits)
    finally:
        gc.enable()  # for callers that run the app in their own process
    if fmt is Format.text:
        _check_text(results, table)
    else:
        from archspec.render import report

        renderer = {Format.json: lambda r: report.to_json(r, table=table),
                    Format.github: report.to_github,
                    Format.sarif: report.to_sarif}[fmt]  # fmt: skip
        _out(renderer(results))
    code = checker.exit_code(results)
    if code:
        raise typer.Exit(code)


def _check_text(results: list[Any], table: bool) -> None:
    """One line per valid spec on stdout; diagnostics (with the source line) on stderr."""
    from archspec.render import text

    colour_err, colour_out = sys.stderr.isatty(), sys.stdout.isatty()
    for r in results:
        if r.diagnostics:
            sys.stdout.flush()
            sys.stderr.write(text.format_diagnostics(r.diagnostics, colour_err) + "\n")
            sys.stderr.flush()
        if r.graph is None or not r.ok:
            mark = "\033[1;31mFAIL\033[0m" if colour_out else "FAIL"
            n = len(r.errors)
            _out(f"{mark}  {r.file}: {n} error{'s' if n != 1 else ''}")
            continue
        g = r.graph
        c = g.cost
        mark = "\033[1;32mok\033[0m" if colour_out else "ok"
        outs = ", ".join(text.shape_str(s) for s in g.output_shapes.values())
        _out(
            f"{mark}    {r.file}: {g.name}: {c.params:,} params "
            f"({c.trainable:,} trainable), {text.macs_str(c.macs)} MACs, output {outs}"
        )
        if table:
            _out(text.summary_table(g))
            _out()
    valid = sum(r.ok for r in results)
    errors = sum(len(r.errors) for r in results)
    warnings = sum(len(r.warnings) for r in results)
    parts = [f"{len(results)} spec{'s' if len(results) != 1 else ''} checked", f"{valid} valid"]
    if valid != len(results):
        parts.append(f"{len(results) - valid} invalid ({errors} error{'s' if errors != 1 else ''})")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    _out(", ".join(parts))


@app.command()
def schema(
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Write the schema here (default: stdout).", show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output.")] = False,
    debug: Debug = False,
) -> None:
    """Print or write the JSON Schema of the spec format, for editors."""
    from archspec.backends.keras.save import write_file
    from archspec.frontend.jsonschema import dumps

    content = dumps()
    if output is None:
        sys.stdout.write(content)
        return
    write_file(output, content.encode("utf-8"), force)
    _out(f"Wrote {output}")


@app.command()
def blocks(
    types: Annotated[
        list[str] | None,
        typer.Argument(help="Only these block types.", show_default=False, metavar="[TYPE]..."),
    ] = None,
    debug: Debug = False,
) -> None:
    """List the block types: parameters, defaults, descriptions."""
    from archspec.blocks import PLUGIN_ERRORS, REGISTRY
    from archspec.core.errors import did_you_mean
    from archspec.frontend.jsonschema import block_rows

    for kind in types or []:
        if kind not in REGISTRY:
            raise usage_error(
                "E003", f"unknown block type `{kind}`",
                hint=did_you_mean(kind, REGISTRY) or "run `archspec blocks` for the list",
            )  # fmt: skip
    _out("Every block also takes: name, inputs, repeat (see `archspec schema`).")
    for kind in types or list(REGISTRY):
        model = REGISTRY[kind]
        doc = " ".join((model.__doc__ or "").strip().split("\n\n")[0].split())
        _out()
        _out(f"{kind}: {doc}")
        rows = block_rows(kind)
        if not rows:
            _out("  (no parameters)")
            continue
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for r in rows:
            cells = [r[i].ljust(widths[i]) for i in range(3)]
            _out(("  " + "  ".join(cells) + "  " + r[3]).rstrip())
    if PLUGIN_ERRORS and not types:
        _out()
        _out("Plugins that failed to load:")
        for name, why in PLUGIN_ERRORS.items():
            _out(f"  {name}: {why}")


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
    from archspec import app as api
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

    from archspec import app as api
    from archspec.render import diff as diffing

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
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:  # typer.Exit(code) is returned, not raised, here
            if code == 130:  # Typer turns Ctrl-C into Exit(130)
                sys.stderr.write("Interrupted.\n")
            sys.exit(code)
    except ArchspecError as e:
        from archspec.render import text

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
