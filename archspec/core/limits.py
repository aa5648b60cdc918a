"""Limits on what a spec may ask for, and their checks.

archspec reads files from pull requests, so it bounds every quantity that could make it slow,
big or crash before anything large is built and before TensorFlow is imported:

- while reading: the file size, the YAML nesting depth and node count (enforced on parser
  events, before any node is composed) and the length of a number literal (loader.py);
- while resolving (resolve.py reads `doc.limits`): the number of blocks after expansion, by
  count arithmetic before each `repeat` or user-defined block is expanded;
- before lowering: the size of each input;
- while lowering, layer by layer: the number of layers, filters and units, kernel and pool
  windows, and each layer's parameters and output size;
- after lowering, on the static IR: the estimated parameters and activation memory in total.

Each limit has its own error code (E701-E711, in errors.CODES); the ones a real model may reach can
be raised from the command line (`OPTIONS`). The README's "Guarantees" section lists them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from archspec.core.errors import Diagnostic, KeyPath, SpecError, UsageError, format_path
from archspec.ir.graph import Builder
from archspec.ir.ops import Conv2D, Dense, Op, Pool2D, Shape

if TYPE_CHECKING:
    from archspec.frontend.loader import Document
    from archspec.ir.graph import Graph

#: Bytes per activation element: float32, the Keras default.
BYTES_PER_ELEMENT = 4


@dataclass(frozen=True)
class Limits:
    """Every limit, with its default. `Limits()` is what the CLI uses unless a flag raises one."""

    #: size of the spec file in bytes (E701, --max-file-size)
    file_bytes: int = 1 << 20
    #: YAML nesting depth (E702)
    depth: int = 64
    #: YAML parser events, about two per scalar or collection (E703)
    events: int = 200_000
    #: characters in one number literal (E704)
    number_chars: int = 100
    #: block instances after expansion, `repeat` included (E705 and, at `repeat`, E706;
    #: --max-blocks)
    blocks: int = 10_000
    #: layers after expansion (E705, --max-layers)
    layers: int = 50_000
    #: filters of a convolution, units of a dense layer (E707)
    width: int = 65_536
    #: a convolution kernel's or pooling window's height or width (E708)
    kernel: int = 1_024
    #: elements (product of the dimensions) of one input (E709)
    input_elements: int = 1 << 28
    #: estimated parameters, trainable and not (E710, --max-params)
    params: int = 2_000_000_000
    #: activation memory: every layer's output (and the inputs) in float32 at batch size 1,
    #: as training keeps them for the backward pass (E711, --max-activation-memory)
    activation_bytes: int = 16 << 30


DEFAULT = Limits()

#: command-line flag -> (Limits field, how its value is read)
OPTIONS: dict[str, tuple[str, str]] = {
    "--max-file-size": ("file_bytes", "bytes"),
    "--max-blocks": ("blocks", "count"),
    "--max-layers": ("layers", "count"),
    "--max-params": ("params", "count"),
    "--max-activation-memory": ("activation_bytes", "bytes"),
}

_DECIMAL = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_BINARY = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_option(flag: str, value: str) -> int:
    """The value of a limit flag: a count (`3G` = 3 x 10^9) or a size in bytes (`4M` = 4 MiB).
    A bad value is a usage error (exit 2)."""
    kind = OPTIONS[flag][1]
    table = _BINARY if kind == "bytes" else _DECIMAL
    m = re.fullmatch(r"\s*(\d{1,15}(?:\.\d{1,6})?)\s*([KMGT]?)(?:i?B)?\s*", value, re.IGNORECASE)
    number = round(float(m.group(1)) * table[m.group(2).upper()]) if m else 0
    if number < 1:
        example = {"bytes": "4M (MiB) or 4194304", "count": "3G or 3000000000"}[kind]
        if flag in ("--max-blocks", "--max-layers"):
            example = "20000 or 20K"
        raise UsageError(
            Diagnostic(
                "E003",
                f"{flag} {value!r}: expected a positive {'size' if kind == 'bytes' else 'count'}",
                hint=f"for example {flag} {example}",
            )
        )
    return number


def from_options(options: dict[str, str | None], base: Limits = DEFAULT) -> Limits:
    """`base` with the limits given on the command line ({flag: value or None}) replaced."""
    changes: dict[str, Any] = {}
    for flag, value in options.items():
        if value is not None:
            changes[OPTIONS[flag][0]] = parse_option(flag, value)
    return replace(base, **changes) if changes else base


def human(n: int, binary: bool = False) -> str:
    """2000000000 -> '2G'; 17179869184 (binary) -> '16 GiB'."""
    units = (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)) if binary else (
        ("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3))  # fmt: skip
    for suffix, size in units:
        if n >= size:
            text = f"{n / size:.3g}" if n < 1000 * size else f"{n // size:,}"
            return f"{text} {suffix}iB" if binary else f"{text}{suffix}"
    return f"{n} B" if binary else str(n)


class LimitExceeded(Exception):
    """Raised inside lowering, where no position is known; lower.py positions it at the block
    (and at `key` when the block has it)."""

    def __init__(self, code: str, message: str, value: object = None, hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.value = value
        self.hint = hint

    def key_in(self, raw: dict[str, object]) -> str | None:
        """The block key whose value is the offending number, if one is."""
        if self.value is None:
            return None
        for key, v in raw.items():
            if isinstance(v, bool) or key in ("type", "name", "inputs"):
                continue
            if v == self.value or (isinstance(v, list) and self.value in v):
                return key
        return None


# -- before lowering -----------------------------------------------------------------------


def elements(shape: Shape) -> int:
    """The element count of `shape`, an unknown dimension (None) counted as 1: the limits bound
    what the spec fixes, and a size given at run time is the caller's."""
    if None in shape:
        return math.prod(1 if d is None else d for d in shape)
    return math.prod(shape)  # type: ignore[arg-type]


def check_inputs(doc: Document, shapes: dict[str, Shape], named: bool,
                 limits: Limits = DEFAULT) -> None:  # fmt: skip
    """Each input's element count (E709)."""
    for name, shape in shapes.items():
        n = elements(shape)
        if n > limits.input_elements:
            path: KeyPath = ("inputs", name) if named else ("input",)
            dims = " x ".join("?" if d is None else f"{d:,}" for d in shape)
            raise SpecError(
                doc.diag(
                    "E709",
                    f"{format_path(path)}: {dims} has {human(n)} elements, "
                    f"more than the limit of {limits.input_elements:,}",
                    path,
                    hint="archspec describes CNNs for images up to about 16384 x 16384",
                )
            )


# -- while lowering ------------------------------------------------------------------------


class CheckedBuilder(Builder):
    """A Builder that refuses, layer by layer, what is over a limit, so that no block can build
    much before it is stopped (a `vgg` block with `n_conv: 1000000` stops at the layer limit)."""

    def __init__(self, graph: Graph, block: Any, limits: Limits = DEFAULT) -> None:
        super().__init__(graph, block)
        self.limits = limits

    def add(self, role: str, op: Op, *inputs: str) -> str:
        lim = self.limits
        if len(self.graph.nodes) >= lim.layers:
            raise LimitExceeded(
                "E705",
                f"the spec expands to more than {lim.layers:,} layers",
                hint="raise the limit with --max-layers if this model is real",
            )
        check_op(op, lim)
        name = super().add(role, op, *inputs)
        node = self.graph.nodes[name]
        if node.params > lim.params:
            raise LimitExceeded(
                "E710",
                f"layer `{name}` alone has {human(node.params)} parameters, more than the "
                f"limit of {human(lim.params)}",
                hint="raise the limit with --max-params if this model is real",
            )
        size = elements(node.shape) * BYTES_PER_ELEMENT
        if size > lim.activation_bytes:
            raise LimitExceeded(
                "E711",
                f"layer `{name}` alone outputs {human(size, True)} of activations, more than "
                f"the limit of {human(lim.activation_bytes, True)}",
                hint="raise the limit with --max-activation-memory if this model is real",
            )
        return name


def check_op(op: Op, limits: Limits = DEFAULT) -> None:
    """Filters, units (E707) and windows (E708) of one op."""
    width = op.filters if isinstance(op, Conv2D) else op.units if isinstance(op, Dense) else None
    if width is not None and width > limits.width:
        what = "filters" if isinstance(op, Conv2D) else "units"
        raise LimitExceeded(
            "E707",
            f"{what} {width:,} is over the limit of {limits.width:,}",
            value=width,
        )
    window = op.kernel if isinstance(op, Conv2D) else op.pool if isinstance(op, Pool2D) else None
    if window is not None and max(window) > limits.kernel:
        what = "kernel" if isinstance(op, Conv2D) else "pooling window"
        raise LimitExceeded(
            "E708",
            f"a {what} of {max(window):,} is larger than the limit of {limits.kernel:,}",
            value=max(window),
        )


# -- after lowering ------------------------------------------------------------------------


def check_totals(doc: Document, graph: Graph, limits: Limits = DEFAULT) -> None:
    """Estimated parameters (E710) and activation memory (E711) of the whole model, from the
    static IR, reported at the block where the running total crosses the limit."""
    params = activations = 0
    for shape in graph.inputs.values():
        activations += elements(shape) * BYTES_PER_ELEMENT
    for block in graph.blocks:
        for name in block.nodes:
            node = graph.nodes[name]
            params += node.params
            activations += elements(node.shape) * BYTES_PER_ELEMENT
        if params > limits.params:
            raise SpecError(
                doc.diag(
                    "E710",
                    f"{format_path(block.path)} (`{block.name}`): the parameters pass the limit "
                    f"of {human(limits.params)} here ({human(graph.params)} in total)",
                    block.path,
                    hint="raise the limit with --max-params if this model is real",
                )
            )
        if activations > limits.activation_bytes:
            total_activations = sum(elements(s) for s in graph.inputs.values()) + sum(
                elements(n.shape) for n in graph.nodes.values()
            )
            raise SpecError(
                doc.diag(
                    "E711",
                    f"{format_path(block.path)} (`{block.name}`): the activation memory passes "
                    f"the limit of {human(limits.activation_bytes, True)} here "
                    f"({human(total_activations * BYTES_PER_ELEMENT, True)} in total: every "
                    "layer's output in float32 at batch size 1)",
                    block.path,
                    hint="raise the limit with --max-activation-memory if this model is real",
                )
            )
