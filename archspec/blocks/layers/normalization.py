"""Normalization and the `normalization` layer type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from archspec.blocks.base import Block, register
from archspec.blocks.layers.rescaling import PerChannel, as_value, fmt, per_channel
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Cost, Op, known

Variance = Annotated[float, Field(ge=0, allow_inf_nan=False)]


@dataclass(frozen=True)
class Normalization(Op):
    """(x - mean) / sqrt(variance) on the last axis. Without `mean` and `variance` the layer
    carries them as non-trainable weights (mean and variance per channel, and a sample count),
    to be set by `adapt` or loaded, as keras.applications' EfficientNet does."""

    mean: float | tuple[float, ...] | None = None
    variance: float | tuple[float, ...] | None = None

    def infer(self, shapes: list[Shape]) -> Shape:
        if self.mean is not None and self.variance is not None:
            per_channel("mean", self.mean, shapes[0], "normalization")
            per_channel("variance", self.variance, shapes[0], "normalization")
        else:
            known(shapes[0][-1:], "normalization without `mean` and `variance`")
        return shapes[0]

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        if self.mean is not None:
            return Cost()
        (channels,) = known(shapes[0][-1:], "normalization without `mean` and `variance`")
        return Cost(non_trainable=2 * channels + 1)  # mean, variance, count

    def emit(self, keras: Any, name: str) -> Any:
        mean, variance = self.mean, self.variance
        # Keras needs both of one shape: a number beside a per-channel list is repeated
        if isinstance(mean, tuple) and isinstance(variance, float):
            variance = (variance,) * len(mean)
        if isinstance(variance, tuple) and isinstance(mean, float):
            mean = (mean,) * len(variance)

        def arg(v: float | tuple[float, ...] | None) -> float | list[float] | None:
            return v if v is None or isinstance(v, float) else list(v)

        return keras.layers.Normalization(
            axis=-1, mean=arg(mean), variance=arg(variance), name=name
        )

    def label(self) -> str:
        if self.mean is None or self.variance is None:
            return "normalize"
        return f"normalize mean {fmt(self.mean)}, variance {fmt(self.variance)}"

    def describe(self) -> str:
        return self.label()


@register
class NormalizationBlock(Block):
    """Normalization on the last axis: (x - mean) / sqrt(variance). Without `mean` and
    `variance`, the layer holds them as non-trainable weights (2 x channels + 1: mean, variance
    and a sample count), set later by Keras's `adapt` or by loading weights."""

    example: ClassVar[str] = "{type: normalization}"
    aliases: ClassVar[tuple[str, ...]] = ("Normalization",)
    type: Literal["normalization"] = "normalization"
    mean: PerChannel | None = Field(
        default=None, description="The mean: a number, or one per channel; with `variance`."
    )
    variance: Variance | Annotated[list[Variance], Field(min_length=1)] | None = Field(
        default=None, description="The variance (>= 0): a number, or one per channel; with `mean`."
    )

    @model_validator(mode="after")
    def _both_or_neither(self) -> NormalizationBlock:
        if (self.mean is None) != (self.variance is None):
            given, missing = ("mean", "variance") if self.variance is None else ("variance", "mean")
            raise ValueError(
                f"`normalization` takes `mean` and `variance` together or neither; "
                f"`{given}` is given without `{missing}`"
            )
        return self

    def expand(self, b: Builder, inputs: list[str]) -> str:
        mean = None if self.mean is None else as_value(self.mean)
        variance = None if self.variance is None else as_value(self.variance)
        return b.add("", Normalization(mean=mean, variance=variance), inputs[0])
