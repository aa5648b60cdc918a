"""The VGG block (Simonyan & Zisserman, 2014), as the tutorial's `vgg_block`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import (
    ActivationName,
    Block,
    BnEpsilon,
    BnMomentum,
    PositiveInt,
    Size,
    pair,
    register,
)
from archspec.blocks.layers.conv import Conv2D, conv_bn_act
from archspec.blocks.layers.pool import Pool2D
from archspec.ir.graph import Builder


@register
class VGG(Block):
    """`n_conv` x Conv2D(n_filters, kernel, same, activation), then MaxPooling2D(2, strides 2).

    Layers: `<name>_conv1` ... `<name>_convN`, `<name>_pool` (keras.applications' VGG names);
    with batch_norm, `<name>_bnK` and `<name>_<activation>K` follow each conv."""

    family = "vgg"
    example: ClassVar[str] = (
        "{type: vgg, n_filters: 8, n_conv: 2, batch_norm: true, activation: gelu, "
        "bn_epsilon: 1.0e-5}"
    )
    type: Literal["vgg"] = "vgg"
    n_filters: PositiveInt = Field(description="Filters of every conv in the block.")
    n_conv: PositiveInt = Field(description="Number of convolutions before the pooling.")
    kernel: Size = Field(default=3, description="Kernel size: an int or [height, width].")
    activation: ActivationName = Field(default="relu", description="Activation of each conv.")
    batch_norm: bool = Field(default=False, description="BatchNormalization after each conv.")
    bn_epsilon: BnEpsilon = 1e-3
    bn_momentum: BnMomentum = 0.99

    def expand(self, b: Builder, inputs: list[str]) -> str:
        x = inputs[0]
        for i in range(1, self.n_conv + 1):
            conv = Conv2D(
                filters=self.n_filters,
                kernel=pair(self.kernel),
                activation=self.activation,
            )
            roles = (f"conv{i}", f"bn{i}", f"{self.activation}{i}")
            x = conv_bn_act(b, x, roles, conv, self.batch_norm, self.bn_epsilon, self.bn_momentum)
        return b.add("pool", Pool2D(kind="max", pool=(2, 2), strides=(2, 2)), x)
