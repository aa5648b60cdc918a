"""The Inception module (Szegedy et al., 2014): naive and with 1x1 projections, as in the tutorial.

Branches are emitted and concatenated in the tutorial's order: 1x1, 3x3, 5x5, pool."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, PositiveInt, register
from archspec.blocks.layers.concat import Concat
from archspec.blocks.layers.conv import Conv2D
from archspec.blocks.layers.pool import Pool2D
from archspec.ir.graph import Builder


def _conv(filters: int, k: int) -> Conv2D:
    return Conv2D(filters=filters, kernel=(k, k), activation="relu")


_POOL = Pool2D(kind="max", pool=(3, 3), strides=(1, 1), padding="same")


@register
class InceptionNaive(Block):
    """Parallel 1x1 (f1), 3x3 (f2), 5x5 (f3) relu convs and a 3x3 stride-1 max pool, concatenated.

    Layers: `<name>_b1_conv`, `<name>_b2_conv`, `<name>_b3_conv`, `<name>_b4_pool`,
    `<name>_concat`."""

    family = "inception"
    example: ClassVar[str] = "{type: inception_naive, f1: 4, f2: 8, f3: 2}"
    type: Literal["inception_naive"] = "inception_naive"
    f1: PositiveInt = Field(description="Filters of the 1x1 branch.")
    f2: PositiveInt = Field(description="Filters of the 3x3 branch.")
    f3: PositiveInt = Field(description="Filters of the 5x5 branch.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        x = inputs[0]
        branches = [
            b.add("b1_conv", _conv(self.f1, 1), x),
            b.add("b2_conv", _conv(self.f2, 3), x),
            b.add("b3_conv", _conv(self.f3, 5), x),
            b.add("b4_pool", _POOL, x),
        ]
        return b.add("concat", Concat(), *branches)


@register
class Inception(Block):
    """The projected Inception module: 1x1 (f1); 1x1 (f2_in) -> 3x3 (f2_out); 1x1 (f3_in) -> 5x5
    (f3_out); 3x3 stride-1 max pool -> 1x1 (f4_out); all relu, same padding; concatenated.

    Layers: `<name>_b1_conv`, `<name>_b2_reduce`, `<name>_b2_conv`, `<name>_b3_reduce`,
    `<name>_b3_conv`, `<name>_b4_pool`, `<name>_b4_conv`, `<name>_concat`."""

    family = "inception"
    example: ClassVar[str] = (
        "{type: inception, f1: 4, f2_in: 3, f2_out: 5, f3_in: 2, f3_out: 3, f4_out: 6}"
    )
    #: torchvision's names of the same filter counts
    key_aliases: ClassVar[dict[str, str]] = {
        "ch1x1": "f1", "ch3x3red": "f2_in", "ch3x3": "f2_out", "ch5x5red": "f3_in",
        "ch5x5": "f3_out", "pool_proj": "f4_out",
    }  # fmt: skip
    type: Literal["inception"] = "inception"
    f1: PositiveInt = Field(description="Filters of the 1x1 branch.")
    f2_in: PositiveInt = Field(description="Filters of the 1x1 reduction before the 3x3.")
    f2_out: PositiveInt = Field(description="Filters of the 3x3 conv.")
    f3_in: PositiveInt = Field(description="Filters of the 1x1 reduction before the 5x5.")
    f3_out: PositiveInt = Field(description="Filters of the 5x5 conv.")
    f4_out: PositiveInt = Field(description="Filters of the 1x1 conv after the pool.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        x = inputs[0]
        b1 = b.add("b1_conv", _conv(self.f1, 1), x)
        b2 = b.add("b2_reduce", _conv(self.f2_in, 1), x)
        b2 = b.add("b2_conv", _conv(self.f2_out, 3), b2)
        b3 = b.add("b3_reduce", _conv(self.f3_in, 1), x)
        b3 = b.add("b3_conv", _conv(self.f3_out, 5), b3)
        b4 = b.add("b4_pool", _POOL, x)
        b4 = b.add("b4_conv", _conv(self.f4_out, 1), b4)
        return b.add("concat", Concat(), b1, b2, b3, b4)
