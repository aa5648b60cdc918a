"""Rescaling and the `rescaling` layer type, and `per_channel`, which checks a per-channel
list against the input's channels (`normalization` uses it too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, register
from archspec.core.errors import ShapeError
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, known, message

Number = Annotated[float, Field(allow_inf_nan=False)]
#: a number for every channel, or one per channel
PerChannel = Number | Annotated[list[Number], Field(min_length=1)]


def per_channel(key: str, value: float | tuple[float, ...], shape: Shape, what: str) -> None:
    """E401 at `key` where `value` is a list whose length is not the input's channel count."""
    if isinstance(value, float):
        return
    (channels,) = known(shape[-1:], f"{what} with one `{key}` per channel")
    if len(value) != channels:
        raise ShapeError(
            f"`{key}` has {len(value)} values, one per channel, but the input {message(shape)} "
            f"has {channels} channels",
            key=key,
            hint=f"give one number for every channel, or a list of {channels}",
        )


def as_value(value: float | list[float]) -> float | tuple[float, ...]:
    """A spec value as an op keeps it (hashable): 0.5 -> 0.5, [1, 2] -> (1.0, 2.0)."""
    return tuple(float(v) for v in value) if isinstance(value, list) else float(value)


def fmt(value: float | tuple[float, ...]) -> str:
    """For labels: 0.5 -> '0.5', a list -> 'per channel'."""
    return f"{value:.4g}" if isinstance(value, float) else "per channel"


@dataclass(frozen=True)
class Rescaling(Op):
    scale: float | tuple[float, ...]
    offset: float | tuple[float, ...] = 0.0

    def infer(self, shapes: list[Shape]) -> Shape:
        per_channel("scale", self.scale, shapes[0], "rescaling")
        per_channel("offset", self.offset, shapes[0], "rescaling")
        return shapes[0]

    def emit(self, keras: Any, name: str) -> Any:
        def arg(v: float | tuple[float, ...]) -> float | list[float]:
            return v if isinstance(v, float) else list(v)

        return keras.layers.Rescaling(arg(self.scale), offset=arg(self.offset), name=name)

    def label(self) -> str:
        o = self.offset
        offset = ("" if o == 0.0 else f" - {fmt(-o)}" if isinstance(o, float) and o < 0
                  else f" + {fmt(o)}")  # fmt: skip
        return f"x {fmt(self.scale)}{offset}"

    def describe(self) -> str:
        return f"rescale {self.label()}"


@register
class RescalingBlock(Block):
    """Rescaling: x * scale + offset, for instance 1/255 to bring pixels to [0, 1]."""

    example: ClassVar[str] = "{type: rescaling, scale: 0.5, offset: [-1, 0, 0.5, 2]}"
    aliases: ClassVar[tuple[str, ...]] = ("Rescaling",)
    type: Literal["rescaling"] = "rescaling"
    scale: PerChannel = Field(description="The factor: a number, or one number per channel.")
    offset: PerChannel = Field(
        default=0.0, description="Added after scaling: a number, or one number per channel."
    )

    def expand(self, b: Builder, inputs: list[str]) -> str:
        op = Rescaling(scale=as_value(self.scale), offset=as_value(self.offset))
        return b.add("", op, inputs[0])
