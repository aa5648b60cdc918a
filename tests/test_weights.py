"""`archspec build SPEC --weights FILE` (issue 15): keras.applications weight files of both
layouts (the legacy HDF5 that keras.applications downloads, and Keras 3's `.weights.h5`) load
into the zoo's networks; a file of another network is E803 (exit 1) naming the first layers that
differ, with nothing written; a missing file is E001 (exit 2) before Keras is imported.

Every weights file is written here from a keras.applications model built with weights=None and
randomised weights (BatchNormalization's statistics included): nothing is downloaded. The loaded
model is the one `-o out.keras` saved, reloaded, and its outputs on a random batch are compared
with the reference's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

import archspec
from archspec.cli import app
from tests.conftest import ROOT

pytestmark = pytest.mark.keras

RESNET50 = ROOT / "specs" / "resnet50.yaml"
EFFICIENTNET = ROOT / "specs" / "families" / "efficientnet.yaml"
VGG = ROOT / "specs" / "seed" / "vgg_one_block.yaml"
#: the largest absolute difference accepted between our outputs and the reference's (the same
#: layers with the same weights: float32 rounding at most)
ATOL = 1e-5
#: how many intermediate outputs the comparison probes
PROBES = 8


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def randomised(model: Any, seed: int = 0) -> Any:
    """`model` with every weight random but in a range that keeps activations sane: kernels as
    initialised, biases and BN's beta and mean small, gamma and variances around 1."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for v in layer.weights:
            name = v.path.rsplit("/", 1)[-1]
            if name in ("gamma", "moving_variance", "variance"):
                v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
            elif name in ("beta", "bias", "moving_mean", "mean"):
                v.assign(rng.normal(0.0, 0.1, v.shape).astype("float32"))
        if hasattr(layer, "finalize_state"):  # Normalization reads its variables there
            layer.finalize_state()
    return model


def write_both(model: Any, folder: Path) -> dict[str, Path]:
    """`model`'s weights in both layouts: {"keras3": .weights.h5, "legacy": .h5}."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    keras3 = folder / f"{model.name}.weights.h5"
    model.save_weights(keras3)
    legacy = folder / f"{model.name}_weights_tf_dim_ordering_tf_kernels.h5"
    with h5py.File(legacy, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return {"keras3": keras3, "legacy": legacy}


def max_difference(keras: Any, ours: Any, reference: Any, low: float, high: float) -> float:
    """The largest difference between our outputs and the reference's on a random batch: the
    predictions (absolute) and PROBES intermediate outputs spread over the network (relative to
    their magnitude where it exceeds 1: a random network's predictions are near uniform, and
    deep in it its activations hardly depend on the input)."""
    names = {layer.name for layer in ours.layers}
    weighted = [layer.name for layer in reference.layers if layer.weights and layer.name in names]
    probes = weighted[:: max(1, len(weighted) // PROBES)]
    batch = np.random.default_rng(1).uniform(low, high, (2, 224, 224, 3)).astype("float32")
    out = []
    for model in (ours, reference):
        tensors = [model.get_layer(n).output for n in probes] + [model.output]
        out.append([np.asarray(t) for t in keras.Model(model.inputs, tensors)([batch])])
    assert out[0][-1].shape == out[1][-1].shape == (2, 1000)
    first = out[1][0]
    assert np.max(np.abs(first[0] - first[1])) > 1e-2, "the first probe ignores the input"
    return max(
        float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))
        for a, b in zip(out[0], out[1], strict=True)
    )


def build_and_compare(
    keras: Any, reference: Any, spec: Path, sets: list[str], files: dict[str, Path], tmp: Path,
    pixels: tuple[float, float],
) -> dict[str, float]:  # fmt: skip
    diffs = {}
    for layout, path in files.items():
        out = tmp / f"{layout}.keras"
        r = run("build", spec, *sets, "--weights", path, "-o", out)
        assert r.exit_code == 0, r.stderr
        assert f"Loaded weights: {path} (" in r.stdout and "by name" in r.stdout, r.stdout
        ours = keras.saving.load_model(out, safe_mode=True)
        diffs[layout] = max_difference(keras, ours, reference, *pixels)
        del ours
    print(f"\n{reference.name}: max abs difference of the outputs {diffs}")
    return diffs


@pytest.fixture(scope="module")
def resnet50(keras, tmp_path_factory) -> Iterator[tuple[Any, dict[str, Path]]]:
    reference = randomised(keras.applications.ResNet50(weights=None))
    yield reference, write_both(reference, tmp_path_factory.mktemp("resnet50"))
    keras.backend.clear_session()


def test_resnet50_both_layouts(keras, resnet50, tmp_path):
    reference, files = resnet50
    diffs = build_and_compare(keras, reference, RESNET50, [], files, tmp_path, (-1.0, 1.0))
    assert all(d <= ATOL for d in diffs.values()), diffs


def test_convnext_tiny_both_layouts(keras, tmp_path):
    """A walkthrough: Keras's ConvNeXt nests its stem and downsampling layers (Sequential
    models: `convnext_tiny_stem/convnext_tiny_stem_conv/kernel`), and its files were E803."""
    reference = randomised(keras.applications.ConvNeXtTiny(weights=None))
    files = write_both(reference, tmp_path)
    diffs = {}
    for layout, path in files.items():
        built = archspec.build("convnext_tiny", weights=path)
        (loaded,) = built.weights
        assert loaded.by_name == sum(1 for layer in built.model.layers if layer.weights)
        diffs[layout] = max_difference(keras, built.model, reference, 0, 255)
        del built
    print(f"\nconvnext_tiny: max abs difference of the outputs {diffs}")
    assert all(d <= ATOL for d in diffs.values()), diffs
    # and as a backbone cut after stage 2: a block inside the one user-defined block the zoo's
    # ConvNeXt is (a walkthrough: nothing in it could be named, so nothing could be cut)
    spec = tmp_path / "head.yaml"
    spec.write_text("name: head\ninput: [224, 224, 3]\nblocks:\n  - {type: spec, name: bb, path: "
                    "convnext_tiny, outputs: [convnext_tiny_stage_2_block_8]}\n  - {type: "
                    "global_avg_pool}\n  - {type: dense, name: out, units: 5}\n")  # fmt: skip
    built = archspec.build(spec, weights={"bb": files["legacy"]})
    tap = next(b.output for b in built.graph.blocks if b.name == "bb_convnext_tiny_stage_2_block_8")
    batch = np.random.default_rng(3).uniform(0, 255, (2, 224, 224, 3)).astype("float32")
    ours = keras.Model(built.model.inputs, built.model.get_layer(tap).output)(batch)
    end = reference.get_layer("convnext_tiny_downsampling_block_2").input  # stage 2's output
    theirs = keras.Model(reference.inputs, end)(batch)
    assert ours.shape == theirs.shape == (2, 14, 14, 384)
    assert float(np.max(np.abs(np.asarray(ours) - np.asarray(theirs)))) <= ATOL


def test_efficientnet_b0_both_layouts(keras, tmp_path):
    """Our `mbconv` has no ZeroPadding2D nor Reshape layers where Keras has them: weightless
    layers take no part in the pairing."""
    reference = randomised(keras.applications.EfficientNetB0(weights=None))
    files = write_both(reference, tmp_path)
    sets = ["--set", "variant=b0"]
    diffs = build_and_compare(keras, reference, EFFICIENTNET, sets, files, tmp_path, (0, 255))
    # the library's model as built, not saved and reloaded: its Normalization reads the loaded
    # mean and variance too
    built = archspec.build(EFFICIENTNET, sets=["variant=b0"], weights=files["legacy"])
    diffs["in memory"] = max_difference(keras, built.model, reference, 0, 255)
    print(f"in memory: {diffs['in memory']}")
    assert all(d <= ATOL for d in diffs.values()), diffs


def test_efficientnet_b0_as_keras_builds_it_for_imagenet_weights(keras, tmp_path, monkeypatch):
    """A walkthrough: with weights="imagenet" Keras adds a Rescaling after its Normalization,
    which the zoo's spec lacked, so ImageNet weights loaded into it gave other outputs, unsaid.
    `--set imagenet_weights=true` builds that graph. The reference is Keras's own imagenet graph, its
    download replaced by a file of random weights (nothing is fetched)."""
    import keras.src.applications.efficientnet as efficientnet

    source = randomised(keras.applications.EfficientNetB0(weights=None), seed=4)
    files = write_both(source, tmp_path)
    monkeypatch.setattr(efficientnet.file_utils, "get_file",
                        lambda *args, **kwargs: str(files["legacy"]))  # fmt: skip
    reference = keras.applications.EfficientNetB0(weights="imagenet")
    assert [type(layer).__name__ for layer in reference.layers[1:4]] == [
        "Rescaling", "Normalization", "Rescaling"
    ]  # fmt: skip
    built = archspec.build(EFFICIENTNET, sets=["variant=b0", "imagenet_weights=true"],
                           weights=files["legacy"])  # fmt: skip
    diff = max_difference(keras, built.model, reference, 0, 255)
    plain = archspec.build(EFFICIENTNET, sets=["variant=b0"], weights=files["legacy"])
    without = max_difference(keras, plain.model, reference, 0, 255)
    print(f"\nEfficientNet-B0, imagenet graph: max difference {diff}; without: {without}")
    assert diff <= ATOL < without


def test_another_network_is_exit_1_and_writes_nothing(keras, tmp_path):
    other = keras.applications.VGG16(weights=None, include_top=False)
    files = write_both(other, tmp_path)
    for path in files.values():
        out = tmp_path / "out.keras"
        r = run("build", RESNET50, "--weights", path, "-o", out)
        assert r.exit_code == 1, r.stdout + r.stderr
        assert "error[E803]" in r.stderr and "does not fit `resnet50`" in r.stderr
        # the first differing layers, ours vs the file's, with their shapes
        assert "`conv1_conv` [7x7x3x64, 64] vs the file's `block1_conv1` [3x3x3x64, 64]" in (
            r.stderr
        )
        assert "107 weighted layers here, 13 in the file" in r.stderr
        assert "Traceback" not in r.stderr + r.stdout
        assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == sorted(
            p.name for p in files.values()
        )


def test_a_layer_of_another_shape(keras, resnet50, tmp_path):
    """By name, one layer's shapes differ: E803 names it."""
    import h5py

    legacy = tmp_path / "changed.h5"
    legacy.write_bytes(resnet50[1]["legacy"].read_bytes())
    with h5py.File(legacy, "r+") as f:
        del f["predictions/predictions/bias"]
        f["predictions/predictions/bias"] = np.zeros(10, "float32")
    r = run("build", RESNET50, "--weights", legacy)
    assert r.exit_code == 1 and "Traceback" not in r.stderr
    assert (
        "1 mismatch (a pair of layers whose shapes differ, or a layer with no partner), "
        "first: `predictions` [2048x1000, 1000] vs the file's `predictions` " in (r.stderr)
    )
    assert "[2048x1000, 10]" in r.stderr


def tiny_files(keras, tmp_path: Path) -> tuple[Any, dict[str, Path]]:
    """The seed VGG block's weights, randomised, with its layers' names dropped (Keras 3) or
    changed (legacy): pairing falls back on the order."""
    import h5py

    model = randomised(archspec.compile(VGG), seed=3)
    files = write_both(model, tmp_path)
    with h5py.File(files["keras3"], "r+") as f:
        for key in f["layers"]:
            f[f"layers/{key}/vars"].attrs.pop("name", None)
    with h5py.File(files["legacy"], "r+") as f:
        f.attrs["layer_names"] = [f"renamed_{n}" for n in f.attrs["layer_names"]]
        for name in list(f):
            f.move(name, f"renamed_{name}")
    return model, files


def test_by_order_when_names_differ(keras, tmp_path):
    model, files = tiny_files(keras, tmp_path)
    for path in files.values():
        out = tmp_path / f"{path.stem}.keras"
        r = run("build", VGG, "--weights", path, "-o", out)
        assert r.exit_code == 0, r.stderr
        assert "by order" in r.stdout and "by name" not in r.stdout, r.stdout
        loaded = keras.saving.load_model(out, safe_mode=True)
        for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


def test_keras2_layer_names_with_a_slash_stay_whole(keras, tmp_path):
    """Keras 2's files name layers `conv1/conv` (DenseNet) or `Conv/BatchNorm` (MobileNetV3),
    their weights `conv1/conv/kernel:0`: a review found them read as nested models, both
    layers named `conv` (a ConvNeXt file's `stem/stem_conv/kernel` is one)."""
    import h5py

    spec = tmp_path / "two.yaml"  # a layer named as the file's would be, cut at the `/`
    spec.write_text("name: two\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, name: conv, filters: 8,"
                    " kernel: 3}\n  - {type: conv, name: conv_2, filters: 16, kernel: 3}\n")  # fmt: skip
    model = randomised(archspec.compile(spec), seed=5)
    legacy = tmp_path / "keras2.h5"
    weighted = [layer for layer in model.layers if layer.weights]
    names = [f"block{k}/conv" for k in range(1, len(weighted) + 1)]
    with h5py.File(legacy, "w") as f:
        f.attrs["layer_names"] = [n.encode() for n in names]
        for name, layer in zip(names, weighted, strict=True):
            group = f.require_group(name)
            keys = [f"{name}/{v.name}:0" for v in layer.weights]
            group.attrs["weight_names"] = [k.encode() for k in keys]
            for key, value in zip(keys, layer.get_weights(), strict=True):
                group[key] = value
    built = archspec.build(spec, weights=legacy)
    assert (built.weights[0].by_name, built.weights[0].by_order) == (0, len(weighted))
    for a, b in zip(built.model.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_not_weights(tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("not HDF5\n")
    r = run("build", VGG, "--weights", text)
    assert r.exit_code == 2 and "error[E001]" in r.stderr and "not an HDF5 file" in r.stderr


def test_a_truncated_file_names_itself_and_says_what_may_be_wrong(tmp_path):
    import h5py

    whole = tmp_path / "whole.h5"
    with h5py.File(whole, "w") as f:
        f["layer/kernel"] = np.zeros((64, 64), "float32")
    cut = tmp_path / "cut.h5"
    cut.write_bytes(whole.read_bytes()[:100])  # an interrupted download
    r = run("build", VGG, "--weights", cut)
    assert r.exit_code == 2 and r.stderr.startswith(f"{cut}: error[E001]: weights file"), r.stderr
    assert "hint: the file may be truncated or damaged: copy it again" in r.stderr


def test_missing_file_is_exit_2_before_keras(tmp_path):
    """In a fresh process: exit 2 (E001), and neither TensorFlow nor Keras was imported."""
    out = tmp_path / "out.keras"
    code = (
        "import sys\n"
        "from archspec.cli import app\n"
        "try:\n"
        f"    app(['build', {str(RESNET50)!r}, '--weights', 'nowhere.h5', '-o', {str(out)!r}])\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "print(code, bad)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert r.stdout.strip() == "2 []", r.stdout + r.stderr
    assert "error[E001]: weights file nowhere.h5: not found" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def test_a_keras_archive_is_named_as_one(keras, tmp_path):
    """A .keras archive was labelled "(Keras 3 .weights.h5)", and a damaged one was "not an
    HDF5 file" with a hint that named the .h5 layouts only."""
    from archspec.backends.keras.weights import ARCHIVE, read

    archive = tmp_path / "vgg.keras"
    archspec.compile(VGG).save(archive)
    assert read(archive).layout == ARCHIVE == "Keras 3 .keras archive"
    cut = tmp_path / "cut.keras"
    cut.write_bytes(archive.read_bytes()[:200])  # an interrupted download
    r = run("build", VGG, "--weights", cut)
    assert r.exit_code == 2 and f"weights file {cut}: not a .keras archive (a zip)" in r.stderr
    assert "hint: the file may be truncated or damaged: copy it again" in r.stderr
    r = run("build", RESNET50, "--weights", archive)  # another model's: the label says which
    assert r.exit_code == 1 and f"weights file {archive} (Keras 3 .keras archive)" in r.stderr


# --- a file into a `spec` block: a new head on a pretrained backbone --------------------------

#: ResNet-50 cut after conv4 (its conv5 layers are pruned), with a new 10-class head
CLASSIFIER = """\
archspec: 1
name: classifier
input: [224, 224, 3]
blocks:
  - {type: spec, name: backbone, path: resnet50, outputs: [conv4_block6]}
  - {type: global_avg_pool}
  - {type: dense, name: head, units: 10, activation: softmax}
"""


@pytest.fixture(scope="module")
def resnet50_notop(keras, tmp_path_factory) -> Iterator[tuple[Any, dict[str, Path]]]:
    reference = randomised(keras.applications.ResNet50(weights=None, include_top=False), seed=5)
    yield reference, write_both(reference, tmp_path_factory.mktemp("resnet50_notop"))
    keras.backend.clear_session()


def test_a_backbone_file_loads_into_its_spec_block_alone(keras, resnet50_notop, tmp_path):
    """keras.applications' `_notop` file into the `spec` block: the backbone's outputs are the
    reference's, its layers past the cut are left unused, the head keeps its initial weights."""
    reference, files = resnet50_notop
    spec = tmp_path / "classifier.yaml"
    spec.write_text(CLASSIFIER)
    weighted = [layer.name for layer in reference.layers if layer.weights]
    past = [n for n in weighted if n.startswith("conv5_")]  # what the spec prunes
    batch = np.random.default_rng(2).uniform(-1, 1, (2, 224, 224, 3)).astype("float32")
    expected = keras.Model(reference.inputs, reference.get_layer("conv4_block6_out").output)(batch)
    for layout, path in files.items():
        built = archspec.build(spec, weights={"backbone": path})
        (loaded,) = built.weights
        assert (loaded.part, loaded.by_name, loaded.by_order) == (
            "backbone", len(weighted) - len(past), 0
        ), layout  # fmt: skip
        assert loaded.unused == len(past) > 0
        assert built.unloaded == ("head",)
        model = built.model
        tap = keras.Model(model.inputs, model.get_layer("backbone_conv4_block6_out").output)
        diff = float(np.max(np.abs(np.asarray(tap(batch)) - np.asarray(expected))))
        print(f"\nbackbone from {layout}: max abs difference at conv4_block6_out {diff}")
        assert diff <= ATOL, (layout, diff)
        keras.backend.clear_session()
    out = tmp_path / "classifier.keras"
    r = run("build", spec, "--weights", f"backbone={files['legacy']}", "-o", out)
    assert r.exit_code == 0, r.stderr
    n = len(weighted) - len(past)
    assert (
        f"Loaded weights: {files['legacy']} (keras.applications HDF5) into `backbone`: {n} "
        f"layers, {n} by name; {len(past)} of the file's are not in `backbone` (not loaded)"
    ) in r.stdout
    assert "Initial weights kept: 1 weighted layer (head)" in r.stdout
    assert out.exists()


def test_a_backbone_file_of_another_network_or_given_whole_is_exit_1(keras, resnet50_notop,
                                                                      tmp_path):  # fmt: skip
    """A file that does not fit the `spec` block names our layer and the file's it was paired
    with (in order: no name matched); a backbone's file given for the whole model is told to
    name the block, and a `_notop` file given to a block with a classifier to cut it."""
    files = resnet50_notop[1]
    spec = tmp_path / "vgg_head.yaml"
    spec.write_text(CLASSIFIER.replace("path: resnet50, outputs: [conv4_block6]",
                                       "path: vgg16, outputs: [block2]"))  # fmt: skip
    out = tmp_path / "out.keras"
    r = run("build", spec, "--weights", f"backbone={files['legacy']}", "-o", out)
    assert r.exit_code == 1 and "error[E803]" in r.stderr, r.stderr
    assert "does not fit the `spec` block `backbone`: 4 weighted layers there" in r.stderr
    assert "`backbone_block1_conv1` [3x3x3x64, 64] vs the file's `conv1_conv` [7x7x3x64, 64]" in (
        r.stderr
    )
    assert "hint: pass the weights of the spec `backbone` includes" in r.stderr
    spec.write_text(CLASSIFIER.replace(", outputs: [conv4_block6]", "")  # its classifier too
                    .replace("  - {type: global_avg_pool}\n", ""))  # fmt: skip
    r = run("build", spec, "--weights", f"backbone={files['legacy']}", "-o", out)
    assert r.exit_code == 1 and "`backbone_predictions` [2048x1000, 1000] vs nothing in the " \
        "file named `predictions` (nor left to pair in order)" in r.stderr  # fmt: skip
    assert "hint: if the file is a backbone's without its classifier (`_notop`), cut `backbone` " \
        "before the classifier: list the block its head reads in its `outputs`" in r.stderr  # fmt: skip
    spec.write_text(CLASSIFIER)
    r = run("build", spec, "--weights", files["legacy"], "-o", out)
    assert (
        r.exit_code == 1 and "error[E803]" in r.stderr and "does not fit `classifier`" in (r.stderr)
    )
    assert "hint: to load it into the `spec` block `backbone` alone (its layers by name), give " \
        "--weights backbone=FILE" in r.stderr  # fmt: skip
    assert "Traceback" not in r.stderr and not out.exists()


def test_a_part_that_is_no_spec_block_is_exit_2_before_keras(tmp_path):
    """In a fresh process: exit 2 (E003) with a did-you-mean, before TensorFlow or Keras."""
    spec = tmp_path / "classifier.yaml"
    spec.write_text(CLASSIFIER)
    code = (
        "import sys\n"
        "from archspec.cli import app\n"
        "for arg in ['bakbone=nowhere.h5', 'bb=nowhere.h5']:\n"
        "    try:\n"
        "        app(['build', sys.argv[1], '--weights', arg])\n"
        "    except SystemExit as e:\n"
        "        print(e.code)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "print(bad)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(spec)], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert r.stdout.split() == ["2", "2", "[]"], r.stdout + r.stderr
    assert (
        "error[E003]: --weights bakbone=...: `bakbone` is not a `spec` block of `classifier`\n"
        "  hint: did you mean `backbone`?"
    ) in r.stderr
    assert "`bb` is not a `spec` block of `classifier`\n  hint: its `spec` blocks: `backbone`" \
        in r.stderr  # fmt: skip
    r = run("build", RESNET50, "--weights", "backbone=nowhere.h5")
    assert r.exit_code == 2 and "this spec includes none" in r.stderr


@pytest.mark.parametrize(("given", "expected"), [
    (["a.h5"], Path("a.h5")),
    (["backbone=a.h5", "head=b.h5"], {"backbone": Path("a.h5"), "head": Path("b.h5")}),
    (["./x=y.h5"], Path("x=y.h5")),  # a file with `=` in its name: written with a folder
    (["backbone=a.h5", "backbone=b.h5"], "--weights backbone=... is given twice"),
    (["a.h5", "b.h5"], "--weights FILE loads the whole model: give it once"),
    (["a.h5", "backbone=b.h5"], "--weights FILE loads the whole model: give it once"),
    (["backbone="], "cannot read an empty path (--weights)"),
])  # fmt: skip
def test_the_weights_option_is_one_file_or_one_per_spec_block(given, expected):
    from archspec.cli.options import weights
    from archspec.core.errors import ArchspecError

    if isinstance(expected, str):
        with pytest.raises(ArchspecError) as e:
            weights(given)
        assert expected in e.value.diagnostics[0].message
    else:
        assert weights(given) == expected


def test_a_part_pairs_in_order_where_names_differ_and_takes_its_own_saved_model(keras, tmp_path):
    """A walkthrough: Inception-v3's and Xception's `_notop` files were E803 in a `spec` block
    (the zoo names the layers Keras numbers), though the whole model took them in order; and a
    model saved from the same spec (names with the block's in front) did not load back."""
    model, files = tiny_files(keras, tmp_path)  # the VGG block, its layers renamed or unnamed
    spec = tmp_path / "head.yaml"
    spec.write_text(f"name: head\ninput: [256, 256, 3]\nblocks:\n  - {{type: spec, name: bb, "
                    f"path: {VGG}}}\n  - {{type: global_avg_pool}}\n  - {{type: dense, name: "
                    "out, units: 2}\n")  # fmt: skip
    for path in files.values():
        built = archspec.build(spec, weights={"bb": path})
        (loaded,) = built.weights
        assert (loaded.by_name, loaded.by_order, built.unloaded) == (0, 2, ("out",))
        ours = [w for layer in built.model.layers if layer.name.startswith("bb_")
                for w in layer.get_weights()]  # fmt: skip
        for a, b in zip(ours, model.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    saved = tmp_path / "head.keras"
    assert run("build", spec, "--weights", f"bb={files['legacy']}", "-o", saved).exit_code == 0
    again = archspec.build(spec, weights={"bb": saved})
    assert (again.weights[0].by_name, again.weights[0].by_order) == (2, 0)
    assert again.weights[0].unused == 1  # the head's dense, outside `bb`


def test_the_weights_option_says_how_to_name_a_block(tmp_path):
    """`m.bb=x.h5`, `bb:x.h5` and `=x.h5` were read as file names, "not found" with no hint;
    a block that feeds no output, or a rendered spec (its included blocks written out), was told
    it is no `spec` block and to give the file alone, which fails too."""
    for value in ("m.bb=x.h5", "bb:x.h5", "=x.h5"):
        r = run("build", RESNET50, "--weights", value)
        assert r.exit_code == 2 and f"error[E001]: weights file {value}: not found" in r.stderr
        assert "hint: to load x.h5 into a `spec` block, write NAME=FILE" in r.stderr
    spec = tmp_path / "dead.yaml"
    spec.write_text(CLASSIFIER.replace("  - {type: global_avg_pool}", "  - {type: global_avg_pool,"
                                       " inputs: input}"))  # fmt: skip
    r = run("build", spec, "--weights", "backbone=x.h5")
    assert r.exit_code == 2 and "the `spec` block `backbone` feeds no output, so its layers " \
        "were left out (W301): nothing takes the file" in r.stderr  # fmt: skip
    spec.write_text(CLASSIFIER)
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(archspec.app.expand(spec))
    r = run("build", rendered, "--weights", "backbone=x.h5")
    assert r.exit_code == 2 and "this spec includes none: give the file alone to load the " \
        "whole model (a spec `render` wrote has an include's blocks written out: load the file " \
        "into the spec that includes it)" in r.stderr  # fmt: skip


def test_a_home_folder_after_a_blocks_name_is_expanded():
    from archspec.cli.options import weights

    assert weights(["bb=~/x.h5"]) == {"bb": Path.home() / "x.h5"}  # sh leaves `bb=~/...`


def test_a_home_folder_in_the_whole_models_file_is_expanded_too():
    """A walkthrough: `--weights=~/x.h5` (bash leaves a `~` after `--weights=`) was looked up
    as `~/x.h5`, while `--weights bb=~/x.h5` was expanded."""
    from archspec.cli.options import weights

    assert weights(["~/x.h5"]) == Path.home() / "x.h5"


SMALL_CLASSIFIER = """\
name: small
input: [16, 16, 3]
blocks:
  - {type: conv, name: conv1, filters: 8, kernel: 3}
  - {type: global_avg_pool, name: avg_pool}
  - {type: dense, name: predictions, units: 10, activation: softmax}
"""


def test_a_file_that_differs_in_its_classifier_alone_is_told_so(keras, tmp_path):
    """A walkthrough: a 1000-class file into a 10-class copy of the network, and a `_notop` file
    into the whole network, got 'pass the weights of the network this spec builds'."""
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL_CLASSIFIER)
    full = tmp_path / "full.weights.h5"
    archspec.compile(archspec.load(text=SMALL_CLASSIFIER.replace("units: 10", "units: 1000"))
                     ).save_weights(full)  # fmt: skip
    notop = tmp_path / "notop.weights.h5"
    archspec.compile(archspec.load(text=SMALL_CLASSIFIER.rsplit("  - {type: dense", 1)[0])
                     ).save_weights(notop)  # fmt: skip
    r = run("build", spec, "--weights", full)
    assert r.exit_code == 1 and "error[E803]" in r.stderr, r.stderr
    assert "`predictions` [8x10, 10] vs the file's `predictions` [8x1000, 1000]" in r.stderr
    assert "hint: the file's classifier `predictions` has 1,000 classes, this spec's " \
        "`predictions` 10: to use the file's, set its `units` to 1000; or, to train a new head " \
        "on the file's features, include the network as a `spec` block cut before its " \
        "classifier" in r.stderr  # fmt: skip
    r = run("build", spec, "--weights", notop)
    assert r.exit_code == 1 and "error[E803]" in r.stderr, r.stderr
    assert "hint: the file has no classifier (a `_notop` file, include_top=False): nothing in " \
        "it for `predictions`; pass the file with the classifier, or, to train" in r.stderr  # fmt: skip
    # a file that lacks a conv too is no `_notop` file: cutting the classifier would not fit it
    deeper = tmp_path / "deeper.yaml"
    deeper.write_text(SMALL_CLASSIFIER.replace(
        "  - {type: global_avg_pool", "  - {type: conv, name: conv2, filters: 8, kernel: 3}\n"
        "  - {type: global_avg_pool"))  # fmt: skip
    r = run("build", deeper, "--weights", notop)
    assert r.exit_code == 1 and "error[E803]" in r.stderr and "no classifier" not in r.stderr
