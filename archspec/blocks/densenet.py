"""DenseNet's dense layer and transition (Huang et al., 2017), as keras.applications' DenseNet
builds them (`conv_block`, `transition_block`).

Layer roles are Keras's: a `dense_layer` named `conv2_block1` gives `conv2_block1_0_bn`,
`_0_relu`, `_1_conv`, `_1_bn`, `_1_relu`, `_2_conv` and `_concat`; a `transition` named `pool2`
gives `pool2_bn`, `pool2_relu`, `pool2_conv` and `pool2_pool`. A dense block is a `dense_layer`
with `repeat` and `repeat_names: "{name}{k}"` (`conv2_block1`, `conv2_block2`, ...)."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, BnEpsilon, PositiveInt, register
from archspec.blocks.layers.activation import Activation
from archspec.blocks.layers.batch_norm import BatchNorm
from archspec.blocks.layers.concat import Concat
from archspec.blocks.layers.conv import Conv2D
from archspec.blocks.layers.pool import Pool2D
from archspec.core.errors import ShapeError
from archspec.ir.graph import Builder
from archspec.ir.op import image, known


@register
class DenseLayer(Block):
    """One layer of a dense block: BN -> relu -> 1x1 conv (bottleneck x growth_rate, no bias) ->
    BN -> relu -> 3x3 conv (growth_rate, same, no bias) -> Concatenate([input, new]): the
    output has growth_rate more channels than the input."""

    family = "densenet"
    example: ClassVar[str] = "{type: dense_layer, growth_rate: 3, bottleneck: 2}"
    type: Literal["dense_layer"] = "dense_layer"
    growth_rate: PositiveInt = Field(description="Channels each layer adds (Keras: 32).")
    bottleneck: PositiveInt = Field(
        default=4, description="Width of the 1x1 conv = bottleneck x growth_rate."
    )
    bn_epsilon: BnEpsilon = 1.001e-5

    def expand(self, b: Builder, inputs: list[str]) -> str:
        x = inputs[0]
        image(b.shape(x), "a dense_layer block")
        g, eps = self.growth_rate, self.bn_epsilon
        y = b.add("0_bn", BatchNorm(eps), x)
        y = b.add("0_relu", Activation("relu"), y)
        y = b.add(
            "1_conv",
            Conv2D(filters=self.bottleneck * g, kernel=(1, 1), padding="valid", use_bias=False),
            y,
        )
        y = b.add("1_bn", BatchNorm(eps), y)
        y = b.add("1_relu", Activation("relu"), y)
        y = b.add("2_conv", Conv2D(filters=g, kernel=(3, 3), use_bias=False), y)
        return b.add("concat", Concat(), x, y)  # the input first, as Keras: the channel order


@register
class Transition(Block):
    """Between dense blocks: BN -> relu -> 1x1 conv (int(channels x reduction), no bias) ->
    AveragePooling2D(2, strides 2)."""

    family = "densenet"
    example: ClassVar[str] = "{type: transition, reduction: 0.75}"
    type: Literal["transition"] = "transition"
    reduction: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(
        default=0.5,
        description="Compression: the conv has int(input channels x reduction) filters.",
    )
    bn_epsilon: BnEpsilon = 1.001e-5

    def expand(self, b: Builder, inputs: list[str]) -> str:
        x = inputs[0]
        (c,) = known(image(b.shape(x), "a transition block")[2:], "a transition block")
        filters = int(c * self.reduction)
        if filters < 1:
            raise ShapeError(
                f"reduction {self.reduction} of the input's {c} channels leaves "
                f"int({c} x {self.reduction}) = 0 filters",
                key="reduction",
                hint=f"use a reduction of at least {_least_reduction(c):g}",
            )
        y = b.add("bn", BatchNorm(self.bn_epsilon), x)
        y = b.add("relu", Activation("relu"), y)
        y = b.add(
            "conv", Conv2D(filters=filters, kernel=(1, 1), padding="valid", use_bias=False), y
        )
        return b.add("pool", Pool2D(kind="avg", pool=(2, 2), strides=(2, 2)), y)


def _least_reduction(channels: int) -> float:
    """The least reduction of three significant digits that leaves `channels` one filter: 1/3
    shown as 0.333 leaves int(3 x 0.333) = 0, so it is rounded up (0.334)."""
    scale = float(10 ** (2 - math.floor(math.log10(1 / channels))))
    r = math.ceil(scale / channels) / scale
    while int(channels * r) < 1:  # a float just under 1
        r += 1 / scale
    return r
