"""Plain-text rendering: diagnostics with the source line and a caret, and block summaries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from archspec.core.errors import Diagnostic
from archspec.core.units import human, macs_str, shape_str
from archspec.ir.graph import Graph, Stride

__all__ = ["human", "macs_str", "shape_str"]  # re-exported: the CLI prints with them

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "hint": "\033[36m", "dim": "\033[2m"}
_RESET = "\033[0m"


@lru_cache(maxsize=64)
def _source_lines(file: str) -> tuple[str, ...]:
    try:
        with open(file, encoding="utf-8-sig", errors="replace") as f:
            return tuple(f.read(1 << 20).splitlines())
    except OSError:
        return ()


def _paint(text: str, what: str, colour: bool) -> str:
    return f"{_COLOURS[what]}{text}{_RESET}" if colour else text


def format_diagnostic(d: Diagnostic, colour: bool = False) -> str:
    """`file:line:col: error[E202]: message`, the source line with a caret, and the hint."""
    head = f"{d.where}: {_paint(d.severity, d.severity, colour)}[{d.code}]: {d.message}"
    lines = [head]
    if d.file and d.line is not None:
        src = _source_lines(d.file)
        if 0 < d.line <= len(src):
            text = src[d.line - 1]
            gutter = f"{d.line:>5} | "
            lines.append(_paint(gutter, "dim", colour) + text[:200])
            if d.col is not None:
                lines.append(" " * (len(gutter) - 2) + "| " + " " * (d.col - 1) + "^")
    for r in d.related:
        where = ":".join(str(p) for p in (r.file, r.line, r.col) if p is not None)
        lines.append(f"  note: {where}: {r.message}")
    if d.hint:
        lines.append("  " + _paint("hint: " + d.hint, "hint", colour))
    return "\n".join(lines)


def format_diagnostics(diags: Iterable[Diagnostic], colour: bool = False) -> str:
    return "\n".join(format_diagnostic(d, colour) for d in diags)


def summary_table(graph: Graph) -> str:
    """One row per block: name, type, output shape, params, MACs."""
    rows = [("block", "type", "output shape", "params", "MACs")]
    for name, kind, shape, c in graph.block_rows():
        rows.append((name, kind, shape_str(shape), f"{c.params:,}",
                     macs_str(c.macs)))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    out = []
    for k, r in enumerate(rows):
        cells = [r[i].ljust(widths[i]) if i < 3 else r[i].rjust(widths[i]) for i in range(5)]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def stride_str(stride: tuple[Stride, Stride] | None) -> str:
    """`16` (height and width alike), `16x8` (height x width), `0.5` (upsampled), `-` (none)."""
    if stride is None:
        return "-"
    h, w = (f"{s:g}" for s in stride)
    return h if h == w else f"{h}x{w}"


def outputs_table(graph: Graph, names: Sequence[str] = ()) -> str:
    """One row per model output: name (as `outputs` names it; `names`, else the layer's), its
    layer, shape, channels and stride relative to the input (Graph.feature_info)."""
    rows = [("output", "layer", "shape", "channels", "stride")]
    infos = graph.feature_info()
    for name, f in zip(names or [f.name for f in infos], infos, strict=True):
        channels = "?" if f.channels is None else str(f.channels)
        rows.append((name, f.name, shape_str(f.shape), channels, stride_str(f.stride)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    out = []
    for k, r in enumerate(rows):
        cells = [r[i].ljust(widths[i]) if i < 3 else r[i].rjust(widths[i]) for i in range(5)]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def totals(graph: Graph) -> str:
    """Totals as Keras counts them (BN moving statistics are non-trainable params)."""
    c = graph.cost
    outs = ", ".join(shape_str(s) for s in graph.output_shapes.values())
    macs = (
        "unknown: they depend on the input's height and width, which are not fixed"
        if c.macs is None
        else f"{c.macs:,} ({human(c.macs)}; FLOPs = 2 x MACs)"
    )
    return (
        f"Total params: {c.params:,}\n"
        f"Trainable params: {c.trainable:,}\n"
        f"Non-trainable params: {c.non_trainable:,}\n"
        f"MACs: {macs}\n"
        f"Output shape: {outs}"
    )
