"""archspec: a declarative YAML-to-Keras compiler for CNN architectures.

    import archspec
    spec = archspec.load("specs/seed/vgg_three_blocks.yaml")
    graph = archspec.analyze(spec)      # static shapes, params, MACs; no TensorFlow
    model = archspec.compile(spec)      # a keras.Model

Importing archspec never imports TensorFlow or Keras.
"""

from __future__ import annotations

from archspec.api import Spec, analyze, compile, load
from archspec.errors import ArchspecError, Diagnostic, SpecError, UsageError
from archspec.ir import Graph

__all__ = [
    "ArchspecError",
    "Diagnostic",
    "Graph",
    "Spec",
    "SpecError",
    "UsageError",
    "analyze",
    "compile",
    "load",
]
__version__ = "0.1.0"
