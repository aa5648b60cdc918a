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
from archspec.errors import ArchspecError
from archspec.limits import Limits, from_options
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
# Limits a real model may reach (archspec/limits.py; the README's "Guarantees"). A command that
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
) -> Limits:
    """The Limits from the limit flags (a bad value is a usage error)."""
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
        typer.Option("-o", "--output", help="Save the model here (.keras).", show_default=False),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output.")] = False,
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
    """Compile SPEC to a Keras model, print its summary, optionally save it."""
    from archspec.save import check_target, save_keras

    limits = _limits(max_file_size, max_blocks, max_layers, max_params, max_activation_memory)
    graph = api.analyze(spec, sets=sets or (), limits=limits)
    target = check_target(str(output), force) if output is not None else None
    with _status("building the Keras model"):
        model = api.compile(graph)
    if layers:
        model.summary(print_fn=lambda line, **_: _out(line), line_length=110)
    _out(f"Model: {graph.name}")
    _out(text.summary_table(graph))
    _out()
    _out(text.totals(graph))
    if target is not None:
        with _status(f"saving {target}"):
            save_keras(model, target)
        _out(f"Saved: {target}")


def main() -> None:
    """Entry point: run the app, turn errors into messages and exit codes."""
    debug = "--debug" in sys.argv
    try:
        app(standalone_mode=False)
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
