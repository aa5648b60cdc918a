"""Flatten and the `flatten` layer type."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from archspec.blocks.base import Block, register
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, known


@dataclass(frozen=True)
class Flatten(Op):
    def infer(self, shapes: list[Shape]) -> Shape:
        return (math.prod(known(shapes[0], "flatten")),)

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Flatten(name=name)

    def label(self) -> str:
        return "flatten"


@register
class FlattenBlock(Block):
    """Flatten to a vector."""

    example: ClassVar[str] = "{type: flatten}"
    aliases: ClassVar[tuple[str, ...]] = ("Flatten",)
    type: Literal["flatten"] = "flatten"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", Flatten(), inputs[0])
