"""The op protocol: what every IR operation provides, and the shape helpers ops share.

An op is one Keras layer kind. Each is defined once, in one file with the spec layer type that
exposes it (archspec/blocks/layers/), with `infer` (pure shape arithmetic), `cost` (parameters and
MACs), `emit` (the Keras layer), `label` and `describe` (text for diagrams and diff) and
`check_limits`. Blocks never touch Keras: they compose ops, so the static path and the Keras path
cannot drift. `keras` is passed into `emit`, never imported here.

Shapes are channels-last and exclude the batch dimension. A dimension is None where it is
unknown: the height and width of an input given as `null` (Keras's `Input((None, None, 3))`), and
what follows from them. MACs count multiply-accumulates of convolutions and dense layers only
(the convention of torchvision's and the papers' figures); they are None where they depend on an
unknown size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from archspec.core.errors import LimitExceeded, ShapeError
from archspec.core.limits import Limits
from archspec.core.units import Dim, Shape, product, shape_str

__all__ = [
    "Cost",
    "Dim",
    "Op",
    "Pair",
    "Shape",
    "ShapeError",
    "agree",
    "check_width",
    "check_window",
    "collapse_hint",
    "image",
    "known",
    "message",
    "mismatch",
    "product",
    "window",
]

Pair = tuple[int, int]


@dataclass(frozen=True)
class Cost:
    trainable: int = 0
    non_trainable: int = 0
    #: None when it depends on a size that is not known until run time
    macs: int | None = 0

    @property
    def params(self) -> int:
        """All parameters, as Keras counts them (BN moving statistics are non-trainable)."""
        return self.trainable + self.non_trainable

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.trainable + other.trainable,
            self.non_trainable + other.non_trainable,
            None if self.macs is None or other.macs is None else self.macs + other.macs,
        )


class Op:
    """Base class of IR operations."""

    #: whether the op takes a list of inputs (add, concat)
    multi_input: ClassVar[bool] = False

    def infer(self, shapes: list[Shape]) -> Shape:
        """The output shape for these input shapes; ShapeError where they do not fit."""
        raise NotImplementedError

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        """Parameters and MACs; none by default."""
        return Cost()

    def emit(self, keras: Any, name: str) -> Any:
        """The Keras layer (`keras` is passed in, never imported by an op)."""
        raise NotImplementedError

    def label(self) -> str:
        """The essentials, short: `3x3/2, 64 relu`."""
        return ""

    def describe(self) -> str:
        """The kind and the essentials, for diagrams and diff: `conv 3x3/2, 64 relu`. By
        default the label, or the class name where the label is empty."""
        return self.label() or type(self).__name__.lower()

    def check_limits(self, limits: Limits) -> None:
        """LimitExceeded where a parameter is over its limit (filters E707, windows E708)."""


def message(shape: Shape) -> str:
    """A shape as messages show it: (8, 8, 64), `?` where unknown."""
    return shape_str(shape, "message")


def known(shape: Shape, what: str) -> tuple[int, ...]:
    """`shape` if all its dimensions are known; otherwise E404, for a layer whose weights or
    output size need them (`what`: "flatten")."""
    if None in shape:
        raise ShapeError(
            f"{what} needs a known size; received {message(shape)}, where `?` is not known "
            "until run time (the input's height or width is `null`)",
            hint="use global_avg_pool or global_max_pool instead, or give the input a fixed "
            "height and width",
            code="E404",
        )
    return shape  # type: ignore[return-value]


def mismatch(what: str, shapes: list[Shape], hint: str | None = None) -> ShapeError:
    """E401 for inputs that do not fit each other: `what` they need, and the shapes received."""
    e = ShapeError(f"{what}; received " + ", ".join(message(s) for s in shapes), hint=hint)
    e.mismatch = (what, shapes)
    return e


def agree(shapes: list[Shape], what: str, skip: int | None = None) -> None:
    """Inputs that must be equal on every axis (but `skip`): an unknown dimension agrees with
    anything, as in Keras."""
    for i, dims in enumerate(zip(*shapes, strict=True)):
        if i != skip and len({d for d in dims if d is not None}) > 1:
            raise mismatch(what, shapes)


def image(shape: Shape, what: str) -> Shape:
    """`shape` if it is an image's (height, width, channels); otherwise E403."""
    if len(shape) != 3:
        raise ShapeError(
            f"{what} needs an image input (height, width, channels); "
            f"received shape {message(shape)}",
            hint="a flatten, global pool or dense layer before it made a vector: image layers "
            "come before those"
            if len(shape) == 1
            else "image layers need (height, width, channels)",
            code="E403",
        )
    return shape


def window(size: Dim, kernel: int, stride: int, padding: str, axis: str) -> Dim:
    """The output size of a sliding window along one axis (conv, pooling); E402 where it
    collapses."""
    if size is None:
        return None
    out = math.ceil(size / stride) if padding == "same" else (size - kernel) // stride + 1
    if out <= 0:
        raise ShapeError(
            f"the {axis} collapses to {max(out, 0)}: input {axis} {size}, window {kernel}, "
            f"stride {stride}, padding {padding}",
            hint=collapse_hint(padding=True),
            code="E402",
        )
    return out


def collapse_hint(padding: bool) -> str:
    """E402's hint for a window that collapses: `padding: same` is suggested only where the
    block has that key (lowering knows the block and drops it where it has not)."""
    return "use a larger input, fewer stride-2 steps, or padding: same" if padding else (
        "use a larger input or fewer stride-2 steps")  # fmt: skip


def conv_window(
    height: Dim, width: Dim, kernel: Pair, strides: Pair, dilation: Pair, padding: str
) -> tuple[Dim, Dim]:
    """The output height and width of a (dilated) convolution: a dilated window spans
    (k - 1) x d + 1 pixels along each axis."""
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
    return (
        window(height, span[0], strides[0], padding, "height"),
        window(width, span[1], strides[1], padding, "width"),
    )


def window_text(kernel: Pair, strides: Pair) -> tuple[str, str]:
    """For labels: (3, 3), (2, 2) -> ("3x3", "/2"); (3, 1), (2, 1) -> ("3x1", "/2x1"); no
    stride -> ""."""
    k = f"{kernel[0]}x{kernel[1]}"
    if strides == (1, 1):
        return k, ""
    return k, f"/{strides[0]}" + ("" if strides[0] == strides[1] else f"x{strides[1]}")


def check_width(what: str, width: int, limits: Limits, key: str | None = None) -> None:
    """Filters of a convolution, units of a dense layer (E707). `key`: the block key that holds
    the width (default `what`), where the error points when the block has it."""
    if width > limits.width:
        raise LimitExceeded(
            "E707",
            f"{what} {width:,} is over the limit of {limits.width:,}",
            value=width,
            key=key or what,
        )


def check_window(what: str, window: Pair, limits: Limits, key: str | None = None) -> None:
    """A kernel's or pooling window's height and width (E708). `key`: the block key that holds
    the window (default `what`: `kernel`; a pooling window's is `pool`)."""
    if max(window) > limits.kernel:
        raise LimitExceeded(
            "E708",
            f"a {what} of {max(window):,} is larger than the limit of {limits.kernel:,}",
            value=max(window),
            key=key or what,
        )
