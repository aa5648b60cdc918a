"""Stage 5, emission: graph IR -> keras.Model. The only module that imports Keras."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
from collections.abc import Iterator
from typing import Any

from archspec.backends.keras import memory
from archspec.blocks.base import BUILTIN, REGISTRY, plugin_block, provider
from archspec.core.errors import STATE, ArchspecError, Diagnostic, SpecError, format_path
from archspec.core.limits import BYTES_PER_ELEMENT
from archspec.core.units import Shape, compact, shape_str
from archspec.ir.graph import Graph, Node
from archspec.ir.op import Cost

#: Python frames allowed per layer while Keras walks a model's graph (see deep_recursion), and
#: on top of them
RECURSION_PER_LAYER = 10
RECURSION_BASE = 1_000


def import_keras(backend: str | None = None) -> Any:
    """Import Keras on `backend` (tensorflow, jax, torch; default: KERAS_BACKEND where set, else
    tensorflow; backend.choose), with TensorFlow's start-up chatter silenced. Keras fixes its
    backend at its first import: where it is already imported, an explicit `backend` must be
    the one it runs on (E003 otherwise), and without one it is returned as it is."""
    from archspec.backends.keras import backend as backends

    if "keras" in sys.modules and backend is None:
        import keras

        return keras
    name = backends.choose(backend)
    backends.check_loaded(name)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ["KERAS_BACKEND"] = name
    if not STATE["debug"]:  # TensorFlow's Python warnings too ("... triggered tf.function
        # retracing", from a grouped conv's every call): --debug shows them
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    import keras

    return keras


@contextlib.contextmanager
def deep_recursion(layers: int) -> Iterator[None]:
    """Python's recursion limit raised, for the duration, to what a model of `layers` layers
    needs. Keras walks a functional model's graph recursively, one Python frame per layer on the
    longest path (`keras.src.ops.function._build_map_helper`, when a model is built and when a
    saved one is loaded), so a plain chain of 1,000 layers passes Python's default limit of
    1,000 (DenseNet-201 has 700+ layers, EfficientNetV2-L 1,000+). The frames are Python's own
    (Python 3.11+ keeps them off the C stack: a 6,000-layer chain builds with a 2 MiB stack),
    so no larger thread stack is needed. The limit is restored afterwards."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, RECURSION_BASE + RECURSION_PER_LAYER * layers))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def check_memory(graph: Graph) -> None:
    """E804 (exit 2) before TensorFlow is imported where building `graph` needs more memory
    than is available (backends/keras/memory.py)."""
    weights = BYTES_PER_ELEMENT * graph.params
    detail = (
        f"{compact(graph.params)} parameters: {compact(weights, True)} of float32 weights, "
        f"{memory.BUILD_COPIES} times over while Keras creates them"
    )
    if not memory.tensorflow_loaded():
        detail += f", and {compact(memory.TF_RESIDENT, True)} for TensorFlow"
    memory.check(memory.build_bytes(graph.params), f"building `{graph.name}`", detail)


def to_keras(graph: Graph, backend: str | None = None) -> Any:
    """Build the keras.Model on `backend` (import_keras): one Keras layer per IR node, named as
    the node. First E804 where the machine has not the memory for it (check_memory); then E805
    where a layer's params or output shape differ from its op's static figures (check_static)."""
    check_memory(graph)
    keras = import_keras(backend)
    emitted: list[tuple[Node, Any, Any]] = []
    with deep_recursion(len(graph.nodes) + len(graph.inputs)):
        tensors: dict[str, Any] = {
            name: keras.Input(shape=shape, name=name) for name, shape in graph.inputs.items()
        }
        frozen = []  # set after the model is built: a weight's order stays its creation's
        for node in graph.nodes.values():
            args = [tensors[i] for i in node.inputs]
            try:
                layer = node.op.emit(keras, node.name)
                if not callable(layer):
                    raise _plugin_error(graph, node, f"returned {layer!r} "
                                        f"({type(layer).__name__}), not a Keras layer")  # fmt: skip
                tensors[node.name] = layer(args if node.op.multi_input else args[0])
            except Exception as e:  # a plugin's op: E901 (archspec's own: a bug, raised)
                if isinstance(e, ArchspecError | MemoryError) or STATE["debug"] or \
                        type(node.op).__module__.startswith(BUILTIN):  # fmt: skip
                    raise
                raise _plugin_error(graph, node, f"raised {type(e).__name__}: {e}") from None
            emitted.append((node, layer, tensors[node.name]))
            if not node.trainable:
                frozen.append(layer)
        inputs = [tensors[n] for n in graph.inputs]
        outputs = [tensors[n] for n in graph.outputs]
        model = keras.Model(
            inputs=inputs[0] if len(inputs) == 1 else inputs,
            outputs=outputs[0] if len(outputs) == 1 else outputs,
            name=graph.name,
        )
        for layer in frozen:  # `trainable: false`
            layer.trainable = False
        check_static(graph, emitted)  # (a frozen layer's parameters are all non-trainable)
        return model


def _plugin_error(graph: Graph, node: Node, what: str) -> Exception:
    """A plugin op's `emit` that returned no layer, or that (or its layer) raised: E901 at its
    block (by key path: the graph has no file), as its other errors are (frontend/lowering.py);
    from archspec's own op, a bug (TypeError)."""
    op = type(node.op)
    what = f"`{op.__name__}.emit` (module `{op.__module__}`) for layer `{node.name}` {what}"
    if op.__module__.startswith(BUILTIN):
        return TypeError(what)
    block = next(b for b in graph.blocks if b.name == node.block)
    kind = REGISTRY.get(block.type)
    who = (provider(kind) if kind else None) or f"plugin module `{op.__module__}`"
    return SpecError(
        Diagnostic(
            "E901",
            f"{plugin_block(block.path, block.name, block.type, who)}: {what}",
            path=block.path,
            hint="the error is the plugin's, not archspec's: an op's `emit` returns the Keras "
            "layer (`keras.layers....(name=name)`); run again with --debug for the traceback",
        )
    )


def foreign_layers(model: Any) -> dict[type, list[str]]:
    """The layers of `model` whose classes are not Keras's own (a plugin op's), by class: a
    `.keras` file loads only where those classes are known."""
    foreign: dict[type, list[str]] = {}
    for layer in model.layers:
        module = type(layer).__module__
        if module != "keras" and not module.startswith("keras."):  # (not `keras_cv`'s)
            foreign.setdefault(type(layer), []).append(layer.name)
    return foreign


#: how many disagreeing layers E805 names, one diagnostic each
SHOWN = 3


def check_static(graph: Graph, emitted: list[tuple[Node, Any, Any]]) -> None:
    """E805 where a Keras layer disagrees with the op that emitted it: its parameters
    (trainable, non-trainable) or its output shape differ from the op's `cost` and `infer`,
    which `build`'s summary, budgets and `expect` use. A layer that reads one whose shape
    differs is not named (its own figures follow from the wrong input). The built-in ops
    always agree (tests/test_static_vs_keras.py), so this names a plugin's op. `emitted`:
    (node, its layer, the layer's output tensor) per node; cheap: the variables' shapes, no
    values."""
    wrong = []
    shifted: set[str] = set()  # layers whose output shape is not the op's: what reads them
    for node, layer, output in emitted:  # gets other shapes too, and is not named for it
        got = _figures(layer, output)
        if got[2] != (None, *node.shape):
            shifted.add(node.name)
        if shifted.isdisjoint(node.inputs) and got != (
            node.cost.trainable,
            node.cost.non_trainable,
            (None, *node.shape),
        ):
            wrong.append((node, layer, got))
    if not wrong:
        return
    blocks = {b.name: b for b in graph.blocks}
    diagnostics = []
    for k, (node, layer, (trainable, non_trainable, shape)) in enumerate(wrong[:SHOWN]):
        op = type(node.op)
        block = blocks.get(node.block)
        where = f"{format_path(block.path)}: " if block is not None and block.path else ""
        said, has = [], []
        if (trainable, non_trainable) != (node.cost.trainable, node.cost.non_trainable):
            said.append(f"{_params(node.cost)} (its `cost`)")
            has.append(_params(Cost(trainable, non_trainable)))
        if shape != (None, *node.shape):
            said.append(f"output shape {shape_str(node.shape)} (its `infer`)")
            has.append(f"output shape {_shape(shape)}")
        more = len(wrong) - SHOWN if k == SHOWN - 1 else 0
        diagnostics.append(Diagnostic(
            code="E805",
            message=f"{where}layer `{node.name}` of block `{node.block}`: the op "
            f"{op.__qualname__} (module {op.__module__}) says {' and '.join(said)}, but the "
            f"Keras layer its `emit` returns ({type(layer).__qualname__}) has "
            f"{' and '.join(has)}: the op's `infer`/`cost` disagrees with the layer it emits, "
            "so the summary, budget and expect would use wrong figures; nothing was written"
            + (f" (and {more} more layer{'s' * (more > 1)} disagree)" if more else ""),
            path=block.path if block is not None else (),
            hint=f"fix {op.__qualname__} in {op.__module__} (a plugin's op, not the spec): its "
            "`infer` and `cost` must give the output shape and the parameters of the layer "
            "its `emit` returns",
        ))  # fmt: skip
    raise ArchspecError(diagnostics)


def _figures(layer: Any, output: Any) -> tuple[int, int, Shape | None]:
    """A called layer's trainable and non-trainable parameters (as Keras counts them) and its
    output shape with the batch (None: not one tensor)."""

    def size(variables: Any) -> int:
        return sum(math.prod(int(d) for d in v.shape) for v in variables)

    shape = getattr(output, "shape", None)
    return (size(layer.trainable_weights), size(layer.non_trainable_weights),
            tuple(shape) if shape is not None else None)  # fmt: skip


def _params(cost: Cost) -> str:
    return (
        f"{cost.params:,} params ({cost.trainable:,} trainable, {cost.non_trainable:,} "
        "non-trainable)"
    )


def _shape(shape: Shape | None) -> str:
    if shape is None:
        return "no single output tensor"
    return "(" + ", ".join(str(d) for d in shape) + ")"
