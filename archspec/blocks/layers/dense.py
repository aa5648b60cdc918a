"""Dense and the `dense` layer type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import ActivationName, Block, PositiveInt, register
from archspec.core.limits import Limits
from archspec.core.units import Shape, product
from archspec.ir.graph import Builder
from archspec.ir.op import Cost, Op, check_width, known


@dataclass(frozen=True)
class Dense(Op):
    units: int
    activation: str = "linear"
    use_bias: bool = True

    def infer(self, shapes: list[Shape]) -> Shape:
        known(shapes[0][-1:], "dense")
        return (*shapes[0][:-1], self.units)

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (features,) = known(shapes[0][-1:], "dense")
        weights = features * self.units
        return Cost(
            trainable=weights + (self.units if self.use_bias else 0),
            macs=product(*shapes[0][:-1], weights),
        )

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Dense(
            self.units, activation=self.activation, use_bias=self.use_bias, name=name
        )

    def label(self) -> str:
        act = "" if self.activation == "linear" else f" {self.activation}"
        return f"{self.units}{act}"

    def describe(self) -> str:
        return f"dense {self.label()}"

    def check_limits(self, limits: Limits) -> None:
        check_width("units", self.units, limits)


@register
class DenseBlock(Block):
    """A fully connected layer on the last axis."""

    example: ClassVar[str] = "{type: dense, units: 7, activation: softmax}"
    aliases: ClassVar[tuple[str, ...]] = ("Dense", "linear", "fc", "fully_connected")
    type: Literal["dense"] = "dense"
    units: PositiveInt = Field(description="Number of output units.")
    activation: ActivationName = Field(default="linear", description="Keras activation name.")
    use_bias: bool = Field(default=True, description="Whether the layer has a bias.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        op = Dense(units=self.units, activation=self.activation, use_bias=self.use_bias)
        return b.add("", op, inputs[0])
