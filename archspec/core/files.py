"""Files written atomically, and what is left of interrupted writes.

Nothing appears at the target until it is complete. Every format is written to a temporary
path in the target's folder (`.<name>.archspec-tmp-<pid>-<token><suffix>`), optionally checked
(a model against Keras, by backends/keras/save.py) while it is still there, then renamed into
place:

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
included, removes the temporary path before it propagates; so does SIGTERM or SIGHUP, which
`terminated_cleanly` turns into an exception for the duration of a write and delivers again
once the path is removed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from archspec.core.errors import STATE, usage_error

#: the hint of E002 for an output that exists, for the CLI and the Python API
FORCE_HINT = "pass --force (in Python: force=True) to replace it"


def write_file(target: Path, data: bytes, force: bool = True) -> None:
    """Write `data` atomically: a temporary file beside `target`, synced, then renamed into
    place. E002 (exit 2) if the folder is missing, the write fails, `target` is a folder
    (`not_a_folder`; `force` or not), or `target` exists and `force` is false. Used for
    diagrams and schemas; models go through `export`."""
    folder = target.parent
    if not folder.is_dir():
        raise usage_error("E002", f"cannot write {target}: folder {folder} does not exist")
    not_a_folder(target)
    if os.path.lexists(target) and not force:
        raise usage_error("E002", f"{target} exists", hint=FORCE_HINT)
    tmp = temp_path(target, "tmp")
    with terminated_cleanly() as pending:
        try:
            tmp.write_bytes(data)
            sync(tmp)
            pending.check()
            commit(tmp, target, force)
        except OSError as e:
            raise usage_error("E002", f"cannot write {target}: {e.strerror or e}") from None
        finally:
            remove(tmp)


#: how much longer than its target's a temporary name is (temp_path): `.`, `.archspec-tmp-`,
#: a process id of up to 7 digits, `-`, 8 hex digits and a suffix of up to 11 (`.savedmodel`)
TEMP_EXTRA = 1 + 14 + 7 + 1 + 8 + 11


def names_a_file(path: str | os.PathLike[str], what: str) -> None:
    """E002 where `path`, which `what` (`a Keras model`, `a diagram`) is written to as a file,
    ends in `/` or `/.`: that names a folder, and Path drops it (`-o m.keras/` wrote a file
    m.keras, `-o d.svg/.` a file d.svg)."""
    text = os.fspath(path)
    # `d.svg/.` too (Path drops `/.` as it drops `/`); `..` and `sub/..` name folders in use,
    # refused as such (not_a_folder)
    end = re.search(r"(?:[/\\]\.?)+\Z" if os.sep == "\\" else r"(?:/\.?)+\Z", text)
    if end and os.path.basename(text[: end.start()]) not in ("", ".", ".."):
        ending = end.group()
        raise usage_error("E002", f"cannot write {text}: a path that ends in `{ending}` names a "
                          f"folder, and {what} is a file", hint=f"leave the `{ending}` out: "
                          + text[: end.start()])  # fmt: skip


def name_fits(target: Path) -> None:
    """E002 where the file system would refuse `target`'s name or its temporary name beside it
    (most take 255 bytes), said before anything is built or written."""
    folder = target.parent if target.parent.is_dir() else Path(".")
    try:
        most = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        most = 255
    size = len(os.fsencode(target.name))
    if size + TEMP_EXTRA > most:
        raise usage_error("E002", f"cannot write {target}: its name is {size:,} bytes, at "
                          f"most {most - TEMP_EXTRA} here (the file system takes {most}, and "
                          f"the temporary file written first has a name {TEMP_EXTRA} longer)",
                          hint="use a shorter file name")  # fmt: skip
    try:
        os.lstat(target)
    except OSError as e:  # the whole path too long
        if e.errno == errno.ENAMETOOLONG:
            raise usage_error("E002", f"cannot write {target}: {e.strerror}",
                              hint="use a shorter file name") from None  # fmt: skip


def not_a_folder(target: Path, example: str = "") -> None:
    """E002 where `target` is a folder: a written file never replaces one (`commit` would,
    as a SavedModel folder is replaced with --force), or where its name is too long.
    `example`: a file name for the hint."""
    name_fits(target)
    if target.is_dir():
        raise usage_error("E002", f"cannot write {target}: it is a folder",
                          hint="name a file" + (f", for example {target / example}" if example
                                                else " (a folder is never replaced)"))  # fmt: skip


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) arrived while a temporary path existed: raised like Ctrl-C's
    KeyboardInterrupt so that the same `finally` removes the temporary path, then the signal
    is delivered again (terminated_cleanly)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: the signals that end a process by default and that a save outlives long enough to clean up
#: (SIGKILL cannot be caught: the next save removes what it leaves)
TERMINATING = (signal.SIGTERM, signal.SIGHUP)


class Pending:
    """The signal `terminated_cleanly` received, if any: Python drops an exception raised
    inside a garbage-collection callback or `__del__` (TensorFlow runs some), and a converter
    may wrap it in its own; `check` before the final rename raises it again, so that a signal
    swallowed on the way never lets the target be written."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def check(self) -> None:
        if self.signum is not None:
            raise Terminated(self.signum)


@contextlib.contextmanager
def terminated_cleanly() -> Iterator[Pending]:
    """While a temporary path exists: SIGTERM and SIGHUP raise Terminated (a KeyboardInterrupt)
    in the main thread, so the caller's `finally` removes the path as after Ctrl-C; on the way
    out the signal's previous handling is restored and the signal sent again, so the process
    ends as it would have (killed by SIGTERM, or the previous Python handler runs), whatever
    became of the exception on the way (`Pending`). A signal that was ignored stays ignored;
    outside the main thread nothing changes (Python's signal handlers run only there)."""
    pending = Pending()
    if threading.current_thread() is not threading.main_thread():
        yield pending
        return
    previous: dict[int, Any] = {}

    def handler(signum: int, _frame: object) -> None:
        for s in previous:  # one clean-up is enough: a second signal waits for it
            signal.signal(s, signal.SIG_IGN)
        pending.signum = signum
        raise Terminated(signum)

    hook = sys.unraisablehook

    def unraisable(u: Any) -> None:
        # raised in a GC callback or `__del__` (JAX's, TensorFlow's): Python drops it and prints
        # "Exception ignored in ..." with a traceback; the signal ends the process all the same
        if not isinstance(u.exc_value, Terminated):
            hook(u)

    for s in TERMINATING:
        old = signal.getsignal(s)
        if old not in (signal.SIG_IGN, None):
            previous[s] = old
            signal.signal(s, handler)
    sys.unraisablehook = unraisable
    try:
        yield pending
    finally:
        sys.unraisablehook = hook
        _restore(previous)
        if pending.signum in previous:  # Terminated, another exception, or none got out
            signal.raise_signal(pending.signum)  # the default action: the process ends here


def _restore(previous: dict[int, Any]) -> None:
    for s, old in previous.items():
        signal.signal(s, old)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence what converters print on file descriptor 2 (C++ logs, absl), unless --debug."""
    if STATE["debug"]:
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


def temp_path(target: Path, kind: str, suffix: str = "") -> Path:
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
            remove(path)
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


def commit(tmp: Path, target: Path, force: bool = True) -> None:
    """Rename `tmp` onto `target`, replacing it only with `force` (see the module docstring)."""
    if not force or not os.path.lexists(target):
        # no-clobber where the system can: a target that appeared while we were writing stays
        if not _renameat2(tmp, target, RENAME_NOREPLACE) and not os.path.lexists(target):
            os.rename(tmp, target)
        if os.path.lexists(tmp):
            raise usage_error("E002", f"{target} exists", hint=FORCE_HINT)
    elif not tmp.is_dir() and not (target.is_dir() and not target.is_symlink()):
        os.replace(tmp, target)
    elif _renameat2(tmp, target, RENAME_EXCHANGE):
        pass  # the old target now has the temporary name: the caller's `finally` deletes it
    else:
        aside = temp_path(target, "old")
        os.rename(target, aside)
        try:
            os.rename(tmp, target)
        except BaseException:
            os.rename(aside, target)
            raise
        remove(aside)
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


def remove(path: Path) -> None:
    """Delete a file or folder tree if it exists (a name too long for the system: none)."""
    try:
        folder = path.is_dir() and not path.is_symlink()
    except OSError:  # ENAMETOOLONG: nothing of that name can exist
        return
    if folder:
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def sync(path: Path) -> None:
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


def disk_size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
