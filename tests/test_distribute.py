"""Training at scale: a compiled spec works unchanged under tf.distribute. The CPU is split
into two logical devices (this must happen before TensorFlow initialises, hence a fresh
subprocess), the spec is compiled inside MirroredStrategy's scope, every variable is checked to
be mirrored on both devices, and one `fit` step runs on random data."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.keras

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import archspec

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = archspec.compile(sys.argv[1])
        model.compile(
            optimizer="sgd",
            loss=["sparse_categorical_crossentropy", "mse"],
        )
    kinds = sorted({type(v.value).__name__ for v in model.variables})
    replicas = sorted({len(v.value.values) for v in model.variables})
    devices = sorted({d for v in model.variables for d in (x.device for x in v.value.values)})
    rng = np.random.default_rng(0)
    x = {"image": rng.standard_normal((8, 32, 32, 3), dtype=np.float32),
         "meta": rng.standard_normal((8, 8), dtype=np.float32)}
    y = [rng.integers(0, 10, size=(8,)), rng.standard_normal((8, 4), dtype=np.float32)]
    before = [np.array(w) for w in model.trainable_weights]
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    changed = sum(not np.array_equal(b, np.array(w))
                  for b, w in zip(before, model.trainable_weights))
    print(json.dumps({
        "replicas_in_sync": strategy.num_replicas_in_sync,
        "kinds": kinds,
        "replicas": replicas,
        "devices": devices,
        "trainable": len(model.trainable_weights),
        "changed": changed,
        "loss": history.history["loss"][0],
    }))
    """
)


def test_spec_trains_under_mirrored_strategy_on_two_devices():
    spec = ROOT / "specs" / "examples" / "two_heads.yaml"
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(spec)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["replicas_in_sync"] == 2
    assert got["kinds"] == ["MirroredVariable"], got["kinds"]  # BN statistics included
    assert got["replicas"] == [2]
    assert [d.rsplit("/", 1)[-1] for d in got["devices"]] == ["device:CPU:0", "device:CPU:1"]
    assert got["changed"] == got["trainable"] > 0  # the fit step updated every weight
    assert got["loss"] == got["loss"]  # not NaN
