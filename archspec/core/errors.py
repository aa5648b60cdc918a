"""Errors: every user mistake is an ArchspecError carrying one or more Diagnostics.

A Diagnostic keeps its position (file, line, column, key path) as data, like sqlglot's parse
errors, so that the text, JSON, GitHub and SARIF renderers all read the same fields.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

KeyPath = tuple[str | int, ...]

#: the text of each spec read under a name that is no file (`<stdin>`, `<spec>`), the last one
#: of each: the renderers show its lines under its errors, as they read a file's from disk
SOURCES: dict[str, str] = {}

#: set by the CLI's --debug: tracebacks of internal errors and converters' output are shown
STATE: dict[str, bool] = {"debug": False}

#: Stable error codes. The README documents them; renderers use them as rule ids.
CODES: dict[str, str] = {
    # input / output
    "E001": "file not found or not readable",
    "E002": "output path problem (exists, unwritable, unsupported format)",
    "E003": "bad command-line option value",
    "E004": "no diagram renderer for this format (no Graphviz; PDF without a system Graphviz), "
    "or an export the chosen backend cannot write (ONNX of layers its exporter breaks)",
    "E005": "TensorFlow and Keras not installed (`build` needs the keras extra)",
    # YAML loading
    "E101": "YAML syntax error",
    "E102": "duplicate key",
    "E103": "YAML anchor or alias",
    "E104": "explicit YAML tag",
    "E105": "YAML merge key",
    "E106": "not a spec document (empty, several documents, top level not a mapping, no spec key)",
    "E107": "file is not UTF-8 text",
    # schema
    "E201": "unknown key",
    "E202": "wrong type",
    "E203": "missing required key",
    "E204": "value out of range or not allowed",
    "E205": "unknown block type",
    "E206": "unsupported format version",
    # graph
    "E301": "unknown or later reference",
    "E302": "duplicate name",
    "E303": "wrong number of inputs",
    # shapes
    "E401": "shape mismatch",
    "E402": "spatial size collapses to zero",
    "E403": "wrong input rank for this block",
    "E404": "flatten on an unknown size (a layer that needs a size fixed before run time)",
    # substitution and user-defined blocks
    "E501": "bad expression",
    "E502": "undefined name in expression",
    "E503": "bad --set value",
    "E504": "bad user-defined block",
    "E505": "bad spec block (included file missing or unreadable, include cycle, too deep)",
    "E506": "a `require` condition of the spec is false",
    # budgets and expectations
    "E601": "over budget",
    "E602": "figure differs from expect",
    "E603": "MACs budget or expectation on an input of unknown size",
    # limits (archspec/core/limits.py; each has its own code)
    "E701": "a limit was exceeded: file size",
    "E702": "a limit was exceeded: YAML nesting depth",
    "E703": "a limit was exceeded: number of YAML nodes",
    "E704": "a limit was exceeded: length of a number",
    "E705": "a limit was exceeded: blocks or layers after expansion",
    "E706": "a limit was exceeded: `repeat`",
    "E707": "a limit was exceeded: filters or units",
    "E708": "a limit was exceeded: kernel or pooling window",
    "E709": "a limit was exceeded: input size",
    "E710": "a limit was exceeded: estimated parameters",
    "E711": "a limit was exceeded: activation memory",
    "E712": "a limit was exceeded: diagram size (`plot`)",
    "E713": "a limit was exceeded: stride, dilation, upsampling, padding or cropping",
    # export
    "E801": "an exported model's outputs differ from the Keras model's (--verify)",
    "E802": "no input size at which the model runs, for --verify or an ONNX export",
    "E803": "a weights file does not fit the model (--weights)",
    "E804": "not enough memory to build, run or export the model (estimated before it starts)",
    "E805": "a plugin op's static figures (`infer`, `cost`) differ from the Keras layer it emits",
    "E806": "an exported ONNX file has other inputs than the model, or onnxruntime cannot load it",
    # plugins
    "E901": "a plugin's block or op raised an error, or broke the op protocol",
    # warnings
    "W101": "a folder search skipped an entry (symlink, FIFO, device, unreadable folder)",
    "W301": "input or block feeds nothing",
    "W302": "a key that changes nothing",
    "W303": "a definition no block uses",
    "W304": "a `spec` block's softmax classifier read by a later block",
    "W305": "an input that looks channels first ([3, 224, 224])",
    "W306": "a batch-norm momentum below 0.5 (PyTorch's convention: its 0.1 is Keras's 0.9)",
    "W307": "a concat of images along their height or width (PyTorch's dim=1 is axis -1 here)",
    "W308": "a `spec` block's `flatten` that `any_size` gives another size (other weights)",
    "W801": "a saved .keras model holds a plugin's layer classes: loading it needs them",
    "W802": "--verify compared outputs that change with the input within the tolerance alone",
}


#: characters of a diagnostic's message or hint that are kept
KEPT_CHARS = 4000


@dataclass(frozen=True)
class Related:
    """A second place that belongs to a diagnostic (for example, a definition)."""

    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None


@dataclass(frozen=True)
class Diagnostic:
    """One finding: what is wrong, where (1-based line and column), and how to fix it."""

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None
    path: KeyPath = ()
    hint: str | None = None
    severity: Literal["error", "warning"] = "error"
    related: tuple[Related, ...] = field(default=())

    def __post_init__(self) -> None:
        # a message or hint built from the spec (a list of 20,000 param names) is kept short:
        # thousands of diagnostics stay small in memory (renderers clip further)
        for name in ("message", "hint"):
            value = getattr(self, name)
            if value is not None and len(value) > KEPT_CHARS:
                object.__setattr__(self, name, value[: KEPT_CHARS - 3] + "...")

    @property
    def where(self) -> str:
        """`file:line:col` (as much of it as is known)."""
        parts = [self.file or "archspec"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


def format_path(path: KeyPath) -> str:
    """('blocks', 2, 'n_filters') -> 'blocks[2].n_filters'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


class ArchspecError(Exception):
    """A user error. `exit_code` is what the CLI exits with (1 spec invalid, 2 usage or I/O)."""

    exit_code = 1

    def __init__(self, diagnostics: Diagnostic | Sequence[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = (
            [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        )
        super().__init__("\n".join(f"{d.where}: {'warning: ' * (d.severity == 'warning')}"
                                   f"{d.message}" for d in self.diagnostics))  # fmt: skip


class SpecError(ArchspecError):
    """The spec is invalid (exit 1)."""


class UsageError(ArchspecError):
    """A usage or I/O problem: missing file, existing output, bad option (exit 2)."""

    exit_code = 2


class CommandError(UsageError):
    """A mistake in the command line itself, whatever the files (a `--set` that is not
    NAME=VALUE): reported alone on stderr, as an unknown option is, never as a report."""


class UnplacedError(Exception):
    """A user error found where no position is known (inside an op, a limit check, an
    expression). The stage that knows the position turns it into a Diagnostic: `code` is its
    error code, `hint` an optional hint, and `key` the spec key to point at, if one is known."""

    default_code = "E401"

    def __init__(
        self,
        message: str,
        key: str | None = None,
        hint: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.key = key
        self.hint = hint
        self.code = code or self.default_code


class ShapeError(UnplacedError):
    """An op cannot take its input shapes (E401 shape mismatch, E402 collapse, E403 rank, E404
    unknown size, E302 name clash)."""

    #: inputs that do not fit each other (ir.op.mismatch): what they need, and their shapes
    #: in order; lowering names each shape's input where a merge block's inputs are the spec's
    mismatch: tuple[str, Sequence[tuple[int | None, ...]]] | None = None


class LimitExceeded(UnplacedError):
    """A quantity is over a limit (E705-E711); lowering positions it at the block, and at the
    key whose value is `value` when the block has one."""

    default_code = "E705"

    def __init__(
        self,
        code: str,
        message: str,
        value: object = None,
        hint: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message, key=key, hint=hint, code=code)
        self.value = value

    def key_in(self, raw: dict[str, object]) -> str | None:
        """The block key to blame among those whose value is the offending number: `key` (the
        parameter the check read: `filters`, `kernel`, `pool`), else one that names it
        (`n_filters`, `se_filters`), else the first in sorted order. Never dict or set order,
        which varies with the hash seed."""
        if self.value is None:
            return None

        def holds(v: object) -> bool:
            if isinstance(v, bool):
                return False
            return v == self.value or (isinstance(v, list) and self.value in v)

        keys = sorted(k for k, v in raw.items() if k not in ("type", "name", "inputs") and holds(v))
        named = self.key
        if named is not None:
            keys.sort(key=lambda k: (k != named, named not in k))  # stable: sorted within
        return keys[0] if keys else None


class HintedValueError(ValueError):
    """A validator's finding with a hint, which the schema reports with it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class KeyValueError(HintedValueError):
    """A validator's finding about one key of a mapping-valued field (mbconv's `roles`): the
    schema reports it at that key, with `hint`, rather than at the whole field."""

    def __init__(self, message: str, key: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.key = key


def usage_error(
    code: str, message: str, hint: str | None = None, file: str | None = None
) -> UsageError:
    """A UsageError with one diagnostic."""
    return UsageError(Diagnostic(code=code, message=message, hint=hint, file=file))


def a_block(kind: str) -> str:
    """ "a `conv` block", "an `add` block"."""
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} `{kind}` block"


def first_of(names: Sequence[str], most: int) -> str:
    """The names joined by commas, the first `most` of them and how many in all."""
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names)} in all)" if len(names) > most else "")


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest choice, or None: one that differs only in case (`Relu` ->
    `relu`) wins, then one that differs in case, `_` or `-` (`LeakyReLU` -> `leaky_relu`), then
    difflib's closest by a ratio of at least 0.6, compared without case.

    The work is bounded, so that thousands of unknown names against thousands of choices stay
    near-linear: a set of up to `_WHOLE` choices is compared whole (difflib's own answer); in a
    larger one, at most `_COMPARED` choices are compared, those nearest in length and within 3
    characters of it. Every comparison is charged to the budget of the document being checked
    (`reset_hint_budget`); once it is spent, only a choice that differs in case, `_` or `-`
    is named (a look-up, which costs nothing). Answers are cached per word and set of
    choices."""
    close = closest(word, choices)
    return None if close is None else f"did you mean `{close}`?"


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `did_you_mean` names, or None."""
    return _prepared(choices).closest(word)


_WHOLE = 64
_COMPARED = 64
_LENGTH_SLACK = 3
#: comparisons per document: at most about 0.2 s of difflib (a hint for 300 names or more)
HINT_BUDGET = 20_000
_budget = [HINT_BUDGET]


def reset_hint_budget() -> None:
    """Give the next document its own did-you-mean budget (schema.validate_spec calls this)."""
    _budget[0] = HINT_BUDGET


def folded(name: str) -> str:
    """`name` compared without case, `_` or `-` (`LeakyReLU`, `leaky_relu`)."""
    return name.casefold().replace("_", "").replace("-", "")


class _Choices:
    """A set of choices prepared for did_you_mean: grouped by length, folded, and memoized."""

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices
        self.by_length: dict[int, list[str]] = {}
        self.cased: dict[str, str] = {}
        self.folded: dict[str, str] = {}
        for c in choices:
            self.by_length.setdefault(len(c), []).append(c)
            self.cased.setdefault(c.casefold(), c)
            self.folded.setdefault(folded(c), c)
        self.memo: dict[str, str | None] = {}

    def pool(self, word: str) -> Sequence[str]:
        if len(self.choices) <= _WHOLE:
            return self.choices
        out: list[str] = []
        n = len(word)
        for delta in range(_LENGTH_SLACK + 1):
            for length in sorted({n - delta, n + delta}):
                out.extend(self.by_length.get(length, ())[: _COMPARED - len(out)])
        return out

    def near(self, word: str) -> str | None:
        """The choice that differs from `word` only in case, or in case, `_` and `-`."""
        close = self.cased.get(word.casefold()) or self.folded.get(folded(word))
        return None if close == word else close

    def closest(self, word: str) -> str | None:
        if word in self.memo:
            return self.memo[word]
        near = self.near(word)
        if near is not None:  # no budget spent: a dictionary look-up
            return near
        if _budget[0] < min(len(self.choices), _COMPARED):  # spent: no difflib
            return None
        pool = self.pool(word)
        _budget[0] -= len(pool)
        # compared without case, so that `Sigmod` finds `sigmoid`
        lowered: dict[str, str] = {}
        for c in pool:
            lowered.setdefault(c.casefold(), c)
        best = difflib.get_close_matches(word.casefold(), lowered, n=1, cutoff=0.6)
        answer = lowered[best[0]] if best else None
        if len(self.memo) < 4096:
            self.memo[word] = answer
        return answer


_INDEXES: dict[tuple[str, ...], _Choices] = {}
#: id -> (the list or dict, its length and ends, its index): the same large collection passed
#: again (one per unknown key) is not copied and hashed again
_RECENT: dict[int, tuple[object, tuple[object, ...], _Choices]] = {}


def _prepared(choices: Iterable[str]) -> _Choices:
    if not isinstance(choices, (list, dict)) or len(choices) <= _WHOLE:
        return _index(tuple(choices))
    ends = (len(choices), *_ends(choices))
    hit = _RECENT.get(id(choices))
    if hit is not None and hit[0] is choices and hit[1] == ends:
        return hit[2]
    index = _index(tuple(choices))
    if len(_RECENT) >= 8:
        _RECENT.pop(next(iter(_RECENT)))
    _RECENT[id(choices)] = (choices, ends, index)
    return index


def _ends(choices: list[str] | dict[str, object]) -> tuple[object, object]:
    if isinstance(choices, dict):
        return next(iter(choices)), next(reversed(choices))
    return choices[0], choices[-1]


def _index(choices: tuple[str, ...]) -> _Choices:
    index = _INDEXES.get(choices)
    if index is None:
        if len(_INDEXES) >= 32:
            _INDEXES.pop(next(iter(_INDEXES)))
        index = _INDEXES[choices] = _Choices(choices)
    return index


def describe(value: object) -> str:
    """A short rendering of a received value and its YAML type, for messages."""
    kind = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
        type(None): "null",
    }.get(type(value), type(value).__name__)
    text = repr(value) if isinstance(value, str) else _short(value)
    return kind if value is None else f"{text} ({kind})"


def _short(value: object) -> str:
    text = _yaml_text(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _yaml_text(value: object) -> str:
    """A value as YAML writes it inline: `true`, `null`, `[1, null]`, `{a: 1}`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_text(v)}" for k, v in value.items()) + "}"
    return repr(value) if isinstance(value, str) else str(value)
