"""User-defined block instances and included specs in the diagrams (dot.py): their nesting, the
dashed boxes around them, the collapsed view (one box per top-level block or instance), and the
skip edges drawn dashed in both views.

The nesting itself is the IR's (ir/graph.py `nest`, from the instances each block records)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydot

from archspec.blocks.layers.add import Add
from archspec.blocks.layers.concat import Concat
from archspec.blocks.layers.global_pool import GlobalPool
from archspec.ir.graph import BlockInfo, Graph, Instance, nest
from archspec.render.dot_style import MUTED, dims, e, palette, quote, shape_label, table


def walk(units: list[Instance | BlockInfo]) -> Iterator[Instance]:
    """Every group, outer ones first."""
    for u in units:
        if isinstance(u, Instance):
            yield u
            yield from walk(u.children)


class Ids:
    """Cluster ids, unique by construction: `cluster_block_<block>` and `cluster_group_<group>`
    (a block named `group_a` and an instance `a` cannot meet), a counter on a repeat."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, kind: str, name: str) -> str:
        base = f"cluster_{kind}_{name}"
        out, k = base, 1
        while out in self.taken:
            k += 1
            out = f"{base}~{k}"
        self.taken.add(out)
        return out


def group_box(ids: Ids, g: Instance, graph: Graph) -> pydot.Subgraph:
    """The dashed box around an instance in the expanded view, labelled top left, where a
    reader coming down the diagram meets it first (Graphviz keeps the label's room free);
    `frozen` beside its type where `trainable: false` froze it."""
    kind = f"{g.type}, frozen" if g.frozen(graph) else g.type
    return pydot.Subgraph(
        quote(ids("group", g.name)), style="rounded,dashed", color=MUTED, penwidth="1",
        margin="6", fontsize="11", labelloc="t", labeljust="l",
        label=f'<<B>{e(g.name)}</B>  <FONT COLOR="{MUTED}">{e(kind)}</FONT>>',
    )  # fmt: skip


# ---------------------------------------------------------------- skips


def depths(graph: Graph) -> dict[str, int]:
    """Each tensor's longest path from the model's inputs, in layers (an input: 0)."""
    depth: dict[str, int] = dict.fromkeys(graph.inputs, 0)
    for node in graph.nodes.values():  # blocks only read earlier ones: nodes are in order
        depth[node.name] = 1 + max((depth[i] for i in node.inputs), default=0)
    return depth


def shortcut_edges(graph: Graph) -> set[tuple[str, str]]:
    """The edges of residual shortcuts and skips. For each `add`, an input whose longest path
    from the model's inputs is shorter than another input's is a shortcut. For each `concat`, an
    input from another block is a skip where it is an earlier tensor that another input was
    made from (DenseNet's), or where another input passed through a smaller size (U-Net's:
    the encoder's feature beside the decoder's, which went through the bottleneck); the
    branches of an Inception module, made side by side at one size, are not. So is the branch of
    layers above it, up to the tensor it forks from. Works for the residual blocks and for skips
    written by hand with `add` and `concat` blocks."""
    depth = depths(graph)
    #: the smallest height x width on any path from the model's inputs (None: not known), along
    #: the paths that carry an image: a squeezed tensor does not pass its size on to a layer that
    #: reads it. Squeezed: a vector, a global pool's output, and a 1x1 map made from squeezed
    #: tensors only (an `se` gate, ASPP's image pooling: they rescale or add channels at the
    #: size they were pooled from and are not a trip down to a coarser map and back up; counted,
    #: the other inputs of a concat below an `se` were skips). A map pooled down to 1x1 by
    #: strided layers (a U-Net's bottleneck on a small input) is not squeezed. A squeezed
    #: tensor's own low is still its size (1): concats of vectors are as before.
    low: dict[str, int | None] = {n: _area(s) for n, s in graph.inputs.items()}
    squeezed = {n for n, s in graph.inputs.items() if len(s) != 3}
    for node in graph.nodes.values():  # blocks only read earlier ones: nodes are in order
        area = _area(node.shape)
        if (
            len(node.shape) != 3
            or isinstance(node.op, GlobalPool)
            or (area == 1 and node.inputs and squeezed.issuperset(node.inputs))
        ):
            squeezed.add(node.name)
        sizes = [area, *(low[i] for i in node.inputs if i not in squeezed)]
        low[node.name] = None if None in sizes else min(sizes)  # type: ignore[type-var]
    readers = {name: len(r) for name, r in graph.consumers().items()}
    out: set[tuple[str, str]] = set()
    for node in graph.nodes.values():
        if isinstance(node.op, Add):
            longest = max(depth[i] for i in node.inputs)
            skips = [i for i in node.inputs if depth[i] != longest]
        elif isinstance(node.op, Concat):
            lows = [low[i] for i in node.inputs]
            smallest = None if None in lows else min(lows)  # type: ignore[type-var]
            # an input another input was made from: one walk up from all the inputs' own
            # inputs, not one per pair of inputs (a concat of n inputs was n^2 walks)
            made_from = graph.ancestors(
                *(p for i in node.inputs if i in graph.nodes for p in graph.nodes[i].inputs)
            )
            skips = [
                i for i in node.inputs
                if (i not in graph.nodes or graph.nodes[i].block != node.block)
                and ((smallest is not None and low[i] != smallest) or i in made_from)
            ]  # fmt: skip
        else:
            continue
        for src in skips:
            out.add((src, node.name))
            branch = graph.nodes.get(src)
            while branch is not None and readers[branch.name] == 1 and len(branch.inputs) == 1:
                out.add((branch.inputs[0], branch.name))
                branch = graph.nodes.get(branch.inputs[0])
    return out


def _area(shape: tuple[int | None, ...]) -> int | None:
    """Height x width of an image tensor (1 for a vector), None where a size is unknown."""
    if len(shape) != 3:
        return 1
    h, w, _ = shape
    return None if h is None or w is None else h * w


# ---------------------------------------------------------------- the collapsed view


def unit_id(unit: Instance | BlockInfo) -> str:
    """The node of a top-level block (its name) or instance (`group:<name>`) when collapsed."""
    return f"group:{unit.name}" if isinstance(unit, Instance) else unit.name


def collapsed(g: pydot.Dot, graph: Graph) -> None:
    """One box per top-level block and per top-level instance (its name, type, what it holds,
    params and MACs); an edge per tensor into a box, labelled with its shape, dashed for a
    skip. Where the whole model is one instance (ConvNeXt's `convnext_net`), the boxes are
    what it holds, level by level: one box alone would show nothing."""
    units = nest(graph.blocks)
    while len(units) == 1 and isinstance(units[0], Instance):
        units = units[0].children
    owner: dict[str, str] = {}
    for unit in units:
        blocks = unit.blocks() if isinstance(unit, Instance) else [unit]
        for b in blocks:
            owner.update(dict.fromkeys(b.nodes, unit_id(unit)))
        g.add_node(_unit_node(graph, unit, blocks))
    shortcut = shortcut_edges(graph)
    edges: list[tuple[str, str, list[bool]]] = []
    for unit in units:
        here = unit_id(unit)
        reads: dict[str, list[bool]] = {}  # tensor -> for each reader here: is it a skip
        for b in unit.blocks() if isinstance(unit, Instance) else [unit]:
            for n in b.nodes:
                for src in graph.nodes[n].inputs:
                    if owner.get(src) != here:
                        reads.setdefault(src, []).append((src, n) in shortcut)
        edges += [(src, here, skips) for src, skips in reads.items()]
    # an instance that hands out several tensors (a backbone's taps) names the block each
    # comes from on its edge
    handed: dict[str, set[str]] = {}
    for src, _, _ in edges:
        handed.setdefault(owner.get(src, ""), set()).add(src)
    info = {b.name: b for b in graph.blocks} if any(len(h) > 1 for h in handed.values()) else {}
    for src, here, skips in edges:
        source = owner.get(src, f"in:{src}")
        label = shape_label(graph, src)
        if source.startswith("group:") and len(handed[source]) > 1:
            # the block's name inside the box (`conv3_block4` of `backbone`, which the spec
            # reads as `backbone.conv3_block4` where it lists that block): two full names side
            # by side touched. Names are identifiers: nothing to escape; \n is DOT's line break
            # (a tap that is an instance of a user-defined block inside: the instance's name;
            # a block within one, `block_13_expand_relu` in MobileNetV2's `block_13`: its own)
            name = source.removeprefix("group:")
            groups = info[graph.nodes[src].block].groups if info else ()
            listed = [f"{name}_{o}" for o in graph.includes.get(name, {}).get("outputs", ())]
            own = graph.nodes[src].block
            inner = own if own in listed or len(groups) < 2 else groups[1][0]
            block = inner.removeprefix(name + "_")
            label = f'" {block}\\n {dims(graph.shape_of(src))}"'
        attrs: dict[str, Any] = {"label": label}
        if all(skips):
            attrs.update(style="dashed", color=MUTED)
        g.add_edge(pydot.Edge(quote(source), quote(here), **attrs))
    for k, out in enumerate(graph.outputs):
        g.add_edge(pydot.Edge(quote(owner[out]), quote(f"out:{k}"), label=shape_label(graph, out)))


def _unit_node(graph: Graph, unit: Instance | BlockInfo, blocks: list[BlockInfo]) -> pydot.Node:
    if isinstance(unit, Instance):
        layers = sum(len(b.nodes) for b in blocks)
        nested = sum(1 for _ in walk(unit.children))
        what = [f"{len(blocks)} blocks" if len(blocks) != 1 else "1 block",
                f"{layers} layers" if layers != 1 else "1 layer"]  # fmt: skip
        if nested:
            what.append(f"{nested} nested" if nested != 1 else "1 nested")
        if unit.frozen(graph):
            what.append("frozen")
        c = sum((b.cost(graph) for b in blocks[1:]), blocks[0].cost(graph))
        main = max(blocks, key=lambda b: b.cost(graph).params)  # its colour: the biggest block's
        pal = palette(main.type)
        return pydot.Node(
            quote(unit_id(unit)), label=table(unit.name, unit.type, ", ".join(what), c.params,
            c.macs), fillcolor=pal.fill, color=pal.border, style="rounded,filled,dashed",
            penwidth="1.2", margin="0.12,0.06",
        )  # fmt: skip
    pal = palette(unit.type)
    c = unit.cost(graph)
    return pydot.Node(
        quote(unit.name), label=table(unit.name, unit.type, unit.summary, c.params, c.macs),
        fillcolor=pal.fill, color=pal.border, margin="0.12,0.06",
    )  # fmt: skip
