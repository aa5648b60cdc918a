"""GroupNorm and the `group_norm` layer type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, PositiveInt, register
from archspec.blocks.layers.layer_norm import Epsilon
from archspec.core.errors import ShapeError
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Cost, Op, known


def divisors(n: int) -> str:
    """The divisors of n, for hints: "1, 2, 4 or 8" (the first 12 and "...", where more)."""
    found = [str(d) for d in range(1, n + 1) if n % d == 0]
    if len(found) > 12:
        return ", ".join(found[:12]) + ", ..."
    return ", ".join(found[:-1]) + " or " + found[-1] if len(found) > 1 else found[0]


@dataclass(frozen=True)
class GroupNorm(Op):
    """Splits the channels (the last axis) into `groups` and normalizes each group, then a
    learned scale and offset per channel."""

    groups: int
    epsilon: float = 1e-3

    def infer(self, shapes: list[Shape]) -> Shape:
        (c,) = known(shapes[0][-1:], "group norm")
        if c % self.groups:
            raise ShapeError(
                f"groups {self.groups} does not divide the input's {c} channels",
                key="groups",
                hint=f"choose groups that divide {c}: {divisors(c)}",
            )
        return shapes[0]

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (c,) = known(shapes[0][-1:], "group norm")
        return Cost(trainable=2 * c)  # gamma and beta

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.GroupNormalization(
            groups=self.groups, axis=-1, epsilon=self.epsilon, name=name
        )

    def label(self) -> str:
        return f"group norm, {self.groups} groups"


@register
class GroupNormBlock(Block):
    """GroupNormalization: the channels are split into `groups`, each normalized on its own
    (over the positions and its channels), then scaled and offset per channel (2 x channels
    params)."""

    example: ClassVar[str] = "{type: group_norm, groups: 2}"
    aliases: ClassVar[tuple[str, ...]] = ("GroupNormalization",)
    type: Literal["group_norm"] = "group_norm"
    groups: PositiveInt = Field(description="Number of channel groups; it must divide channels.")
    epsilon: Epsilon = Field(default=1e-3, description="Added to the variance (> 0, < 1).")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", GroupNorm(groups=self.groups, epsilon=self.epsilon), inputs[0])
