"""Feature information (timm's `feature_info`): per model output its shape, channels and stride
relative to the input, computed statically (Graph.feature_info), shown by `archspec check
--table` and in the JSON report. Golden values are arithmetic: 224 / 28 = 8."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

import archspec
from archspec.ir.graph import FeatureInfo, Graph
from archspec.render import text
from tests.conftest import ROOT, run_cli, write

# ResNet-50's stem and the last block of each stage, the stages' strides as in keras.applications
RESNET = """\
name: resnet_features
input: [224, 224, 3]
blocks:
  - {type: zero_pad, name: conv1_pad, padding: 3}
  - {type: conv, name: conv1, filters: 64, kernel: 7, strides: 2, padding: valid,
     batch_norm: true, activation: relu}
  - {type: zero_pad, name: pool1_pad, padding: 1}
  - {type: max_pool, name: pool1_pool, pool: 3, strides: 2}
  - {type: bottleneck, name: conv2_block1, n_filters: 64}
  - {type: bottleneck, name: conv3_block1, n_filters: 128, strides: 2}
  - {type: bottleneck, name: conv3_block4, n_filters: 128}
  - {type: bottleneck, name: conv4_block1, n_filters: 256, strides: 2}
  - {type: bottleneck, name: conv4_block6, n_filters: 256}
  - {type: bottleneck, name: conv5_block1, n_filters: 512, strides: 2}
  - {type: bottleneck, name: conv5_block3, n_filters: 512}
outputs: [conv3_block4, conv4_block6, conv5_block3]
"""

# any height and width: the strides come from the ops (a stride-2 conv, a pool, upsampling and a
# transposed conv, which divide it), and a global pool with keepdims has none
ANY_SIZE = """\
name: any_size_features
input: [null, null, 3]
blocks:
  - {type: conv, name: s2, filters: 8, kernel: 3, strides: 2}
  - {type: max_pool, name: s4}
  - {type: upsample, name: up, size: 2}
  - {type: conv_transpose, name: deconv, filters: 4, kernel: 3, strides: 2}
  - {type: upsample, name: fine, size: 4}
  - {type: global_avg_pool, name: gap, keepdims: true, inputs: s4}
outputs: [s2, s4, up, deconv, fine, gap]
"""


def infos(spec: str, *sets: str) -> list[FeatureInfo]:
    graph: Graph = archspec.analyze(archspec.load(text=spec, sets=list(sets)))
    return graph.feature_info()


def test_resnet_stages_have_strides_8_16_32() -> None:
    got = [(f.name, f.shape, f.channels, f.stride, f.input) for f in infos(RESNET)]
    assert got == [
        ("conv3_block4_out", (28, 28, 512), 512, (224 // 28, 224 // 28), "input"),  # 8
        ("conv4_block6_out", (14, 14, 1024), 1024, (16, 16), "input"),  # 224 / 14
        ("conv5_block3_out", (7, 7, 2048), 2048, (32, 32), "input"),  # 224 / 7
    ]


def test_strides_hold_at_another_known_size() -> None:
    # 256 / 32 = 8, 256 / 16 = 16, 256 / 8 = 32
    fs = infos(RESNET.replace("[224, 224, 3]", "[256, 256, 3]"))
    assert [(f.shape[:2], f.stride) for f in fs] == [
        ((32, 32), (8, 8)), ((16, 16), (16, 16)), ((8, 8), (32, 32))
    ]  # fmt: skip


def test_sizes_that_round_keep_the_nominal_stride() -> None:
    """At 240 x 240 ResNet-50's conv5 is 8 x 8: its stride is 32 (the product of the strides,
    as timm's `reduction`), not 240 / 8 = 30, which a walkthrough was given; at 300 it is 10 x 10."""
    for size, sizes in ((240, [30, 15, 8]), (300, [38, 19, 10])):
        fs = infos(RESNET.replace("[224, 224, 3]", f"[{size}, {size}, 3]"))
        assert [f.shape[0] for f in fs] == sizes
        assert [f.stride for f in fs] == [(8, 8), (16, 16), (32, 32)]
    # a 5x5 `valid` conv on a stride-2 conv's 5 x 5 output: 1 x 1 at 9 x 9, whose stride is 2
    spec = textwrap.dedent("""\
        name: small
        input: [9, 9, 3]
        blocks:
          - {type: conv, name: a, filters: 4, kernel: 3, strides: 2}
          - {type: conv, name: b, filters: 4, kernel: 3, strides: 2}
          - {type: conv, name: c, filters: 4, kernel: 5, padding: valid, inputs: a}
        outputs: [a, b, c]
        """)
    fs = infos(spec)
    assert [f.shape[:2] for f in fs] == [(5, 5), (3, 3), (1, 1)]
    assert [f.stride for f in fs] == [(2, 2), (4, 4), (2, 2)]


def test_unknown_sizes_take_the_strides_of_the_ops() -> None:
    fs = infos(ANY_SIZE)
    assert [f.shape for f in fs] == [
        (None, None, 8), (None, None, 8), (None, None, 8), (None, None, 4), (None, None, 4),
        (1, 1, 8),
    ]  # fmt: skip
    # 2; 2 x 2 = 4; 4 / 2 = 2; 2 / 2 = 1; 1 / 4 = 0.25; a global pool scales with nothing
    assert [f.stride for f in fs] == [(2, 2), (4, 4), (2, 2), (1, 1), (0.25, 0.25), None]
    assert [f.channels for f in fs] == [8, 8, 8, 4, 4, 8]
    # the same spec at 64 x 64: the sizes give the same strides (64 / 32 = 2, ...)
    fixed = infos(ANY_SIZE.replace("[null, null, 3]", "[64, 64, 3]"))
    assert [f.shape[:2] for f in fixed] == [(32, 32), (16, 16), (32, 32), (64, 64), (256, 256),
                                            (1, 1)]  # fmt: skip
    assert [f.stride for f in fixed] == [f.stride for f in fs]


def test_the_example_of_any_size_has_a_vector_output() -> None:
    path = ROOT / "specs/examples/any_size.yaml"
    for sets in ([], ["size=224"]):
        (f,) = archspec.analyze(path, sets=sets).feature_info()
        assert (f.name, f.shape, f.channels, f.stride, f.input) == (
            "predictions", (10,), 10, None, None
        )  # fmt: skip


def test_sizes_that_do_not_divide_take_the_nominal_stride() -> None:
    # Inception's stem: 299 -> valid 3x3/2 -> 149, and 299 / 149 is not a whole number
    spec = textwrap.dedent("""\
        name: stem
        input: [299, 299, 3]
        blocks:
          - {type: conv, name: a, filters: 8, kernel: 3, strides: 2, padding: valid}
          - {type: conv, name: b, filters: 8, kernel: 3, padding: valid}
          - {type: max_pool, name: c, pool: 3, strides: 2}
        outputs: [a, b, c]
        """)
    fs = infos(spec)
    assert [f.shape[:2] for f in fs] == [(149, 149), (147, 147), (73, 73)]
    assert [f.stride for f in fs] == [(2, 2), (2, 2), (4, 4)]


def test_height_and_width_strides_are_separate() -> None:
    spec = textwrap.dedent("""\
        name: wide
        input: [64, 32, 3]
        blocks:
          - {type: conv, name: a, filters: 8, kernel: 3, strides: [4, 2]}
        """)
    (f,) = infos(spec)
    assert (f.shape, f.stride) == ((16, 16, 8), (4, 2))
    assert text.stride_str(f.stride) == "4x2"
    assert text.stride_str((16, 16)) == "16"
    assert text.stride_str((0.5, 0.5)) == "0.5"
    assert text.stride_str(None) == "-"


def test_two_heads_are_vectors_and_an_image_output_is_relative_to_its_input() -> None:
    path = ROOT / "specs/examples/two_heads.yaml"
    fs = archspec.analyze(path).feature_info()
    assert [(f.name, f.shape, f.channels, f.stride) for f in fs] == [
        ("classes", (10,), 10, None), ("box", (4,), 4, None)
    ]  # fmt: skip
    spec = path.read_text().replace("outputs: [classes, box]", "outputs: [features, box]")
    spec = spec[: spec.index("expect:")]
    features, box = infos(spec)
    # 32 x 32 image -> max pool -> 16 x 16: stride 2 relative to `image`, not `meta`
    assert (features.shape, features.stride, features.input) == ((16, 16, 32), (2, 2), "image")
    assert (box.stride, box.input) == (None, None)


def test_check_table_shows_the_outputs(tmp_path: Path) -> None:
    r = run_cli("check", "--table", str(write(tmp_path, RESNET)))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = lines.index(next(ln for ln in lines if ln.startswith("output ")))
    assert re.split(r"\s+", lines[head]) == ["output", "layer", "shape", "channels", "stride"]
    rows = [re.split(r"\s{2,}", ln) for ln in lines[head + 2 : head + 5]]
    assert rows == [
        ["conv3_block4", "conv3_block4_out", "(None, 28, 28, 512)", "512", "8"],
        ["conv4_block6", "conv4_block6_out", "(None, 14, 14, 1024)", "1024", "16"],
        ["conv5_block3", "conv5_block3_out", "(None, 7, 7, 2048)", "2048", "32"],
    ]
    # the per-block table comes first
    assert lines.index(next(ln for ln in lines if ln.startswith("block "))) < head
    # without --table, no outputs table
    assert "channels" not in run_cli("check", str(tmp_path / "spec.yaml")).stdout


def test_check_table_shows_a_dash_for_vectors() -> None:
    r = run_cli("check", "--table", "specs/examples/two_heads.yaml")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^classes\s+classes\s+\(None, 10\)\s+10\s+-$", r.stdout, re.M), r.stdout
    assert re.search(r"^box\s+box\s+\(None, 4\)\s+4\s+-$", r.stdout, re.M), r.stdout


def test_json_has_the_outputs_of_each_file(tmp_path: Path) -> None:
    spec = write(tmp_path, RESNET)
    bad = write(tmp_path, "name: bad\ninput: [8, 8, 3]\nblocks: []\n", "bad.yaml")
    r = run_cli("check", "--format", "json", str(spec), str(bad), "specs/examples/any_size.yaml")
    assert r.returncode == 1, r.stderr
    resnet, broken, any_size = json.loads(r.stdout)["files"]
    assert resnet["outputs"] == [
        {"name": "conv3_block4", "layer": "conv3_block4_out", "shape": [28, 28, 512],
         "channels": 512, "stride": [8, 8]},
        {"name": "conv4_block6", "layer": "conv4_block6_out", "shape": [14, 14, 1024],
         "channels": 1024, "stride": [16, 16]},
        {"name": "conv5_block3", "layer": "conv5_block3_out", "shape": [7, 7, 2048],
         "channels": 2048, "stride": [32, 32]},
    ]  # fmt: skip
    assert broken["ok"] is False and broken["outputs"] is None
    assert any_size["outputs"] == [
        {"name": "predictions", "layer": "predictions", "shape": [10], "channels": 10,
         "stride": None}
    ]  # fmt: skip
    # the names are those of totals.output_shapes
    assert [o["name"] for o in resnet["outputs"]] == list(resnet["totals"]["output_shapes"])


def test_json_of_unknown_sizes_has_null_dimensions_and_fractional_strides(tmp_path: Path) -> None:
    r = run_cli("check", "--format", "json", str(write(tmp_path, ANY_SIZE)))
    assert r.returncode == 0, r.stderr
    (entry,) = json.loads(r.stdout)["files"]
    assert [(o["shape"], o["stride"]) for o in entry["outputs"]] == [
        ([None, None, 8], [2, 2]), ([None, None, 8], [4, 4]), ([None, None, 8], [2, 2]),
        ([None, None, 4], [1, 1]), ([None, None, 4], [0.25, 0.25]), ([1, 1, 8], None),
    ]  # fmt: skip


@pytest.mark.keras
def test_shapes_and_strides_agree_with_keras(keras) -> None:
    graph = archspec.analyze(archspec.load(text=RESNET))
    model = archspec.compile(graph)
    fs = graph.feature_info()
    assert len(model.outputs) == len(fs)
    for f, tensor in zip(fs, model.outputs, strict=True):
        shape = tuple(tensor.shape)[1:]
        assert shape == f.shape == tuple(model.get_layer(f.name).output.shape)[1:]
        h, w = shape[0], shape[1]
        assert f.stride == (224 // h, 224 // w) and 224 % h == 0
    # and on an input of any size, Keras's shapes at a fixed size give the static strides
    graph = archspec.analyze(archspec.load(text=ANY_SIZE))
    model = archspec.compile(graph)
    x = keras.ops.zeros((1, 64, 64, 3))
    for f, y in zip(graph.feature_info(), model(x), strict=True):
        if f.stride is not None:
            assert f.stride == (64 / y.shape[1], 64 / y.shape[2])
