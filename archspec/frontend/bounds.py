"""The limits of core/limits.py checked on a spec as it is lowered: each input's size before
lowering, each layer as it is added (the layer count, the op's own limits, its parameters and
output size), and the totals after lowering. The README's "Guarantees" section lists them."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from archspec.core.errors import KeyPath, LimitExceeded, SpecError, format_path
from archspec.core.limits import BYTES_PER_ELEMENT, DEFAULT, INT32_MAX, Limits, raise_hint
from archspec.core.units import Shape, compact, elements
from archspec.ir.graph import Builder
from archspec.ir.op import Cost, Op

if TYPE_CHECKING:
    from archspec.frontend.loader import Document
    from archspec.ir.graph import Graph


# -- before lowering -----------------------------------------------------------------------


def check_inputs(doc: Document, shapes: dict[str, Shape], named: bool,
                 limits: Limits = DEFAULT) -> None:  # fmt: skip
    """Each input's element count (E709)."""
    for name, shape in shapes.items():
        n = elements(shape)
        if n > limits.input_elements:
            path: KeyPath = ("inputs", name) if named else ("input",)
            dims = " x ".join("?" if d is None else f"{d:,}" for d in shape)
            raise SpecError(
                doc.diag(
                    "E709",
                    f"{format_path(path)}: {dims} has {compact(n)} elements, "
                    f"more than the limit of {limits.input_elements:,}",
                    path,
                    hint="archspec describes CNNs for images up to about 16384 x 16384",
                )
            )


# -- while lowering ------------------------------------------------------------------------


class BrokenOp(TypeError):
    """An op that does not keep the op protocol (its `cost` returned no Cost): a plugin's
    mistake, reported at the block that added it (lowering.py), or archspec's bug."""


#: the (op, limits) pairs found within the limits (op.check_limits, check_integers), which
#: are pure functions of the two; at most _WITHIN_SIZE of them are kept
_WITHIN: set[tuple[Op, Limits]] = set()
_WITHIN_SIZE = 100_000


class CheckedBuilder(Builder):
    """A Builder that refuses, layer by layer, what is over a limit, so that no block can build
    much before it is stopped (a `vgg` block with `n_conv: 1000000` stops at the layer limit)."""

    def __init__(self, graph: Graph, block: Any, limits: Limits = DEFAULT) -> None:
        super().__init__(graph, block)
        self.limits = limits

    def add(self, role: str, op: Op, *inputs: str) -> str:
        lim = self.limits
        if len(self.graph.nodes) >= lim.layers:
            raise LimitExceeded(
                "E705",
                f"the spec expands to more than {lim.layers:,} layers",
                hint=raise_hint("--max-layers"),
            )
        key = (op, lim)
        try:  # the ops of a spec repeat (the whole zoo: 17,600 layers, 800 distinct ops)
            known, keep = key in _WITHIN, True
        except TypeError:  # a plugin's op with a field that is a list: checked every time
            known, keep = False, False
        if not known:
            op.check_limits(lim)
            check_integers(op, lim)
            if keep and len(_WITHIN) < _WITHIN_SIZE:
                _WITHIN.add(key)
        name = super().add(role, op, *inputs)
        node = self.graph.nodes[name]
        if type(node.cost) is not Cost and not isinstance(node.cost, Cost):  # a plugin's op
            raise BrokenOp(
                f"`{type(op).__name__}.cost` (module `{type(op).__module__}`) returned "
                f"{node.cost!r} ({type(node.cost).__name__}), not an `archspec.ir.op.Cost`"
            )
        size = BYTES_PER_ELEMENT  # elements(node.shape) * BYTES_PER_ELEMENT, in the same pass
        for d in node.shape:
            if d is None:
                continue
            if d > INT32_MAX:
                raise LimitExceeded(
                    "E713",
                    f"layer `{name}` outputs a dimension of "
                    f"{max(d for d in node.shape if d is not None):,}, more than TensorFlow "
                    f"takes ({INT32_MAX:,}, its 32-bit integers)",
                )
            size *= d
        if node.params > lim.params:
            raise LimitExceeded(
                "E710",
                f"layer `{name}` alone has {compact(node.params)} parameters, more than the "
                f"limit of {compact(lim.params)}",
                hint=raise_hint("--max-params"),
            )
        if size > lim.activation_bytes:
            raise LimitExceeded(
                "E711",
                f"layer `{name}` alone outputs {compact(size, True)} of activations, more than "
                f"the limit of {compact(lim.activation_bytes, True)}",
                hint=raise_hint("--max-activation-memory"),
            )
        return name


#: op fields bounded by Limits.factor (E713), with what messages call them
FACTORS = {
    "strides": "a stride",
    "dilation": "a dilation rate",
    "size": "an upsampling factor",
    "depth_multiplier": "a depth multiplier",
    "padding": "a padding",
    "cropping": "a cropping",
}


def check_integers(op: Op, limits: Limits) -> None:
    """Every integer an op passes to Keras, beyond what its own `check_limits` bounds (filters,
    units, windows): the fields in FACTORS at most `limits.factor` (E713), and every other one
    (groups, channels, target shapes, ...) within TensorFlow's int32 (E713). Generic over the
    op's dataclass fields, so a new op's integers are bounded without code of its own."""
    for name in _field_names(type(op)):
        bound = limits.factor if name in FACTORS else INT32_MAX
        top = _largest(getattr(op, name))
        if top is None or abs(top) <= bound:  # the common case: nothing to report
            continue
        if name in FACTORS and top > limits.factor:
            error = LimitExceeded(
                "E713",
                f"{FACTORS[name]} of {top:,} is larger than the limit of {limits.factor:,}",
                value=top,
                hint="strides, dilation rates, upsampling factors, depth multipliers, padding "
                "and cropping are bounded like kernels",
            )
        elif abs(top) > INT32_MAX:
            error = LimitExceeded(
                "E713",
                f"`{name}` {top:,} is larger than TensorFlow takes ({INT32_MAX:,}, its "
                "32-bit integers)",
                value=top,
            )
        else:  # a negative factor (an axis, say) within int32
            continue
        error.key = name  # the spec key of the same name, where the block has one
        raise error


#: op class -> its dataclass fields' names
_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """The dataclass fields of an op class (none for an op that is not a dataclass): read once
    per class, since every layer of a spec is checked."""
    names = _FIELDS.get(cls)
    if names is None:
        found = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
        names = _FIELDS[cls] = tuple(f.name for f in found)
    return names


def _largest(value: object) -> int | None:
    """The integer of largest magnitude in a field's value (an int, or ints nested in tuples
    and lists; never a bool), or None where it holds none."""
    if type(value) is int:  # most fields: no generator, no list
        return value
    if isinstance(value, tuple | list):
        try:  # a kernel, strides, a target shape: plain ints, compared in C
            hi, lo = max(value), min(value)
        except (TypeError, ValueError):  # None, nested tuples, or empty: one by one below
            pass
        else:
            if type(hi) is int and type(lo) is int:
                return hi if abs(hi) >= abs(lo) else lo
        top: int | None = None
        for v in value:
            m = _largest(v)
            if m is not None and (top is None or abs(m) > abs(top)):
                top = m
        return top
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


# -- after lowering ------------------------------------------------------------------------


def check_totals(doc: Document, graph: Graph, limits: Limits = DEFAULT,
                 includes: dict[str, KeyPath] | None = None) -> None:  # fmt: skip
    """Estimated parameters (E710) and activation memory (E711) of the whole model, from the
    static IR, reported at the block where the running total crosses the limit (a block of
    an included spec: at its `spec` block, `includes`: the name of its group -> that key)."""
    params = activations = 0
    for shape in graph.inputs.values():
        activations += elements(shape) * BYTES_PER_ELEMENT
    for block in graph.blocks:
        top = block.group
        path = (includes or {}).get(top[0], block.path) if top and top[1] == "spec" else block.path
        for name in block.nodes:
            node = graph.nodes[name]
            params += node.params
            activations += elements(node.shape) * BYTES_PER_ELEMENT
        if params > limits.params:
            raise SpecError(
                doc.diag(
                    "E710",
                    f"{format_path(path)} (`{block.name}`): the parameters pass the limit "
                    f"of {compact(limits.params)} here ({compact(graph.params)} in total)",
                    path,
                    hint=raise_hint("--max-params"),
                )
            )
        if activations > limits.activation_bytes:
            total_activations = sum(elements(s) for s in graph.inputs.values()) + sum(
                elements(n.shape) for n in graph.nodes.values()
            )
            raise SpecError(
                doc.diag(
                    "E711",
                    f"{format_path(path)} (`{block.name}`): the activation memory passes "
                    f"the limit of {compact(limits.activation_bytes, True)} here "
                    f"({compact(total_activations * BYTES_PER_ELEMENT, True)} in total: every "
                    "layer's output in float32 at batch size 1)",
                    path,
                    hint=raise_hint("--max-activation-memory"),
                )
            )
