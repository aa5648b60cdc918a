"""`archspec zoo`: the zoo's networks as a table (figures from static analysis, no TensorFlow)."""

from __future__ import annotations

from collections.abc import Sequence

from archspec.core.units import macs_str, shape_str
from archspec.frontend.zoo import Entry
from archspec.ir.graph import Graph

HEADER = ("NAME", "PARAMS", "MACS", "INPUT", "DESCRIPTION")


def zoo_table(rows: Sequence[tuple[Entry, Graph]]) -> str:
    """One line per network (a family at its default params, then a line with its `--set`
    members), and how to use a name."""
    cells = [HEADER] + [
        (e.name, f"{g.params:,}", macs_str(g.cost.macs),
         ", ".join(shape_str(s, "dims") for s in g.inputs.values()), e.description)
        for e, g in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in cells) for i in range(4)]
    lines = []
    for row, (entry, _) in zip(cells, [(None, None), *rows], strict=True):
        left, params, macs, shape, text = row
        lines.append("  ".join([left.ljust(widths[0]), params.rjust(widths[1]),
                                macs.rjust(widths[2]), shape.ljust(widths[3]), text]))  # fmt: skip
        if entry is not None and entry.members is not None:
            param, default, values = entry.members
            pad = " " * (sum(widths) + 8)
            lines.append(f"{pad}--set {param}={'|'.join(values)} (the figures: {default})")
    lines.append("")
    lines.append(f"{len(rows)} networks (a family's figures are at its default params). Where no "
                 "such file exists, a SPEC may name one:\n  archspec check resnet50\n"
                 "  archspec plot efficientnet --set variant=b3\n"
                 "  archspec plot efficientnet_b3   (a member's name: the same)")  # fmt: skip
    return "\n".join(line.rstrip() for line in lines) + "\n"
