"""Squeeze-and-excitation (Hu et al., 2017), the channel gate of the mobile family.

Layers: `<name>_squeeze` (GlobalAveragePooling2D, keepdims), `<name>_reduce` (1x1 conv to the
squeeze width, with the activation), `<name>_expand` (1x1 conv back to the input's channels,
with the gate), `<name>_excite` (Multiply of the input and the gate). `mbconv` uses the same
layers, as `se_squeeze` ... `se_excite`."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from archspec.blocks.base import ActivationName, Block, PositiveInt, register
from archspec.blocks.layers.conv import Conv2D
from archspec.blocks.layers.global_pool import GlobalPool
from archspec.blocks.layers.multiply import Multiply
from archspec.core.errors import ShapeError
from archspec.ir.graph import Builder
from archspec.ir.op import image, message

#: the layers of a squeeze-excitation, in order
SE_ROLES = ("squeeze", "reduce", "expand", "excite")


def squeeze_width(channels: int, ratio: float) -> int:
    """Keras's squeeze width: max(1, int(channels x ratio))."""
    return max(1, int(channels * ratio))


def squeeze_excite(
    b: Builder,
    x: str,
    filters: int,
    activation: str,
    gate: str,
    roles: tuple[str, str, str, str] = SE_ROLES,
) -> str:
    """GAP (keepdims) -> 1x1 conv (filters, activation) -> 1x1 conv (x's channels, gate) ->
    x times the gate. `roles` names the four layers."""
    channels = image(b.shape(x), "squeeze-excitation")[2]
    if channels is None:  # channels are always known; kept for the type checker
        raise ShapeError(f"squeeze-excitation needs known channels; received {message(b.shape(x))}")
    s = b.add(roles[0], GlobalPool(kind="avg", keepdims=True), x)
    s = b.add(roles[1], Conv2D(filters=filters, kernel=(1, 1), activation=activation), s)
    s = b.add(roles[2], Conv2D(filters=channels, kernel=(1, 1), activation=gate), s)
    return b.add(roles[3], Multiply(), x, s)


@register
class SqueezeExcite(Block):
    """A squeeze-excitation gate on the input's channels: global average pool (keepdims) ->
    1x1 conv to the squeeze width (`activation`, bias) -> 1x1 conv back to the input's channels
    (`gate`, bias) -> the input times the gate. The squeeze width is `filters`, or
    max(1, int(input channels x ratio)): give exactly one of them."""

    family = "mobile"
    example: ClassVar[str] = "{type: se, ratio: 0.25, activation: swish}"
    aliases: ClassVar[tuple[str, ...]] = (
        "squeeze_excite",
        "squeeze_excitation",
        "squeeze_and_excitation",
    )
    type: Literal["se"] = "se"
    filters: PositiveInt | None = Field(
        default=None, description="The squeeze width (the reducing conv's filters); or `ratio`."
    )
    ratio: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = Field(
        default=None,
        description="Squeeze width = max(1, int(input channels x ratio)); or `filters`.",
    )
    activation: ActivationName = Field(default="relu", description="Of the reducing conv.")
    gate: ActivationName = Field(default="sigmoid", description="Of the expanding conv.")

    @model_validator(mode="after")
    def _one_width(self) -> SqueezeExcite:
        given = [k for k in ("filters", "ratio") if getattr(self, k) is not None]
        if len(given) != 1:
            received = "both" if given else "neither"
            raise ValueError(
                "give exactly one of `filters` (the squeeze width) and `ratio` (squeeze width = "
                f"max(1, int(input channels x ratio))); received {received}"
            )
        return self

    def expand(self, b: Builder, inputs: list[str]) -> str:
        x = inputs[0]
        filters = self.filters
        if filters is None:
            channels = image(b.shape(x), "squeeze-excitation")[2] or 1
            filters = squeeze_width(channels, self.ratio or 0.0)
        return squeeze_excite(b, x, filters, self.activation, self.gate)
