"""The bounds of `archspec plot`: how big a diagram may be (E712).

Graphviz's time and memory grow faster than the diagram, so a diagram over LIMITS is refused
before anything is laid out; drawn expanded, the hint says whether `--collapse` fits. (A folder
is never a diagram's target: core/files.not_a_folder.)
"""

from __future__ import annotations

from archspec.core.errors import Diagnostic, SpecError
from archspec.ir.graph import Graph

#: the largest diagram drawn (E712), as (boxes, edges), expanded (layers) and collapsed
#: (blocks): Graphviz's memory grows about as the square of the clusters (a chain of 1,000
#: one-layer blocks drawn expanded takes 170 MB, 2,000 take 570 MB, 5,000 take 3.1 GB and 46 s;
#: collapsed, 5,000 blocks take 100 MB and 3.5 s). The zoo's biggest is 821 layers.
LIMITS: dict[bool, tuple[int, int]] = {False: (2_000, 4_000), True: (5_000, 10_000)}


def size(graph: Graph, collapse: bool) -> tuple[int, int]:
    """(boxes, edges) of the diagram: layers and the tensors they read, or, collapsed, blocks and
    the tensors each reads from outside it."""
    if not collapse:
        return len(graph.nodes), sum(len(n.inputs) for n in graph.nodes.values())
    owner = {n: b.name for b in graph.blocks for n in b.nodes}
    edges = sum(len({i for n in b.nodes for i in graph.nodes[n].inputs if owner.get(i) != b.name})
                for b in graph.blocks)  # fmt: skip
    return len(graph.blocks), edges


def check_size(graph: Graph, collapse: bool) -> None:
    """E712 if the diagram is over LIMITS (Graphviz's time and memory grow faster than the
    diagram), before anything is laid out; drawn expanded, the hint says whether `--collapse`
    fits."""
    boxes, edges = size(graph, collapse)
    most_boxes, most_edges = LIMITS[collapse]
    if boxes <= most_boxes and edges <= most_edges:
        return
    what = "blocks" if collapse else "layers"
    over = (f"{boxes:,} {what}, more than the limit of {most_boxes:,}" if boxes > most_boxes
            else f"{edges:,} edges, more than the limit of {most_edges:,}")  # fmt: skip
    small = size(graph, True)
    hint = (
        f"draw it with --collapse (one box per block: {small[0]:,} boxes)"
        if not collapse and small[0] <= LIMITS[True][0] and small[1] <= LIMITS[True][1]
        else "draw a smaller part of the model: the diagram would be unreadable anyway"
    )
    raise SpecError(
        Diagnostic(
            "E712",
            f"the diagram of `{graph.name}` would have {over}"
            + (" (drawn collapsed)" if collapse else ""),
            hint=hint,
        )
    )
