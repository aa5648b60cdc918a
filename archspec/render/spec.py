"""`archspec render`: the fully expanded spec as YAML that is itself a valid spec building the
same model (params substituted, defaults applied, repeats and user-defined blocks expanded,
every block named)."""

from __future__ import annotations

from typing import Any

import yaml

from archspec.frontend.resolve import Resolved


def _flow(value: Any) -> str:
    """One line of YAML for `value`, quoted where YAML would read it otherwise (`'null'`)."""
    text = yaml.safe_dump(
        value, default_flow_style=True, width=1 << 16, sort_keys=False, allow_unicode=True
    )
    return str(text).removesuffix("\n").removesuffix("\n...").strip()


def render_spec(resolved: Resolved, source: str | None = None) -> str:
    """The expanded spec's YAML text."""
    m = resolved.model
    lines = [
        f"# Rendered by archspec from {source or m.name}: params substituted, defaults applied,",
        "# repeats and user-defined blocks expanded.",
        "archspec: 1",
        f"name: {_flow(m.name)}",
    ]
    if m.description is not None:
        lines.append("description: " + _flow(m.description))
    if m.input is not None:
        lines.append(f"input: {_flow(m.input)}")
    else:
        lines.append(f"inputs: {_flow(m.inputs)}")
    lines.append("blocks:")
    previous = next(iter(m.input_shapes)) if len(m.input_shapes) == 1 else None
    for item in resolved.items:
        b = item.block
        entry: dict[str, Any] = {"type": b.type, "name": b.name}
        if b.inputs != [previous]:
            entry["inputs"] = b.inputs if isinstance(b.inputs, list) and len(b.inputs) > 1 else (
                b.inputs[0] if isinstance(b.inputs, list) else b.inputs)  # fmt: skip
        skip = {"type", "name", "inputs", "repeat", "repeat_names"}
        entry.update(
            {k: v for k, v in b.model_dump(exclude_defaults=True).items() if k not in skip}
        )
        lines.append(f"  - {_flow(entry)}")
        previous = b.name
    if m.outputs is not None:
        lines.append(f"outputs: {_flow(resolved.outputs)}")
    for key in ("budget", "expect"):
        value = getattr(m, key)
        if value is not None:
            lines.append(f"{key}: {_flow(value.model_dump(exclude_none=True))}")
    return "\n".join(lines) + "\n"
