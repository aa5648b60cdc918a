"""SeparableConv2D and the `separable_conv` layer type (with optional batch norm): a depthwise
conv (`depth_multiplier` filters per input channel) then a 1x1 pointwise conv, in one layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import (
    ActivationName,
    Block,
    BnEpsilon,
    BnMomentum,
    Padding,
    PositiveInt,
    Size,
    pair,
    register,
)
from archspec.blocks.layers.conv import conv_bn_act
from archspec.core.limits import Limits
from archspec.core.units import Shape, product
from archspec.ir.graph import Builder
from archspec.ir.op import (
    Cost,
    Op,
    Pair,
    check_width,
    check_window,
    conv_window,
    image,
    known,
    window_text,
)


@dataclass(frozen=True)
class SeparableConv2D(Op):
    filters: int
    kernel: Pair
    strides: Pair = (1, 1)
    padding: Literal["same", "valid"] = "same"
    depth_multiplier: int = 1
    dilation: Pair = (1, 1)
    activation: str = "linear"
    use_bias: bool = True

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, _ = image(shapes[0], "a separable convolution")
        return (
            *conv_window(h, w, self.kernel, self.strides, self.dilation, self.padding),
            self.filters,
        )

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (channels,) = known(shapes[0][-1:], "a separable convolution")
        middle = channels * self.depth_multiplier  # the depthwise part's output channels
        depthwise = self.kernel[0] * self.kernel[1] * middle
        pointwise = middle * self.filters
        return Cost(
            trainable=depthwise + pointwise + (self.filters if self.use_bias else 0),
            macs=product(out[0], out[1], depthwise + pointwise),
        )

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.SeparableConv2D(
            self.filters,
            self.kernel,
            strides=self.strides,
            padding=self.padding,
            depth_multiplier=self.depth_multiplier,
            dilation_rate=self.dilation,
            activation=self.activation,
            use_bias=self.use_bias,
            name=name,
        )

    def label(self) -> str:
        k, s = window_text(self.kernel, self.strides)
        m = "" if self.depth_multiplier == 1 else f" x{self.depth_multiplier}"
        d = (
            ""
            if self.dilation == (1, 1)
            else f" dil {self.dilation[0]}"
            + ("" if self.dilation[0] == self.dilation[1] else f"x{self.dilation[1]}")
        )
        act = "" if self.activation == "linear" else f" {self.activation}"
        return f"{k}{s}{m}{d}, {self.filters}{act}"

    def describe(self) -> str:
        return f"separable conv {self.label()}"

    def check_limits(self, limits: Limits) -> None:
        check_width("filters", self.filters, limits)
        check_window("kernel", self.kernel, limits)


@register
class SeparableConv(Block):
    """A depthwise separable 2-D convolution (SeparableConv2D): a depthwise conv then a 1x1
    pointwise conv; with `batch_norm`, then BatchNormalization then the activation, named
    `<name>_conv`, `<name>_bn`, `<name>_<activation>` as `conv` names them."""

    example: ClassVar[str] = (
        "{type: separable_conv, filters: 6, kernel: [3, 5], strides: 2, depth_multiplier: 2, "
        "batch_norm: true, bn_momentum: 0.9, activation: relu, use_bias: false}"
    )
    aliases: ClassVar[tuple[str, ...]] = ("SeparableConv2D", "separable", "sep_conv", "sepconv")
    type: Literal["separable_conv"] = "separable_conv"
    filters: PositiveInt = Field(description="Number of output channels (of the pointwise conv).")
    kernel: Size = Field(description="Depthwise kernel size: an int or [height, width].")
    strides: Size = Field(default=1, description="Strides: an int or [height, width].")
    padding: Padding = Field(default="same", description="`same` or `valid`.")
    depth_multiplier: PositiveInt = Field(
        default=1, description="Depthwise output channels per input channel."
    )
    dilation: Size = Field(default=1, description="Dilation rate: an int or [height, width].")
    activation: ActivationName = Field(default="linear", description="Keras activation name.")
    use_bias: bool = Field(default=True, description="Whether the layer has a bias.")
    batch_norm: bool = Field(default=False, description="Conv -> BN -> activation when true.")
    bn_epsilon: BnEpsilon = 1e-3
    bn_momentum: BnMomentum = 0.99

    def expand(self, b: Builder, inputs: list[str]) -> str:
        conv = SeparableConv2D(
            filters=self.filters,
            kernel=pair(self.kernel),
            strides=pair(self.strides),
            padding=self.padding,
            depth_multiplier=self.depth_multiplier,
            dilation=pair(self.dilation),
            activation=self.activation,
            use_bias=self.use_bias,
        )
        if not self.batch_norm:
            return b.add("", conv, inputs[0])
        roles = ("conv", "bn", self.activation)
        return conv_bn_act(b, inputs[0], roles, conv, True, self.bn_epsilon, self.bn_momentum)
