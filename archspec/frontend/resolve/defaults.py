"""The `defaults` section: per block type, values used where a block does not set them.

A block's own value wins, then `defaults` for its type, then the type's built-in default. They
apply inside user-defined blocks too, and to the params of a user-defined block's uses.
"""

from __future__ import annotations

from typing import Any

from archspec.blocks import REGISTRY
from archspec.core.errors import Diagnostic, SpecError, did_you_mean
from archspec.frontend.loader import Document
from archspec.frontend.resolve.define import COMMON
from archspec.frontend.schema import SpecModel


def check_defaults(doc: Document, model: SpecModel) -> None:
    """`defaults` names block types and their parameters; a typo is an error there."""
    diags: list[Diagnostic] = []
    for kind, values in model.defaults.items():
        if kind in REGISTRY:
            allowed = [k for k in REGISTRY[kind].model_fields if k not in COMMON]
        elif kind in model.define:
            allowed = list(model.define[kind].params)
        else:
            diags.append(doc.diag(
                "E205", f"defaults.{kind}: unknown block type `{kind}`", ("defaults", kind),
                hint=did_you_mean(kind, [*REGISTRY, *model.define]),
                key=True))  # fmt: skip
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
                    hint=None if common else did_you_mean(key, allowed)
                    or "its parameters: " + ", ".join(allowed)))  # fmt: skip
    if diags:
        raise SpecError(diags)


def with_defaults(
    raw: dict[str, Any], kind: str, model: SpecModel
) -> tuple[dict[str, Any], set[str]]:
    """The block `raw` of type `kind` with the defaults for its type filled in, and the keys that
    came from `defaults`."""
    values = model.defaults.get(kind, {})
    return {**values, **raw}, set(values) - set(raw)
