"""Crop2D and the `crop` layer type (Keras's Cropping2D)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from archspec.blocks.base import Block, NonNegativeInt, register
from archspec.core.units import Dim, Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Op, Pair, ShapeError, image


@dataclass(frozen=True)
class Crop2D(Op):
    """Removes rows and columns at the edges: ((top, bottom), (left, right))."""

    cropping: tuple[Pair, Pair]

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, c = image(shapes[0], "cropping")
        return (_cut(h, self.cropping[0], "height"), _cut(w, self.cropping[1], "width"), c)

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Cropping2D(cropping=self.cropping, name=name)

    def label(self) -> str:
        (t, b), (left, r) = self.cropping
        return f"crop {t}" if len({t, b, left, r}) == 1 else f"crop {t},{b},{left},{r}"


def _cut(size: Dim, edges: Pair, axis: str) -> Dim:
    """`size` less both edges; E402 where nothing is left (Keras refuses it too). An unknown
    size stays unknown, as in Keras."""
    if size is None:
        return None
    left = size - edges[0] - edges[1]
    if left <= 0:
        edge_names = "top and bottom" if axis == "height" else "left and right"
        raise ShapeError(
            f"cropping {edges[0]} + {edges[1]} from a {axis} of {size} leaves {max(left, 0)}",
            key="cropping",
            hint=f"the {edge_names} cropping must add up to less than the {axis} ({size})",
            code="E402",
        )
    return left


_NonNegPair = Annotated[list[NonNegativeInt], Field(min_length=2, max_length=2)]


def _cropping_form(value: object) -> object:
    """One clear error for a negative number or a list of the wrong form (rather than one
    error per form of the union that it fails); other types are left to the union."""
    forms = "an int, [height, width] or [[top, bottom], [left, right]]"
    if not isinstance(value, list):
        items: list[object] = [value]
    elif len(value) != 2 or (
        any(isinstance(v, list) for v in value)
        and not all(isinstance(v, list) and len(v) == 2 for v in value)
    ):
        raise ValueError(f"expected {forms}; received {value}")
    else:
        items = [v for item in value for v in (item if isinstance(item, list) else [item])]
    for v in items:
        if isinstance(v, int) and not isinstance(v, bool) and v < 0:
            raise ValueError(f"expected rows and columns to remove, 0 or more; received {v}")
    return value


@register
class Crop(Block):
    """Cropping2D: removes rows at the top and bottom and columns at the left and right."""

    example: ClassVar[str] = "{type: crop, cropping: [[1, 2], [0, 3]]}"
    aliases: ClassVar[tuple[str, ...]] = ("Cropping2D",)
    type: Literal["crop"] = "crop"
    cropping: Annotated[
        NonNegativeInt
        | _NonNegPair
        | Annotated[list[_NonNegPair], Field(min_length=2, max_length=2)],
        BeforeValidator(_cropping_form),
    ] = Field(
        description="Rows and columns removed: an int (every edge), [height, width] (both "
        "edges of each), or [[top, bottom], [left, right]]."
    )

    def expand(self, b: Builder, inputs: list[str]) -> str:
        c = self.cropping
        crops: tuple[Pair, Pair]
        if isinstance(c, int):
            crops = ((c, c), (c, c))
        elif all(isinstance(v, int) for v in c):
            crops = ((c[0], c[0]), (c[1], c[1]))  # type: ignore[assignment]
        else:
            crops = ((c[0][0], c[0][1]), (c[1][0], c[1][1]))  # type: ignore[index]
        return b.add("", Crop2D(cropping=crops), inputs[0])
