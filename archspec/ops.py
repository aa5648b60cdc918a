"""The IR's operations: one class per Keras layer kind that archspec emits.

Each op is defined once, with `infer` (pure shape arithmetic), `cost` (parameters and MACs) and
`emit` (the Keras layer). Blocks never touch Keras: they compose ops (archspec/blocks/), so the
static path and the Keras path cannot drift. `keras` is passed into `emit`, never imported here.

Shapes are channels-last and exclude the batch dimension. MACs count multiply-accumulates of
convolutions and dense layers only (the convention of torchvision's and the papers' figures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

Shape = tuple[int, ...]
Pair = tuple[int, int]


class ShapeError(Exception):
    """An op cannot take its input shapes; `key` names the spec key to point at, if any, and
    `code` the error code (E401 shape mismatch, E402 collapse, E403 rank, E302 name clash)."""

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
    macs: int = 0

    @property
    def params(self) -> int:
        """All parameters, as Keras counts them (BN moving statistics are non-trainable)."""
        return self.trainable + self.non_trainable

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.trainable + other.trainable,
            self.non_trainable + other.non_trainable,
            self.macs + other.macs,
        )


def fmt_shape(shape: Shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _image(shape: Shape, what: str) -> Shape:
    if len(shape) != 3:
        raise ShapeError(
            f"{what} needs an image input (height, width, channels); "
            f"received shape {fmt_shape(shape)}",
            hint="flatten or pool before dense layers; give `input` as [H, W, C] for images",
            code="E403",
        )
    return shape


def _window(size: int, kernel: int, stride: int, padding: str, axis: str) -> int:
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
        weights = self.kernel[0] * self.kernel[1] * shapes[0][-1] * self.filters
        return Cost(
            trainable=weights + (self.filters if self.use_bias else 0),
            macs=out[0] * out[1] * weights,
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
        return (h + t + b, w + left + r, c)

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
        c = shapes[0][-1]
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
        return (math.prod(shapes[0]),)

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
        return (*shapes[0][:-1], self.units)

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        weights = shapes[0][-1] * self.units
        return Cost(
            trainable=weights + (self.units if self.use_bias else 0),
            macs=math.prod(shapes[0][:-1]) * weights,
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
        if len(set(shapes)) != 1:
            raise ShapeError(
                "add needs inputs of equal shapes; received "
                + ", ".join(fmt_shape(s) for s in shapes)
            )
        return shapes[0]

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
        rest = {s[:axis] + s[axis + 1 :] for s in shapes}
        if len(rest) != 1:
            raise ShapeError(
                "concat needs inputs that are equal but for the concatenation axis; received "
                + ", ".join(fmt_shape(s) for s in shapes),
            )
        total = sum(s[axis] for s in shapes)
        return (*shapes[0][:axis], total, *shapes[0][axis + 1 :])

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Concatenate(axis=self.axis, name=name)

    def label(self) -> str:
        return "concat"
