"""`archspec check`: the static pipeline run over many files, plus `budget:` and `expect:`
(frontend/expect.py).

Each spec goes through loader, schema, resolution and lowering (never TensorFlow). A FileResult
keeps the diagnostics (errors and warnings) and, for a spec that lowered, its graph, so that
every renderer (text, JSON, GitHub, SARIF) reads the same data.
"""

from __future__ import annotations

import dataclasses
import errno
import fnmatch
import gc
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from archspec import app as api
from archspec.core.errors import ArchspecError, Diagnostic, UsageError, usage_error
from archspec.core.limits import Limits
from archspec.frontend.expect import FileResult, evaluate
from archspec.frontend.resolve import Resolved
from archspec.frontend.resolve.params import split_set
from archspec.frontend.zoo import named, resolve_spec
from archspec.ir.graph import Graph

SPEC_SUFFIXES = (".yaml", ".yml")


def find_specs(
    paths: Iterable[str | os.PathLike[str]],
    warnings: list[Diagnostic] | None = None,
    exclude: Sequence[str] = (),
) -> list[Path]:
    """Files as given; folders searched recursively for *.yaml / *.yml (hidden folders and
    files skipped), sorted; a bare zoo name (`resnet50`, `efficientnet_b3`) stays as given, so
    that results are labelled as typed: loading it finds the zoo file or picks the member. A
    path that does not exist, or an empty one, is a usage error (E001).

    A path given here is followed when it is a symlink (the caller asked for it); inside a
    folder nothing is followed or opened: a symlink, FIFO, device or socket is skipped with a
    W101 warning added to `warnings` (a symlink to a file not named *.yaml / *.yml silently).
    `exclude`: patterns (`fnmatch`) of what a folder search leaves out, each matched against an
    entry's name and its path below the folder searched (`configs/*`, `*_train.yaml`)."""
    warn = warnings if warnings is not None else []
    out: list[Path] = []
    for raw in paths:
        name = os.fspath(raw)
        if name == "":  # Path("") is Path("."): it would scan the current folder
            raise usage_error(
                "E001",
                "cannot read an empty path (PATH)",
                hint="give a file or folder; `.` is the current folder",
            )
        try:
            mode = os.stat(name).st_mode
        except FileNotFoundError:
            if os.path.lexists(name):
                raise usage_error("E001", f"dangling symlink: {name}", file=name) from None
            # a zoo network's name (`resnet50`) or a family member's (`efficientnet_b3`), else
            # E001 with a did-you-mean over the zoo
            resolve_spec(name, folders=True)
            out.append(Path(name))
            continue
        except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
            file = name.rstrip("/" + os.sep)  # `spec.yaml/`: a folder that is a file
            if isinstance(e, NotADirectoryError) and file != name and os.path.isfile(file):
                hint = f"name the file without the `/`: {file}"
                raise usage_error(
                    "E001", f"not a folder: {name} ({file} is a file)", hint, name
                ) from None
            raise usage_error("E001", _missing(name, e), file=name) from None
        if stat.S_ISDIR(mode):
            before = len(warn)
            found = sorted(_scan(Path(name), warn, exclude))
            # a folder without specs named like a zoo network (`build resnet50 -o resnet50`
            # wrote a SavedModel): the network (a member by its name, as below); not where the
            # search skipped or was told to leave out something (a link to a spec, a config
            # --exclude names: that is no zoo network's folder)
            plain = not found and len(warn) == before and "/" not in name and os.sep not in name
            plain = plain and not exclude
            if plain and named(name) is not None:
                found = [Path(name)]
            out.extend(found)
        else:  # the loader refuses what is not a regular file, without blocking on a FIFO
            out.append(Path(name))
    seen: set[Path] = set()
    unique = []
    for f in out:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return unique


def _missing(name: str, e: OSError | ValueError) -> str:
    if isinstance(e, OSError) and e.errno == errno.ELOOP:
        return f"symlink loop: {name}"
    if isinstance(e, OSError) and e.errno not in (errno.ENOENT, errno.ENOTDIR):
        return f"cannot read {name}: {e.strerror}"
    return f"no such file or folder: {name}"


def _scan(root: Path, warnings: list[Diagnostic], exclude: Sequence[str] = ()) -> list[Path]:
    """The spec files under `root`, by lstat only: no link followed, no file opened; an entry
    `exclude` matches (find_specs) is left out, a folder with all it holds."""

    skipped: list[Diagnostic] = []

    def skip(path: str, what: str, hint: str | None = None) -> None:
        skipped.append(
            Diagnostic(
                "W101", f"{what}: skipped", file=str(Path(path)), hint=hint, severity="warning"
            )
        )

    found: list[Path] = []
    folders, visited = [str(root)], set()
    while folders:
        folder = folders.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in visited:  # a bind mount of an ancestor
                skip(folder, "folder already searched (mounted inside itself)")
                continue
            visited.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as e:
            skip(folder, f"cannot read folder: {e.strerror}")
            continue
        for entry in entries:
            if entry.name.startswith(".") or _excluded(entry, str(root), exclude):
                continue
            spec_name = os.path.splitext(entry.name)[1].lower() in SPEC_SUFFIXES  # `A.YAML` too
            try:
                if entry.is_symlink():
                    what = _link(entry.path)
                    if spec_name or what != "symlink":
                        hint = _LINK_HINT if what in ("symlink", "symlink to a folder") else None
                        skip(entry.path, f"{what} not followed in a folder search", hint)
                elif entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif not spec_name:
                    continue
                elif entry.is_file(follow_symlinks=False):
                    found.append(Path(entry.path))
                else:
                    mode = entry.stat(follow_symlinks=False).st_mode
                    skip(entry.path, f"{_kind(mode)}, not a regular file")
            except OSError as e:
                skip(entry.path, f"cannot read: {e.strerror}")
    warnings.extend(sorted(skipped, key=lambda d: d.file or ""))
    return found


_LINK_HINT = "give the link's path itself to check what it points to"


def _excluded(entry: os.DirEntry[str], root: str, patterns: Sequence[str]) -> bool:
    """Whether a pattern matches the entry's name or its path below `root` (with `/`), case
    sensitive; a trailing `/` is left out (`configs/` is `configs`, at any depth)."""
    if not patterns:
        return False
    below = Path(os.path.relpath(entry.path, root)).as_posix()
    return any(fnmatch.fnmatchcase(entry.name, p.rstrip("/"))
               or fnmatch.fnmatchcase(below, p.rstrip("/")) for p in patterns)  # fmt: skip


def _link(path: str) -> str:
    """What a symlink leads to, by stat (which opens nothing)."""
    try:
        target = os.stat(path).st_mode
    except OSError as e:
        return "symlink loop" if e.errno == errno.ELOOP else "dangling symlink"
    return "symlink to a folder" if stat.S_ISDIR(target) else "symlink"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "socket" if stat.S_ISSOCK(mode) else "special file"


def check_file(
    path: str | os.PathLike[str] | api.Spec, sets: Sequence[str] = (), limits: Limits | None = None
) -> FileResult:
    """Load, validate, resolve and lower one spec, then apply its budget and expectations: what
    `archspec check` finds, returned, not raised (`archspec.check` in the Python API). `path`
    may be a Spec already loaded (then `sets` must be empty: ValueError), not a Graph (which has
    not the spec's `budget` and `expect`: TypeError)."""
    api.loaded_already(path, sets)
    if isinstance(path, Graph):
        raise TypeError("check() takes a path, a zoo name or a Spec (archspec.load), not a Graph: "
                        "a Graph has not the spec's budget and expect")  # fmt: skip
    result = FileResult(file=path.doc.file if isinstance(path, Resolved) else os.fspath(path))
    try:
        spec = path if isinstance(path, Resolved) else api.load(path, sets=sets, limits=limits)
        graph = api.analyze(spec, limits=limits)
    except ArchspecError as e:
        result.diagnostics = list(e.diagnostics)
        result.exit_code = 2 if isinstance(e, UsageError) else 1
        return result
    result.graph = graph
    result.outputs = dict(zip(spec.outputs, graph.output_shapes.values(), strict=True))
    result.diagnostics = [
        *graph.warnings,
        *evaluate(graph, spec.doc, spec.model, spec.outputs, spec.sets, spec.params),
    ]
    result.exit_code = 0 if result.ok else 1
    return result


def run(
    paths: Iterable[str | os.PathLike[str]],
    sets: Sequence[str] = (),
    limits: Limits | None = None,
    *,
    short_lived: bool = False,
    exclude: Sequence[str] = (),
    strict: bool = False,
) -> list[FileResult]:
    """Check every spec found under `paths` (`limits`: archspec/core/limits.py, default if None).
    A path that does not exist (E001) is one more result, with exit code 2, so that a mistyped
    path does not hide the others' report (a SARIF file for CI). Raises UsageError where no
    spec is found and no path is wrong: folders without specs.

    `short_lived`: the caller is a process that ends soon after (the CLI); the objects alive so
    far are frozen for good and the cyclic garbage collector is paused while checking.
    `exclude`: what folder searches leave out (find_specs); `strict`: every warning of a spec
    is an error (`--strict`), so that a spec with one is invalid (W101, what the folder search
    skipped, is no spec's and stays a warning)."""
    for item in sets:  # a --set that is not NAME=VALUE: once, not once per file
        split_set(item)
    skipped: list[Diagnostic] = []  # W101: what the folder search skipped
    given = [os.fspath(p) for p in paths]
    found: dict[Path | str, FileResult | None] = {}  # a file to check, or a path's error
    members: set[tuple[Path, str | None]] = set()  # `efficientnet_b3` and `EfficientNetB3`: one
    for name in given:
        try:
            for f in find_specs([name], skipped, exclude):
                # a zoo name (not a file of that name; a SavedModel folder of it is no spec)
                member = named(f.name) if not f.suffix and not os.path.isfile(f) else None
                if member is None or member not in members:
                    found.setdefault(f, None)
                    members.update([member] if member else [])
        except UsageError as e:  # `./x.yaml` and `x.yaml` are one path
            key = os.path.normpath(name) if name else name
            found.setdefault(key, FileResult(name, list(e.diagnostics), exit_code=2, found=False))
    if not found:  # only folders were given, and none holds a spec
        hint = "give files, or folders with *.yaml / *.yml"
        searched = ", ".join(given[:3]) + (f" and {len(given) - 3} more" if len(given) > 3 else "")
        raise UsageError([*skipped, Diagnostic("E001", f"no spec files found in {searched}",
                                               hint=hint)])  # fmt: skip

    def each() -> list[FileResult]:
        results = [r or check_file(f, sets, limits) for f, r in found.items()]
        return _report_skipped([_strict(r) for r in results] if strict else results, skipped)

    if not short_lived:
        return each()
    # A short-lived process: the objects that importing pydantic and the block models created
    # live until it ends, and what checking creates is freed by reference counting. Without
    # the cyclic collector's passes over the growing document, the cost stays linear in blocks.
    gc.freeze()
    gc.disable()
    try:
        return each()
    finally:
        gc.enable()  # for callers that run the app in their own process


def _strict(result: FileResult) -> FileResult:
    """`result` with its warnings made errors (`--strict`), invalid where it has one."""
    result.diagnostics = [dataclasses.replace(d, severity="error") for d in result.diagnostics]
    if result.exit_code == 0 and not result.ok:
        result.exit_code = 1
    return result


def _report_skipped(results: list[FileResult], skipped: list[Diagnostic]) -> list[FileResult]:
    """The folder search's warnings go with the first file checked (each names its own path),
    so that every format reports them; a path found twice (`w` and `w/sub`) warns once."""
    if skipped:
        first = next((r for r in results if r.found), results[0])
        first.diagnostics[:0] = list({(d.file, d.message): d for d in skipped}.values())
    return results


def exit_code(results: Sequence[FileResult]) -> int:
    """2 if any file had a usage or I/O problem, else 1 if any is invalid, else 0."""
    return max((r.exit_code for r in results), default=0)
