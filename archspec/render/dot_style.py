"""The look of the diagrams (dot.py): family palettes, fonts, and the labels of boxes and edges.

Shared by the expanded view (dot.py) and the grouping and collapsed view (dot_groups.py)."""

from __future__ import annotations

import html
import zlib
from dataclasses import dataclass

from archspec.blocks import REGISTRY
from archspec.core.units import Shape, human, macs_str, shape_str
from archspec.ir.graph import BlockInfo, Graph

FONT = "Helvetica"  # graphviz-pure maps it to its bundled Arimo; a system dot to Helvetica/Arial
INK = "#263238"  # text and edges
MUTED = "#607D8B"  # secondary text, edge labels


@dataclass(frozen=True)
class Palette:
    """The colours of one block family: a quiet fill and a darker border."""

    fill: str
    border: str


FAMILIES: dict[str, Palette] = {
    "vgg": Palette("#E8EFF9", "#4A6FA5"),
    "inception": Palette("#E7F3EC", "#3D8B5F"),
    "residual": Palette("#FBF0E3", "#B9772E"),
    "mobile": Palette("#F5F2DF", "#8C7E24"),
    "layer": Palette("#F1F3F4", "#8A969C"),
}
TERMINAL = Palette("#37474F", "#263238")  # inputs and outputs


#: colours for the families of plugin blocks, chosen by a stable hash of the family's name
EXTRA_FAMILIES = (
    Palette("#F1EAF7", "#7E57A8"),
    Palette("#E5F4F5", "#2E8A94"),
    Palette("#FBE9EE", "#B4506E"),
)


def family(block_type: str) -> str:
    """The family of a block type (vgg, inception, residual, layer, or a plugin's own)."""
    cls = REGISTRY.get(block_type)
    return cls.family if cls is not None else "layer"


def palette(block_type: str) -> Palette:
    """The colours of a block type's family."""
    name = family(block_type)
    if name in FAMILIES:
        return FAMILIES[name]
    return EXTRA_FAMILIES[zlib.crc32(name.encode()) % len(EXTRA_FAMILIES)]


def cost_line(params: int, macs: int | None) -> str:
    parts = [f"{params:,} params" if params < 10_000 else f"{human(params)} params"]
    if macs != 0:
        parts.append(f"{macs_str(macs)} MACs")
    return ", ".join(parts)


def e(text: str) -> str:
    """`text` escaped for an HTML-like label."""
    return html.escape(text, quote=True)


def table(name: str, kind: str, summary: str, params: int, macs: int | None) -> str:
    """An HTML-like table: **name** kind / summary lines / params and MACs."""
    rows = [f'<B>{e(name)}</B>   <FONT COLOR="{MUTED}">{e(kind)}</FONT>']
    if summary:
        rows += [e(line) for line in wrap(summary, 44)]
    if params or macs != 0:
        rows.append(f'<FONT COLOR="{MUTED}">{e(cost_line(params, macs))}</FONT>')
    cells = "".join(f'<TR><TD ALIGN="LEFT">{r}</TD></TR>' for r in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def block_label(b: BlockInfo, graph: Graph) -> str:
    """The label of a block: **name** type / key parameters / params and MACs."""
    c = b.cost(graph)
    return table(b.name, b.type, b.summary, c.params, c.macs)


def wrap(text: str, width: int) -> list[str]:
    """Break a `k=v, k=v` summary at commas into lines no longer than `width`."""
    lines: list[str] = []
    for part in text.split(", "):
        if lines and len(lines[-1]) + 2 + len(part) <= width:
            lines[-1] += ", " + part
        else:
            lines.append(part)
    return lines


def quote(name: str) -> str:
    """A DOT id or string: quoted, with backslashes and quotes escaped."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dims(shape: Shape) -> str:
    return shape_str(shape, "dims")


def shape_label(graph: Graph, tensor: str) -> str:
    """An edge's label: the shape of `tensor` (batch dimension left out)."""
    return quote(" " + dims(graph.shape_of(tensor)))
