"""Options declared once and shared: `extend` adds --debug and --no-color to a command, and to one
that reads a spec --set and the limit flags (it gets them as `opts: SpecOptions`), after its own."""

import functools
import inspect
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, get_args

import typer
from typer.core import TyperArgument

from archspec.core.errors import STATE, usage_error

if TYPE_CHECKING:
    from archspec.core.limits import Limits

Command = Callable[..., None]


def path_parser(what: str, hint: str, writes: bool = False, spec: bool = False
                ) -> Callable[[str], Path]:  # fmt: skip
    """A path parameter's parser: the path, or a usage error for an empty one (E001 to read,
    E002 to write), which Path would take for the current folder (`plot ''` wrote `.svg`).
    `spec`: a spec's path or zoo name, refused with a trailing `/` unless it is a folder."""

    def parse(value: str) -> Path:
        if value == "":
            code, verb = ("E002", "write") if writes else ("E001", "read")
            raise usage_error(code, f"cannot {verb} an empty path ({what})", hint=hint)
        if spec and value.endswith(("/", os.sep)):
            # Path drops the `/`: `plot spec.yaml/` read the file, `plot resnet50/` the zoo
            # network (beside a SavedModel folder resnet50/ too), where `check` says there is
            # no such folder. A folder is no spec; otherwise check's words.
            if os.path.isdir(value):
                raise usage_error("E001", f"is a directory, not a spec file: {value}", file=value)
            from archspec.app.check import find_specs

            find_specs([value])
        return Path(value)

    return parse


def weights(values: list[str] | None) -> Path | dict[str, Path] | None:
    """`--weights`, given as FILE (the whole model) or as NAME=FILE, once per `spec` block
    (a file whose name has `=` in it is written `./a=b.h5`); usage errors (E003) for a mix of
    the two, a FILE given twice, or a block named twice."""
    if not values:
        return None
    from archspec.blocks.base import IDENTIFIER  # (pydantic: not for --help)

    whole: list[str] = []
    parts: dict[str, Path] = {}
    empty = path_parser("--weights", "name a weights file (.h5 or .keras)")
    for value in values:
        m = re.fullmatch(f"({IDENTIFIER.strip('^$')})=(.*)", value)
        empty(value if m is None else m.group(2))  # E001 for an empty path
        if m is None:
            near = re.fullmatch(r"([^/=:]*)[=:](.+)", value)  # `m.bb=x.h5`, `bb:x.h5`, `=x.h5`
            if near and not os.path.exists(os.path.expanduser(value)):
                raise usage_error(
                    "E001", f"weights file {value}: not found",
                    hint=f"to load {near.group(2)} into a `spec` block, write NAME=FILE with the "
                    "block's name as written at the top level (letters, digits and `_`)",
                    file=value,
                )  # fmt: skip
            whole.append(value)
        elif m.group(1) in parts:
            raise usage_error("E003", f"--weights {m.group(1)}=... is given twice",
                              hint="give one file per `spec` block")  # fmt: skip
        else:
            parts[m.group(1)] = Path(m.group(2)).expanduser()  # the shell leaves `b=~/x.h5`
    if len(whole) > 1 or (whole and parts):
        raise usage_error(
            "E003",
            "--weights FILE loads the whole model: give it once, without NAME=FILE",
            hint="NAME=FILE loads a file into the `spec` block NAME (a backbone); give one "
            "per block",
        )
    # `--weights=~/x.h5`: bash expands a `~` after `=` only in NAME=VALUE words, so neither
    # form reaches us expanded; both are, as `--weights ~/x.h5` is by the shell
    return Path(whole[0]).expanduser() if whole else parts


def choice(flag: str, names: Any) -> Callable[[str], str]:
    """An option's parser: one of the Literal `names`, in any case; otherwise a usage error
    (E003) in archspec's words, as --rankdir's (Typer's said "Value error, 'xml' is not ...")."""
    allowed: tuple[str, ...] = get_args(names)

    def parse(value: str) -> str:
        if value.lower() in allowed:
            return value.lower()
        raise usage_error("E003", f"{flag} must be one of {', '.join(allowed)}; received {value!r}")

    return parse


def number(flag: str, example: str) -> Callable[[str], float]:
    """An option's parser: a number; otherwise a usage error (E003), not pydantic's "Input
    should be a valid number, unable to parse string as a number"."""

    def parse(value: str) -> float:
        try:
            return float(value)
        except ValueError:
            raise usage_error("E003", f"{flag} {value!r}: expected a number",
                              hint=f"for example {flag} {example}") from None  # fmt: skip

    return parse


def spec_path(what: str) -> Callable[[str], Path]:
    """The parser of a spec argument (SPEC, OLD, NEW)."""
    return path_parser(what, "name a spec file, a zoo network (archspec zoo) or - (stdin)",
                       spec=True)  # fmt: skip


SpecArg = Annotated[Path, typer.Argument(show_default=False, metavar="SPEC", help="A spec file"
                    " (YAML), a zoo name (archspec zoo: resnet50, or a family's member such as "
                    "efficientnet_b3), or - (stdin).", parser=spec_path("SPEC"))]  # fmt: skip
SetOption = functools.partial(typer.Option, metavar="NAME=VALUE", show_default=False)
Sets = Annotated[list[str] | None, SetOption("--set",
                 help="Override a spec param: --set width=32 (repeatable).")]  # fmt: skip
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="Print errors only, no success lines.")]
Force = Annotated[bool, typer.Option("--force", help="Replace an existing output.")]


def _output(value: str) -> str:
    """`-o`'s parser: the path as written (an empty one is E002), not a Path, which drops a
    trailing `/` (`-o m.keras/` wrote a file m.keras: core/files.names_a_file refuses it)."""
    path_parser("-o", "name the file", writes=True)(value)
    return value


Output = functools.partial(typer.Option, "-o", "--output", metavar="FILE", show_default=False,
                           parser=_output)  # fmt: skip
Format = functools.partial(typer.Option, "--format", "-f", metavar="FORMAT", case_sensitive=False)

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
_DEBUG = [_option("debug", default=False, annotation=Annotated[bool, typer.Option("--debug",
              help="Show Python tracebacks of internal errors.")]),
          _option("no_color", default=False, annotation=Annotated[bool, typer.Option(
              "--no-color", help="No colours (as NO_COLOR=1 does).")])]  # fmt: skip
_SPEC_OPTIONS = [_option("sets", annotation=Sets), *_DEBUG] + [
    _option(name, annotation=Annotated[
        str | None, typer.Option(flag, help=text, metavar=metavar, show_default=False)])
    for name, (flag, metavar, text) in _LIMIT_FLAGS.items()
]  # fmt: skip


class SpecOptions(NamedTuple):
    """What --set and the limit flags asked for (a bad limit: a usage error, before the command)."""

    sets: tuple[str, ...]
    limits: "Limits"


def extend(command: Command, spec: bool) -> Command:
    """`command` with the shared options after its own, in the signature Typer reads: --debug and
    --no-color; with `spec` (it reads one), --set and the limit flags too, passed as `opts`."""
    extra = _SPEC_OPTIONS if spec else _DEBUG
    own = [p for p in inspect.signature(command).parameters.values() if p.name != "opts"]

    @functools.wraps(command)
    def run(**kwargs: Any) -> None:
        STATE["debug"] = kwargs.pop("debug") or STATE["debug"]
        STATE["no_color"] = kwargs.pop("no_color") or STATE.get("no_color", False)
        if "sets" in kwargs:  # a command that reads a spec
            from archspec.core.limits import from_options

            flags = {flag: kwargs.pop(name) for name, (flag, _, _) in _LIMIT_FLAGS.items()}
            kwargs["opts"] = SpecOptions(tuple(kwargs.pop("sets") or ()), from_options(flags))
        command(**kwargs)

    run.__signature__ = inspect.Signature([*own, *extra])  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in (*own, *extra)}
    return run


def plain_usage(command: Any) -> Any:
    """`command` with its arguments shown as Click shows them (usage `SPEC`, `PATH...`,
    `[TYPE]...`; no `<path>`), not as Typer does (`{SPEC}`, `[[TYPE]...]...`)."""
    for p in getattr(command, "params", ()):
        if isinstance(p, TyperArgument):
            name = p.metavar or (p.name or "").upper()
            shown = (name if p.required else f"[{name}]") + ("..." if p.nargs != 1 else "")
            p._usage_display_name = p._rich_display_name = functools.partial(str, shown)  # type: ignore[method-assign]
            p.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
    return command
