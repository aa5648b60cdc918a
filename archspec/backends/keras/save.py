"""Saving and exporting compiled models atomically, in four formats: `.keras` (Keras 3), a
TensorFlow SavedModel folder, `.tflite` (the TFLite converter) and `.onnx` (Keras's ONNX export,
the `archspec[onnx]` extra).

Nothing appears at the target until it is complete. Every format is written to a temporary
path in the target's folder (`.<name>.archspec-tmp-<pid>-<token><suffix>`), optionally checked
against the Keras model (backends/keras/verify.py) while it is still there, then renamed
into place:

- without `force`: `renameat2(RENAME_NOREPLACE)` on Linux, so that a target created meanwhile
  is not clobbered (elsewhere: check, then rename);
- a file onto a file: `os.replace`, atomic;
- a folder (or a file onto a folder, or a folder onto a file) where a target exists (`force`):
  on Linux `renameat2(RENAME_EXCHANGE)` swaps the two atomically and the old one is deleted
  from the temporary name. Elsewhere the old target is renamed aside
  (`.<name>.archspec-old-<pid>-<token>`), the new one renamed in, the old one deleted. A crash
  between the two renames leaves no target but the old one aside: the next run puts it back.

A kill at any other moment leaves the previous target as it was plus, at worst, a temporary
file or folder; the next save to the same target removes those whose process is dead (and
restores an old target set aside, if the target is missing). A Python exception, Ctrl-C
included, removes the temporary path before it propagates.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import importlib.util
import io
import os
import re
import secrets
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archspec.core.errors import ArchspecError, Diagnostic, usage_error
from archspec.ir.ops import Shape

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
ONNX_HINT = "install the extra: pip install 'archspec[onnx]' (tf2onnx, onnx, onnxruntime)"

Status = Callable[[str], AbstractContextManager[Any]]


@dataclass(frozen=True)
class Target:
    """Where to write, and in which format."""

    path: Path
    format: str

    @property
    def label(self) -> str:
        return LABELS[self.format]


@dataclass
class Saved:
    """What `export` did: the target, the parity check (if asked) and what it cleaned up."""

    target: Target
    size: int
    max_abs_diff: float | None = None
    cleaned: list[str] = field(default_factory=list)


def format_of(path: Path, fmt: str | None = None) -> str:
    """The format for `path`: `fmt` if given (it must agree with a known suffix), else from
    the suffix (none: a SavedModel folder). Raises UsageError (exit 2)."""
    suffix = path.suffix.lower()
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
        return fmt
    if suffix in known:
        return known[suffix]
    if suffix == "":
        return "savedmodel"
    raise usage_error(
        "E002",
        f"cannot tell the format of {path} from its suffix",
        hint="use .keras, .tflite, .onnx, a folder name without a suffix (SavedModel), or --format",
    )


def check_target(
    path: str | os.PathLike[str], force: bool, fmt: str | None = None, verify: bool = False
) -> Target:
    """Fail (exit 2) before anything is built if `path` cannot be written, or if the
    format's optional dependencies are missing."""
    target = Path(path)
    format_ = format_of(target, fmt)
    needs = EXTRAS.get(format_, ((), ()))
    missing = [m for m in needs[0] + (needs[1] if verify else ()) if not _importable(m)]
    if missing:
        raise usage_error(
            "E002",
            f"cannot write {path}: {LABELS[format_]} export needs "
            + ", ".join(missing)
            + " (not installed)",
            hint=ONNX_HINT if format_ == "onnx" else None,
        )
    folder = target.parent
    if not folder.is_dir():
        what = "does not exist (it is a file)" if folder.exists() else "does not exist"
        raise usage_error("E002", f"cannot write {path}: folder {folder} {what}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise usage_error("E002", f"cannot write {path}: folder {folder} is not writable")
    if os.path.lexists(target) and not force:
        raise usage_error("E002", f"{path} exists", hint="pass --force to replace it")
    return Target(target, format_)


def export(
    model: Any,
    target: Target,
    *,
    force: bool = False,
    verify: bool = False,
    tolerance: float = 1e-4,
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
    cleaned = clean_leftovers(target.path)
    tmp = _temp_path(target.path, "tmp", FORMATS[target.format] or ".savedmodel")
    try:
        with stage(f"writing {target.label} {target.path}"):
            _write(model, tmp, target.format, stage, shapes)
            _sync(tmp)
        saved = Saved(target, _size(tmp), cleaned=cleaned)
        if verify:
            from archspec.backends.keras.verify import compare

            with stage(f"verifying {target.path}"):
                saved.max_abs_diff = compare(
                    model, tmp, target.format, ref=reference, shapes=shapes
                )
            if not saved.max_abs_diff <= tolerance:
                raise ArchspecError(
                    Diagnostic(
                        code="E801",
                        message=f"{target.label} export of {target.path} differs from the "
                        f"Keras model: max abs difference {saved.max_abs_diff:.3g} > "
                        f"tolerance {tolerance:g}; nothing was written",
                        file=str(target.path),
                        hint="raise --tolerance if this precision is expected",
                    )
                )
        _commit(tmp, target.path, force)
        return saved
    except Exception as e:
        reason = _io_failure(e)
        if reason is None:
            raise
        raise usage_error("E002", f"cannot write {target.path}: {reason}") from e
    finally:
        _remove(tmp)


def write_file(target: Path, data: bytes, force: bool = True) -> None:
    """Write `data` atomically: a temporary file beside `target`, synced, then renamed into
    place. E002 (exit 2) if the folder is missing, the write fails, or `target` exists and
    `force` is false. Used for diagrams and schemas; models go through `export`."""
    folder = target.parent
    if not folder.is_dir():
        raise usage_error("E002", f"cannot write {target}: folder {folder} does not exist")
    if os.path.lexists(target) and not force:
        raise usage_error("E002", f"{target} exists", hint="pass --force to replace it")
    tmp = _temp_path(target, "tmp")
    try:
        tmp.write_bytes(data)
        _sync(tmp)
        _commit(tmp, target, force)
    except OSError as e:
        raise usage_error("E002", f"cannot write {target}: {e.strerror or e}") from None
    finally:
        _remove(tmp)


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


def _write_tflite(model: Any, tmp: Path, stage: Status) -> None:
    """The TFLite converter from the Keras model (it traces the model through a SavedModel in
    the system's temporary folder; 30 % less CPU than exporting a SavedModel first)."""
    import tensorflow as tf

    with stage("converting to TFLite"), quiet_stderr(), contextlib.redirect_stdout(io.StringIO()):
        data = tf.lite.TFLiteConverter.from_keras_model(model).convert()  # prints endpoints
    with open(tmp, "wb") as f:
        f.write(data)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence what converters print on file descriptor 2 (C++ logs, absl), unless --debug."""
    if "--debug" in sys.argv:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


# --- temporary paths, leftovers, the final rename --------------------------------------------


def _temp_path(target: Path, kind: str, suffix: str = "") -> Path:
    token = secrets.token_hex(4)
    return target.with_name(f".{target.name}.archspec-{kind}-{os.getpid()}-{token}{suffix}")


def _leftover_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(target.name)}\.archspec-(tmp|old)-(\d+)-[0-9a-f]+(\..*)?")


def clean_leftovers(target: Path) -> list[str]:
    """Remove the temporary files and folders of interrupted saves to `target` whose process
    is dead; put back a previous target that was set aside if the target is missing. Returns
    what it removed or restored, for the user."""
    pattern = _leftover_pattern(target)
    done: list[str] = []
    try:
        names = sorted(os.listdir(target.parent))
    except OSError:
        return done
    for name in names:
        m = pattern.fullmatch(name)
        if m is None or _alive(int(m.group(2))):
            continue
        path = target.parent / name
        if m.group(1) == "old" and not os.path.lexists(target):
            os.rename(path, target)
            done.append(f"restored {target} from {name}")
        else:
            _remove(path)
            done.append(f"removed {path}")
    return done


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _commit(tmp: Path, target: Path, force: bool = True) -> None:
    """Rename `tmp` onto `target`, replacing it only with `force` (see the module docstring)."""
    if not force or not os.path.lexists(target):
        # no-clobber where the system can: a target that appeared while we were writing stays
        if not _renameat2(tmp, target, RENAME_NOREPLACE) and not os.path.lexists(target):
            os.rename(tmp, target)
        if os.path.lexists(tmp):
            raise usage_error("E002", f"{target} exists", hint="pass --force to replace it")
    elif not tmp.is_dir() and not (target.is_dir() and not target.is_symlink()):
        os.replace(tmp, target)
    elif _renameat2(tmp, target, RENAME_EXCHANGE):
        pass  # the old target now has the temporary name: the caller's `finally` deletes it
    else:
        aside = _temp_path(target, "old")
        os.rename(target, aside)
        try:
            os.rename(tmp, target)
        except BaseException:
            os.rename(aside, target)
            raise
        _remove(aside)
    _sync_folder(target.parent)


RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2


def _renameat2(a: Path, b: Path, flags: int) -> bool:
    """Linux's renameat2: RENAME_EXCHANGE swaps two paths atomically, RENAME_NOREPLACE renames
    unless `b` exists (EEXIST: returns False, `a` stays). False where the system or the file
    system cannot (the caller falls back to plain renames)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:  # glibc < 2.28, musl
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EEXIST):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _remove(path: Path) -> None:
    """Delete a file or folder tree if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _sync(path: Path) -> None:
    """fsync a written file, or every file and folder of a written tree, so that a rename
    never publishes data still only in memory (power loss)."""
    if path.is_dir():
        for root, _dirs, files in os.walk(path):
            for name in files:
                _fsync(Path(root) / name, os.O_RDONLY)
            _sync_folder(Path(root))
    else:
        _fsync(path, os.O_RDONLY)


def _sync_folder(path: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot fsync a folder
        _fsync(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


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
