"""Keras 3's backends: which one builds the model (TensorFlow, JAX or PyTorch), whether it is
installed, and what it can export. Keras fixes its backend when it is first imported (from
KERAS_BACKEND), so the choice is made here, before: `emit.import_keras(backend)` sets
KERAS_BACKEND, and refuses a backend other than the one a Keras already imported in this process
runs on. Nothing here imports Keras, TensorFlow, JAX or PyTorch: it looks (importlib.util)."""

from __future__ import annotations

import importlib.util
import os
import sys

from archspec.core.errors import usage_error

#: the backends archspec builds on, in the order the messages list them; the first is the default
BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT = BACKENDS[0]
#: the modules each backend needs, Keras included
MODULES: dict[str, tuple[str, ...]] = {
    "tensorflow": ("keras", "tensorflow"),
    "jax": ("keras", "jax"),
    "torch": ("keras", "torch"),
}
#: the pyproject extra that installs each backend (`keras`: Keras with TensorFlow)
EXTRAS = {"tensorflow": "keras", "jax": "jax", "torch": "torch"}
#: the export formats each backend writes (save.FORMATS' names): `.keras` everywhere;
#: SavedModel and TFLite are TensorFlow's own; ONNX through tf2onnx on TensorFlow, through
#: torch.onnx on PyTorch (Keras's JAX route needs jax2onnx, which archspec does not install)
EXPORTS: dict[str, tuple[str, ...]] = {
    "tensorflow": ("keras", "savedmodel", "tflite", "onnx"),
    "jax": ("keras",),
    "torch": ("keras", "onnx"),
}
NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


def choose(backend: str | None = None) -> str:
    """The backend to build on: `backend` if given, else KERAS_BACKEND where set, else
    TensorFlow. E003 (exit 2) for a name that is none of BACKENDS, listing them."""
    source = "--backend"
    if backend is None:
        backend, source = os.environ.get("KERAS_BACKEND") or DEFAULT, "KERAS_BACKEND"
    name = backend.strip().lower()
    if name not in BACKENDS:
        raise usage_error(
            "E003",
            f"unknown backend {backend!r} ({source})",
            hint="choose one of: " + ", ".join(BACKENDS),
        )
    return name


def install_command(backend: str) -> str:
    return f"pip install 'archspec-cnn[{EXTRAS[backend]}]'"


def missing(backend: str) -> list[str]:
    """The modules `backend` needs that are not installed (looks, does not import)."""
    try:
        return [m for m in MODULES[backend] if importlib.util.find_spec(m) is None]
    except (ImportError, ValueError):  # a broken or blocked installation
        return [MODULES[backend][-1]]


def require(backend: str) -> None:
    """E005 (exit 2), naming the pip command, where `backend` (or Keras) is not installed."""
    absent = missing(backend)
    if not absent:
        return
    if backend == DEFAULT:
        message = "building a Keras model needs TensorFlow and Keras, which are not installed"
    else:
        message = f"building on the {backend} backend needs Keras and {NAMES[backend]}, which "
        message += "are not installed"
    raise usage_error(
        "E005",
        f"{message} ({', '.join(absent)} not found)",
        hint=f"install the {EXTRAS[backend]} extra: {install_command(backend)}",
    )


def loaded() -> str | None:
    """The backend of the Keras imported in this process; None where Keras is not imported."""
    keras = sys.modules.get("keras")
    if keras is None:
        return None
    try:
        return str(keras.backend.backend())
    except AttributeError:  # keras half-imported (an import in progress, or one that failed)
        return None


def check_loaded(backend: str) -> None:
    """E003 (exit 2) where Keras is already imported in this process on another backend: Keras
    cannot switch backends once imported."""
    current = loaded()
    if current is not None and current != backend:
        raise usage_error(
            "E003",
            f"cannot build on the {backend} backend: Keras is already imported in this process "
            f"with the {current} backend, and Keras chooses its backend once, when it is imported",
            hint=f"run it in a new process (KERAS_BACKEND={backend}, or --backend {backend} "
            "before anything imports Keras)",
        )


def check_export(fmt: str, label: str, backend: str, path: object) -> None:
    """E004 (exit 2) where `backend` cannot write format `fmt` (`label`: its name), naming the
    formats it writes and the backends that write this one."""
    if fmt in EXPORTS[backend]:
        return
    writers = [b for b in BACKENDS if fmt in EXPORTS[b]]
    raise usage_error(
        "E004",
        f"cannot write {path}: {label} export is not available on the {backend} backend",
        hint=f"on {backend} archspec writes: {', '.join(EXPORTS[backend])}; {label} is "
        f"written on: {', '.join(writers)} (--backend {writers[0]})",
    )
