"""archspec: a declarative YAML-to-Keras compiler for CNN architectures.

    import archspec
    spec = archspec.load("specs/seed/vgg_three_blocks.yaml")
    graph = archspec.analyze(spec)      # static shapes, params, MACs; no TensorFlow
    model = archspec.compile(spec)      # a keras.Model

Importing archspec never imports TensorFlow or Keras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archspec.core.errors import ArchspecError, Diagnostic, SpecError, UsageError

if TYPE_CHECKING:
    from archspec.app import Spec, analyze, build, compile, export, load
    from archspec.ir.graph import Graph

#: imported on first use, so that `archspec --help` does not pay for pydantic and the blocks
_LAZY = {"Spec": "archspec.app", "analyze": "archspec.app", "compile": "archspec.app",
         "load": "archspec.app", "build": "archspec.app", "export": "archspec.app",
         "Graph": "archspec.ir.graph"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'archspec' has no attribute {name!r}")


__all__ = [
    "ArchspecError",
    "Diagnostic",
    "Graph",
    "Spec",
    "SpecError",
    "UsageError",
    "analyze",
    "build",
    "compile",
    "export",
    "load",
]
__version__ = "0.1.0"
