"""The `defaults` section: per block type, values used where a block does not set them.

A block's own value wins, then `defaults` for its type, then the type's built-in default. They
apply inside user-defined blocks too, and to the params of a user-defined block's uses;
`defaults.batch_norm` also reaches the batch norms a composite block emits (its `bn_*` keys).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from archspec.blocks import REGISTRY, unknown_type_notes
from archspec.core.errors import Diagnostic, SpecError, did_you_mean
from archspec.frontend.loader import Document
from archspec.frontend.resolve import include
from archspec.frontend.resolve.define import COMMON
from archspec.frontend.schema import SpecModel
from archspec.frontend.translate import other_name


def check_defaults(doc: Document, model: SpecModel) -> None:
    """`defaults` names block types and their parameters; a typo is an error there."""
    diags: list[Diagnostic] = []
    for kind, values in model.defaults.items():
        if kind in REGISTRY:
            allowed = [k for k in REGISTRY[kind].model_fields if k not in COMMON]
        elif kind in model.define:
            allowed = list(model.define[kind].params)
        elif kind == include.KIND:  # a block type, but one with nothing to default
            diags.append(doc.diag(
                "E205", f"defaults.{kind}: `{kind}` blocks take no defaults", ("defaults", kind),
                hint="give `set`, `outputs` or `any_size` in each `spec` block", key=True,
            ))  # fmt: skip
            continue
        else:
            diags.append(dataclasses.replace(doc.diag(
                "E205", f"defaults.{kind}: unknown block type `{kind}`", ("defaults", kind),
                hint=did_you_mean(kind, [*REGISTRY, *model.define]),
                key=True), related=unknown_type_notes()))  # fmt: skip
            continue
        for key in values:
            if key not in allowed:
                common = key in COMMON
                diags.append(doc.diag(
                    "E204" if common else "E201",
                    f"defaults.{kind}.{key}: "
                    + (f"`{key}` cannot have a default" if common
                       else f"`{kind}` has no parameter `{key}`"),
                    ("defaults", kind, key), key=True,
                    hint=None if common else other_name(REGISTRY.get(kind), key)
                    or did_you_mean(key, allowed)
                    or "its parameters: " + ", ".join(allowed)))  # fmt: skip
    if diags:
        raise SpecError(diags)


def with_defaults(
    raw: dict[str, Any], kind: str, model: SpecModel
) -> tuple[dict[str, Any], set[str]]:
    """The block `raw` of type `kind` with the defaults for its type filled in, and the keys that
    came from `defaults`. A block that emits batch norms then takes `defaults.batch_norm`'s
    values for the `bn_*` keys it has and does not set (`epsilon` for `bn_epsilon`)."""
    own, batch_norm = model.defaults.get(kind), model.defaults.get("batch_norm")
    if not own and not batch_norm:  # most blocks of most specs
        return raw, set()
    values = dict(own or {})
    block = {**values, **raw}
    for key, value in _inherited(kind, block, batch_norm or {}).items():
        if key not in block:
            block[key] = values[key] = value
    return block, set(values) - set(raw)


def _inherited(kind: str, block: dict[str, Any], batch_norm: dict[str, Any]) -> dict[str, Any]:
    """`defaults.batch_norm`'s values as the `bn_*` keys of `block`, of type `kind`, where it
    emits batch norms (`mbconv` always, `conv` with `batch_norm: true`); none for a
    user-defined type, whose inner `batch_norm` blocks take them themselves."""
    cls = REGISTRY.get(kind)
    if cls is None or kind == "batch_norm":
        return {}
    switch = cls.model_fields.get("batch_norm")
    if block.get("batch_norm", True if switch is None else switch.default) is not True:
        return {}
    return {f"bn_{k}": v for k, v in batch_norm.items() if f"bn_{k}" in cls.model_fields}
