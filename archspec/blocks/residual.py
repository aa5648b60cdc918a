"""Residual modules (He et al., 2015): the tutorial's basic module and the ResNet v1 bottleneck.

Layer roles follow keras.applications' ResNet: `<name>_0_conv` / `_0_bn` (projection shortcut),
`_1_conv`, `_1_bn`, `_1_relu`, `_2_...`, `_3_...`, `_add`, `_out`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, BnEpsilon, PositiveInt, register
from archspec.blocks.layers.activation import Activation
from archspec.blocks.layers.add import Add
from archspec.blocks.layers.conv import Conv2D, conv_bn_act
from archspec.core.errors import ShapeError
from archspec.core.units import shape_str
from archspec.ir.graph import Builder

Shortcut = Literal["auto", "projection", "identity"]
_SHORTCUT_DOC = (
    "`auto`: a 1x1 projection where channels or strides change, else identity; "
    "`projection`: always; `identity`: never."
)


def _needs_projection(b: Builder, x: str, channels: int, strides: int, mode: Shortcut) -> bool:
    shape = b.shape(x)
    if len(shape) != 3:
        raise ShapeError(
            "a residual block needs an image input (height, width, channels); "
            f"received {shape_str(shape, 'message')}",
            code="E403",
        )
    if mode == "identity":
        if shape[-1] != channels or strides != 1:
            raise ShapeError(
                f"identity shortcut needs the block to keep its input shape: input has {shape[-1]} "
                f"channels, the block outputs {channels} channels with strides {strides}",
                key="shortcut",
                hint="use `shortcut: auto` or `projection`, or match the channels",
            )
        return False
    return mode == "projection" or shape[-1] != channels or strides != 1


class _Residual(Block):
    family = "residual"
    n_filters: PositiveInt = Field(description="Filters of the block's convolutions.")
    strides: PositiveInt = Field(default=1, description="Stride of the block (1 or 2 usually).")
    use_bias: bool = Field(default=True, description="Whether the convolutions have biases.")
    shortcut: Shortcut = Field(default="auto", description=_SHORTCUT_DOC)
    bn_epsilon: BnEpsilon = 1e-3


@register
class Residual(_Residual):
    """Two 3x3 convs and a shortcut, added, then relu.

    With batch_norm false this is exactly the tutorial's module: he_normal init, relu on the
    first conv, linear second conv, and a 1x1 relu projection where needed (built first). With
    batch_norm true: conv-BN-relu, conv-BN, projection conv-BN, add, relu (the ResNet paper's
    basic block)."""

    example: ClassVar[str] = (
        "{type: residual, n_filters: 8, strides: 2, batch_norm: true, use_bias: false}"
    )
    aliases: ClassVar[tuple[str, ...]] = ("res_block", "resblock", "basic_block")
    #: torchvision's BasicBlock has batch norm, the tutorial's module (the default) none
    alias_keys: ClassVar[dict[str, str]] = {"basic_block": "batch_norm: true"}
    type: Literal["residual"] = "residual"
    batch_norm: bool = Field(default=False, description="The ResNet paper's basic block when true.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        x = inputs[0]
        n, s = self.n_filters, (self.strides, self.strides)
        project = _needs_projection(b, x, n, self.strides, self.shortcut)

        def conv(k: int, strides: tuple[int, int], act: str) -> Conv2D:
            return Conv2D(
                filters=n, kernel=(k, k), strides=strides, activation=act,
                use_bias=self.use_bias, kernel_initializer="he_normal",
            )  # fmt: skip

        bn, eps = self.batch_norm, self.bn_epsilon
        shortcut = x
        if project and not bn:  # the tutorial builds its projection first
            shortcut = b.add("0_conv", conv(1, s, "relu"), x)
        y = conv_bn_act(b, x, ("1_conv", "1_bn", "1_relu"), conv(3, s, "relu"), bn, eps)
        y = conv_bn_act(b, y, ("2_conv", "2_bn", ""), conv(3, (1, 1), "linear"), bn, eps)
        if project and bn:
            shortcut = conv_bn_act(b, x, ("0_conv", "0_bn", ""), conv(1, s, "linear"), bn, eps)
        y = b.add("add", Add(), y, shortcut)
        return b.add("out", Activation("relu"), y)


@register
class Bottleneck(_Residual):
    """The ResNet v1 bottleneck as in keras.applications: shortcut first (projection: 1x1 conv
    with strides + BN), then 1x1 (strides) BN relu, 3x3 same BN relu, 1x1 (expansion x n_filters)
    BN, add, relu."""

    example: ClassVar[str] = "{type: bottleneck, n_filters: 4, strides: 2}"
    aliases: ClassVar[tuple[str, ...]] = ("bottleneck_block",)
    type: Literal["bottleneck"] = "bottleneck"
    expansion: PositiveInt = Field(
        default=4, description="Output channels = expansion x n_filters."
    )
    batch_norm: bool = Field(default=True, description="BatchNormalization after each conv.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        x = inputs[0]
        out = self.expansion * self.n_filters
        s = (self.strides, self.strides)
        bn, eps = self.batch_norm, self.bn_epsilon

        def conv(filters: int, k: int, strides: tuple[int, int], act: str) -> Conv2D:
            return Conv2D(
                filters=filters, kernel=(k, k), strides=strides, activation=act,
                use_bias=self.use_bias,
            )  # fmt: skip

        shortcut = x
        if _needs_projection(b, x, out, self.strides, self.shortcut):
            shortcut = conv_bn_act(b, x, ("0_conv", "0_bn", ""), conv(out, 1, s, "linear"), bn, eps)
        n = self.n_filters
        y = conv_bn_act(b, x, ("1_conv", "1_bn", "1_relu"), conv(n, 1, s, "relu"), bn, eps)
        y = conv_bn_act(b, y, ("2_conv", "2_bn", "2_relu"), conv(n, 3, (1, 1), "relu"), bn, eps)
        y = conv_bn_act(b, y, ("3_conv", "3_bn", ""), conv(out, 1, (1, 1), "linear"), bn, eps)
        y = b.add("add", Add(), shortcut, y)
        return b.add("out", Activation("relu"), y)
