"""An example archspec plugin: a new op (DepthwiseConv2D, with its own static inference and
Keras emission) and two block types built on it. Installing this package is all it takes:
archspec finds it through the `archspec.blocks` entry point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from archspec.blocks.base import Block, Padding, PositiveInt, pair, register
from archspec.blocks.layers import conv_bn_act
from archspec.ir import ops
from archspec.ir.graph import Builder


@dataclass(frozen=True)
class DepthwiseConv2D(ops.Op):
    """One k x k filter per input channel (times depth_multiplier)."""

    kernel: ops.Pair
    strides: ops.Pair = (1, 1)
    padding: Literal["same", "valid"] = "same"
    depth_multiplier: int = 1
    use_bias: bool = True

    def infer(self, shapes: list[ops.Shape]) -> ops.Shape:
        # reuse a Conv2D's window arithmetic: same kernel, strides and padding
        probe = ops.Conv2D(
            filters=1, kernel=self.kernel, strides=self.strides, padding=self.padding
        )
        h, w, _ = probe.infer(shapes)
        (channels,) = ops.known(shapes[0][-1:], "a depthwise convolution")
        return (h, w, channels * self.depth_multiplier)

    def cost(self, shapes: list[ops.Shape], out: ops.Shape) -> ops.Cost:
        (channels,) = ops.known(out[-1:], "a depthwise convolution")
        weights = self.kernel[0] * self.kernel[1] * channels
        # ops.product: None (unknown MACs) where the height or width is unknown (`null` input)
        return ops.Cost(
            trainable=weights + (channels if self.use_bias else 0),
            macs=ops.product(out[0], out[1], weights),
        )

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.DepthwiseConv2D(
            self.kernel, strides=self.strides, padding=self.padding,
            depth_multiplier=self.depth_multiplier, use_bias=self.use_bias, name=name,
        )  # fmt: skip

    def label(self) -> str:
        return f"dw {self.kernel[0]}x{self.kernel[1]}/{self.strides[0]}"


@register
class DepthwiseConv(Block):
    """A depthwise 2-D convolution (keras.layers.DepthwiseConv2D)."""

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
    type: Literal["mobilenet"] = "mobilenet"
    filters: PositiveInt = Field(description="Output channels of the pointwise conv.")
    strides: PositiveInt = Field(default=1, description="Stride of the depthwise conv.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        s = pair(self.strides)
        x = b.add("dw", DepthwiseConv2D(kernel=(3, 3), strides=s, use_bias=False), inputs[0])
        x = b.add("dw_bn", ops.BatchNorm(), x)
        x = b.add("dw_relu", ops.Activation("relu"), x)
        pw = ops.Conv2D(filters=self.filters, kernel=(1, 1), activation="relu", use_bias=False)
        return conv_bn_act(b, x, ("pw", "pw_bn", "pw_relu"), pw, True)
