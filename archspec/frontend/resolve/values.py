"""Bounds on the values `${...}` builds: a param's value, as if written out, is no deeper and no
bigger than the file itself may be.

A value written in the file is bounded by the loader (nesting depth, E702; node count, E703),
but `${...}` composes values: `p1: ["${p0}"]`, `p2: ["${p1}"]`, ... nests one level per param,
and `p1: ["${p0}", "${p0}"]`, `p2: ["${p1}", "${p1}"]`, ... doubles at each (the value shares
its parts, so making it is cheap, but anything that walks it, from validation to an error
message, walks 2^n nodes). So every param's value (the spec's, and a user-defined block's at
each use) is measured when it is made: its nesting depth and its node count as a tree (each
shared part counted every time it appears) are held to the same limits as the file's, E702 and
E703 at the param. The walk is iterative and visits each distinct list or mapping once.
"""

from __future__ import annotations

from typing import Any

from archspec.core.errors import KeyPath, format_path
from archspec.frontend.loader import Document
from archspec.frontend.resolve.errors import fail


def measure(value: Any) -> tuple[int, int]:
    """(depth, nodes) of `value` as a tree: a scalar is (0, 1), `[1, [2]]` is (2, 4)."""
    if not isinstance(value, list | dict):
        return 0, 1
    known: dict[int, tuple[int, int]] = {}
    keep: list[Any] = []  # the ids in `known` stay those of live objects
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in known:
            continue
        parts = list(node.values()) if isinstance(node, dict) else node
        inner = [p for p in parts if isinstance(p, list | dict)]
        if not done:
            stack.append((node, True))
            stack.extend((p, False) for p in inner if id(p) not in known)
            continue
        depth, nodes = 0, 1 + len(parts) - len(inner)
        for p in inner:
            d, n = known[id(p)]
            depth, nodes = max(depth, d), nodes + n
        known[id(node)] = (depth + 1, nodes)
        keep.append(node)
    return known[id(value)]


def check_value(doc: Document, value: Any, path: KeyPath) -> None:
    """Raise E702 or E703 at `path` (a param) if `value` nests deeper, or has more nodes, than a
    file may (the limits the loader holds the file to)."""
    depth, nodes = measure(value)
    limits = doc.limits
    if depth > limits.depth:
        raise fail(doc, "E702", f"{format_path(path)}: the value is nested {depth} deep, more "
                   f"than the limit of {limits.depth}", path,
                   hint="a `${...}` in a list or mapping adds a level to the value it reads"
                   )  # fmt: skip
    if nodes > limits.events // 2:
        raise fail(doc, "E703", f"{format_path(path)}: the value has {nodes:,} entries written "
                   f"out, more than the limit of {limits.events // 2:,}", path,
                   hint="each `${...}` that reads a list or mapping counts it again"
                   )  # fmt: skip
