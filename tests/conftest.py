"""Shared test helpers: the zoo's spec files, a CLI runner in a subprocess, Keras import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").rglob("*.yaml"))


def spec_id(path: Path) -> str:
    return str(path.relative_to(ROOT / "specs"))


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `python -m archspec ARGS` in a subprocess, as a user would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "archspec", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def keras():
    from archspec.backends.keras.emit import import_keras

    return import_keras()


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def randomize(model: Any, rng: Any) -> None:
    """Random weights everywhere (BN variances positive), so that equal outputs mean something;
    `rng` is a numpy Generator."""
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        new = [rng.normal(0, 0.5, w.shape).astype("float32") for w in ws]
        if "BatchNormalization" in type(layer).__name__:
            new[3] = abs(new[3]) + 0.5
        layer.set_weights(new)


def previous_target(out: Path) -> None:
    """An earlier run's save at `out`: a `.keras` file, or a SavedModel folder (`*savedmodel`),
    holding `previous`; what an interrupted save must leave as it is."""
    if out.name.endswith("savedmodel"):
        (out / "variables").mkdir(parents=True)
        (out / "saved_model.pb").write_bytes(b"previous")
    else:
        out.parent.mkdir(exist_ok=True)
        out.write_bytes(b"previous")


class CompiledSpecs:
    """Each spec compiled to Keras once per session, shared by the test modules that need it
    (test_static_vs_keras, test_zoo): the zoo's big models take seconds and hundreds of MB each.

    `get(path)` -> (graph, model); `release(path)` frees a model its last user is done with."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[Any, Any]] = {}

    def get(self, path: Path) -> tuple[Any, Any]:
        import archspec

        path = Path(path).resolve()
        if path not in self._cache:
            graph = archspec.analyze(path)
            self._cache[path] = (graph, archspec.compile(graph))
        return self._cache[path]

    def release(self, path: Path) -> None:
        self._cache.pop(Path(path).resolve(), None)


@pytest.fixture(scope="session")
def compiled_specs(keras) -> CompiledSpecs:
    return CompiledSpecs()
