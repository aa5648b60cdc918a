"""`params`, `--set` and `${...}`: the values a spec is written in terms of.

`--set` replaces params; params are evaluated in order (a param may use earlier ones); then every
`${...}` outside `params` and `define` is substituted. Inside a user-defined block the same
substitution runs again, per use, with the block's params added (see define.py).

`copy`: in a block's own keys (not the common ones, which are the same for every copy) `${...}`
also sees `copy`, the 0-based index of the copy of a repeated block (0 for a block without
`repeat`). Blocks are substituted here for copy 0; the walk substitutes the other copies of a
block with expressions again from its source (`substitute_block`), after the limit on the number
of blocks is checked. `copy` is reserved: no param may take the name. Nor may a definition's
param take the name of a common key: the use's own key of that name would set it too.

`in_shape` and `in_channels` (shapes.py): the `${...}` that read them are left as they are in
blocks and `defaults` (`defer`) until the walk knows the block's input; elsewhere (`params`,
`budget`, `expect`, and a block's `type`, `name`, `inputs`, `repeat`, `repeat_names`, which
decide the graph) they are an error. They are reserved as `copy` is.

Every param's value (the spec's, and a user-defined block's at each use) is held to the file's
limits on nesting depth and size (values.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from archspec.blocks import Block
from archspec.core.errors import (
    ArchspecError,
    CommandError,
    Diagnostic,
    KeyPath,
    SpecError,
    UsageError,
    did_you_mean,
    format_path,
)
from archspec.core.units import shape_str
from archspec.frontend import expr, zoo
from archspec.frontend.loader import Document, load_text
from archspec.frontend.resolve.errors import by_position, with_use
from archspec.frontend.resolve.origins import (
    evaluated,
    given,
    option,
    unmet_requirement,
    with_origin_notes,
    with_origins,
)
from archspec.frontend.resolve.shapes import IN_CHANNELS, IN_SHAPE, NAMES, SHAPE, bindings
from archspec.frontend.resolve.values import check_value
from archspec.frontend.schema import SpecModel, validate_spec

#: the name bound to the index of a repeated block's copy
COPY = "copy"
#: how a `${...}` is written
WHOLE = 'write the value as "${...}" alone, nothing around it'
UNCLOSED = 'close it with `}`, as "${...}"'
#: the keys shared by all copies of a block (`copy` is not bound in them)
FIXED = frozenset(Block.model_fields)


def parse_sets(
    sets: Sequence[str], params: dict[str, Any], file: str | None = None,
    elsewhere: Callable[[str], str | None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """`["width=32", "stages=[2, 2]"]` -> {"width": 32, "stages": [2, 2]}: each value is read as
    a strict YAML scalar or flow value; the name must be one of the spec's params (`elsewhere`:
    the hint for an item whose param another spec has, include.included_param)."""
    out: dict[str, Any] = {}
    for item in sets:
        name, value = split_set(item, file)
        if name not in params:
            raise UsageError(
                Diagnostic(
                    "E503",
                    f"{option(item)} {name}: the spec has no param `{name}`",
                    file=file,
                    hint=(elsewhere and elsewhere(item)) or did_you_mean(name, params)
                    or _family(file, item) or _listed(params),
                )
            )  # fmt: skip
        try:
            doc = load_text(f"v: {value}", f"{option(item)} {name}")
        except SpecError as e:
            d = e.diagnostics[0]
            raise UsageError(
                Diagnostic("E503", f"{option(item)} {name}={value}: {d.message}", file=file)
            ) from None
        out[name] = doc.data["v"]
    return out


def _family(file: str | None, item: str) -> str | None:
    """Where the spec is a zoo network that a zoo family has as a member, and `item` sets that
    family's param (`resnet50 --set depth=101`): the family to name."""
    name, text = split_set(item)
    found = zoo.network_family(file, name) if file else None
    if found is None:
        return None
    family, said = found
    return f"{said}; for another, name the family: `{family} {option(item)} {name}={text.strip()}`"


def _listed(params: dict[str, Any]) -> str:
    """The hint that lists a spec's params: the values first, then the tables (a family's
    `model_name: {18: resnet18, ...}`), which are rarely what a `--set` means."""
    if not params:
        return "the spec has no params"
    tables = [k for k, v in params.items() if isinstance(v, dict | list)]
    values = [k for k in params if k not in tables]
    if not tables or not values:
        return "its params: " + ", ".join(params)
    return f"its params: {', '.join(values)}; tables and lists: {', '.join(tables)}"


def split_set(item: str, file: str | None = None) -> tuple[str, str]:
    """`"width=32"` -> ("width", "32"); E503 where it is not NAME=VALUE (a mistake of the
    command line, whatever the spec)."""
    name, sep, value = item.partition("=")
    name = name.strip()
    if not sep or not name:
        hint = (f"give a value: {option(item)} {name}=VALUE" if name
                else "give the param's name before `=`")  # fmt: skip
        raise CommandError(Diagnostic("E503", f"{option(item)} {str(item)!r}: expected "
                                      "NAME=VALUE", file=file, hint=hint))  # fmt: skip
    return name, value


def set_name(item: str) -> str:
    """The param a `--set` item names: `width` of `" width=32"`."""
    return item.partition("=")[0].strip()


def last_sets(sets: Sequence[str]) -> list[str]:
    """The `--set` items that count: of a name given twice, the last (`parse_sets` keeps it)."""
    return list({set_name(s): s for s in sets}.values())


@contextmanager
def setting(doc: Document, sets: Sequence[str]) -> Iterator[None]:
    """`GIVEN` for the resolution of `doc` with `sets` (checked by `parse_sets` later)."""
    items = {set_name(s): s for s in last_sets(sets)}
    values = {k: (v, items[k]) for k, v in _quietly_parsed(sets).items()}
    with given(doc.file, values):
        yield


def _quietly_parsed(sets: Sequence[str]) -> dict[str, Any]:
    try:
        return parse_sets(sets, dict.fromkeys(map(set_name, sets)))
    except ArchspecError:  # reported where the params are applied
        return {}


def apply_params(doc: Document, sets: Sequence[str],
                 elsewhere: Callable[[str], str | None] | None = None,
                 ) -> tuple[Document, dict[str, Any], dict[int, list[Diagnostic]]]:  # fmt: skip
    """The document with `--set` applied and `${...}` substituted outside `params` and `define`,
    the evaluated params, and the top-level blocks whose `${...}` failed: index -> the errors
    (such a block stays as written; the caller reports them with the other blocks' errors).
    `elsewhere`: as for parse_sets."""
    data = doc.data
    raw_params = data.get("params", {})
    params: dict[str, Any] = {}
    if isinstance(raw_params, dict):
        # the definitions' too, to report them all at once (check_names checks them again)
        found = reserved(doc, raw_params, ("params",))
        defined = data.get("define")
        for name, d in (defined if isinstance(defined, dict) else {}).items():
            if isinstance(d, dict) and isinstance(d.get("params"), dict):
                found += reserved(doc, d["params"], ("define", name, "params"), use=True)
        if found:
            raise SpecError(found)
        given = parse_sets(sets, raw_params, doc.file, elsewhere)
        raw_params = {**raw_params, **given}
        for name, value in raw_params.items():
            try:
                params[name] = substitute(doc, value, ("params", name), params, None)
            except SpecError as e:
                d = _not_before(e.diagnostics[0], list(raw_params), name)
                if name not in given:
                    raise SpecError([d, *e.diagnostics[1:]]) from None
                item = next(s for s in last_sets(sets) if set_name(s) == name)
                raise _set_error(d, item, doc.file) from None
            if name in given:
                evaluated(doc, name, params[name])
            check_value(doc, params[name], ("params", name))
    elif sets:
        parse_sets(sets, {}, doc.file, elsewhere)
    top: dict[str, Any] = {}
    errors: list[Diagnostic] = []  # of the other top-level keys, and of whole blocks
    failed: dict[int, list[Diagnostic]] = {}
    for k, v in data.items():
        if k in ("params", "define"):
            top[k] = v
        elif k == "blocks" and isinstance(v, list):
            top[k] = [_block_or_errors(doc, b, n, params, failed, errors)
                      for n, b in enumerate(v)]  # fmt: skip
        else:
            try:
                top[k] = substitute(doc, v, (k,), params, None, defer=k == "defaults")
            except SpecError as e:
                errors.extend(e.diagnostics)
                top[k] = v
    if errors:  # the spec cannot be validated as written: what failed, all of it
        diags = [*errors, *(d for ds in failed.values() for d in ds)]
        raise by_position(diags, doc.file)
    return dataclasses.replace(doc, data=top), params, failed


def validated(doc: Document, failed: dict[int, list[Diagnostic]], params: dict[str, Any]
              ) -> SpecModel:  # fmt: skip
    """The top level of `doc` validated; its schema errors come with the expression errors of
    the blocks (`failed`: apply_params), each noting where the values its `${...}` read came
    from (`params`: a `--set`), and those one `--set` value causes at several keys are one.
    Then its `require` conditions: each false one is E506 with its own message."""
    try:
        model = validate_spec(doc)
    except SpecError as e:
        diags = [*(with_origin_notes(doc, d, params) for d in e.diagnostics),
                 *(d for ds in failed.values() for d in ds)]  # fmt: skip
        raise by_position(diags, doc.file) from None
    unmet = [unmet_requirement(doc, k, r.message, params)
             for k, r in enumerate(model.require) if not r.that]  # fmt: skip
    if unmet:  # the blocks' errors would follow from the values it refuses: not reported
        raise by_position(unmet, doc.file)
    return model


def _block_or_errors(doc: Document, block: Any, k: int, env: dict[str, Any],
                     failed: dict[int, list[Diagnostic]], errors: list[Diagnostic]
                     ) -> Any:  # fmt: skip
    """Top-level block `k` substituted, or as written with every key's error in `failed[k]`:
    one run reports a misspelt name in one block and a schema error in the next."""
    path: KeyPath = ("blocks", k)
    try:
        return substitute_block(doc, block, path, env, None, defer=True)
    except SpecError as e:
        if not isinstance(block, dict):  # a whole block as `${...}`: nothing to validate
            errors.extend(e.diagnostics)
            return block
    failed[k] = []
    for key, value in block.items():  # each key's error, not only the first key's
        try:
            substitute_block(doc, {key: value}, path, env, None, defer=True)
        except SpecError as e:
            failed[k].extend(e.diagnostics)
    return block


def later_param(d: Diagnostic, order: list[str], p: str) -> str | None:
    """The param that the error `d`, in the value of the param `p` (of those in `order`), says
    is not defined where it is `p` itself or one after it (a param reads only the earlier
    ones), or None."""
    later = order[order.index(p) :]
    found = [n for n in later if f"`{n}` is not defined" in d.message]
    return found[0] if d.code == "E502" and found else None


def _not_before(d: Diagnostic, order: list[str], p: str) -> Diagnostic:
    """`d`, an error in the value of the spec's param `p`, saying so where it reads `p` itself
    or a later param (it said "not defined", with the earlier names as the defined ones)."""
    name = later_param(d, order, p)
    if name is None:
        return d
    itself = name == p
    where = "is the param itself" if itself else f"comes after `{p}` in `params`"
    fix = "give its value" if itself else f"move `{name}` before `{p}`, or give the value"
    message = d.message.replace(f"`{name}` is not defined", f"`{name}` {where}")
    hint = f"a param (and a --set of it) reads only the params before it: {fix}"
    return dataclasses.replace(d, message=message, hint=hint)


def _set_error(d: Diagnostic, item: str, file: str) -> UsageError:
    """An error in the value the `--set` `item` gave a param (a `${...}` in it) is about the
    command line, not about the line of the spec where the param stands (exit 2, as a bad
    --set is)."""
    name = set_name(item)
    return UsageError(Diagnostic("E503", f"{option(item)} {name}: " + d.message.removeprefix(
        f"params.{name}: "), file=file, hint=d.hint))  # fmt: skip


def reserved(doc: Document, params: dict[str, Any], path: KeyPath,
             use: bool = False) -> list[Diagnostic]:  # fmt: skip
    """E501 for each param (of the spec, or of a definition at `path`) named `copy`,
    `in_shape` or `in_channels`; with `use` (a definition's), also for each named as a common
    key (`type`, `name`, `inputs`, `repeat`, `repeat_names`, `trainable`): the use's own key of
    that name would give it its value (`{type: blk, repeat: 3}` repeated the instance and set
    the param)."""
    found = []
    common = FIXED if use else frozenset()
    for name in sorted({COPY, *NAMES} & set(params)) + [k for k in params if k in common]:
        if name in common:
            why = (f"at a use, `{name}` is the use's own key ({_COMMON_ROLE.get(name, name)}), "
                   "so it cannot also give the param its value")  # fmt: skip
        else:
            what = ("index of the copy of a repeated block" if name == COPY else
                    "shape of the block's input" if name == IN_SHAPE else
                    "channel count of the block's input")  # fmt: skip
            why = f"in a block's expressions it is the {what}"
        found.append(doc.diag("E501", f"{format_path((*path, name))}: `{name}` is reserved: "
                              + why, (*path, name), hint="rename the param", key=True))  # fmt: skip
    return found


#: what each common key does at a use of a block (`reserved`)
_COMMON_ROLE = {
    "type": "the block type used",
    "name": "the instance's name",
    "inputs": "what the instance reads",
    "repeat": "how many times the instance is applied",
    "repeat_names": "how its copies are named",
    "trainable": "whether its layers are trained",
}


def has_expr(block: Any) -> bool:
    """Whether the block (as written) has `${...}` in a key other than the common ones (else all
    its copies are the same)."""
    return isinstance(block, dict) and any(expr.holds(v) for k, v in block.items()
                                           if k not in FIXED)  # fmt: skip


def substitute_block(doc: Document, block: Any, path: KeyPath, env: dict[str, Any],
                     use: KeyPath | None, copy: int = 0, defer: bool = False) -> Any:  # fmt: skip
    """The block at `path` with its `${...}` substituted for one copy: `copy` is bound in all
    its keys but the common ones, and so are `in_shape` and `in_channels` if `env` has them;
    with `defer`, the `${...}` that read them are left as they are where `env` has not."""
    if not isinstance(block, dict):
        return substitute(doc, block, path, env, use)
    own = {**env, COPY: copy}
    fixed = {k: v for k, v in env.items() if k != SHAPE}
    return {k: substitute(doc, v, (*path, k), fixed, use) if k in FIXED
            else substitute(doc, v, (*path, k), own, use, defer)
            for k, v in block.items()}  # fmt: skip


def deferred(value: Any) -> bool:
    """Whether `value` (substituted with `defer`) still holds a `${...}`: one that reads
    `in_shape` or `in_channels`."""
    return expr.holds(value)


def substitute(doc: Document, value: Any, path: KeyPath, env: dict[str, Any],
               use: KeyPath | None, defer: bool = False) -> Any:  # fmt: skip
    """`value` with every `${...}` string replaced by its value (see `substitute_block` for
    `defer`)."""
    if isinstance(value, str):
        m = expr.PATTERN.match(value)
        if m is None:
            if "${" in value and path[-1:] != ("description",):  # (free text may hold it)
                # read as plain text, it failed later as "expected an integer"
                closed = "}" in value[value.index("${") :]
                why = "an expression is the whole value" if closed else "`${` is not closed"
                d = doc.diag("E501", f"{format_path(path)}: `{_quoted(value)}` is not an "
                             f"expression: {why}", path,
                             hint=WHOLE if closed else UNCLOSED)  # fmt: skip
                raise SpecError(with_use(doc, d, use))
            return value
        local, hint = env, None
        shaped = sorted(NAMES & expr.names(m.group(1)))
        if shaped:
            shape_of = env.get(SHAPE)
            if shape_of is None:
                if defer:
                    return value
                d = doc.diag("E502", f"{format_path(path)}: in `{_quoted(value)}`: "
                             f"`{shaped[0]}` is not known here: it is the shape of a block's input",
                             path, hint="use it in a block's parameters: not in "
                             + ", ".join(f"`{k}`" for k in sorted(FIXED))
                             + " (they decide the graph), params, require, budget or "
                             "expect")  # fmt: skip
                raise SpecError(with_use(doc, d, use))
            shape = shape_of()
            local = {**env, **bindings(shape)}
            if None in shape:
                hint = (f"`{IN_SHAPE}` is {shape_str(shape, 'spec')} here: null where the "
                        "input's size is unknown")  # fmt: skip
        try:
            return expr.evaluate(m.group(1), local)
        except expr.ExprError as e:
            hint = hint if hint and "null" in str(e) else e.hint
            missing = sorted(expr.names(m.group(1)) - set(local))
            if e.code == "E502" and missing and did_you_mean(missing[0], NAMES):
                hint = did_you_mean(missing[0], NAMES)
            elif e.code == "E502" and set(local) - {SHAPE} == {COPY} and \
                    (e.hint or "").startswith("defined names: "):  # fmt: skip
                # "defined names: copy" would be no help (a more precise hint stays)
                hint = f"no param is defined here, only `{COPY}` (the index of the copy)" + (
                    f", `{IN_SHAPE}` and `{IN_CHANNELS}`" if defer or SHAPE in env else ""
                )
            if e.code == "E502" and str(e).startswith(f"`{COPY}`"):
                hint = (f"`{COPY}` is bound in a block's own keys, not in "
                        + ", ".join(sorted(FIXED)) + ", params or defaults")  # fmt: skip
            elif (
                (defer or SHAPE in env)
                and hint
                and hint.startswith("defined names: ")
                and IN_SHAPE not in local
            ):  # a block's: bound when read (once: a fuzzer)
                hint = f"{hint}, {IN_SHAPE}, {IN_CHANNELS}"
            d = doc.diag(e.code, f"{format_path(path)}: in `{_quoted(value)}`: {e}", path,
                         hint=hint)  # fmt: skip
            d = with_origins(doc, d, m.group(1), local)
            raise SpecError(with_use(doc, d, use)) from None
    if isinstance(value, list):
        return [substitute(doc, v, (*path, k), env, use, defer) for k, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: substitute(doc, v, (*path, k), env, use, defer) for k, v in value.items()}
    return value


def _quoted(text: str, most: int = 80) -> str:
    """An expression as an error message quotes it: a long one clipped in the middle, so that
    the reason after it is never cut off (the source line is shown below the message)."""
    return text if len(text) <= most else text[: most - 20] + " ... " + text[-15:]
