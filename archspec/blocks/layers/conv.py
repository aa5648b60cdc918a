"""Conv2D, the `conv` layer type (with optional batch norm), and `conv_bn_act`, which the
families use for their conv -> BN -> activation units."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import Field

from archspec.blocks.base import (
    ActivationName,
    Block,
    BnEpsilon,
    BnMomentum,
    InitializerName,
    Padding,
    PositiveInt,
    Size,
    pair,
    register,
)
from archspec.blocks.layers.activation import Activation
from archspec.blocks.layers.batch_norm import BatchNorm
from archspec.blocks.layers.group_norm import divisors
from archspec.core.errors import ShapeError
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
class Conv2D(Op):
    filters: int
    kernel: Pair
    strides: Pair = (1, 1)
    padding: Literal["same", "valid"] = "same"
    activation: str = "linear"
    use_bias: bool = True
    kernel_initializer: str = "glorot_uniform"
    #: input and output channels split into `groups` groups, convolved separately
    groups: int = 1
    dilation: Pair = (1, 1)

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, c = image(shapes[0], "a convolution")
        if max(self.strides) > 1 and max(self.dilation) > 1:
            raise ShapeError(
                f"dilation {_spec(self.dilation)} with strides {_spec(self.strides)}: Keras's "
                "Conv2D does not take strides > 1 together with dilation > 1",
                key="dilation",
                hint="use strides: 1 with the dilation (and downsample in a block before or "
                "after), or leave the dilation out",
            )
        if (c is not None and c % self.groups) or self.filters % self.groups:
            where = (
                f"the input's {c} channels"
                if c is not None and c % self.groups
                else f"the {self.filters} output channels (`filters`)"
            )
            both = f" ({c} and {self.filters}): {divisors(math.gcd(c, self.filters))}" if c else ""
            raise ShapeError(
                f"groups {self.groups} does not divide {where}",
                key="groups",
                hint="choose groups that divide both the input's channels and `filters`" + both,
            )
        return (
            *conv_window(h, w, self.kernel, self.strides, self.dilation, self.padding),
            self.filters,
        )

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (channels,) = known(shapes[0][-1:], "a convolution")
        # each filter sees the input channels of its group only
        weights = self.kernel[0] * self.kernel[1] * (channels // self.groups) * self.filters
        return Cost(
            trainable=weights + (self.filters if self.use_bias else 0),
            macs=product(out[0], out[1], weights),
        )

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Conv2D(
            self.filters,
            self.kernel,
            strides=self.strides,
            padding=self.padding,
            activation=self.activation,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            groups=self.groups,
            dilation_rate=self.dilation,
            name=name,
        )

    def label(self) -> str:
        k, s = window_text(self.kernel, self.strides)
        d = "" if self.dilation == (1, 1) else f" dil {_spec(self.dilation, 'x')}"
        g = "" if self.groups == 1 else f", {self.groups} groups"  # as group norm's label
        act = "" if self.activation == "linear" else f" {self.activation}"
        return f"{k}{s}{d}, {self.filters}{act}{g}"

    def describe(self) -> str:
        return f"conv {self.label()}"

    def check_limits(self, limits: Limits) -> None:
        check_width("filters", self.filters, limits)
        check_window("kernel", self.kernel, limits)


def _spec(p: Pair, sep: str = "") -> str:
    """(2, 2) -> "2"; (2, 1) -> "[2, 1]" (or "2x1" with sep "x")."""
    if p[0] == p[1]:
        return str(p[0])
    return f"{p[0]}x{p[1]}" if sep else f"[{p[0]}, {p[1]}]"


#: a conv-like op: a frozen dataclass Op with an `activation` field (Conv2D, SeparableConv2D,
#: DepthwiseConv2D, ...)
ConvOp = TypeVar("ConvOp", bound=Op)


def conv_bn_act(
    b: Builder,
    x: str,
    roles: tuple[str, str, str],
    conv: ConvOp,
    batch_norm: bool,
    bn_epsilon: float = 1e-3,
    bn_momentum: float = 0.99,
    bn_scale: bool = True,
    bn_center: bool = True,
) -> str:
    """Conv, or with batch_norm conv -> BN -> activation (the conv then has no activation).

    `conv` is any conv-like op with an `activation` field (Conv2D, SeparableConv2D, ...).
    `roles` names the three layers, e.g. ("1_conv", "1_bn", "1_relu"). `bn_scale` and
    `bn_center`: whether the BN has its gamma and its beta."""
    if not batch_norm:
        return b.add(roles[0], conv, x)
    act: str = getattr(conv, "activation")  # noqa: B009 (any conv-like op has one)
    x = b.add(roles[0], replace(conv, activation="linear"), x)  # type: ignore[type-var]
    x = b.add(roles[1], BatchNorm(bn_epsilon, bn_momentum, bn_scale, bn_center), x)
    return x if act == "linear" else b.add(roles[2], Activation(act), x)


@register
class Conv(Block):
    """A 2-D convolution; with `batch_norm`, conv then BatchNormalization then the activation.
    With `groups`, a grouped convolution (ResNeXt); with `dilation`, an atrous one."""

    example: ClassVar[str] = (
        "{type: conv, filters: 6, kernel: [3, 1], dilation: [2, 1], padding: valid, groups: 2, "
        "batch_norm: true, bn_scale: false, activation: relu}"
    )
    aliases: ClassVar[tuple[str, ...]] = ("Conv2D",)
    type: Literal["conv"] = "conv"
    filters: PositiveInt = Field(description="Number of output channels.")
    kernel: Size = Field(description="Kernel size: an int or [height, width].")
    strides: Size = Field(default=1, description="Strides: an int or [height, width].")
    padding: Padding = Field(default="same", description="`same` or `valid`.")
    groups: PositiveInt = Field(
        default=1,
        description="Channel groups, convolved separately: it must divide the input's channels "
        "and `filters`.",
    )
    dilation: Size = Field(
        default=1,
        description="Dilation rate: an int or [height, width]; above 1 only with strides 1.",
    )
    activation: ActivationName = Field(default="linear", description="Keras activation name.")
    use_bias: bool = Field(default=True, description="Whether the conv has a bias.")
    batch_norm: bool = Field(default=False, description="Conv -> BN -> activation when true.")
    bn_epsilon: BnEpsilon = 1e-3
    bn_momentum: BnMomentum = 0.99
    bn_scale: bool = Field(
        default=True, description="With `batch_norm`: whether the BN learns a scale (gamma)."
    )
    bn_center: bool = Field(
        default=True, description="With `batch_norm`: whether the BN learns an offset (beta)."
    )
    kernel_initializer: InitializerName = Field(
        default="glorot_uniform", description="Keras initializer name."
    )

    def expand(self, b: Builder, inputs: list[str]) -> str:
        conv = Conv2D(
            filters=self.filters,
            kernel=pair(self.kernel),
            strides=pair(self.strides),
            padding=self.padding,
            activation=self.activation,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            groups=self.groups,
            dilation=pair(self.dilation),
        )
        if not self.batch_norm:
            return b.add("", conv, inputs[0])
        roles = ("conv", "bn", self.activation)
        bn = (self.bn_epsilon, self.bn_momentum, self.bn_scale, self.bn_center)
        return conv_bn_act(b, inputs[0], roles, conv, True, *bn)
