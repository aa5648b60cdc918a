"""The public API: load -> analyze (static, no TensorFlow) -> compile (Keras)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archspec import resolve
from archspec.ir import Graph
from archspec.limits import DEFAULT, Limits
from archspec.loader import Document, load_text, read_file
from archspec.lower import Item, lower
from archspec.schema import SpecModel, validate_spec


@dataclass
class Spec:
    """A loaded, validated spec: the document (data and positions), its top level, its blocks."""

    doc: Document
    model: SpecModel
    items: list[Item]

    @property
    def name(self) -> str:
        return self.model.name


def load(
    path: str | os.PathLike[str] | None = None,
    *,
    text: str | None = None,
    sets: Sequence[str] = (),
    limits: Limits | None = None,
) -> Spec:
    """Load and validate a spec from a file, or from `text`. Raises ArchspecError.

    `sets` are `name=value` overrides of the spec's `params` (the CLI's `--set`); `limits`
    replaces the default limits (archspec/limits.py)."""
    lim = limits or DEFAULT
    if text is not None:
        doc = load_text(text, os.fspath(path) if path is not None else "<spec>", lim)
    elif path is not None:
        doc = read_file(path, lim)
    else:
        raise TypeError("load() needs a path or text=")
    model = validate_spec(doc)
    return Spec(doc=doc, model=model, items=resolve.expand(doc, model, sets))


def analyze(
    spec: Spec | str | os.PathLike[str], sets: Sequence[str] = (), limits: Limits | None = None
) -> Graph:
    """The graph IR with static shapes, parameters and MACs. Never imports TensorFlow.

    The limits are those `spec` was loaded with, unless `limits` is given."""
    s = spec if isinstance(spec, Spec) else load(spec, sets=sets, limits=limits)
    return lower(s.doc, s.model, s.items, limits)


def compile(spec: Spec | Graph | str | os.PathLike[str]) -> Any:
    """Build the keras.Model. Works inside a tf.distribute strategy scope."""
    from archspec.emit import to_keras

    return to_keras(spec if isinstance(spec, Graph) else analyze(spec))
