"""Concat and the `concat` layer type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import MultiInput, register
from archspec.core.errors import ShapeError
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, agree, message, mismatch


@dataclass(frozen=True)
class Concat(Op):
    multi_input: ClassVar[bool] = True
    axis: int = -1

    def infer(self, shapes: list[Shape]) -> Shape:
        rank = len(shapes[0])
        axis = self.axis + rank if self.axis < 0 else self.axis - 1  # spec axes count the batch
        if any(len(s) != rank for s in shapes):
            raise mismatch("concat needs inputs of one rank", shapes)
        if not 0 <= axis < rank:
            batch = "the batch axis, which concat does not join" if self.axis == 0 else \
                "out of range"  # fmt: skip
            raise ShapeError(
                f"concat axis {self.axis} of inputs {', '.join(message(s) for s in shapes)} "
                f"is {batch}",
                key="axis",
                hint=f"the axes are 1 to {rank}, or -{rank} to -1 (the channels are -1)"
                if rank > 1
                else "the only axis is 1, or -1",
            )
        agree(shapes, "concat needs inputs that are equal but for the concatenation axis", axis)
        sizes = [s[axis] for s in shapes]
        total = None if None in sizes else sum(d for d in sizes if d is not None)
        # Keras: the other dimensions are the first input's
        return (*shapes[0][:axis], total, *shapes[0][axis + 1 :])

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Concatenate(axis=self.axis, name=name)

    def label(self) -> str:
        return "concat"


@register
class ConcatBlock(MultiInput):
    """Concatenation of two or more inputs along `axis` (default: channels)."""

    #: `a` and `b` are two parallel convs the tests put before a merge block's example
    example: ClassVar[str] = "{type: concat, inputs: [a, b]}"
    aliases: ClassVar[tuple[str, ...]] = ("Concatenate",)
    type: Literal["concat"] = "concat"
    axis: int = Field(default=-1, description="Axis, counting the batch as 0; -1 is channels.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", Concat(axis=self.axis), *inputs)
