"""Lowering one block at a time: the graph built so far, and the shapes it gives.

lower.py adds every resolved block; resolve adds the blocks expanded so far when an expression
reads `in_shape` or `in_channels` (resolve/shapes.py), so the shape a block's parameters see is
the one lower will find. Both check the limits the same way (bounds.py); an error comes back as
a diagnostic at the block's position, and the caller adds the note at a user-defined block's use
site.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

from archspec.blocks import Block
from archspec.blocks.base import MultiInput, Padding, plugin_block, provider
from archspec.core.errors import (
    STATE,
    ArchspecError,
    Diagnostic,
    KeyPath,
    LimitExceeded,
    ShapeError,
    format_path,
)
from archspec.core.limits import Limits
from archspec.core.units import Shape, channels_first, shape_str
from archspec.frontend.bounds import BrokenOp, CheckedBuilder, check_inputs
from archspec.frontend.loader import Document
from archspec.ir.graph import BlockInfo, Graph, Node
from archspec.ir.op import collapse_hint, message


class Lowering:
    """A graph being built block by block. The inputs' limits are checked at once."""

    def __init__(self, doc: Document, name: str, inputs: dict[str, Shape], named: bool,
                 limits: Limits) -> None:  # fmt: skip
        check_inputs(doc, inputs, named, limits)
        self.doc = doc
        self.limits = limits
        self.named = named
        self.graph = Graph(name=name, inputs=inputs)
        #: final block name -> its output tensor
        self.tensors: dict[str, str] = {n: n for n in self.graph.inputs}

    def add(self, block: Block, path: KeyPath, groups: tuple[tuple[str, str], ...],
            doc: Document | None = None, written: Sequence[str] = ()
            ) -> Diagnostic | None:  # fmt: skip
        """Add the layers of one validated, named block with explicit inputs; what is wrong with
        it (a shape error, a limit), at the block's key where one is to blame, or None. `doc`:
        the file the block stands in, if not this one (a block of an included spec); `written`:
        its inputs as the spec writes them, if a list (a merge block's error names them)."""
        assert block.name is not None and isinstance(block.inputs, list)
        info = BlockInfo(
            name=block.name,
            type=block.type,
            path=path,
            inputs=[self.tensors[r] for r in block.inputs],
            summarize=block.summary,
            groups=groups,
        )
        try:
            out = block.expand(CheckedBuilder(self.graph, info, self.limits), info.inputs)
        except (LimitExceeded, ShapeError) as e:
            fields = {k: getattr(block, k) for k in block.model_fields_set}
            if isinstance(e, LimitExceeded):
                key = e.key_in(fields)
            else:
                key = e.key if e.key in fields else None
            return (doc or self.doc).diag(
                e.code,
                f"{format_path(path)} (`{block.name}`, {block.type}): {_named(e, block, written)}",
                (*path, key) if key else path,
                hint=self._rank_hint(info.inputs)
                if e.code == "E403"
                else _joined(self._layout_hint() if e.code == "E402" else None, _hint(e, block)),
            )
        except Exception as e:  # a plugin's code: its error, at the block; archspec's: a bug
            who = provider(type(block))
            if who is None or isinstance(e, ArchspecError | MemoryError) or STATE["debug"]:
                raise
            return (doc or self.doc).diag("E901", _plugin_error(e, block, path, who), path,
                                          hint=_PLUGIN_HINT)  # fmt: skip
        info.output, info.shape = out, self.graph.shape_of(out)
        self.graph.blocks.append(info)
        self.tensors[block.name] = out
        return None

    def shape(self, name: str) -> Shape:
        """The output shape of the block (or the input) with final name `name`."""
        return self.graph.shape_of(self.tensors[name])

    def _rank_hint(self, inputs: list[str]) -> str:
        """E403's hint (an image layer on another rank): what gave its input that rank, the
        layer that changed it (going back through the layers that keep it: a rescaling), or
        the model's input."""
        tensor = inputs[0]
        rank = len(self.graph.shape_of(tensor))
        while tensor not in self.graph.inputs:
            node = self.graph.nodes[tensor]
            if not node.inputs or len(self.graph.shape_of(node.inputs[0])) != rank:
                made = f"`{node.name}` ({node.op.describe()}) before it made"
                if rank == 1:
                    return self._spec_hint(node) or f"{made} a vector: image layers go before it"
                return f"{made} this shape: image layers need (height, width, channels)"
            tensor = node.inputs[0]
        what = "a vector" if rank == 1 else "no image"
        return f"the model's input is {what}: give `input` as [H, W, C] for images"

    def _spec_hint(self, made: Node) -> str | None:
        """E403's hint where a `spec` block's pooling or classifier made the vector (a backbone
        not cut): the block before it to list in the spec block's `outputs`."""
        blocks = {b.name: b for b in self.graph.blocks}
        group = blocks[made.block].group
        if group is None or group[1] != "spec" or not made.inputs:
            return None
        before = self.graph.nodes.get(made.inputs[0])  # in the spec block (not its first)
        own = blocks[before.block] if before is not None else None
        if own is None or own.group != group:  # its first block made it: nothing to cut at
            return None
        tap = own.name.removeprefix(group[0] + "_")
        return (
            f"the spec block `{group[0]}` ends in a vector (`{made.name}`, "
            f"{made.op.describe()}): to read its image features, cut it before that with "
            f"`outputs: [{tap}]`"
        )

    def _layout_hint(self) -> str | None:
        """E402's hint (a size collapses) where the one input looks channels first."""
        if len(self.graph.inputs) != 1:
            return None
        ((name, shape),) = self.graph.inputs.items()
        layout = layout_text(shape)
        key = f"inputs.{name}" if self.named else "input"
        return None if layout is None else f"`{key}` {layout[0]}: {layout[1]}"


def layout_warnings(doc: Document, shapes: dict[str, Shape], named: bool) -> list[Diagnostic]:
    """W305 for each input that looks channels first ([3, 224, 224], PyTorch's layout), at its
    key (`input`, or `inputs.<name>` where `named`). Resolution reports them with its error (a
    `spec` block's channels that differ), lowering with the model's other warnings."""
    out = []
    for name, shape in shapes.items():
        key: KeyPath = ("inputs", name) if named else ("input",)
        layout = layout_text(shape)
        if layout is not None:
            out.append(doc.diag("W305", f"{format_path(key)}: {layout[0]}: it looks channels "
                                "first", key, severity="warning", hint=layout[1]))  # fmt: skip
    return out


def layout_text(shape: Shape) -> tuple[str, str] | None:
    """Where an input looks channels first (units.channels_first), what it is here ([3, 32, 32]
    is 3 rows of 32 columns and 32 channels), and what to write."""
    if not channels_first(shape):
        return None
    c, h, w = shape
    return (f"{shape_str(shape, 'spec')} is height {c}, width {h} and {w} channels",
            f"images are channels last, [H, W, C]; a {c}-channel image of {h} x {w} is "
            f"{shape_str((h, w, c), 'spec')}")  # fmt: skip


def _named(e: ShapeError | LimitExceeded, block: Block, written: Sequence[str]) -> str:
    """The error's text; a merge block's inputs that do not fit each other are named with
    their shapes (`left` (8, 8, 8), `right` (8, 8, 16)), as the spec writes them (`written`)."""
    if isinstance(e, ShapeError) and e.mismatch and isinstance(block, MultiInput):
        what, shapes = e.mismatch
        if len(written) == len(shapes):
            named = zip(written, shapes, strict=True)
            return f"{what}; received " + ", ".join(f"`{n}` {message(s)}" for n, s in named)
    return str(e)


#: the hint of an error raised by a plugin's block or op (E901)
_PLUGIN_HINT = (
    "the error is the plugin's, not archspec's (its message, or its author, says what the "
    "block needs); run again with --debug for the traceback"
)


def _plugin_error(e: Exception, block: Block, path: KeyPath, who: str) -> str:
    """E901's message: the block, its type and plugin, and what its code raised (or, for an
    op that broke the op protocol, what it did)."""
    head = plugin_block(path, block.name, block.type, who)
    if isinstance(e, BrokenOp):
        return f"{head}: {e}"
    return f"{head} raised {type(e).__name__}" + (f": {e}" if str(e) else "")


def _joined(first: str | None, then: str | None) -> str | None:
    """Two hints, the more specific first."""
    if first is None:
        return then
    return f"{first}. Else: {then}" if then else first


def _hint(e: ShapeError | LimitExceeded, block: Block) -> str | None:
    """An op's hint, fitted to the block: `padding: same` only where it has that key."""
    hint = e.hint
    field = type(block).model_fields.get("padding")
    same = field is not None and get_args(field.annotation) == get_args(Padding)
    if hint == collapse_hint(padding=True) and not same:
        return collapse_hint(padding=False)
    return hint
