"""Stage 3, resolution: the spec's block list expanded into a flat list of built-in blocks.

`defaults` are merged into each block here (the block's own value wins, then `defaults`, then
the block type's built-in default).
"""

from __future__ import annotations

from archspec.lower import Item
from archspec.schema import SpecModel


def expand(spec: SpecModel) -> list[Item]:
    """The blocks of `spec`, with defaults applied, each with its key path."""
    items = []
    for k, raw in enumerate(spec.blocks):
        if isinstance(raw, dict):
            defaults = spec.defaults.get(str(raw.get("type")), {})
            raw = {**defaults, **raw}
        items.append(Item(raw=raw, path=("blocks", k)))
    return items
