"""The interactive page: `archspec plot SPEC -o model.html`, one self-contained HTML file.

Built from archspec's IR (no TensorFlow): every block is a box (`data-block="<name>"`) holding its
layers (`data-layer="<name>"`), hidden until the box is clicked; instances of user-defined blocks
and included specs are boxes around their blocks (`data-group`), nested level by level. The
layers of each block are laid out by Graphviz (html_layout.py); blocks stack in a column in
emission order and the page's script (html_assets/page.js, inlined with page.css) draws the edges
between them, pans, zooms, searches and shows each node's details. Nothing is loaded from the
network: the script, the style and the data are all in the file.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from archspec.core.units import human, macs_str, shape_str
from archspec.ir.graph import BlockInfo, Graph, Instance, nest
from archspec.render.dot import RANKDIRS, _shortcut_edges, family, find_renderer
from archspec.render.html_layout import Layout, layouts

ARROW = (
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
    'markerHeight="6" orient="auto"><path d="M0 1L10 5L0 9z"/></marker></defs>'
)
#: groups nested deeper than this start closed (the outer levels start open)
OPEN_DEPTH = 1


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _dims(shape: Any) -> str:
    return shape_str(shape, "dims")


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _asset(name: str) -> str:
    return (resources.files("archspec.render") / "html_assets" / name).read_text("utf-8")


def spec_lines(resolved: Any) -> dict[str, str]:
    """Block name -> `file:line` where the block is written, from a resolved spec
    (`archspec.load(...)`): inside a user-defined block, the line in its `define`, followed by
    where the instance is used; inside an included spec, that spec's file. And instance name
    -> where it is used (a top-level `spec` block: its line)."""
    out: dict[str, str] = {}
    top = resolved.doc
    for item in resolved.items:
        doc = item.doc or top
        pos = doc.locate(item.path)
        where = f"{doc.file}:{pos[0]}" if pos else doc.file
        if item.use is not None:
            use = top.locate(item.use)
            if use:
                where += f" (used at {top.file}:{use[0]})"
        out[item.block.name] = where
        # an instance: where it is used (the outermost in the spec, one inside in `define`;
        # the blocks of an included spec have no `at`: its `spec` block's line is below)
        for (group, _), at in zip(item.groups, item.at, strict=False):
            pos = top.locate(at) if group not in out else None
            if pos:
                out[group] = f"{top.file}:{pos[0]}"
    for group, included in resolved.includes.items():
        pos = top.locate(included.path)
        if pos:
            out[group] = f"{top.file}:{pos[0]}"
    return out


# ---------------------------------------------------------------- markup


@dataclass
class _Page:
    graph: Graph
    lines: Mapping[str, str]
    boxes: dict[str, Layout]
    total_params: int
    total_macs: int | None
    out: list[str] = field(default_factory=list)
    group_ids: int = 0

    def share(self, params: int, macs: int | None) -> str:
        pp = 100 * params / self.total_params if self.total_params else 0.0
        known = macs is not None and self.total_macs is not None
        mp = 100 * macs / self.total_macs if known and self.total_macs and macs else 0.0
        share = f"{mp:.1f}% MACs" if known else "? MACs"  # an input of unknown size
        title = f"{pp:.1f}% of params, " + (f"{mp:.1f}% of MACs" if known else "MACs ?")
        return (f'<div class="bars" title="{_e(title)}"><i class="bp" style="width:{pp:.2f}%">'
                f'</i><i class="bm" style="width:{mp:.2f}%"></i></div>'
                f'<div class="pct">{pp:.1f}% params · {share}</div>')  # fmt: skip

    def cost(self, params: int, macs: int | None) -> str:
        text = f"{params:,} params" if params < 10_000 else f"{human(params)} params"
        return f'<div class="cost">{_e(text)} · {_e(macs_str(macs))} MACs</div>'

    def group(self, g: Instance, depth: int) -> None:
        """An instance `depth` levels deep (1: at the top level) and what it holds."""
        c = sum((b.cost(self.graph) for b in g.blocks()), start=type(self.graph.cost)())
        self.group_ids += 1
        state = " open" if depth <= OPEN_DEPTH else ""
        self.out.append(
            f'<div class="grp{state}" data-group="{_e(g.name)}" data-gtype="{_e(g.type)}" '
            f'id="g{self.group_ids}"><div class="ghd"><span class="tw"></span><b>{_e(g.name)}</b> '
            f'<span class="ty">{_e(g.type)}</span> '
            f'<span class="n">{_count(len(g.blocks()), "block")}</span>'
            f"{self.cost(c.params, c.macs)}{self.share(c.params, c.macs)}</div>"
            '<div class="gbody">'
        )
        self.children(g.children, depth)
        self.out.append("</div></div>")

    def children(self, units: list[Instance | BlockInfo], depth: int = 0) -> None:
        """The blocks and instances inside an instance `depth` levels deep (0: the model)."""
        for c in units:
            if isinstance(c, Instance):
                self.group(c, depth + 1)
            else:
                self.block(c)

    def block(self, b: BlockInfo) -> None:
        c = b.cost(self.graph)
        lay = self.boxes[b.name]
        summary = f'<div class="sm">{_e(b.summary)}</div>' if b.summary else ""
        self.out.append(
            f'<div class="blk f-{_e(family(b.type))}" data-block="{_e(b.name)}">'
            f'<div class="hd"><span class="tw"></span><b>{_e(b.name)}</b> '
            f'<span class="ty">{_e(b.type)}</span> '
            f'<span class="n">{_count(len(b.nodes), "layer")}</span>'
            f"{summary}{self.cost(c.params, c.macs)}{self.share(c.params, c.macs)}</div>"
            f'<div class="body" style="width:{lay.width:.0f}px;height:{lay.height:.0f}px">'
            f'<svg width="{lay.width:.0f}" height="{lay.height:.0f}">'
        )
        for e in lay.edges:
            dash = ' class="sc"' if e.dashed else ""
            self.out.append(f'<path d="{e.d}"{dash}/>')
            if e.label:
                self.out.append(f'<text x="{e.lx:.0f}" y="{e.ly + 3:.0f}">{_e(e.label)}</text>')
        self.out.append("</svg>")
        for n in b.nodes:
            x, y, w, h = lay.nodes[n]
            self.out.append(
                f'<div class="ly" data-layer="{_e(n)}" style="left:{x:.0f}px;top:{y:.0f}px;'
                f'width:{w:.0f}px;height:{h:.0f}px">{_e(self.graph.nodes[n].op.describe())}</div>'
            )
        self.out.append("</div></div>")


def _data(graph: Graph, lines: Mapping[str, str], shortcut: set[tuple[str, str]],
          units: list[Instance | BlockInfo]) -> Any:  # fmt: skip
    """What the script shows on hover and the edges between blocks (`units`: nest's)."""

    def ins(names: list[str]) -> list[list[str]]:
        return [[i, _dims(graph.shape_of(i))] for i in names]

    layers = {}
    for node in graph.nodes.values():
        layers[node.name] = {"t": node.op.describe(), "k": type(node.op).__name__,
                             "i": ins(node.inputs), "o": _dims(node.shape),
                             "p": node.cost.params, "tr": node.cost.trainable,
                             "m": node.cost.macs, "b": node.block}  # fmt: skip
    blocks = {}
    edges: list[list[Any]] = []
    for b in graph.blocks:
        c = b.cost(graph)
        blocks[b.name] = {"t": b.type, "s": b.summary, "i": ins(b.inputs), "o": _dims(b.shape),
                          "p": c.params, "tr": c.trainable, "m": c.macs,
                          "l": lines.get(b.name, ""),  # the instance it is directly in:
                          "g": b.groups[-1] if b.groups else None}  # fmt: skip
        into: dict[str, list[Any]] = {}  # source block -> [label, all reads are shortcuts]
        for n in b.nodes:
            for src in graph.nodes[n].inputs:
                owner = graph.nodes[src].block if src in graph.nodes else f"in:{src}"
                if owner == b.name:
                    continue
                entry = into.setdefault(owner, [_dims(graph.shape_of(src)), True])
                entry[1] = entry[1] and (src, n) in shortcut
        edges.extend([owner, b.name, label, dashed] for owner, (label, dashed) in into.items())
    for k, out in enumerate(graph.outputs):
        edges.append([graph.nodes[out].block, f"out:{k}", _dims(graph.shape_of(out)), False])
    return {"n": layers, "b": blocks, "e": edges, "g": _groups(graph, lines, ins, units)}


def _groups(graph: Graph, lines: Mapping[str, str], ins: Any,
            units: list[Instance | BlockInfo]) -> dict[str, Any]:  # fmt: skip
    """Per instance (a user-defined block's, an included spec's): what it reads from outside
    (an encoder's skip too), what it hands out (a backbone's taps, each model output in it)
    and where it is written (its use, not its first block's line)."""
    readers = graph.consumers()
    outputs = set(graph.outputs)
    out: dict[str, Any] = {}
    todo = [u for u in units if isinstance(u, Instance)]
    while todo:
        g = todo.pop()
        todo += [u for u in g.children if isinstance(u, Instance)]
        nodes = [n for b in g.blocks() for n in b.nodes]
        inside = set(nodes)
        read = dict.fromkeys(i for n in nodes for i in graph.nodes[n].inputs if i not in inside)
        given = [n for n in nodes if n in outputs or not inside.issuperset(readers[n])]
        out[g.name] = {"i": ins(list(read)), "o": ins(given), "l": lines.get(g.name, "")}
    return out


def _json(data: Any) -> str:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def to_html(graph: Graph, source: str | None = None, lines: Mapping[str, str] | None = None,
            renderer: str | None = None) -> str:  # fmt: skip
    """The page of `graph`. `source`: the spec file's name, shown in the header; `lines`: block
    name -> `file:line` (spec_lines); `renderer`: the Graphviz program (default: find_renderer)."""
    lines = lines or {}
    shortcut = _shortcut_edges(graph)
    cost = graph.cost
    page = _Page(graph, lines, layouts(graph, shortcut, renderer or find_renderer()),
                 cost.params, cost.macs)  # fmt: skip
    for name, shape in graph.inputs.items():
        page.out.append(f'<div class="term" data-input="{_e(name)}"><b>{_e(name)}</b>'
                        f"<br>{_e(_dims(shape))}</div>")  # fmt: skip
    units = nest(graph.blocks)
    page.children(units)
    data = _json(_data(graph, lines, shortcut, units))
    for k, out in enumerate(graph.outputs):
        page.out.append(f'<div class="term" data-output="out:{k}"><b>output</b> {_e(out)}'
                        f"<br>{_e(_dims(graph.shape_of(out)))}</div>")  # fmt: skip
    outs = ", ".join(f"{o} {_dims(graph.shape_of(o))}" for o in graph.outputs)
    ins = ", ".join(f"{i} {_dims(s)}" for i, s in graph.inputs.items())
    totals = (
        f'<span data-total="params"><b>{cost.params:,}</b> params</span>'
        f'<span data-total="trainable"><b>{cost.trainable:,}</b> trainable</span>'
        f'<span data-total="non-trainable"><b>{cost.non_trainable:,}</b> non-trainable</span>'
        f'<span data-total="macs"><b>{_e(macs_str(cost.macs))}</b> MACs</span>'
        f'<span data-total="outputs">outputs <b>{_e(outs)}</b></span>'
        f'<span data-total="inputs">inputs <b>{_e(ins)}</b></span>'
    )
    src = f'<span class="src">{_e(source)}</span>' if source else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="archspec">
<title>{_e(graph.name)} · archspec</title>
<style>{_asset("page.css")}</style></head>
<body>
<header id="top"><div class="title"><b>{_e(graph.name)}</b> {src}
<span class="legend"><i class="bp"></i>share of params <i class="bm"></i>share of MACs</span></div>
<div class="totals">{totals}</div>
<div class="tools"><input id="q" type="search" placeholder="Find a block or layer (/)"
 autocomplete="off" spellcheck="false"><span id="hits"></span>
<button data-act="in" title="Zoom in">+</button><button data-act="out" title="Zoom out">&minus;
</button><button data-act="fit" title="The whole model in view">fit</button><button data-act="one"
 title="Actual size">1:1</button><button data-act="open" title="Open every block">expand all
</button><button data-act="close" title="Close every block">collapse all</button></div></header>
<main id="vp"><div id="cv"><svg id="ov">{ARROW}</svg>
<div id="col">{"".join(page.out)}</div></div></main>
<aside id="info" hidden></aside>
<script type="application/json" id="archspec-data">{data}</script>
<script>{_asset("page.js")}</script>
</body></html>
"""


def plot_html(graph: Graph, path: Path, collapse: bool = False, rankdir: str = "TB",
              lines: Mapping[str, str] | None = None) -> Path:  # fmt: skip
    """Write the page of `graph` to `path`, atomically (the signature of dot.plot; `collapse`
    and `rankdir` are accepted and ignored: the page starts collapsed and runs top to bottom).
    `lines`: block name -> `file:line`, from spec_lines(archspec.load(...))."""
    from archspec.core.errors import usage_error
    from archspec.core.files import not_a_folder, write_file

    if rankdir not in RANKDIRS:
        raise usage_error(
            "E003", f"--rankdir must be one of {', '.join(RANKDIRS)}; received {rankdir!r}"
        )
    folder = path.parent
    if not folder.is_dir():
        raise usage_error("E002", f"cannot write {path}: folder {folder} does not exist")
    not_a_folder(path, "model.html")
    write_file(path, to_html(graph, None, lines).encode("utf-8"))
    return path
