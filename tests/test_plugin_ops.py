"""Plugin ops in `archspec build`: an op whose `infer`/`cost` disagree with the layer its `emit`
returns is E805 (nothing written); a plugin layer whose weights live in sublayers reads from a
Keras 3 `.weights.h5` as Keras's own `load_weights` does; a `.keras` model holding a plugin's
layer class warns (W801) that loading it needs that class.

The plugin's blocks are registered here for the test only (REGISTRY, monkeypatched), and the
CLI runs in process so that it sees them. Figures compared are Keras's own (a layer built here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from typer.testing import CliRunner, Result

import archspec
from archspec.blocks import REGISTRY
from archspec.blocks.base import Block
from archspec.cli import app
from archspec.core.errors import ArchspecError
from archspec.core.units import Shape
from archspec.ir.graph import Builder
from archspec.ir.op import Cost, Op
from tests.conftest import ROOT, write

pytestmark = pytest.mark.keras

HIDDEN = 4


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


# --- the test plugin: ops, their blocks, and a Keras layer with sublayers ----------------------


@dataclass(frozen=True)
class CountsTen(Op):
    """Says 10 params; emits a layer without weights."""

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        return Cost(trainable=10)

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Activation("linear", name=name)


@dataclass(frozen=True)
class KeepsShape(Op):
    """Says the shape is kept and nothing is learned; emits Dense(3)."""

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def emit(self, keras: Any, name: str) -> Any:
        return keras.layers.Dense(3, name=name)


@dataclass(frozen=True)
class SharedMLP(Op):
    """A channel MLP (CBAM's shared MLP): a custom Keras layer holding two Dense sublayers."""

    hidden: int

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def cost(self, shapes: list[Shape], out: Shape) -> Cost:
        c = int(shapes[0][-1])  # type: ignore[arg-type]
        return Cost(trainable=c * self.hidden + self.hidden + self.hidden * c + c)

    registered: bool = False

    def emit(self, keras: Any, name: str) -> Any:
        cls = mlp_class(keras)
        if self.registered:  # as a plugin registers its layer for loading
            cls = _MLP.get("registered") or _MLP.setdefault(
                "registered",
                keras.saving.register_keras_serializable("archspec_test")(
                    type("RegisteredMLPLayer", (cls,), {"__module__": __name__})
                ),
            )
        return cls(self.hidden, name=name)


_MLP: dict[str, type] = {}


def mlp_class(keras: Any) -> type:
    """The plugin's Keras layer (defined once Keras is imported): weights only in sublayers."""
    if "mlp" not in _MLP:

        class SharedMLPLayer(keras.layers.Layer):  # type: ignore[misc, name-defined]
            def __init__(self, hidden: int, **kwargs: Any) -> None:
                super().__init__(**kwargs)
                self.hidden = hidden
                self.fc1 = keras.layers.Dense(hidden, activation="relu", name="fc1")
                self.fc2 = None

            def build(self, shape: Any) -> None:
                self.fc2 = keras.layers.Dense(shape[-1], name="fc2")
                self.fc1.build(shape)
                self.fc2.build((*shape[:-1], self.hidden))

            def call(self, x: Any) -> Any:
                return self.fc2(self.fc1(x))

            def compute_output_shape(self, shape: Any) -> Any:
                return shape

            def get_config(self) -> dict[str, Any]:
                return {**super().get_config(), "hidden": self.hidden}

        _MLP["mlp"] = SharedMLPLayer
    return _MLP["mlp"]


def block(kind: str, op: Op) -> type[Block]:
    """A one-layer block type `kind` that adds `op`."""
    annotations = {"type": Literal[kind]}  # type: ignore[valid-type]

    def expand(self: Block, b: Builder, inputs: list[str]) -> str:
        return b.add("", op, inputs[0])

    namespace = {"__annotations__": annotations, "type": kind, "expand": expand,
                 "example": f"{{type: {kind}}}", "__module__": __name__}  # fmt: skip
    return type(f"Block_{kind}", (Block,), namespace)


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for kind, op in (("counts_ten", CountsTen()), ("keeps_shape", KeepsShape()),
                     ("shared_mlp", SharedMLP(HIDDEN)),
                     ("registered_mlp", SharedMLP(HIDDEN, registered=True))):  # fmt: skip
        monkeypatch.setitem(REGISTRY, kind, block(kind, op))
    yield


def spec(tmp_path: Path, kind: str) -> Path:
    return write(tmp_path, f"name: m\ninput: [8, 8, 16]\nblocks:\n"
                 f"  - {{type: conv, filters: 4, kernel: 1}}\n  - {{type: {kind}, name: odd}}\n"
                 "  - {type: global_avg_pool}\n")  # fmt: skip


# --- 1: an op's static figures against its layer ------------------------------------------------


def test_an_op_whose_cost_differs_from_its_layer_is_e805(tmp_path, keras, plugin):
    out = tmp_path / "m.keras"
    r = run("build", spec(tmp_path, "counts_ten"), "-o", out)
    assert r.exit_code == 1, r.output
    # the layer's figures, as Keras counts them
    layer = keras.layers.Activation("linear")
    layer.build((None, 8, 8, 4))
    assert "error[E805]" in r.stderr
    message = " ".join(r.stderr.split())
    assert "blocks[1]: layer `odd` of block `odd`" in message
    assert f"CountsTen (module {__name__})" in message
    assert "10 params (10 trainable, 0 non-trainable) (its `cost`)" in message
    assert f"has {layer.count_params()} params" in message
    assert (
        "(Activation)" in message and "`infer`/`cost` disagrees with the layer it emits" in message
    )
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "spec.yaml"]


def test_an_op_whose_shape_differs_from_its_layer_is_e805(tmp_path, keras, plugin):
    with pytest.raises(ArchspecError) as e:
        archspec.build(spec(tmp_path, "keeps_shape"))
    (d,) = e.value.diagnostics
    layer = keras.layers.Dense(3)
    shape = tuple(layer(keras.Input((8, 8, 4))).shape)
    assert d.code == "E805" and d.path == ("blocks", 1)
    assert "output shape (None, 8, 8, 4) (its `infer`)" in d.message
    assert f"output shape {shape}" in d.message
    assert f"has {layer.count_params()} params" in d.message
    assert "KeepsShape" in d.message and "(Dense)" in d.message


def test_an_op_that_agrees_builds(tmp_path, keras, plugin):
    built = archspec.build(spec(tmp_path, "shared_mlp"))
    assert built.model.count_params() == built.graph.params


# --- 2: weights of a plugin layer kept in sublayers -----------------------------------------------


def saved_weights(tmp_path: Path, kind: str = "shared_mlp") -> tuple[Any, Path]:
    """A model of the test spec with random weights, and the .weights.h5 Keras saved of it."""
    model = archspec.build(spec(tmp_path, kind)).model
    rng = np.random.default_rng(0)
    for v in model.weights:
        v.assign(rng.normal(0, 0.5, v.shape).astype("float32"))
    path = tmp_path / "x.weights.h5"
    model.save_weights(str(path))
    return model, path


def test_a_plugin_layers_weights_in_sublayers_load_as_keras_loads_them(tmp_path, keras, plugin):
    source, path = saved_weights(tmp_path)
    # Keras's own load_weights into a fresh model is the reference
    reference = archspec.build(spec(tmp_path, "shared_mlp")).model
    reference.load_weights(str(path))
    built = archspec.build(spec(tmp_path, "shared_mlp"), weights=path)
    for ours, theirs, original in zip(built.model.weights, reference.weights, source.weights,
                                      strict=True):  # fmt: skip
        assert ours.path == theirs.path
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        np.testing.assert_array_equal(ours.numpy(), original.numpy())
    (loaded,) = built.weights
    assert loaded.by_name == len([layer for layer in built.model.layers if layer.weights])


def test_a_plugin_layers_sublayers_that_differ_are_e803(tmp_path, keras, plugin, monkeypatch):
    _, path = saved_weights(tmp_path)
    monkeypatch.setitem(REGISTRY, "shared_mlp", block("shared_mlp", SharedMLP(HIDDEN * 2)))
    with pytest.raises(ArchspecError) as e:
        archspec.build(spec(tmp_path, "shared_mlp"), weights=path)
    (d,) = e.value.diagnostics
    assert d.code == "E803"
    c = 4  # the conv's filters: the MLP's width
    assert f"`odd` [fc1: {c}x{HIDDEN * 2}, {HIDDEN * 2}; fc2: {HIDDEN * 2}x{c}, {c}]" in d.message
    assert f"the file's `odd` [fc1: {c}x{HIDDEN}, {HIDDEN}; fc2: {HIDDEN}x{c}, {c}]" in d.message


# --- 3: a .keras model holding a plugin's layer class -------------------------------------------


def test_saving_a_plugin_layer_warns_how_to_load_it(tmp_path, keras, plugin):
    out = tmp_path / "m.keras"
    r = run("build", spec(tmp_path, "shared_mlp"), "-o", out, "--verify", "-q")
    assert r.exit_code == 0, r.output
    assert out.exists()
    cls = mlp_class(keras)
    message = " ".join(r.stderr.split())
    assert f"warning[W801]: {out} holds layers whose classes are not Keras's own" in message
    assert f"{__name__}.{cls.__qualname__} (`odd`)" in message
    assert "@keras.saving.register_keras_serializable()" in message
    assert f'custom_objects={{"{cls.__name__}": {cls.__name__}}}' in message
    # what the warning says: in a process without the class Keras cannot load the file, and
    # with the class given as custom_objects it can
    code = f"import keras; keras.saving.load_model({str(out)!r})"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})  # fmt: skip
    assert fresh.returncode != 0 and "Could not locate class" in fresh.stderr
    loaded = keras.saving.load_model(str(out), custom_objects={cls.__name__: cls})
    assert loaded.get_layer("odd").__class__ is cls


def test_saving_a_registered_plugin_layer_says_to_import_its_module(tmp_path, keras, plugin):
    out = tmp_path / "m.keras"
    r = run("build", spec(tmp_path, "registered_mlp"), "-o", out)
    assert r.exit_code == 0, r.output
    message = " ".join(r.stderr.split())
    assert f"warning[W801]: {out} holds layers" in message
    assert f"{__name__}.RegisteredMLPLayer (`odd`)" in message
    assert f"hint: import {__name__} before keras.saving.load_model" in message
    assert "custom_objects" not in message


def test_saving_built_in_layers_does_not_warn(tmp_path, keras, plugin):
    out = tmp_path / "m.keras"
    r = run("build", ROOT / "specs" / "seed" / "vgg_one_block.yaml", "-o", out, "-q")
    assert r.exit_code == 0, r.output
    assert "W801" not in r.stderr and out.exists()


def test_a_weights_file_whose_groups_link_in_a_loop_is_e803(tmp_path):
    """Sublayers are read by following groups: a file whose groups link back (HDF5 hard links)
    is E803, not an endless walk."""
    import h5py

    from archspec.backends.keras import weights

    path = tmp_path / "loop.weights.h5"
    with h5py.File(path, "w") as f:
        layer = f.create_group("layers/dense")
        layer.create_group("vars").attrs["name"] = "dense"
        layer["vars/0"] = np.zeros((2, 2), "float32")
        layer.create_group("sub")["loop"] = layer  # a hard link back to the layer's group
    with pytest.raises(ArchspecError) as e:
        weights.read(path)
    assert e.value.diagnostics[0].code == "E803"
    assert "nested more than" in e.value.diagnostics[0].message
