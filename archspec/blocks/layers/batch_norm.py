"""BatchNorm and the `batch_norm` layer type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, BnEpsilon, register
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Cost, Op, known


@dataclass(frozen=True)
class BatchNorm(Op):
    epsilon: float = 1e-3
    momentum: float = 0.99
    #: whether the layer learns gamma (scale) and beta (center)
    scale: bool = True
    center: bool = True

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (c,) = known(shapes[0][-1:], "batch norm")
        # gamma and beta (each where learned); the moving mean and variance always
        return Cost(trainable=(int(self.scale) + int(self.center)) * c, non_trainable=2 * c)

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.BatchNormalization(
            epsilon=self.epsilon,
            momentum=self.momentum,
            scale=self.scale,
            center=self.center,
            name=name,
        )

    def label(self) -> str:
        return (
            "batch norm"
            + ("" if self.scale else ", no scale")
            + ("" if self.center else ", no center")
        )


@register
class BatchNormBlock(Block):
    """BatchNormalization (Keras counts its moving mean and variance as non-trainable params)."""

    example: ClassVar[str] = "{type: batch_norm, epsilon: 1.001e-5, center: false}"
    aliases: ClassVar[tuple[str, ...]] = ("BatchNormalization", "bn", "batchnorm2d")
    type: Literal["batch_norm"] = "batch_norm"
    epsilon: BnEpsilon = 1e-3
    momentum: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        default=0.99, description="Momentum of the moving statistics."
    )
    scale: bool = Field(default=True, description="Whether the layer learns a scale (gamma).")
    center: bool = Field(default=True, description="Whether the layer learns an offset (beta).")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        bn = BatchNorm(
            epsilon=self.epsilon, momentum=self.momentum, scale=self.scale, center=self.center
        )
        return b.add("", bn, inputs[0])
