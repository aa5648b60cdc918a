"""The public API: load -> analyze (static, no TensorFlow) -> compile (Keras)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from archspec.core.limits import DEFAULT, Limits
from archspec.frontend.loader import load_text, read_file
from archspec.frontend.lower import lower
from archspec.frontend.resolve import Resolved, resolve
from archspec.ir.graph import Graph

#: A loaded spec: the document, its validated top level, its expanded blocks and outputs.
Spec = Resolved


def load(
    path: str | os.PathLike[str] | None = None,
    *,
    text: str | None = None,
    sets: Sequence[str] = (),
    limits: Limits | None = None,
) -> Spec:
    """Load, validate and resolve a spec from a file, or from `text`. Raises ArchspecError.

    `sets` are `name=value` overrides of the spec's `params` (the CLI's `--set`); `limits`
    replaces the default limits (archspec/core/limits.py); the document keeps them for the later
    stages."""
    lim = limits or DEFAULT
    if text is not None:
        doc = load_text(text, os.fspath(path) if path is not None else "<spec>", lim)
    elif path is not None:
        doc = read_file(path, lim)
    else:
        raise TypeError("load() needs a path or text=")
    return resolve(doc, sets)


def analyze(
    spec: Spec | str | os.PathLike[str], sets: Sequence[str] = (), limits: Limits | None = None
) -> Graph:
    """The graph IR with static shapes, parameters and MACs. Never imports TensorFlow.

    The limits are those `spec` was loaded with, unless `limits` is given."""
    s = spec if isinstance(spec, Resolved) else load(spec, sets=sets, limits=limits)
    return lower(s, limits)


def compile(spec: Spec | Graph | str | os.PathLike[str], sets: Sequence[str] = ()) -> Any:
    """Build the keras.Model. Works inside a tf.distribute strategy scope."""
    from archspec.backends.keras.emit import to_keras

    return to_keras(spec if isinstance(spec, Graph) else analyze(spec, sets))
