"""Conv2DTranspose and the `conv_transpose` layer type (with optional batch norm)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import (
    ActivationName,
    Block,
    BnEpsilon,
    Padding,
    PositiveInt,
    Size,
    pair,
    register,
)
from archspec.blocks.layers.conv import conv_bn_act
from archspec.core.limits import Limits
from archspec.core.units import Dim, Shape, product
from archspec.ir.graph import Builder
from archspec.ir.op import Cost, Op, Pair, check_width, check_window, image, known


@dataclass(frozen=True)
class Conv2DTranspose(Op):
    """A transposed convolution ("deconvolution"): each input pixel scatters a k x k x filters
    patch, placed `strides` apart, so the output is about `strides` times larger.

    Output size per axis, as Keras computes it (output_padding None): with padding `same`,
    input x stride; with `valid`, (input - 1) x stride + max(kernel, stride).

    Params: k x k x C_in x filters weights, plus `filters` biases. MACs: k x k x C_in x filters
    per *input* pixel (each input pixel is multiplied into a k x k x filters patch), so
    H_in x W_in x k x k x C_in x filters. This is the convention of fvcore's counter and of
    PyTorch's own torch.utils.flop_counter (whose `conv_flop_count` takes the spatial size of
    the input, not of the output, for a transposed conv; its FLOPs are 2 x these MACs).
    Counters that reuse their plain-conv hook on the output size (ptflops' module hooks, thop)
    report about strides^2 times more."""

    filters: int
    kernel: Pair
    strides: Pair = (1, 1)
    padding: Literal["same", "valid"] = "same"
    activation: str = "linear"
    use_bias: bool = True

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, _ = image(shapes[0], "a transposed convolution")
        return (
            _grown(h, self.kernel[0], self.strides[0], self.padding),
            _grown(w, self.kernel[1], self.strides[1], self.padding),
            self.filters,
        )

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        h, w, _ = shapes[0]
        (channels,) = known(shapes[0][-1:], "a transposed convolution")
        weights = self.kernel[0] * self.kernel[1] * channels * self.filters
        return Cost(
            trainable=weights + (self.filters if self.use_bias else 0),
            macs=product(h, w, weights),
        )

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Conv2DTranspose(
            self.filters,
            self.kernel,
            strides=self.strides,
            padding=self.padding,
            activation=self.activation,
            use_bias=self.use_bias,
            name=name,
        )

    def label(self) -> str:
        k = f"{self.kernel[0]}x{self.kernel[1]}"
        sh, sw = self.strides
        s = "" if (sh, sw) == (1, 1) else f" up {sh}" if sh == sw else f" up {sh}x{sw}"
        act = "" if self.activation == "linear" else f" {self.activation}"
        return f"{k}{s}, {self.filters}{act}"

    def describe(self) -> str:
        return f"conv transpose {self.label()}"

    def check_limits(self, limits: Limits) -> None:
        check_width("filters", self.filters, limits)
        check_window("kernel", self.kernel, limits)


def _grown(size: Dim, kernel: int, stride: int, padding: str) -> Dim:
    """The output size along one axis (Keras's, output_padding None); unknown stays unknown."""
    if size is None:
        return None
    if padding == "same":
        return size * stride
    return (size - 1) * stride + max(kernel, stride)


@register
class ConvTranspose(Block):
    """A transposed 2-D convolution (Conv2DTranspose), which upsamples by `strides`; with
    `batch_norm`, conv transpose then BatchNormalization then the activation, named
    `<name>_conv`, `<name>_bn`, `<name>_<activation>` as `conv` names them."""

    example: ClassVar[str] = (
        "{type: conv_transpose, filters: 6, kernel: [3, 2], strides: [2, 3], padding: valid, "
        "batch_norm: true, activation: relu}"
    )
    aliases: ClassVar[tuple[str, ...]] = ("Conv2DTranspose", "convtranspose2d", "deconv")
    type: Literal["conv_transpose"] = "conv_transpose"
    filters: PositiveInt = Field(description="Number of output channels.")
    kernel: Size = Field(description="Kernel size: an int or [height, width].")
    strides: Size = Field(default=1, description="Upsampling strides: an int or [height, width].")
    padding: Padding = Field(
        default="same",
        description="`same` (output = input x strides) or `valid` (output = (input - 1) x "
        "strides + max(kernel, strides)).",
    )
    activation: ActivationName = Field(default="linear", description="Keras activation name.")
    use_bias: bool = Field(default=True, description="Whether the layer has a bias.")
    batch_norm: bool = Field(
        default=False, description="Conv transpose -> BN -> activation when true."
    )
    bn_epsilon: BnEpsilon = 1e-3

    def expand(self, b: Builder, inputs: list[str]) -> str:
        conv = Conv2DTranspose(
            filters=self.filters,
            kernel=pair(self.kernel),
            strides=pair(self.strides),
            padding=self.padding,
            activation=self.activation,
            use_bias=self.use_bias,
        )
        if not self.batch_norm:
            return b.add("", conv, inputs[0])
        roles = ("conv", "bn", self.activation)
        return conv_bn_act(b, inputs[0], roles, conv, True, self.bn_epsilon)
