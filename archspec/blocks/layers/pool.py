"""Pool2D and the `max_pool` and `avg_pool` layer types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, Padding, Size, pair, register
from archspec.core.limits import Limits
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, Pair, check_window, image, window


@dataclass(frozen=True)
class Pool2D(Op):
    kind: Literal["max", "avg"]
    pool: Pair
    strides: Pair
    padding: Literal["same", "valid"] = "valid"

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, c = image(shapes[0], "pooling")
        return (
            window(h, self.pool[0], self.strides[0], self.padding, "height"),
            window(w, self.pool[1], self.strides[1], self.padding, "width"),
            c,
        )

    def emit(self, keras: Any, name: str) -> Any:
        cls = keras.layers.MaxPooling2D if self.kind == "max" else keras.layers.AveragePooling2D
        return cls(self.pool, strides=self.strides, padding=self.padding, name=name)

    def label(self) -> str:
        return f"{self.kind} {self.pool[0]}x{self.pool[1]}/{self.strides[0]}"

    def describe(self) -> str:
        return f"{self.kind} pool {self.pool[0]}x{self.pool[1]}/{self.strides[0]}"

    def check_limits(self, limits: Limits) -> None:
        check_window("pooling window", self.pool, limits, key="pool")


class _Pool(Block):
    pool: Size = Field(default=2, description="Pool size: an int or [height, width].")
    strides: Size | None = Field(default=None, description="Strides; default: the pool size.")
    padding: Padding = Field(default="valid", description="`valid` or `same`.")

    def _op(self, kind: Literal["max", "avg"]) -> Pool2D:
        pool = pair(self.pool)
        strides = pool if self.strides is None else pair(self.strides)
        return Pool2D(kind=kind, pool=pool, strides=strides, padding=self.padding)


@register
class MaxPool(_Pool):
    """MaxPooling2D."""

    example: ClassVar[str] = "{type: max_pool, pool: 3, strides: 2, padding: same}"
    aliases: ClassVar[tuple[str, ...]] = ("MaxPooling2D", "maxpool2d")
    type: Literal["max_pool"] = "max_pool"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", self._op("max"), inputs[0])


@register
class AvgPool(_Pool):
    """AveragePooling2D."""

    example: ClassVar[str] = "{type: avg_pool}"
    aliases: ClassVar[tuple[str, ...]] = ("AveragePooling2D", "avgpool2d")
    type: Literal["avg_pool"] = "avg_pool"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", self._op("avg"), inputs[0])
