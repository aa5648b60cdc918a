"""The command line: thin Typer commands over archspec.app; shared options are declared in
options.py. The root command's `main` is the one place where an ArchspecError becomes a message
and an exit code (0 ok, 1 invalid spec, 2 usage or I/O, 3 internal error, 130 interrupted)."""

import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from typer.core import TyperGroup

from archspec import __version__
from archspec.cli import options
from archspec.cli.options import Force, Format, Output, Quiet, SetOption, SpecArg, SpecOptions
from archspec.core.errors import STATE
from archspec.core.limits import TOLERANCE

BuildFormat = Literal["keras", "savedmodel", "tflite", "onnx"]
CheckFormat = Literal["text", "json", "github", "sarif"]
DiffFormat = Literal["text", "json", "markdown"]


class _Archspec(TyperGroup):
    """The root command; run standalone, its `main` turns errors into messages and exit codes."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return options.plain_usage(super().get_command(ctx, cmd_name))

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:  # fmt: skip
        run = partial(super().main, args, prog_name, complete_var, False, windows_expand_args,
                      **extra)  # fmt: skip
        if not standalone_mode:  # the caller handles errors
            return run()
        STATE.update(debug=False, no_color=False)
        try:
            code = run()  # typer.Exit(code) is returned here, not raised; Ctrl-C is Exit(130)
            if code == 130:
                raise KeyboardInterrupt
        except (Exception, KeyboardInterrupt) as e:
            from archspec.render.console import failure

            code = failure(e, STATE["debug"])
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(name="archspec", cls=_Archspec, no_args_is_help=True, add_completion=True,
                  pretty_exceptions_enable=False, rich_markup_mode=None)  # fmt: skip


def command(example: str, spec: bool = False, short: str | None = None
            ) -> Callable[[options.Command], Any]:  # fmt: skip
    """A command with the shared options (options.extend) and one example in its help; `short`:
    its line in `archspec --help` where the docstring's first sentence would be cut there."""
    return lambda f: app.command(short_help=short, epilog=f"Example: archspec {example}")(
        options.extend(f, spec))  # fmt: skip


def _version(value: bool) -> None:
    if value:
        print(f"archspec {__version__} (archspec-cnn)")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
          help="Print archspec's version and exit.")] = False) -> None:  # fmt: skip
    """Compile declarative YAML CNN specs to Keras; check them statically, fast."""


@command(
    "build resnet50 -o resnet50.keras --verify",
    spec=True,
    short="Compile SPEC to Keras, print its summary, save or export it.",
)
def build(
    spec: SpecArg,
    output: Annotated[str | None, Output(metavar="PATH",
        help="Save the model here: .keras, .tflite, .onnx, or a folder (SavedModel).")] = None,
    force: Force = False,
    fmt: Annotated[BuildFormat | None, Format(
        parser=options.choice("--format", BuildFormat), show_default=False,
        help="keras, savedmodel, tflite or onnx (default: from the output's suffix).")] = None,
    verify: Annotated[bool, typer.Option("--verify",
        help="Reload the saved model and compare its outputs with Keras's.")] = False,
    tolerance: Annotated[float | None, typer.Option("--tolerance", metavar="T",
        parser=options.number("--tolerance", "1e-5"), show_default=False,
        help=f"Max abs difference --verify accepts (default: {TOLERANCE:g}).")] = None,
    layers: Annotated[bool, typer.Option("--layers", help="Print Keras's layer table.")] = False,
    weights: Annotated[list[str] | None, typer.Option(metavar="[NAME=]FILE", help="Load weights:"
        " a .h5 (keras.applications' or Keras 3's .weights.h5) or a .keras archive; NAME=FILE "
        "into the `spec` block NAME only (repeatable).")] = None,
    backend: Annotated[str | None, typer.Option(metavar="NAME", help="Keras backend: tensorflow, "
        "jax or torch (default: $KERAS_BACKEND, else tensorflow).")] = None, quiet: Quiet = False,
    *, opts: SpecOptions,
) -> None:  # fmt: skip
    """Compile SPEC to a Keras model, print its summary, optionally save or export it. The spec's
    budget and expect hold as in check: exit 1, nothing written."""
    from archspec import app as api
    from archspec.render import console

    built = api.build(spec, output, sets=opts.sets, limits=opts.limits, force=force, format=fmt,
        verify=verify, tolerance=tolerance, status=console.status, backend=backend,
        weights=options.weights(weights))  # fmt: skip
    console.build_summary(built.graph, built.model if layers else None, built.weights,
                          built.unloaded, quiet)  # fmt: skip
    if built.target is not None:
        console.saved_summary(api.export(built, status=console.status), built.tolerance, quiet)


@command(
    "render efficientnet --set variant=b3",
    spec=True,
    short="Print SPEC fully expanded, as a spec that builds the same model.",
)
def render(spec: SpecArg, *, opts: SpecOptions) -> None:
    """Print SPEC fully expanded (params, defaults, repeats and user-defined blocks resolved)
    as YAML that is itself a valid spec building the same model."""
    from archspec import app as api

    sys.stdout.write(api.expand(spec, opts.sets, opts.limits).rstrip("\n") + "\n")


@command("check specs/ -f github", spec=True)
def check(
    paths: Annotated[list[str], typer.Argument(show_default=False, metavar="PATH", help="Spec "
        "files, folders (searched for *.yaml / *.yml), zoo names (resnet50, efficientnet_b3), "
        "or - (stdin).")],
    fmt: Annotated[CheckFormat, Format(parser=options.choice("--format", CheckFormat),
        help="text (default), json, github (workflow annotations) or sarif (2.1.0).")] = "text",
    table: Annotated[bool, typer.Option("--table",
        help="Add the per-block table of each valid spec.")] = False,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", metavar="PATTERN",
        help="Leave out of folder searches what matches (a name or a path below the folder: "
        "'configs', '*_train.yaml'); repeat for several.", show_default=False)] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Make every warning an error: a "
        "spec with one is invalid (exit 1).")] = False,
    quiet: Quiet = False,
    *,
    opts: SpecOptions,
) -> None:  # fmt: skip
    """Validate specs without TensorFlow: schema, shapes, budget, expect.

    Prints each valid spec's totals. Exit 0: all valid, 1: any invalid, 2: usage or I/O error."""
    from archspec.app import check as checker
    from archspec.core.errors import CommandError, UsageError
    from archspec.frontend.expect import FileResult
    from archspec.render import console

    try:
        results = checker.run(paths, sets=opts.sets, limits=opts.limits, short_lived=True,
                              exclude=exclude or (), strict=strict)  # fmt: skip
    except UsageError as e:  # no spec found: a CI job's report says so too
        if fmt == "text" or isinstance(e, CommandError):
            raise
        results = [FileResult("", list(e.diagnostics), exit_code=2, found=False)]
    console.check_output(results, fmt, table, quiet, opts.sets)
    raise typer.Exit(checker.exit_code(results))


@command("schema -o archspec.schema.json")
def schema(
    output: Annotated[str | None, Output(help="Write the schema here (default, or -: "
        "stdout).")] = None,
    force: Force = False,
    quiet: Quiet = False,
) -> None:  # fmt: skip
    """Print or write the JSON Schema of the spec format, for editors."""
    from archspec.core.files import names_a_file, write_file
    from archspec.frontend.jsonschema import dumps
    from archspec.render.console import success

    if output is None or output == "-":
        return print(dumps(), end="")
    names_a_file(output, "the schema")
    write_file(Path(output), dumps().encode("utf-8"), force)
    success(f"Wrote: {output}", quiet)


@command("blocks conv residual")
def blocks(
    types: Annotated[list[str] | None, typer.Argument(help="Only these block types.",
        show_default=False, metavar="TYPE")] = None,
) -> None:  # fmt: skip
    """List the block types: parameters, defaults, descriptions."""
    from archspec.render.console import blocks_table

    blocks_table(types or ())


@command(
    "plot resnet50 -o resnet50.html",
    spec=True,
    short="Draw SPEC as .svg, .png, .dot or an .html page (no TensorFlow).",
)
def plot(
    spec: SpecArg,
    output: Annotated[str | None, Output(help="The diagram: .svg, .png, .dot (.pdf with a system "
        "Graphviz), .html (interactive). Default: <spec file stem>.svg here (with --set: "
        "<stem>_<values>.svg).")] = None,
    force: Force = False,
    collapse: Annotated[bool, typer.Option("--collapse", help="Draw one box per block (an "
        ".html page starts so and opens a block on a click).")] = False,
    rankdir: Annotated[str, typer.Option("--rankdir", metavar="TB|LR",
        help="Layout: TB (top to bottom) or LR (not for .html).")] = "TB",
    quiet: Quiet = False,
    *,
    opts: SpecOptions,
) -> None:  # fmt: skip
    """Draw SPEC's architecture (no TensorFlow; no system Graphviz needed for .svg and .png)."""
    from archspec import app as api
    from archspec.render import console

    target = api.plot(spec, output, sets=opts.sets, limits=opts.limits, collapse=collapse,
                      rankdir=rankdir, force=force, status=console.status)  # fmt: skip
    console.success(f"Wrote: {target}", quiet)


@command(
    "diff old.yaml new.yaml -f markdown --new-set width=64",
    spec=True,
    short="Compare two specs: blocks added, removed, changed; params, MACs.",
)
def diff(
    old: Annotated[Path, typer.Argument(metavar="OLD", help="The spec before.",
                                        parser=options.spec_path("OLD"))],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="The spec after.",
                                        parser=options.spec_path("NEW"))],
    fmt: Annotated[DiffFormat, Format(parser=options.choice("--format", DiffFormat),
        help="text (default), json, or markdown (for a PR comment).")] = "text",
    old_set: Annotated[list[str] | None, SetOption("--old-set", help="As --set, OLD only.")] = None,
    new_set: Annotated[list[str] | None, SetOption("--new-set", help="As --set, NEW only.")] = None,
    *,
    opts: SpecOptions,
) -> None:  # fmt: skip
    """Compare two specs: blocks added, removed, changed; params and MACs (--set: on both).

    Exit 1 where NEW fails its own budget or expect (as check), the diff printed all the same."""
    from archspec import app as api
    from archspec.core.errors import ArchspecError, CommandError
    from archspec.render import console
    from archspec.render.diff import error_document

    try:
        result = api.compare(old, new, fmt, opts.sets, opts.limits, old_sets=old_set or (),
                             new_sets=new_set or ())  # fmt: skip
    except ArchspecError as e:  # a bot reading stdout gets a document of the errors
        if fmt.lower() != "text" and not isinstance(e, CommandError):
            sys.stdout.write(error_document(e.diagnostics, fmt.lower()) + "\n")
        raise
    sys.stdout.write(result.text + "\n")
    if result.failures:  # on stderr too, as `check` shows them: they set the exit code
        sys.stdout.flush()
        console.error_report(result.failures)
    raise typer.Exit(result.exit_code)


@command("zoo", short="List the model zoo's networks, which any SPEC may name.")
def zoo() -> None:
    """List the model zoo's networks, which a SPEC may name: archspec check resnet50."""
    from archspec import app as api
    from archspec.render.zoo import zoo_table

    sys.stdout.write(zoo_table(api.zoo()))


main = app  # the entry point (pyproject's `archspec` script)
