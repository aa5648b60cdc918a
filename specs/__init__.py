"""The model zoo, installed inside archspec as the package `archspec.zoo` (pyproject.toml maps
this folder; archspec/frontend/zoo.py reads it with importlib.resources). No code: spec files only.
"""
