"""Memory a build needs, estimated before Keras allocates, and what the process may still use.

`archspec check` bounds what a spec asks for (core/limits.py); whether a model within those
limits fits depends on the machine. `build` therefore estimates, before TensorFlow is imported
and before each allocation-heavy stage (building the model, running it at its run size, each
export), what the stage needs, compares it with what is available, and refuses (E804, exit 2)
where it does not fit, instead of failing minutes later (or being killed).

The estimates are measured, not exact (see the constants); what is available is the tightest of
the machine's available memory (MemAvailable), the memory cgroup's limit (containers) and the
process's address-space limit (RLIMIT_AS). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

from archspec.core.errors import Diagnostic, UsageError
from archspec.core.limits import BYTES_PER_ELEMENT
from archspec.core.units import compact

#: resident memory TensorFlow and Keras take once imported (measured: 0.57 GB)
TF_RESIDENT = 640 << 20
#: address space TensorFlow maps beyond that at import (measured: 1.0 GB mapped in all), which
#: RLIMIT_AS counts
TF_MAPPED = 512 << 20
#: a model's float32 weights, this many times over at the peak of building it (the
#: initializers' outputs, the variables, TensorFlow's copies; measured: 3.0 x for 262 M params)
BUILD_COPIES = 3
#: further copies of the weights while writing each format (`.keras` writes variable by
#: variable; a SavedModel serialises them once; the TFLite and ONNX converters freeze them into
#: a graph, optimise it and serialise it)
EXPORT_COPIES = {"keras": 0, "savedmodel": 1, "tflite": 3, "onnx": 3}

UNLIMITED = 1 << 62


def tensorflow_loaded() -> bool:
    return "tensorflow" in sys.modules or "keras" in sys.modules


def build_bytes(params: int) -> int:
    """What building a model of `params` parameters needs, TensorFlow's import included where
    it has not happened yet."""
    base = 0 if tensorflow_loaded() else TF_RESIDENT
    return base + BUILD_COPIES * BYTES_PER_ELEMENT * params


def available() -> tuple[int, str] | None:
    """(bytes, where that figure comes from): the least of what the machine, the cgroup and the
    address-space limit leave; None where none is known."""
    found = [a for a in (_meminfo(), _cgroup(), _address_space()) if a is not None]
    return min(found) if found else None


def check(needed: int, what: str, detail: str, hint: str | None = None) -> None:
    """E804 (exit 2) if `needed` bytes (for `what`: "building `resnet`") exceed what is
    available; `detail` says how the estimate is made up."""
    have = available()
    if have is None or needed <= have[0]:
        return
    raise UsageError(
        Diagnostic(
            code="E804",
            message=f"{what} needs about {compact(needed, True)} of memory ({detail}); "
            f"{compact(have[0], True)} is available ({have[1]}), so it was not started",
            hint=hint
            or "free memory or use a larger machine; a smaller model (fewer filters or units) "
            "needs less, and --max-params makes `check` refuse such specs",
        )
    )


# --- what is available ---------------------------------------------------------------------


def _meminfo() -> tuple[int, str] | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024, "MemAvailable"
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return (pages, "free physical memory") if pages > 0 else None


def _cgroup() -> tuple[int, str] | None:
    """The memory cgroup's limit less its usage (reclaimable page cache counted as free)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    root = Path("/sys/fs/cgroup")
    for line in lines:
        _id, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if controllers == "":  # v2
            names = ("memory.max", "memory.current", "inactive_file")
            folders = [root / rel, root / "unified" / rel, root]
        elif "memory" in controllers.split(","):  # v1
            names = ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
            folders = [root / "memory" / rel, root / "memory"]
        else:
            continue
        for folder in folders:
            got = _cgroup_free(folder, *names)
            if got is not None:
                return got, f"the memory cgroup's limit, {folder / names[0]}"
    return None


def _cgroup_free(folder: Path, limit_name: str, usage_name: str, cache: str) -> int | None:
    try:
        text = (folder / limit_name).read_text().strip()
        usage = int((folder / usage_name).read_text())
    except (OSError, ValueError):
        return None
    if text == "max" or not text.isdigit() or int(text) >= UNLIMITED:
        return None
    inactive = 0
    try:
        for line in (folder / "memory.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == cache:
                inactive = int(value)
    except (OSError, ValueError):
        pass
    return max(int(text) - usage + inactive, 0)


def _address_space() -> tuple[int, str] | None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    mapped = 0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                mapped = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if not tensorflow_loaded():
        mapped += TF_MAPPED
    return max(soft - mapped, 0), f"the address-space limit RLIMIT_AS of {compact(soft, True)}"
