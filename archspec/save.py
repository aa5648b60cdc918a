"""Saving compiled models atomically: nothing appears at the target until it is complete, and
an existing target is kept unless `force` is given."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from archspec.errors import usage_error

FORMATS = {".keras": "keras"}
REFUSED = {".h5": "the legacy HDF5 format is not supported; save as .keras",
           ".hdf5": "the legacy HDF5 format is not supported; save as .keras"}  # fmt: skip


def check_target(path: str, force: bool) -> Path:
    """Fail (exit 2) before anything is built if `path` cannot be written."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix in REFUSED:
        raise usage_error("E002", f"cannot write {path}: {REFUSED[suffix]}")
    if suffix not in FORMATS:
        raise usage_error(
            "E002",
            f"cannot tell the format of {path} from its suffix",
            hint="supported: " + ", ".join(FORMATS),
        )
    folder = target.parent
    if not folder.is_dir():
        raise usage_error("E002", f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise usage_error("E002", f"cannot write {path}: folder {folder} is not writable")
    if target.exists() and not force:
        raise usage_error("E002", f"{path} exists", hint="pass --force to replace it")
    return target


def save_keras(model: Any, target: Path) -> None:
    """model.save to a temporary file beside the target, then rename it into place."""
    tmp = target.with_name(f".{target.stem}.archspec-tmp-{os.getpid()}.keras")
    try:
        model.save(tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
