"""Saving and exporting compiled models atomically, in four formats: `.keras` (Keras 3), a
TensorFlow SavedModel folder, `.tflite` (the TFLite converter) and `.onnx` (Keras's ONNX export,
the `archspec-cnn[onnx]` extra).

Nothing appears at the target until it is complete: every format is written to a temporary
path beside the target (core/files.py), optionally checked against the Keras model
(backends/keras/verify.py) while it is still there, then renamed into place.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archspec.backends.keras import backend as backends
from archspec.backends.keras import memory
from archspec.backends.keras.emit import deep_recursion, foreign_layers, import_keras
from archspec.core.errors import ArchspecError, Diagnostic, usage_error
from archspec.core.files import (
    FORCE_HINT,
    clean_leftovers,
    commit,
    disk_size,
    name_fits,
    names_a_file,
    quiet_stderr,
    remove,
    sync,
    temp_path,
    terminated_cleanly,
)
from archspec.core.limits import BYTES_PER_ELEMENT, TOLERANCE
from archspec.core.units import Shape, compact, parity_text
from archspec.ir.graph import Graph

#: Format name -> the suffix that selects it ("" for a folder: a path without a suffix).
FORMATS: dict[str, str] = {
    "keras": ".keras",
    "savedmodel": "",
    "tflite": ".tflite",
    "onnx": ".onnx",
}
LABELS: dict[str, str] = {
    "keras": "Keras",
    "savedmodel": "SavedModel",
    "tflite": "TFLite",
    "onnx": "ONNX",
}
REFUSED = {".h5": "the legacy HDF5 format is not supported; save as .keras",
           ".hdf5": "the legacy HDF5 format is not supported; save as .keras"}  # fmt: skip
#: Python modules each format needs beyond TensorFlow and Keras: (to write, to verify).
EXTRAS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "onnx": (("tf2onnx", "onnx"), ("onnxruntime",)),
}
#: the same on another backend than TensorFlow: (format, backend) -> (to write, to verify)
BACKEND_EXTRAS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("onnx", "torch"): (("onnx",), ("onnxruntime",)),
}
ONNX_HINT = "install the extra: pip install 'archspec-cnn[onnx]' (tf2onnx, onnx, onnxruntime)"
#: what to do where Keras's ONNX export (tf2onnx, on TensorFlow) breaks a model
ONNX_OTHER = "export .tflite, a SavedModel or .keras instead, which keep these layers"


def check_onnx(graph: Graph, path: str | os.PathLike[str]) -> None:
    """E004 (exit 2, before Keras is imported) for a model with layers Keras's ONNX export on
    TensorFlow writes wrong, with the exit status 0 it gives: a Normalization layer's mean and
    variance become inputs of the ONNX graph, and a grouped Conv2D (ConvNeXt's per-channel
    conv) stays a function call onnxruntime refuses to load. tests/test_export.py checks
    that plain Keras still does so, and that every other layer exports."""
    from archspec.blocks.layers.conv import Conv2D
    from archspec.blocks.layers.normalization import Normalization

    broken: dict[str, list[str]] = {}
    for node in graph.nodes.values():
        if isinstance(node.op, Normalization):
            broken.setdefault("Normalization (its mean and variance become inputs of the "
                              "ONNX graph)", []).append(node.name)  # fmt: skip
        elif isinstance(node.op, Conv2D) and node.op.groups > 1:
            broken.setdefault("grouped Conv2D (a call onnxruntime cannot load)",
                              []).append(node.name)  # fmt: skip
    if not broken:
        return
    what = "; ".join(f"{kind}: `{'`, `'.join(names[:3])}`"
                     + (f" and {len(names) - 3} more" if len(names) > 3 else "")
                     for kind, names in broken.items())  # fmt: skip
    raise usage_error(
        "E004",
        f"cannot write {path}: Keras's ONNX export (tf2onnx) writes these layers of "
        f"`{graph.name}` wrong, though it reports success: {what}",
        hint=ONNX_OTHER,
    )


Status = Callable[[str], AbstractContextManager[Any]]


@dataclass(frozen=True)
class Target:
    """Where to write, and in which format."""

    path: Path
    format: str
    #: what check_target cleaned up of interrupted saves (clean_leftovers), for the user
    cleaned: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.format]


@dataclass
class Saved:
    """What `export` did: the target, the parity check (if asked) and what it cleaned up."""

    target: Target
    size: int
    max_abs_diff: float | None = None
    #: the largest of each output's difference relative to its magnitude where that is over
    #: 1 (what the tolerance holds: verify.measure)
    relative_diff: float | None = None
    cleaned: list[str] = field(default_factory=list)
    #: what the user should know about the saved file (W801: a plugin's layer classes)
    warnings: list[Diagnostic] = field(default_factory=list)


def format_of(path: Path, fmt: str | None = None) -> str:
    """The format for `path`: `fmt` if given (it must agree with a known suffix), else from
    the suffix (none: a SavedModel folder). Raises UsageError (exit 2)."""
    suffix = path.suffix.lower()
    if path.name.lower().endswith(".weights.h5"):  # Keras 3's weights file, not legacy HDF5
        raise usage_error(
            "E002", f"cannot write {path}: `build` writes whole models, not weights alone",
            hint=f"save as {path.name[: -len('.weights.h5')] or 'model'}.keras: it holds the "
            "weights, and `--weights` reads a .keras file as it reads a .weights.h5",
        )  # fmt: skip
    if suffix in REFUSED:
        raise usage_error("E002", f"cannot write {path}: {REFUSED[suffix]}")
    known = {s: f for f, s in FORMATS.items() if s}
    if fmt is not None:
        if fmt not in FORMATS:
            raise usage_error(
                "E003",
                f"unknown format {fmt!r}",
                hint="choose one of: " + ", ".join(FORMATS),
            )
        if suffix in known and known[suffix] != fmt:
            raise usage_error(
                "E002",
                f"cannot write {path} as {fmt}: its suffix says {known[suffix]}",
                hint=f"drop --format or change the suffix to {FORMATS[fmt] or 'none'}",
            )
        if fmt == "keras" and suffix != ".keras":
            raise usage_error(
                "E002", f"cannot write {path} as keras: Keras needs the suffix .keras"
            )
    found = fmt or known.get(suffix)
    if found == "keras" and path.suffix != ".keras":  # v.KERAS: keras.saving.load_model refuses
        raise usage_error(
            "E002", f"cannot write {path}: Keras loads a model only from a lower-case .keras",
            hint=f"name it {path.with_suffix('.keras').name}",
        )  # fmt: skip
    if found is not None:
        return found
    if suffix == "":
        return "savedmodel"
    raise usage_error(
        "E002",
        f"cannot tell the format of {path} from its suffix",
        hint="use .keras, .tflite, .onnx, a folder name without a suffix (SavedModel), or --format",
    )


def check_target(
    path: str | os.PathLike[str],
    force: bool,
    fmt: str | None = None,
    verify: bool = False,
    backend: str | None = None,
) -> Target:
    """Fail (exit 2) before anything is built if `path` cannot be written, if the Keras backend
    the model is built on (`backend`; default: the one of the Keras imported in this process,
    else backend.choose's) cannot write the format (E004), or if the format's optional
    dependencies are missing. Never imports Keras."""
    if os.fspath(path) == "":
        raise usage_error(
            "E002", "cannot write an empty path", hint="name the model: -o model.keras"
        )
    target = Path(path)
    if target.name in ("", ".", ".."):  # `-o .`, `-o ..`, `-o /`, `-o out/..`
        raise usage_error(
            "E002",
            f"cannot write {path}: it names a folder in use, not a new file or folder",
            hint="name the model: -o model.keras, or -o out/model for a SavedModel folder",
        )
    format_ = format_of(target, fmt)
    if format_ != "savedmodel":  # a SavedModel is a folder: `-o out/model/` is fine
        names_a_file(path, f"{'an' if format_ == 'onnx' else 'a'} {LABELS[format_]} model")
    name = backend or backends.loaded() or backends.choose()
    backends.check_export(format_, LABELS[format_], name, path)
    needs = BACKEND_EXTRAS.get((format_, name)) or EXTRAS.get(format_, ((), ()))
    missing = [m for m in needs[0] + (needs[1] if verify else ()) if not _importable(m)]
    if missing:
        raise usage_error(
            "E002",
            f"cannot write {path}: {LABELS[format_]} export needs "
            + ", ".join(missing)
            + " (not installed)",
            hint=ONNX_HINT if format_ == "onnx" and name == "tensorflow" else None,
        )
    name_fits(target)
    folder = target.parent
    if not folder.is_dir():
        what = "does not exist (it is a file)" if folder.exists() else "does not exist"
        raise usage_error("E002", f"cannot write {path}: folder {folder} {what}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise usage_error("E002", f"cannot write {path}: folder {folder} is not writable")
    _probe(folder, target)
    cleaned = clean_leftovers(target)  # a target an interrupted save set aside is back
    if target.is_dir() and not target.is_symlink():
        _check_folder_target(target, format_)
    if os.path.lexists(target) and not force:
        restored = "".join(f"{c}; " for c in cleaned if c.startswith("restored"))
        raise usage_error("E002", f"{path} exists", hint=restored + FORCE_HINT)
    return Target(target, format_, cleaned)


def _probe(folder: Path, target: Path) -> None:
    """E002 now, not after the build, where no file can be made in `folder` (os.access says
    yes to root on a read-only mount, and to /proc)."""
    import tempfile

    try:  # unnamed where it can be (O_TMPFILE): a kill leaves nothing behind
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise usage_error("E002", f"cannot write {target}: cannot create a file in {folder}: "
                          f"{e.strerror or e}") from None  # fmt: skip


def _check_folder_target(target: Path, format_: str) -> None:
    """An existing folder is replaced (with --force) only by a SavedModel, and only if it is
    one (or empty): a file format never replaces a folder, and no model replaces a folder of
    other files (`-o src --force` would delete them)."""
    if format_ != "savedmodel":
        raise usage_error(
            "E002",
            f"cannot write {target}: it is a folder, and a {LABELS[format_]} model is a file",
            hint="choose another name, or remove the folder first",
        )
    try:
        names = set(os.listdir(target))
    except OSError as e:
        raise usage_error("E002", f"cannot write {target}: {e.strerror or e}") from None
    if names and "saved_model.pb" not in names:
        raise usage_error(
            "E002",
            f"cannot write {target}: it is a folder that is not a SavedModel (no "
            "saved_model.pb), and --force replaces only a SavedModel",
            hint="choose another name, or remove the folder first",
        )


def export(
    model: Any,
    target: Target,
    *,
    force: bool = False,
    verify: bool = False,
    tolerance: float = TOLERANCE,
    status: Status | None = None,
    reference: Any = None,
    shapes: dict[str, Shape] | None = None,
) -> Saved:
    """Write `model` to `target` atomically; with `verify`, first run the same random batch
    through the model and the written artefact and refuse (exit 1, nothing left behind) if
    they differ by more than `tolerance` (`reference`: verify.reference(model), to reuse one
    batch and the Keras model's outputs across formats). `shapes` are the input shapes to run
    the model at where its inputs have an unknown size (verify.run_shapes)."""
    stage = status or (lambda _message: nullcontext())
    check_memory(model, target, verify)
    cleaned = target.cleaned + clean_leftovers(target.path)
    tmp = temp_path(target.path, "tmp", FORMATS[target.format] or ".savedmodel")
    # SIGTERM removes `tmp` as Ctrl-C does; Keras's graph walks get the recursion they need
    with terminated_cleanly() as pending, deep_recursion(len(model.layers)):
        try:
            with stage(f"writing {target.label} {target.path}"):
                _write(model, tmp, target.format, stage, shapes)
                sync(tmp)
            if target.format == "onnx":
                _check_onnx_file(model, tmp, target.path)
            pending.check()  # a signal the converter swallowed: no verify with signals ignored
            saved = Saved(target, disk_size(tmp), cleaned=cleaned)
            if verify:
                from archspec.backends.keras import verify as parity

                with stage(f"verifying {target.path}"):
                    ref = reference or parity.reference(model, shapes=shapes)
                    measured = parity.measure(model, tmp, target.format, ref=ref)
                saved.max_abs_diff, saved.relative_diff = measured
                if not saved.relative_diff <= tolerance:
                    raise ArchspecError(
                        Diagnostic(
                            code="E801",
                            message=f"{target.label} export of {target.path} differs from the "
                            f"Keras model: {parity_text(*measured)} > tolerance {tolerance:g}; "
                            "nothing was written",
                            file=str(target.path),
                            hint="raise --tolerance (in Python: tolerance=...) if this "
                            "precision is expected",
                        )
                    )
                moved = parity.variation(ref[1])
                if moved <= tolerance:
                    saved.warnings.append(_unvarying(target.path, moved, tolerance))
            pending.check()  # a signal Keras's own code swallowed: nothing is written
            commit(tmp, target.path, force)
            if target.format == "keras":
                saved.warnings += foreign_classes(model, target.path)
            return saved
        except Exception as e:
            if _out_of_memory(e):
                raise usage_error(
                    "E804",
                    f"ran out of memory writing {target.path}"
                    + (" or verifying it" if verify else "")
                    + "; nothing was written",
                    hint="free memory or use a larger machine",
                ) from e
            reason = _io_failure(e)
            if reason is None:
                raise
            raise usage_error("E002", f"cannot write {target.path}: {reason}") from e
        finally:
            remove(tmp)


def _unvarying(path: Path, moved: float, tolerance: float) -> Diagnostic:
    """W802: --verify's outputs changed over its random batch by no more than the tolerance (a
    classifier's softmax with fresh weights gives about 1 / classes for every input), so a
    file of the right shapes and any weights would have passed."""
    return Diagnostic(
        code="W802",
        message=f"the outputs --verify compared for {path} change by at most {moved:.2g} from "
        f"one random input to the other, within the tolerance ({tolerance:g}): a file with the "
        "right shapes would have passed, so the check proved little",
        file=str(path),
        hint="verify a model with trained weights (--weights), or compare its features: "
        "a fresh classifier's softmax is about 1 / classes for every input",
        severity="warning",
    )


def foreign_classes(model: Any, path: Path) -> list[Diagnostic]:
    """W801 where `model` has layers whose classes are not Keras's own (a plugin op's layer):
    a `.keras` file names each layer's class, and `keras.saving.load_model` in a process that
    does not know the class fails ("Could not locate class"). Names the layers and classes,
    and how to load the file."""
    foreign = foreign_layers(model)
    if not foreign:
        return []
    keras = import_keras()  # the model's, imported by then

    def shown(cls: type, names: list[str]) -> str:
        layers = ", ".join(f"`{n}`" for n in names[:SHOWN_LAYERS])
        more = len(names) - SHOWN_LAYERS
        return f"{cls.__module__}.{cls.__qualname__} ({layers}{f' and {more} more' * (more > 0)})"

    registered = [c for c in foreign if keras.saving.get_registered_object(
        keras.saving.get_registered_name(c)) is c]  # fmt: skip
    unregistered = [c for c in foreign if c not in registered]
    modules = ", ".join(dict.fromkeys(c.__module__ for c in foreign))
    hint = f"import {modules} before keras.saving.load_model"
    if unregistered:
        objects = ", ".join(f'"{c.__name__}": {c.__name__}' for c in unregistered)
        hint = (f"register the class{'es' * (len(unregistered) > 1)} with "
                "@keras.saving.register_keras_serializable() in the plugin and " + hint
                + f", or pass custom_objects: keras.saving.load_model({str(path)!r}, "
                f"custom_objects={{{objects}}})")  # fmt: skip
    return [Diagnostic(
        code="W801",
        message=f"{path} holds layers whose classes are not Keras's own (a plugin's): "
        + "; ".join(shown(c, n) for c, n in foreign.items())
        + ": keras.saving.load_model can load it only where these classes are known (in a "
        "process without them: \"Could not locate class\")",
        file=str(path),
        hint=hint,
        severity="warning",
    )]  # fmt: skip


#: how many layers of one class W801 names
SHOWN_LAYERS = 3


def check_memory(model: Any, target: Target, verify: bool) -> None:
    """E804 (exit 2) before writing where the format's converter (and, with `verify`, the
    reloaded artefact) needs more memory than is available (backends/keras/memory.py)."""
    copies = memory.EXPORT_COPIES[target.format] + (memory.BUILD_COPIES if verify else 0)
    weights = BYTES_PER_ELEMENT * int(model.count_params())
    if copies:
        memory.check(
            copies * weights,
            f"writing {target.label} {target.path}" + (" and verifying it" if verify else ""),
            f"{compact(weights, True)} of float32 weights, {copies} more times over",
        )


# --- writing each format ---------------------------------------------------------------------


def _write(
    model: Any, tmp: Path, fmt: str, stage: Status, shapes: dict[str, Shape] | None = None
) -> None:
    if fmt == "keras":
        model.save(str(tmp))
    elif fmt == "savedmodel":
        model.export(str(tmp), format="tf_saved_model", verbose=False)
    elif fmt == "tflite":
        _write_tflite(model, tmp, stage)
    elif fmt == "onnx":
        if not getattr(model, "_called", True):  # Keras's ONNX export refuses uncalled models
            from archspec.backends.keras.verify import random_batch, run_keras

            run_keras(model, random_batch(model, 1, 0, shapes))
        with warnings.catch_warnings(), quiet_stderr():
            warnings.simplefilter("ignore")  # tf2onnx's numpy-2 shims warn (np.object)
            model.export(str(tmp), format="onnx", verbose=False)
    else:  # pragma: no cover - format_of admits only the above
        raise ValueError(f"unknown format {fmt!r}")


def _check_onnx_file(model: Any, tmp: Path, target: Path) -> None:
    """E806 (nothing written) for an ONNX file whose graph has other inputs than the model, or
    that onnxruntime (where installed) cannot load: what the exporter gets wrong beyond the
    layers check_onnx knows, which it reports as a success."""
    import onnx

    from archspec.backends.keras.verify import input_names

    graph = onnx.load(str(tmp), load_external_data=False).graph
    made = {i.name for i in graph.initializer}
    inputs = [i.name for i in graph.input if i.name not in made]
    wanted = input_names(model)
    problem = None
    if len(inputs) != len(wanted):
        extra = [n for n in inputs if n not in wanted]
        problem = (f"its graph has the inputs {_names(inputs)}, the model {_names(wanted)}"
                   + (f": the exporter made {_names(extra)} inputs" if extra else ""))  # fmt: skip
    elif _importable("onnxruntime"):
        import onnxruntime as ort

        try:
            ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime's own exception types
            problem = "onnxruntime cannot load it: " + " ".join(str(e).split())[:300]
    if problem is not None:
        raise ArchspecError(Diagnostic(
            code="E806",
            message=f"the ONNX export of {target} is broken ({problem}); nothing was written",
            file=str(target), hint=ONNX_OTHER))  # fmt: skip


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _write_tflite(model: Any, tmp: Path, stage: Status) -> None:
    """The TFLite converter from the Keras model (it traces the model through a SavedModel in
    the system's temporary folder; 30 % less CPU than exporting a SavedModel first)."""
    import tensorflow as tf

    with stage("converting to TFLite"), quiet_stderr(), contextlib.redirect_stdout(io.StringIO()):
        data = tf.lite.TFLiteConverter.from_keras_model(model).convert()  # prints endpoints
    with open(tmp, "wb") as f:
        f.write(data)


def _out_of_memory(e: BaseException) -> bool:
    """Whether `e` is Python's or TensorFlow's out-of-memory error (not a full disk)."""
    if isinstance(e, MemoryError):
        return True
    message = str(getattr(e, "message", e))
    if type(e).__name__ == "OutOfMemoryError" or (  # PyTorch's; JAX's (XLA's)
        type(e).__name__ == "XlaRuntimeError" and "RESOURCE_EXHAUSTED" in message
    ):
        return True
    return type(e).__name__ == "ResourceExhaustedError" and (
        "OOM" in message or "alloc" in message.lower()
    )


def _io_failure(e: BaseException) -> str | None:
    """Why writing failed, if `e` is an I/O error (Python's, or TensorFlow's file system
    errors); None for anything else (a bug, reported as one)."""
    if isinstance(e, OSError):
        return e.strerror or str(e)
    io_errors = ("NotFoundError", "PermissionDeniedError", "ResourceExhaustedError")
    if type(e).__module__.startswith("tensorflow") and type(e).__name__ in io_errors:
        message = str(getattr(e, "message", e))
        return message.rsplit("; ", 1)[-1] if "; " in message else message
    return None


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
