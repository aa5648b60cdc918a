"""Stage 1, the loader: YAML text -> plain data plus the position of every key path.

The document is built from PyYAML's *events*, not its composer, so that the strict rules are
enforced while scanning and before anything large is built: no anchors or aliases (no alias
bombs), no explicit tags (no `!!python/...`, not even `!`), no merge keys, no duplicate keys
(judged on the value a key resolves to: `yes` and `true` are one key), a bounded
nesting depth and a bounded number of events. Scalars are resolved by the safe loader's rules
(YAML 1.1: `yes` is a boolean, `1e3` a string), and the schema then refuses what has the wrong type.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from archspec.core.errors import (
    SOURCES,
    Diagnostic,
    KeyPath,
    SpecError,
    describe,
    format_path,
    usage_error,
)
from archspec.core.limits import DEFAULT, Limits, raise_hint
from archspec.frontend.syntax import BREAK, syntax_error

_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()


@dataclass
class Document:
    """A loaded spec file: its data and where each key path stands in the text."""

    file: str
    data: Any
    #: key path -> (line, col) of the value, 1-based
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    #: key path -> (line, col) of the key itself, for mapping entries
    key_positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    text: str = ""
    #: the key paths of scalars written in quotes (`'8'`, `"8"`), for hints
    quoted: set[KeyPath] = field(default_factory=set)
    #: the data as loaded, before `${...}` substitution replaces `data` (for hints)
    written: Any = None
    #: the limits it was read with; the later stages (resolve, lower) check against the same
    limits: Limits = DEFAULT
    #: the YAML parser events it was built from (a spec including it counts them, include.py)
    events: int = 0

    def locate(self, path: KeyPath, key: bool = False) -> tuple[int, int] | None:
        """The position of `path`, or of its nearest ancestor that has one."""
        if key and path in self.key_positions:
            return self.key_positions[path]
        for n in range(len(path), -1, -1):
            if path[:n] in self.positions:
                return self.positions[path[:n]]
        return None

    def diag(
        self,
        code: str,
        message: str,
        path: KeyPath,
        hint: str | None = None,
        key: bool = False,
        severity: str = "error",
    ) -> Diagnostic:
        """A diagnostic positioned at `path` in this document."""
        pos = self.locate(path, key=key)
        return Diagnostic(
            code=code,
            message=message,
            file=self.file,
            line=pos[0] if pos else None,
            col=pos[1] if pos else None,
            path=path,
            hint=hint,
            severity="warning" if severity == "warning" else "error",
        )


def read_file(path: str | os.PathLike[str], limits: Limits | None = None) -> Document:
    """Read and load a spec file. Missing or unreadable files are usage errors (exit 2).

    Only regular files are read: the file is opened without blocking and checked first, so a
    FIFO (which would wait for a writer), a device or a directory is refused at once. At most
    the size limit plus one byte is read."""
    name = os.fspath(path)
    max_bytes = (limits or DEFAULT).file_bytes
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        what = "dangling symlink" if os.path.islink(name) else "no such file"
        raise usage_error("E001", f"{what}: {name}", file=name) from None
    except IsADirectoryError:
        raise usage_error("E001", f"is a directory, not a spec file: {name}", file=name) from None
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        if isinstance(e, OSError) and e.errno == errno.ELOOP:
            raise usage_error("E001", f"symlink loop: {name}", file=name) from None
        reason = e.strerror if isinstance(e, OSError) else str(e)
        raise usage_error("E001", f"cannot read {name}: {reason}", file=name) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise usage_error("E001", f"is a directory, not a spec file: {name}", file=name)
        if not stat.S_ISREG(mode):
            raise usage_error("E001", f"not a regular file: {name}", file=name)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read(max_bytes + 1)
    except OSError as e:
        raise usage_error("E001", f"cannot read {name}: {e.strerror}", file=name) from None
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise SpecError(
            Diagnostic(
                "E701",
                f"file is larger than the limit of {max_bytes:,} bytes",
                file=name,
                hint="specs are small; " + raise_hint("--max-file-size", "if this one is real"),
            )
        )
    return load_bytes(raw, name, limits)


def load_bytes(raw: bytes, file: str = "<spec>", limits: Limits | None = None) -> Document:
    """Decode UTF-8 (a BOM is allowed) and load."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        # a byte order mark says which (UTF-32's little-endian one begins as UTF-16's)
        marks = {b"\xff\xfe\x00\x00": "32", b"\x00\x00\xfe\xff": "32", b"\xff\xfe": "16",
                 b"\xfe\xff": "16"}  # fmt: skip
        utf = next((n for mark, n in marks.items() if raw.startswith(mark)), None)
        message = f"the file is UTF-{utf}, not UTF-8" if utf else f"invalid UTF-8 at byte {e.start}"
        raise SpecError(Diagnostic("E107", message, file=file, line=line, col=col,
                                   hint="save the file as UTF-8")) from None  # fmt: skip
    return load_text(text, file, limits)


def load_text(text: str, file: str = "<spec>", limits: Limits | None = None) -> Document:
    """Load one YAML document whose top level is a mapping."""
    if file.startswith("<") and file.endswith(">"):  # no file to show lines from (SOURCES)
        SOURCES[file] = text
    bad = _NON_PRINTABLE.search(text)
    if bad:  # found before parsing, so that the error has a position (the reader's has none)
        line, col = text_position(text, bad.start())
        char = bad.group()
        # below U+D800 only controls are refused; above: surrogates, U+FFFE, U+FFFF
        what = "control character" if ord(char) < 0xD800 else "character"
        raise SpecError(
            Diagnostic("E107", "NUL byte in the file", file=file, line=line, col=col)
            if char == "\0"
            else Diagnostic(
                "E101",
                f"YAML syntax error: {what} U+{ord(char):04X} is not allowed",
                file=file,
                line=line,
                col=col,
                hint="YAML text holds tabs, line breaks and printable characters only; remove it",
            )
        )
    doc = Document(file=file, data=None, text=text, limits=limits or DEFAULT)
    try:
        builder = _Builder(doc, doc.limits)
        builder.build(yaml.parse(text, Loader=_Parser))
        doc.events = builder.events
    except yaml.MarkedYAMLError as e:
        raise SpecError(syntax_error(e, text, file, (limits or DEFAULT).depth)) from None
    except yaml.YAMLError as e:
        raise SpecError(Diagnostic("E101", f"YAML error: {e}", file=file)) from None
    if not isinstance(doc.data, dict):
        # content: not a comment, a directive (`%YAML 1.1`) or a document marker
        written = [t for t in text.split("\n") if t.strip() and t.strip()[0] not in "#%"
                   and t.strip() not in ("---", "...")]  # fmt: skip
        what = ("is empty" if not written else "holds only null" if doc.data is None
                else f"is {describe(doc.data)} at the top level")  # fmt: skip
        raise SpecError(
            Diagnostic(
                "E106",
                f"a spec is a YAML mapping with `name`, `input` and `blocks`; this file {what}",
                file=file,
                line=1,
                col=1,
            )
        )
    return doc


#: what YAML's reader refuses (YAML 1.1 and 1.2, 5.1: the printable set), as PyYAML and libyaml
#: test it; lone surrogates, which a Python str may hold, included
_NON_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text_position(text: str, index: int) -> tuple[int, int]:
    """The 1-based (line, column) of `text[index]`, counting lines as the YAML parser does."""
    head = text[:index]
    line = sum(1 for _ in BREAK.finditer(head)) + 1
    last = max(head.rfind(c) for c in "\r\n\x85\u2028\u2029")
    return line, index - last


class _Builder:
    """Builds plain data from parser events, enforcing the strict rules as it goes."""

    def __init__(self, doc: Document, limits: Limits = DEFAULT) -> None:
        self.doc = doc
        self.events = 0
        self.limits = limits

    def _fail(self, code: str, message: str, event: Any, hint: str | None = None) -> SpecError:
        mark = event.start_mark
        return SpecError(
            Diagnostic(
                code,
                message,
                file=self.doc.file,
                line=mark.line + 1,
                col=mark.column + 1,
                hint=hint,
            )
        )

    def build(self, events: Iterator[Any]) -> None:
        documents = 0
        for event in events:
            self.events += 1
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self._fail(
                        "E106", "a spec file holds one YAML document; found a second `---`", event
                    )
            elif isinstance(event, yaml.NodeEvent):
                self.doc.data = self.doc.written = self._node(event, events, (), 1)

    def _next(self, events: Iterator[Any]) -> Any:
        event = next(events)
        self.events += 1
        if self.events > self.limits.events:
            raise self._fail(
                "E703", f"more than {self.limits.events:,} YAML nodes (parser events)", event
            )
        return event

    def _check_node(self, event: Any, depth: int) -> None:
        if isinstance(event, yaml.AliasEvent):
            raise self._fail(
                "E103",
                f"YAML alias `*{event.anchor}` is not allowed",
                event,
                hint="write the value out, or use `params` and `${...}` to share values",
            )
        if event.anchor is not None:
            raise self._fail(
                "E103",
                f"YAML anchor `&{event.anchor}` is not allowed",
                event,
                hint="use `params` and `${...}` to share values, or `define` to reuse blocks",
            )
        # The parsers set a tag only where the text has one; the non-specific `!` (`! 4`, `! [1]`)
        # is refused like the others: what it means is up to the application.
        if event.tag is not None:
            raise self._fail("E104", f"explicit YAML tag `{event.tag}` is not allowed", event)
        if depth > self.limits.depth:
            raise self._fail("E702", f"nesting deeper than {self.limits.depth} levels", event)

    def _node(self, event: Any, events: Iterator[Any], path: KeyPath, depth: int) -> Any:
        self._check_node(event, depth)
        self.doc.positions[path] = (event.start_mark.line + 1, event.start_mark.column + 1)
        if isinstance(event, yaml.ScalarEvent):
            if event.style in ("'", '"'):
                self.doc.quoted.add(path)
            return self._scalar(event)
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            while not isinstance(child := self._next(events), yaml.SequenceEndEvent):
                items.append(self._node(child, events, (*path, len(items)), depth + 1))
            return items
        mapping: dict[Any, Any] = {}
        #: each key's resolved value (its identity, _same_key) -> its spelling and line
        resolved: dict[tuple[str, Any], tuple[str, int]] = {}
        while not isinstance(key_event := self._next(events), yaml.MappingEndEvent):
            self._check_node(key_event, depth + 1)
            if not isinstance(key_event, yaml.ScalarEvent):
                raise self._fail("E202", "mapping keys must be plain words", key_event)
            if key_event.value == "<<" and key_event.implicit[0]:
                raise self._fail(
                    "E105",
                    "YAML merge key `<<` is not allowed",
                    key_event,
                    hint="use `defaults` or `define` to share settings between blocks",
                )
            value = self._scalar(key_event)
            key = value if isinstance(value, str) else str(key_event.value)
            child_path = (*path, key)
            mark: Any = key_event.start_mark
            key_pos = (mark.line + 1, mark.column + 1)
            if key in mapping:
                first = self.doc.key_positions[child_path]
                raise self._fail(
                    "E102",
                    f"duplicate key `{format_path(child_path)}` (first at line {first[0]})",
                    key_event,
                )
            same = _same_key(value)
            if same in resolved:  # `yes` after `true`, `0x1` after `1`, `~` after `null`
                spelling, line = resolved[same]
                shown = format_path(child_path)
                raise self._fail(
                    "E102",
                    f"duplicate key `{shown}`: `{key}` and `{spelling}` (line {line}) are both "
                    f"the YAML {same[0]} {_show(value)}",
                    key_event,
                    hint="YAML reads both spellings as one key; keep one",
                )
            resolved[same] = (key, key_pos[0])
            self.doc.key_positions[child_path] = key_pos
            mapping[key] = self._node(self._next(events), events, child_path, depth + 1)
        return mapping

    def _scalar(self, event: Any) -> Any:
        """The value of a scalar by the safe loader's rules, with numbers bounded in length
        (a 1 MiB sexagesimal `1:0:0:...` takes minutes to convert) and values the safe
        constructor cannot build (`2001-13-45`) reported instead of raised."""
        value: str = event.value
        tag = _tag(value, event.implicit)
        if tag in (_STR, _VALUE, _MERGE):  # strings (the most common), and `=`, `<<` as values
            return value
        limit = self.limits.number_chars
        if tag in (_INT, _FLOAT) and len(value) > limit:
            raise self._fail(
                "E704",
                f"a number of {len(value):,} characters (the limit is {limit})",
                event,
                hint="no spec value needs that many digits",
            )
        try:
            return _construct(tag, value)
        except (ValueError, OverflowError) as e:
            kind = tag.rsplit(":", 1)[-1]
            raise self._fail(
                "E202",
                f"`{value[:40]}` reads as a YAML {kind} but is not a valid one ({e})",
                event,
                hint="quote it to make it a string",
            ) from None


# A spec repeats its scalars (`relu`, `same`, `3`, `true`), and a zoo of specs more so: what
# YAML's implicit resolver and the safe constructor make of one is worked out once.


@functools.lru_cache(maxsize=4096)
def _tag(value: str, implicit: tuple[bool, bool]) -> str:
    """The tag the safe loader's implicit resolver gives a scalar."""
    tag: str = _resolver.resolve(yaml.ScalarNode, value, implicit)  # type: ignore[no-untyped-call]
    return tag


@functools.lru_cache(maxsize=4096)
def _construct(tag: str, value: str) -> Any:
    """The value of a scalar of this tag (a number, a boolean, null, a date: immutable, so one
    object serves every occurrence). Raises ValueError or OverflowError where it is not valid.
    The tag's constructor is called directly: `construct_object` would remember every node in
    the constructor's tables, which only a whole document's construction clears."""
    construct = _constructor.yaml_constructors[tag]
    return construct(_constructor, yaml.ScalarNode(tag, value))


def _same_key(value: Any) -> tuple[str, Any]:
    """A key's identity as YAML compares keys: its type and value (`true` and `yes` are one
    boolean; `1`, `0x1` and `01` one integer; `1` and `1.0` differ, as int and float)."""
    kind = {bool: "boolean", int: "integer", float: "float", str: "string"}.get(type(value))
    if value is None:
        return "null", None
    if kind == "float":  # by its text, so that `.nan` equals `.NaN`, and -0.0 and 0.0 differ
        return kind, repr(value)
    return kind or type(value).__name__, value  # dates and timestamps compare as values


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_VALUE, _MERGE = "tag:yaml.org,2002:value", "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"


def plain_kind(text: str) -> str | None:
    """What YAML would read `text` as if it were written without quotes: "integer", "float", or
    None (anything else)."""
    tag = _resolver.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return {_INT: "integer", _FLOAT: "float"}.get(tag)
