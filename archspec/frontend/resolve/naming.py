"""Final block names, and the limit on how many blocks a spec expands to.

A block's final name is `<prefix><name>`, where the prefix is `<instance name>_` inside a
user-defined block. With `repeat: n` the copies are `<name>_1` ... `<name>_n` (and `name` then
refers to the last copy, see scope.bind); with `repeat_names: letters` they are `<name>a`,
`<name>b`, ... `<name>z`, `<name>aa`, `<name>ab`, ... (as spreadsheet columns), even a single
copy (`block1a`); with a template (`repeat_names: "{name}{k}"`) each copy, even a single one,
is the template filled in: `{k}` the copy's index from 1, `{i}` from 0, `{letter}` as letters
(`number` is `{name}_{k}` and `letters` `{name}{letter}`, see base.repeat_template). Each copy's
own name can be read by later blocks too. With `repeat: 0` the
block is left out; its name stays taken and means the block's input (Names.drop). A block
without `name` is `<type>_<k>`, k counting the blocks of that type in its scope from 1 and
skipping names that are taken. Final names are unique across the whole spec (they become Keras
layer-name prefixes) and, like the names a spec gives, at most NAME_CHARS (128) characters.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, get_args

from archspec.blocks import Block
from archspec.blocks.base import Identifier, repeat_template
from archspec.core.errors import Diagnostic, KeyPath, Related, SpecError, format_path
from archspec.core.limits import raise_hint
from archspec.frontend.loader import Document
from archspec.frontend.resolve.errors import fail
from archspec.frontend.resolve.scope import Scope

if TYPE_CHECKING:
    from archspec.frontend.resolve.result import Item

#: the longest name a block may have (a name given in the spec is an `Identifier`): final
#: names, `<instance name>_<inner name>` and repeat copies included, are held to it too, so
#: that `render` writes only names a spec may have
NAME_CHARS: int = next(m.max_length for m in get_args(Identifier)[1].metadata
                       if hasattr(m, "max_length"))  # fmt: skip


class Names:
    """The final names given so far (the model inputs to begin with)."""

    def __init__(self, doc: Document, inputs: list[str]) -> None:
        self.doc = doc
        self.inputs = set(inputs)
        #: final name -> the block that took it, its copy (from 0), how many, and why it has
        #: that name where `repeat` gave it (`why`); None: a model input
        self.final: dict[str, tuple[KeyPath, int, int, str] | None] = dict.fromkeys(inputs)

    def name(self, given: str | None, kind: str, repeat: int, copy: int, path: KeyPath,
             scope: Scope, names: str = "number", repeated: bool = False) -> str:  # fmt: skip
        """The final name of copy `copy` (from 0) of a block: `<prefix><name>[_<copy + 1>]`,
        `<prefix>` and the `names` template filled in, or a default. `repeated`: the block
        has a `repeat` key (a sweep's `repeat: 1` keeps the bare name, which the error says)."""
        if given is None:
            while True:
                scope.counters[kind] += 1
                local = f"{kind}_{scope.counters[kind]}"
                if local not in scope.declared and scope.prefix + local not in self.final:
                    break
        else:
            if copy == 0:
                scope.given[given] += 1
            local = (given if names == "number" and repeat == 1
                     else fill(repeat_template(names), given, copy))  # fmt: skip
            if names != "number":
                scope.copies.setdefault(given, []).append(local)
        final = scope.prefix + local
        if len(final) > NAME_CHARS:
            raise self.too_long(final, given, path, scope)
        why = ""  # where `repeat` made the name, how (E302 says it, for either holder)
        if given is not None and names == "number" and (repeat > 1 or repeated):
            why = (f"with `repeat: 1` the one copy keeps the name `{final}`; copies are "
                   f"numbered `{final}_1`, `{final}_2`, ... from `repeat: 2`") if repeat == 1 \
                else f"with `repeat: {repeat}` the copies are named `{scope.prefix}{given}_1` " \
                f"... `{scope.prefix}{given}_{repeat}`"  # fmt: skip
        if final in self.final:
            raise self.taken(final, path, scope, why)
        self.final[final] = (path, copy, repeat, why)
        scope.names.setdefault(local, final)
        return final

    def taken(self, final: str, path: KeyPath, scope: Scope, why: str = "") -> SpecError:
        """E302 for a final name given before: a block's, or a model input's. `why`: how the
        block's `repeat` gave it that name (`repeat: 1` keeps the bare name, `repeat: 0` leaves
        the block out, `repeat: 2` numbers the copies), said in the hint, and the first
        holder's in the note."""
        why = f": {why}" if why else ""
        if final in self.inputs:
            return fail(self.doc, "E302", f"{format_path(path)}: block name `{final}` is the "
                        "name of a model input", (*path, "name"), use=scope.use,
                        hint="give the block another `name`" + why)  # fmt: skip
        error = fail(self.doc, "E302", f"{format_path(path)}: block name `{final}` is already "
                     "used", (*path, "name"), hint="give one of the blocks another `name`" + why,
                     use=scope.use)  # fmt: skip
        first = self.final.get(final)
        if first is None:
            return error
        at, copy, repeat, how = first  # `cb`, after `{name: c, repeat: 3, repeat_names: letters}`
        what = f"copy {copy + 1} of {repeat} of {format_path(at)}" if repeat > 1 else \
            format_path(at)  # fmt: skip
        note = Related(f"`{final}` is the name of {what}" + (f": {how}" if how else ""),
                       self.doc.file, *(self.doc.locate(at) or (None, None)))  # fmt: skip
        (d,) = error.diagnostics
        return SpecError(dataclasses.replace(d, related=(note, *d.related)))

    def too_long(self, final: str, given: str | None, path: KeyPath, scope: Scope
                 ) -> SpecError:  # fmt: skip
        """The error for a final name over NAME_CHARS, at the block's `name` (or the block)."""
        why = ("an instance's name prefixes the names inside it" if scope.prefix
               else "the copies' names are filled in")  # fmt: skip
        where: KeyPath = (*path, "name") if given is not None else path
        return fail(self.doc, "E204", f"{format_path(path)}: block name `{final[:40]}...` is "
                    f"{len(final)} characters, more than the limit of {NAME_CHARS} ({why})",
                    where, use=scope.use, hint="give the block (or the user-defined blocks "
                    "around it) a shorter `name`, or nest user-defined blocks less deep"
                    )  # fmt: skip

    def drop(self, block: Block, refs: list[str], path: KeyPath, scope: Scope) -> None:
        """The block at `path` has `repeat: 0`: it is left out and passes on its input `refs`."""
        if len(refs) != 1:
            raise fail(self.doc, "E303", f"{format_path((*path, 'repeat'))}: with `repeat: 0` "
                       f"the block is left out and passes on its input, so it reads one input, "
                       f"not {len(refs)}", (*path, "repeat"), use=scope.use,
                       hint="give it one input, or a repeat of 1 or more")  # fmt: skip
        if block.name is not None:
            scope.given[block.name] += 1
            scope.copies.setdefault(block.name, [])  # none: `c_1` is hinted so
            final = scope.prefix + block.name
            why = f"with `repeat: 0` the block is left out and `{final}` names its input"
            if final in self.final:
                raise self.taken(final, path, scope, why)
            self.final[final] = (path, 0, 0, why)


def check_count(doc: Document, expanded: int, more: int, path: KeyPath,
                use: KeyPath | None, items: Sequence[Item] = ()) -> None:  # fmt: skip
    """`more` blocks (from the block at `path`) may be added to the `expanded` ones so far
    (`items`: those of this spec, whose top-level block that made most is noted)."""
    limit = doc.limits.blocks  # archspec/core/limits.py; --max-blocks raises it
    if more > limit:  # one block's `repeat` alone (E706, at `repeat`)
        raise fail(doc, "E706", f"{format_path(path)}.repeat: makes {more:,} blocks, more "
                   f"than the limit of {limit:,}", (*path, "repeat"), use=use,
                   hint="lower `repeat`, or " + raise_hint("--max-blocks", ""))  # fmt: skip
    if expanded + more > limit:
        included = any(item.doc is not None for item in items)
        error = fail(doc, "E705", f"{format_path(path)}: the spec expands to more than "
                     f"{limit:,} blocks", path, use=use,
                     hint=f"lower `repeat`{' or include fewer specs' * included}, or "
                     + raise_hint("--max-blocks", ""))  # fmt: skip
        # where they came from: a `repeat` of a user-defined block before this innocent one
        made = Counter((item.use or item.path)[:2] for item in items if item.doc is None)
        if made:
            ((top, count),) = made.most_common(1)
            if 2 * count > expanded and top != tuple(path[:2]):
                (d,) = error.diagnostics
                note = Related(
                    f"{format_path(top)} made {count:,} of the {expanded:,} blocks before it",
                    doc.file,
                    *(doc.locate(top) or (None, None)),
                )
                raise SpecError(dataclasses.replace(d, related=(note, *d.related)))
        raise error


def letter(k: int) -> str:
    """0 -> `a`, 25 -> `z`, 26 -> `aa`, 27 -> `ab`, ... (as spreadsheet columns)."""
    out = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def fill(template: str, name: str, copy: int) -> str:
    """A `repeat_names` template filled in for copy `copy` (from 0) of the block `name`."""
    return (template.replace("{name}", name).replace("{k}", str(copy + 1))
            .replace("{i}", str(copy)).replace("{letter}", letter(copy)))  # fmt: skip


def check_letters(doc: Document, block: Block, path: KeyPath) -> Diagnostic | None:
    """`repeat_names: letters` (or a template) needs a `name` to fill in."""
    if block.repeat_names == "number" or block.name is not None:
        return None
    if block.repeat_names == "letters":
        what = "`letters` needs the block's `name` (the copies are `<name>a`, `<name>b`, ...)"
    else:
        what = f"`{block.repeat_names}` needs the block's `name` to fill in `{{name}}`"
    return doc.diag("E203", f"{format_path((*path, 'repeat_names'))}: {what}",
                    (*path, "repeat_names"), hint="add `name: ...`")  # fmt: skip
