"""`archspec check`: the static pipeline run over many files, plus `budget:` and `expect:`
(frontend/expect.py).

Each spec goes through loader, schema, resolution and lowering (never TensorFlow). A FileResult
keeps the diagnostics (errors and warnings) and, for a spec that lowered, its graph, so that
every renderer (text, JSON, GitHub, SARIF) reads the same data.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from archspec import app as api
from archspec.core.errors import ArchspecError, UsageError, usage_error
from archspec.core.limits import Limits
from archspec.frontend.expect import FileResult, evaluate

SPEC_SUFFIXES = (".yaml", ".yml")


def find_specs(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given; folders searched recursively for *.yaml / *.yml (hidden folders and
    files skipped), sorted. A path that does not exist is a usage error (E001)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = [
                f
                for f in p.rglob("*")
                if f.suffix in SPEC_SUFFIXES
                and f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            ]
            out.extend(sorted(found))
        elif p.exists():
            out.append(p)
        else:
            raise usage_error("E001", f"no such file or folder: {raw}", file=str(raw))
    seen: set[Path] = set()
    unique = []
    for f in out:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return unique


def check_file(
    path: str | os.PathLike[str], sets: Sequence[str] = (), limits: Limits | None = None
) -> FileResult:
    """Load, validate, resolve and lower one spec, then apply its budget and expectations."""
    result = FileResult(file=os.fspath(path))
    try:
        spec = api.load(path, sets=sets, limits=limits)
        graph = api.analyze(spec)
    except ArchspecError as e:
        result.diagnostics = list(e.diagnostics)
        result.exit_code = 2 if isinstance(e, UsageError) else 1
        return result
    result.graph = graph
    result.outputs = dict(zip(spec.outputs, graph.output_shapes.values(), strict=True))
    result.diagnostics = [*graph.warnings, *evaluate(graph, spec.doc, spec.model, spec.outputs)]
    result.exit_code = 0 if result.ok else 1
    return result


def run(
    paths: Iterable[str | os.PathLike[str]],
    sets: Sequence[str] = (),
    limits: Limits | None = None,
    *,
    short_lived: bool = False,
) -> list[FileResult]:
    """Check every spec found under `paths` (`limits`: archspec/core/limits.py, default if None).
    Raises UsageError if a path does not exist or no spec is found.

    `short_lived`: the caller is a process that ends soon after (the CLI); the objects alive so
    far are frozen for good and the cyclic garbage collector is paused while checking."""
    files = find_specs(paths)
    if not files:
        raise usage_error(
            "E001", "no spec files found", hint="give files, or folders with *.yaml / *.yml"
        )
    if not short_lived:
        return [check_file(f, sets, limits) for f in files]
    # A short-lived process: the objects that importing pydantic and the block models created
    # live until it ends, and what checking creates is freed by reference counting. Without
    # the cyclic collector's passes over the growing document, the cost stays linear in blocks.
    gc.freeze()
    gc.disable()
    try:
        return [check_file(f, sets, limits) for f in files]
    finally:
        gc.enable()  # for callers that run the app in their own process


def exit_code(results: Sequence[FileResult]) -> int:
    """2 if any file had a usage or I/O problem, else 1 if any is invalid, else 0."""
    return max((r.exit_code for r in results), default=0)
