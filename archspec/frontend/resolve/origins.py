"""Where a value an error is about came from, as notes on the error: a `--set` item (with the
option that gave it: `diff`'s `--old-set` and `--new-set` too), an including block's `set` key,
or a user-defined block's param (the use's key, the spec's `defaults`, or the definition's own
default).

Both are context variables, set while they hold: `GIVEN` for the resolution of one spec
(`given`: params.setting, and the resolution of an included spec), `PARAMS` while the blocks of
one use of a user-defined block are expanded (`written_as`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple, Protocol

from archspec.blocks import Block
from archspec.core.errors import Diagnostic, KeyPath, Related, SpecError, describe, format_path
from archspec.frontend import expr
from archspec.frontend.loader import Document
from archspec.frontend.resolve.errors import (
    SetNote,
    at_default,
    default_at,
    in_copies,
    placed,
    with_use,
)
from archspec.frontend.translate import number_hint, written_at

#: a file, line and column
Place = tuple[str | None, int | None, int | None]


class SetItem(str):
    """A `--set` item given by another option (`diff`'s `--old-set`, `--new-set`): messages
    about it name that option. Or, with `at`, an included spec's param that the including
    block's `set` gave: `option` is that key (`blocks[0].set.depth`) and `at` its place."""

    option: str
    at: Place | None
    #: whether the value was quoted where it was written (a `set` key of a spec)
    quoted: bool
    #: where the values that a `set` key's `${...}` read came from
    via: tuple[Related, ...]

    def __new__(cls, text: str, option: str, at: Place | None = None, quoted: bool = False,
                via: tuple[Related, ...] = ()) -> SetItem:  # fmt: skip
        item = super().__new__(cls, text)
        item.option, item.at, item.quoted, item.via = option, at, quoted, via
        return item


def option(item: str) -> str:
    """The option that gave `item`: `--set`, unless it is a SetItem."""
    return item.option if isinstance(item, SetItem) else "--set"


class Origin(NamedTuple):
    """Where a user-defined block's param got its value for one use."""

    value: Any
    #: the key: the use's (`blocks[3].f`), `defaults.unit.f`, or `define.unit.params.f`
    where: KeyPath
    #: which copy of a repeated use, where the key reads `copy` (`, with `copy` = 1`), or ""
    copy: str = ""
    #: for the key of a use inside a definition: that definition's params, which its `${...}`
    #: reads where they hide the spec's
    hidden: frozenset[str] = frozenset()
    #: for such a key: where the params its `${...}` read got theirs (`outer_notes`)
    via: tuple[Related, ...] = ()

    @property
    def default(self) -> bool:
        """Whether it is the definition's own default."""
        return self.where[0] == "define" and self.where[2] == "params"


#: while a spec is resolved (params.setting): its file and the params `--set` gave it, name ->
#: (value, the `--set` item), so that an error in an expression that reads one notes the item
GIVEN: ContextVar[tuple[str | None, dict[str, tuple[Any, str]]]] = ContextVar(
    "GIVEN", default=(None, {})
)
#: while the blocks of one use of a user-defined block are expanded (`written_as`): the spec,
#: and the block's params, name -> Origin
PARAMS: ContextVar[tuple[Document | None, dict[str, Origin]]] = ContextVar(
    "PARAMS", default=(None, {})
)


@contextmanager
def given(file: str | None, values: dict[str, tuple[Any, str]]) -> Iterator[None]:
    """`GIVEN` while the spec `file` is resolved with `values` (name -> (value, item))."""
    token = GIVEN.set((file, values))
    try:
        yield
    finally:
        GIVEN.reset(token)


def evaluated(doc: Document, name: str, value: Any) -> None:
    """A `--set` value written as an expression (`--set 'n=${2 * 8}'`), noted as what it gave:
    the notes compare the value a spec's `${...}` read with the one `GIVEN` holds."""
    file, values = GIVEN.get()
    if file == doc.file and name in values:
        values[name] = (value, values[name][1])


def _given(doc: Document) -> dict[str, tuple[Any, str]]:
    """`GIVEN`'s values where `doc` is the spec being resolved, else none."""
    file, values = GIVEN.get()
    return values if file == doc.file else {}


def included_set(doc: Document, path: KeyPath, values: dict[str, Any]
                 ) -> dict[str, tuple[Any, str]]:  # fmt: skip
    """`GIVEN`'s values for the spec that the block at `path` of `doc` includes with `values`
    (its `set`, only ever in the top-level blocks): each noted at its key, and where the values
    that its `${...}` read came from (`doc`'s own `--set` or `set` items)."""
    sets = _given(doc)
    out: dict[str, tuple[Any, str]] = {}
    for k, v in values.items():
        where = (*path, "set", k)
        at = (doc.file, *(doc.locate(where) or (None, None)))
        written = expr.source_of(written_at(doc.written, where))
        read = expr.names(written) if written else frozenset()
        via = tuple(n for s in sorted(read & sets.keys()) for n in set_notes(s, sets[s][1]))
        quoted = where in doc.quoted and not written  # (`"${x}"` is quoted, as it must be)
        out[k] = (v, SetItem(f"{k}: {v}", format_path(where), at, quoted, via))
    return out


@contextmanager
def written_as(doc: Document, params: dict[str, Origin]) -> Iterator[None]:
    """`PARAMS` while the blocks of one use of a user-defined block are expanded."""
    token = PARAMS.set((doc, params))
    try:
        yield
    finally:
        PARAMS.reset(token)


def _same(a: Any, b: Any) -> bool:
    """Whether a name still holds the value noted (the object itself, as for a NaN, or an equal
    one of the same type: 1 is not true)."""
    return a is b or (type(a) is type(b) and a == b)


def with_origins(doc: Document, d: Diagnostic, source: str, local: dict[str, Any]
                 ) -> Diagnostic:  # fmt: skip
    """`d`, an error about the expression `source`, with a note for each name it reads that has
    its value from elsewhere: a `--set` param (and, for a --set value YAML read as text,
    `--set width=1e0`, the hint a spec's value gets), or a user-defined block's param."""
    spec, params = PARAMS.get()
    inside = params if spec is not None and spec.file == doc.file else {}
    read = expr.names(source)
    sets = _given(doc)
    items = [(k, value, item) for k, (value, item) in sets.items()
             if k in read and k not in inside and _same(local.get(k), value)]  # fmt: skip
    hint = next(filter(None, (_value_hint(k, v, item) for k, v, item in items)), None)
    notes: list[Related] = [n for k, _, item in items for n in set_notes(k, item)]
    # a spec param YAML read as text (`w: 1e3`): the hint a value written there would get
    for k in sorted(read - inside.keys() - sets.keys()):
        text = local.get(k)
        at = ("params", k)
        found = (number_hint(text, quoted=at in doc.quoted) or _boolean_text(f"`{k}: ", text))\
            if isinstance(text, str) else None  # fmt: skip
        written = doc.data.get("params", {}) if isinstance(doc.data, dict) else {}
        if found is not None and at in doc.positions and _same(written.get(k), text):
            hint = hint or f"`{k}` is the text `{text}`: {found}"
            notes.append(Related(f"`{k}` is written at params.{k}", doc.file,
                                 *doc.positions[at]))  # fmt: skip
    if d.code != "E502":  # (an undefined name: the values of the others do not matter)
        notes += _param_notes(doc, read, local, inside, sets)
    if not notes:
        return d
    notes = list(dict.fromkeys(notes))  # a --set that values at several levels read: once
    return dataclasses.replace(d, related=(*d.related, *notes), hint=hint or d.hint)


def outer_notes(doc: Document, read: frozenset[str] | set[str], outer: dict[str, Origin]
                ) -> tuple[Related, ...]:  # fmt: skip
    """The notes on the params of the enclosing use (`outer`) that the `${...}` of a use's key
    inside a definition reads: the origin of a value passed on through nested definitions."""
    local = {k: o.value for k, o in outer.items()}
    return tuple(_param_notes(doc, read, local, outer, _given(doc)))


def _param_notes(doc: Document, read: frozenset[str] | set[str], local: dict[str, Any],
                 params: dict[str, Origin], sets: dict[str, tuple[Any, str]]
                 ) -> list[Related]:  # fmt: skip
    """Where the user-defined block's params that an expression reads got their values, each
    with the `--set` items its own `${...}` read: the ones the use, `defaults` or a `--set`
    gave; the definition's other defaults only where it reads none of those (a use's values
    are the ones that change)."""
    found = []
    for k, o in sorted(params.items()):
        if k in read and k in local and _same(local[k], o.value):
            written = expr.source_of(written_at(doc.written, o.where))
            via = sorted(expr.names(written) & sets.keys() - o.hidden) if written else []
            found.append((k, o, via))
    given = [f for f in found if not f[1].default or f[2]]
    notes = []
    for k, o, via in given or found:
        at = f"the default at {format_path(o.where)}" if o.default else format_path(o.where)
        notes.append(Related(f"`{k}` is {describe(o.value)}, from {at}{o.copy}", doc.file,
                             *(doc.locate(o.where) or (None, None))))  # fmt: skip
        notes += o.via
        notes += [n for s in via for n in set_notes(s, sets[s][1])]
    return notes


#: the hint for `--set width=`, which YAML reads as null
EMPTY = "an empty value reads as null: give one after `=`"


def _value_hint(name: str, value: Any, item: str) -> str | None:
    """The hint for a given value that fails: YAML read as text (`1e-5`), or empty (`--set
    width=`), naming where it was given; where it came on from further out (`set: {f:
    "${x}"}`), unnamed: the notes say where."""
    passed = isinstance(item, SetItem) and bool(item.via)
    if isinstance(value, str) and not passed and not isinstance(item, SetItem):
        boolean = _boolean_text(f"`{option(item)} {name}=", value)
        if boolean is not None:  # `--set 'flag="false"'`
            return boolean
    if isinstance(value, str):
        hint = number_hint(value, quoted=isinstance(item, SetItem) and item.quoted and not passed)
        hint = hint or (_boolean_text(f"`{name}: ", value) if not passed else None)
    else:
        hint = EMPTY if value is None and item.endswith("=") else None
    return hint if hint is None or passed else f"{_named(name, item)}: {hint}"


def _boolean_text(written: str, text: str) -> str | None:
    """The hint for a quoted boolean (`"false"`, which is text) given as `written` (`` `flag: ``
    or `` `--set flag= ``), or None for other text."""
    return expr.text_truth(text, written) if text.strip().lower() in expr.BOOLEAN_WORDS else None


def _named(name: str, item: str) -> str:
    """How a hint names the given param: `--set width`, or `blocks[0].set.width`."""
    return item.option if isinstance(item, SetItem) and item.at is not None else \
        f"{option(item)} {name}"  # fmt: skip


def set_notes(name: str, item: str) -> list[Related]:
    """`name` comes from the command line's `item`, or from an including block's `set` (then
    where the values its expression read came from)."""
    if isinstance(item, SetItem) and item.at is not None:
        return [SetNote(f"`{name}` comes from {item.option}", *item.at), *item.via]
    return [SetNote(f"`{name}` comes from {option(item)} {item}")]


def with_origin_notes(doc: Document, d: Diagnostic, env: dict[str, Any]) -> Diagnostic:
    """`d`, an error the schema found in a block key's substituted value, `with_origins` of the
    `${...}` written there. Where it is one name alone, no int(...) hint: the value to fix is
    the one it reads (wrapping it would cut 2.5 to 2 unsaid)."""
    written = expr.source_of(written_at(doc.written, d.path))
    noted = d if written is None else with_origins(doc, d, written, env)
    if noted is not d and written and written.strip().isidentifier() and \
            (noted.hint or "").startswith("wrap the expression in"):  # fmt: skip
        return dataclasses.replace(noted, hint=None)
    return noted


def unmet_requirement(doc: Document, k: int, message: str, params: dict[str, Any]) -> Diagnostic:
    """E506 at `require[k].that`, a condition found false: its `message`, the values the
    condition read, and the `--set` values they came from, directly or through the params
    they are written with (`${first != f16}`, both computed from `--set alpha=0.25`)."""
    path: KeyPath = ("require", k, "that")
    d = with_origin_notes(doc, doc.diag("E506", message, path), params)
    source = expr.source_of(written_at(doc.written, path))
    if source is None:  # `that: false` as written
        return d
    read = expr.names(source)
    shown = ", ".join(f"`{n}` is {describe(params[n])}" for n in sorted(read) if n in params)
    sets = _given(doc)
    written = written_at(doc.written, ("params",))
    # the params computed from a --set value (in lists and mappings too), not from the values
    # that other --set items gave
    computed = {k: v for k, v in (written if isinstance(written, dict) else {}).items()
                if k not in sets}  # fmt: skip
    notes = [Related(f"the condition read: {shown}")] if shown else []
    notes += [n for name in sorted(sets.keys() - read) if expr.reach(computed, {name}) & read
              for n in set_notes(name, sets[name][1])]  # fmt: skip
    return dataclasses.replace(d, related=(*notes, *d.related))


#: what the `${...}` of one expanded block saw: its names, and PARAMS and GIVEN then
Seen = tuple[dict[str, Any], tuple[Document | None, dict[str, Origin]],
             tuple[str | None, dict[str, tuple[Any, str]]]]  # fmt: skip


def seen(env: dict[str, Any]) -> Seen:
    """What a block expanded now with the names `env` sees, kept with it (`Item.seen`)."""
    return env, PARAMS.get(), GIVEN.get()


class _Resolved(Protocol):
    """What `lowering_error` reads of a resolved block (result.Item, which imports this)."""

    @property
    def block(self) -> Block: ...
    @property
    def doc(self) -> Document | None: ...
    @property
    def use(self) -> KeyPath | None: ...
    @property
    def notes(self) -> tuple[Related, ...]: ...
    @property
    def seen(self) -> Seen | None: ...
    @property
    def copies(self) -> tuple[tuple[KeyPath, int, int], ...]: ...


class LoweringFailure(SpecError):
    """An error lowering found in a resolved block (`lowering_error`), with all its notes: a
    later block whose `${...}` asked for its shape adds none (which copy is the failing
    block's)."""


def lowering_error(doc: Document, d: Diagnostic, item: _Resolved) -> LoweringFailure:
    """The error to raise for `d`, found by lowering in the resolved block `item` (of `doc`, or
    of the included spec it stands in): `lowered`'s notes, its use site, which copy it is of
    each repeat it is in, and its includes."""
    where = item.doc or doc
    d = in_copies(where, with_use(where, lowered(where, d, item.block.type, item.seen), item.use),
                  item.copies)  # fmt: skip
    return LoweringFailure(placed(where, d, None, item.notes))


def lowered(doc: Document, d: Diagnostic, kind: str, saw: Seen | None) -> Diagnostic:
    """`d`, an error that lowering found at a key of a block of type `kind` (`groups: 3` does
    not divide the channels), with the notes resolve gives its own errors: where the values its
    `${...}` read came from (`saw`), or, for a value from `defaults`, placed there."""
    key = d.path[-1] if d.path else None
    if isinstance(key, str) and d.path not in doc.positions:  # not written: from `defaults`
        if default_at(doc, kind, key) not in doc.positions:
            return d
        d = at_default(doc, d, d.path[:-1], kind, {key})
        if saw is None:
            return d
        outer, inner = PARAMS.set(saw[1]), GIVEN.set(saw[2])
        try:
            return with_origin_notes(doc, d, saw[0])
        finally:
            GIVEN.reset(inner)
            PARAMS.reset(outer)
    if saw is None:
        return d
    env, params, values = saw
    # the other keys of the block that the message names (`filters` of "groups 2 does not
    # divide the 15 output channels (`filters`)")
    block = d.path[:-1] if isinstance(key, str) else d.path
    named = [(*block, k) for k in dict.fromkeys(re.findall(r"`(\w+)`", d.message))
             if (*block, k) != d.path and (*block, k) in doc.positions]  # fmt: skip
    outer, inner = PARAMS.set(params), GIVEN.set(values)
    try:
        d = with_origin_notes(doc, d, env)
        for path in named:
            other = with_origin_notes(doc, dataclasses.replace(d, path=path, related=()), env)
            related = dict.fromkeys((*d.related, *other.related))  # a name both keys read: once
            d = dataclasses.replace(d, related=tuple(related))
        return d
    finally:
        GIVEN.reset(inner)
        PARAMS.reset(outer)
