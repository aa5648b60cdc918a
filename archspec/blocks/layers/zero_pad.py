"""ZeroPad2D and the `zero_pad` layer type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, NonNegativeInt, register
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, Pair, image


@dataclass(frozen=True)
class ZeroPad2D(Op):
    padding: tuple[Pair, Pair]

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, c = image(shapes[0], "zero padding")
        (t, b), (left, r) = self.padding
        return (None if h is None else h + t + b, None if w is None else w + left + r, c)

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.ZeroPadding2D(padding=self.padding, name=name)

    def label(self) -> str:
        (t, b), (left, r) = self.padding
        return f"pad {t}" if len({t, b, left, r}) == 1 else f"pad {t},{b},{left},{r}"


_NonNegPair = Annotated[list[NonNegativeInt], Field(min_length=2, max_length=2)]


@register
class ZeroPad(Block):
    """ZeroPadding2D."""

    example: ClassVar[str] = "{type: zero_pad, padding: [[1, 2], [0, 3]]}"
    aliases: ClassVar[tuple[str, ...]] = ("ZeroPadding2D", "pad", "padding", "zeropad2d")
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
        return b.add("", ZeroPad2D(padding=pads), inputs[0])
