"""Keras 3's backends (issue 19): the same spec built on TensorFlow, JAX and PyTorch.

Keras chooses its backend once per process, when it is imported, so every backend runs in a
subprocess of its own (KERAS_BACKEND set, or --backend): the static figures equal Keras's on JAX
for every block type; one zoo network per family built on JAX gives the TensorFlow build's
outputs with the same weights (saved from TensorFlow as .weights.h5); a `.keras` file written on
one backend loads on another with the same outputs; one training step under JAX's
keras.distribution.DataParallel on two host CPU devices; and the bad input (an unknown backend,
one not installed, an export a backend cannot write). PyTorch is not installed by `make install`
(its PyPI wheel brings GBs of CUDA libraries): its tests are skipped, saying so, where it is
missing (README, "Backends")."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from archspec.backends.keras import backend as backends
from archspec.backends.keras.save import check_target
from archspec.core.errors import ArchspecError
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.keras

HAVE_JAX = importlib.util.find_spec("jax") is not None
HAVE_TORCH = importlib.util.find_spec("torch") is not None
needs_jax = pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed: make install (jax extra)")
needs_torch = pytest.mark.skipif(
    not HAVE_TORCH,
    reason="PyTorch not installed (make install leaves it out: GBs of CUDA libraries); "
    "pip install -e '.[torch]' to run the torch tests",
)
ATOL = 1e-4

#: one job in a process of its own: build zoo networks or spec files on `backend`, with random
#: BN statistics (and LayerNorm / layer-scale weights) saved to `dir`, or load those weights;
#: or load `.keras` files written on another backend; outputs of a fixed batch saved as .npz
JOB = textwrap.dedent(
    """
    import json, os, sys
    job = json.loads(sys.argv[1])
    import numpy as np
    import archspec
    from archspec.backends.keras.emit import import_keras
    from archspec.backends.keras.verify import random_batch, run_keras

    keras = import_keras(job["backend"])
    assert keras.backend.backend() == job["backend"]

    def randomise(model, rng):
        for layer in model.layers:
            weights = layer.get_weights()
            bn = isinstance(layer, keras.layers.BatchNormalization)
            for i, w in enumerate(weights):
                if w.ndim == 1 and (bn or np.all(w == w.flat[0])):
                    ones = (bn and i == len(weights) - 1) or (w.size and w.flat[0] != 0)
                    weights[i] = (rng.uniform(0.5, 1.5, w.shape) if ones
                                  else rng.normal(0, 0.1, w.shape)).astype("float32")
            layer.set_weights(weights)

    def outputs(model):
        probe = keras.Model(model.inputs, [*model.outputs, model.layers[-2].output])
        return run_keras(probe, random_batch(model, 2, 0))

    result = {}
    for name in job["names"]:
        stem = os.path.join(job["dir"], os.path.basename(name).replace(".yaml", ""))
        if job["op"] == "load":
            model = keras.saving.load_model(stem + ".keras", safe_mode=True)
        else:
            model = archspec.compile(name, backend=job["backend"])
            if job["op"] == "save":
                randomise(model, np.random.default_rng(0))
                model.save_weights(stem + ".weights.h5")
                model.save(stem + ".keras")
            else:
                model.load_weights(stem + ".weights.h5")
        out = outputs(model)
        np.savez(f"{stem}.{job['op']}.{job['backend']}.npz", *out)
        result[name] = len(out)
        keras.backend.clear_session()
    print(json.dumps(result))
    """
)


def run_job(
    backend: str, op: str, names: list[str], folder: Path, env: dict[str, str] | None = None
) -> dict[str, int]:
    r = subprocess.run(
        [sys.executable, "-c", JOB, json.dumps({"backend": backend, "op": op, "names": names, "dir": str(folder)})],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": backend, **(env or {})},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def max_diff(folder: Path, name: str, a: str, b: str) -> float:
    """The largest difference between two runs' outputs (`a`, `b`: "op.backend"), the
    penultimate layer's relative to its magnitude where that exceeds 1."""
    stem = folder / Path(name).name.replace(".yaml", "")
    x, y = np.load(f"{stem}.{a}.npz"), np.load(f"{stem}.{b}.npz")
    assert list(x) == list(y)
    diffs = []
    for key in x:
        assert x[key].shape == y[key].shape, key
        scale = max(1.0, float(np.max(np.abs(x[key]))))
        diffs.append(float(np.max(np.abs(x[key].astype(np.float64) - y[key]))) / scale)
    return max(diffs)


# --- the same weights on TensorFlow and JAX: one zoo network per family -----------------------

FAST = ["resnet50", "mobilenet_v2"]
SLOW = ["efficientnet", "densenet", "convnext", "inception_v3"]


def same_on_jax(names: list[str], folder: Path) -> None:
    run_job("tensorflow", "save", names, folder)
    run_job("jax", "weights", names, folder)
    diffs = {n: max_diff(folder, n, "save.tensorflow", "weights.jax") for n in names}
    print("TensorFlow vs JAX, same weights:", diffs)
    assert all(d <= ATOL for d in diffs.values()), diffs


@pytest.mark.zoo  # 80 s: the long tier
@needs_jax
def test_zoo_on_jax_equals_tensorflow_with_the_same_weights(tmp_path):
    same_on_jax(FAST, tmp_path)


@pytest.mark.zoo
@needs_jax
def test_zoo_families_on_jax_equal_tensorflow_with_the_same_weights(tmp_path):
    same_on_jax(SLOW, tmp_path)


# --- .keras across backends -------------------------------------------------------------------

CROSS = ["mobilenet_v2", str(ROOT / "specs" / "examples" / "two_heads.yaml")]
#: every pair (20-70 s each) in the zoo tier
PAIRS = [
    pytest.param("tensorflow", "jax", marks=[needs_jax, pytest.mark.zoo]),
    pytest.param("jax", "tensorflow", marks=[needs_jax, pytest.mark.zoo]),
    pytest.param("tensorflow", "torch", marks=[needs_torch, pytest.mark.zoo]),
    pytest.param("torch", "jax", marks=[needs_torch, needs_jax, pytest.mark.zoo]),
]


@pytest.mark.parametrize(("written", "read"), PAIRS)
def test_a_keras_file_loads_on_another_backend_with_the_same_outputs(tmp_path, written, read):
    run_job(written, "save", CROSS, tmp_path)
    run_job(read, "load", CROSS, tmp_path)
    diffs = {n: max_diff(tmp_path, n, f"save.{written}", f"load.{read}") for n in CROSS}
    print(f".keras from {written} on {read}:", diffs)
    assert all(d <= ATOL for d in diffs.values()), diffs


# --- static figures on JAX, every block type --------------------------------------------------

STATIC = textwrap.dedent(
    """
    import json
    import archspec
    from archspec.blocks import REGISTRY
    from archspec.backends.keras.emit import import_keras
    from tests.test_static_vs_keras import assert_static_equals_keras, example_spec

    keras = import_keras("jax")
    failed = {}
    for kind in REGISTRY:
        graph = archspec.analyze(archspec.load(text=example_spec(kind)))
        try:
            assert_static_equals_keras(keras, graph, archspec.compile(graph, backend="jax"))
        except Exception as e:
            failed[kind] = repr(e)[:300]
    print(json.dumps({"backend": keras.backend.backend(), "kinds": len(REGISTRY),
                      "failed": failed}))
    """
)


@needs_jax
def test_block_static_equals_keras_on_jax():
    from archspec.blocks import REGISTRY

    r = subprocess.run([sys.executable, "-c", STATIC], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got == {"backend": "jax", "kinds": len(REGISTRY), "failed": {}}


# --- beyond one device on JAX -----------------------------------------------------------------

DATA_PARALLEL = textwrap.dedent(
    """
    import json, os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    os.environ["KERAS_BACKEND"] = "jax"
    import numpy as np
    import keras
    import archspec

    devices = keras.distribution.list_devices("cpu")
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    model = archspec.compile("mobilenet_v2", backend="jax")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 224, 224, 3), dtype=np.float32)
    y = rng.integers(0, 1000, size=(4,))
    before = [np.array(w) for w in model.trainable_weights]
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    changed = sum(not np.array_equal(b, np.array(w))
                  for b, w in zip(before, model.trainable_weights))
    print(json.dumps({
        "devices": devices,
        "placed": sorted({len(v.value.sharding.device_set) for v in model.variables}),
        "replicated": all(v.value.sharding.is_fully_replicated for v in model.variables),
        "trainable": len(model.trainable_weights),
        "changed": changed,
        "loss": history.history["loss"][0],
    }))
    """
)


@needs_jax
def test_zoo_model_trains_under_jax_data_parallel_on_two_devices():
    r = subprocess.run([sys.executable, "-c", DATA_PARALLEL], capture_output=True, text=True,
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(got["devices"]) == 2, got["devices"]
    assert got["placed"] == [2] and got["replicated"]  # every variable on both devices
    assert got["changed"] == got["trainable"] > 0  # the step updated every weight
    assert got["loss"] == got["loss"]  # not NaN


# --- the CLI on each backend ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "suffix"),
    [pytest.param("jax", ".keras", marks=needs_jax), pytest.param("torch", ".keras", marks=needs_torch),
     pytest.param("torch", ".onnx", marks=needs_torch)],
)  # fmt: skip
def test_build_verify_on_each_backend(tmp_path, backend, suffix):
    out = tmp_path / f"two_heads{suffix}"
    r = run_cli(
        "build", "specs/examples/two_heads.yaml", "--backend", backend, "-o", str(out), "--verify"
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"Model: two_heads (built by Keras on {backend})" in r.stdout
    assert "Verified: max abs difference" in r.stdout and out.is_file()


@needs_jax
def test_keras_backend_is_the_default(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "jax"}
    r = subprocess.run([sys.executable, "-m", "archspec", "build", "resnet18", "-q"],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run([sys.executable, "-m", "archspec", "build", "resnet18"],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)  # fmt: skip
    assert "Model: resnet18 (built by Keras on jax)" in r.stdout


# --- bad input --------------------------------------------------------------------------------


def test_an_unknown_backend_exits_2_listing_them():
    r = run_cli("build", "resnet18", "--backend", "nosuch")
    assert r.returncode == 2, r.stderr
    assert "error[E003]" in r.stderr and "nosuch" in r.stderr
    assert "tensorflow, jax, torch" in r.stderr
    with pytest.raises(ArchspecError) as e:
        backends.choose("mxnet")
    assert e.value.exit_code == 2


BLOCK = """
import sys
BLOCKED = sys.argv[1]
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, Blocker())
del sys.argv[1]
from archspec.cli import main
main()
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_a_backend_not_installed_exits_2_with_the_pip_command(tmp_path, backend):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", BLOCK, backend, "build", "resnet18", "--backend",
                        backend], capture_output=True, text=True, cwd=tmp_path, env=env)  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "error[E005]" in r.stderr
    assert f"pip install 'archspec-cnn[{backend}]'" in r.stderr


@pytest.mark.parametrize(
    ("backend", "name", "works"),
    [("jax", "m.tflite", "keras"), ("jax", "m", "keras"), ("jax", "m.onnx", "keras"),
     ("torch", "m.tflite", "keras, onnx"), ("torch", "m", "keras, onnx")],
)  # fmt: skip
def test_an_export_a_backend_cannot_write_is_e004_before_keras_loads(
    tmp_path, backend, name, works
):
    with pytest.raises(ArchspecError) as e:
        check_target(tmp_path / name, False, backend=backend)
    (d,) = e.value.diagnostics
    assert d.code == "E004" and e.value.exit_code == 2
    assert f"on {backend} archspec writes: {works}" in (d.hint or "")
    check_target(tmp_path / "m.keras", False, backend=backend)  # .keras everywhere
    r = run_cli("build", "resnet18", "--backend", backend, "-o", str(tmp_path / name))
    assert r.returncode == 2 and "error[E004]" in r.stderr, r.stderr
    assert "Keras" not in r.stdout and not (tmp_path / name).exists()


def test_keras_imported_on_another_backend_is_a_clear_error():
    script = (
        "import os; os.environ['KERAS_BACKEND'] = 'tensorflow'; import keras, archspec\n"
        "try:\n    archspec.compile('resnet18', backend='jax')\n"
        "except archspec.ArchspecError as e:\n    print(e.diagnostics[0].message)\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert "already imported in this process with the tensorflow backend" in r.stdout
