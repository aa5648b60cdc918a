"""Built-in layers: one block type per Keras layer, plus `conv` with optional batch norm.

A block that emits one layer gives it the block's own name (`predictions`, `avg_pool`), as
keras.applications names its layers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from archspec.blocks.base import (
    ActivationName,
    Block,
    BnEpsilon,
    InitializerName,
    MultiInput,
    NonNegativeInt,
    Padding,
    PositiveInt,
    Size,
    pair,
    register,
)
from archspec.ir import ops
from archspec.ir.graph import Builder


def conv_bn_act(
    b: Builder,
    x: str,
    roles: tuple[str, str, str],
    conv: ops.Conv2D,
    batch_norm: bool,
    bn_epsilon: float = 1e-3,
) -> str:
    """Conv, or with batch_norm conv -> BN -> activation (the conv then has no activation).

    `roles` names the three layers, e.g. ("1_conv", "1_bn", "1_relu")."""
    if not batch_norm:
        return b.add(roles[0], conv, x)
    act = conv.activation
    x = b.add(roles[0], ops.Conv2D(**{**conv.__dict__, "activation": "linear"}), x)
    x = b.add(roles[1], ops.BatchNorm(epsilon=bn_epsilon), x)
    return x if act == "linear" else b.add(roles[2], ops.Activation(act), x)


@register
class Conv(Block):
    """A 2-D convolution; with `batch_norm`, conv then BatchNormalization then the activation."""

    type: Literal["conv"] = "conv"
    filters: PositiveInt = Field(description="Number of output channels.")
    kernel: Size = Field(description="Kernel size: an int or [height, width].")
    strides: Size = Field(default=1, description="Strides: an int or [height, width].")
    padding: Padding = Field(default="same", description="`same` or `valid`.")
    activation: ActivationName = Field(default="linear", description="Keras activation name.")
    use_bias: bool = Field(default=True, description="Whether the conv has a bias.")
    batch_norm: bool = Field(default=False, description="Conv -> BN -> activation when true.")
    bn_epsilon: BnEpsilon = 1e-3
    kernel_initializer: InitializerName = Field(
        default="glorot_uniform", description="Keras initializer name."
    )

    def expand(self, b: Builder, inputs: list[str]) -> str:
        conv = ops.Conv2D(
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
        return conv_bn_act(
            b, inputs[0], ("conv", "bn", self.activation), conv, True, self.bn_epsilon
        )


class _Pool(Block):
    pool: Size = Field(default=2, description="Pool size: an int or [height, width].")
    strides: Size | None = Field(default=None, description="Strides; default: the pool size.")
    padding: Padding = Field(default="valid", description="`valid` or `same`.")

    def _op(self, kind: Literal["max", "avg"]) -> ops.Pool2D:
        pool = pair(self.pool)
        strides = pool if self.strides is None else pair(self.strides)
        return ops.Pool2D(kind=kind, pool=pool, strides=strides, padding=self.padding)


@register
class MaxPool(_Pool):
    """MaxPooling2D."""

    type: Literal["max_pool"] = "max_pool"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", self._op("max"), inputs[0])


@register
class AvgPool(_Pool):
    """AveragePooling2D."""

    type: Literal["avg_pool"] = "avg_pool"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", self._op("avg"), inputs[0])


@register
class GlobalAvgPool(Block):
    """GlobalAveragePooling2D: (H, W, C) -> (C)."""

    type: Literal["global_avg_pool"] = "global_avg_pool"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", ops.GlobalPool(kind="avg"), inputs[0])


@register
class GlobalMaxPool(Block):
    """GlobalMaxPooling2D: (H, W, C) -> (C)."""

    type: Literal["global_max_pool"] = "global_max_pool"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", ops.GlobalPool(kind="max"), inputs[0])


_NonNegPair = Annotated[list[NonNegativeInt], Field(min_length=2, max_length=2)]


@register
class ZeroPad(Block):
    """ZeroPadding2D."""

    type: Literal["zero_pad"] = "zero_pad"
    padding: (
        NonNegativeInt
        | _NonNegPair
        | Annotated[list[_NonNegPair], Field(min_length=2, max_length=2)]
    ) = Field(description="int, [h, w], or [[top, bottom], [left, right]].")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        p = self.padding
        if isinstance(p, int):
            pads = ((p, p), (p, p))
        elif all(isinstance(v, int) for v in p):
            pads = ((p[0], p[0]), (p[1], p[1]))  # type: ignore[assignment]
        else:
            pads = (tuple(p[0]), tuple(p[1]))  # type: ignore[assignment,arg-type]
        return b.add("", ops.ZeroPad2D(padding=pads), inputs[0])


@register
class BatchNormBlock(Block):
    """BatchNormalization (Keras counts its moving mean and variance as non-trainable params)."""

    type: Literal["batch_norm"] = "batch_norm"
    epsilon: BnEpsilon = 1e-3
    momentum: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        default=0.99, description="Momentum of the moving statistics."
    )

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", ops.BatchNorm(epsilon=self.epsilon, momentum=self.momentum), inputs[0])


@register
class ActivationBlock(Block):
    """An Activation layer."""

    type: Literal["activation"] = "activation"
    activation: ActivationName = Field(description="Keras activation name.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", ops.Activation(self.activation), inputs[0])


@register
class DropoutBlock(Block):
    """Dropout (active in training only)."""

    type: Literal["dropout"] = "dropout"
    rate: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(
        description="Fraction of the inputs to drop, 0 <= rate < 1."
    )

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", ops.Dropout(self.rate), inputs[0])


@register
class FlattenBlock(Block):
    """Flatten to a vector."""

    type: Literal["flatten"] = "flatten"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", ops.Flatten(), inputs[0])


@register
class DenseBlock(Block):
    """A fully connected layer on the last axis."""

    type: Literal["dense"] = "dense"
    units: PositiveInt = Field(description="Number of output units.")
    activation: ActivationName = Field(default="linear", description="Keras activation name.")
    use_bias: bool = Field(default=True, description="Whether the layer has a bias.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        op = ops.Dense(units=self.units, activation=self.activation, use_bias=self.use_bias)
        return b.add("", op, inputs[0])


@register
class AddBlock(MultiInput):
    """Element-wise sum of two or more inputs of equal shape."""

    type: Literal["add"] = "add"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", ops.Add(), *inputs)


@register
class ConcatBlock(MultiInput):
    """Concatenation of two or more inputs along `axis` (default: channels)."""

    type: Literal["concat"] = "concat"
    axis: int = Field(default=-1, description="Axis, counting the batch as 0; -1 is channels.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", ops.Concat(axis=self.axis), *inputs)
