"""LayerNorm and the `layer_norm` layer type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, register
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Cost, Op, known

#: a normalization's epsilon, added to the variance
Epsilon = Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]


@dataclass(frozen=True)
class LayerNorm(Op):
    """Normalizes each position over its channels (the last axis), then a learned scale and
    offset per channel."""

    epsilon: float = 1e-3

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (c,) = known(shapes[0][-1:], "layer norm")
        return Cost(trainable=2 * c)  # gamma and beta

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.LayerNormalization(axis=-1, epsilon=self.epsilon, name=name)

    def label(self) -> str:
        return "layer norm"


@register
class LayerNormBlock(Block):
    """LayerNormalization on the last axis (channels): each position is normalized over its
    channels, then scaled and offset per channel (2 x channels params)."""

    example: ClassVar[str] = "{type: layer_norm, epsilon: 1.0e-6}"
    aliases: ClassVar[tuple[str, ...]] = ("LayerNormalization",)
    type: Literal["layer_norm"] = "layer_norm"
    epsilon: Epsilon = Field(default=1e-3, description="Added to the variance (> 0, < 1).")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", LayerNorm(epsilon=self.epsilon), inputs[0])
