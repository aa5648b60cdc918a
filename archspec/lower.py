"""Stage 4, lowering: validated blocks -> the graph IR, with static shapes, params and MACs.

Names are resolved here (default `<type>_<k>`, references to inputs and earlier blocks,
`repeat`), and every shape error is reported at the position of the block that caused it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from archspec.blocks import Block
from archspec.errors import Diagnostic, KeyPath, SpecError, did_you_mean, format_path
from archspec.ir import BlockInfo, Graph
from archspec.limits import (
    DEFAULT,
    CheckedBuilder,
    LimitExceeded,
    Limits,
    check_counts,
    check_inputs,
    check_totals,
)
from archspec.loader import Document
from archspec.ops import ShapeError
from archspec.schema import SpecModel, validate_block


@dataclass(frozen=True)
class Item:
    """One block of the expanded spec: its raw mapping and where it stands in the file."""

    raw: dict[str, object]
    path: KeyPath
    #: the user-defined block instance this item was expanded from, if any
    group: str | None = None


def lower(doc: Document, spec: SpecModel, items: list[Item], limits: Limits | None = None) -> Graph:
    """Validate every block, then build the graph. All schema errors are reported together.

    The limits (`doc.limits` unless given) are checked before anything is built (input sizes,
    block counts with `repeat`), layer by layer while lowering, and on the finished graph."""
    limits = limits or doc.limits
    blocks: list[tuple[Block, Item]] = []
    diags: list[Diagnostic] = []
    seen: set[Diagnostic] = set()  # a list's `in` made 18,000 errors take a minute
    for item in items:
        result = validate_block(item.raw, doc, item.path)
        if isinstance(result, list):
            for d in result:
                if d not in seen:
                    seen.add(d)
                    diags.append(d)
        else:
            blocks.append((result, item))
    if diags:
        raise SpecError(sorted(diags, key=lambda d: (d.line or 0, d.col or 0)))
    check_inputs(doc, spec.input_shapes, spec.inputs is not None, limits)
    check_counts(doc, [(item.path, block.repeat) for block, item in blocks], limits)
    graph = _Lowering(doc, spec, limits).run(blocks)
    check_totals(doc, graph, limits)
    return graph


class _Lowering:
    def __init__(self, doc: Document, spec: SpecModel, limits: Limits = DEFAULT) -> None:
        self.doc = doc
        self.spec = spec
        self.limits = limits
        self.graph = Graph(name=spec.name, inputs=spec.input_shapes)
        #: spec-level name -> tensor name
        self.names: dict[str, str] = {n: n for n in self.graph.inputs}
        self.counters: Counter[str] = Counter()

    def fail(self, code: str, message: str, path: KeyPath, hint: str | None = None) -> SpecError:
        return SpecError(self.doc.diag(code, message, path, hint=hint))

    def run(self, blocks: list[tuple[Block, Item]]) -> Graph:
        all_names = self._check_names(blocks)
        previous: str | None = (
            next(iter(self.graph.inputs)) if len(self.graph.inputs) == 1 else None
        )
        for block, item in blocks:
            refs = self._inputs(block, item, previous, all_names)
            for copy in range(1, block.repeat + 1):
                name = self._instance_name(block, copy)
                info = BlockInfo(
                    name=name,
                    type=block.type,
                    path=item.path,
                    inputs=refs,
                    summary=block.summary(),
                    group=item.group,
                )
                if name in self.names or (block.name is None and name in all_names):
                    raise self.fail(
                        "E302",
                        f"block name `{name}` is already used",
                        (*item.path, "name"),
                        hint="give one of the blocks another `name`",
                    )
                try:
                    out = block.expand(CheckedBuilder(self.graph, info, self.limits), refs)
                except LimitExceeded as e:
                    key = e.key_in(item.raw)
                    raise SpecError(
                        self.doc.diag(
                            e.code,
                            f"{format_path(item.path)} (`{name}`, {block.type}): {e}",
                            (*item.path, key) if key else item.path,
                            hint=e.hint,
                        )
                    ) from None
                except ShapeError as e:
                    key = e.key if e.key and e.key in item.raw else None
                    raise SpecError(
                        self.doc.diag(
                            _shape_code(e),
                            f"{format_path(item.path)} (`{name}`, {block.type}): {e}",
                            (*item.path, key) if key else item.path,
                            hint=e.hint,
                        )
                    ) from None
                info.output, info.shape = out, self.graph.shape_of(out)
                self.graph.blocks.append(info)
                self.names[name] = out
                refs = [out]
            if block.name:
                self.names[block.name] = refs[0]
            previous = refs[0]
        self.graph.outputs = self._outputs(previous)
        self._prune()
        return self.graph

    def _prune(self) -> None:
        """Drop what does not reach an output, as Keras does, and warn about it."""
        g = self.graph
        live: set[str] = set()
        stack = list(g.outputs)
        while stack:
            name = stack.pop()
            if name not in live:
                live.add(name)
                stack.extend(g.nodes[name].inputs if name in g.nodes else [])
        for name in g.inputs:
            if name not in live:
                g.warnings.append(self.doc.diag(
                    "W301", f"input `{name}` feeds no output",
                    ("inputs", name) if self.spec.inputs else ("input",), severity="warning",
                ))  # fmt: skip
        for b in g.blocks:
            if not any(n in live for n in b.nodes):
                g.warnings.append(self.doc.diag(
                    "W301",
                    f"{format_path(b.path)}: block `{b.name}` feeds no output; Keras drops it",
                    b.path, severity="warning",
                    hint="read it from a later block (`inputs`) or list it in `outputs`",
                ))  # fmt: skip
        g.blocks = [b for b in g.blocks if any(n in live for n in b.nodes)]
        g.nodes = {k: v for k, v in g.nodes.items() if k in live}

    def _check_names(self, blocks: list[tuple[Block, Item]]) -> dict[str, KeyPath]:
        seen: dict[str, KeyPath] = {}
        for block, item in blocks:
            if block.name is None:
                continue
            if block.name in seen or block.name in self.graph.inputs:
                raise self.fail(
                    "E302",
                    f"block name `{block.name}` is used twice",
                    (*item.path, "name"),
                    hint="block names are unique in a spec (and differ from input names)",
                )
            seen[block.name] = item.path
        return seen

    def _inputs(
        self, block: Block, item: Item, previous: str | None, all_names: dict[str, KeyPath]
    ) -> list[str]:
        if block.inputs is None:
            if previous is None:
                raise self.fail(
                    "E301",
                    f"{format_path(item.path)}: with several inputs, "
                    "the first block needs `inputs`",
                    item.path,
                    hint="name one of: " + ", ".join(self.graph.inputs),
                )
            return [previous]
        refs = [block.inputs] if isinstance(block.inputs, str) else list(block.inputs)
        key: KeyPath = (*item.path, "inputs")
        for k, ref in enumerate(refs):
            where = key if isinstance(block.inputs, str) else (*key, k)
            if ref not in self.names and ref == block.name:
                raise self.fail(
                    "E301",
                    f"{format_path(where)}: block `{ref}` reads its own output (a cycle)",
                    where,
                    hint="a block reads the model input or earlier blocks only",
                )
            if ref not in self.names:
                later = ref in all_names
                raise self.fail(
                    "E301",
                    f"{format_path(where)}: `{ref}` "
                    + ("is a later block; a block can only read earlier ones" if later
                       else "is not an input or an earlier block"),
                    where,
                    hint=None if later else did_you_mean(ref, self.names),
                )  # fmt: skip
        if block.n_inputs is not None and len(refs) != block.n_inputs:
            raise self.fail(
                "E303",
                f"{format_path(key)}: a `{block.type}` block reads one input, received {len(refs)}",
                key,
                hint="merge several inputs with an `add` or `concat` block first",
            )
        return [self.names[r] for r in refs]

    def _instance_name(self, block: Block, copy: int) -> str:
        if block.name is None:
            self.counters[block.type] += 1
            return f"{block.type}_{self.counters[block.type]}"
        return block.name if block.repeat == 1 else f"{block.name}_{copy}"

    def _outputs(self, last: str | None) -> list[str]:
        if self.spec.outputs is None:
            assert last is not None  # blocks is non-empty
            return [last]
        outs = []
        for k, ref in enumerate(self.spec.outputs):
            if ref not in self.names or ref in self.graph.inputs:
                raise self.fail(
                    "E301",
                    f"outputs[{k}]: `{ref}` is not a block",
                    ("outputs", k),
                    hint=did_you_mean(ref, [b.name for b in self.graph.blocks]),
                )
            outs.append(self.names[ref])
        if len(set(outs)) != len(outs):
            raise self.fail("E302", "`outputs` names the same block twice", ("outputs",))
        return outs


def _shape_code(e: ShapeError) -> str:
    """E402 for a collapsing spatial size, E403 for a wrong input rank, else E401."""
    if "collapses" in str(e):
        return "E402"
    if "needs an image input" in str(e):
        return "E403"
    return "E401"
