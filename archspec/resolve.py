"""Stage 3, resolution: the spec's block list expanded into a flat list of built-in blocks.

`--set` overrides are applied to `params`; `defaults` are merged into each block (the block's own
value wins, then `defaults`, then the block type's built-in default).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archspec.errors import Diagnostic, SpecError, UsageError, did_you_mean
from archspec.loader import Document
from archspec.lower import Item
from archspec.schema import SpecModel


def parse_sets(sets: Sequence[str], params: dict[str, Any]) -> dict[str, Any]:
    """`["width=32", "stages=[2, 2]"]` -> {"width": 32, "stages": [2, 2]}: each value is read as
    a strict YAML scalar or flow value; the name must be one of the spec's params."""
    from archspec.loader import load_text

    out: dict[str, Any] = {}
    for item in sets:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(Diagnostic("E503", f"--set {item!r}: expected NAME=VALUE"))
        if name not in params:
            raise UsageError(
                Diagnostic(
                    "E503",
                    f"--set {name}: the spec has no param `{name}`",
                    hint=did_you_mean(name, params)
                    or ("its params: " + ", ".join(params) if params else "the spec has no params"),
                )
            )
        try:
            doc = load_text(f"v: {value}", f"--set {name}")
        except SpecError as e:
            d = e.diagnostics[0]
            raise UsageError(Diagnostic("E503", f"--set {name}={value}: {d.message}")) from None
        out[name] = doc.data["v"]
    return out


def expand(doc: Document, spec: SpecModel, sets: Sequence[str] = ()) -> list[Item]:
    """The blocks of `spec`, with defaults applied, each with its key path."""
    parse_sets(sets, spec.params)
    items = []
    for k, raw in enumerate(spec.blocks):
        if isinstance(raw, dict):
            defaults = spec.defaults.get(str(raw.get("type")), {})
            raw = {**defaults, **raw}
        items.append(Item(raw=raw, path=("blocks", k)))
    return items
