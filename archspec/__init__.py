"""archspec: a declarative YAML-to-Keras compiler for CNN architectures.

    import archspec
    spec = archspec.load("specs/seed/vgg_three_blocks.yaml")
    graph = archspec.analyze(spec)      # static shapes, params, MACs; no TensorFlow
    model = archspec.compile(spec)      # a keras.Model
    result = archspec.check(spec)       # errors and warnings, budget and expect: not raised

Importing archspec never imports TensorFlow or Keras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archspec.core.errors import ArchspecError, Diagnostic, SpecError, UsageError

if TYPE_CHECKING:
    from archspec.app import Spec, analyze, build, compile, export, load
    from archspec.app.check import check_file as check
    from archspec.core.limits import Limits
    from archspec.ir.graph import Graph

#: imported on first use, so that `archspec --help` does not pay for pydantic and the blocks:
#: name -> (module, its name there)
_LAZY = {"Spec": "archspec.app", "analyze": "archspec.app", "compile": "archspec.app",
         "load": "archspec.app", "build": "archspec.app", "export": "archspec.app",
         "Graph": "archspec.ir.graph", "check": "archspec.app.check:check_file",
         "Limits": "archspec.core.limits"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, _, attr = _LAZY[name].partition(":")
        value = getattr(importlib.import_module(module), attr or name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'archspec' has no attribute {name!r}")


__all__ = [
    "ArchspecError",
    "Diagnostic",
    "Graph",
    "Limits",
    "Spec",
    "SpecError",
    "UsageError",
    "analyze",
    "build",
    "check",
    "compile",
    "export",
    "load",
]
__version__ = "0.1.0"
