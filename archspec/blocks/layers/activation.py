"""Activation and the `activation` layer type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import ACTIVATIONS, ActivationName, Block, register
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op


@dataclass(frozen=True)
class Activation(Op):
    activation: str

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Activation(self.activation, name=name)

    def label(self) -> str:
        # "linear" would read as a dense layer (ConvNeXt's pointwise linear); it is f(x) = x
        return "identity" if self.activation == "linear" else self.activation


@register
class ActivationBlock(Block):
    """An Activation layer."""

    example: ClassVar[str] = "{type: activation, activation: swish}"
    #: an activation's name as a layer (`type: relu`, PyTorch's `ReLU`): hinted as this type
    #: with the `activation:` to write (`linear` is PyTorch's Linear: a dense layer)
    aliases: ClassVar[tuple[str, ...]] = ("Activation", *(a for a in ACTIVATIONS if a != "linear"))
    alias_keys: ClassVar[dict[str, str]] = {
        a: f"activation: {a}" for a in ACTIVATIONS if a != "linear"
    }
    type: Literal["activation"] = "activation"
    activation: ActivationName = Field(description="Keras activation name.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", Activation(self.activation), inputs[0])
