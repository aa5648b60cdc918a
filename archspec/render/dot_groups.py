"""User-defined block instances and included specs in the diagrams (dot.py): their nesting, the
dashed boxes around them, the collapsed view (one box per top-level block or instance), and the
skip edges drawn dashed in both views.

The IR records only the outermost instance of a block (BlockInfo.group); deeper instances are
derived from where each block is written (`path`: the `define` it comes from and its index there)
and from the names of the blocks (an instance's blocks are named `<instance>_<block>`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pydot

from archspec.blocks.layers.add import Add
from archspec.blocks.layers.concat import Concat
from archspec.ir.graph import BlockInfo, Graph
from archspec.render.dot_style import MUTED, e, palette, quote, shape_label, table

#: a concat input this many blocks shallower than its deepest input is a skip (U-Net); closer
#: ones are parallel branches (an Inception module written by hand)
CONCAT_SKIP_BLOCKS = 2


@dataclass
class Group:
    """A user-defined block instance or an included spec (type `spec`): its blocks and the
    instances nested in it, in emission order."""

    name: str
    type: str
    children: list[Group | BlockInfo] = field(default_factory=list)
    #: the define and the last index there of the block added last (to tell copies apart)
    last: tuple[str, int] | None = None

    def blocks(self) -> list[BlockInfo]:
        out: list[BlockInfo] = []
        for c in self.children:
            out.extend(c.blocks() if isinstance(c, Group) else [c])
        return out


def _written_in(b: BlockInfo, top: Group) -> tuple[str, int] | None:
    """The define `b` is written in and its index there, when that is not `top`'s own type (`b`
    then belongs to an instance nested in `top`)."""
    if len(b.path) < 2 or b.path[0] != "define":
        return None
    kind = str(b.path[1])
    if kind == top.type and top.type != "spec":
        return None
    return kind, int(b.path[3]) if len(b.path) > 3 and isinstance(b.path[3], int) else 0


def _common_name(names: list[str]) -> str:
    """An instance's name from its blocks' names (`enc2_conv_conv1`, `enc2_conv_conv2` ->
    `enc2_conv`): their longest common prefix ending before a `_`."""
    first = names[0]
    n = 0
    while all(len(s) > n and s[n] == first[n] for s in names):
        n += 1
    prefix = first[:n]
    return prefix.rsplit("_", 1)[0] if "_" in prefix else prefix


def nest(graph: Graph) -> list[Group | BlockInfo]:
    """The top-level blocks and instances of `graph`, instances holding their nested ones."""
    top: list[Group | BlockInfo] = []
    for b in graph.blocks:
        if b.group is None:
            top.append(b)
            continue
        outer = top[-1] if top else None
        if not (isinstance(outer, Group) and outer.name == b.group[0]):
            outer = Group(*b.group)
            top.append(outer)
        where = _written_in(b, outer)
        if where is None:
            outer.children.append(b)
            outer.last = None
            continue
        run = outer.children[-1] if outer.children else None
        fresh = outer.last is None or outer.last[0] != where[0] or where[1] <= outer.last[1]
        if fresh or not isinstance(run, Group):  # a new copy: its define starts again
            run = Group("", where[0])
            outer.children.append(run)
        outer.last = where
        run.children.append(b)
    for unit in top:
        if isinstance(unit, Group):
            _nest_runs(unit)
    return top


def _nest_runs(outer: Group) -> None:
    """Name the runs of blocks found in `outer` (one per nested instance, from their blocks'
    names) and put each inside the one whose name its own extends (`o_m_i1` in `o_m`)."""
    kids: list[Group | BlockInfo] = []
    for c in outer.children:
        if isinstance(c, Group):
            c.name = _common_name([b.name for b in c.blocks()])
            _place(kids, c)
        else:
            kids.append(c)
    outer.children = kids


def _place(kids: list[Group | BlockInfo], run: Group) -> None:
    last = kids[-1] if kids else None
    if isinstance(last, Group) and last.name == run.name and last.type == run.type:
        last.children.extend(run.children)  # the same instance, after one nested in it
        return
    if isinstance(last, Group) and _holds(last, run):
        _place(last.children, run)
        return
    while kids and isinstance(kids[-1], Group) and _holds(run, kids[-1]):
        run.children.insert(0, kids.pop())  # runs this one holds, seen before its own blocks
    kids.append(run)


def _holds(outer: Group | BlockInfo, inner: Group | BlockInfo) -> bool:
    return (
        isinstance(outer, Group)
        and outer.name != inner.name
        and inner.name.startswith(outer.name + "_")
    )


def walk(units: list[Group | BlockInfo]) -> Iterator[Group]:
    """Every group, outer ones first."""
    for u in units:
        if isinstance(u, Group):
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


def group_box(ids: Ids, g: Group) -> pydot.Subgraph:
    """The dashed box around an instance in the expanded view, labelled bottom left (the layers
    run down the right of the block labels, so that corner is clear)."""
    return pydot.Subgraph(
        quote(ids("group", g.name)), style="rounded,dashed", color=MUTED, penwidth="1",
        margin="6", fontsize="9", labelloc="b", labeljust="l",
        label=f'<<B>{e(g.name)}</B>  <FONT COLOR="{MUTED}">{e(g.type)}</FONT>>',
    )  # fmt: skip


# ---------------------------------------------------------------- skips


def shortcut_edges(graph: Graph) -> set[tuple[str, str]]:
    """The edges of residual shortcuts and skips. For each `add`, an input whose longest path
    from the model's inputs is shorter than another input's is a shortcut; for each `concat`, an
    input from another block CONCAT_SKIP_BLOCKS or more blocks shallower than its deepest input
    (U-Net's skips; not the branches of an Inception module). So is the branch of layers above
    it, up to the tensor it forks from. Works for the residual blocks and for skips written by
    hand with `add` and `concat` blocks."""
    depth: dict[str, int] = dict.fromkeys(graph.inputs, 0)
    level: dict[str, int] = dict.fromkeys(graph.inputs, 0)  # the same, counted in blocks
    for node in graph.nodes.values():  # blocks only read earlier ones: nodes are in order
        depth[node.name] = 1 + max((depth[i] for i in node.inputs), default=0)
        level[node.name] = max(
            (level[i] + (graph.nodes[i].block != node.block if i in graph.nodes else 1)
             for i in node.inputs), default=1,
        )  # fmt: skip
    readers = {name: len(r) for name, r in graph.consumers().items()}
    out: set[tuple[str, str]] = set()
    for node in graph.nodes.values():
        if isinstance(node.op, Add):
            longest = max(depth[i] for i in node.inputs)
            skips = [i for i in node.inputs if depth[i] != longest]
        elif isinstance(node.op, Concat):
            deepest = max(level[i] for i in node.inputs)
            skips = [
                i for i in node.inputs
                if deepest - level[i] >= CONCAT_SKIP_BLOCKS
                and (i not in graph.nodes or graph.nodes[i].block != node.block)
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


# ---------------------------------------------------------------- the collapsed view


def unit_id(unit: Group | BlockInfo) -> str:
    """The node of a top-level block (its name) or instance (`group:<name>`) when collapsed."""
    return f"group:{unit.name}" if isinstance(unit, Group) else unit.name


def collapsed(g: pydot.Dot, graph: Graph) -> None:
    """One box per top-level block and per top-level instance (its name, type, what it holds,
    params and MACs); an edge per tensor into a box, labelled with its shape, dashed for a
    skip."""
    units = nest(graph)
    owner: dict[str, str] = {}
    for unit in units:
        blocks = unit.blocks() if isinstance(unit, Group) else [unit]
        for b in blocks:
            owner.update(dict.fromkeys(b.nodes, unit_id(unit)))
        g.add_node(_unit_node(graph, unit, blocks))
    shortcut = shortcut_edges(graph)
    for unit in units:
        here = unit_id(unit)
        reads: dict[str, list[bool]] = {}  # tensor -> for each reader here: is it a skip
        for b in unit.blocks() if isinstance(unit, Group) else [unit]:
            for n in b.nodes:
                for src in graph.nodes[n].inputs:
                    if owner.get(src) != here:
                        reads.setdefault(src, []).append((src, n) in shortcut)
        for src, skips in reads.items():
            attrs: dict[str, Any] = {"label": shape_label(graph, src)}
            if all(skips):
                attrs.update(style="dashed", color=MUTED)
            g.add_edge(pydot.Edge(quote(owner.get(src, f"in:{src}")), quote(here), **attrs))
    for k, out in enumerate(graph.outputs):
        g.add_edge(pydot.Edge(quote(owner[out]), quote(f"out:{k}"), label=shape_label(graph, out)))


def _unit_node(graph: Graph, unit: Group | BlockInfo, blocks: list[BlockInfo]) -> pydot.Node:
    if isinstance(unit, Group):
        layers = sum(len(b.nodes) for b in blocks)
        nested = sum(1 for _ in walk(unit.children))
        what = [f"{len(blocks)} blocks" if len(blocks) != 1 else "1 block",
                f"{layers} layers" if layers != 1 else "1 layer"]  # fmt: skip
        if nested:
            what.append(f"{nested} nested" if nested != 1 else "1 nested")
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
