"""Saving and exporting: every format for the seed specs, a two-input two-output spec and
ResNet50 (reloaded and compared with Keras), the `.keras` file read by a process that never
imports archspec, and the failure modes (unwritable folder, existing target, SIGKILL mid-save,
a failure inside the save, a failed parity check) run as a user would, in subprocesses."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from archspec.core.errors import UsageError
from tests.conftest import ROOT, previous_target, run_cli, write

SEED = sorted((ROOT / "specs" / "seed").glob("*.yaml"))
TWO_HEADS = ROOT / "specs" / "examples" / "two_heads.yaml"
#: a fully convolutional model whose input has an unknown height and width
ANY_SIZE = ROOT / "specs" / "examples" / "any_size.yaml"
FORMATS = {"keras": "m.keras", "savedmodel": "m_savedmodel", "tflite": "m.tflite", "onnx": "m.onnx"}

pytestmark = pytest.mark.keras


def digest(path: Path) -> str:
    """A hash of a file, or of a folder tree (names and contents)."""
    h = hashlib.sha256()
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            h.update(str(p.relative_to(path)).encode())
            if p.is_file():
                h.update(p.read_bytes())
    else:
        h.update(path.read_bytes())
    return h.hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if ".archspec-" in n)


# --- every format, parity with Keras ------------------------------------------------------


@pytest.fixture(scope="module")
def models(keras):
    """The Keras models under test, built once: the seed specs and the two examples."""
    from archspec import app as api

    return {p.stem: api.compile(p) for p in [*SEED, TWO_HEADS, ANY_SIZE]}


@pytest.mark.parametrize("name", [p.stem for p in [*SEED, TWO_HEADS, ANY_SIZE]])
def test_every_format_saves_reloads_and_matches_keras(tmp_path, models, name):
    """One random batch (of 1 for the seed specs, which are heavy at 256 x 256; of 2 for the
    examples, so that the artefacts' batch dimension is exercised; any_size is fed at
    verify.UNKNOWN_SIZE, so its artefacts must keep the height and width dynamic) and the
    Keras outputs for it, compared with each format's artefact reloaded from disk."""
    from archspec.backends.keras import verify
    from archspec.backends.keras.save import check_target, export

    ref = verify.reference(models[name], batch=1 if name in {p.stem for p in SEED} else 2)
    if name == "any_size":
        assert ref[0]["input"].shape == (2, verify.UNKNOWN_SIZE, verify.UNKNOWN_SIZE, 3)
    for fmt, file in FORMATS.items():
        target = check_target(tmp_path / file, force=False, verify=True)
        assert target.format == fmt
        saved = export(models[name], target, verify=True, reference=ref)
        assert saved.max_abs_diff is not None and saved.max_abs_diff <= 1e-4, fmt
        assert (tmp_path / file).is_dir() == (fmt == "savedmodel")
    assert sorted(os.listdir(tmp_path)) == sorted(FORMATS.values())  # no temporary left


def test_verify_compares_every_output(models):
    """The parity check sees both heads: a model whose second head is wrong fails it."""
    import numpy as np

    from archspec.backends.keras import verify

    model = models["two_heads"]
    inputs = verify.random_batch(model, 2, 0)
    assert sorted(inputs) == ["image", "meta"]
    outs = verify.run_keras(model, inputs)
    assert [o.shape for o in outs] == [(2, 10), (2, 4)]
    np.testing.assert_allclose(outs[0].sum(axis=1), 1.0, rtol=1e-5)  # the softmax head first


@pytest.fixture(scope="module")
def resnet50(keras):
    """The zoo's resnet50 spec once it exists, else keras.applications' ResNet50."""
    from archspec import app as api

    spec = next((ROOT / "specs").rglob("resnet50.yaml"), None)
    if spec is not None:
        return api.compile(spec)
    return keras.applications.ResNet50(weights=None)


@pytest.mark.zoo  # 77 s: the long tier (`make test-zoo`)
def test_resnet50_every_format_verifies(tmp_path, resnet50):
    from archspec.backends.keras import verify
    from archspec.backends.keras.save import check_target, export

    ref = verify.reference(resnet50, batch=2)
    for fmt, name in FORMATS.items():
        target = check_target(tmp_path / name, False, verify=True)
        saved = export(resnet50, target, verify=True, reference=ref)
        assert saved.max_abs_diff is not None and saved.max_abs_diff <= 1e-4, fmt
    assert sorted(os.listdir(tmp_path)) == sorted(FORMATS.values())


def test_keras_file_loads_without_archspec(tmp_path, models):
    """A process that never imports archspec loads each `.keras` file with safe_mode=True, and
    its config.json names no Lambda and no module outside keras."""
    from archspec.backends.keras.save import Target, export

    files = []
    for name, model in models.items():
        export(model, Target(tmp_path / f"{name}.keras", "keras"))
        files.append(str(tmp_path / f"{name}.keras"))
    code = textwrap.dedent(
        f"""
        import json, os, sys, zipfile
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import keras
        for path in {files!r}:
            model = keras.saving.load_model(path, safe_mode=True)
            config = zipfile.ZipFile(path).read("config.json").decode()
            print(json.dumps([path, model.count_params(), config]))
        assert not any(m.split(".")[0] == "archspec" for m in sys.modules)
        """
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row[1] for row in rows] == [m.count_params() for m in models.values()]
    for path, _, config in rows:
        assert "Lambda" not in config, path
        modules = _values(json.loads(config), "module")
        assert modules and all(m.split(".")[0] == "keras" for m in modules), (path, modules)


def _values(node: object, key: str) -> list[str]:
    if isinstance(node, dict):
        own = [node[key]] if isinstance(node.get(key), str) else []
        return own + [v for x in node.values() for v in _values(x, key)]
    if isinstance(node, list):
        return [v for x in node for v in _values(x, key)]
    return []


# --- the CLI end to end -------------------------------------------------------------------


def test_cli_exports_two_headed_model_to_onnx_and_verifies(tmp_path):
    r = run_cli("build", str(TWO_HEADS), "-o", str(tmp_path / "m.onnx"), "--verify")
    assert r.returncode == 0, r.stderr
    assert "Saved: " in r.stdout and "(ONNX, " in r.stdout
    assert "Verified: max abs difference " in r.stdout
    assert r.stderr == ""  # no converter chatter
    assert os.listdir(tmp_path) == ["m.onnx"]


#: the layers Keras's ONNX export on TensorFlow writes wrong, with exit status 0 (a deployment
#: walkthrough found EfficientNet, EfficientNetV2 and ConvNeXt files that did not run)
BROKEN_IN_ONNX = {
    "normalization": ("{type: normalization}", "E806", "the exporter made"),
    "grouped conv": ("{type: conv, filters: 8, kernel: 3, groups: 2}", "E806", "onnxruntime"),
}


@pytest.mark.parametrize("name", BROKEN_IN_ONNX)
def test_onnx_of_layers_the_exporter_breaks_is_refused_before_the_build(tmp_path, name):
    block = BROKEN_IN_ONNX[name][0]
    spec = write(tmp_path, f"name: m\ninput: [16, 16, 8]\nblocks:\n  - {block}\n")
    code = "import sys\nfrom archspec.cli import main\nmain()\nassert 'keras' not in sys.modules"
    r = subprocess.run([sys.executable, "-c", code, "build", str(spec), "-o",
                        str(tmp_path / "m.onnx")], capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "error[E004]: cannot write" in r.stderr and "Keras's ONNX export" in r.stderr
    assert "export .tflite, a SavedModel or .keras instead" in r.stderr
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("name", BROKEN_IN_ONNX)
def test_plain_keras_still_breaks_those_layers_and_the_file_is_checked(tmp_path, monkeypatch, name):
    """Without the check before the build, the file Keras's export writes is caught (E806,
    nothing written): so the refusal above stands on what Keras does, and goes stale loudly."""
    from archspec import app as api
    from archspec.backends.keras import save
    from archspec.core.errors import ArchspecError

    block, code, words = BROKEN_IN_ONNX[name]
    monkeypatch.setattr(save, "check_onnx", lambda graph, path: None)
    built = api.build(api.load(text=f"name: m\ninput: [16, 16, 8]\nblocks:\n  - {block}\n"),
                      tmp_path / "m.onnx")  # fmt: skip
    with pytest.raises(ArchspecError) as e:
        api.export(built)
    d = e.value.diagnostics[0]
    assert d.code == code and words in d.message and "nothing was written" in d.message
    assert os.listdir(tmp_path) == []


def test_every_other_layer_exports_to_onnx(tmp_path):
    """The layers of the families next to those: layer and group norm, layer scale, depthwise,
    separable and dilated convs, conv transpose, bilinear upsampling, MBConv with SE."""
    blocks = ["{type: layer_norm}", "{type: group_norm, groups: 2}", "{type: layer_scale}",
              "{type: depthwise_conv, kernel: 3}", "{type: separable_conv, filters: 8, kernel: 3}",
              "{type: conv, filters: 8, kernel: 3, dilation: 2}",
              "{type: mbconv, filters: 8, se_ratio: 0.25, activation: swish}",
              "{type: conv_transpose, filters: 8, kernel: 3, strides: 2}",
              "{type: upsample, size: 2, interpolation: bilinear}",
              "{type: rescaling, scale: 0.5, offset: 1}", "{type: dense, units: 5}"]  # fmt: skip
    spec = write(tmp_path, "name: m\ninput: [16, 16, 8]\nblocks:\n"
                 + "".join(f"  - {b}\n" for b in blocks))  # fmt: skip
    r = run_cli("build", str(spec), "-o", str(tmp_path / "m.onnx"), "--verify")
    assert r.returncode == 0, r.stderr
    assert "Verified: max abs difference " in r.stdout


def test_verify_is_relative_to_large_outputs(tmp_path):
    """A walkthrough's three he_normal convs scaled by 1000: TFLite's float rounding (about
    6e-3 on outputs in the thousands) was E801 against the absolute 1e-4."""
    blocks = [*["{type: conv, filters: 16, kernel: 3, kernel_initializer: he_normal}"] * 3,
              "{type: rescaling, scale: 1000}"]  # fmt: skip
    spec = write(tmp_path, "name: big\ninput: [32, 32, 3]\nblocks:\n"
                 + "".join(f"  - {b}\n" for b in blocks))  # fmt: skip
    r = run_cli("build", str(spec), "-o", str(tmp_path / "m.tflite"), "--verify")
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("Verified:"))
    assert re.fullmatch(r"Verified: max abs difference \S+ \(\S+ relative to outputs over 1\) "
                        r"\(tolerance 0.0001\)", line), line  # fmt: skip


def test_verify_holds_each_element_to_its_own_magnitude(monkeypatch):
    """A review: the tolerance scaled with the largest output of all, so a box head in the
    thousands let a softmax beside it be off by 0.12. Each element is held to max(1, |e|)."""
    import numpy as np

    from archspec.backends.keras import verify

    classes = np.full((2, 10), 0.1, dtype=np.float32)
    box = np.full((2, 4), 5000.0, dtype=np.float32)
    off = {"a": [classes + 0.01, box], "b": [classes, box + 0.05]}
    for name, got in off.items():
        monkeypatch.setitem(verify.RUNNERS, name, lambda path, model, inputs, got=got: got)
    ref = ({}, [classes, box])
    abs_a, rel_a = verify.measure(None, Path("x"), "a", ref=ref)
    assert rel_a == pytest.approx(0.01, rel=1e-3) and abs_a == pytest.approx(0.01, rel=1e-3)
    abs_b, rel_b = verify.measure(None, Path("x"), "b", ref=ref)  # 0.05 of 5000: 1e-5
    assert abs_b == pytest.approx(0.05, rel=1e-2) and rel_b == pytest.approx(1e-5, rel=1e-2)
    # and how much outputs change with the input: per element over the batch
    assert verify.variation([classes, box]) == 0.0
    moving = classes.copy()
    moving[1, 3] += 0.02
    assert verify.variation([moving, box]) == pytest.approx(0.02, rel=1e-3)


def test_verify_warns_where_the_outputs_do_not_vary(tmp_path):
    """A fresh classifier's softmax is about 1 / classes for any input: any file of the right
    shapes passes (a walkthrough's MobileNetV2 verified at 0 everywhere), so say so (W802)."""
    spec = write(tmp_path, "name: flat\ninput: [8, 8, 3]\nblocks:\n  - {type: rescaling, "
                 "scale: 0}\n  - {type: global_avg_pool}\n  - {type: dense, units: 10, "
                 "activation: softmax}\n")  # fmt: skip
    r = run_cli("build", str(spec), "-o", str(tmp_path / "m.keras"), "--verify")
    assert r.returncode == 0, r.stderr
    assert "warning[W802]: the outputs --verify compared" in r.stderr
    assert (tmp_path / "m.keras").exists()
    varies = write(tmp_path, spec.read_text().replace("scale: 0}", "scale: 1}"), "v.yaml")
    r = run_cli("build", str(varies), "-o", str(tmp_path / "n.keras"), "--verify")
    assert r.returncode == 0 and "W802" not in r.stderr, r.stderr


def test_verify_of_grouped_convs_prints_no_tensorflow_warning(tmp_path):
    # a walkthrough: "WARNING:tensorflow:5 out of the last 5 calls to <function conv.<locals>.
    # _conv_xla ...> triggered tf.function retracing", twice, on a ConvNeXt-like spec with -q
    convs = "".join(f"  - {{type: conv, filters: 8, kernel: 3, groups: {g}}}\n"
                    for g in (8, 4, 2, 8, 4, 2, 1))  # fmt: skip
    spec = write(tmp_path, "name: g\ninput: [16, 16, 8]\nblocks:\n" + convs)
    r = run_cli("build", str(spec), "-o", str(tmp_path / "g.keras"), "--verify", "-q")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


def test_cli_replaces_a_savedmodel_folder_with_force(tmp_path, keras):
    out = tmp_path / "model"
    (out / "variables").mkdir(parents=True)
    (out / "saved_model.pb").write_bytes(b"previous")
    before = digest(out)
    r = run_cli("build", str(TWO_HEADS), "-o", str(out))
    assert r.returncode == 2 and "--force" in r.stderr
    assert digest(out) == before
    r = run_cli("build", str(TWO_HEADS), "-o", str(out), "--force", "--verify")
    assert r.returncode == 0, r.stderr
    assert "(SavedModel, " in r.stdout and "Verified: " in r.stdout
    assert os.listdir(tmp_path) == ["model"]
    import tensorflow as tf

    signature = tf.saved_model.load(str(out)).signatures["serve"].structured_input_signature
    assert set(signature[1]) == {"image", "meta"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "m.keras", "--format", "onnx"], "its suffix says keras"),
        (["-o", "m.xyz"], "cannot tell the format"),
        (
            ["-o", "m.keras", "--format", "pdf"],
            "--format must be one of keras, savedmodel, tflite, onnx; received 'pdf'",
        ),
        (["--verify"], "--verify needs an output"),
        (["-o", "m.keras", "--tolerance", "-1"], "--tolerance must be >= 0"),
    ],
)
def test_bad_export_options_exit_2(tmp_path, args, message):
    r = run_cli("build", str(TWO_HEADS), *args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert os.listdir(tmp_path) == []


def test_failed_verify_exits_1_and_keeps_the_previous_target(tmp_path):
    """TFLite differs from Keras by ~1e-7: a tolerance of 0 fails, nothing is replaced."""
    out = tmp_path / "m.tflite"
    out.write_bytes(b"previous")
    r = run_cli("build", str(TWO_HEADS), "-o", str(out), "--force", "--verify", "--tolerance", "0")
    assert r.returncode == 1, r.stderr
    assert "error[E801]" in r.stderr and "max abs difference" in r.stderr
    assert out.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["m.tflite"]


# --- failures ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["m.keras", "m_savedmodel"])
def test_unwritable_folder_exits_2_and_writes_nothing(tmp_path, name):
    (tmp_path / "file").write_text("not a folder")
    r = run_cli("build", str(TWO_HEADS), "-o", str(tmp_path / "file" / name))
    assert r.returncode == 2 and "does not exist (it is a file)" in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["file"]


@pytest.mark.parametrize("name", ["m.keras", "m_savedmodel"])
def test_write_that_fails_as_root_exits_2(name):
    """/proc accepts no new files, even from root: the failure comes from the write itself."""
    r = run_cli("build", str(TWO_HEADS), "-o", f"/proc/{name}")
    assert r.returncode == 2, r.stderr
    assert f"cannot write /proc/{name}" in r.stderr and "Traceback" not in r.stderr
    assert not [n for n in os.listdir("/proc") if "archspec" in n]


BIG = (
    "name: big\ninput: [64, 64, 3]\nblocks:\n  - {type: flatten}\n  - {type: dense, units: 2000}\n"
)


def _kill_once_temporary_appears(tmp_path: Path, out: Path) -> None:
    """Start a slow save (a 98 MB model), SIGKILL it as soon as its temporary path exists."""
    spec = write(tmp_path, BIG, "big.yaml")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "archspec", "build", str(spec), "-o", str(out), "--force"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while not leftovers(out.parent):
            assert proc.poll() is None, "the save finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("name", ["m.keras", "m_savedmodel"])
def test_sigkill_mid_save_keeps_previous_target_and_next_run_cleans_up(tmp_path, name):
    out = tmp_path / "out" / name
    previous_target(out)
    before = digest(out)
    _kill_once_temporary_appears(tmp_path, out)
    assert digest(out) == before
    assert leftovers(out.parent)  # the killed run's temporary, recognisably named
    if name.endswith("savedmodel"):  # the next save's first step, in-process
        from archspec.backends.keras.save import clean_leftovers

        assert clean_leftovers(out) and digest(out) == before
    else:  # the next save, as a user runs it
        r = run_cli("build", str(TWO_HEADS), "-o", str(out), "--force")
        assert r.returncode == 0, r.stderr
        assert "an interrupted save was cleaned up" in r.stderr
    assert leftovers(out.parent) == [] and os.listdir(out.parent) == [name]


FAIL_INSIDE = """
import sys
import archspec.backends.keras.save as save

def boom(model, tmp, fmt, stage, shapes=None):
    (tmp / "half").mkdir(parents=True) if fmt == "savedmodel" else tmp.write_bytes(b"half")
    raise {exc}

save._write = boom
sys.argv = ["archspec", "build", {spec!r}, "-o", {out!r}, "--force"]
from archspec.cli import main
main()
"""


@pytest.mark.parametrize(
    ("name", "exc", "code"),
    [
        ("m.keras", "RuntimeError('disk on fire')", 3),
        ("m_savedmodel", "RuntimeError('disk on fire')", 3),
        ("m.onnx", "KeyboardInterrupt()", 130),
    ],
)
def test_failure_inside_save_keeps_previous_target_and_leaves_no_temporary(
    tmp_path, name, exc, code
):
    out = tmp_path / name
    previous_target(out)
    before = digest(out)
    script = FAIL_INSIDE.format(exc=exc, spec=str(TWO_HEADS), out=str(out))
    r = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert r.returncode == code, r.stderr
    if code == 3:  # the injected failure, not another one, is what stopped the save
        assert "RuntimeError: disk on fire" in r.stderr, r.stderr
    assert digest(out) == before
    assert os.listdir(tmp_path) == [name]


def test_crash_between_the_two_renames_is_repaired_by_the_next_run(tmp_path):
    """Where no atomic exchange exists, a folder is replaced by two renames; a crash between
    them leaves the old folder aside and no target. The next save puts it back first."""
    from archspec.backends.keras.save import clean_leftovers

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    target = tmp_path / "model"
    aside = tmp_path / f".model.archspec-old-{dead.pid}-0badf00d"
    (aside / "variables").mkdir(parents=True)
    (aside / "saved_model.pb").write_bytes(b"previous")
    new = tmp_path / f".model.archspec-tmp-{dead.pid}-12345678.savedmodel"
    new.mkdir()
    live = tmp_path / f".model.archspec-tmp-{os.getpid()}-87654321.savedmodel"
    live.mkdir()  # a save still running (this process): left alone
    notes = clean_leftovers(target)
    assert (target / "saved_model.pb").read_bytes() == b"previous"
    assert sorted(os.listdir(tmp_path)) == sorted(["model", live.name])
    assert len(notes) == 2


def test_a_target_set_aside_is_put_back_before_the_build(tmp_path):
    """check_target (before TensorFlow) restores it, so `exists` comes first and says so: it
    came after a whole build, and the restore was never told."""
    from archspec.backends.keras.save import check_target

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f".m.keras.archspec-old-{dead.pid}-0badf00d").write_bytes(b"previous")
    with pytest.raises(UsageError) as e:
        check_target(tmp_path / "m.keras", force=False)
    d = e.value.diagnostics[0]
    assert d.message == f"{tmp_path / 'm.keras'} exists"
    assert d.hint is not None and d.hint.startswith(
        f"restored {tmp_path / 'm.keras'} from .m.keras"
    )
    assert (tmp_path / "m.keras").read_bytes() == b"previous"
    target = check_target(tmp_path / "m.keras", force=True)  # nothing left to report
    assert target.cleaned == [] and os.listdir(tmp_path) == ["m.keras"]


@pytest.mark.parametrize(("path", "message"), [
    ("v.KERAS", "Keras loads a model only from a lower-case .keras"),  # --verify passed it
    ("", "cannot write an empty path"),
    ("/proc/x.keras", "cannot write /proc/x.keras: "),  # it came after a build (as root)
])  # fmt: skip
def test_targets_refused_before_the_build(tmp_path, monkeypatch, path, message):
    from archspec.backends.keras.save import check_target

    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as e:
        check_target(path, force=True)
    assert message in e.value.diagnostics[0].message
    assert os.listdir(tmp_path) == []


def test_replacing_without_exchange_uses_rename_aside(tmp_path, monkeypatch):
    """The fallback for systems without renameat2: old aside, new in, old deleted."""
    import archspec.core.files as files

    monkeypatch.setattr(files, "_renameat2", lambda a, b, flags: False)
    target, tmp = tmp_path / "model", tmp_path / ".model.archspec-tmp-1-00.savedmodel"
    target.mkdir()
    (target / "old").write_text("old")
    tmp.mkdir()
    (tmp / "new").write_text("new")
    files.commit(tmp, target, force=True)
    assert os.listdir(target) == ["new"] and os.listdir(tmp_path) == ["model"]


def test_commit_without_force_never_clobbers_a_target_that_appeared_meanwhile(tmp_path):
    import archspec.core.files as files
    from archspec.core.errors import UsageError

    target, tmp = tmp_path / "m.keras", tmp_path / ".m.keras.archspec-tmp-1-00.keras"
    target.write_bytes(b"someone else's")
    tmp.write_bytes(b"ours")
    with pytest.raises(UsageError, match="exists"):
        files.commit(tmp, target, force=False)
    assert target.read_bytes() == b"someone else's"


def test_onnx_without_its_extra_names_the_extra(tmp_path, monkeypatch):
    """Without tf2onnx / onnxruntime, `-o model.onnx` stops before anything is built."""
    import archspec.backends.keras.save as save
    from archspec.core.errors import UsageError

    monkeypatch.setattr(save, "_importable", lambda module: module != "onnxruntime")
    save.check_target(tmp_path / "m.onnx", force=False)  # writing needs no onnxruntime
    with pytest.raises(UsageError) as e:
        save.check_target(tmp_path / "m.onnx", force=False, verify=True)
    d = e.value.diagnostics[0]
    assert (
        d.code == "E002" and "onnxruntime" in d.message and "archspec-cnn[onnx]" in (d.hint or "")
    )
    assert os.listdir(tmp_path) == []
