"""Reshape and the `reshape` layer type."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from archspec.blocks.base import Block, register
from archspec.core.errors import ShapeError
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, message


@dataclass(frozen=True)
class Reshape(Op):
    #: sizes without the batch; one may be -1 (the size that makes the total fit)
    target_shape: tuple[int, ...]

    def infer(self, shapes: list[Shape]) -> Shape:
        shape = shapes[0]
        total = math.prod(d for d in shape if d is not None)
        given = math.prod(d for d in self.target_shape if d != -1)
        target = "[" + ", ".join(str(d) for d in self.target_shape) + "]"
        if None in shape:
            # Keras: the size cannot be checked; -1 stays unknown, the other sizes are taken.
            # Without -1 the input's size is a multiple of its known sizes' product, which the
            # target's must be too, at some size of the unknown ones
            if -1 not in self.target_shape and given % total:
                raise ShapeError(
                    f"reshape to {target} needs {given:,} values; the input {message(shape)} "
                    f"has a multiple of {total:,} values at any size, and {given:,} is not one",
                    key="target_shape",
                    hint=f"choose sizes whose product is a multiple of {total:,}, or -1 in one "
                    "place for the size that fits",
                )
            return tuple(None if d == -1 else d for d in self.target_shape)
        if -1 not in self.target_shape:
            if given != total:
                raise ShapeError(
                    f"reshape to {target} needs {given:,} values; the input {message(shape)} "
                    f"has {total:,}",
                    key="target_shape",
                    hint="the product of `target_shape` must equal the input's size; "
                    "-1 in one place takes the size that fits",
                )
            return self.target_shape
        if total % given:
            raise ShapeError(
                f"reshape to {target}: the input {message(shape)} has {total:,} values, "
                f"not a multiple of {given:,} (the product of the sizes other than -1)",
                key="target_shape",
                hint=f"choose sizes whose product divides {total:,}",
            )
        return tuple(total // given if d == -1 else d for d in self.target_shape)

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Reshape(self.target_shape, name=name)

    def label(self) -> str:
        return "reshape " + "x".join("?" if d == -1 else str(d) for d in self.target_shape)

    def describe(self) -> str:
        return self.label()


@register
class ReshapeBlock(Block):
    """Reshape to `target_shape` (without the batch); the total size must not change."""

    example: ClassVar[str] = "{type: reshape, target_shape: [-1, 4]}"
    aliases: ClassVar[tuple[str, ...]] = ("Reshape",)
    type: Literal["reshape"] = "reshape"
    target_shape: Annotated[list[int], Field(min_length=1, max_length=8)] = Field(
        description="The output shape without the batch: positive ints, and at most one -1 "
        "(the size that makes the total fit)."
    )

    @field_validator("target_shape")
    @classmethod
    def _sizes(cls, value: list[int]) -> list[int]:
        bad = [d for d in value if d < 1 and d != -1]
        if bad:
            raise ValueError(
                f"sizes must be positive, or -1 in one place; received {bad[0]} in {value}"
            )
        if value.count(-1) > 1:
            raise ValueError(f"at most one size may be -1; received {value}")
        return value

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", Reshape(target_shape=tuple(self.target_shape)), inputs[0])
