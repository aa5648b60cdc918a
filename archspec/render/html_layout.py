"""Where each layer of a block stands when the block is open on the interactive page.

Graphviz lays out the layers of every block (with more than one layer) in one run of the renderer
archspec already uses for diagrams (`dot.find_renderer`: the system `dot`, else the bundled
`graphviz-pure`), asked for `-Tjson0`: each block is a cluster holding its layers and the edges
between them, so the positions read relative to the cluster's bounding box are that block's
layout. Edges between blocks are not given to Graphviz: the page stacks blocks in a column and
draws those itself, so that opening a block never needs a new layout. Where no renderer is found,
layers are stacked in emission order (one column), which is still correct, only less compact.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from typing import Any

from archspec.core.units import shape_str
from archspec.ir.graph import BlockInfo, Graph

#: pixels per Graphviz point on the page (the page's layer font is 10 pt * SCALE)
SCALE = 1.2
FONT_PT = 10
#: per-character width of the fallback text estimate, in points (Helvetica 10 pt averages ~5.6)
CHAR_PT = 5.8


@dataclass
class Edge:
    """One edge inside a block: an SVG path (page pixels), dashed for a shortcut, its label."""

    d: str
    dashed: bool
    label: str = ""
    lx: float = 0.0
    ly: float = 0.0


@dataclass
class Layout:
    """A block's layers: name -> (left, top, width, height) in page pixels, and the edges."""

    width: float
    height: float
    nodes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _internal_edges(graph: Graph, b: BlockInfo) -> list[tuple[str, str]]:
    inside = set(b.nodes)
    return [(src, n) for n in b.nodes for src in graph.nodes[n].inputs if src in inside]


#: the name prefix of a port: where a tensor from outside the block enters it, at the top of
#: the open block (the page's edge between blocks ends at the block's border); not drawn itself,
#: its edges are: into the block's first layers, and beside them into a later layer that reads
#: the tensor too (an identity shortcut into `add`)
PORT = "port:"


def _entries(graph: Graph, b: BlockInfo) -> list[tuple[str, str]]:
    """(outside tensor, layer) for every layer of the block that reads a tensor from outside."""
    inside = set(b.nodes)
    return [(src, n) for n in b.nodes for src in graph.nodes[n].inputs if src not in inside]


def _edge_label(graph: Graph, src: str) -> str:
    node = graph.nodes[src]
    if node.inputs and graph.shape_of(node.inputs[0]) == node.shape:
        return ""
    return shape_str(node.shape, "dims")


def _source(graph: Graph, blocks: list[BlockInfo], shortcut: set[tuple[str, str]]) -> str:
    """The DOT text: one cluster per block, nodes named n<index>."""
    lines = [
        "digraph layers {",
        'graph [newrank=true, nodesep="0.25", ranksep="0.3", pad="0"];',
        f'node [shape=box, fontname=Helvetica, fontsize="{FONT_PT}", height="0.3", '
        'margin="0.08,0.03"];',
        'edge [fontname=Helvetica, fontsize="8", arrowsize="0.6"];',
    ]
    for k, b in enumerate(blocks):
        lines.append(f'subgraph "cluster_{k}" {{ margin="6"; label="";')
        for n in b.nodes:
            lines.append(f"{_q(n)} [label={_q(graph.nodes[n].op.describe())}];")
        inner = _internal_edges(graph, b)
        fed = {dst for _, dst in inner}
        side = {src for src, dst in inner if (src, dst) in shortcut}
        first = sorted((n for n in b.nodes if n not in fed), key=side.__contains__)
        entries = _entries(graph, b)
        ports = {src: f"{PORT}{k}:{src}" for src, _ in entries}
        for port in ports.values():
            lines.append(f'{_q(port)} [shape=point, width="0.05", label=""];')
        above = {src for src, dst in entries if dst not in fed}  # a port above the first layers
        heads = [_q(n) for n in first] + [_q(p) for s, p in ports.items() if s not in above]
        if len(heads) > 1:  # the branches' first layers side by side, in emission order
            lines.append("{rank=same; " + " -> ".join(heads) + " [style=invis];}")
        for src, dst in entries:
            style = "style=dashed, " if (src, dst) in shortcut else ""
            weight = 1 if dst in fed else 4
            lines.append(f'{_q(ports[src])} -> {_q(dst)} [{style}weight="{weight}"];')
        labelled: set[str] = set()
        for src, dst in inner:
            attrs = ['weight="1", style=dashed' if (src, dst) in shortcut else 'weight="4"']
            label = _edge_label(graph, src)
            if label and src not in labelled:
                labelled.add(src)
                attrs.append(f"label={_q(' ' + label)}")
            lines.append(f"{_q(src)} -> {_q(dst)} [{', '.join(attrs)}];")
        lines.append("}")
    lines.append("}")
    return "\n".join(lines)


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def _path(pos: str, x0: float, y1: float) -> str:
    """An SVG path from a Graphviz edge `pos` (`e,x,y p0 p1 ...`, y up) in page pixels."""
    end: list[float] | None = None
    points: list[list[float]] = []
    for part in pos.split():
        if part.startswith("e,"):
            end = _floats(part[2:])
        elif part.startswith("s,"):
            continue
        else:
            points.append(_floats(part))
    pts = [((x - x0) * SCALE, (y1 - y) * SCALE) for x, y in points]
    if not pts:
        return ""
    d = [f"M{pts[0][0]:.1f} {pts[0][1]:.1f}"]
    for i in range(1, len(pts) - 2, 3):
        (ax, ay), (bx, by), (cx, cy) = pts[i : i + 3]
        d.append(f"C{ax:.1f} {ay:.1f} {bx:.1f} {by:.1f} {cx:.1f} {cy:.1f}")
    if end is not None:
        d.append(f"L{(end[0] - x0) * SCALE:.1f} {(y1 - end[1]) * SCALE:.1f}")
    return "".join(d)


def _parse(data: dict[str, Any], graph: Graph, blocks: list[BlockInfo],
           shortcut: set[tuple[str, str]]) -> dict[str, Layout]:  # fmt: skip
    objects: list[dict[str, Any]] = data.get("objects", [])
    by_id = {o["_gvid"]: o for o in objects}
    out: dict[str, Layout] = {}
    for o in objects:
        name = str(o.get("name", ""))
        if not name.startswith("cluster_"):
            continue
        b = blocks[int(name[len("cluster_") :])]
        x0, y0, x1, y1 = _floats(o["bb"])
        lay = Layout(width=(x1 - x0) * SCALE, height=(y1 - y0) * SCALE)
        ports: set[str] = set()
        for gvid in o.get("nodes", []):
            node = by_id[gvid]
            if str(node["name"]).startswith(PORT):  # not a layer: only its edge is drawn
                ports.add(str(node["name"]))
                continue
            cx, cy = _floats(node["pos"])
            w, h = float(node["width"]) * 72, float(node["height"]) * 72
            lay.nodes[node["name"]] = (
                (cx - w / 2 - x0) * SCALE, (y1 - cy - h / 2) * SCALE, w * SCALE, h * SCALE,
            )  # fmt: skip
        out[b.name] = lay
        lay.edges = [
            _edge(e, by_id, x0, y1, shortcut) for e in data.get("edges", [])
            if (by_id[e["tail"]]["name"] in lay.nodes or by_id[e["tail"]]["name"] in ports)
            and e.get("style") != "invis"
        ]  # fmt: skip
    return out


def _edge(e: dict[str, Any], by_id: dict[int, dict[str, Any]], x0: float, y1: float,
          shortcut: set[tuple[str, str]]) -> Edge:  # fmt: skip
    src, dst = str(by_id[e["tail"]]["name"]), by_id[e["head"]]["name"]
    if src.startswith(PORT):  # `port:<k>:<tensor>`
        src = src.split(":", 2)[2]
    edge = Edge(_path(str(e.get("pos", "")), x0, y1), (src, dst) in shortcut)
    if e.get("label") and e.get("lp"):
        lx, ly = _floats(e["lp"])
        edge.label, edge.lx, edge.ly = str(e["label"]).strip(), (lx - x0) * SCALE, (y1 - ly) * SCALE
    return edge


def stacked(graph: Graph, b: BlockInfo) -> Layout:
    """The fallback, and a one-layer block's layout: the layers one under another, widths
    estimated from their text, fed from the top as Graphviz's ports feed the others (a
    one-layer block had no edge into its layer)."""
    gap, h, pad = 14 * SCALE, 22 * SCALE, 6 * SCALE
    widths = [(len(graph.nodes[n].op.describe()) * CHAR_PT + 12) * SCALE for n in b.nodes]
    width = max(widths, default=0) + 2 * pad
    lay = Layout(width=width, height=gap + pad + len(b.nodes) * (h + gap) - gap)
    for k, (n, w) in enumerate(zip(b.nodes, widths, strict=True)):
        lay.nodes[n] = ((width - w) / 2, gap + k * (h + gap), w, h)
    for k in range(len(b.nodes)):
        x, y = width / 2, gap + k * (h + gap)
        lay.edges.append(Edge(f"M{x:.1f} {y - gap:.1f}L{x:.1f} {y:.1f}", False))
    return lay


def layouts(graph: Graph, shortcut: set[tuple[str, str]], renderer: str | None,
            timeout: float = 300) -> dict[str, Layout]:  # fmt: skip
    """The layout of every block's layers: Graphviz (`renderer -Tjson0`) for blocks of several
    layers, stacked for one-layer blocks and where the renderer is missing or fails."""
    many = [b for b in graph.blocks if len(b.nodes) > 1]
    found: dict[str, Layout] = {}
    if many and renderer is not None:
        source = _source(graph, many, shortcut)
        try:
            proc = subprocess.run([renderer, "-Tjson0"], input=source.encode(),
                                  capture_output=True, timeout=timeout)  # fmt: skip
            if proc.returncode == 0:
                found = _parse(json.loads(proc.stdout), graph, many, shortcut)
        except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, IndexError):
            found = {}
    return {b.name: found.get(b.name) or stacked(graph, b) for b in graph.blocks}
