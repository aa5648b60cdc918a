"""The graph IR: layers (nodes) with their inputs, shapes, parameters and MACs, grouped by the
spec block that made them. No TensorFlow here: `archspec check` and `plot` work on this alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from archspec.core.errors import Diagnostic, KeyPath, ShapeError
from archspec.core.units import Shape
from archspec.ir.op import Cost, Op


@dataclass
class Node:
    """One Keras layer to be: `op` applied to the outputs of `inputs` (node or input names)."""

    name: str
    op: Op
    inputs: list[str]
    shape: Shape
    cost: Cost
    block: str
    role: str

    @property
    def params(self) -> int:
        return self.cost.params


@dataclass
class BlockInfo:
    """One block instance of the spec (a repeated block gives one per copy)."""

    name: str
    type: str
    path: KeyPath
    inputs: list[str]
    nodes: list[str] = field(default_factory=list)
    output: str = ""
    shape: Shape = ()
    summary: str = ""
    #: the user-defined block instance this one was expanded from, if any: (name, type)
    group: tuple[str, str] | None = None

    def cost(self, graph: Graph) -> Cost:
        return sum((graph.nodes[n].cost for n in self.nodes), Cost())


@dataclass
class Graph:
    name: str
    inputs: dict[str, Shape]
    nodes: dict[str, Node] = field(default_factory=dict)
    blocks: list[BlockInfo] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    #: findings that do not stop the build (a block that feeds nothing, ...)
    warnings: list[Diagnostic] = field(default_factory=list)

    def shape_of(self, name: str) -> Shape:
        return self.inputs[name] if name in self.inputs else self.nodes[name].shape

    @property
    def cost(self) -> Cost:
        return sum((n.cost for n in self.nodes.values()), Cost())

    @property
    def params(self) -> int:
        return self.cost.params

    def shapes_at(self, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        """Every tensor's shape were the inputs of these shapes: each layer's `infer` again, in
        order. ShapeError where a layer cannot take them."""
        shapes = dict(inputs)
        for node in self.nodes.values():
            shapes[node.name] = node.op.infer([shapes[i] for i in node.inputs])
        return shapes

    @property
    def output_shapes(self) -> dict[str, Shape]:
        return {o: self.shape_of(o) for o in self.outputs}

    def block_rows(self) -> list[tuple[str, str, Shape, Cost]]:
        """(name, type, output shape, cost) per block as the user wrote it: the blocks a
        user-defined block expands to are summed into one row named after the instance."""
        rows: list[tuple[str, str, Shape, Cost]] = []
        for b in self.blocks:
            c = b.cost(self)
            name, kind = b.group or (b.name, b.type)
            if b.group and rows and rows[-1][:2] == b.group:
                rows[-1] = (name, kind, b.shape, rows[-1][3] + c)
            else:
                rows.append((name, kind, b.shape, c))
        return rows

    def consumers(self) -> dict[str, list[str]]:
        """name -> the nodes that read it."""
        out: dict[str, list[str]] = {n: [] for n in [*self.inputs, *self.nodes]}
        for node in self.nodes.values():
            for i in node.inputs:
                out[i].append(node.name)
        return out


class Builder:
    """What a block's `expand` uses to add layers: `b.add("conv1", Conv2D(...), x)`.

    Layer names are `<block name>_<role>`; a block that emits one layer with role "" gives it the
    block's own name. A name already taken is reported by the caller (lower) as a duplicate.
    """

    def __init__(self, graph: Graph, block: BlockInfo) -> None:
        self.graph = graph
        self.block = block

    def shape(self, tensor: str) -> Shape:
        return self.graph.shape_of(tensor)

    def add(self, role: str, op: Op, *inputs: str) -> str:
        name = f"{self.block.name}_{role}" if role else self.block.name
        if name in self.graph.nodes or name in self.graph.inputs:
            raise ShapeError(
                f"layer name `{name}` is already taken by an earlier block",
                key="name",
                hint="give this block a different `name`",
                code="E302",
            )
        shapes = [self.shape(i) for i in inputs]
        out = op.infer(shapes)
        self.graph.nodes[name] = Node(
            name=name,
            op=op,
            inputs=list(inputs),
            shape=out,
            cost=op.cost(shapes, out),
            block=self.block.name,
            role=role,
        )
        self.block.nodes.append(name)
        return name
