"""Add and the `add` layer type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from archspec.blocks.base import MultiInput, register
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, agree, mismatch


@dataclass(frozen=True)
class Add(Op):
    multi_input: ClassVar[bool] = True

    def infer(self, shapes: list[Shape]) -> Shape:
        what = "add needs inputs of equal shapes"
        if len({len(s) for s in shapes}) != 1:
            raise mismatch(what, shapes)
        agree(shapes, what)
        # Keras: a dimension unknown in any input is unknown in the sum
        return tuple(None if None in dims else dims[0] for dims in zip(*shapes, strict=True))

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Add(name=name)

    def label(self) -> str:
        return "add"


@register
class AddBlock(MultiInput):
    """Element-wise sum of two or more inputs of equal shape."""

    #: `a` and `b` are two parallel convs the tests put before a merge block's example
    example: ClassVar[str] = "{type: add, inputs: [a, b]}"
    aliases: ClassVar[tuple[str, ...]] = ("Add",)
    type: Literal["add"] = "add"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", Add(), *inputs)
