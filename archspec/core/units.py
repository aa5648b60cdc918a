"""Counts, byte sizes and shapes: read one way and printed one way, for every stage.

Counts use decimal suffixes (`25.6M` = 25,600,000); byte sizes binary ones (`4M` = 4 MiB).
Shapes are channels-last and exclude the batch dimension; a dimension is None where it is
unknown until run time (an input given as `[null, null, 3]`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from archspec.core.errors import HintedValueError

#: a dimension; None where it is unknown
Dim = int | None
Shape = tuple[Dim, ...]

DECIMAL = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
BINARY = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}

#: a count as a spec writes it (`budget`, `expect`): digits, an optional fraction and suffix
COUNT_PATTERN = r"^\s*\d+(\.\d+)?\s*[KMGT]?\s*$"
_COUNT = re.compile(r"\s*(\d+)(?:\.(\d+))?\s*([KMGT]?)\s*")
#: a limit flag's value: case-insensitive, an optional B or iB, bounded digits
_OPTION = re.compile(r"\s*(\d{1,15}(?:\.\d{1,6})?)\s*([KMGT]?)(?:i?B)?\s*", re.IGNORECASE)


def parse_count(value: int | str) -> int:
    """25600000, '25.6M', '3.9G' -> int. ValueError for anything else."""
    if isinstance(value, int):
        return value
    m = _COUNT.fullmatch(value)
    number = float(f"{m.group(1)}.{m.group(2) or 0}") * DECIMAL[m.group(3)] if m else math.nan
    if not math.isfinite(number):  # no match, or 400 digits read as a float
        upper = value.upper()  # `1m`: the suffixes are capitals (`m` is no milli here either)
        hint = None
        if upper != value and _COUNT.fullmatch(upper):
            hint = f"write `{upper.strip()}`: the suffixes are K, M, G and T"
        elif re.fullmatch(r"\s*\d+(\.\d+)?[eE]\+?\d{1,2}\s*", value):  # `4.19e6`
            d = Decimal(value.strip())
            unit = next((u for u in "TGMK" if d >= DECIMAL[u]), "")
            short = format((d / DECIMAL[unit]).normalize(), "f") + unit
            also = f" ({d:f})" if unit else ""
            hint = f"write `{short}`{also}: a count takes K, M, G or T, not an exponent"
        elif (written := _UNIT.fullmatch(value)) is not None:  # `1.5GB`, `300MFLOPs`
            hint = _unit_hint(written.group(1) + written.group(2).upper(), written.group(3))
        raise HintedValueError(
            f"expected a count like 25600000 or '25.6M', received {value!r}", hint
        )
    return round(number)


#: a count written with a unit after its suffix: `1.5GB`, `300MFLOPs`, `25.6M params`
_UNIT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)\s*(i?B|bytes?|FLOPS?|MACS?|params?)\s*",
                   re.IGNORECASE)  # fmt: skip


def _unit_hint(count: str, unit: str) -> str:
    """The hint for a count written with a unit (`1.5GB` -> `1.5G`); FLOPs are 2 x MACs."""
    hint = f"write `{count}`: a count takes K, M, G or T and no unit (no B, bytes or FLOPs)"
    if unit.upper().startswith("FLOP"):
        hint += f"; and if {count} is FLOPs, the MACs are half (FLOPs = 2 x MACs): `{half(count)}`"
    return hint


def half(count: int | str) -> str:
    """Half of a count, written as it was (`600M` -> `300M`, `1.5G` -> `750M`, 601 -> 300):
    the MACs of a number of FLOPs, a whole number (a count without a suffix is an integer)."""
    m = _COUNT.fullmatch(str(count))
    if m is None:
        return f"{count} / 2"
    d = (Decimal(f"{m.group(1)}.{m.group(2) or 0}") * DECIMAL[m.group(3)] / 2).to_integral_value()
    unit = next((u for u in "TGMK" if d >= DECIMAL[u]), "") if m.group(3) else ""
    return format((d / DECIMAL[unit]).normalize(), "f") + unit


def expression_suffix_hint(source: str) -> str | None:
    """The hint for an expression that does not parse because a count in it has a suffix
    (`${20M if res <= 160 else 40M}`): suffixes are read in a plain value only."""
    m = re.search(r"(?<![\w.])(\d+(?:\.\d+)?)([KMGT])\b", source)
    if m is None:
        return None
    n = Decimal(m.group(1)) * DECIMAL[m.group(2)]
    exp = {"K": 3, "M": 6, "G": 9, "T": 12}[m.group(2)]
    return (
        f"a size suffix works in a plain value, not inside `${{...}}`: write "
        f"{m.group(0)} as {format(n.normalize(), 'f')} or {m.group(1)} * 10**{exp}"
    )


def count_precision(value: str) -> tuple[int, int] | None:
    """'25.6M' -> (1, 10**6): the decimals and the unit a suffixed count is written at; None
    for a count without a suffix."""
    m = _COUNT.fullmatch(value)
    if m is None or not m.group(3):
        return None
    return len(m.group(2) or ""), DECIMAL[m.group(3)]


def parse_quantity(value: str, binary: bool) -> int:
    """A command-line count (`3G`, binary False) or byte size (`4M`, `4MiB`, binary True);
    0 where `value` is not one (the caller says what it expected)."""
    m = _OPTION.fullmatch(value)
    if m is None:
        return 0
    return round(float(m.group(1)) * (BINARY if binary else DECIMAL)[m.group(2).upper()])


def human(n: int | float) -> str:
    """For summaries: 12_345_678 -> '12.35M'; 999_999 -> '1.00M' (the unit is chosen after
    rounding)."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(round(n / size, 2)) >= 1 and abs(n) >= 1000:
            return f"{n / size:.2f}{unit}"
    return str(int(n))


def compact(n: int, binary: bool = False) -> str:
    """For limits: 2000000000 -> '2G'; 17179869184 (binary) -> '16 GiB'."""
    table = BINARY if binary else DECIMAL
    for suffix in "TGMK":
        size = table[suffix]
        if n >= size:
            text = f"{n / size:.3g}" if n < 1000 * size else f"{n // size:,}"
            return f"{text} {suffix}iB" if binary else f"{text}{suffix}"
    return f"{n} B" if binary else str(n)


def macs_str(macs: int | None) -> str:
    """`human(macs)`, or `?` where they depend on an input size that is not fixed."""
    return "?" if macs is None else human(macs)


ShapeStyle = Literal["message", "keras", "dims", "spec"]


def shape_str(shape: Sequence[Dim], style: ShapeStyle = "keras") -> str:
    """A shape in one of four styles, for (8, 8, 64) and (None, None, 64):

    - keras: as Keras prints it, with the batch: `(None, 8, 8, 64)`, `(None, None, None, 64)`;
    - message: for error messages, without the batch; unknown is `?`: `(8, 8, 64)`, `(?, ?, 64)`;
    - dims: for diagrams (ASCII only: Graphviz's text-width estimate measures other characters
      as spaces): `8x8x64`, `?x?x64`;
    - spec: as a spec writes it: `[8, 8, 64]`, `[null, null, 64]`.
    """
    if style == "keras":
        return "(None, " + ", ".join(str(d) for d in shape) + ")"
    if style == "message":
        return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"
    if style == "dims":
        return "x".join("?" if d is None else str(d) for d in shape)
    return "[" + ", ".join("null" if d is None else str(d) for d in shape) + "]"


def channels_first(shape: Sequence[object]) -> bool:
    """Whether a shape looks like a square image written channels first, as PyTorch writes
    it: `[3, 224, 224]` (here: 3 rows, 224 columns, 224 channels)."""
    return (len(shape) == 3 and shape[0] in (1, 3, 4) and shape[1] == shape[2]
            and isinstance(shape[2], int) and shape[2] >= 8)  # fmt: skip


def product(*factors: Dim) -> int | None:
    """The product of `factors`, or None if one is unknown (the MACs of a layer whose output
    size is not known until run time)."""
    out = 1
    for f in factors:
        if f is None:
            return None
        out *= f
    return out


def elements(shape: Shape) -> int:
    """The element count of `shape`, an unknown dimension (None) counted as 1: the limits bound
    what the spec fixes, and a size given at run time is the caller's."""
    return math.prod(1 if d is None else d for d in shape)


def parity_text(max_abs: float, relative: float | None) -> str:
    """`--verify`'s figure: `max abs difference 2.1e-07`, with the difference relative to
    outputs over 1 where it is smaller (what the tolerance holds)."""
    text = f"max abs difference {max_abs:.2g}"
    if relative is not None and relative < max_abs:
        text += f" ({relative:.2g} relative to outputs over 1)"
    return text
