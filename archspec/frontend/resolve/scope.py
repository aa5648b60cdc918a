"""Scopes and references: which names a block can read (`inputs`, `outputs`), and binding a
block's name to its output.

The top level is one scope; every use of a user-defined block opens another, whose names are
local. A reference is to an input or an earlier block of the same scope.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from archspec.blocks import Block
from archspec.core.errors import (
    KeyPath,
    SpecError,
    a_block,
    did_you_mean,
    first_of,
    format_path,
)
from archspec.frontend.loader import Document
from archspec.frontend.resolve.errors import fail
from archspec.frontend.schema import SpecModel


@dataclass
class Scope:
    """Names visible to a list of blocks: the top level, or one user-defined block instance."""

    prefix: str
    #: local name -> final name
    names: dict[str, str]
    previous: str | None
    #: local names declared anywhere in this block list (to tell "later" from "unknown")
    declared: set[str]
    counters: Counter[str] = field(default_factory=Counter)
    #: the user-defined block instances this is in, outermost first (final name, type each)
    groups: tuple[tuple[str, str], ...] = ()
    #: `spec` blocks (local name) -> the names of the included blocks they expose, which read
    #: as `<name>.<exposed>` (in `names` too)
    exposed: dict[str, list[str]] = field(default_factory=dict)
    #: `spec` blocks (local name) -> where they stand, and the included spec's top-level blocks
    #: (what their `outputs` may list)
    listable: dict[str, tuple[KeyPath, list[str]]] = field(default_factory=dict)
    #: name -> how many blocks of this scope gave themselves that name so far: two may (a block
    #: and a repeated one whose copies are `<name>_1`, ...), but then the name reads neither
    given: Counter[str] = field(default_factory=Counter)
    #: a block's name -> its copies' names, where they are not `<name>_1`, ...
    #: (`repeat_names: letters` or a template), or none (`repeat: 0`): the hint for `<name>_2`
    copies: dict[str, list[str]] = field(default_factory=dict)
    #: where each of `groups` is used, and the scope around this one (None at the top
    #: level): the hint for a name of that scope read in here
    at: tuple[KeyPath, ...] = ()
    outer: Scope | None = None
    #: each user-defined block's instance here (each copy) -> its type and the names inside it
    #: (local -> final): the hint for a block within it read from out here (`s1_a`)
    inside: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    #: within a use whose `trainable` is false: every block here is frozen too
    frozen: bool = False
    #: the repeated uses (of several copies) this is one copy of, outermost first
    #: (where each stands, the copy's index, how many)
    repeats: tuple[tuple[KeyPath, int, int], ...] = ()

    @property
    def use(self) -> KeyPath | None:
        """Where the outermost instance this is in is used (errors get a note there)."""
        return self.at[0] if self.at else None


def declared(blocks: list[Any]) -> set[str]:
    """The names the blocks of a list give themselves."""
    return {b["name"] for b in blocks if isinstance(b, dict) and isinstance(b.get("name"), str)}


def readable(scope: Scope, before: list[Any]) -> dict[str, str]:
    """The names a block can read, for a hint, when the walk stopped expanding at an earlier
    block: the scope's, then the names the blocks `before` it give themselves (not bound)."""
    names = dict(scope.names)
    for b in before:
        if isinstance(b, dict) and isinstance(b.get("name"), str):
            names.setdefault(b["name"], b["name"])
    return names


def top_scope(model: SpecModel) -> Scope:
    """The scope of the top-level `blocks`: the model inputs are visible."""
    inputs = list(model.input_shapes)
    return Scope(
        prefix="",
        names={n: n for n in inputs},
        previous=inputs[0] if len(inputs) == 1 else None,
        declared=declared(model.blocks),
    )


def read_inputs(doc: Document, block: Block, path: KeyPath, scope: Scope) -> list[str]:
    """The final names a block reads: its `inputs`, or the previous block's output."""
    if block.inputs is None:
        if scope.previous is None:
            raise fail(
                doc, "E301", f"{format_path(path)}: with several inputs, the first block "
                "needs `inputs`",
                path, hint="name one of: " + ", ".join(scope.names), use=scope.use,
            )  # fmt: skip
        return [scope.previous]
    refs = [block.inputs] if isinstance(block.inputs, str) else list(block.inputs)
    if not refs and block.n_inputs is None:  # (a type with one input says so below)
        raise fail(doc, "E303", f"{format_path((*path, 'inputs'))}: an empty list reads nothing",
                   (*path, "inputs"), use=scope.use, hint="name the blocks it reads, or leave "
                   "`inputs` out to read the block before")  # fmt: skip
    out = []
    for k, ref in enumerate(refs):
        where: KeyPath = (
            (*path, "inputs") if isinstance(block.inputs, str) else (*path, "inputs", k)
        )
        if ref not in scope.names and "." in ref:
            raise _dotted(doc, ref, where, scope)
        if scope.given[ref] > 1:
            raise ambiguous(doc, ref, where, scope)
        if ref not in scope.names:
            later = ref in scope.declared
            raise fail(
                doc,
                "E301",
                f"{format_path(where)}: `{ref}` "
                + ("is this block itself; a block can only read earlier ones"
                   if ref == block.name else
                   "is a later block; a block can only read earlier ones" if later
                   else "is not an input or an earlier block"),
                where, use=scope.use, hint=None if later else
                _instance_input(ref, scope) or copy_named(ref, scope) or _within(ref, scope)
                or did_you_mean(ref, scope.names) or _outside(ref, scope)
                or _readable(scope),
            )  # fmt: skip
        out.append(scope.names[ref])
    if block.n_inputs is not None and len(out) != block.n_inputs:
        raise fail(
            doc, "E303", f"{format_path((*path, 'inputs'))}: {a_block(block.type)} reads one "
            f"input, received {len(out)}", (*path, "inputs"), use=scope.use,
            hint="merge several inputs with an `add` or `concat` block first" if out else
            "name the block it reads" + (", or leave `inputs` out to read the block before"
                                         if scope.previous is not None else ""),
        )  # fmt: skip
    return out


def _instance_input(ref: str, scope: Scope) -> str | None:
    """The hint for `input` or `input_<k>` in a user-defined block whose use passes another
    number of inputs: one is `input`, several are `input_1`, `input_2`, ..."""
    if scope.use is None or not re.fullmatch(r"input(_\d+)?", ref):
        return None
    given = [n for n in scope.names if re.fullmatch(r"input_\d+", n)]  # bound in order
    use = format_path(scope.at[-1])  # the use that passes them: the nearest
    if "input" in scope.names and ref != "input":
        return (
            f"the use at {use} passes one input, which its blocks read as `input`; pass "
            "several there (`inputs: [a, b]`) to read `input_1`, `input_2`, ..."
        )
    if given and ref not in given:
        return (f"the use at {use} passes {len(given)} inputs, which its blocks read as "
                + ", ".join(f"`{n}`" for n in given))  # fmt: skip
    return None


def _within(ref: str, scope: Scope) -> str | None:
    """The hint for a block within an instance read from outside it (`s1_a`)."""
    final = scope.prefix + ref
    found = [
        (own, instance, kind)
        for instance, (kind, names) in scope.inside.items()
        if ref.startswith(instance + "_")
        for own, f in names.items()
        if f == final
    ]
    if not found:
        return None
    name, instance, kind = found[0]
    if scope.names.get(instance) == final:
        return f"`{ref}` is the last block of `{instance}` (a `{kind}`): read it as `{instance}`"
    return (
        f"`{ref}` is the block `{name}` within `{instance}` (a `{kind}`): from outside, an "
        f"instance reads only as its output (`{instance}`, after its last block)"
    )


def _outside(ref: str, scope: Scope) -> str | None:
    """The hint for a name of the scope around a user-defined block read inside it (`enc2`):
    the name the use passes it in under (`input`), or to pass it in that use's `inputs`."""
    if scope.outer is None or ref not in scope.outer.names:
        return None
    use = format_path(scope.at[-1])
    for local, final in scope.names.items():
        if re.fullmatch(r"input(_\d+)?", local) and final == scope.outer.names[ref]:
            return f"`{ref}` is what the use at {use} passes in: read it here as `{local}`"
    return (
        f"`{ref}` is outside this user-defined block, whose names are its own: pass it in "
        f"`inputs` at {use} to read it here"
    )


def copy_named(ref: str, scope: Scope) -> str | None:
    """The hint for `<name>_<k>` where the copies of the repeated block `name` are named
    otherwise (`repeat_names: letters`: `ca`, `cb`, ...): what they are, and the k-th."""
    head, _, k = ref.rpartition("_")
    copies = scope.copies.get(head)
    if copies is None or not k.isdigit():
        return None
    if not copies:
        return f"`{head}` has `repeat: 0`: it makes no copies, and `{head}` passes on its input"
    shown = ", ".join(f"`{c}`" for c in copies[:3]) + (", ..." if len(copies) > 3 else "")
    pick = int(k) - 1
    if not 0 <= pick < len(copies):
        return (f"the copies of `{head}` are named {shown} (its `repeat_names`): there "
                + ("is one" if len(copies) == 1 else f"are {len(copies)}"))  # fmt: skip
    which = f"copy {k} is `{copies[pick]}`"
    if f"{head}{k}" in copies and copies[pick] != f"{head}{k}":  # `{name}{i}`: c0, c1, c2
        which += f"; `{head}{k}` is copy {copies.index(f'{head}{k}') + 1}"
    return f"the copies of `{head}` are named {shown} (its `repeat_names`): {which}"


def _dotted(doc: Document, ref: str, where: KeyPath, scope: Scope) -> SpecError:
    """The error for a `<spec block>.<block>` reference that names no exposed output."""
    head, _, tail = ref.partition(".")
    if head in scope.exposed:
        shown = scope.exposed[head]
        at, blocks = scope.listable.get(head, ((), []))
        listed = f"list it in {format_path((*at, 'outputs'))} (it exposes: {', '.join(shown)})"
        hint = (f"`{tail}` is a block of the included spec: {listed}" if tail in blocks else
                (did_you_mean(tail, shown) or "it exposes: " + ", ".join(shown))
                + " (list more in its `outputs`)")  # fmt: skip
        return fail(doc, "E301", f"{format_path(where)}: the `spec` block `{head}` exposes no "
                    f"`{tail}`", where, use=scope.use, hint=hint)  # fmt: skip
    return fail(doc, "E301", f"{format_path(where)}: `{head}` is not an earlier `spec` block; "
                "`<name>.<block>` reads an output a `spec` block exposes", where, use=scope.use,
                hint=did_you_mean(head, scope.exposed) if scope.exposed else None)  # fmt: skip


def ambiguous(doc: Document, ref: str, where: KeyPath, scope: Scope) -> SpecError:
    """The error for reading a name that several blocks gave themselves."""
    return fail(doc, "E302", f"{format_path(where)}: {scope.given[ref]} blocks are named "
                f"`{ref}`, so it is unclear which one this reads", where, use=scope.use,
                hint="give one of them another `name` (a repeated block's copies can also be "
                "read by their own names)")  # fmt: skip


def bind(scope: Scope, given: str | None, output: str) -> None:
    """After a block: its `name` (if given) now means its output, and the next block reads it."""
    if given is not None:
        scope.names[given] = output
    scope.previous = output


def read_outputs(doc: Document, model: SpecModel, scope: Scope) -> list[str]:
    """The final names of the model outputs: `outputs`, or the last top-level block."""
    if model.outputs is None:
        assert scope.previous is not None
        if scope.previous in model.input_shapes:  # every block after it has `repeat: 0`
            raise fail(doc, "E301", "the model's output would be its input "
                       f"`{scope.previous}`: the last blocks have `repeat: 0`",
                       ("blocks", len(model.blocks) - 1, "repeat"),
                       hint="keep at least one block after the input")  # fmt: skip
        return [scope.previous]
    outs = []
    for k, ref in enumerate(model.outputs):
        if scope.given[ref] > 1:
            raise ambiguous(doc, ref, ("outputs", k), scope)
        if ref in scope.names and ref not in model.input_shapes and \
                scope.names[ref] in model.input_shapes:  # fmt: skip
            raise fail(doc, "E301", f"outputs[{k}]: `{ref}` has `repeat: 0` and passes on the "
                       f"input `{scope.names[ref]}`", ("outputs", k),
                       hint="name a block that is kept")  # fmt: skip
        if ref not in scope.names or ref in model.input_shapes:
            blocks = [n for n in scope.names if n not in model.input_shapes]
            raise fail(doc, "E301", f"outputs[{k}]: `{ref}` is not a block", ("outputs", k),
                       hint=copy_named(ref, scope) or did_you_mean(ref, blocks)
                       or listed(blocks))  # fmt: skip
        outs.append(scope.names[ref])
    first: dict[str, int] = {}
    for k, out in enumerate(outs):  # at the second naming, with the first
        if out in first:
            j = first[out]
            raise fail(doc, "E302", f"outputs[{k}] `{model.outputs[k]}` and outputs[{j}] "
                       f"`{model.outputs[j]}` both name the block `{out}`", ("outputs", k),
                       hint="name each output once")  # fmt: skip
        first[out] = k
    return outs


def _readable(scope: Scope, most: int = 12) -> str:
    """E301's hint where nothing is close: the names a block can read here, the nearest (the
    latest bound) first, as a long spec's reader looks back from the block."""
    names = [f"`{n}`" for n in reversed(scope.names)]
    return "it can read, nearest first: " + first_of(names, most)


def listed(blocks: list[str], most: int = 20) -> str:
    """A hint listing the block names (the first `most`, and how many in all)."""
    if not blocks:
        return "no block has a name yet"
    return "the blocks: " + first_of(blocks, most)
