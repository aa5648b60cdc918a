"""The pre-activation bottleneck of ResNet v2 (He et al., 2016), as keras.applications'
ResNet50V2 builds it (`residual_block_v2`).

Layer roles are Keras's: a `preact_bottleneck` named `conv2_block1` gives `conv2_block1_preact_bn`,
`_preact_relu`, `_0_conv` (projection), `_1_conv`, `_1_bn`, `_1_relu`, `_2_pad`, `_2_conv`,
`_2_bn`, `_2_relu`, `_3_conv` and `_out`, so that ResNet50V2's weight files load by name. The
strided shortcut's MaxPooling2D, auto-named in Keras, is `_0_pool`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, BnEpsilon, PositiveInt, register
from archspec.blocks.layers.activation import Activation
from archspec.blocks.layers.add import Add
from archspec.blocks.layers.batch_norm import BatchNorm
from archspec.blocks.layers.conv import Conv2D
from archspec.blocks.layers.pool import Pool2D
from archspec.blocks.layers.zero_pad import ZeroPad2D
from archspec.core.errors import ShapeError
from archspec.ir.graph import Builder
from archspec.ir.op import image, known

_SHORTCUT_DOC = (
    "`auto`: a 1x1 projection (with bias, of the pre-activation) where the input's channels "
    "differ from expansion x n_filters, as Keras's `conv_shortcut` on a stack's first block; "
    "otherwise the input itself, through MaxPooling2D(1, strides) where strides > 1. "
    "`projection`: always project; `identity`: never (still pooled where strides > 1)."
)


@register
class PreactBottleneck(Block):
    """ResNet v2's bottleneck: BN -> relu (the pre-activation); the shortcut (see `shortcut`);
    1x1 conv (no bias) -> BN -> relu; ZeroPadding2D(1) -> 3x3 conv (strides, valid, no bias) ->
    BN -> relu; 1x1 conv (expansion x n_filters, bias); Add([shortcut, residual]). No
    activation after the add: the next block's pre-activation (or a final BN and relu)
    follows.

    Unlike `residual` and `bottleneck`, `shortcut: auto` projects on a change of channels only:
    Keras's ResNetV2 strides the LAST block of a stack and gives it a MaxPooling2D(1, 2)
    shortcut, not a projection."""

    family = "residual"
    example: ClassVar[str] = "{type: preact_bottleneck, n_filters: 1, strides: 2}"
    type: Literal["preact_bottleneck"] = "preact_bottleneck"
    n_filters: PositiveInt = Field(description="Filters of the 1x1 and 3x3 convs.")
    strides: PositiveInt = Field(
        default=1, description="Strides of the 3x3 conv (and of the shortcut)."
    )
    shortcut: Literal["auto", "projection", "identity"] = Field(
        default="auto", description=_SHORTCUT_DOC
    )
    expansion: PositiveInt = Field(
        default=4, description="Output channels = expansion x n_filters."
    )
    bn_epsilon: BnEpsilon = 1.001e-5

    def expand(self, b: Builder, inputs: list[str]) -> str:
        x = inputs[0]
        (c_in,) = known(image(b.shape(x), "a preact_bottleneck block")[2:], "a preact block")
        n, out, eps = self.n_filters, self.expansion * self.n_filters, self.bn_epsilon
        s = (self.strides, self.strides)
        if self.shortcut == "identity" and c_in != out:
            raise ShapeError(
                f"identity shortcut needs the block to keep its channels: input has {c_in} "
                f"channels, the block outputs {out} (expansion {self.expansion} x n_filters {n})",
                key="shortcut",
                hint="use `shortcut: auto` or `projection`, or match the channels",
            )
        project = self.shortcut == "projection" or (self.shortcut == "auto" and c_in != out)

        pre = b.add("preact_bn", BatchNorm(eps), x)
        pre = b.add("preact_relu", Activation("relu"), pre)
        if project:
            shortcut = b.add(
                "0_conv", Conv2D(filters=out, kernel=(1, 1), strides=s, padding="valid"), pre
            )
        elif self.strides > 1:
            shortcut = b.add("0_pool", Pool2D(kind="max", pool=(1, 1), strides=s), x)
        else:
            shortcut = x
        y = b.add("1_conv", Conv2D(filters=n, kernel=(1, 1), padding="valid", use_bias=False), pre)
        y = b.add("1_bn", BatchNorm(eps), y)
        y = b.add("1_relu", Activation("relu"), y)
        y = b.add("2_pad", ZeroPad2D(padding=((1, 1), (1, 1))), y)
        conv = Conv2D(filters=n, kernel=(3, 3), strides=s, padding="valid", use_bias=False)
        y = b.add("2_conv", conv, y)
        y = b.add("2_bn", BatchNorm(eps), y)
        y = b.add("2_relu", Activation("relu"), y)
        y = b.add("3_conv", Conv2D(filters=out, kernel=(1, 1), padding="valid"), y)
        return b.add("out", Add(), shortcut, y)  # shortcut first, as Keras: the weight order
