"""The block library. Importing it registers every built-in block type in REGISTRY, then the
plugin blocks of installed packages (entry-point group `archspec.blocks`).

A plugin entry point names a module (importing it registers its blocks with `@register`) or a
Block subclass (registered here). Plugin modules must not import Keras at import time: their
ops import nothing and get `keras` passed into `emit`, like the built-in ones.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

from archspec.blocks import inception, layers, residual, vgg
from archspec.blocks.base import REGISTRY, Block, register

#: entry-point name -> why it failed to load (shown by `archspec blocks`)
PLUGIN_ERRORS: dict[str, str] = {}


def _load_plugins() -> None:
    for ep in entry_points(group="archspec.blocks"):
        try:
            obj = ep.load()
            is_block = isinstance(obj, type) and issubclass(obj, Block)
            if is_block and obj not in REGISTRY.values():
                register(obj)
        except Exception as e:  # a broken plugin must not break archspec
            PLUGIN_ERRORS[ep.name] = f"{type(e).__name__}: {e}"
            sys.stderr.write(f"archspec: plugin `{ep.name}` failed to load: {e}\n")


_load_plugins()

__all__ = [
    "PLUGIN_ERRORS",
    "REGISTRY",
    "Block",
    "inception",
    "layers",
    "register",
    "residual",
    "vgg",
]
