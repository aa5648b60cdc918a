"""The error policy of resolution, in one place: where a diagnostic points and which notes it
carries.

- An error inside a user-defined block points at the block in `define` and adds a note at the
  place the block is used (`with_use`).
- An error about a value that came from `defaults` points at `defaults`, with a note at the block
  that used the default (`at_default`).
- An error in one copy of a repeated block (the first only where the copies differ: their
  keys hold `${...}`) notes which copy, at `repeat` (`with_copy`); one that lowering finds (a
  shape error) notes it in any copy, and for each repeated use it is inside
  (origins.lowering_error, from `Item.copies`); so does an error inside any copy of a repeated
  use of a user-defined block (`in_copies`, `Scope.repeats`).
- An error inside an included spec (`type: spec`, include.py) points into that file, with a
  note at the including block (`placed`, include.noting).
- The errors collected from several blocks are reported in file order (`by_position`), and
  those that one `--set` value causes in several keys are one error (`one_per_set`).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable

from archspec.core.errors import (
    ArchspecError,
    Diagnostic,
    KeyPath,
    Related,
    SpecError,
    format_path,
)
from archspec.frontend.loader import Document


def with_use(doc: Document, d: Diagnostic, use: KeyPath | None) -> Diagnostic:
    """Add a note pointing at the use site of the user-defined block `d` happened in."""
    if use is None:
        return d
    pos = doc.locate(use)
    note = Related(f"in the block used at {format_path(use)}", doc.file, *(pos or (None, None)))
    return dataclasses.replace(d, related=(*d.related, note))


def placed(doc: Document, d: Diagnostic, use: KeyPath | None, notes: tuple[Related, ...] = ()
           ) -> Diagnostic:  # fmt: skip
    """`d`, about a block of `doc` (the spec it stands in: an included one for the blocks of a
    `spec` block), with the note at its user-defined block's use site and the `notes` at the
    `spec` blocks that include it."""
    d = with_use(doc, d, use)
    return dataclasses.replace(d, related=(*d.related, *notes)) if notes else d


@dataclasses.dataclass(frozen=True)
class CopyNote(Related):
    """The note saying which copy of a repeated block or use an error happened in."""


def with_copy(doc: Document, d: Diagnostic, path: KeyPath, copy: tuple[int, int] | None
              ) -> Diagnostic:  # fmt: skip
    """Add a note saying in which copy (index, of how many) of the block at `path` `d` happened,
    before the notes of the repeats within that copy (so the outermost comes first: add the
    innermost first)."""
    if copy is None:
        return d
    pos = doc.locate((*path, "repeat"))
    note = CopyNote(f"with `copy` = {copy[0]} (copy {copy[0] + 1} of {copy[1]} of "
                    f"{format_path(path)})", doc.file, *(pos or (None, None)))  # fmt: skip
    k = next((k for k, r in enumerate(d.related) if isinstance(r, CopyNote)), len(d.related))
    return dataclasses.replace(d, related=(*d.related[:k], note, *d.related[k:]))


def in_copies(doc: Document, d: Diagnostic, repeats: tuple[tuple[KeyPath, int, int], ...]
              ) -> Diagnostic:  # fmt: skip
    """`d` with a note for each copy of a repeated use it happened in (where the use stands, the
    copy's index, how many; outermost first: Scope.repeats)."""
    for path, k, n in reversed(repeats):
        d = with_copy(doc, d, path, (k, n))
    return d


def with_warnings(e: ArchspecError, warnings: list[Diagnostic]) -> ArchspecError:
    """`e` with the warnings found before it, after its errors (so that an invalid spec's
    report keeps them, and its first diagnostic is still an error)."""
    return type(e)([*e.diagnostics, *warnings]) if warnings else e


def fail(doc: Document, code: str, message: str, path: KeyPath, hint: str | None = None,
         use: KeyPath | None = None, key: bool = False) -> SpecError:  # fmt: skip
    """The error to raise about the node at `path` (its key if `key`), with its use-site note."""
    return SpecError(with_use(doc, doc.diag(code, message, path, hint, key), use))


def defined_here(doc: Document, kind: str) -> Related:
    """A note at the definition of the user-defined block `kind`."""
    pos = doc.locate(("define", kind), key=True)
    return Related(f"`{kind}` is defined here", doc.file, *(pos or (None, None)))


def default_at(doc: Document, kind: str, key: str) -> KeyPath:
    """Where a key that a block of type `kind` took from `defaults` is written: its type's
    `defaults.<kind>.<key>`, else (a `bn_*` key, defaults.py's `_inherited`) under
    `defaults.batch_norm`."""
    own: KeyPath = ("defaults", kind, key)
    if own in doc.positions or not key.startswith("bn_"):
        return own
    return ("defaults", "batch_norm", key.removeprefix("bn_"))


def at_default(
    doc: Document, d: Diagnostic, path: KeyPath, kind: str, defaulted: set[str]
) -> Diagnostic:
    """A diagnostic about a value that came from `defaults` (of block type `kind`) points
    there, noting the block."""
    key = d.path[len(path)] if len(d.path) > len(path) else None
    if key is None:  # about the block as a whole: note the defaults its message names
        named = [k for k in sorted(defaulted) if f"`{k}`" in d.message]
        return dataclasses.replace(d, related=(*d.related, *(
            Related(f"`{k}` comes from `{format_path(default_at(doc, kind, k)[:2])}` (`{k}: "
                    "null` in the block drops it)", doc.file,
                    *(doc.locate(default_at(doc, kind, k)) or (None, None)))
            for k in named)))  # fmt: skip
    if key not in defaulted or not isinstance(key, str):
        return d
    where: KeyPath = (*default_at(doc, kind, key), *d.path[len(path) + 1 :])
    pos = doc.locate(where)
    used = doc.locate(path)
    note = Related(f"the default is used by {format_path(path)}", doc.file,
                   *(used or (None, None)))  # fmt: skip
    return dataclasses.replace(
        d, path=where, line=pos[0] if pos else None, col=pos[1] if pos else None,
        message=d.message.replace(format_path(d.path), format_path(where), 1),
        related=(*d.related, note),
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class SetNote(Related):
    """The note that a value an error is about came from the command line (origins.py)."""


#: the keys `one_per_set` names in its note, at most
FOLDED_NAMED = 8


def by_position(diags: Iterable[Diagnostic], file: str | None = None) -> SpecError:
    """One error with all the diagnostics collected, in the order of `file` (the spec being
    resolved): an error in another file (an included spec) goes where its note in `file` is (the
    including block). Then `one_per_set`."""

    def key(d: Diagnostic) -> tuple[int, int, int, int]:
        here = d.line or 0, d.col or 0
        if file is None or d.file in (file, None):
            return (*here, 0, 0)
        at = next((r for r in d.related if r.file == file and r.line is not None), None)
        return (at.line or 0, at.col or 0, *here) if at else (*here, 0, 0)

    return SpecError(one_per_set(sorted(diags, key=key)))


def one_per_set(diags: list[Diagnostic]) -> list[Diagnostic]:
    """Errors of one file that say the same of the same `--set` value, with the same notes
    otherwise, are one mistake in the keys that read it (`--set depth=19` where each table of a
    family lacks 19): the first, with a note that names the other keys."""
    first: dict[tuple[object, ...], int] = {}
    more: dict[int, list[Diagnostic]] = {}
    out: list[Diagnostic] = []
    for d in diags:
        if any(isinstance(r, SetNote) for r in d.related):
            others = tuple(r for r in d.related if not isinstance(r, SetNote))
            sets = tuple(r for r in d.related if isinstance(r, SetNote))
            key = (d.code, d.file, _cause(d), d.hint, sets, others)
            if key in first:
                more[first[key]].append(d)
                continue
            first[key], more[len(out)] = len(out), []
        out.append(d)
    for k, rest in more.items():
        if rest:
            names = [format_path(d.path) or "top level" for d in rest[:FOLDED_NAMED]]
            if len(rest) > FOLDED_NAMED:
                names.append(f"and {len(rest) - FOLDED_NAMED} more")
            keys = "key" if len(rest) == 1 else "keys"
            file = out[k].file
            where = f" of {os.path.basename(file)}" if file else ""
            note = Related(f"the same error at {len(rest)} more {keys}{where}: " + ", ".join(names))
            out[k] = dataclasses.replace(out[k], related=(*out[k].related, note))
    return out


def _cause(d: Diagnostic) -> str:
    """What `d` says, without the key path it begins with or the expression it quotes
    (`blocks[1].use_bias: in `${bias[depth]}`: key 19 ...` -> `key 19 ...`)."""
    text = d.message.removeprefix(format_path(d.path) + ": ")
    quoted = re.match(r"in `[^`]*`: ", text)
    return text[quoted.end() :] if quoted else text
