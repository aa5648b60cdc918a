"""`in_shape` and `in_channels`: the shape of a block's first input, in its `${...}`.

In a block's own keys (not `type`, `name`, `inputs`, `repeat`, `repeat_names`, which decide the
graph) `in_shape` is the shape of the block's first input as a list without the batch (`null`
where a size is unknown) and `in_channels` its last entry. Inside a definition (its inner
blocks' keys, its params' defaults) they are the instance's first input; at the use of a
user-defined block (its params) that same input. A value from `defaults` is read as if written
in the block.

The walk binds them lazily (`SHAPE` in the names an expression sees is a function giving the
shape): the substitution before the walk leaves the `${...}` that read them as they are, and the
walk substitutes them once it knows the block's inputs. Only then is the shape asked for, and
`Shapes` lowers the blocks expanded so far to give it (frontend/lowering.py, with lower's errors
and limits), so a spec that does not read shapes is never lowered here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from archspec.core.units import Shape
from archspec.frontend.loader import Document
from archspec.frontend.lowering import Lowering
from archspec.frontend.resolve.origins import lowering_error
from archspec.frontend.resolve.result import Item
from archspec.frontend.schema import SpecModel

IN_SHAPE = "in_shape"
IN_CHANNELS = "in_channels"
NAMES = frozenset((IN_SHAPE, IN_CHANNELS))
#: where the names `${...}` sees hold the function giving the input's shape (not a name an
#: expression can spell)
SHAPE = "<in_shape>"

ShapeOf = Callable[[], Shape]


def bindings(shape: Shape) -> dict[str, Any]:
    """`in_shape` and `in_channels` for an input of shape `shape`."""
    return {IN_SHAPE: list(shape), IN_CHANNELS: shape[-1] if shape else None}


class Shapes:
    """The shapes of the blocks expanded so far (`items`, which grows), lowered on demand."""

    def __init__(self, doc: Document, model: SpecModel, items: Sequence[Item]) -> None:
        self.doc = doc
        self.model = model
        self.items = items
        self.lowering: Lowering | None = None
        #: how many of `items` are lowered
        self.done = 0

    def of(self, name: str) -> ShapeOf:
        """The function giving the output shape of the block (or input) with final name
        `name`, once the blocks before it are expanded."""
        return lambda: self.shape(name)

    def shape(self, name: str) -> Shape:
        if self.lowering is None:
            m = self.model
            self.lowering = Lowering(self.doc, m.name, m.input_shapes, m.inputs is not None,
                                     self.doc.limits)  # fmt: skip
        for item in self.items[self.done :]:
            problem = self.lowering.add(item.block, item.path, item.groups, item.doc, item.written)
            if problem is not None:
                raise lowering_error(self.doc, problem, item)
            self.done += 1
        return self.lowering.shape(name)
