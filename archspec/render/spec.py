"""`archspec render`: the fully expanded spec as YAML that is itself a valid spec building the
same model (params substituted, defaults applied, repeats and user-defined blocks expanded,
every block named; the blocks of an included spec (`type: spec`) inlined as
`<name>_<inner name>`, without those no output needs). The source's name in the header comment is
escaped (`_comment`), and every name is one a spec may have (resolve holds composed names to
the name-length limit), so what `check` accepts renders to a spec `check` accepts."""

from __future__ import annotations

from typing import Any

import yaml

from archspec.frontend.resolve import Item, Resolved


def flow(value: Any) -> str:
    """One line of YAML for `value`, quoted where YAML would read it otherwise (`'null'`)."""
    text = yaml.safe_dump(
        value, default_flow_style=True, width=1 << 16, sort_keys=False, allow_unicode=True
    )
    return str(text).removesuffix("\n").removesuffix("\n...").strip()


def _comment(text: str) -> str:
    """`text` safe in a `#` comment: YAML's line breaks (`\\n`, `\\r`, NEL, the Unicode line
    and paragraph separators) and every other character that is not printable (a control
    character, a lone surrogate from an undecodable file name) are escaped as Python writes them
    (`\\n`, `\\x85`, `\\u2028`), so the comment stays one line that any YAML reader accepts."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace")
                   .decode("ascii") for c in text)  # fmt: skip


def _needed(resolved: Resolved) -> list[Item]:
    """The items, less the included blocks (group type `spec`) no output needs (lower prunes
    them silently; written out, they would be a spec's own dead blocks, with warnings)."""
    live = set(resolved.outputs)
    for item in reversed(resolved.items):
        if item.block.name in live or item.group is None or item.group[1] != "spec":
            inputs = item.block.inputs
            live.update(inputs if isinstance(inputs, list) else [inputs] if inputs else [])
    return [i for i in resolved.items if i.block.name in live
            or i.group is None or i.group[1] != "spec"]  # fmt: skip


def _renamed(value: dict[str, Any], resolved: Resolved) -> dict[str, Any]:
    """`budget` or `expect` with `expect.output_shape`'s keys named as the rendered `outputs`
    names them (`stage` -> `stage_b`, `backbone.conv3_block2` -> `backbone_conv3_block2`)."""
    shapes, written = value.get("output_shape"), resolved.model.outputs
    if not isinstance(shapes, dict) or written is None:
        return value
    final = dict(zip(written, resolved.outputs, strict=True))
    return {**value, "output_shape": {final.get(k, k): v for k, v in shapes.items()}}


def render_spec(resolved: Resolved, source: str | None = None) -> str:
    """The expanded spec's YAML text."""
    m = resolved.model
    lines = [
        f"# Rendered by archspec from {_comment(source or m.name)}: params substituted, "
        "defaults applied,",
        "# repeats and user-defined blocks expanded.",
        "archspec: 1",
        f"name: {flow(m.name)}",
    ]
    if m.description is not None:
        lines.append("description: " + flow(m.description))
    if m.input is not None:
        lines.append(f"input: {flow(m.input)}")
    else:
        lines.append(f"inputs: {flow(m.inputs)}")
    lines.append("blocks:")
    previous = next(iter(m.input_shapes)) if len(m.input_shapes) == 1 else None
    items = _needed(resolved)
    for item in items:
        b = item.block
        entry: dict[str, Any] = {"type": b.type, "name": b.name}
        if b.inputs != [previous]:
            entry["inputs"] = b.inputs if isinstance(b.inputs, list) and len(b.inputs) > 1 else (
                b.inputs[0] if isinstance(b.inputs, list) else b.inputs)  # fmt: skip
        # and the keys that change nothing (W302: bn_* without batch norm, from `defaults` too)
        skip = {"type", "name", "inputs", "repeat", "repeat_names", *b.inert()}
        entry.update(
            {k: v for k, v in b.model_dump(exclude_defaults=True).items() if k not in skip}
        )
        lines.append(f"  - {flow(entry)}")
        previous = b.name
    if m.outputs is not None or resolved.outputs != [items[-1].block.name]:
        lines.append(f"outputs: {flow(resolved.outputs)}")
    for key in ("budget", "expect"):
        value = getattr(m, key)
        if value is not None:
            lines.append(f"{key}: {flow(_renamed(value.model_dump(exclude_none=True), resolved))}")
    return "\n".join(lines) + "\n"
