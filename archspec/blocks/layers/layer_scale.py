"""LayerScale and the `layer_scale` layer type: a learned factor per channel (CaiT, ConvNeXt).

Keras's ConvNeXt has its own `LayerScale` layer (a custom class: a model using it loads only
with that class registered). This op emits the built-in EinsumDense("abcd,d->abcd") (every
axis named) without a bias instead: one weight of shape (channels,), in the same position as
LayerScale's `gamma`, so
ConvNeXt's weights load into it, and x * gamma computed the same way (bitwise equal outputs); it
works on any number of leading axes and with an unknown height and width, and a saved model
loads with `safe_mode=True`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, register
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Cost, Op, known

#: a layer scale's initial value
LayerScaleInit = Annotated[float, Field(gt=0, allow_inf_nan=False)]


@dataclass(frozen=True)
class LayerScale(Op):
    """x * gamma, gamma one learned factor per channel (the last axis), starting at `init`."""

    channels: int
    init: float = 1e-6
    #: the input's shape without the batch (None where unknown): the equation names every
    #: axis, since Keras's EinsumDense with `...` swaps the height and width of its symbolic
    #: output shape when they differ (the values are right; a later layer refuses the shape)
    dims: tuple[int | None, ...] = (None, None, None)

    def infer(self, shapes: list[Shape]) -> Shape:
        known(shapes[0][-1:], "a layer scale")
        return shapes[0]

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        # elementwise: no MACs, as the published figures (and the other elementwise layers)
        return Cost(trainable=self.channels)

    def emit(self, keras: Any, name: str) -> Any:
        axes = "abcdefgh"[: len(self.dims) + 1]  # the batch, then the input's axes; last: channels
        return keras.layers.EinsumDense(
            f"{axes},{axes[-1]}->{axes}",
            output_shape=(*self.dims[:-1], self.channels),
            bias_axes=None,
            kernel_initializer=keras.initializers.Constant(self.init),
            name=name,
        )

    def label(self) -> str:
        return f"layer scale {self.init:g}"


def layer_scale(b: Builder, role: str, x: str, init: float) -> str:
    """A LayerScale of `x`'s channels (its last axis), named by `role`."""
    shape = b.shape(x)
    (channels,) = known(shape[-1:], "a layer scale")
    return b.add(role, LayerScale(channels=channels, init=init, dims=tuple(shape)), x)


@register
class LayerScaleBlock(Block):
    """A learned factor per channel (the last axis), starting at `init`: channels params. Emits
    EinsumDense("...c,c->...c", no bias), a built-in layer with the weight of ConvNeXt's custom
    LayerScale."""

    example: ClassVar[str] = "{type: layer_scale, init: 0.1}"
    type: Literal["layer_scale"] = "layer_scale"
    init: LayerScaleInit = Field(default=1e-6, description="The factors' initial value (> 0).")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return layer_scale(b, "", inputs[0], self.init)
