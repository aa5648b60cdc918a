"""An example archspec plugin: a new op (SpatialDropout2D, with its own static inference and
Keras emission), the `spatial_dropout` layer type that exposes it, and a composite block,
`conv_dropout`, built from it and the built-in ops. Installing this package is all it takes:
archspec finds it through the `archspec.blocks` entry point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import ActivationName, Block, PositiveInt, Size, pair, register
from archspec.blocks.layers.conv import Conv2D, conv_bn_act
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, image

Rate = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


@dataclass(frozen=True)
class SpatialDropout2D(Op):
    """Dropout of whole feature maps (channels) while training; the identity at inference."""

    rate: float

    def infer(self, shapes: list[Shape]) -> Shape:
        # Keras's SpatialDropout2D takes (batch, height, width, channels) only
        return image(shapes[0], "spatial dropout")

    # no weights and no multiply-accumulates: the default `cost` (none) holds

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.SpatialDropout2D(self.rate, name=name)

    def label(self) -> str:
        return f"spatial dropout {self.rate:g}"


@register
class SpatialDropout(Block):
    """Spatial dropout (keras.layers.SpatialDropout2D): drops whole channels while training."""

    example: ClassVar[str] = "{type: spatial_dropout, rate: 0.2}"
    type: Literal["spatial_dropout"] = "spatial_dropout"
    rate: Rate = Field(description="Fraction of the channels to drop (0 <= rate < 1).")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", SpatialDropout2D(rate=self.rate), inputs[0])


@register
class ConvDropout(Block):
    """A regularized conv unit: conv (no bias) -> BN -> activation -> spatial dropout. Layers:
    `<name>_conv`, `<name>_bn`, `<name>_<activation>`, `<name>_drop`."""

    family = "dropout"
    example: ClassVar[str] = "{type: conv_dropout, filters: 16, strides: 2, rate: 0.1}"
    type: Literal["conv_dropout"] = "conv_dropout"
    filters: PositiveInt = Field(description="Output channels of the conv.")
    kernel: Size = Field(default=3, description="Kernel size: an int or [height, width].")
    strides: Size = Field(default=1, description="Strides: an int or [height, width].")
    activation: ActivationName = Field(default="relu", description="Keras activation name.")
    rate: Rate = Field(default=0.1, description="Spatial dropout rate (0 <= rate < 1).")
    bn_momentum: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        default=0.99, description="Momentum of BN's moving statistics."
    )

    def expand(self, b: Builder, inputs: list[str]) -> str:
        conv = Conv2D(filters=self.filters, kernel=pair(self.kernel), strides=pair(self.strides),
                      activation=self.activation, use_bias=False)  # fmt: skip
        roles = ("conv", "bn", self.activation)
        x = conv_bn_act(b, inputs[0], roles, conv, True, bn_momentum=self.bn_momentum)
        return b.add("drop", SpatialDropout2D(rate=self.rate), x)
