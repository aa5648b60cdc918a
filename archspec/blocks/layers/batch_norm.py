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

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (c,) = known(shapes[0][-1:], "batch norm")
        return Cost(trainable=2 * c, non_trainable=2 * c)

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.BatchNormalization(
            epsilon=self.epsilon, momentum=self.momentum, name=name
        )

    def label(self) -> str:
        return "batch norm"


@register
class BatchNormBlock(Block):
    """BatchNormalization (Keras counts its moving mean and variance as non-trainable params)."""

    example: ClassVar[str] = "{type: batch_norm, epsilon: 1.001e-5}"
    type: Literal["batch_norm"] = "batch_norm"
    epsilon: BnEpsilon = 1e-3
    momentum: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        default=0.99, description="Momentum of the moving statistics."
    )

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", BatchNorm(epsilon=self.epsilon, momentum=self.momentum), inputs[0])
