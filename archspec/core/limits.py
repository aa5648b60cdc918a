"""Limits on what a spec may ask for, and their checks.

archspec reads files from pull requests, so it bounds every quantity that could make it slow,
big or crash before anything large is built and before TensorFlow is imported:

- while reading: the file size, the YAML nesting depth and node count (enforced on parser
  events, before any node is composed) and the length of a number literal (loader.py);
- while resolving (resolve.py reads `doc.limits`): the number of blocks after expansion, by
  count arithmetic before each `repeat` or user-defined block is expanded;
- before lowering: the size of each input;
- while lowering, layer by layer: the number of layers, each op's own limits (filters and units,
  kernel and pool windows: `Op.check_limits`), every other integer the op passes to Keras
  (strides, dilation, upsampling, padding, ...: `factor`, and nothing past TensorFlow's 32-bit
  integers), and each layer's parameters and output size;
- after lowering, on the static IR: the estimated parameters and activation memory in total.

This module holds the limits and the command-line flags that raise them; the checks that need
the spec and the graph are in frontend/bounds.py.

Each limit has its own error code (E701-E713, in errors.CODES); the ones a real model may reach can
be raised from the command line (`OPTIONS`). The README's "Guarantees" section lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from archspec.core.errors import Diagnostic, UsageError
from archspec.core.units import parse_quantity

#: Bytes per activation element: float32, the Keras default.
BYTES_PER_ELEMENT = 4
#: the largest output difference `build --verify` accepts unless told (--tolerance)
TOLERANCE = 1e-4
#: The largest integer TensorFlow takes in a layer's attributes and shapes (int32).
INT32_MAX = 2**31 - 1


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
    #: a stride, dilation rate, upsampling factor, depth multiplier, or padding or cropping
    #: amount (E713): what else a spec passes to Keras as an integer
    factor: int = 1_024
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


def raise_hint(flag: str, why: str = "if this model is real") -> str:
    """The hint of a limit's error: its flag, and its `Limits` field for the Python API."""
    field = OPTIONS[flag][0]
    text = f"raise the limit with {flag} (in Python: limits=archspec.Limits({field}=...))"
    return f"{text} {why}" if why else text


def parse_option(flag: str, value: str) -> int:
    """The value of a limit flag: a count (`3G` = 3 x 10^9) or a size in bytes (`4M` = 4 MiB).
    A bad value is a usage error (exit 2)."""
    kind = OPTIONS[flag][1]
    number = parse_quantity(value, binary=kind == "bytes")
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
