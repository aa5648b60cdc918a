"""The block library. Importing it registers every built-in block type in REGISTRY, then the
plugin blocks of installed packages (entry-point group `archspec.blocks`).

Built-in blocks are discovered, not listed: every module of this package and its sub-packages is
imported (sorted by name), and each registers its blocks with `@register`. A new block type or
op is a new file here (a family) or in layers/ (an op and its layer type). REGISTRY is then put
in a fixed order, whatever order the imports ran in: the families first, then the layers, each
by module name and then by position in the file.

A plugin entry point names a module (importing it registers its blocks with `@register`) or a
Block subclass (registered here). Plugin modules must not import Keras at import time: their
ops import nothing and get `keras` passed into `emit`, like the built-in ones.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from importlib.metadata import entry_points

from archspec.blocks.base import PLUGINS, REGISTRY, Block, register
from archspec.core.errors import Related

#: entry-point name -> why it failed to load (shown by `archspec blocks`)
PLUGIN_ERRORS: dict[str, str] = {}
#: entry-point name -> its value (the module), for the plugins that registered no block type
EMPTY_PLUGINS: dict[str, str] = {}


def _discover() -> None:
    """Import every module of the package, then order REGISTRY (families, then layers)."""
    found = pkgutil.walk_packages(__path__, prefix=f"{__name__}.")
    for name in sorted(m.name for m in found):
        importlib.import_module(name)

    # within a module, registration order is the order of the classes in the file
    rank = {kind: k for k, kind in enumerate(REGISTRY)}

    def key(kind: str) -> tuple[bool, str, int]:
        cls = REGISTRY[kind]
        return (cls.family == "layer", cls.__module__, rank[kind])

    ordered = [(kind, REGISTRY[kind]) for kind in sorted(REGISTRY, key=key)]
    REGISTRY.clear()
    REGISTRY.update(ordered)


def _load_plugins() -> None:
    """Load each entry point; the block types it registers are noted in PLUGINS (errors name
    the plugin of a type). One that fails part-way registers nothing: the types it registered
    before it failed are taken out again, as the stderr line says it is not loaded. A warning
    on stderr names one that registers no block type (noted on E205 too), and one that imports
    Keras or TensorFlow (which every command then pays for)."""
    for ep in entry_points(group="archspec.blocks"):
        before = set(REGISTRY)
        light = [m for m in _HEAVY if m not in sys.modules]
        try:
            obj = ep.load()
            is_block = isinstance(obj, type) and issubclass(obj, Block)
            if is_block and obj not in REGISTRY.values():
                register(obj)
        except Exception as e:  # a broken plugin must not break archspec
            PLUGIN_ERRORS[ep.name] = f"{type(e).__name__}: {e}"
            sys.stderr.write(f"archspec: plugin `{ep.name}` failed to load: {e}\n")
            for kind in REGISTRY.keys() - before:
                del REGISTRY[kind]
        else:
            if not is_block and not REGISTRY.keys() - before:
                EMPTY_PLUGINS[ep.name] = ep.value
                _warn(ep.name, f"(`{ep.value}`) registered no block type: its module must "
                      "define Block subclasses with `@archspec.blocks.register`")  # fmt: skip
        imported = [m for m in light if m in sys.modules]
        if imported:
            _warn(ep.name, f"imports {' and '.join(imported)} when it is imported, so every "
                  "archspec command does (`check` and `plot` take seconds more): plugin "
                  "modules must not import Keras at import time; an op's `emit` receives "
                  "`keras`")  # fmt: skip
        dist = ep.dist.name if ep.dist is not None else None
        for kind in REGISTRY.keys() - before:
            PLUGINS[kind] = (ep.name, dist)


#: what a plugin must not import at import time (what `archspec check` does without)
_HEAVY = ("keras", "tensorflow")


def _warn(plugin: str, what: str) -> None:
    sys.stderr.write(f"archspec: warning: plugin `{plugin}` {what}\n")


def unknown_type_notes() -> tuple[Related, ...]:
    """The notes of an unknown block type (E205): the plugins that failed to load or
    registered nothing, one of which may have been meant to provide it."""
    failed = [f"plugin `{n}` failed to load: {why}" for n, why in PLUGIN_ERRORS.items()]
    empty = [f"plugin `{n}` (`{v}`) registered no block type" for n, v in EMPTY_PLUGINS.items()]
    return tuple(Related(text) for text in (*failed, *empty))


_discover()
_load_plugins()

__all__ = ["PLUGIN_ERRORS", "REGISTRY", "Block", "register"]
