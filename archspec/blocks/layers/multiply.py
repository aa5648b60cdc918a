"""Multiply and the `multiply` layer type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from archspec.blocks.base import MultiInput, register
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, mismatch


def broadcast(shapes: list[Shape], what: str) -> Shape:
    """The shape of an element-wise merge, by Keras's rules (Merge.compute_output_shape): shapes
    align at the last axis (a shorter one is padded in front), a dimension of 1 takes the other's
    size, an unknown dimension makes the result unknown, other sizes must be equal."""
    out = shapes[0]
    for shape in shapes[1:]:
        longer, shorter = (out, shape) if len(out) >= len(shape) else (shape, out)
        tail = longer[len(longer) - len(shorter) :]
        dims: list[int | None] = []
        for i, j in zip(tail, shorter, strict=True):
            if i is None or j is None:
                dims.append(None)
            elif i == 1 or j == 1:
                dims.append(j if i == 1 else i)
            elif i != j:
                raise mismatch(
                    what,
                    shapes,
                    "a gate of shape (1, 1, C) multiplies an (H, W, C) input channel-wise",
                )
            else:
                dims.append(i)
        out = (*longer[: len(longer) - len(shorter)], *dims)
    return out


@dataclass(frozen=True)
class Multiply(Op):
    multi_input: ClassVar[bool] = True

    def infer(self, shapes: list[Shape]) -> Shape:
        return broadcast(shapes, "multiply needs inputs of equal shapes, or 1 where they differ")

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Multiply(name=name)

    def label(self) -> str:
        return "multiply"


@register
class MultiplyBlock(MultiInput):
    """Element-wise product of two or more inputs: equal shapes, or 1 where they broadcast (a
    channel gate of shape (1, 1, C) on an (H, W, C) input)."""

    example: ClassVar[str] = "{type: multiply, inputs: [a, b]}"
    aliases: ClassVar[tuple[str, ...]] = ("Multiply",)
    type: Literal["multiply"] = "multiply"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", Multiply(), *inputs)
