"""`archspec build` through the CLI in subprocesses: the summary, saving, and broken specs."""

from __future__ import annotations

import os

import pytest

from tests.conftest import ROOT, run_cli, write

SEED = ROOT / "specs" / "seed"

# (name, spec text, error code, line, col): each broken in one place
BROKEN = [
    (
        "unknown_key",
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filters: 4, n_conv: 1, kernal: 3}\n",
        "E201",
        4,
        42,
    ),
    (
        "bool_for_int",
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - type: vgg\n    n_filters: yes\n    n_conv: 1\n",
        "E202",
        5,
        16,
    ),
    (
        "float_for_int",
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filters: 3.5, n_conv: 1}\n",
        "E202",
        4,
        28,
    ),
    (
        "string_for_int",
        'name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filters: "64", n_conv: 1}\n',
        "E202",
        4,
        28,
    ),
    (
        "unknown_type",
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vggg, n_filters: 4, n_conv: 1}\n",
        "E205",
        4,
        12,
    ),
    (
        "unknown_reference",
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 4, kernel: 3, inputs: imput}\n",
        "E301",
        4,
        49,
    ),
    (
        "self_reference",
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, name: a, filters: 4, kernel: 3, inputs: a}\n",
        "E301",
        4,
        58,
    ),
    (
        "later_reference",
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 4, kernel: 3, inputs: b}\n  - {type: conv, name: b, filters: 4, kernel: 3}\n",
        "E301",
        4,
        49,
    ),
    (
        "identity_mismatch",
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: residual, n_filters: 64, shortcut: identity}\n",
        "E401",
        4,
        47,
    ),
    (
        "add_unequal",
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, name: a, filters: 4, kernel: 3}\n  - {type: conv, name: b, filters: 5, kernel: 3}\n  - {type: add, inputs: [a, b]}\n",
        "E401",
        6,
        5,
    ),
    (
        "collapse",
        "name: m\ninput: [4, 4, 3]\nblocks:\n  - {type: vgg, n_filters: 4, n_conv: 1}\n  - {type: vgg, n_filters: 4, n_conv: 1}\n  - {type: vgg, n_filters: 4, n_conv: 1}\n",
        "E402",
        6,
        5,
    ),
    (
        "duplicate_key",
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - type: vgg\n    n_filters: 4\n    n_filters: 8\n    n_conv: 1\n",
        "E102",
        6,
        5,
    ),
    (
        "python_tag",
        'name: m\ninput: [8, 8, 3]\nblocks:\n  - !!python/object/apply:os.system ["touch pwned"]\n',
        "E104",
        4,
        5,
    ),
    ("anchor", "name: m\ninput: &i [8, 8, 3]\nblocks:\n  - {type: flatten}\n", "E103", 2, 8),
    ("merge_key", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {<<: {type: flatten}}\n", "E105", 4, 6),
]


@pytest.mark.parametrize(
    ("name", "text", "code", "line", "col"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_broken_spec_exits_1_with_position(tmp_path, name, text, code, line, col):
    spec = write(tmp_path, text)
    out = tmp_path / "model.keras"
    before = sorted(os.listdir(tmp_path))
    r = run_cli("build", str(spec), "-o", str(out), cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert f"{spec}:{line}:{col}: error[{code}]" in r.stderr
    assert "Traceback" not in r.stderr
    assert sorted(os.listdir(tmp_path)) == before  # nothing written (and no `pwned`)


def test_build_prints_block_summary_and_keras_totals():
    r = run_cli("build", str(SEED / "inception_two_modules.yaml"))
    assert r.returncode == 0, r.stderr
    assert "inception_3a" in r.stdout and "inception_3b" in r.stdout
    assert "Total params: 513,120" in r.stdout
    assert "Output shape: (None, 256, 256, 480)" in r.stdout
    # the summary names the backend (issue 19), and there is no TensorFlow start-up noise on
    # either stream (its log lines name TensorFlow, oneDNN or cuda)
    assert "(built by Keras on tensorflow)" in r.stdout
    rest = (r.stdout.replace("(built by Keras on tensorflow)", "") + r.stderr).lower()
    assert "tensorflow" not in rest and "onednn" not in rest and "cuda" not in rest


def test_build_layers_prints_keras_table():
    r = run_cli("build", str(SEED / "vgg_one_block.yaml"), "--layers")
    assert r.returncode == 0, r.stderr
    assert "vgg_1_conv2 (Conv2D)" in r.stdout


def test_save_then_refuse_then_force(tmp_path, keras):
    out = tmp_path / "m.keras"
    r = run_cli("build", str(SEED / "vgg_one_block.yaml"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    model = keras.saving.load_model(out, safe_mode=True)
    assert model.count_params() == 38_720
    stamp = out.read_bytes()
    r = run_cli("build", str(SEED / "residual_module.yaml"), "-o", str(out))
    assert r.returncode == 2 and "--force" in r.stderr
    assert out.read_bytes() == stamp
    r = run_cli("build", str(SEED / "residual_module.yaml"), "-o", str(out), "--force")
    assert r.returncode == 0, r.stderr
    assert keras.saving.load_model(out, safe_mode=True).count_params() == 38_976
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "missing.yaml"], "no such file"),
        (["build", str(SEED / "vgg_one_block.yaml"), "-o", "nowhere/m.keras"], "does not exist"),
        (["build", str(SEED / "vgg_one_block.yaml"), "-o", "m.h5"], "HDF5"),
        # a walkthrough: Keras 3's weights file was refused as "the legacy HDF5 format"
        (
            ["build", str(SEED / "vgg_one_block.yaml"), "-o", "m.weights.h5"],
            "writes whole models, not weights alone\n  hint: save as m.keras: it holds the weights",
        ),
        (["build"], "Missing argument"),
    ],
)
def test_usage_errors_exit_2(tmp_path, args, message):
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert os.listdir(tmp_path) == []


def test_all_schema_errors_reported_together(tmp_path):
    spec = write(
        tmp_path,
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filter: 4, n_conv: 1.5}\n  - {type: dense, units: yes}\n",
    )
    r = run_cli("build", str(spec))
    assert r.returncode == 1
    assert "did you mean `n_filters`?" in r.stderr
    for where in (
        "4:17: error[E201]",
        "4:38: error[E202]",
        "5:26: error[E202]",
    ):
        assert where in r.stderr
    assert "3 errors" in r.stderr
    assert "error[E203]" not in r.stderr  # the misspelled key is not also reported as missing


def test_number_written_as_text_gets_a_hint(tmp_path):
    spec = write(
        tmp_path, "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: batch_norm, epsilon: 1e-5}\n"
    )
    r = run_cli("render", str(spec))
    assert r.returncode == 1
    assert "received '1e-5' (a string)" in r.stderr
    assert "write `1.0e-5`" in r.stderr
