"""The diagnostic for a YAML syntax error (E101, E702): where the parser stopped, a note where
the construct it was reading began (an unclosed `{` lines above), and a hint for the common
causes: an unquoted `${...}` or `{...}` inside `{...}`, a tab, a key without a space after its
`:`, a line indented too far."""

from __future__ import annotations

import re

import yaml

from archspec.core.errors import Diagnostic, Related

#: line breaks as YAML counts them in its marks (`\r\n` is one)
BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")

#: how much of a line a hint's patterns read, so that a line of 50,000 characters costs nothing
_NEAR = 200
#: what the parser was reading (its `context`), as a note at its start says it
_STARTED = {
    "while parsing a flow mapping": "the `{...}` that starts here",
    "while parsing a flow sequence": "the `[...]` that starts here",
    "while scanning a simple key": "the key that starts here",
    "while scanning a quoted scalar": "the quoted text that starts here",
    "while parsing a block mapping": "the mapping that starts here",
    "while parsing a block collection": "the list that starts here",
}


def syntax_error(e: yaml.MarkedYAMLError, text: str, file: str, depth: int) -> Diagnostic:
    """The diagnostic for the YAML syntax error `e` in `text` (see the module's docstring)."""
    mark = e.problem_mark or e.context_mark
    problem = e.problem or e.context or "invalid YAML"
    if mark is None:
        return Diagnostic("E101", f"YAML syntax error: {problem}", file=file)
    line, col = mark.line + 1, mark.column + 1
    if "nesting depth" in problem:  # libyaml's own limit (1000), met while scanning ahead
        return Diagnostic("E702", f"nesting deeper than {depth} levels", file=file, line=line,
                          col=col)  # fmt: skip
    split = BREAK.split(text, maxsplit=mark.line + 1)
    lines = split[: mark.line + 1]
    before, here = lines[-1][: mark.column], lines[-1][mark.column :]
    at_end = all(not s or s.isspace() for s in split[mark.line :])  # (isspace stops at a letter)
    if at_end:
        # the end of the file (a `{` never closed), past its last line: shown at the end of the
        # last one that is not blank or a comment
        written = (
            k
            for k in range(len(lines), 0, -1)
            if lines[k - 1].strip() and not lines[k - 1].lstrip().startswith("#")
        )
        last = next(written, None)
        if last is not None:
            line, col = last, len(lines[last - 1].rstrip()) + 1
    context = e.context or ""
    if "flow" in context and here.startswith("{") and before.endswith("$"):
        expr = _expression("$" + here)
        brackets = "`{...}`" if "mapping" in context else "`[...]`"
        return Diagnostic("E101", f"YAML syntax error: the expression `{expr}` inside {brackets} "
                          "must be quoted", file=file, line=line, col=col - 1,
                          hint=f'quote the expression: "{expr}"')  # fmt: skip
    start = e.context_mark if e.problem_mark is not None else None
    related: tuple[Related, ...] = ()
    if start is not None and start.line != mark.line:
        note = _STARTED.get(context, f"{context} that starts here".strip())
        related = (Related(note, file, start.line + 1, start.column + 1),)
    hint = _hint(problem, context, lines, before, here, start, at_end)
    return Diagnostic("E101", f"YAML syntax error: {problem}", file=file, line=line, col=col,
                      hint=hint, related=related)  # fmt: skip


def _hint(problem: str, context: str, lines: list[str], before: str, here: str,
          start: yaml.Mark | None, at_end: bool = False) -> str | None:  # fmt: skip
    """The hint for a common cause, or None. `at_end`: the parser stopped at the end of the
    file."""
    if "\\t" in problem or "tab" in problem or here.startswith("\t"):
        # a tab in indentation, or one PyYAML refuses inside `[...]` or `{...}`
        inside = _flow_depth([*lines[:-1], before]) > 0
        return "replace the tab with spaces" if inside else "indent with spaces, not tabs"
    if "flow" in context and start is not None:
        opened, closed = ("{", "}") if "mapping" in context else ("[", "]")
        key = re.search(r"([\w.-]+):\s+([^,]*)$", before[-_NEAR:])
        if here[:1] and here[:1] in "]}" and here[:1] != closed:  # `{type: conv, kernel: 3]`
            return f"close the `{opened}` with `{closed}`"
        if key and "{" in key[2] + here[:1]:  # `repeat_names: {name}_{k}`: read as a mapping
            return f'quote the value: `{key[1]}: "{key[2]}{_rest(here)}"`'
        if start.line != len(lines) - 1 or at_end:  # begun on an earlier line, or never closed
            if _indent(lines[-1]) <= _indent(_line(lines, start.line)):  # at what follows it
                return f"close the `{opened}` of line {start.line + 1} with `{closed}`"
            return (
                f"separate the items of the `{opened}...{closed}` of line {start.line + 1} with `,`"
            )
    if context == "while scanning a simple key" and start is not None:
        key = re.match(r"\s*(?:-\s+)?([\w.-]+):(\S.*)", _line(lines, start.line))
        if key:  # `filters:8`
            return f"put a space after the `:` of a key: `{key[1]}: {key[2].strip()}`"
    if problem == "did not find expected key" and "block mapping" in context:
        if here.startswith("- "):
            return "indent this line as the other items (`- `) of its list"
        return "indent this line as the other keys of its mapping"
    if context == "while scanning a quoted scalar" and start is not None:
        return f"close the quote of line {start.line + 1}"
    if "expected '-' indicator" in problem:
        return "indent this line as the other items (`- `) of its list"
    if problem.startswith("mapping values are not allowed"):
        if re.search(r":\s", before[-_NEAR:].strip()):  # `description: a net: small`
            return "quote a value that holds `: `"
        return ("a line indented further than the key above it continues that key's value: "
                "align the keys, or quote a value that holds `: `")  # fmt: skip
    return None


def _rest(text: str) -> str:
    """`text` up to the `,` or `}` that ends a value inside `{...}`."""
    depth = 0
    for k, char in enumerate(text[:200]):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0 or (char == "," and depth == 0):
            return text[:k].rstrip()
    return text[:200].rstrip()


def _indent(line: str) -> int:
    """The indentation of a line, its `- ` included (an item's keys are indented past it)."""
    lead = re.match(r"[ \t]*(?:-[ \t]+)?", line[:_NEAR])
    return len(lead.group()) if lead else 0


def _line(lines: list[str], index: int) -> str:
    """Line `index`, its first `_NEAR` characters (a hint reads no further)."""
    return lines[index][:_NEAR] if 0 <= index < len(lines) else ""


def _expression(text: str) -> str:
    """The `${...}` that `text` starts with, up to its closing brace (or the end of the line)."""
    depth = 0
    for k, char in enumerate(text[:200]):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "}" and depth == 0:
            return text[: k + 1]
    return text[:200].rstrip()


def _flow_depth(lines: list[str]) -> int:
    """How many `[` and `{` the lines leave open (counted outside quotes and comments, which is
    enough for a hint)."""
    depth = 0
    for line in lines:
        clean = re.sub(r"'[^']*'|\"[^\"]*\"|(^|\s)#.*", "", line)
        depth += clean.count("[") + clean.count("{") - clean.count("]") - clean.count("}")
    return depth
