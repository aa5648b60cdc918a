"""GlobalPool and the `global_avg_pool` and `global_max_pool` layer types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, register
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, image


@dataclass(frozen=True)
class GlobalPool(Op):
    kind: Literal["max", "avg"]
    keepdims: bool = False

    def infer(self, shapes: list[Shape]) -> Shape:
        channels = image(shapes[0], "global pooling")[2]
        return (1, 1, channels) if self.keepdims else (channels,)

    def emit(self, keras: Any, name: str) -> Any:
        if self.kind == "max":
            return keras.layers.GlobalMaxPooling2D(keepdims=self.keepdims, name=name)
        return keras.layers.GlobalAveragePooling2D(keepdims=self.keepdims, name=name)

    def label(self) -> str:
        return f"global {self.kind}" + (", keepdims" if self.keepdims else "")

    def describe(self) -> str:
        return f"global {self.kind} pool" + (", keepdims" if self.keepdims else "")


_KEEPDIMS = "Keep the height and width as 1: (H, W, C) -> (1, 1, C) instead of (C)."


@register
class GlobalAvgPool(Block):
    """GlobalAveragePooling2D: (H, W, C) -> (C), or (1, 1, C) with `keepdims`."""

    example: ClassVar[str] = "{type: global_avg_pool}"
    aliases: ClassVar[tuple[str, ...]] = (
        "GlobalAveragePooling2D",
        "gap",
        "global_pool",
        "global_average_pool",
    )  # PyTorch's AdaptiveAvgPool2d: frontend/foreign.py (its output size may be another)
    type: Literal["global_avg_pool"] = "global_avg_pool"
    keepdims: bool = Field(default=False, description=_KEEPDIMS)

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", GlobalPool(kind="avg", keepdims=self.keepdims), inputs[0])


@register
class GlobalMaxPool(Block):
    """GlobalMaxPooling2D: (H, W, C) -> (C), or (1, 1, C) with `keepdims`."""

    example: ClassVar[str] = "{type: global_max_pool, keepdims: true}"
    aliases: ClassVar[tuple[str, ...]] = ("GlobalMaxPooling2D",)
    type: Literal["global_max_pool"] = "global_max_pool"
    keepdims: bool = Field(default=False, description=_KEEPDIMS)

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", GlobalPool(kind="max", keepdims=self.keepdims), inputs[0])
