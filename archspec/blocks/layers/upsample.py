"""UpSample2D and the `upsample` layer type (Keras's UpSampling2D)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, Size, pair, register
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, Pair, image


@dataclass(frozen=True)
class UpSample2D(Op):
    """Repeats (nearest) or interpolates (bilinear) each pixel `size` times along the height
    and the width: (H, W, C) -> (H x size_h, W x size_w, C). No weights, no MACs."""

    size: Pair = (2, 2)
    interpolation: Literal["nearest", "bilinear"] = "nearest"

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, c = image(shapes[0], "upsampling")
        return (
            None if h is None else h * self.size[0],
            None if w is None else w * self.size[1],
            c,
        )

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.UpSampling2D(
            size=self.size, interpolation=self.interpolation, name=name
        )

    def label(self) -> str:
        h, w = self.size
        factor = f"x{h}" if h == w else f"x{h},{w}"  # height, width
        return f"{factor} {self.interpolation}"

    def describe(self) -> str:
        return f"upsample {self.label()}"


@register
class UpSample(Block):
    """UpSampling2D: each pixel repeated (nearest) or interpolated (bilinear) `size` times
    along the height and the width."""

    example: ClassVar[str] = "{type: upsample, size: [2, 3], interpolation: bilinear}"
    aliases: ClassVar[tuple[str, ...]] = ("UpSampling2D",)
    type: Literal["upsample"] = "upsample"
    size: Size = Field(default=2, description="Upsampling factor: an int or [height, width].")
    interpolation: Literal["nearest", "bilinear"] = Field(
        default="nearest", description="`nearest` (repeat pixels) or `bilinear`."
    )

    def expand(self, b: Builder, inputs: list[str]) -> str:
        op = UpSample2D(size=pair(self.size), interpolation=self.interpolation)
        return b.add("", op, inputs[0])
