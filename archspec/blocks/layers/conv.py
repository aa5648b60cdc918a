"""Conv2D, the `conv` layer type (with optional batch norm), and `conv_bn_act`, which the
families use for their conv -> BN -> activation units."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import Field

from archspec.blocks.base import (
    ActivationName,
    Block,
    BnEpsilon,
    InitializerName,
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
from archspec.ir.op import Cost, Op, Pair, check_width, check_window, image, known, window

BnMomentum = Annotated[
    float,
    Field(ge=0, le=1, allow_inf_nan=False, description="Momentum of BN's moving statistics."),
]


@dataclass(frozen=True)
class Conv2D(Op):
    filters: int
    kernel: Pair
    strides: Pair = (1, 1)
    padding: Literal["same", "valid"] = "same"
    activation: str = "linear"
    use_bias: bool = True
    kernel_initializer: str = "glorot_uniform"

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, _ = image(shapes[0], "a convolution")
        return (
            window(h, self.kernel[0], self.strides[0], self.padding, "height"),
            window(w, self.kernel[1], self.strides[1], self.padding, "width"),
            self.filters,
        )

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (channels,) = known(shapes[0][-1:], "a convolution")
        weights = self.kernel[0] * self.kernel[1] * channels * self.filters
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
            name=name,
        )

    def label(self) -> str:
        k = f"{self.kernel[0]}x{self.kernel[1]}"
        s = (
            ""
            if self.strides == (1, 1)
            else f"/{self.strides[0]}"
            + ("" if self.strides[0] == self.strides[1] else f"x{self.strides[1]}")
        )
        act = "" if self.activation == "linear" else f" {self.activation}"
        return f"{k}{s}, {self.filters}{act}"

    def describe(self) -> str:
        return f"conv {self.label()}"

    def check_limits(self, limits: Limits) -> None:
        check_width("filters", self.filters, limits)
        check_window("kernel", self.kernel, limits)


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
) -> str:
    """Conv, or with batch_norm conv -> BN -> activation (the conv then has no activation).

    `conv` is any conv-like op with an `activation` field (Conv2D, SeparableConv2D, ...).
    `roles` names the three layers, e.g. ("1_conv", "1_bn", "1_relu")."""
    if not batch_norm:
        return b.add(roles[0], conv, x)
    act: str = getattr(conv, "activation")  # noqa: B009 (any conv-like op has one)
    x = b.add(roles[0], replace(conv, activation="linear"), x)  # type: ignore[type-var]
    x = b.add(roles[1], BatchNorm(epsilon=bn_epsilon, momentum=bn_momentum), x)
    return x if act == "linear" else b.add(roles[2], Activation(act), x)


@register
class Conv(Block):
    """A 2-D convolution; with `batch_norm`, conv then BatchNormalization then the activation."""

    example: ClassVar[str] = (
        "{type: conv, filters: 6, kernel: [3, 1], strides: 2, padding: valid, "
        "batch_norm: true, activation: relu}"
    )
    type: Literal["conv"] = "conv"
    filters: PositiveInt = Field(description="Number of output channels.")
    kernel: Size = Field(description="Kernel size: an int or [height, width].")
    strides: Size = Field(default=1, description="Strides: an int or [height, width].")
    padding: Padding = Field(default="same", description="`same` or `valid`.")
    activation: ActivationName = Field(default="linear", description="Keras activation name.")
    use_bias: bool = Field(default=True, description="Whether the conv has a bias.")
    batch_norm: bool = Field(default=False, description="Conv -> BN -> activation when true.")
    bn_epsilon: BnEpsilon = 1e-3
    bn_momentum: BnMomentum = 0.99
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
        )
        if not self.batch_norm:
            return b.add("", conv, inputs[0])
        roles = ("conv", "bn", self.activation)
        return conv_bn_act(b, inputs[0], roles, conv, True, self.bn_epsilon, self.bn_momentum)
