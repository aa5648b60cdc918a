"""`archspec diff`: what a change to a spec did to the network, from the static graph IR.

Blocks are matched by name (without the model's name in front, where every block has it), then
the rest by an alignment between those (renames); each pair is compared on type, key
parameters, inputs, layers, output shape, parameters and MACs. `spec` blocks (included specs),
whose blocks are compared one by one with the rest, are compared on their own keys too
(`path: resnet50 -> resnet101`), by name, and so are the `budget` and `expect` keys, with what
`check` finds of them on each side (E601-E603). Rendered as text, JSON, or Markdown fit for a
pull-request comment. No TensorFlow.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

from archspec.core.errors import Diagnostic
from archspec.core.units import Shape, human, macs_str, parse_count, shape_str
from archspec.ir.graph import BlockInfo, Graph
from archspec.render.spec import flow

if TYPE_CHECKING:
    from archspec.frontend.resolve import Resolved

Status = Literal["added", "removed", "changed", "unchanged"]
FORMATS = ("text", "json", "markdown")
#: the JSON's `version`: fields are only ever added
JSON_VERSION = 1
_MARK = {"added": "+", "removed": "-", "changed": "~", "unchanged": " "}


@dataclass(frozen=True)
class BlockFacts:
    """What diff compares of one block."""

    name: str
    type: str
    summary: str
    inputs: tuple[str, ...]
    shape: Shape
    params: int
    macs: int | None
    #: layer name -> its kind and essentials (`conv 3x3, 64 relu`)
    layers: dict[str, str]
    #: the shapes it reads: a block can change with nothing of its own changed
    in_shapes: tuple[Shape, ...] = ()

    @classmethod
    def of(cls, b: BlockInfo, graph: Graph, owner: dict[str, str]) -> BlockFacts:
        c = b.cost(graph)
        return cls(
            name=b.name,
            type=b.type,
            summary=b.summary,
            inputs=tuple(owner.get(i, i) for i in b.inputs),
            shape=b.shape,
            params=c.params,
            macs=c.macs,
            layers={n: graph.nodes[n].op.describe() for n in b.nodes},
            in_shapes=tuple(graph.shape_of(i) for i in b.inputs),
        )


@dataclass(frozen=True)
class BlockChange:
    """One row of the diff: a block before and after (None where added or removed)."""

    status: Status
    old: BlockFacts | None
    new: BlockFacts | None
    #: what changed, one short line each: `n_conv: 3 -> 4`, `+ block3_conv4: conv 3x3, 256 relu`
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        b = self.new or self.old
        assert b is not None
        return b.name


@dataclass(frozen=True)
class SpecChange:
    """A `spec` block before and after, on its own keys (its `path`, `set`, `outputs`,
    `any_size`), which no row of its blocks shows: one note per key that differs, or its keys
    where it is added or removed."""

    status: Status
    name: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Checks:
    """One side's `budget` and `expect` keys as written (`budget.max_params` -> `12M`), and what
    `check` finds of them (E601-E603, frontend/expect.py's `evaluate`)."""

    keys: dict[str, Any] = field(default_factory=dict)
    failures: tuple[Diagnostic, ...] = ()

    @classmethod
    def of(cls, spec: Resolved, graph: Graph) -> Checks:
        from archspec.frontend.expect import evaluate

        keys = {
            f"{part}.{k}": v
            for part in ("budget", "expect")
            if (written := getattr(spec.model, part)) is not None
            for k, v in written.model_dump(exclude_none=True).items()
        }
        failed = evaluate(graph, spec.doc, spec.model, spec.outputs, spec.sets, spec.params)
        return cls(keys, tuple(d for d in failed if d.severity == "error"))


@dataclass(frozen=True)
class CheckChange:
    """A `budget` or `expect` key before and after (None where a side has not it)."""

    key: str
    old: Any
    new: Any

    @property
    def status(self) -> Status:
        if self.old is None or self.new is None:
            return "added" if self.old is None else "removed"
        same = (
            parse_count(self.old) == parse_count(self.new)  # a limit: `12M` is 12000000
            if self.key.startswith("budget.")
            else self.old == self.new  # `expect.macs: 4G` and `4.0G` match at two precisions
        )
        return "unchanged" if same else "changed"

    @property
    def note(self) -> str:
        def f(v: Any) -> str:
            return "(none)" if v is None else flow(v)

        return f"{self.key}: {f(self.old)} -> {f(self.new)}"


def _check_changes(old: Checks, new: Checks) -> list[CheckChange]:
    """Every key of either side, in the schema's order (`budget` first)."""
    from archspec.frontend.schema import Budget, Expect

    order = [f"{part}.{k}" for part, m in (("budget", Budget), ("expect", Expect))
             for k in m.model_fields]  # fmt: skip
    keys = sorted({*old.keys, *new.keys}, key=order.index)
    return [CheckChange(k, old.keys.get(k), new.keys.get(k)) for k in keys]


@dataclass(frozen=True)
class Totals:
    """A model's totals, as Keras counts them."""

    params: int
    trainable: int
    non_trainable: int
    macs: int | None
    outputs: tuple[Shape, ...]
    #: the input shapes: a size made fixed or unknown (`null`) changes the model's interface
    inputs: tuple[Shape, ...] = ()
    #: the outputs' and the inputs' names, in the order of their shapes (JSON's
    #: `outputs` and `inputs` key the shapes by name, as `check`'s `output_shapes` does); not
    #: compared: the text has no line for an order or a name alone
    output_names: tuple[str, ...] = field(default=(), compare=False)
    input_names: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, graph: Graph) -> Totals:
        c = graph.cost
        outs = graph.output_shapes
        return cls(c.params, c.trainable, c.non_trainable, c.macs, tuple(outs.values()),
                   tuple(graph.inputs.values()), tuple(outs), tuple(graph.inputs))  # fmt: skip


@dataclass(frozen=True)
class Diff:
    old_name: str
    new_name: str
    blocks: list[BlockChange]
    old: Totals
    new: Totals
    counts: dict[str, int] = field(default_factory=dict)
    #: the `spec` blocks of either side, by name
    specs: list[SpecChange] = field(default_factory=list)
    #: each side's `budget` and `expect`, and what `check` finds of them
    old_checks: Checks = field(default_factory=Checks)
    new_checks: Checks = field(default_factory=Checks)

    @functools.cached_property
    def checks(self) -> list[CheckChange]:
        """The `budget` and `expect` keys of either side, unchanged ones included."""
        return _check_changes(self.old_checks, self.new_checks)

    @property
    def changed(self) -> bool:
        """Whether anything differs (blocks, `spec` blocks' keys, `budget` and `expect` keys, or
        totals)."""
        return (
            self.old != self.new
            or any(b.status != "unchanged" for b in self.blocks)
            or any(s.status != "unchanged" for s in self.specs)
            or any(c.status != "unchanged" for c in self.checks)
        )


def diff(old: Graph, new: Graph, old_checks: Checks | None = None,
         new_checks: Checks | None = None) -> Diff:  # fmt: skip
    """Compare two analysed specs; `*_checks`: their `budget` and `expect` (Checks.of), where
    known."""
    old_facts = _facts(old)
    new_facts = _facts(new)
    old_prefix, new_prefix = _prefix(old, old_facts), _prefix(new, new_facts)
    old_keys = [b.name.removeprefix(old_prefix) for b in old_facts]
    new_keys = [b.name.removeprefix(new_prefix) for b in new_facts]
    pairs = _match(
        [(b.name, k, *_signature(b)) for b, k in zip(old_facts, old_keys, strict=True)],
        [(b.name, k, *_signature(b)) for b, k in zip(new_facts, new_keys, strict=True)],
    )
    # one name: the same, or both named after their model alike (`convnext_tiny_stem`)
    stripped = bool(old_prefix and new_prefix)
    renamed = {old_facts[i].name: new_facts[j].name for i, j in pairs.items()}
    rows: list[BlockChange] = []
    matched_new = {j: i for i, j in pairs.items()}
    removed = [i for i in range(len(old_facts)) if i not in pairs]
    for j, nb in enumerate(new_facts):
        i = matched_new.get(j)
        # removed blocks go where they stood: before the first new block matched past them
        while removed and i is not None and removed[0] < i:
            rows.append(BlockChange("removed", old_facts[removed.pop(0)], None))
        if i is None:
            rows.append(BlockChange("added", None, nb))
        else:
            same = old_facts[i].name == nb.name or (stripped and old_keys[i] == new_keys[j])
            rows.append(_compare(old_facts[i], nb, renamed, same))
    rows += [BlockChange("removed", old_facts[i], None) for i in removed]
    counts = {s: sum(r.status == s for r in rows)
              for s in ("changed", "added", "removed", "unchanged")}  # fmt: skip
    specs = _spec_changes(old.includes, new.includes)
    return Diff(old.name, new.name, rows, Totals.of(old), Totals.of(new), counts, specs,
                old_checks or Checks(), new_checks or Checks())  # fmt: skip


def _spec_changes(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]
                  ) -> list[SpecChange]:  # fmt: skip
    """The `spec` blocks of both sides (name -> their keys that are not defaults), by name:
    values compared as values (`set` in another order is the same)."""
    from archspec.frontend.resolve.include import SpecUse

    def default(key: str) -> Any:
        return SpecUse.model_fields[key].get_default(call_default_factory=True)

    out = []
    for name in [*new, *(n for n in old if n not in new)]:
        if name not in old or name not in new:
            keys = new.get(name) or old[name]
            out.append(SpecChange("added" if name in new else "removed", name,
                                  tuple(f"{k}: {flow(v)}" for k, v in keys.items())))  # fmt: skip
            continue
        a, b = old[name], new[name]
        notes = tuple(
            f"{k}: {flow(a.get(k, default(k)))} -> {flow(b.get(k, default(k)))}"
            for k in [*a, *(k for k in b if k not in a)]
            if a.get(k, default(k)) != b.get(k, default(k))
        )
        out.append(SpecChange("changed" if notes else "unchanged", name, notes))
    return out


def _facts(graph: Graph) -> list[BlockFacts]:
    owner = {n: b.name for b in graph.blocks for n in b.nodes}
    return [BlockFacts.of(b, graph, owner) for b in graph.blocks]


def _prefix(graph: Graph, facts: list[BlockFacts]) -> str:
    """What to take off the blocks' names to match them by: the model's name and `_` where
    every block's name begins so (keras.applications' ConvNeXt names its layers so: the
    members' `convnext_tiny_stem` and `convnext_small_stem` are one block), else nothing."""
    prefix = f"{graph.name}_"
    return prefix if facts and all(f.name.startswith(prefix) for f in facts) else ""


def _signature(b: BlockFacts) -> tuple[str, str, str]:
    """What a block renamed and nothing else keeps: its type, key parameters and input shapes
    (a global pool has no parameters: the shape it reads tells one from another's)."""
    return b.type, b.summary, _shapes(b.in_shapes)


def _match(old: list[tuple[str, ...]], new: list[tuple[str, ...]]) -> dict[int, int]:
    """old index -> new index, of (name, key, *_signature) tuples (key: `_prefix` off): by
    name, then the unmatched ones by key, then the rest by an alignment between the matched
    ones (`_align`)."""
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for part in (0, 1):  # the name, then the key
        index = {t[part]: j for j, t in enumerate(new) if j not in taken}
        for i, t in enumerate(old):
            j = index.get(t[part])
            if i not in pairs and j is not None and j not in taken:
                pairs[i] = j
                taken.add(j)
    # anchors: the pairs by name in the order of both sides (a block moved is no anchor)
    anchors = [(-1, -1)]
    for i, j in sorted(pairs.items()):
        if j > anchors[-1][1]:
            anchors.append((i, j))
    anchors.append((len(old), len(new)))
    for (i0, j0), (i1, j1) in pairwise(anchors):
        a = [i for i in range(i0 + 1, i1) if i not in pairs]
        b = [j for j in range(j0 + 1, j1) if j not in taken]
        ends = (i0 >= 0, i1 < len(old))  # whether a pair by name bounds the gap
        for i, j in _align([old[i][2:] for i in a], [new[j][2:] for j in b], ends):
            pairs[a[i]] = b[j]
            taken.add(b[j])
    return pairs


#: the largest gap (OLD's blocks in it times NEW's) aligned in full: 500 x 500 takes 0.4 s
_ALIGN_CELLS = 250_000


def _align(old: list[tuple[str, ...]], new: list[tuple[str, ...]], ends: tuple[bool, bool]
           ) -> list[tuple[int, int]]:  # fmt: skip
    """The renames in one gap between blocks paired by name: `old` and `new` are the signatures
    (`_signature`: type first) of the blocks left in it, aligned (difflib). Paired: blocks the
    same but for their names where the alignment has them equal; and where it has a run
    replaced one for one, the blocks of one type at one place in it, if a pair bounds the run
    on both sides (a pair by name, one equal in the alignment, or the model's first or last
    block beside a pair). `ends`: whether a pair by name bounds the gap before and after. Two
    unrelated networks, with no block in common, pair none."""
    from difflib import SequenceMatcher

    # difflib's time grows as the product of the sides' lengths, and more where blocks repeat
    # (4,000 convs of 3 kinds a side took 105 s): in a larger gap, a block repeated in over 1%
    # of NEW's is not aligned (difflib's autojunk), so it is added or removed, not renamed
    ops = SequenceMatcher(None, old, new, autojunk=len(old) * len(new) > _ALIGN_CELLS).get_opcodes()
    out: list[tuple[int, int]] = []
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            out += [(i1 + n, j1 + n) for n in range(i2 - i1)]
            continue
        if tag != "replace" or i2 - i1 != j2 - j1:
            continue
        before = ops[k - 1][0] == "equal" if k > 0 else ends[0]
        after = ops[k + 1][0] == "equal" if k + 1 < len(ops) else ends[1]
        # the model's start or end bounds a run only where the other side is a pair
        before = before or (k == 0 and not ends[0] and after and ends[1])
        after = after or (k + 1 == len(ops) and not ends[1] and before and ends[0])
        if before and after:
            out += [(i1 + n, j1 + n) for n in range(i2 - i1) if old[i1 + n][0] == new[j1 + n][0]]
    return out


def _default(type_: str, key: str) -> str:
    """The default of a block type's key, as a summary writes values."""
    from archspec.blocks.base import REGISTRY

    cls = REGISTRY.get(type_)
    text = cls.default_text(key) if cls is not None else None
    return "(default)" if text is None else text


def _same(a: str, b: str) -> bool:
    """Whether two values of a key, as a summary writes them, are one: equal, or a size and the
    pair of it (`kernel: 3` and `[3, 3]`: a key that takes either reads them alike)."""
    return a == b or b == f"[{a},{a}]" or a == f"[{b},{b}]"


def _params(summary: str) -> dict[str, str]:
    """'n_filters=64, n_conv=2' -> {'n_filters': '64', 'n_conv': '2'}."""
    out: dict[str, str] = {}
    for part in summary.split(", "):
        key, sep, value = part.partition("=")
        if sep:
            out[key] = value
    return out


def _compare(a: BlockFacts, b: BlockFacts, renamed: dict[str, str], same_name: bool = True
             ) -> BlockChange:  # fmt: skip
    """`same_name`: the two are one block by name, whatever the model's name before it."""
    notes: list[str] = []
    if not same_name:
        notes.append(f"renamed: {a.name} -> {b.name}")
    if a.type != b.type:  # a different block: its parameters and layers are not comparable
        notes.append(f"type: {_typed(a)} -> {_typed(b)}")
    else:
        pa, pb = _params(a.summary), _params(b.summary)
        for key in [*pa, *(k for k in pb if k not in pa)]:
            if pa.get(key) == pb.get(key):
                continue
            default = _default(a.type, key)  # a summary leaves defaults out: show them
            old, new = pa.get(key, default), pb.get(key, default)
            if not _same(old, new):
                notes.append(f"{key}: {old} -> {new}")
    if tuple(renamed.get(i, i) for i in a.inputs) != b.inputs:
        notes.append(f"inputs: {', '.join(a.inputs)} -> {', '.join(b.inputs)}")
    if a.type == b.type:
        notes += _layer_notes(a, b)
    figures = (a.shape, a.params, a.macs) == (b.shape, b.params, b.macs)
    if not figures and a.in_shapes != b.in_shapes:  # why: what an earlier change did to it
        notes.append(f"input shape: {_shapes(a.in_shapes)} -> {_shapes(b.in_shapes)}")
    same = not notes and figures
    return BlockChange("unchanged" if same else "changed", a, b, tuple(notes))


def _typed(f: BlockFacts) -> str:
    return f"{f.type} ({f.summary})" if f.summary else f.type


def _local(layer: str, block: str) -> str:
    """A layer's name within its block: `block3_conv1` -> `conv1`; the block's own name -> ``."""
    return "" if layer == block else layer.removeprefix(block + "_")


def _layer_notes(a: BlockFacts, b: BlockFacts) -> list[str]:
    """Layers removed, added and changed, matched by their name within the block; a layer
    that only took another name (a conv's `stem` is `stem_conv` once it has a batch norm) is
    one renamed layer, not a removal and an addition."""
    old = {_local(n, a.name): (n, t) for n, t in a.layers.items()}
    new = {_local(n, b.name): (n, t) for n, t in b.layers.items()}
    gone = [(n, t) for k, (n, t) in old.items() if k not in new]
    came = [(n, t) for k, (n, t) in new.items() if k not in old]
    notes = []
    for n, t in gone:
        same = next((m for m, u in came if u == t), None)
        if same is None:
            notes.append(f"- {n}: {t}")
        else:
            notes.append(f"~ {n} -> {same}: {t}")
            came = [(m, u) for m, u in came if m != same]
    for k, (n, t) in new.items():
        if k not in old and (n, t) in came:
            notes.append(f"+ {n}: {t}")
        elif k in old and old[k][1] != t:
            notes.append(f"~ {n}: {old[k][1]} -> {t}")
    return notes


# ---------------------------------------------------------------- rendering


def _delta(a: int | None, b: int | None, fmt: str = "count") -> str:
    """`+1,000, +0.50%`; `0` for none (count and human alike); `?` where a figure is unknown
    (MACs that depend on an input size that is not fixed), with the known one beside it."""
    if a is None or b is None:
        known = a if b is None else b
        shown = "?" if known is None else f"{known:,}" if fmt == "count" else human(known)
        return "?" if a is b else f"{shown} -> ?" if b is None else f"? -> {shown}"
    d = b - a
    if not d:
        return "0"
    text = f"{d:+,}" if fmt == "count" else ("+" if d > 0 else "-") + human(abs(d))
    return f"{text}, {d / a:+.2%}" if a else text


def _span(
    a: int | None, b: int | None, fmt: str = "count", sides: tuple[bool, bool] = (True, True)
) -> str:
    """`1,000 -> 2,000 (+1,000)`, or one side alone for added and removed blocks (`sides`: which
    exist). None is an unknown figure (MACs on an input of unknown size), shown as `?`."""

    def f(x: int | None) -> str:
        return "?" if x is None else f"{x:,}" if fmt == "count" else human(x)

    if not all(sides):
        return f(a if sides[0] else b)
    if a == b:
        return f(a)
    if a is None or b is None:
        return f"{f(a)} -> {f(b)}"
    return f"{f(a)} -> {f(b)} ({_delta(a, b, fmt)})"


def _shapes(a: tuple[Shape, ...]) -> str:
    return ", ".join(shape_str(s) for s in a)


def _row_cells(r: BlockChange) -> tuple[str, str, str, str, str]:
    o, n = r.old, r.new
    type_ = (
        (o or n).type if o is None or n is None or o.type == n.type else f"{o.type} -> {n.type}"  # type: ignore[union-attr]
    )
    if o is not None and n is not None and o.shape != n.shape:
        shape = f"{shape_str(o.shape)} -> {shape_str(n.shape)}"
    else:
        shape = shape_str((n or o).shape)  # type: ignore[union-attr]
    sides = (o is not None, n is not None)
    params = _span(o.params if o else None, n.params if n else None, sides=sides)
    macs = _span(o.macs if o else None, n.macs if n else None, "human", sides)
    return r.name, type_, shape, params, macs


def _total_lines(d: Diff) -> list[tuple[str, str]]:
    a, b = d.old, d.new
    outs = (
        _shapes(a.outputs)
        if a.outputs == b.outputs
        else f"{_shapes(a.outputs)} -> {_shapes(b.outputs)}"
    )
    ins = (
        _shapes(a.inputs) if a.inputs == b.inputs else f"{_shapes(a.inputs)} -> {_shapes(b.inputs)}"
    )
    return [
        ("input shape", ins),
        ("params", _span(a.params, b.params)),
        ("trainable", _span(a.trainable, b.trainable)),
        ("non-trainable", _span(a.non_trainable, b.non_trainable)),
        ("MACs", _span(a.macs, b.macs, "human")),
        ("output shape", outs),
    ]


def _count_line(d: Diff) -> str:
    c = d.counts
    return (
        f"{c['changed']} changed, {c['added']} added, {c['removed']} removed, "
        f"{c['unchanged']} unchanged"
    )


def format_text(d: Diff) -> str:
    """A table of the blocks that differ, their notes, and the totals before and after."""
    head = f"{d.old_name} -> {d.new_name}" if d.old_name != d.new_name else d.new_name
    if not d.changed:
        t = d.new
        line = (
            f"{head}: no change ({t.params:,} params, {macs_str(t.macs)} MACs, "
            f"output {_shapes(t.outputs)})"
        )
        return "\n".join([line, *_failure_lines(d)])
    rows = [("", "block", "type", "output shape", "params", "MACs")]
    notes: dict[int, tuple[str, ...]] = {}
    for r in d.blocks:
        if r.status != "unchanged":
            notes[len(rows)] = r.notes
            rows.append((_MARK[r.status], *_row_cells(r)))
    widths = [max(len(row[k]) for row in rows) for k in range(6)]
    # a `spec` block's own keys, above the rows of its blocks; no table when only the inputs
    # (or only those keys) differ
    specs = [f"{_MARK[s.status]}  {s.name} (spec): {'; '.join(s.notes)}"
             for s in d.specs if s.status != "unchanged"]  # fmt: skip
    specs += [f"{_MARK[c.status]}  {c.note}" for c in d.checks if c.status != "unchanged"]
    failures = _failure_lines(d)
    lines = [head, *(["", *failures] if failures else [])]
    lines += ["", *specs] if specs else []
    if len(rows) > 1:
        lines.append("")
    for k, row in enumerate(rows if len(rows) > 1 else []):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            lines.append(" " + "  ".join("-" * w for w in widths)[1:])
        lines += [f"      {note}" for note in notes.get(k, ())]
    lines += ["", f"blocks: {_count_line(d)}", "totals:"]
    lines += [f"  {k:<15}{v}" for k, v in _total_lines(d)]
    return "\n".join(lines)


def _failure_lines(d: Diff, md: bool = False) -> list[str]:
    """What `check` finds of each side's `budget` and `expect` (E601-E603): NEW's make the exit
    code 1, OLD's are shown only."""
    lines = []
    for side, checks, effect in (("OLD", d.old_checks, ""), ("NEW", d.new_checks, " (exit 1)")):
        if not checks.failures:
            continue
        if md:
            lines += ["", f"**{side} fails its own budget or expect**{effect}:"]
            lines += [f"- `{x.code}` {_md(x.message)}" for x in checks.failures]
        else:
            lines.append(f"{side} fails its own budget or expect{effect}:")
            lines += [f"  error[{x.code}]: {x.message}" for x in checks.failures]
    return lines


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("->", "→")


#: a pull-request comment's bound: GitHub takes 65,536 characters; rows past it are counted
MD_CHARS = 60_000
#: the most block rows, notes in a row, and characters in a note a comment shows
MD_ROWS, MD_NOTES, MD_NOTE_CHARS = 200, 10, 300


def _summary_delta(a: int | None, b: int | None, fmt: str = "count") -> str:
    """A total's delta for the summary line: `unchanged` where it is the same (a bare `0` read
    as "the model has 0 params"), else `_delta`'s `+1,000, +0.50%`."""
    return "unchanged" if a == b and a is not None else _delta(a, b, fmt)


def _clipped(notes: Sequence[str], most: int = MD_NOTES) -> list[str]:
    from archspec.render.text import clip

    shown = [clip(n, MD_NOTE_CHARS) for n in notes[:most]]
    return shown + ([f"... and {len(notes) - most} more"] if len(notes) > most else [])


def format_markdown(d: Diff) -> str:
    """Markdown for a pull-request comment: a summary line, the `spec` blocks', `budget` and
    `expect` keys that changed, the totals, then a table of changed blocks: the first MD_ROWS
    that fit in MD_CHARS characters, and how many more."""
    a, b = d.old, d.new
    title = f"`{d.old_name}` → `{d.new_name}`" if d.old_name != d.new_name else f"`{d.new_name}`"
    if not d.changed:
        line = (
            f"**archspec diff** {title}: no architectural change "
            f"({b.params:,} params, {macs_str(b.macs)} MACs)."
        )
        return "\n".join([line, *_failure_lines(d, md=True)])
    lines = [
        f"**archspec diff** {title}: params **{_summary_delta(a.params, b.params)}**, "
        f"MACs **{_summary_delta(a.macs, b.macs, 'human')}**; blocks: {_count_line(d)}",
        *_failure_lines(d, md=True),
    ]
    keys = [f"{_MARK[s.status]} `{s.name}` (spec): " + "; ".join(_md(f"`{n}`") for n in
            _clipped(s.notes)) for s in d.specs if s.status != "unchanged"]  # fmt: skip
    keys += [f"{_MARK[c.status]} {_md(f'`{n}`')}" for c in d.checks if c.status != "unchanged"
             for n in _clipped([c.note])]  # fmt: skip
    if keys:  # a `spec` block's own keys; `budget` and `expect`
        lines += ["", *(f"- {k}" for k in _clipped(keys, MD_ROWS))]
    lines += ["", "| total | before → after |", "|---|---|"]
    lines += [f"| {k} | {_md(v)} |" for k, v in _total_lines(d)]
    changed = [r for r in d.blocks if r.status != "unchanged"]
    if not changed:
        return "\n".join(lines)
    lines += [
        "",
        "| | block | type | output shape | params | MACs | what changed |",
        "|---|---|---|---|---|---|---|",
    ]
    room = MD_CHARS - sum(len(ln) + 1 for ln in lines) - 200  # the last line's
    shown = 0
    for r in changed[:MD_ROWS]:
        name, type_, shape, params, macs = _row_cells(r)
        what = "<br>".join(_md(f"`{n}`" if n[:1] in "+-~" else n) for n in _clipped(r.notes))
        cells = [_MARK[r.status], f"`{name}`", type_, shape, params, macs]
        row = "| " + " | ".join([*(_md(c) for c in cells), what]) + " |"
        room -= len(row) + 1
        if room < 0:
            break
        lines.append(row)
        shown += 1
    if shown < len(changed):
        lines += ["", f"... and {len(changed) - shown} more rows (`archspec diff -f json` lists "
                  "every block)."]  # fmt: skip
    return "\n".join(lines)


def to_json(d: Diff) -> dict[str, Any]:
    """The diff as plain data (every block, unchanged ones included)."""

    def facts(f: BlockFacts | None) -> dict[str, Any] | None:
        if f is None:
            return None
        return {
            "name": f.name, "type": f.type, "summary": f.summary, "inputs": list(f.inputs),
            "output_shape": list(f.shape), "params": f.params, "macs": f.macs,
            "layers": f.layers,
        }  # fmt: skip

    def totals(t: Totals) -> dict[str, Any]:
        return {
            "params": t.params, "trainable_params": t.trainable,
            "non_trainable_params": t.non_trainable, "macs": t.macs,
            "output_shapes": [list(s) for s in t.outputs],
            "input_shapes": [list(s) for s in t.inputs],
            "outputs": {n: list(s) for n, s in zip(t.output_names, t.outputs, strict=True)},
            "inputs": {n: list(s) for n, s in zip(t.input_names, t.inputs, strict=True)},
        }  # fmt: skip

    def checked(c: Checks) -> dict[str, Any]:
        from archspec.render.report import diagnostic_dict

        return {"checks_ok": not c.failures, "failures": [diagnostic_dict(x) for x in c.failures]}

    return {
        "version": JSON_VERSION,
        "errors": [],
        "old": {"name": d.old_name, **totals(d.old), **checked(d.old_checks)},
        "new": {"name": d.new_name, **totals(d.new), **checked(d.new_checks)},
        "changed": d.changed,
        "delta": {
            "params": d.new.params - d.old.params,
            "trainable_params": d.new.trainable - d.old.trainable,
            "non_trainable_params": d.new.non_trainable - d.old.non_trainable,
            "macs": None if d.new.macs is None or d.old.macs is None else d.new.macs - d.old.macs,
        },
        "counts": d.counts,
        "specs": [{"status": s.status, "name": s.name, "notes": list(s.notes)} for s in d.specs],
        # `budget` and `expect` keys, as written (null where a side has not the key)
        "checks": [
            {"status": c.status, "key": c.key, "old": c.old, "new": c.new, "note": c.note}
            for c in d.checks
        ],
        "blocks": [
            {
                "status": r.status,
                "name": r.name,
                "notes": list(r.notes),
                "old": facts(r.old),
                "new": facts(r.new),
            }
            for r in d.blocks
        ],
    }


def error_document(errors: Sequence[Diagnostic], format: str) -> str:
    """What `diff -f json` or `-f markdown` prints where a spec is invalid or an option wrong (no
    comparison): JSON `{"version", "errors"}`, the errors as `check`'s JSON writes them (each
    with a note naming its side), or a Markdown list of them."""
    import json

    from archspec.render.report import diagnostic_dict

    if format == "json":
        return json.dumps({"version": JSON_VERSION, "errors": [diagnostic_dict(e) for e in errors]},
                          indent=2)  # fmt: skip
    lines = ["**archspec diff**: not compared; the specs have errors:", ""]
    for e in errors[:MD_ROWS]:
        where = ":".join(str(x) for x in (e.file, e.line, e.col) if x is not None)
        sides = [r.message for r in e.related if r.message.startswith(("in OLD", "in NEW"))]
        text = "; ".join([" ".join(filter(None, [where and f"`{where}`", e.message])), *sides])
        lines.append(f"- `{e.code}` {_md(_clipped([text])[0])}")
    if len(errors) > MD_ROWS:
        lines.append(f"- ... and {len(errors) - MD_ROWS} more")
    return "\n".join(lines)
