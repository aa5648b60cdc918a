"""What resolution gives: the flat list of built-in blocks (`Item`), with the outputs' names,
the evaluated params and the warnings (`Resolved`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archspec.blocks import Block
from archspec.core.errors import Diagnostic, KeyPath, Related
from archspec.core.units import Shape
from archspec.frontend.loader import Document
from archspec.frontend.schema import SpecModel

if TYPE_CHECKING:
    from archspec.frontend.resolve.origins import Seen


#: one copy of a repeated block or use: where it stands, the copy's index and how many there are
Copy = tuple[KeyPath, int, int]


@dataclass(frozen=True)
class Item:
    """One built-in block of the expanded spec: validated, named, with explicit inputs."""

    block: Block
    #: where the block stands in the file (inside a definition: in `define`)
    path: KeyPath
    #: the user-defined block instances (and included specs) it came from, outermost first
    #: (final name, type each), and where the outermost is used
    groups: tuple[tuple[str, str], ...] = ()
    use: KeyPath | None = None
    #: the spec it stands in if it was included (`type: spec`; None: the resolved one), and
    #: the notes at the blocks that include it, innermost first
    doc: Document | None = None
    notes: tuple[Related, ...] = ()
    #: what its `${...}` saw (origins.seen), for the notes of an error lowering finds in it
    seen: Seen | None = field(default=None, compare=False, repr=False)
    #: where each of `groups` is used (W301 for an unread instance), and the inputs as the
    #: block writes them (`[s, c]`, where `block.inputs` has the final `[s_b, c_2]`)
    at: tuple[KeyPath, ...] = field(default=(), compare=False, repr=False)
    written: tuple[str, ...] = field(default=(), compare=False, repr=False)
    #: which copy it is of each repeat it is in, outermost first, where there are several
    #: (where the repeated block or use stands, the index, how many): the notes of an error
    #: lowering finds in it
    copies: tuple[Copy, ...] = field(default=(), compare=False, repr=False)

    @property
    def group(self) -> tuple[str, str] | None:
        """The outermost instance it came from, if any."""
        return self.groups[0] if self.groups else None


@dataclass
class Resolved:
    doc: Document
    model: SpecModel
    items: list[Item]
    #: final names of the output blocks
    outputs: list[str]
    #: the params after --set and evaluation
    params: dict[str, Any] = field(default_factory=dict)
    #: findings that do not stop the build (W302: a key that changes nothing)
    warnings: list[Diagnostic] = field(default_factory=list)
    #: the top-level `spec` blocks, by the name of their group (BlockInfo.groups)
    includes: dict[str, Included] = field(default_factory=dict)
    #: the `--set` items that count (a name's last), for the note of an error lowering finds
    sets: tuple[str, ...] = ()
    #: the blocks (final names) that a top-level `spec` block's `trainable: false` froze, whose
    #: own `trainable` was true: the `spec` block's key says it for them
    frozen: set[str] = field(default_factory=set)
    #: the `spec` blocks, here or in the specs included, whose `any_size` gave the spec they
    #: include another height or width, outer ones first (W308)
    resized: list[Resized] = field(default_factory=list)


@dataclass
class Included:
    """A top-level `spec` block: its key, and the outputs it lists, final block name -> the
    `outputs[k]` key and the name later blocks read it by (`backbone.conv4_block6`); its own
    keys that are not their defaults (`{"path": "resnet50", "set": {"depth": 101}}`, without a
    `set` value that is the included spec's own: what `diff` compares)."""

    path: KeyPath
    taps: dict[str, tuple[KeyPath, str]]
    keys: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resized:
    """A `spec` block whose `any_size` gave the spec it includes another height or width: the
    spec it stands in (this one, or one included), where, the groups its blocks' `groups`
    begin with, and the included spec's own input shape."""

    doc: Document
    path: KeyPath
    groups: tuple[tuple[str, str], ...]
    own: Shape
