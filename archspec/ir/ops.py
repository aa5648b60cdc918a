"""The IR's operations: one class per Keras layer kind that archspec emits.

Each op is defined once, with `infer` (pure shape arithmetic), `cost` (parameters and MACs) and
`emit` (the Keras layer). Blocks never touch Keras: they compose ops (archspec/blocks/), so the
static path and the Keras path cannot drift. `keras` is passed into `emit`, never imported here.

Shapes are channels-last and exclude the batch dimension. A dimension is None where it is
unknown: the height and width of an input given as `null` (Keras's `Input((None, None, 3))`), and
what follows from them. MACs count multiply-accumulates of convolutions and dense layers only
(the convention of torchvision's and the papers' figures); they are None where they depend on an
unknown size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

#: a dimension; None where it is unknown
Dim = int | None
Shape = tuple[Dim, ...]
Pair = tuple[int, int]


class ShapeError(Exception):
    """An op cannot take its input shapes; `key` names the spec key to point at, if any, and
    `code` the error code (E401 shape mismatch, E402 collapse, E403 rank, E404 unknown size,
    E302 name clash)."""

    def __init__(
        self, message: str, key: str | None = None, hint: str | None = None, code: str = "E401"
    ) -> None:
        super().__init__(message)
        self.key = key
        self.hint = hint
        self.code = code


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


def fmt_shape(shape: Shape) -> str:
    """For messages: (8, 8, 64), without the batch; an unknown dimension is `?`."""
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def product(*factors: Dim) -> int | None:
    """The product of `factors`, or None if one is unknown (the MACs of a layer whose output
    size is not known until run time)."""
    out = 1
    for f in factors:
        if f is None:
            return None
        out *= f
    return out


def known(shape: Shape, what: str) -> tuple[int, ...]:
    """`shape` if all its dimensions are known; otherwise E404, for a layer whose weights or
    output size need them (`what`: "flatten")."""
    if None in shape:
        raise ShapeError(
            f"{what} needs a known size; received {fmt_shape(shape)}, where `?` is not known "
            "until run time (the input's height or width is `null`)",
            hint="use global_avg_pool or global_max_pool instead, or give the input a fixed "
            "height and width",
            code="E404",
        )
    return shape  # type: ignore[return-value]


def _agree(shapes: list[Shape], what: str, skip: int | None = None) -> None:
    """Inputs that must be equal on every axis (but `skip`): an unknown dimension agrees with
    anything, as in Keras."""
    for i, dims in enumerate(zip(*shapes, strict=True)):
        if i != skip and len({d for d in dims if d is not None}) > 1:
            raise ShapeError(f"{what}; received " + ", ".join(fmt_shape(s) for s in shapes))


def _image(shape: Shape, what: str) -> Shape:
    if len(shape) != 3:
        raise ShapeError(
            f"{what} needs an image input (height, width, channels); "
            f"received shape {fmt_shape(shape)}",
            hint="flatten or pool before dense layers; give `input` as [H, W, C] for images",
            code="E403",
        )
    return shape


def _window(size: Dim, kernel: int, stride: int, padding: str, axis: str) -> Dim:
    if size is None:
        return None
    out = math.ceil(size / stride) if padding == "same" else (size - kernel) // stride + 1
    if out <= 0:
        raise ShapeError(
            f"the {axis} collapses to {max(out, 0)}: input {axis} {size}, window {kernel}, "
            f"stride {stride}, padding {padding}",
            hint="use a larger input, fewer stride-2 steps, or padding: same",
            code="E402",
        )
    return out


class Op:
    """Base class of IR operations."""

    #: whether the op takes a list of inputs (add, concat)
    multi_input: ClassVar[bool] = False

    def infer(self, shapes: list[Shape]) -> Shape:
        raise NotImplementedError

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        return Cost()

    def emit(self, keras: Any, name: str) -> Any:
        raise NotImplementedError

    def label(self) -> str:
        """The essentials, for diagrams: `3x3/2 64 relu`."""
        return ""


@dataclass(frozen=True)
class Conv2D(Op):
    filters: int
    kernel: Pair
    strides: Pair = (1, 1)
    padding: Literal["same", "valid"] = "same"
    activation: str = "linear"
    use_bias: bool = True
    kernel_initializer: str = "glorot_uniform"

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, _ = _image(shapes[0], "a convolution")
        return (
            _window(h, self.kernel[0], self.strides[0], self.padding, "height"),
            _window(w, self.kernel[1], self.strides[1], self.padding, "width"),
            self.filters,
        )

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (channels,) = known(shapes[0][-1:], "a convolution")
        weights = self.kernel[0] * self.kernel[1] * channels * self.filters
        return Cost(
            trainable=weights + (self.filters if self.use_bias else 0),
            macs=product(out[0], out[1], weights),
        )

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Conv2D(
            self.filters,
            self.kernel,
            strides=self.strides,
            padding=self.padding,
            activation=self.activation,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            name=name,
        )

    def label(self) -> str:
        k = f"{self.kernel[0]}x{self.kernel[1]}"
        s = (
            ""
            if self.strides == (1, 1)
            else f"/{self.strides[0]}"
            + ("" if self.strides[0] == self.strides[1] else f"x{self.strides[1]}")
        )
        act = "" if self.activation == "linear" else f" {self.activation}"
        return f"{k}{s}, {self.filters}{act}"


@dataclass(frozen=True)
class Pool2D(Op):
    kind: Literal["max", "avg"]
    pool: Pair
    strides: Pair
    padding: Literal["same", "valid"] = "valid"

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, c = _image(shapes[0], "pooling")
        return (
            _window(h, self.pool[0], self.strides[0], self.padding, "height"),
            _window(w, self.pool[1], self.strides[1], self.padding, "width"),
            c,
        )

    def emit(self, keras: Any, name: str) -> Any:
        cls = keras.layers.MaxPooling2D if self.kind == "max" else keras.layers.AveragePooling2D
        return cls(self.pool, strides=self.strides, padding=self.padding, name=name)

    def label(self) -> str:
        return f"{self.kind} {self.pool[0]}x{self.pool[1]}/{self.strides[0]}"


@dataclass(frozen=True)
class GlobalPool(Op):
    kind: Literal["max", "avg"]

    def infer(self, shapes: list[Shape]) -> Shape:
        return (_image(shapes[0], "global pooling")[2],)

    def emit(self, keras: Any, name: str) -> Any:
        if self.kind == "max":
            return keras.layers.GlobalMaxPooling2D(name=name)
        return keras.layers.GlobalAveragePooling2D(name=name)

    def label(self) -> str:
        return f"global {self.kind}"


@dataclass(frozen=True)
class ZeroPad2D(Op):
    padding: tuple[Pair, Pair]

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, c = _image(shapes[0], "zero padding")
        (t, b), (left, r) = self.padding
        return (None if h is None else h + t + b, None if w is None else w + left + r, c)

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.ZeroPadding2D(padding=self.padding, name=name)

    def label(self) -> str:
        (t, b), (left, r) = self.padding
        return f"pad {t}" if len({t, b, left, r}) == 1 else f"pad {t},{b},{left},{r}"


@dataclass(frozen=True)
class BatchNorm(Op):
    epsilon: float = 1e-3
    momentum: float = 0.99

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (c,) = known(shapes[0][-1:], "batch norm")
        return Cost(trainable=2 * c, non_trainable=2 * c)

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.BatchNormalization(
            epsilon=self.epsilon, momentum=self.momentum, name=name
        )

    def label(self) -> str:
        return "batch norm"


@dataclass(frozen=True)
class Activation(Op):
    activation: str

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Activation(self.activation, name=name)

    def label(self) -> str:
        return self.activation


@dataclass(frozen=True)
class Dropout(Op):
    rate: float

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Dropout(self.rate, name=name)

    def label(self) -> str:
        return f"dropout {self.rate:g}"


@dataclass(frozen=True)
class Flatten(Op):
    def infer(self, shapes: list[Shape]) -> Shape:
        return (math.prod(known(shapes[0], "flatten")),)

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Flatten(name=name)

    def label(self) -> str:
        return "flatten"


@dataclass(frozen=True)
class Dense(Op):
    units: int
    activation: str = "linear"
    use_bias: bool = True

    def infer(self, shapes: list[Shape]) -> Shape:
        known(shapes[0][-1:], "dense")
        return (*shapes[0][:-1], self.units)

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        (features,) = known(shapes[0][-1:], "dense")
        weights = features * self.units
        return Cost(
            trainable=weights + (self.units if self.use_bias else 0),
            macs=product(*shapes[0][:-1], weights),
        )

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Dense(
            self.units, activation=self.activation, use_bias=self.use_bias, name=name
        )

    def label(self) -> str:
        act = "" if self.activation == "linear" else f" {self.activation}"
        return f"{self.units}{act}"


@dataclass(frozen=True)
class Add(Op):
    multi_input: ClassVar[bool] = True

    def infer(self, shapes: list[Shape]) -> Shape:
        what = "add needs inputs of equal shapes"
        if len({len(s) for s in shapes}) != 1:
            raise ShapeError(f"{what}; received " + ", ".join(fmt_shape(s) for s in shapes))
        _agree(shapes, what)
        # Keras: a dimension unknown in any input is unknown in the sum
        return tuple(None if None in dims else dims[0] for dims in zip(*shapes, strict=True))

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Add(name=name)

    def label(self) -> str:
        return "add"


@dataclass(frozen=True)
class Concat(Op):
    multi_input: ClassVar[bool] = True
    axis: int = -1

    def infer(self, shapes: list[Shape]) -> Shape:
        rank = len(shapes[0])
        axis = self.axis + rank if self.axis < 0 else self.axis - 1  # spec axes count the batch
        if not 0 <= axis < rank or any(len(s) != rank for s in shapes):
            raise ShapeError(
                f"concat axis {self.axis} does not fit inputs "
                + ", ".join(fmt_shape(s) for s in shapes),
                key="axis",
            )
        _agree(shapes, "concat needs inputs that are equal but for the concatenation axis", axis)
        sizes = [s[axis] for s in shapes]
        total = None if None in sizes else sum(d for d in sizes if d is not None)
        # Keras: the other dimensions are the first input's
        return (*shapes[0][:axis], total, *shapes[0][axis + 1 :])

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Concatenate(axis=self.axis, name=name)

    def label(self) -> str:
        return "concat"
