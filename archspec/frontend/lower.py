"""Stage 4, lowering: resolved blocks -> the graph IR, with static shapes, params and MACs.

Every block arrives validated, named and with explicit inputs (frontend/resolve/); here each
one adds its layers, and every shape error is reported at the position of the block that caused
it (and, inside a user-defined block, at its use site too).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from archspec.blocks.layers.flatten import Flatten
from archspec.core.errors import Diagnostic, KeyPath, Related, ShapeError, SpecError, format_path
from archspec.core.limits import Limits
from archspec.core.units import shape_str
from archspec.frontend.bounds import check_totals
from archspec.frontend.lowering import Lowering, layout_warnings
from archspec.frontend.resolve import Resolved, lowering_error, with_use, with_warnings
from archspec.frontend.resolve.include import KIND
from archspec.frontend.resolve.origins import option
from archspec.frontend.translate import written_at
from archspec.ir.graph import BlockInfo, Graph
from archspec.ir.op import Cost


def lower(resolved: Resolved, limits: Limits | None = None) -> Graph:
    """Build the graph IR of a resolved spec.

    The limits (`resolved.doc.limits` unless given; archspec/core/limits.py) are checked on the
    inputs first, layer by layer while lowering, and on the totals of the finished graph."""
    doc = resolved.doc
    limits = limits or doc.limits
    model = resolved.model
    warnings = list(resolved.warnings)
    warnings += layout_warnings(doc, model.input_shapes, model.inputs is not None)
    try:
        lowering = Lowering(doc, model.name, model.input_shapes, model.inputs is not None, limits)
        for item in resolved.items:
            problem = lowering.add(item.block, item.path, item.groups, item.doc, item.written)
            if problem is not None:
                raise _noting_sets(lowering_error(doc, problem, item), resolved.sets)
        graph, tensors = lowering.graph, lowering.tensors
        warnings += _image_axes(resolved, graph)
        graph.warnings = warnings  # one list: what _prune adds is reported with a later error
        graph.outputs = [tensors[o] for o in resolved.outputs]
        graph.includes = {name: i.keys for name, i in resolved.includes.items()}
        _prune(graph, resolved)
        _freeze(graph, resolved)
        check_totals(doc, graph, limits, {g: i.path for g, i in resolved.includes.items()})
    except SpecError as e:  # the warnings found so far (_prune's too) are reported after it
        raise with_warnings(e, warnings) from None
    return graph


def _noting_sets(e: SpecError, sets: tuple[str, ...]) -> SpecError:
    """An error lowering found (a shape, a limit) in a spec checked with `--set`: a note with
    the values, unless a note names one already (the block read it). A value that changes an
    earlier block's channels shows only later, in a block that never reads it."""
    (d,) = e.diagnostics
    shown = [f"{option(s)} {s}" for s in sets]
    if not sets or any(s in r.message for r in d.related for s in shown):
        return e
    note = Related("the spec was checked with " + " ".join(shown))
    return SpecError(dataclasses.replace(d, related=(*d.related, note)))


def _image_axes(resolved: Resolved, graph: Graph) -> list[Diagnostic]:
    """W307 for a `concat` of images along their height or width (axis 1 or 2): PyTorch's
    `torch.cat(..., dim=1)` joins channels, which are the last axis here (a walkthrough's
    `axis: 1` joined two 28 x 28 maps into a 56 x 28 one, silently). Once per place."""
    out: dict[tuple[str, KeyPath], Diagnostic] = {}
    for item in resolved.items:
        b = item.block
        if b.type != "concat" or getattr(b, "axis", -1) not in (1, 2, -2, -3):
            continue
        node = graph.nodes.get(str(b.name))
        if node is None or len(graph.shape_of(node.inputs[0])) != 3:  # images only
            continue
        doc = item.doc or resolved.doc
        where: KeyPath = (*item.path, "axis")
        axis = getattr(b, "axis")  # noqa: B009 (a concat's)
        what = "height" if axis in (1, -3) else "width"
        out.setdefault((doc.file, where), with_use(doc, doc.diag(
            "W307", f"{format_path(where)}: `axis: {axis}` joins the inputs along their "
            f"{what}: images are channels last here, and PyTorch's `dim=1` (channels) is "
            "`axis: -1`, the default", where, key=True, severity="warning",
            hint="leave `axis` out to join the channels"), item.use))  # fmt: skip
    return list(out.values())


def _freeze(graph: Graph, resolved: Resolved) -> None:
    """The layers of a block whose `trainable` is false (its own, or a user-defined or `spec`
    block's around it: a frozen backbone) are not trainable: every parameter counts as
    non-trainable, as Keras counts a layer whose `trainable` is False (a batch norm's scale and
    offset too)."""
    frozen = {item.block.name for item in resolved.items if not item.block.trainable}
    if not frozen:
        return
    for b in graph.blocks:
        if b.name in resolved.frozen:  # said once, by the `spec` block's own key
            b.summarize = _without_trainable(b.summarize)
        if b.name in frozen:
            for name in b.nodes:
                node = graph.nodes.get(name)  # None where _prune dropped it
                if node is not None:
                    node.trainable = False
                    node.cost = Cost(0, node.cost.params, node.cost.macs)


def _without_trainable(summarize: Callable[[], str]) -> Callable[[], str]:
    """A block's summary without `trainable=false`, which the frozen `spec` block around it
    says for it (diagrams mark the instance; `diff` shows the key's change once). A block the
    included spec itself freezes keeps it, and so do a user-defined block use's blocks, for
    which `diff` has no line of its own."""
    return lambda: ", ".join(p for p in summarize().split(", ") if p != "trainable=false")


def _prune(graph: Graph, resolved: Resolved) -> None:
    """Drop what does not reach an output, as Keras does, and warn about it (not about the
    blocks of an included spec, a backbone cut at its exposed outputs: about the `spec` block
    and the outputs it lists, `_unread_includes`)."""
    live: set[str] = set()
    stack = list(graph.outputs)
    while stack:
        name = stack.pop()
        if name not in live:
            live.add(name)
            stack.extend(graph.nodes[name].inputs if name in graph.nodes else [])
    doc = resolved.doc
    warnings: list[Diagnostic] = []
    for name in graph.inputs:
        if name not in live:
            path = ("inputs", name) if resolved.model.inputs else ("input",)
            warnings.append(doc.diag("W301", f"input `{name}` feeds no output", path,
                                     severity="warning"))  # fmt: skip
    dead = [b for b in graph.blocks if not any(n in live for n in b.nodes)]
    for b in dead:
        if b.group is None:
            warnings.append(doc.diag(
                "W301", f"{format_path(b.path)}: block `{b.name}` feeds no output; Keras drops it",
                b.path, severity="warning", hint=_READ,
            ))  # fmt: skip
    if any(b.group is not None and b.group[1] != KIND for b in dead):
        warnings += _unread_instances(graph, resolved, dead)
    warnings += _unread_includes(graph, resolved, live)
    warnings += _resized_flattens(graph, resolved, live)
    graph.warnings.extend(warnings)
    graph.blocks = [b for b in graph.blocks if any(n in live for n in b.nodes)]
    graph.nodes = {k: v for k, v in graph.nodes.items() if k in live}


_READ = "read it from a later block (`inputs`) or list it in `outputs`"


def _unread_instances(graph: Graph, resolved: Resolved, dead: list[BlockInfo]
                      ) -> list[Diagnostic]:  # fmt: skip
    """W301 for the blocks of user-defined blocks that feed no output, once per place: at the
    use of the outermost instance that feeds nothing as a whole (`blocks[2]`: `s` feeds no
    output; inside a definition, `define.outer.blocks[0]`: `s` feeds no later block of it),
    else at the definition's block that its definition leaves unread; with a note at each
    top-level use it happened in. (The blocks of an included spec, `type: spec`, go silently:
    see `_unread_includes`.)"""
    doc = resolved.doc
    unread = {b.name for b in dead}
    items = {i.block.name: i for i in resolved.items}
    alive = {b.groups[:k] for b in graph.blocks if b.name not in unread
             for k in range(1, len(b.groups) + 1)}  # fmt: skip
    places: dict[KeyPath, tuple[str, list[str], list[KeyPath]]] = {}  # -> kind, copies, uses
    for b in dead:
        item = items[b.name]
        if not b.groups or any(kind == KIND for _, kind in b.groups) or \
                len(item.at) != len(b.groups):  # fmt: skip
            continue
        level = next((k for k in range(len(b.groups)) if b.groups[: k + 1] not in alive), None)
        if level is None:  # the definition leaves the block unread
            place, kind, name = b.path, "", b.name.removeprefix(b.groups[-1][0] + "_")
        else:
            place, (name, kind) = item.at[level], b.groups[level]
            if level:
                name = name.removeprefix(b.groups[level - 1][0] + "_")
        _, copies, uses = places.setdefault(place, (kind, [], []))
        if name not in copies:
            copies.append(name)
        if item.at[0] not in uses:
            uses.append(item.at[0])
    warnings = []
    for place, (kind, copies, uses) in places.items():
        local = written_at(doc.data, (*place, "name"))
        name = local if isinstance(local, str) and len(copies) > 1 else copies[0]
        what = (f"the {len(copies)} copies of `{name}` ({kind}) feed" if len(copies) > 1
                and kind else f"block `{name}`{f' ({kind})' if kind else ''} feeds")  # fmt: skip
        top = place[0] == "blocks"
        into = "output" if top else "later block of its definition"
        d = doc.diag(
            "W301", f"{format_path(place)}: {what} no {into}; Keras drops it", place,
            severity="warning", hint=_READ if top else "read it from a later block of the "
            "definition (`inputs`), or remove it",
        )  # fmt: skip
        for use in uses if not top else ():
            d = with_use(doc, d, use)
        warnings.append(d)
    return warnings


def _unread_includes(graph: Graph, resolved: Resolved, live: set[str]) -> list[Diagnostic]:
    """W301 for a top-level `spec` block that feeds no output, at the block, and for an output
    it lists that no output needs, at the list (it was asked for): one that no layer outside the
    included spec reads, whatever the included spec's own layers read. W304 for its softmax
    read by a later block: a backbone whose classifier was not cut off (`outputs`)."""
    if not resolved.includes:
        return []
    doc = resolved.doc
    warnings: list[Diagnostic] = []
    outer = {b.name: b.group for b in graph.blocks}  # the top-level instance
    readers: dict[str, str] = {}  # a layer read from outside its instance -> the first reader
    for node in graph.nodes.values():
        here = outer[node.block]
        if node.name in live:
            for i in node.inputs:
                if i in graph.nodes and outer[graph.nodes[i].block] != here:
                    readers.setdefault(i, node.name)
    read = set(graph.outputs) | set(readers)
    # W304's candidates: a softmax read from outside its instance by a layer with weights (a new
    # head; not an ensemble's `add`, or an `upsample` after a segmentation map)
    heads = [(t, r) for t, r in readers.items() if graph.nodes[r].params
             and getattr(graph.nodes[t].op, "activation", None) == "softmax"]  # fmt: skip
    outputs = {b.name: b.output for b in graph.blocks}
    for group, included in resolved.includes.items():
        if not any(outer[b] == (group, "spec") and o in live for b, o in outputs.items()):
            warnings.append(doc.diag(
                "W301", f"{format_path(included.path)}: the spec block `{group}` feeds no "
                "output; Keras drops it", included.path, severity="warning",
                hint="read it from a later block (`inputs`) or list it in `outputs`",
            ))  # fmt: skip
            continue
        for tensor, reader in heads:  # its own outputs, not ones it was asked for (`taps`)
            if included.taps or outer[graph.nodes[tensor].block] != (group, "spec"):
                continue
            warnings.append(doc.diag(
                "W304", f"{format_path(included.path)}: `{graph.nodes[reader].block}` reads the "
                f"softmax of the classifier of the spec block `{group}` (`{tensor}`)",
                included.path, severity="warning", hint="to use it as a backbone, list a block "
                "before its classifier in its `outputs` (the features a new head reads)",
            ))  # fmt: skip
        for block, (at, name) in included.taps.items():
            if outputs[block] not in read:
                warnings.append(doc.diag(
                    "W301", f"{format_path(at)}: `{name}` feeds no output; Keras drops it", at,
                    severity="warning", hint=f"read it from a later block (`inputs: {name}`) or "
                    "list it in the model's `outputs`",
                ))  # fmt: skip
    return warnings


def _resized_flattens(graph: Graph, resolved: Resolved, live: set[str]) -> list[Diagnostic]:
    """W308 for a `spec` block (here, or in a spec included) whose `any_size` gives a live
    `flatten` of the spec it includes another size than that spec's own input does: the layers
    after it get other weights than the spec's as written (VGG16 at 64 x 64 has 43,985,704
    params, not 138,357,544; keras.applications refuses include_top=True at another size).
    The shapes of the included part up to its flattens are inferred again at its own input, so
    a flatten after a global pooling (MobileNetV3's, of 1 x 1 logits) says nothing. Once per
    `flatten`, at the outermost `spec` block that changes it, and once per place (a spec
    included twice)."""
    if not resolved.resized:
        return []
    groups = {b.name: b.groups for b in graph.blocks}
    told: set[str] = set()  # the flattens warned about
    places: set[tuple[str, KeyPath]] = set()
    warnings: list[Diagnostic] = []
    for r in resolved.resized:
        part = [n for n in graph.nodes.values() if groups[n.block][: len(r.groups)] == r.groups]
        flats = [
            n.name
            for n in part
            if isinstance(n.op, Flatten) and n.name in live and n.name not in told
        ]
        if not flats:
            continue
        names = {n.name for n in part}
        needed = graph.ancestors(*flats) & names
        nodes = [n for n in part if n.name in needed]
        source = {i for n in nodes for i in n.inputs} - names  # the included spec's input
        try:
            own = graph.shapes_at(dict.fromkeys(source, r.own), nodes)
        except ShapeError:  # its layers as built here cannot take it (a size from in_shape)
            continue
        changed = [f for f in flats if own[f] != graph.nodes[f].shape]
        told.update(changed)
        if not changed or (r.doc.file, r.path) in places:
            continue
        places.add((r.doc.file, r.path))
        flat = graph.nodes[changed[0]]
        image = flat.inputs[0]
        warnings.append(r.doc.diag(
            "W308", f"{format_path(r.path)}: with `any_size: true`, `{flat.name}` flattens "
            f"{shape_str(graph.shape_of(image), 'message')} into {flat.shape[0]:,} values here, "
            f"and {shape_str(own[image], 'message')} into {own[flat.name][0]:,} at the included "
            f"spec's own input {shape_str(r.own, 'message')}: the layers after it get other "
            "weights than the spec's as written", (*r.path, "any_size"), severity="warning",
            hint="to use it as a backbone, list a block before its `flatten` in its `outputs`; "
            "to keep its classifier, give it its own input size",
        ))  # fmt: skip
    return warnings
