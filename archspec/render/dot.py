"""Diagrams: the graph IR -> a pydot graph -> SVG, PNG, DOT (and PDF with a system Graphviz).

Drawn from archspec's own IR, never from Keras: no TensorFlow is imported. Each block is a
cluster (name, type, key parameters, params and MACs) holding its layers; `collapse` draws one box
per block instead. Edges carry tensor shapes where the shape changes (an unlabelled edge carries
the shape of the labelled edge above it). Residual shortcuts are dashed and kept off the main
path; Inception branches sit side by side in emission order.

Diagrams are bounded (bounds.py, E712: checked before layout, with a `--collapse` hint), and a
diagram never replaces a folder (E002).

Rendering uses the system `dot` where one is on PATH, else the `graphviz-pure` program installed
with archspec (it lands in the environment's scripts folder, which is not on PATH when the venv's
python runs unactivated, so that folder is searched too).
"""

from __future__ import annotations

import html
import itertools
import shutil
import subprocess
import sysconfig
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydot

from archspec.blocks import REGISTRY
from archspec.blocks.layers.add import Add
from archspec.core.errors import usage_error
from archspec.core.units import Shape, human, macs_str, shape_str
from archspec.ir.graph import BlockInfo, Graph, Node
from archspec.render.bounds import check_size, not_a_folder

#: output formats by file suffix; `pdf` needs a system Graphviz
FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".pdf": "pdf"}
RANKDIRS = ("TB", "LR")
GRAPHVIZ_PURE = "graphviz-pure"

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


# ---------------------------------------------------------------- labels


def _cost_line(params: int, macs: int | None) -> str:
    parts = [f"{params:,} params" if params < 10_000 else f"{human(params)} params"]
    if macs != 0:
        parts.append(f"{macs_str(macs)} MACs")
    return ", ".join(parts)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _block_label(b: BlockInfo, graph: Graph) -> str:
    """An HTML-like table: **name** type / key parameters / params and MACs."""
    c = b.cost(graph)
    rows = [f'<B>{_e(b.name)}</B>   <FONT COLOR="{MUTED}">{_e(b.type)}</FONT>']
    if b.summary:
        rows += [_e(line) for line in _wrap(b.summary, 44)]
    params = c.params
    if params or c.macs != 0:
        rows.append(f'<FONT COLOR="{MUTED}">{_e(_cost_line(params, c.macs))}</FONT>')
    cells = "".join(f'<TR><TD ALIGN="LEFT">{r}</TD></TR>' for r in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _wrap(text: str, width: int) -> list[str]:
    """Break a `k=v, k=v` summary at commas into lines no longer than `width`."""
    lines: list[str] = []
    for part in text.split(", "):
        if lines and len(lines[-1]) + 2 + len(part) <= width:
            lines[-1] += ", " + part
        else:
            lines.append(part)
    return lines


# ---------------------------------------------------------------- the graph


def _quote(name: str) -> str:
    return f'"{name}"'


def to_pydot(graph: Graph, collapse: bool = False, rankdir: str = "TB") -> pydot.Dot:
    """The diagram of `graph` as a pydot graph (not rendered)."""
    g = pydot.Dot(
        graph_name=_quote(graph.name),
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
        label=f"<<B>{_e(graph.name)}</B>   {graph.params:,} params, "
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
        g.add_node(_terminal(f"in:{name}", f"<<B>{_e(name)}</B><BR/>{_e(_dims(shape))}>"))
    for k, out in enumerate(graph.outputs):
        owner = graph.nodes[out].block
        label = "<B>output</B>" if len(graph.outputs) == 1 else f"<B>output</B> {_e(owner)}"
        g.add_node(_terminal(f"out:{k}", f"<{label}<BR/>{_e(_dims(graph.shape_of(out)))}>"))
    if collapse:
        _collapsed(g, graph)
    else:
        _expanded(g, graph)
    return g


def _terminal(name: str, label: str) -> pydot.Node:
    return pydot.Node(
        _quote(name), label=label, fillcolor=TERMINAL.fill, color=TERMINAL.border,
        fontcolor="white", style="rounded,filled,bold",
    )  # fmt: skip


def _group(
    g: pydot.Dot, groups: dict[str, pydot.Subgraph], b: BlockInfo, collapse: bool
) -> pydot.Graph:
    """Where block `b` is drawn: inside a dashed box for its user-defined block instance (a
    `define`d type), else in the graph itself."""
    if b.group is None:
        return g
    name, type_ = b.group
    if name in groups:
        return groups[name]
    label = f'<<B>{_e(name)}</B>  <FONT COLOR="{MUTED}">{_e(type_)}</FONT>>'
    box = pydot.Subgraph(
        _quote(f"cluster_group_{name}"), style="rounded,dashed", color=MUTED, penwidth="1",
        margin="6", fontsize="9", label="",
    )  # fmt: skip
    if collapse:  # one column of boxes: the label goes left of the first one, clear of edges
        header = f"grp:{name}"
        box.add_node(pydot.Node(_quote(header), label=label, shape="plain", style="", fontsize="9"))
        same = pydot.Subgraph(rank="same")
        same.add_edge(pydot.Edge(_quote(header), _quote(b.name), style="invis"))
        box.add_subgraph(same)
    else:  # the layers run down the right of the block labels: bottom left is clear
        box.set("label", label)
        box.set("labelloc", "b")
        box.set("labeljust", "l")
    groups[name] = box
    g.add_subgraph(box)
    return box


def _expanded(g: pydot.Dot, graph: Graph) -> None:
    shortcut = _shortcut_edges(graph)
    groups: dict[str, pydot.Subgraph] = {}
    for b in graph.blocks:
        pal = palette(b.type)
        cluster = pydot.Subgraph(  # Graphviz draws a subgraph named cluster_* as a box
            _quote(f"cluster_{b.name}"),
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
            _quote(header), label=_block_label(b, graph), shape="plain",
            style="", fillcolor="none", margin="0",
        ))  # fmt: skip
        heads = []
        for n in b.nodes:
            node = graph.nodes[n]
            cluster.add_node(
                pydot.Node(_quote(n), label=_quote(_e_dot(node.op.describe())), color=pal.border)
            )
            if all(
                graph.nodes.get(i, node).block != b.name or i in graph.inputs for i in node.inputs
            ):
                heads.append(n)
        # The header shares the first rank with the block's first layer(s), to their left, so
        # that nothing has to route around it; parallel branches (Inception) follow it side by
        # side in emission order.
        same = pydot.Subgraph(rank="same")
        for n in (header, *heads):
            same.add_node(pydot.Node(_quote(n)))
        for left, right in itertools.pairwise((header, *heads)):
            same.add_edge(pydot.Edge(_quote(left), _quote(right), style="invis"))
        cluster.add_subgraph(same)
        _group(g, groups, b, collapse=False).add_subgraph(cluster)
    labelled: set[str] = set()
    for node in graph.nodes.values():
        for src in node.inputs:
            show = src not in labelled and (
                _changes_shape(graph, src)
                or (src in graph.nodes and graph.nodes[src].block != node.block)
            )
            if show:
                labelled.add(src)  # a tensor read by several layers is labelled once
            _edge(g, graph, src, node, show, (src, node.name) in shortcut)
    for k, out in enumerate(graph.outputs):
        g.add_edge(pydot.Edge(_quote(out), _quote(f"out:{k}"), label=_shape_label(graph, out)))


def _e_dot(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _edge(g: pydot.Dot, graph: Graph, src: str, dst: Node, label: bool, is_shortcut: bool) -> None:
    attrs: dict[str, Any] = {}
    if label:
        attrs["label"] = _shape_label(graph, src)
    if is_shortcut:
        attrs.update(style="dashed", weight="1", color=MUTED)
    else:
        attrs["weight"] = "4"
    tail = f"in:{src}" if src in graph.inputs else src
    g.add_edge(pydot.Edge(_quote(tail), _quote(dst.name), **attrs))


def _changes_shape(graph: Graph, name: str) -> bool:
    """Whether `name` is an input or a layer whose output shape differs from its first input's."""
    if name in graph.inputs:
        return True
    node = graph.nodes[name]
    return not node.inputs or graph.shape_of(node.inputs[0]) != node.shape


def _shortcut_edges(graph: Graph) -> set[tuple[str, str]]:
    """The edges of residual shortcuts. For each `add`, an input whose longest path from the
    model's inputs is shorter than another input's is a shortcut; so is the branch of layers
    above it, up to the tensor it forks from. Works for the residual blocks and for residuals
    written by hand with an `add` block."""
    depth: dict[str, int] = dict.fromkeys(graph.inputs, 0)
    for node in graph.nodes.values():  # blocks only read earlier ones: nodes are in order
        depth[node.name] = 1 + max((depth[i] for i in node.inputs), default=0)
    readers = {name: len(r) for name, r in graph.consumers().items()}
    out: set[tuple[str, str]] = set()
    for node in graph.nodes.values():
        if not isinstance(node.op, Add):
            continue
        longest = max(depth[i] for i in node.inputs)
        for src in node.inputs:
            if depth[src] == longest:
                continue
            out.add((src, node.name))
            branch = graph.nodes.get(src)
            while branch is not None and readers[branch.name] == 1 and len(branch.inputs) == 1:
                out.add((branch.inputs[0], branch.name))
                branch = graph.nodes.get(branch.inputs[0])
    return out


def _collapsed(g: pydot.Dot, graph: Graph) -> None:
    owner = {n: b.name for b in graph.blocks for n in b.nodes}
    groups: dict[str, pydot.Subgraph] = {}
    for b in graph.blocks:
        pal = palette(b.type)
        _group(g, groups, b, collapse=True).add_node(pydot.Node(
            _quote(b.name), label=_block_label(b, graph), fillcolor=pal.fill, color=pal.border,
            margin="0.12,0.06",
        ))  # fmt: skip
    labelled: set[str] = set()
    for b in graph.blocks:
        seen: set[str] = set()
        for n in b.nodes:
            for src in graph.nodes[n].inputs:
                if owner.get(src) == b.name or src in seen:
                    continue
                seen.add(src)
                tail = owner.get(src, f"in:{src}")
                attrs: dict[str, Any] = (
                    {} if src in labelled else {"label": _shape_label(graph, src)}
                )
                labelled.add(src)
                g.add_edge(pydot.Edge(_quote(tail), _quote(b.name), **attrs))
    for k, out in enumerate(graph.outputs):
        label = _shape_label(graph, out)
        g.add_edge(pydot.Edge(_quote(owner[out]), _quote(f"out:{k}"), label=label))


def _dims(shape: Shape) -> str:
    return shape_str(shape, "dims")


def _shape_label(graph: Graph, tensor: str) -> str:
    return _quote(" " + _dims(graph.shape_of(tensor)))


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
            hint="use one of: " + ", ".join(s for s in FORMATS if s != ".gv"),
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
    from archspec.core.files import write_file

    folder = path.parent
    if not folder.is_dir():  # before rendering, which takes seconds for big models
        raise usage_error("E002", f"cannot write {path}: folder {folder} does not exist")
    not_a_folder(path)
    check_size(graph, collapse)
    data = render(to_pydot(graph, collapse=collapse, rankdir=rankdir), fmt)
    not_a_folder(path)  # again: rendering takes seconds
    write_file(path, data)
    return path
