"""The block library. Importing it registers every built-in block type in REGISTRY."""

from __future__ import annotations

from archspec.blocks import inception, layers, residual, vgg
from archspec.blocks.base import REGISTRY, Block, register

__all__ = ["REGISTRY", "Block", "inception", "layers", "register", "residual", "vgg"]
