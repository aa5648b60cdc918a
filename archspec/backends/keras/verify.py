"""Parity checks: the same random batch through the Keras model and through an exported
artefact reloaded from disk, as a user of that format would load it (`.keras` with
`safe_mode=True`, a SavedModel with `tf.saved_model.load`, the TFLite interpreter, onnxruntime).
Multi-input and multi-output models included: inputs are matched by name, outputs by position.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archspec.backends.keras import memory
from archspec.core.errors import (
    ArchspecError,
    Diagnostic,
    KeyPath,
    ShapeError,
    SpecError,
    format_path,
)
from archspec.core.limits import BYTES_PER_ELEMENT, DEFAULT, raise_hint
from archspec.core.units import Shape, compact, elements
from archspec.frontend.loader import Document
from archspec.ir.graph import Graph

if TYPE_CHECKING:
    import numpy as np

BATCH = 2  # > 1, so that the artefact's batch dimension is exercised too
#: the sizes tried, in order, for a height or width the spec leaves unknown (`null`) when the
#: model must run (--verify, an ONNX export): ImageNet's first, then (after the inputs' known
#: sizes, which an unknown one may have to match) larger and smaller ones
SIZES = (224, 256, 299, 192, 160, 128, 96, 64, 32)
UNKNOWN_SIZE = SIZES[0]

#: inputs by name (numpy is imported where arrays are made: `build` calls run_shapes on a
#: core install too, which has no numpy, to report its errors before E005)
Batch = dict[str, "np.ndarray"]


def run_shapes(graph: Graph, doc: Document | None = None) -> dict[str, Shape]:
    """Input shapes (without the batch) at which the model runs: its unknown heights and widths
    set to the first of SIZES at which every layer's static shapes work out (a stack of
    stride-2 layers needs a large enough size; an unknown size merged with a known one must
    match it). E802 if none does, at the first input of unknown size in `doc`. Then the
    activations at that size are checked before anything runs (check_run_memory)."""
    known = sorted(
        {d for s in graph.inputs.values() for d in s[:-1] if d is not None}, reverse=True
    )
    for size in dict.fromkeys((SIZES[0], *known, *SIZES[1:])):
        shapes: dict[str, Shape] = {
            n: tuple(size if d is None else d for d in s) for n, s in graph.inputs.items()
        }
        try:
            at = graph.shapes_at(shapes)
        except ShapeError:
            continue
        check_run_memory(graph, at, doc)
        return shapes
    message = (
        f"`{graph.name}` runs at none of the sizes tried for its inputs' unknown height and "
        f"width ({', '.join(map(str, dict.fromkeys((*SIZES, *known))))}), so it cannot be "
        "run to verify or export it"
    )
    hint = "give the input a fixed height and width (in the spec or with --set; in Python: sets=)"
    if doc is None:
        raise ArchspecError(Diagnostic(code="E802", message=message, hint=hint))
    path = _unknown_input(graph, doc)
    raise ArchspecError(doc.diag("E802", f"{format_path(path)}: {message}", path, hint=hint))


def check_run_memory(graph: Graph, at: dict[str, Shape], doc: Document | None) -> None:
    """Before the model runs (--verify, an ONNX export) at the input sizes of `at` (every
    tensor's shape, from Graph.shapes_at): its activations at batch size 1 within the
    activation limit (E711, where an input's size was unknown: `check` bounded it at 1), and
    the build plus a batch of BATCH within the memory available (E804, exit 2)."""
    per_sample = sum(elements(s) for s in at.values()) * BYTES_PER_ELEMENT
    unknown = [n for n, s in graph.inputs.items() if None in s]
    size = " x ".join(map(str, at[unknown[0] if unknown else next(iter(graph.inputs))]))
    limit = (doc.limits if doc is not None else DEFAULT).activation_bytes
    if per_sample > limit and unknown:
        message = (
            f"run at {size} (the size tried for its unknown height and width), "
            f"`{graph.name}` has {compact(per_sample, True)} of activations, more than the "
            f"limit of {compact(limit, True)} (every layer's output in float32 at batch size 1)"
        )
        hint = (
            "give the input a smaller fixed height and width (in the spec or with --set; in "
            "Python: sets=), or " + raise_hint("--max-activation-memory", "")
        )
        if doc is None:
            raise SpecError(Diagnostic(code="E711", message=message, hint=hint))
        path = _unknown_input(graph, doc)
        raise SpecError(doc.diag("E711", f"{format_path(path)}: {message}", path, hint=hint))
    memory.check(
        memory.build_bytes(graph.params) + BATCH * per_sample,
        f"running `{graph.name}` at {size} to verify or export it",
        f"the model's weights as it is built, and {BATCH} samples' activations of "
        f"{compact(per_sample, True)} each",
        hint="free memory or use a larger machine, or give the input a smaller fixed height "
        "and width (in the spec or with --set; in Python: sets=)",
    )


def _unknown_input(graph: Graph, doc: Document) -> KeyPath:
    """The key path of the first input of unknown size."""
    name = next(n for n, s in graph.inputs.items() if None in s)
    return ("input",) if name == "input" and "input" in doc.data else ("inputs", name)


def reference(
    model: Any, batch: int = BATCH, seed: int = 0, shapes: dict[str, Shape] | None = None
) -> tuple[Batch, list[np.ndarray]]:
    """A random batch (fixed seed) and the Keras model's outputs for it (`shapes`: see
    random_batch)."""
    inputs = random_batch(model, batch, seed, shapes)
    return inputs, run_keras(model, inputs)


def measure(
    model: Any,
    path: Path,
    fmt: str,
    *,
    ref: tuple[Batch, list[np.ndarray]] | None = None,
    shapes: dict[str, Shape] | None = None,
) -> tuple[float, float]:
    """The max abs difference over every output between `model` and the artefact at `path`,
    and the largest of each output's difference relative to that output's magnitude where it
    is over 1 (max |e - g| / max(1, max |e|), per output: float rounding grows with the values
    an output is computed from, and a box head in the thousands does not loosen the check of
    a softmax beside it). NaN if an output is NaN: it never verifies."""
    import numpy as np

    inputs, expected = ref if ref is not None else reference(model, shapes=shapes)
    got = RUNNERS[fmt](path, model, inputs)
    if len(got) != len(expected):
        raise RuntimeError(f"{path}: {len(got)} outputs, the Keras model has {len(expected)}")
    diffs, relative = [0.0], [0.0]
    for e, g in zip(expected, got, strict=True):
        g = np.asarray(g)
        if g.shape != e.shape:
            raise RuntimeError(f"{path}: an output of shape {g.shape}, expected {e.shape}")
        if e.size:
            e64 = e.astype(np.float64)
            gap = np.abs(e64 - g)
            diffs.append(float(np.max(gap)))
            relative.append(float(np.max(gap)) / max(1.0, float(np.max(np.abs(e64)))))
    return float(np.max(diffs)), float(np.max(relative))


def variation(outputs: list[np.ndarray]) -> float:
    """How much the Keras model's outputs change with the input: the largest change of one
    output element over the batch, relative to its output's magnitude where that is over 1 (as
    `measure`'s). A fresh classifier's softmax changes by about nothing: any file of the right
    shapes is then within the tolerance. NaN counts as varying."""
    import numpy as np

    most = 0.0
    for o in outputs:
        if o.size and o.shape[0] > 1:
            values = o.astype(np.float64)
            change = np.max(values, axis=0) - np.min(values, axis=0)
            most = max(most, float(np.max(change)) / max(1.0, float(np.max(np.abs(values)))))
        if o.size and np.isnan(o).any():
            return math.inf
    return most


def random_batch(
    model: Any, batch: int, seed: int, shapes: dict[str, Shape] | None = None
) -> Batch:
    """Standard-normal float32 inputs of the model's shapes, by input name (fixed seed). An
    unknown height or width is taken from `shapes` (run_shapes of the model's graph), else it
    is UNKNOWN_SIZE."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = {}
    for name, t in zip(input_names(model), model.inputs, strict=True):
        dims = shapes[name] if shapes else tuple(t.shape[1:])
        size = tuple(UNKNOWN_SIZE if d is None else d for d in dims)
        out[name] = rng.standard_normal((batch, *size)).astype(np.float32)
    return out


def input_names(model: Any) -> list[str]:
    """The names of the model's Input layers (what export signatures call them), in order."""
    names = []
    for t in model.inputs:
        history = getattr(t, "_keras_history", None)
        names.append(getattr(getattr(history, "operation", None), "name", None) or t.name)
    return names


def _feed(names: list[str], inputs: Batch) -> Batch:
    """`inputs` under an artefact's input `names`: by name, or by position for one input."""
    if sorted(names) == sorted(inputs):
        return {n: inputs[n] for n in names}
    if len(names) == len(inputs) == 1:
        return {names[0]: next(iter(inputs.values()))}
    raise RuntimeError(f"the artefact's inputs {names} are not the model's {list(inputs)}")


def run_keras(model: Any, inputs: Batch) -> list[np.ndarray]:
    return _as_list(model(_positional(model, inputs), training=False))


def _positional(model: Any, inputs: Batch) -> Any:
    values = [inputs[n] for n in input_names(model)]
    return values[0] if len(values) == 1 else values


def _as_list(outputs: Any) -> list[np.ndarray]:
    if isinstance(outputs, dict):
        outputs = [outputs[k] for k in sorted(outputs, key=_output_index)]
    elif not isinstance(outputs, list | tuple):
        outputs = [outputs]
    return [_numpy(o) for o in outputs]


def _numpy(tensor: Any) -> np.ndarray:
    """A backend's tensor as a NumPy array: TensorFlow's and JAX's convert as they are; a
    PyTorch tensor (which may require grad, and live on a GPU) is detached and moved first."""
    import numpy as np

    if hasattr(tensor, "detach") and hasattr(tensor, "cpu"):
        tensor = tensor.detach().cpu()
    return np.asarray(tensor)


def _output_index(name: str) -> tuple[int, str]:
    """`output_10` after `output_2` (the export signatures' output names)."""
    tail = name.rsplit("_", 1)[-1]
    return (int(tail), name) if tail.isdigit() else (0, name)


def _run_keras(path: Path, model: Any, inputs: Batch) -> list[np.ndarray]:
    """The saved model's outputs; a plugin's layer classes given to Keras as the model has
    them (the parity of the numbers is checked here; W801 says how to load such a file)."""
    from archspec.backends.keras.emit import foreign_layers, import_keras

    keras = import_keras()
    objects = {keras.saving.get_registered_name(c): c for c in foreign_layers(model)}
    loaded = keras.saving.load_model(str(path), safe_mode=True, custom_objects=objects)
    return _as_list(loaded(_positional(model, inputs), training=False))


def _run_savedmodel(path: Path, model: Any, inputs: Batch) -> list[np.ndarray]:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    return _as_list(loaded.serve(_positional(model, inputs)))


def _run_tflite(path: Path, model: Any, inputs: Batch) -> list[np.ndarray]:
    import tensorflow as tf

    from archspec.core.files import quiet_stderr

    with warnings.catch_warnings(), quiet_stderr():  # "INFO: Created ... XNNPACK delegate"
        warnings.simplefilter("ignore")  # "tf.lite.Interpreter is deprecated ... LiteRT"
        interpreter = tf.lite.Interpreter(model_path=str(path))
        runner = interpreter.get_signature_runner()
        return _as_list(runner(**_feed(list(runner.get_input_details()), inputs)))


def _run_onnx(path: Path, model: Any, inputs: Batch) -> list[np.ndarray]:
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = _feed([i.name for i in session.get_inputs()], inputs)
    return [np.asarray(o) for o in session.run(None, feed)]


RUNNERS = {
    "keras": _run_keras,
    "savedmodel": _run_savedmodel,
    "tflite": _run_tflite,
    "onnx": _run_onnx,
}
