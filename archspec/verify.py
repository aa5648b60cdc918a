"""Parity checks: the same random batch through the Keras model and through an exported
artefact reloaded from disk, as a user of that format would load it (`.keras` with
`safe_mode=True`, a SavedModel with `tf.saved_model.load`, the TFLite interpreter, onnxruntime).
Multi-input and multi-output models included: inputs are matched by name, outputs by position.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

BATCH = 2  # > 1, so that the artefact's batch dimension is exercised too
#: the height and width fed where the model leaves them unknown (an input given as `null`)
UNKNOWN_SIZE = 224


Batch = dict[str, np.ndarray]


def reference(model: Any, batch: int = BATCH, seed: int = 0) -> tuple[Batch, list[np.ndarray]]:
    """A random batch (fixed seed) and the Keras model's outputs for it."""
    inputs = random_batch(model, batch, seed)
    return inputs, run_keras(model, inputs)


def compare(
    model: Any, path: Path, fmt: str, *, ref: tuple[Batch, list[np.ndarray]] | None = None
) -> float:
    """The max abs difference over every output between `model` and the artefact at `path`,
    on `ref` (from `reference`; computed here if not given)."""
    inputs, expected = ref if ref is not None else reference(model)
    got = RUNNERS[fmt](path, model, inputs)
    if len(got) != len(expected):
        raise RuntimeError(f"{path}: {len(got)} outputs, the Keras model has {len(expected)}")
    diff = 0.0
    for e, g in zip(expected, got, strict=True):
        g = np.asarray(g)
        if g.shape != e.shape:
            raise RuntimeError(f"{path}: an output of shape {g.shape}, expected {e.shape}")
        diff = max(diff, float(np.max(np.abs(e.astype(np.float64) - g))) if e.size else 0.0)
    return diff


def random_batch(model: Any, batch: int, seed: int) -> Batch:
    """Standard-normal float32 inputs of the model's shapes, by input name (fixed seed); an
    unknown height or width is UNKNOWN_SIZE."""
    rng = np.random.default_rng(seed)
    return {
        name: rng.standard_normal(
            (batch, *(UNKNOWN_SIZE if d is None else d for d in t.shape[1:]))
        ).astype(np.float32)
        for name, t in zip(input_names(model), model.inputs, strict=True)
    }


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
    return [np.asarray(o) for o in outputs]


def _output_index(name: str) -> tuple[int, str]:
    """`output_10` after `output_2` (the export signatures' output names)."""
    tail = name.rsplit("_", 1)[-1]
    return (int(tail), name) if tail.isdigit() else (0, name)


def _run_keras(path: Path, model: Any, inputs: Batch) -> list[np.ndarray]:
    from archspec.emit import import_keras

    loaded = import_keras().saving.load_model(str(path), safe_mode=True)
    return _as_list(loaded(_positional(model, inputs), training=False))


def _run_savedmodel(path: Path, model: Any, inputs: Batch) -> list[np.ndarray]:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    return _as_list(loaded.serve(_positional(model, inputs)))


def _run_tflite(path: Path, model: Any, inputs: Batch) -> list[np.ndarray]:
    import tensorflow as tf

    from archspec.save import quiet_stderr

    with warnings.catch_warnings(), quiet_stderr():  # "INFO: Created ... XNNPACK delegate"
        warnings.simplefilter("ignore")  # "tf.lite.Interpreter is deprecated ... LiteRT"
        interpreter = tf.lite.Interpreter(model_path=str(path))
        runner = interpreter.get_signature_runner()
        return _as_list(runner(**_feed(list(runner.get_input_details()), inputs)))


def _run_onnx(path: Path, model: Any, inputs: Batch) -> list[np.ndarray]:
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
