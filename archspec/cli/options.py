"""Options declared once and shared: `@reads_spec` adds --set, --debug, --no-color and the limit
flags (the command gets them as `opts: SpecOptions`), `@debuggable` adds --debug and --no-color;
after its own options. `plain_usage` gives Click's usage line (SPEC, PATH...), not Typer's."""

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperArgument

from archspec.core.errors import STATE

if TYPE_CHECKING:
    from archspec.core.limits import Limits

Command = Callable[..., None]


SpecArg = Annotated[Path, typer.Argument(show_default=False, metavar="SPEC", help="A spec file "
                    "(YAML), a zoo network's name (archspec zoo), or - for standard input.")]  # fmt: skip
SetOption = functools.partial(typer.Option, metavar="NAME=VALUE", show_default=False)
Sets = Annotated[list[str] | None, SetOption("--set",
                 help="Override a spec param: --set width=32 (repeatable).")]  # fmt: skip
Debug = Annotated[bool, typer.Option("--debug", help="Show Python tracebacks of internal errors.")]
NoColor = Annotated[bool, typer.Option("--no-color", help="No colours (as NO_COLOR=1 does).")]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="Print errors only, no success lines.")]
Force = Annotated[bool, typer.Option("--force", help="Replace an existing output.")]

# Limits a real model may reach (core/limits.py): parameter name -> (flag, metavar, help)
_LIMIT_FLAGS = {
    "max_file_size": ("--max-file-size", "BYTES", "Raise the spec file size limit (1M = 1 MiB)."),
    "max_blocks": ("--max-blocks", "N", "Raise the limit on blocks after expansion (10000)."),
    "max_layers": ("--max-layers", "N", "Raise the limit on layers (50000)."),
    "max_params": ("--max-params", "N", "Raise the parameter limit (2G)."),
    "max_activation_memory": ("--max-activation-memory", "BYTES",
        "Raise the activation memory limit (16G = 16 GiB; float32, batch 1)."),
}  # fmt: skip


_option = functools.partial(inspect.Parameter, kind=inspect.Parameter.KEYWORD_ONLY, default=None)
_DEBUG = [_option("debug", annotation=Debug, default=False),
          _option("no_color", annotation=NoColor, default=False)]  # fmt: skip
_SPEC_OPTIONS = [_option("sets", annotation=Sets), *_DEBUG] + [
    _option(name, annotation=Annotated[
        str | None, typer.Option(flag, help=text, metavar=metavar, show_default=False)])
    for name, (flag, metavar, text) in _LIMIT_FLAGS.items()
]  # fmt: skip


@dataclass(frozen=True)
class SpecOptions:
    """What --set and the limit flags asked for."""

    sets: tuple[str, ...]
    limit_flags: dict[str, str | None]  # flag -> value, None where not given

    @property
    def limits(self) -> "Limits":
        """The Limits the flags ask for (a bad value is a usage error, raised here)."""
        from archspec.core.limits import from_options

        return from_options(self.limit_flags)


def reads_spec(command: Command) -> Command:
    """Give `command` --set, --debug, --no-color and the limit flags; it receives them as `opts`."""
    return _extend(command, _SPEC_OPTIONS)


def debuggable(command: Command) -> Command:
    """Give `command` --debug and --no-color."""
    return _extend(command, _DEBUG)


def _extend(command: Command, extra: list[inspect.Parameter]) -> Command:
    """`command` with the `extra` options after its own, in the signature Typer reads."""
    own = [p for p in inspect.signature(command).parameters.values() if p.name != "opts"]

    @functools.wraps(command)
    def run(**kwargs: Any) -> None:
        STATE["debug"] = kwargs.pop("debug") or STATE["debug"]
        STATE["no_color"] = kwargs.pop("no_color") or STATE.get("no_color", False)
        if "sets" in kwargs:  # a command that reads a spec
            flags = {flag: kwargs.pop(name) for name, (flag, _, _) in _LIMIT_FLAGS.items()}
            kwargs["opts"] = SpecOptions(tuple(kwargs.pop("sets") or ()), flags)
        command(**kwargs)

    run.__signature__ = inspect.Signature([*own, *extra])  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in (*own, *extra)}
    return run


def plain_usage(command: Any) -> Any:
    """`command` with its arguments shown as Click shows them (usage `SPEC`, `PATH...`,
    `[TYPE]...`; no `<path>` type), not as Typer does (`{SPEC}`, `[[TYPE]...]...`)."""
    for p in getattr(command, "params", ()):
        if isinstance(p, TyperArgument):
            name = p.metavar or (p.name or "").upper()
            shown = (name if p.required else f"[{name}]") + ("..." if p.nargs != 1 else "")
            p._usage_display_name = p._rich_display_name = lambda shown=shown: shown  # type: ignore[method-assign]
            p.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
    return command
