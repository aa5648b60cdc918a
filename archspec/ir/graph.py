"""The graph IR: layers (nodes) with their inputs, shapes, parameters and MACs, grouped by the
spec block that made them. No TensorFlow here: `archspec check` and `plot` work on this alone."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

from archspec.core.errors import Diagnostic, KeyPath, ShapeError, UnplacedError
from archspec.core.units import Dim, Shape
from archspec.ir.op import Cost, Op


class BlockRow(NamedTuple):
    """A block of the summary (`Graph.block_rows`)."""

    name: str
    type: str
    shape: Shape
    cost: Cost
    #: whether the row has layers and every one is frozen (`trainable: false`)
    frozen: bool


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
    #: False for a layer of a frozen `spec` block (`trainable: false`): Keras's
    #: `layer.trainable`; its cost then counts every parameter as non-trainable
    trainable: bool = True

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
    #: gives the key parameters as text (the block's `summary`), asked for only where a table
    #: or a diagram shows them: `check` of a large zoo would spend a tenth of its time on them
    summarize: Callable[[], str] = str  # str() is ""
    #: the user-defined block instances (and included specs, type `spec`) this one was
    #: expanded from, outermost first: (final name, type) each
    groups: tuple[tuple[str, str], ...] = ()

    @functools.cached_property
    def summary(self) -> str:
        return self.summarize()

    @property
    def group(self) -> tuple[str, str] | None:
        """The outermost instance this block was expanded from, if any."""
        return self.groups[0] if self.groups else None

    def cost(self, graph: Graph) -> Cost:
        return sum((graph.nodes[n].cost for n in self.nodes), Cost())


@dataclass
class Instance:
    """A user-defined block instance or an included spec (type `spec`) in a graph: its blocks
    and the instances nested in it, in emission order."""

    name: str
    type: str
    children: list[Instance | BlockInfo] = field(default_factory=list)

    def blocks(self) -> list[BlockInfo]:
        out: list[BlockInfo] = []
        for c in self.children:
            out.extend(c.blocks() if isinstance(c, Instance) else [c])
        return out

    def frozen(self, graph: Graph) -> bool:
        """Whether every layer in it is frozen (`trainable: false`), as diagrams mark it."""
        nodes = [graph.nodes[n] for b in self.blocks() for n in b.nodes if n in graph.nodes]
        return bool(nodes) and not any(n.trainable for n in nodes)


def nest(blocks: list[BlockInfo]) -> list[Instance | BlockInfo]:
    """The top-level blocks and instances, each instance holding its blocks and the instances
    nested in it (from each block's `groups`; an instance's blocks are emitted together)."""
    top: list[Instance | BlockInfo] = []
    for b in blocks:
        level = top
        for name, kind in b.groups:
            last = level[-1] if level else None
            if not (isinstance(last, Instance) and (last.name, last.type) == (name, kind)):
                last = Instance(name, kind)
                level.append(last)
            level = last.children
        level.append(b)
    return top


@dataclass
class Graph:
    name: str
    inputs: dict[str, Shape]
    nodes: dict[str, Node] = field(default_factory=dict)
    blocks: list[BlockInfo] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    #: findings that do not stop the build (a block that feeds nothing, ...)
    warnings: list[Diagnostic] = field(default_factory=list)
    #: the `spec` blocks (included specs): name -> their own keys that are not their defaults
    #: (`{"path": "resnet50", "set": {"depth": 101}}`)
    includes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def shape_of(self, name: str) -> Shape:
        return self.inputs[name] if name in self.inputs else self.nodes[name].shape

    @property
    def cost(self) -> Cost:
        return sum((n.cost for n in self.nodes.values()), Cost())

    @property
    def params(self) -> int:
        return self.cost.params

    def shapes_at(
        self, inputs: Mapping[str, Shape], nodes: Iterable[Node] | None = None
    ) -> dict[str, Shape]:
        """Every tensor's shape were the inputs of these shapes: each layer's `infer` again, in
        order. ShapeError where a layer cannot take them. `nodes`: those layers only (default:
        all), in order, with `inputs` giving the shapes of the tensors they read that they do
        not make."""
        shapes = dict(inputs)
        for node in self.nodes.values() if nodes is None else nodes:
            shapes[node.name] = node.op.infer([shapes[i] for i in node.inputs])
        return shapes

    @property
    def output_shapes(self) -> dict[str, Shape]:
        return {o: self.shape_of(o) for o in self.outputs}

    def block_rows(self) -> list[BlockRow]:
        """One row per block as the user wrote it: the blocks a user-defined block expands to
        are summed into one row named after the instance."""
        rows: list[tuple[str, str, Shape, Cost, list[bool]]] = []
        for b in self.blocks:
            c = b.cost(self)
            trainable = [self.nodes[n].trainable for n in b.nodes]
            name, kind = b.group or (b.name, b.type)
            if b.group and rows and rows[-1][:2] == b.group:
                last = rows[-1]
                rows[-1] = (name, kind, b.shape, last[3] + c, last[4] + trainable)
            else:
                rows.append((name, kind, b.shape, c, trainable))
        return [BlockRow(n, k, s, c, bool(t) and not any(t)) for n, k, s, c, t in rows]

    def feature_info(self) -> list[FeatureInfo]:
        """Per output, in order: shape, channels (the last axis) and stride (see FeatureInfo).

        The stride along an axis is the nominal stride of the ops on the path, measured by
        inferring the shapes at two large probe sizes (a conv or pool of stride s multiplies it
        by s, upsampling or a transposed conv of factor s divides it by s, padding and windows
        do not change it: Inception's 299 -> 8 is 32, ResNet's 240 -> 8 is 32); where the probe
        sizes do not fit the graph, input size / output size if one divides the other. An
        output whose size does not scale with the input's has no stride. No TensorFlow: shape
        arithmetic only."""
        images = [n for n, s in self.inputs.items() if len(s) == 3]
        probes = [self._probe(images, size) for size in _PROBES]
        infos = []
        for name in self.outputs:
            shape = self.shape_of(name)
            source = next((i for i in images if i in self._sources(name)), None)
            stride = None
            if source is not None and len(shape) == 3:
                axes = [self._stride(name, source, axis, probes) for axis in (0, 1)]
                if axes[0] is not None and axes[1] is not None:
                    stride = (_as_stride(axes[0]), _as_stride(axes[1]))
            channels = shape[-1] if shape else None
            infos.append(FeatureInfo(name, shape, channels, stride, source if stride else None))
        return infos

    def ancestors(self, *names: str) -> set[str]:
        """Every tensor the `names` were made from (layers and inputs), the `names` included:
        one walk however many names (the concat-skip test asks for several at once)."""
        seen: set[str] = set()
        todo = list(names)
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(self.nodes[n].inputs if n in self.nodes else ())
        return seen

    def _sources(self, name: str) -> set[str]:
        """The inputs that `name` depends on."""
        return self.ancestors(name) & set(self.inputs)

    def _probe(self, images: list[str], size: int) -> dict[str, Shape]:
        """Every tensor's shape with each image input `size` x `size`; a tensor whose layer
        cannot take it (a reshape to a fixed size) and what follows from it are left out."""
        shapes = {n: (size, size, s[2]) if n in images else s for n, s in self.inputs.items()}
        for node in self.nodes.values():
            if all(i in shapes for i in node.inputs):
                with contextlib.suppress(UnplacedError, ArithmeticError, ValueError):
                    shapes[node.name] = node.op.infer([shapes[i] for i in node.inputs])
        return shapes

    def _stride(
        self, name: str, source: str, axis: int, probes: list[dict[str, Shape]]
    ) -> Fraction | None:
        """The stride of `name` along `axis`, relative to `source` (see feature_info)."""
        measured: list[Fraction] = []
        for size, shapes in zip(_PROBES, probes, strict=True):
            out = shapes.get(name, ())
            dim = out[axis] if len(out) == 3 else None
            if dim:
                measured.append(Fraction(size, dim).limit_denominator(64))
        if len(measured) == 2:  # the nominal stride: ResNet-50's conv5 at 240 x 240 is 8 x 8,
            # and its stride 32, not 240 / 8 = 30
            if measured[0] != measured[1]:
                return None  # the size does not follow the input's (a global pool with keepdims)
            return measured[0]
        # the probe sizes do not fit the graph (U-Net's cropped skips line up at 16k + 12 only)
        return _known_ratio(self.inputs[source][axis], self.shape_of(name)[axis])

    def consumers(self) -> dict[str, list[str]]:
        """name -> the nodes that read it."""
        out: dict[str, list[str]] = {n: [] for n in [*self.inputs, *self.nodes]}
        for node in self.nodes.values():
            for i in node.inputs:
                out[i].append(node.name)
        return out


#: a stride (reduction) along one axis: an int, or a fraction of 1 where the output is larger
#: than the input (after upsampling or a transposed convolution: 0.5)
Stride = int | float

#: two input sizes at which the graph is probed to find how each tensor's size follows the
#: input's: large (a window's edges do not matter) and divisible by many strides
_PROBES = (2**12 * 3**3 * 5 * 7, 2**13 * 3**3 * 5 * 7)


@dataclass(frozen=True)
class FeatureInfo:
    """One model output as a head sees it (timm's `feature_info`): `stride` is (height, width),
    how many input pixels one output pixel spans, relative to `input`; None for an output that
    is not an image, or whose size does not follow the input's (a global pool with keepdims)."""

    name: str
    shape: Shape
    channels: Dim
    stride: tuple[Stride, Stride] | None
    #: the image input the stride is relative to (the first one the output depends on), if any
    input: str | None


def _as_stride(ratio: Fraction) -> Stride:
    return ratio.numerator if ratio.denominator == 1 else float(ratio)


def _known_ratio(size_in: Dim, size_out: Dim) -> Fraction | None:
    """input / output where both are known and one divides the other, else None."""
    if not size_in or not size_out or (size_in % size_out and size_out % size_in):
        return None
    return Fraction(size_in, size_out)


#: (op, its input shapes) -> (output shape, cost): a spec's layers repeat (the whole zoo's 17,600
#: are 3,000 distinct); at most _INFERRED_SIZE are kept
_INFERRED: dict[tuple[Op, tuple[Shape, ...]], tuple[Shape, Cost]] = {}
_INFERRED_SIZE = 100_000


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
        key = (op, tuple(shapes))
        try:  # an op's `infer` and `cost` are pure: worked out once per op and input shapes
            found, keep = _INFERRED.get(key), True
        except TypeError:  # a plugin's op with a field that is a list
            found, keep = None, False
        if found is None:
            out = op.infer(shapes)
            found = out, op.cost(shapes, out)
            if keep and len(_INFERRED) < _INFERRED_SIZE:
                _INFERRED[key] = found
        self.graph.nodes[name] = Node(
            name=name,
            op=op,
            inputs=list(inputs),
            shape=found[0],
            cost=found[1],
            block=self.block.name,
            role=role,
        )
        self.block.nodes.append(name)
        return name
