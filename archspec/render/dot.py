"""Diagrams: the graph IR -> a pydot graph -> SVG, PNG, DOT (and PDF with a system Graphviz).

Drawn from archspec's own IR, never from Keras: no TensorFlow is imported. Each block is a
cluster (name, type, key parameters, params and MACs) holding its layers, inside a dashed box for
each user-defined block instance or included spec, nested as they are (dot_groups.py); `collapse`
draws one box per top-level block or instance instead. Edges carry tensor shapes where the shape
changes and wherever they enter another block (an unlabelled edge carries the shape of the
labelled edge above it). Residual shortcuts and skips are dashed and kept off the main path,
which is kept in one column where the layout allows;
Inception branches sit side by side in emission order. Palettes and labels: dot_style.py.

Diagrams are bounded (bounds.py, E712: checked before layout, with a `--collapse` hint), and a
diagram never replaces a folder (E002).

Rendering uses the system `dot` where one is on PATH, else the `graphviz-pure` program installed
with archspec (it lands in the environment's scripts folder, which is not on PATH when the venv's
python runs unactivated, so that folder is searched too).
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import pydot

from archspec.core.errors import usage_error
from archspec.core.units import macs_str
from archspec.ir.graph import BlockInfo, Graph, Instance, Node, nest
from archspec.render.bounds import check_size
from archspec.render.dot_groups import Ids, collapsed, depths, group_box
from archspec.render.dot_groups import shortcut_edges as _shortcut_edges
from archspec.render.dot_style import (
    EXTRA_FAMILIES,
    FAMILIES,
    FONT,
    INK,
    MUTED,
    TERMINAL,
    block_label,
    dims,
    e,
    family,
    palette,
    quote,
    shape_label,
)

__all__ = [
    "EXTRA_FAMILIES", "FAMILIES", "FORMATS", "RANKDIRS", "_shortcut_edges", "family",
    "find_renderer", "output_format", "palette", "plot", "render", "to_pydot",
]  # fmt: skip

#: output formats by file suffix; `pdf` needs a system Graphviz
FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".pdf": "pdf"}
RANKDIRS = ("TB", "LR")
GRAPHVIZ_PURE = "graphviz-pure"


# ---------------------------------------------------------------- the graph


def to_pydot(graph: Graph, collapse: bool = False, rankdir: str = "TB") -> pydot.Dot:
    """The diagram of `graph` as a pydot graph (not rendered)."""
    g = pydot.Dot(
        graph_name=quote(graph.name),
        graph_type="digraph",
        rankdir=rankdir,
        fontname=FONT,
        fontsize="11",
        fontcolor=INK,
        nodesep="0.25",
        ranksep="0.3" if not collapse else "0.35",
        newrank="true",
        bgcolor="white",
        pad="0.2",
        label=f"<<B>{e(graph.name)}</B>   {graph.params:,} params, "
        f"{macs_str(graph.cost.macs)} MACs>",
        labelloc="t",
        labeljust="l",
    )
    g.set_node_defaults(
        fontname=FONT, fontsize="10", fontcolor=INK, shape="box", style="rounded,filled",
        color="#9AA5AB", fillcolor="white", penwidth="0.8", height="0.3", margin="0.08,0.03",
    )  # fmt: skip
    g.set_edge_defaults(
        fontname=FONT, fontsize="8", fontcolor=MUTED, color=INK, penwidth="0.8", arrowsize="0.6"
    )
    for name, shape in graph.inputs.items():
        g.add_node(_terminal(f"in:{name}", f"<<B>{e(name)}</B><BR/>{e(dims(shape))}>"))
    for k, out in enumerate(graph.outputs):
        owner = graph.nodes[out].block
        label = "<B>output</B>" if len(graph.outputs) == 1 else f"<B>output</B> {e(owner)}"
        g.add_node(_terminal(f"out:{k}", f"<{label}<BR/>{e(dims(graph.shape_of(out)))}>"))
    if collapse:
        collapsed(g, graph)
    else:
        _expanded(g, graph)
    return g


def _terminal(name: str, label: str) -> pydot.Node:
    return pydot.Node(
        quote(name), label=label, fillcolor=TERMINAL.fill, color=TERMINAL.border,
        fontcolor="white", style="rounded,filled,bold",
    )  # fmt: skip


def _expanded(g: pydot.Dot, graph: Graph) -> None:
    shortcut = _shortcut_edges(graph)
    spine = _spine(graph)
    ids = Ids()

    def draw(into: pydot.Graph, units: list[Instance | BlockInfo]) -> None:
        for u in units:  # an instance is a dashed box around its blocks and nested instances
            if isinstance(u, Instance):
                box = group_box(ids, u, graph)
                draw(box, u.children)
                into.add_subgraph(box)
            else:
                into.add_subgraph(_block_cluster(graph, u, ids("block", u.name), spine))

    draw(g, nest(graph.blocks))
    labelled: set[str] = set()
    for node in graph.nodes.values():
        for src in node.inputs:
            # every edge into another block carries its shape (a long skip too); inside a
            # block, where the shape changes (a tensor read by several layers: once)
            crosses = src in graph.inputs or graph.nodes[src].block != node.block
            show = crosses or (src not in labelled and _changes_shape(graph, src))
            if show:
                labelled.add(src)
            _edge(g, graph, src, node, show, (src, node.name) in shortcut)
    for k, out in enumerate(graph.outputs):
        g.add_edge(pydot.Edge(quote(out), quote(f"out:{k}"), label=shape_label(graph, out)))


def _spine(graph: Graph) -> set[str]:
    """The layers of the longest path into the deepest output: one Graphviz `group`, which dot
    draws as a straight column. Without it a deep network's column drifts sideways, pushed a
    little by each skip (DenseNet-121's by 540 pt from top to bottom)."""
    depth = depths(graph)
    path: set[str] = set()
    tensor = max(graph.outputs, key=depth.__getitem__, default=None)
    while tensor in graph.nodes:
        path.add(tensor)
        tensor = max(graph.nodes[tensor].inputs, key=depth.__getitem__, default=None)
    return path


def _block_cluster(graph: Graph, b: BlockInfo, cluster_id: str, spine: set[str]
                   ) -> pydot.Subgraph:  # fmt: skip
    pal = palette(b.type)
    cluster = pydot.Subgraph(  # Graphviz draws a subgraph named cluster_* as a box
        quote(cluster_id),
        label="",  # clusters inherit the graph's label (the title) otherwise
        style="rounded,filled",
        fillcolor=pal.fill,
        color=pal.border,
        penwidth="1",
        margin="8",
    )
    # The block's label is a node on the cluster's first rank, not the cluster's label:
    # dot routes edges around nodes, but straight through cluster labels.
    header = f"hdr:{b.name}"
    cluster.add_node(pydot.Node(
        quote(header), label=block_label(b, graph), shape="plain",
        style="", fillcolor="none", margin="0",
    ))  # fmt: skip
    heads = []
    for n in b.nodes:
        node = graph.nodes[n]
        attrs: dict[str, Any] = {"label": quote(node.op.describe()), "color": pal.border}
        if n in spine:
            attrs["group"] = "spine"
        cluster.add_node(pydot.Node(quote(n), **attrs))
        if all(graph.nodes.get(i, node).block != b.name or i in graph.inputs for i in node.inputs):
            heads.append(n)
    # The header shares the first rank with the block's first layer(s), to their left, so
    # that nothing has to route around it; parallel branches (Inception) follow it side by
    # side in emission order.
    same = pydot.Subgraph(rank="same")
    for n in (header, *heads):
        same.add_node(pydot.Node(quote(n)))
    for left, right in itertools.pairwise((header, *heads)):
        same.add_edge(pydot.Edge(quote(left), quote(right), style="invis"))
    cluster.add_subgraph(same)
    return cluster


def _edge(g: pydot.Dot, graph: Graph, src: str, dst: Node, label: bool, is_shortcut: bool) -> None:
    attrs: dict[str, Any] = {}
    if label:
        attrs["label"] = shape_label(graph, src)
    if is_shortcut:
        attrs.update(style="dashed", weight="1", color=MUTED)
    else:
        attrs["weight"] = "4"
    tail = f"in:{src}" if src in graph.inputs else src
    g.add_edge(pydot.Edge(quote(tail), quote(dst.name), **attrs))


def _changes_shape(graph: Graph, name: str) -> bool:
    """Whether `name` is an input or a layer whose output shape differs from its first input's."""
    if name in graph.inputs:
        return True
    node = graph.nodes[name]
    return not node.inputs or graph.shape_of(node.inputs[0]) != node.shape


# ---------------------------------------------------------------- rendering


def find_renderer() -> str | None:
    """The program that renders: the system `dot` on PATH, else `graphviz-pure` (the venv's
    scripts folder first, then PATH), else None."""
    system = shutil.which("dot")
    if system:
        return system
    scripts = sysconfig.get_path("scripts")
    for folder in (scripts, None):
        found = shutil.which(GRAPHVIZ_PURE, path=folder) if folder else shutil.which(GRAPHVIZ_PURE)
        if found:
            return found
    return None


def output_format(path: Path) -> str:
    """The format named by `path`'s suffix, or a usage error listing the supported ones."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise usage_error(
            "E002",
            f"cannot tell the diagram format of {path} from its suffix",
            hint="use one of: "
            + ", ".join(s for s in FORMATS if s != ".gv")
            + ", or .html (the interactive page)",
        )
    return fmt


def render(dot: pydot.Dot, fmt: str) -> bytes:
    """The diagram in `fmt` (svg, png, pdf, dot). `dot` needs no renderer."""
    source = dot.to_string()
    if fmt == "dot":
        return source.encode()
    prog = find_renderer()
    if prog is None:
        raise usage_error(
            "E004",
            f"no Graphviz renderer found to draw {fmt}",
            hint="reinstall archspec (it brings `graphviz-pure`: pip install graphviz-pure), "
            "install Graphviz (apt install graphviz), or write .dot",
        )
    if fmt == "pdf" and Path(prog).name.startswith(GRAPHVIZ_PURE):
        raise usage_error(
            "E004",
            "PDF needs a system Graphviz; the bundled graphviz-pure renders svg and png only",
            hint="install Graphviz (apt install graphviz / brew install graphviz), "
            "or write .svg and convert it",
        )
    args = [prog, f"-T{fmt}"]
    if fmt == "png":
        args.append("-Gdpi=96")
    proc = subprocess.run(args, input=source.encode(), capture_output=True, timeout=300)
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"{prog} -T{fmt} failed ({proc.returncode}): {err[:500]}")
    return proc.stdout


def plot(graph: Graph, path: Path, collapse: bool = False, rankdir: str = "TB") -> Path:
    """Draw `graph` to `path` (format from the suffix), atomically. Returns the path. An existing
    file is replaced; a folder is refused (E002); a diagram over the size limit is refused
    (E712) before it is laid out."""
    fmt = output_format(path)
    if rankdir not in RANKDIRS:
        raise usage_error(
            "E003", f"--rankdir must be one of {', '.join(RANKDIRS)}; received {rankdir!r}"
        )
    from archspec.core.files import not_a_folder, write_file

    folder = path.parent
    if not folder.is_dir():  # before rendering, which takes seconds for big models
        raise usage_error("E002", f"cannot write {path}: folder {folder} does not exist")
    not_a_folder(path, "diagram.svg")
    check_size(graph, collapse)
    data = render(to_pydot(graph, collapse=collapse, rankdir=rankdir), fmt)
    write_file(path, data)  # refuses a folder again: rendering takes seconds
    return path
