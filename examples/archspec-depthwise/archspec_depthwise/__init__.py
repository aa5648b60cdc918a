"""An example archspec plugin: a new op (DepthwiseConv2D, with its own static inference and
Keras emission) and two block types built on it. Installing this package is all it takes:
archspec finds it through the `archspec.blocks` entry point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, Padding, PositiveInt, pair, register
from archspec.blocks.layers.activation import Activation
from archspec.blocks.layers.batch_norm import BatchNorm
from archspec.blocks.layers.conv import Conv2D, conv_bn_act
from archspec.core.limits import Limits
from archspec.core.units import Shape, product
from archspec.ir.graph import Builder
from archspec.ir.op import Cost, Op, Pair, check_window, known


@dataclass(frozen=True)
class DepthwiseConv2D(Op):
    """One k x k filter per input channel (times depth_multiplier)."""

    kernel: Pair
    strides: Pair = (1, 1)
    padding: Literal["same", "valid"] = "same"
    depth_multiplier: int = 1
    use_bias: bool = True

    def infer(self, shapes: list[Shape]) -> Shape:
        # reuse a Conv2D's window arithmetic: same kernel, strides and padding
        probe = Conv2D(filters=1, kernel=self.kernel, strides=self.strides, padding=self.padding)
        h, w, _ = probe.infer(shapes)
        (channels,) = known(shapes[0][-1:], "a depthwise convolution")
        return (h, w, channels * self.depth_multiplier)

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (channels,) = known(out[-1:], "a depthwise convolution")
        weights = self.kernel[0] * self.kernel[1] * channels
        # product: None (unknown MACs) where the height or width is unknown (`null` input)
        return Cost(
            trainable=weights + (channels if self.use_bias else 0),
            macs=product(out[0], out[1], weights),
        )

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.DepthwiseConv2D(
            self.kernel, strides=self.strides, padding=self.padding,
            depth_multiplier=self.depth_multiplier, use_bias=self.use_bias, name=name,
        )  # fmt: skip

    def label(self) -> str:
        return f"dw {self.kernel[0]}x{self.kernel[1]}/{self.strides[0]}"

    def check_limits(self, limits: Limits) -> None:
        check_window("kernel", self.kernel, limits)


@register
class DepthwiseConv(Block):
    """A depthwise 2-D convolution (keras.layers.DepthwiseConv2D)."""

    example: ClassVar[str] = "{type: depthwise_conv, kernel: 3, depth_multiplier: 2}"
    type: Literal["depthwise_conv"] = "depthwise_conv"
    kernel: PositiveInt = Field(default=3, description="Kernel size.")
    strides: PositiveInt = Field(default=1, description="Strides.")
    padding: Padding = Field(default="same", description="`same` or `valid`.")
    depth_multiplier: PositiveInt = Field(default=1, description="Outputs per input channel.")
    use_bias: bool = Field(default=True, description="Whether the layer has a bias.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        op = DepthwiseConv2D(kernel=pair(self.kernel), strides=pair(self.strides),
                             padding=self.padding, depth_multiplier=self.depth_multiplier,
                             use_bias=self.use_bias)  # fmt: skip
        return b.add("", op, inputs[0])


@register
class MobileNetBlock(Block):
    """MobileNet v1's depthwise separable block: dw 3x3 BN relu, then 1x1 conv BN relu."""

    family = "mobilenet"
    example: ClassVar[str] = "{type: mobilenet, filters: 16, strides: 2}"
    type: Literal["mobilenet"] = "mobilenet"
    filters: PositiveInt = Field(description="Output channels of the pointwise conv.")
    strides: PositiveInt = Field(default=1, description="Stride of the depthwise conv.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        s = pair(self.strides)
        x = b.add("dw", DepthwiseConv2D(kernel=(3, 3), strides=s, use_bias=False), inputs[0])
        x = b.add("dw_bn", BatchNorm(), x)
        x = b.add("dw_relu", Activation("relu"), x)
        pw = Conv2D(filters=self.filters, kernel=(1, 1), activation="relu", use_bias=False)
        return conv_bn_act(b, x, ("pw", "pw_bn", "pw_relu"), pw, True)
