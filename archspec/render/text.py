"""Plain-text rendering: diagnostics with the source line and a caret, and block summaries.

Output about a file is bounded whatever the file holds (README "Guarantees"): at most
`MAX_SHOWN` diagnostics per file and `BYTES_SHOWN` bytes of them, then one line counting the
rest (every report format does the same through `shown`); messages, hints and notes are clipped,
and a long source line is shown as a window around the column. Control characters and bidi
controls taken from the spec (key names, values, file names) are escaped (`\\x1b`), so a spec
cannot write terminal escapes or fake lines into a log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from unicodedata import combining, east_asian_width

from archspec.core.errors import SOURCES, Diagnostic, Related
from archspec.core.units import human, macs_str, shape_str
from archspec.ir.graph import Graph, Stride

__all__ = ["human", "macs_str", "shape_str"]  # re-exported: the CLI prints with them

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "hint": "\033[36m", "dim": "\033[2m"}
_RESET = "\033[0m"

#: diagnostics shown per file, in every format; the rest are counted ("... and 12 more errors")
MAX_SHOWN = 50
#: bytes of rendered diagnostics per file, whichever of the two bounds comes first
BYTES_SHOWN = 256 << 10
#: characters of a message or a hint (after escaping), of a note, of a file name
MESSAGE_CHARS = 1000
NOTE_CHARS = 300
#: notes (`related`) shown per diagnostic
MAX_NOTES = 8
#: a source line longer than LONG_LINE is shown as a window of WINDOW characters
LONG_LINE = 120
WINDOW = 100

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(m: re.Match[str]) -> str:
    c = m.group()
    if c in _NAMED:
        return _NAMED[c]
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def escape(text: str, lines: bool = False) -> str:
    """Control characters (and bidi and zero-width controls) written as escapes: ESC -> `\\x1b`,
    newline -> `\\n`. Everything else is kept; with `lines`, so are newlines and carriage
    returns (for a format that encodes them itself: GitHub's `%0A`)."""
    if lines:
        return _CONTROL.sub(lambda m: m.group() if m.group() in "\r\n" else _escaped(m), text)
    return _CONTROL.sub(_escaped, text)


def clip(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters with `...` at the end."""
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def safe(text: str, limit: int = MESSAGE_CHARS, lines: bool = False) -> str:
    """Text taken from a spec, ready for a log line: escaped (`escape`), then clipped."""
    return clip(escape(text[: limit * 4], lines), limit)


def shown(
    diags: Sequence[Diagnostic], size: Callable[[Diagnostic], int] | None = None
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """(the diagnostics to show, the ones left out): the first MAX_SHOWN, fewer if their
    rendered `size` passes BYTES_SHOWN (the first one is always shown)."""
    out: list[Diagnostic] = []
    total = 0
    for d in diags[:MAX_SHOWN]:
        if size is not None:
            total += size(d)
            if out and total > BYTES_SHOWN:
                break
        out.append(d)
    return out, list(diags[len(out) :])


def more_line(omitted: Sequence[Diagnostic], where: str = " in this file") -> str:
    """`... and 2,950 more errors in this file` (and warnings, if any are left out)."""
    errors = sum(d.severity == "error" for d in omitted)
    warnings = len(omitted) - errors
    parts = [f"{n:,} more {w}{'s' if n != 1 else ''}"
             for n, w in ((errors, "error"), (warnings, "warning")) if n]  # fmt: skip
    return f"... and {' and '.join(parts)}{where}"


def _source_lines(file: str) -> tuple[str, ...]:
    """The lines of the spec `file`: standard input's (`check -`) or a text given to the API
    as read (core.errors.SOURCES: not cached, the next text may differ), else from disk."""
    if file in SOURCES:
        return tuple(SOURCES[file][: 1 << 20].splitlines())
    return _file_lines(file)


@lru_cache(maxsize=8)
def _file_lines(file: str) -> tuple[str, ...]:
    try:
        with open(file, encoding="utf-8-sig", errors="replace") as f:
            return tuple(f.read(1 << 20).splitlines())
    except OSError:
        return ()


def excerpt(line: str, col: int | None) -> tuple[str, int | None]:
    """A source line as shown (escaped; a window of WINDOW characters around the column, with
    `...` where cut, if it is longer than LONG_LINE) and the caret's offset in it, in terminal
    columns (a wide character, CJK's, takes two)."""
    c = 0 if col is None else max(col - 1, 0)
    if len(line) <= LONG_LINE:
        start, end = 0, len(line)
        beyond = min(max(c - len(line), 0), 2)  # a column just past the end of the line
    else:
        c = min(c, len(line))
        start = max(0, min(c - WINDOW // 2, len(line) - WINDOW))
        end = min(len(line), start + WINDOW)
        beyond = 0
    pre = "..." if start > 0 else ""
    text = pre + escape(line[start:end]) + ("..." if end < len(line) else "")
    if col is None:
        return text, None
    return text, len(pre) + _columns(escape(line[start : min(c, end)])) + beyond


def _columns(text: str) -> int:
    """The columns `text` takes in a terminal: two for a wide character, none for a combining
    one."""
    return sum(0 if combining(ch) else 2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def _where(file: str | None, line: int | None, col: int | None) -> str:
    """`file:line:col` as Diagnostic.where gives it, the file name escaped and clipped."""
    parts = [safe(file) if file else "archspec"]
    if line is not None:
        parts.append(str(line))
        if col is not None:
            parts.append(str(col))
    return ":".join(parts)


def _paint(text: str, what: str, colour: bool) -> str:
    return f"{_COLOURS[what]}{text}{_RESET}" if colour else text


def notes_shown(d: Diagnostic) -> list[str]:
    """A diagnostic's notes as every format writes them: the first MAX_NOTES, then how many
    more."""
    shown = [note_text(r) for r in d.related[:MAX_NOTES]]
    if len(d.related) > MAX_NOTES:
        shown.append(f"... and {len(d.related) - MAX_NOTES:,} more notes")
    return shown


def note_text(r: Related) -> str:
    """A note as every format writes it: `file:line:col: message`, escaped and clipped."""
    where = ":".join(safe(str(p)) for p in (r.file, r.line, r.col) if p is not None)
    return f"{where + ': ' if where else ''}{safe(r.message, NOTE_CHARS)}"


def format_diagnostic(d: Diagnostic, colour: bool = False) -> str:
    """`file:line:col: error[E202]: message`, the source line with a caret, and the hint."""
    where = _where(d.file, d.line, d.col)
    head = f"{where}: {_paint(d.severity, d.severity, colour)}[{d.code}]: {safe(d.message)}"
    lines = [head]
    if d.file and d.line is not None:
        src = _source_lines(d.file)
        if 0 < d.line <= len(src):
            text, caret = excerpt(src[d.line - 1], d.col)
            gutter = f"{d.line:>5} | "
            lines.append(_paint(gutter, "dim", colour) + text)
            if caret is not None:
                lines.append(" " * (len(gutter) - 2) + "| " + " " * caret + "^")
    lines += [f"  note: {note}" for note in notes_shown(d)]
    if d.hint:
        lines.append("  " + _paint("hint: " + safe(d.hint), "hint", colour))
    return "\n".join(lines)


def format_diagnostics(
    diags: Iterable[Diagnostic], colour: bool = False, where: str = " in this file"
) -> str:
    """The diagnostics of one file, bounded (`shown`), then `more_line` if some are left out."""
    rendered: list[str] = []

    def size(d: Diagnostic) -> int:
        rendered.append(format_diagnostic(d, colour))
        return len(rendered[-1]) + 1

    show, rest = shown(list(diags), size)
    out = rendered[: len(show)]
    if rest:
        out.append(more_line(rest, where))
    return "\n".join(out)


def summary_table(graph: Graph) -> str:
    """One row per block: name, type (`, frozen` where every layer of it is), output shape,
    params, MACs."""
    rows = [("block", "type", "output shape", "params", "MACs")]
    for name, kind, shape, c, frozen in graph.block_rows():
        rows.append((name, f"{kind}, frozen" if frozen else kind, shape_str(shape),
                     f"{c.params:,}", macs_str(c.macs)))  # fmt: skip
    return _table(rows)


def stride_str(stride: tuple[Stride, Stride] | None) -> str:
    """`16` (height and width alike), `16x8` (height x width), `0.5` (upsampled), `-` (none)."""
    if stride is None:
        return "-"
    h, w = (f"{s:g}" for s in stride)
    return h if h == w else f"{h}x{w}"


def outputs_table(graph: Graph, names: Sequence[str] = ()) -> str:
    """One row per model output: its block's name (`names`, else the layer's), its
    layer, shape, channels and stride relative to the input (Graph.feature_info)."""
    rows = [("output", "layer", "shape", "channels", "stride")]
    infos = graph.feature_info()
    for name, f in zip(names or [f.name for f in infos], infos, strict=True):
        channels = "?" if f.channels is None else str(f.channels)
        rows.append((name, f.name, shape_str(f.shape), channels, stride_str(f.stride)))
    return _table(rows)


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


def _table(rows: list[tuple[str, str, str, str, str]]) -> str:
    """Five columns under a rule: the first three left-aligned, the figures right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    out = []
    for k, r in enumerate(rows):
        cells = [r[i].ljust(widths[i]) if i < 3 else r[i].rjust(widths[i]) for i in range(5)]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
