"""User-defined blocks (`define`): checking a use of one, its params, and the scope it opens.

A defined block is used like a built-in one (with `name`, `inputs`, `repeat`) plus its params.
Each copy of a use opens a scope of its own: inner names are local, the inputs are `input` (or
`input_1`, `input_2`, ...), and the layers are named `<instance name>_<inner name>_...`. A
definition may use earlier ones; recursion is an error, and so are uses nested more than
MAX_NESTING deep (the walk recurses per level). A param's default may read the params before
it, as a spec's may; one that reads neither them nor the input's shape is evaluated once per
definition. The walk itself is in __init__.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from pydantic import ConfigDict, ValidationError

from archspec.blocks import REGISTRY, Block
from archspec.blocks.base import provider
from archspec.core.errors import (
    Diagnostic,
    KeyPath,
    SpecError,
    a_block,
    closest,
    did_you_mean,
    first_of,
    format_path,
)
from archspec.frontend import expr
from archspec.frontend.loader import Document
from archspec.frontend.resolve.errors import defined_here, fail, with_use
from archspec.frontend.resolve.origins import PARAMS, Origin, outer_notes, written_as
from archspec.frontend.resolve.params import COPY, later_param, reserved, substitute
from archspec.frontend.resolve.scope import Scope, declared
from archspec.frontend.resolve.shapes import SHAPE, ShapeOf
from archspec.frontend.resolve.values import check_value
from archspec.frontend.schema import Define, SpecModel, validate_block
from archspec.frontend.translate import translate

#: how deep uses of user-defined blocks may nest (a block whose definition uses another ...);
#: the walk recurses once per level
MAX_NESTING = 64

#: the keys every block has, built-in or user-defined; they cannot have defaults
COMMON = tuple(Block.model_fields)  # type, name, inputs, repeat, repeat_names


class Use(Block):
    """The common keys of a user-defined block's use; its params are checked separately."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    #: a definition reads as many inputs as it is given (`input_1`, `input_2`, ...)
    n_inputs: ClassVar[int | None] = None


def check_names(doc: Document, model: SpecModel) -> None:
    """A definition may not take a block type's name (built-in or a plugin's), nor have a
    param `copy` or one named as a common key (`repeat`: params.reserved)."""
    for name, definition in model.define.items():
        found = reserved(doc, definition.params, ("define", name, "params"), use=True)
        if found:
            raise SpecError(found)
        if name in REGISTRY or name == "spec":  # `spec`: include.py
            owner = provider(REGISTRY[name]) if name in REGISTRY else None
            what = "a built-in block type" if owner is None else f"the block type of {owner}"
            raise fail(doc, "E504", f"define.{name}: `{name}` is {what}", ("define", name),
                       hint="choose another name", key=True)  # fmt: skip


def check_unused(doc: Document, model: SpecModel, source: list[Any] | None,
                 errors: list[Diagnostic], warnings: list[Diagnostic]) -> None:  # fmt: skip
    """The definitions that no block uses, through the top-level blocks (`source`: as written,
    since `type: "${kind}"` may use any, and then none is called unused) and the definitions
    they use: a warning each (W303, added to `warnings`), and the errors found without
    expanding them, which do not depend on param values (added to `errors`): unknown block
    types (E205) and unknown keys of built-in blocks (E201). They were not checked at all."""
    used: set[str] = set()
    if source is None:  # `blocks: "${...}"`
        return
    todo = list(source)
    while todo:
        block = todo.pop()
        kind = block.get("type") if isinstance(block, dict) else None
        if not isinstance(kind, str) or "${" in kind:  # `type: "${kind}"`, `- "${b}"`: any
            return
        if kind in model.define and kind not in used:
            used.add(kind)
            todo += model.define[kind].blocks
    for name, definition in model.define.items():
        if name in used:
            continue
        warnings.append(doc.diag(
            "W303", f"define.{name}: `{name}` is defined, but no block uses it", ("define", name),
            hint="use it in `blocks`, or remove it (it is checked for unknown block types and "
            "keys only)", key=True, severity="warning"))  # fmt: skip
        for k, raw in enumerate(definition.blocks):
            path: KeyPath = ("define", name, "blocks", k)
            kind = raw.get("type")
            if isinstance(kind, str) and (kind in model.define or kind == "spec"
                                          or expr.PATTERN.match(kind)):  # fmt: skip
                continue
            found = validate_block(raw, doc, path)
            if isinstance(found, list):
                errors += [d for d in found if d.code in ("E201", "E205")]


def check_use(
    doc: Document, raw: dict[str, Any], path: KeyPath, kind: str, definition: Define,
    stack: list[str], use: KeyPath | None,
) -> Use | list[Diagnostic]:  # fmt: skip
    """The common keys of one use of `kind`, or what is wrong with it (unknown or missing params).
    Raises at once if the use is recursive (`kind` is being expanded: `stack`)."""
    note = defined_here(doc, kind)
    if kind in stack:
        chain = " -> ".join([*stack, kind])
        raise SpecError(dataclasses.replace(
            doc.diag("E504", f"{format_path((*path, 'type'))}: recursive user-defined block: "
                     f"{chain}", (*path, "type")),
            related=(note,)))  # fmt: skip
    if len(stack) >= MAX_NESTING:
        chain = " -> ".join([*stack[:3], "...", *stack[-2:], kind])
        raise SpecError(with_use(doc, dataclasses.replace(
            doc.diag("E504", f"{format_path(path)}: user-defined blocks nested more than "
                     f"{MAX_NESTING} deep: {chain}", (*path, "type"),
                     hint="use fewer levels of user-defined blocks inside each other"),
            related=(note,)), use))  # fmt: skip
    try:
        common = Use.model_validate({k: raw[k] for k in COMMON if k in raw})
    except ValidationError as e:
        return translate(e, raw, doc, path, a_block(kind), [*COMMON])
    allowed = [*COMMON, *definition.params]
    known = set(allowed)  # membership in a set: 20,000 unknown keys stay linear
    listed = first_of(list(definition.params), 20)
    unknown = [key for key in raw if key not in known]
    meant = {closest(str(key), allowed) for key in unknown}  # `filter`: not also "needs"
    problems = [
        dataclasses.replace(
            doc.diag("E504", f"{format_path((*path, key))}: `{kind}` has no param `{key}`",
                     (*path, key), hint=did_you_mean(str(key), allowed)
                     or "its params: " + listed, key=True),
            related=(note,))
        for key in unknown
    ] + [
        dataclasses.replace(
            doc.diag("E504", f"{format_path(path)}: `{kind}` needs param `{p}`", path,
                     hint=f"add `{p}: ...`"),
            related=(note,))
        for p, default in definition.params.items()
        if default is None and p not in raw and p not in meant
    ]  # fmt: skip
    if problems:
        return [with_use(doc, d, use) for d in problems]
    return common


def use_env(doc: Document, raw: dict[str, Any], kind: str, definition: Define,
            params: dict[str, Any], shape_of: ShapeOf, defaults: dict[tuple[str, str], Any],
            at: KeyPath, defaulted: set[str] | frozenset[str] = frozenset()
            ) -> dict[str, Any]:  # fmt: skip
    """The names `${...}` sees inside one use of `kind`: the spec's params, then the block's
    (given at the use, or their defaults in `define`), and `in_shape` / `in_channels`: the
    shape `shape_of` gives, of the instance's first input (shapes.py). `at`: the use;
    `defaulted`: its params that came from `defaults`.

    The params are taken in order, as the spec's are: a default reads the spec's params, the
    input's shape, and the block's params before it (as given at this use, or defaulted), which
    hide the spec's of the same name. One that reads neither the shape nor an earlier param is
    evaluated once per definition, at its first use, and kept in `defaults` (by definition and
    param); any other at every use."""
    env = dict(params)
    read: list[bool] = []

    def shape() -> Any:
        read.append(True)
        return shape_of()

    shaped = {**params, SHAPE: shape}
    earlier: list[str] = []  # the block's params so far
    for p, default in definition.params.items():
        where: KeyPath = ("define", kind, "params", p)
        if p in raw:
            env[p] = substitute(doc, raw[p], where, shaped, None)
            check_value(doc, env[p], (*at, p))
        elif (kind, p) in defaults:
            env[p] = defaults[kind, p]
        else:
            read.clear()
            # the earlier params it reads (rare: most defaults are numbers), with where each got
            # its value for the notes of an error
            reads = bool(earlier) and expr.holds(default, set(earlier))
            mine = [k for k in earlier if expr.holds(default, {k})] if reads else []
            seen = {k: Origin(env[k], ("defaults", kind, k) if k in defaulted
                              else (*at, k) if k in raw else ("define", kind, "params", k))
                    for k in mine}  # fmt: skip
            names = {**shaped, **{k: env[k] for k in mine}} if mine else shaped
            with written_as(doc, seen):  # (not an enclosing use's: it reads the spec's params)
                try:
                    env[p] = substitute(doc, default, where, names, None)
                except SpecError as e:
                    raise _not_yet(e, default, list(definition.params), p, kind) from None
            if not read and not mine:
                defaults[kind, p] = env[p]
            check_value(doc, env[p], where)
        earlier.append(p)
    env[SHAPE] = shape_of
    return env


def _not_yet(e: SpecError, default: Any, order: list[str], p: str, kind: str) -> SpecError:
    """`e`, an error in the default of `kind`'s param `p`, with the hint for a name that is
    `p` itself or a later param of `kind` (undefined: a default reads only the params before
    it)."""
    d = e.diagnostics[0]
    name = later_param(d, order, p)
    if name is None:
        return e
    what = "the param itself" if name == p else f"a later param of `{kind}`"
    hint = f"`{name}` is {what}: a default reads only the params before it, and the spec's"
    return SpecError([dataclasses.replace(d, hint=hint), *e.diagnostics[1:]])


def origins(doc: Document, raw: dict[str, Any], source: Any, defaulted: set[str], at: KeyPath,
            kind: str, definition: Define, env: dict[str, Any], copy: int
            ) -> dict[str, Origin]:  # fmt: skip
    """Where each param of one use of `kind` (`raw` at `at`, written as `source`; copy `copy`)
    got its value in `env`: the use's key, `defaults` (the keys in `defaulted`), or the
    definition's default. A key of a use inside a definition reads that definition's params
    where they hide the spec's (`Origin.hidden`)."""
    spec, outer = PARAMS.get()
    hidden = frozenset(outer) if spec is not None and spec.file == doc.file else frozenset()
    out = {}
    for p in definition.params:
        if p in defaulted:
            out[p] = Origin(env[p], ("defaults", kind, p))
        elif p in raw:
            written = expr.source_of(source.get(p) if isinstance(source, dict) else None)
            read = expr.names(written) if written else frozenset()
            which = f", with `copy` = {copy}" if COPY in read else ""
            via = outer_notes(doc, read, outer) if hidden and read & hidden else ()
            out[p] = Origin(env[p], (*at, p), which, hidden, via)
        else:
            out[p] = Origin(env[p], ("define", kind, "params", p))
    return out


def inner_scope(
    name: str,
    kind: str,
    refs: list[str],
    definition: Define,
    outer: Scope,
    path: KeyPath,
    frozen: bool = False,
    copy: tuple[int, int] = (0, 1),
) -> Scope:
    """The scope of one copy (final name `name`; `copy`: its index, of how many) of a use of
    `kind` at `path`, reading `refs`; `frozen`: the use's `trainable` is false (or an outer
    one's)."""
    names = {"input": refs[0]} if len(refs) == 1 else {
        f"input_{k}": r for k, r in enumerate(refs, 1)}  # fmt: skip
    return Scope(
        prefix=name + "_",
        names=names,
        previous=refs[0] if len(refs) == 1 else None,
        declared=declared(definition.blocks),
        groups=(*outer.groups, (name, kind)),
        at=(*outer.at, path),
        outer=outer,
        frozen=frozen or outer.frozen,
        repeats=(*outer.repeats, (path, *copy)) if copy[1] > 1 else outer.repeats,
    )
