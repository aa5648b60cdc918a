"""Dropout and the `dropout` layer type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, register
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op


@dataclass(frozen=True)
class Dropout(Op):
    rate: float
    #: Keras's noise_shape with the batch (None: one mask per element); (None, 1, 1, 1) drops
    #: whole samples, as EfficientNet's stochastic depth does
    noise_shape: tuple[int | None, ...] | None = None

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Dropout(self.rate, noise_shape=self.noise_shape, name=name)

    def label(self) -> str:
        return f"dropout {self.rate:g}"


@register
class DropoutBlock(Block):
    """Dropout (active in training only)."""

    example: ClassVar[str] = "{type: dropout, rate: 0.5}"
    aliases: ClassVar[tuple[str, ...]] = ("Dropout",)
    type: Literal["dropout"] = "dropout"
    rate: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(
        description="Fraction of the inputs to drop, 0 <= rate < 1."
    )

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", Dropout(self.rate), inputs[0])
