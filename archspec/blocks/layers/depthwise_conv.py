"""DepthwiseConv2D, the `depthwise_conv` layer type (with optional batch norm), and
`depthwise_bn_act`, which the mobile family uses for its depthwise -> BN -> activation units."""

from __future__ import annotations

from dataclasses import dataclass, replace
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
from archspec.blocks.layers.activation import Activation
from archspec.blocks.layers.batch_norm import BatchNorm
from archspec.core.limits import Limits
from archspec.core.units import Shape, product
from archspec.ir.graph import Builder
from archspec.ir.op import (
    Cost,
    Op,
    Pair,
    check_window,
    conv_window,
    image,
    known,
    window_text,
)


@dataclass(frozen=True)
class DepthwiseConv2D(Op):
    """One k x k filter per input channel (`depth_multiplier` of them): C -> C x multiplier."""

    kernel: Pair
    strides: Pair = (1, 1)
    padding: Literal["same", "valid"] = "same"
    depth_multiplier: int = 1
    dilation: Pair = (1, 1)
    activation: str = "linear"
    use_bias: bool = True

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, c = image(shapes[0], "a depthwise convolution")
        return (
            *conv_window(h, w, self.kernel, self.strides, self.dilation, self.padding),
            None if c is None else c * self.depth_multiplier,
        )

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (channels,) = known(out[-1:], "a depthwise convolution")
        weights = self.kernel[0] * self.kernel[1] * channels
        return Cost(
            trainable=weights + (channels if self.use_bias else 0),
            macs=product(out[0], out[1], weights),
        )

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.DepthwiseConv2D(
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
        m = "" if self.depth_multiplier == 1 else f", x{self.depth_multiplier}"
        d = "" if self.dilation == (1, 1) else f" dil {self.dilation[0]}"
        act = "" if self.activation == "linear" else f" {self.activation}"
        return f"{k}{s}{m}{d}{act}"

    def describe(self) -> str:
        return f"depthwise {self.label()}"

    def check_limits(self, limits: Limits) -> None:
        check_window("kernel", self.kernel, limits)


def depthwise_bn_act(
    b: Builder,
    x: str,
    roles: tuple[str, str, str],
    conv: DepthwiseConv2D,
    bn_epsilon: float = 1e-3,
    bn_momentum: float = 0.99,
) -> str:
    """Depthwise conv (its activation removed) -> BN -> the activation, if not linear.

    `roles` names the three layers, e.g. ("dwconv", "bn", "activation")."""
    x = b.add(roles[0], replace(conv, activation="linear"), x)
    x = b.add(roles[1], BatchNorm(epsilon=bn_epsilon, momentum=bn_momentum), x)
    return x if conv.activation == "linear" else b.add(roles[2], Activation(conv.activation), x)


@register
class DepthwiseConv(Block):
    """A depthwise 2-D convolution (DepthwiseConv2D): each input channel is convolved with its
    own `depth_multiplier` filters; channels -> channels x depth_multiplier. With `batch_norm`,
    depthwise (no activation) -> BatchNormalization -> the activation, named `<name>_conv`,
    `<name>_bn`, `<name>_<activation>` as `conv` names them."""

    example: ClassVar[str] = (
        "{type: depthwise_conv, kernel: [3, 5], strides: 2, depth_multiplier: 2, "
        "batch_norm: true, activation: relu6, use_bias: false}"
    )
    aliases: ClassVar[tuple[str, ...]] = ("DepthwiseConv2D", "depthwise", "dw_conv", "dwconv")
    type: Literal["depthwise_conv"] = "depthwise_conv"
    kernel: Size = Field(description="Kernel size: an int or [height, width].")
    strides: Size = Field(default=1, description="Strides: an int or [height, width].")
    padding: Padding = Field(default="same", description="`same` or `valid`.")
    depth_multiplier: PositiveInt = Field(
        default=1, description="Output channels per input channel."
    )
    dilation: Size = Field(default=1, description="Dilation rate: an int or [height, width].")
    activation: ActivationName = Field(default="linear", description="Keras activation name.")
    use_bias: bool = Field(default=True, description="Whether the layer has a bias.")
    batch_norm: bool = Field(default=False, description="Depthwise -> BN -> activation when true.")
    bn_epsilon: BnEpsilon = 1e-3
    bn_momentum: BnMomentum = 0.99

    def expand(self, b: Builder, inputs: list[str]) -> str:
        conv = DepthwiseConv2D(
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
        return depthwise_bn_act(b, inputs[0], roles, conv, self.bn_epsilon, self.bn_momentum)
