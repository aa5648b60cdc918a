"""The command line: thin Typer commands over archspec.app; shared options are declared in
options.py. The root command's `main` is the one place where an ArchspecError becomes a message
and an exit code (0 ok, 1 invalid spec, 2 usage or I/O, 3 internal error, 130 interrupted)."""

import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from typer.core import TyperGroup

from archspec.cli.options import SpecArg, SpecOptions, debuggable, reads_spec
from archspec.core.errors import STATE, ArchspecError


class _Archspec(TyperGroup):
    """The root command; run standalone, its `main` turns errors into messages and exit codes."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:  # fmt: skip
        run = partial(super().main, args, prog_name, complete_var, False, windows_expand_args,
                      **extra)  # fmt: skip
        if not standalone_mode:  # the caller handles errors
            return run()
        STATE["debug"] = False
        try:
            code = run()
            if isinstance(code, int) and code:  # typer.Exit(code) is returned, not raised, here
                if code == 130:  # Typer turns Ctrl-C into Exit(130)
                    sys.stderr.write("Interrupted.\n")
                sys.exit(code)
        except ArchspecError as e:
            from archspec.render.console import error_report

            error_report(e.diagnostics)
            sys.exit(e.exit_code)
        except typer.Exit as e:
            sys.exit(e.exit_code)
        except (typer.Abort, KeyboardInterrupt) as e:
            sys.stderr.write("Aborted.\n" if isinstance(e, typer.Abort) else "Interrupted.\n")
            sys.exit(130)
        except typer.TyperException as e:  # click's usage errors, as Typer re-exports them
            getattr(e, "show", lambda: None)()
            code = getattr(e, "exit_code", 2)
            sys.exit(0 if type(e).__name__ == "NoArgsIsHelpError" else max(code, 2))
        except Exception as e:
            from archspec.render.console import internal_error

            internal_error(e, STATE["debug"])
            sys.exit(3)


app = typer.Typer(
    name="archspec", cls=_Archspec, no_args_is_help=True, add_completion=False,
    help="Compile declarative YAML CNN specs to Keras; check them statically, fast.",
    pretty_exceptions_enable=False, rich_markup_mode=None,
)  # fmt: skip
Force = Annotated[bool, typer.Option("--force", help="Replace an existing output.")]


@app.command()
@reads_spec
def build(
    spec: SpecArg,
    output: Annotated[Path | None, typer.Option("-o", "--output", show_default=False,
        help="Save the model here: .keras, .tflite, .onnx, or a folder (SavedModel).")] = None,
    force: Force = False,
    fmt: Annotated[str | None, typer.Option("--format", show_default=False,
        help="keras, savedmodel, tflite or onnx (default: from the output's suffix).")] = None,
    verify: Annotated[bool, typer.Option("--verify",
        help="Reload the saved model and compare its outputs with Keras's.")] = False,
    tolerance: Annotated[float, typer.Option("--tolerance",
        help="Max abs difference --verify accepts.")] = 1e-4,
    layers: Annotated[bool, typer.Option("--layers", help="Print Keras's layer table.")] = False,
    weights: Annotated[Path | None, typer.Option("--weights", help="Load weights (.h5).")] = None,
    *,
    opts: SpecOptions,
) -> None:  # fmt: skip
    """Compile SPEC to a Keras model, print its summary, optionally save or export it."""
    from archspec import app as api
    from archspec.render import console

    built = api.build(spec, output, sets=opts.sets, limits=opts.limits, force=force, format=fmt,
        verify=verify, tolerance=tolerance, weights=weights, status=console.status)  # fmt: skip
    console.build_summary(built.graph, built.model if layers else None)
    if built.weights is not None:
        console.out(f"Loaded weights: {built.weights.describe()}")
    if built.target is not None:
        console.saved_summary(api.export(built, status=console.status), tolerance)


@app.command()
@reads_spec
def render(spec: SpecArg, *, opts: SpecOptions) -> None:
    """Print SPEC fully expanded (params, defaults, repeats and user-defined blocks resolved)
    as YAML that is itself a valid spec building the same model."""
    from archspec import app as api

    sys.stdout.write(api.expand(spec, opts.sets, opts.limits).rstrip("\n") + "\n")


@app.command()
@reads_spec
def check(
    paths: Annotated[list[str], typer.Argument(show_default=False, metavar="PATH",
        help="Spec files, folders (searched for *.yaml / *.yml), or zoo network names.")],
    fmt: Annotated[Literal["text", "json", "github", "sarif"], typer.Option("--format", "-f",
        case_sensitive=False,
        help="text (default), json, github (workflow annotations) or sarif (2.1.0).")] = "text",
    table: Annotated[bool, typer.Option("--table",
        help="Add the per-block table of each valid spec.")] = False,
    *,
    opts: SpecOptions,
) -> None:  # fmt: skip
    """Validate specs without TensorFlow: schema, shapes, budget, expect.

    Prints each valid spec's totals. Exit 0: all valid, 1: any invalid, 2: usage or I/O error."""
    from archspec.app import check as checker
    from archspec.render import console, report

    results = checker.run(paths, sets=opts.sets, limits=opts.limits, short_lived=True)
    if fmt == "text":
        console.check_report(results, table)
    elif fmt == "json":
        console.out(report.to_json(results, table=table))
    else:
        console.out(report.to_github(results) if fmt == "github" else report.to_sarif(results))
    raise typer.Exit(checker.exit_code(results))


@app.command()
@debuggable
def schema(
    output: Annotated[Path | None, typer.Option("-o", "--output", show_default=False,
        help="Write the schema here (default: stdout).")] = None,
    force: Force = False,
) -> None:  # fmt: skip
    """Print or write the JSON Schema of the spec format, for editors."""
    from archspec.core.files import write_file
    from archspec.frontend.jsonschema import dumps

    if output is None:
        return print(dumps(), end="")
    write_file(output, dumps().encode("utf-8"), force)
    sys.stdout.write(f"Wrote {output}\n")


@app.command()
@debuggable
def blocks(
    types: Annotated[list[str] | None, typer.Argument(help="Only these block types.",
        show_default=False, metavar="[TYPE]...")] = None,
) -> None:  # fmt: skip
    """List the block types: parameters, defaults, descriptions."""
    from archspec.render.console import blocks_table

    blocks_table(types or ())


@app.command()
@reads_spec
def plot(
    spec: SpecArg,
    output: Annotated[Path | None, typer.Option("-o", "--output", show_default=False,
        help="The diagram: .svg, .png, .dot (.pdf with a system Graphviz), .html (interactive). "
        "Default: <spec file stem>.svg here. A file is replaced, a folder refused.")] = None,
    collapse: Annotated[bool, typer.Option("--collapse", help="Draw one box per block.")] = False,
    rankdir: Annotated[str, typer.Option("--rankdir", metavar="TB|LR",
        help="Layout: TB (top to bottom) or LR.")] = "TB",
    *,
    opts: SpecOptions,
) -> None:  # fmt: skip
    """Draw SPEC's architecture (no TensorFlow; no system Graphviz needed for .svg and .png)."""
    from archspec import app as api
    from archspec.render import console

    target = output if output is not None else Path(spec.stem + ".svg")
    api.plot(spec, target, sets=opts.sets, limits=opts.limits, collapse=collapse, rankdir=rankdir,
             status=console.status)  # fmt: skip
    sys.stdout.write(f"Wrote: {target}\n")


@app.command()
@reads_spec
def diff(
    old: Annotated[Path, typer.Argument(help="The spec before.", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The spec after.", show_default=False)],
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT",
        help="text, json, or markdown (for a PR comment).")] = "text",
    *,
    opts: SpecOptions,
) -> None:  # fmt: skip
    """Compare two specs: blocks added, removed and changed; params and MACs before and after."""
    from archspec import app as api

    sys.stdout.write(api.diff(old, new, fmt, opts.sets, opts.limits) + "\n")


@app.command()
@debuggable
def zoo() -> None:
    """List the model zoo's networks, which a SPEC may name: archspec check resnet50."""
    from archspec import app as api
    from archspec.render.zoo import zoo_table

    sys.stdout.write(zoo_table(api.zoo()))


main = app  # the entry point (pyproject's `archspec` script)
