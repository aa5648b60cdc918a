"""`type: spec`: another spec included as a block (resolve/include.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from archspec import app as api
from archspec.app.check import check_file
from archspec.core.errors import SpecError
from archspec.core.limits import Limits
from archspec.render.diff import diff, format_text
from tests.conftest import ROOT, run_cli, write

FPN = ROOT / "specs" / "examples" / "fpn.yaml"
#: ResNet-50 without its top (keras.applications.ResNet50(include_top=False).count_params())
RESNET50_NO_TOP = 23_587_712

SMALL = """\
name: small
input: [null, null, 3]
params: {width: 8}
blocks:
  - {type: conv, name: stem, filters: "${width}", kernel: 3, strides: 2}
  - {type: conv, name: mid, filters: "${width * 2}", kernel: 3, strides: 2}
  - {type: conv, name: deep, filters: "${width * 4}", kernel: 3, strides: 2}
  - {type: global_avg_pool, name: pool}
  - {type: dense, name: head, units: 10}
"""

HEAD = """\
name: head
input: [32, 32, 3]
blocks:
  - {type: spec, name: bb, path: small.yaml, set: {width: 4}, outputs: [mid, deep]}
  - {type: conv, name: lat, filters: 8, kernel: 1, inputs: bb.deep}
  - {type: upsample, name: up}
  - {type: conv, name: lat_mid, filters: 8, kernel: 1, inputs: bb.mid}
  - {type: add, name: merged, inputs: [lat_mid, up]}
outputs: [merged, bb]
"""


def pair(tmp_path: Path, head: str = HEAD, inner: str = SMALL) -> Path:
    write(tmp_path, inner, "small.yaml")
    return write(tmp_path, head, "head.yaml")


def error(path: Path) -> SpecError:
    with pytest.raises(SpecError) as e:
        api.analyze(path)
    return e.value


def test_include_by_relative_path_with_set_and_dotted_outputs(tmp_path):
    graph = api.analyze(pair(tmp_path))
    # layers are <block name>_<inner layer name>; `set` made the inner width 4
    assert graph.nodes["bb_mid"].shape == (8, 8, 8)
    assert graph.nodes["bb_deep"].shape == (4, 4, 16)
    # the plain name reads the first exposed output (mid)
    assert [graph.shape_of(o) for o in graph.outputs] == [(8, 8, 8), (8, 8, 8)]
    # pooling and the classifier of the included spec feed nothing: pruned, silently
    assert not any(n.startswith(("bb_pool", "bb_head")) for n in graph.nodes)
    assert not graph.warnings
    # the included input (null x null) took this one's size: 32 / 4 = 8
    assert graph.blocks[0].group == ("bb", "spec")


def test_default_outputs_are_the_included_specs(tmp_path):
    head = "name: h\ninput: [32, 32, 3]\nblocks:\n  - {type: spec, path: small.yaml}\n"
    graph = api.analyze(pair(tmp_path, head))
    assert [graph.shape_of(o) for o in graph.outputs] == [(10,)]
    assert graph.outputs == ["spec_1_head"]


def test_a_spec_whose_one_input_is_named_can_be_included(tmp_path, keras):
    # it was E301 at `image`: the included spec's input lost its name
    inner = ("name: bb\ninputs: {image: [null, null, 3]}\nblocks:\n"
             "  - {type: conv, name: c1, filters: 8, kernel: 3, inputs: [image]}\n"
             "  - {type: conv, name: c2, filters: 4, kernel: 3}\n")  # fmt: skip
    write(tmp_path, inner, "named.yaml")
    head = write(tmp_path, "name: h\ninput: [16, 16, 3]\nblocks:\n"
                 "  - {type: spec, name: bb, path: named.yaml}\n  - {type: flatten}\n")  # fmt: skip
    graph = api.analyze(head)
    assert graph.nodes["bb_c1"].inputs == ["input"] and graph.nodes["bb_c2"].shape == (16, 16, 4)
    model = api.compile(graph)
    assert model.count_params() == graph.params == (3 * 9 * 8 + 8) + (8 * 9 * 4 + 4)
    assert model.output_shape == (None, 16 * 16 * 4)


def test_include_by_zoo_name_feature_info_and_pruning():
    graph = api.analyze(FPN)
    needed = sum(b.cost(graph).params for b in graph.blocks if b.group == ("backbone", "spec"))
    assert needed == RESNET50_NO_TOP
    assert graph.params == RESNET50_NO_TOP + 131_328 + 262_400 + 524_544 + 3 * 590_080
    info = graph.feature_info()
    assert [(f.shape, f.channels, f.stride) for f in info] == [
        ((28, 28, 256), 256, (8, 8)),
        ((14, 14, 256), 256, (16, 16)),
        ((7, 7, 256), 256, (32, 32)),
    ]
    assert "backbone_predictions" not in graph.nodes


def test_a_listed_output_that_nothing_reads_is_dropped_with_a_warning(tmp_path):
    """A walkthrough: a backbone-only spec listing three taps built one output, and said nothing
    of the two it dropped (an ordinary block that feeds nothing gets W301)."""
    head = ("name: h\ninput: [32, 32, 3]\nblocks:\n"
            "  - {type: spec, name: bb, path: small.yaml, outputs: [stem, mid, deep]}\n")  # fmt: skip
    graph = api.analyze(pair(tmp_path, head))
    assert [graph.shape_of(o) for o in graph.outputs] == [(16, 16, 8)]  # `bb` is `bb.stem`
    assert [(w.code, w.path, w.hint) for w in graph.warnings] == [
        ("W301", ("blocks", 0, "outputs", k), f"read it from a later block (`inputs: bb.{name}`) "
         "or list it in the model's `outputs`") for k, name in ((1, "mid"), (2, "deep"))
    ]  # fmt: skip
    # listed in the model's outputs, or read by a later block: no warning
    graph = api.analyze(pair(tmp_path, head + "  - {type: flatten, inputs: bb.deep}\n"
                             "outputs: [bb, bb.mid, flatten_1]\n"))  # fmt: skip
    assert not graph.warnings
    # a review: a tap that the included spec's later blocks read (`stem`, under `mid`) is no
    # more read by this spec for that: the warning does not depend on the list's order
    for listed, read, unread in [("[deep, mid, stem]", "bb", ["mid", "stem"]),
                                 ("[stem, mid]", "bb.mid", ["stem"]),
                                 ("[mid, deep]", "bb.deep", ["mid"])]:  # fmt: skip
        text = (head.replace("[stem, mid, deep]", listed)
                + f"  - {{type: flatten, inputs: {read}}}\n")  # fmt: skip
        graph = api.analyze(pair(tmp_path, text))
        assert [w.message.split("`")[1] for w in graph.warnings] == [f"bb.{n}" for n in unread], (
            listed,
            read,
        )


def test_a_spec_block_that_nothing_reads_warns_once_at_the_block(tmp_path):
    """A fuzzer and a review: an included spec that feeds no output went without a word (an
    unused conv gets W301); listed outputs of it warned each, but not at the block."""
    for listed in ("", ", outputs: [mid, deep]"):
        head = ("name: h\ninput: [32, 32, 3]\nblocks:\n"
                f"  - {{type: spec, name: bb, path: small.yaml{listed}}}\n"
                "  - {type: conv, name: c, filters: 4, kernel: 3, inputs: input}\n")  # fmt: skip
        graph = api.analyze(pair(tmp_path, head))
        assert [(w.code, w.path, w.message) for w in graph.warnings] == [
            ("W301", ("blocks", 0), "blocks[0]: the spec block `bb` feeds no output; Keras "
             "drops it")
        ], listed  # fmt: skip


def test_a_total_over_a_limit_in_an_included_spec_stands_at_its_block(tmp_path):
    """A fuzzer: E710 (the parameters pass the limit) crossed inside an included spec stood at
    the included spec's path (`blocks[17]` of resnet50.yaml) on a line of this one."""
    head = ("name: h\ninput: [224, 224, 3]\nblocks:\n"
            + "  - {type: activation, activation: relu}\n" * 18
            + "  - {type: spec, path: resnet50, name: backbone}\n")  # fmt: skip
    spec = write(tmp_path, head, "h.yaml")
    with pytest.raises(SpecError) as e:
        api.analyze(spec, limits=Limits(params=10_000_000))
    (d,) = e.value.diagnostics
    assert d.code == "E710" and d.path == ("blocks", 18) and d.line == 22, d
    assert d.message.startswith("blocks[18] (`backbone_conv5_block1`): the parameters pass")


def test_a_set_of_an_included_specs_param_names_the_block_to_give_it_to(tmp_path):
    """A walkthrough: `check fpn.yaml --set depth=101` said "did you mean `width`?" (the FPN's
    own param); `depth` is the included ResNet's, given in its block's `set`."""
    r = run_cli("check", str(FPN), "--set", "depth=101")
    assert r.returncode == 2 and "--set depth: the spec has no param `depth`" in r.stderr
    assert ("hint: in the spec that blocks[0] (`backbone`) includes, `resnet50` is the zoo "
            "family `resnet` at depth=50: give `path: resnet` and `set: {depth: 101}` there"
            ) in r.stderr, r.stderr  # fmt: skip
    # a param that no included spec has keeps the usual hint
    r = run_cli("check", str(FPN), "--set", "widht=8")
    assert r.returncode == 2 and "did you mean `width`?" in r.stderr
    # the included spec's own param (small.yaml's width)
    head = pair(tmp_path, "name: h\ninput: [32, 32, 3]\nblocks:\n"
                "  - {type: spec, name: bb, path: small.yaml}\n")  # fmt: skip
    r = run_cli("check", str(head), "--set", "width=4")
    assert (
        "hint: `width` is a param of the spec that blocks[0] (`bb`) includes: give it in "
        "that block's `set` (`set: {width: 4}`)"
    ) in r.stderr, r.stderr


def test_expect_names_an_output_as_outputs_does(tmp_path):
    """A walkthrough: `expect.output_shape` took `bb_deep` (the block's name) and refused
    `bb.deep`, the name the top-level `outputs` gives it."""
    head = HEAD.replace("outputs: [merged, bb]", "outputs: [merged, bb.deep]")
    good = head + "expect:\n  output_shape: {merged: [8, 8, 8], bb.deep: [4, 4, 16]}\n"
    assert not check_file(pair(tmp_path, good)).diagnostics
    bad = head + "expect:\n  output_shape: {merged: [8, 8, 8], bb.deep: [4, 4, 8], bb.dep: [1]}\n"
    found = check_file(pair(tmp_path, bad)).diagnostics
    assert [(d.code, d.path[-1], d.hint) for d in found] == [
        ("E602", "bb.deep", "if the model is right, write `bb.deep: [4, 4, 16]`"),
        ("E602", "bb.dep", "did you mean `bb.deep`?"),
    ]
    old = head + "expect:\n  output_shape: {merged: [8, 8, 8], bb_deep: [4, 4, 16]}\n"
    assert not check_file(pair(tmp_path, old)).diagnostics  # the block's name still works


def test_check_table_and_no_tensorflow():
    code = (
        "import sys\nfrom archspec.cli import main\n"
        f"sys.argv = ['archspec', 'check', {str(FPN)!r}, '--table']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "backbone  spec" in r.stdout
    assert "stride" in r.stdout and "32" in r.stdout


def test_missing_file_is_positioned_at_path(tmp_path):
    head = "name: h\ninput: [32, 32, 3]\nblocks:\n  - {type: spec, path: resnet5}\n"
    d = error(write(tmp_path, head)).diagnostics[0]
    assert (d.code, d.line, d.col, d.path) == ("E505", 4, 24, ("blocks", 0, "path"))
    # the nearest member first, then the family's members (as `archspec check resnet5` says)
    assert d.hint.startswith("did you mean `resnet50`? `resnet5` is no member of the zoo family")


def test_a_missing_file_beside_a_spec_in_the_working_folder_says_so(tmp_path, monkeypatch):
    head = "name: h\ninput: [32, 32, 3]\nblocks:\n  - {type: spec, path: nothere.yaml}\n"
    write(tmp_path, head)
    monkeypatch.chdir(tmp_path)
    said = error(Path("spec.yaml")).diagnostics[0].message  # not `in .`
    assert said.endswith("`nothere.yaml` in the current folder, nor a zoo spec of that name")


def test_error_in_included_file_names_that_file_with_a_note(tmp_path):
    inner = SMALL.replace(
        "kernel: 3, strides: 2}\n  - {type: conv, name: deep",
        "kernl: 3, strides: 2}\n  - {type: conv, name: deep",
    )
    d = error(pair(tmp_path, inner=inner)).diagnostics[0]
    assert d.file == str(tmp_path / "small.yaml") and (d.code, d.line) == ("E201", 6)
    assert [(r.file, r.line) for r in d.related] == [(str(tmp_path / "head.yaml"), 4)]


def test_shape_error_in_included_file_when_lowering(tmp_path):
    inner = SMALL.replace("strides: 2}\n  - {type: global", "padding: valid}\n  - {type: global")
    head = HEAD.replace("[32, 32, 3]", "[8, 8, 3]")
    d = error(pair(tmp_path, head, inner)).diagnostics[0]
    assert d.file == str(tmp_path / "small.yaml") and d.line == 7
    assert d.related[-1].file == str(tmp_path / "head.yaml")


def test_invalid_yaml_in_included_file(tmp_path):
    d = error(pair(tmp_path, inner="name: [\n")).diagnostics[0]
    assert d.file == str(tmp_path / "small.yaml")
    assert d.related and d.related[-1].file == str(tmp_path / "head.yaml")


def test_include_cycle(tmp_path):
    write(
        tmp_path, "name: b\ninput: [8, 8, 3]\nblocks:\n  - {type: spec, path: a.yaml}\n", "b.yaml"
    )
    a = write(
        tmp_path, "name: a\ninput: [8, 8, 3]\nblocks:\n  - {type: spec, path: b.yaml}\n", "a.yaml"
    )
    d = error(a).diagnostics[0]
    assert d.code == "E505" and "a.yaml -> b.yaml -> a.yaml" in d.message
    assert d.file == str(tmp_path / "b.yaml") and d.path == ("blocks", 0, "path")


def test_unknown_exposed_name_did_you_mean(tmp_path):
    head = HEAD.replace("inputs: bb.deep}", "inputs: bb.dep}")
    d = error(pair(tmp_path, head)).diagnostics[0]
    assert d.code == "E301" and "exposes no `dep`" in d.message
    assert d.hint is not None and d.hint.startswith("did you mean `deep`?")
    head = HEAD.replace("inputs: bb.deep}", "inputs: bb.stem}")
    d = error(pair(tmp_path, head)).diagnostics[0]
    assert "it exposes: mid, deep" in str(d.hint)
    # a new user: a block the included spec has, but `outputs` does not list, was "did you
    # mean" the nearest listed one, which is another block
    assert str(d.hint).startswith("`stem` is a block of the included spec: list it in "
                                  "blocks[0].outputs"), d.hint  # fmt: skip
    head = HEAD.replace("outputs: [mid, deep]", "outputs: [mid, deeep]")
    d = error(pair(tmp_path, head)).diagnostics[0]
    assert d.path == ("blocks", 0, "outputs", 1) and d.hint == "did you mean `deep`?"


def test_an_output_inside_a_user_defined_block_is_named_by_its_final_name():
    """The ResNet family file writes its stages as a user-defined `stage`: conv3_block4 (a
    top-level block of the zoo's resnet50.yaml) is inside the instance conv3 there, and the zoo's
    ConvNeXt is one instance (`convnext_tiny`). A walkthrough: nothing inside an instance could
    be named, so ConvNeXt could not be cut at all; a block inside one is named by its final
    name (as `render` writes it), and a misspelt one gets did-you-mean."""
    head = "name: h\ninput: [224, 224, 3]\nblocks:\n  - {type: spec, name: bb, path: PATH, " \
           "outputs: [NAME]}\n"  # fmt: skip
    for path, name, shape in [("resnet", "conv3_block4", (28, 28, 512)),
                              ("resnet", "conv3", (28, 28, 512)),  # the instance: its last
                              ("convnext_tiny", "convnext_tiny_stage_2_block_8", (14, 14, 384)),
                              ("mobilenet_v2", "block_13_expand_relu", (14, 14, 576))]:  # fmt: skip
        graph = api.analyze(api.load(text=head.replace("PATH", path).replace("NAME", name)))
        assert list(graph.output_shapes.values()) == [shape], (path, name)
    for name, hint in [("conv3_blok4", "did you mean `conv3_block4`?"),
                       ("avg_pol", "did you mean `avg_pool`?")]:  # fmt: skip
        with pytest.raises(SpecError) as e:
            api.analyze(api.load(text=head.replace("PATH", "resnet").replace("NAME", name)))
        d = e.value.diagnostics[0]
        assert d.message == f"blocks[0].outputs[0]: the included spec has no block `{name}`"
        assert (d.code, d.hint) == ("E301", hint)


@pytest.mark.parametrize(("path", "name", "hint"), [
    # a walkthrough: a layer's name got "did you mean `top_activation`?", a stage's `conv1`,
    # and a name near nothing no hint at all
    ("efficientnet", "block3a_expand_activation", "`block3a_expand_activation` is named as a "
     "layer of the block `block3a`: a `spec` block exposes whole blocks' outputs (after their "
     "last layer), not a layer within one"),
    ("resnet50", "conv4_block6_2_conv", "`conv4_block6_2_conv` is named as a layer of the block "
     "`conv4_block6`: a `spec` block exposes whole blocks' outputs (after their last layer), "
     "not a layer within one"),
    ("resnet50", "conv4", "no block is named `conv4`; 6 begin with it, `conv4_block1` ... "
     "`conv4_block6`: where they run one after another, the last gives their output"),
    ("resnet50", "layer3", "the blocks: conv1_pad, conv1, pool1_pad, pool1_pool, conv2_block1, "
     "conv2_block2, conv2_block3, conv3_block1, conv3_block2, conv3_block3, conv3_block4, "
     "conv4_block1, conv4_block2, conv4_block3, conv4_block4, conv4_block5, conv4_block6, "
     "conv5_block1, conv5_block2, conv5_block3, ... (22 in all)"),
    ("mobilenet_v2", "block_13_expand_rel", "did you mean `block_13_expand_relu`?"),
])  # fmt: skip
def test_an_output_named_as_a_layer_or_a_stage_is_told_what_it_names(path, name, hint):
    text = (f"name: h\ninput: [224, 224, 3]\nblocks:\n  - {{type: spec, name: bb, path: {path}, "
            f"outputs: [{name}]}}\n")  # fmt: skip
    with pytest.raises(SpecError) as e:
        api.analyze(api.load(text=text))
    d = e.value.diagnostics[0]
    assert (d.code, d.hint) == ("E301", hint)


def test_input_shape_mismatch_shows_both(tmp_path):
    head = "name: h\ninput: [64, 64, 3]\nblocks:\n  - {type: spec, path: resnet50}\n"
    d = error(write(tmp_path, head)).diagnostics[0]
    assert d.code == "E401" and "[224, 224, 3]" in d.message and "[64, 64, 3]" in d.message
    assert d.hint.endswith("; `any_size: true` takes this block's height and width")
    # any_size: the height and width are this block's; the channels must still agree
    graph = api.analyze(write(tmp_path, head.replace("resnet50}", "resnet50, any_size: true}")))
    assert graph.params == 25_636_712  # ResNet-50's, whatever the size (global pooling)
    assert graph.nodes["spec_1_conv1_conv"].shape == (32, 32, 64)  # 64 / 2
    gray = head.replace("[64, 64, 3]", "[64, 64, 1]").replace(
        "resnet50}", "resnet50, any_size: true}"
    )
    d = error(write(tmp_path, gray)).diagnostics[0]
    assert d.code == "E401" and "[64, 64, 1]" in d.message  # any_size is not the way out:
    assert "any_size: true` takes" not in d.hint and d.hint.startswith("the channels differ")


def test_set_may_read_the_blocks_input_channels(tmp_path):
    head = HEAD.replace("set: {width: 4}", "set: {width: '${in_channels + 1}'}")
    graph = api.analyze(pair(tmp_path, head))  # the input has 3 channels: width 4
    assert graph.nodes["bb_mid"].shape == (8, 8, 8)


def test_set_unknown_param(tmp_path):
    d = error(pair(tmp_path, HEAD.replace("{width: 4}", "{widht: 4}"))).diagnostics[0]
    assert d.code == "E503" and d.hint == "did you mean `width`?"


def test_only_at_top_level(tmp_path):
    head = (
        "name: h\ninput: [8, 8, 3]\ndefine:\n  d:\n    blocks:\n"
        "      - {type: spec, path: small.yaml}\nblocks:\n  - {type: d}\n"
    )
    d = error(pair(tmp_path, head)).diagnostics[0]
    assert d.code == "E505" and "top-level" in d.message


def test_render_round_trip(tmp_path):
    rendered = write(tmp_path, api.expand(FPN), "rendered.yaml")
    a, b = api.analyze(FPN), api.analyze(rendered)
    assert (a.params, a.cost.macs, a.output_shapes) == (b.params, b.cost.macs, b.output_shapes)
    assert list(a.nodes) == list(b.nodes) and not b.warnings


def test_diff_sees_through(tmp_path):
    old = pair(tmp_path)
    new = write(tmp_path, HEAD.replace("{width: 4}", "{width: 8}"), "head2.yaml")
    text = format_text(diff(api.analyze(old), api.analyze(new)))
    assert "bb_mid" in text and "bb_deep" in text


def test_plot_draws_a_cluster(tmp_path):
    r = run_cli("plot", str(pair(tmp_path)), "-o", str(tmp_path / "x.dot"))
    assert r.returncode == 0, r.stderr
    dot = (tmp_path / "x.dot").read_text()
    assert '"cluster_group_bb"' in dot or "cluster_group_bb" in dot


def fpn_at(size: int, folder: Path) -> Path:
    """specs/examples/fpn.yaml at `size` x `size`, its backbone taking any size."""
    text = FPN.read_text().replace("input: [224, 224, 3]", f"input: [{size}, {size}, 3]")
    text = text.replace("path: resnet50,", "path: resnet50, any_size: true,")
    text = text[: text.index("expect:")] + "expect: {params: 26276224}\n"  # the shapes differ
    return write(folder, text, f"fpn_{size}.yaml")


@pytest.mark.keras
@pytest.mark.parametrize("size", [224, 512])
def test_fpn_equals_plain_keras_on_resnet50(keras, size, tmp_path):
    """At 512 x 512, the zoo's ResNet-50 (224 x 224) included with `any_size: true`, as
    keras.applications.ResNet50(include_top=False, input_shape=(512, 512, 3))."""
    spec = FPN if size == 224 else fpn_at(size, tmp_path)
    model = api.compile(spec)
    base = keras.applications.ResNet50(include_top=False, weights=None,
                                       input_shape=(size, size, 3))  # fmt: skip
    layers = keras.layers
    c3, c4, c5 = (base.get_layer(f"{n}_out").output
                  for n in ("conv3_block4", "conv4_block6", "conv5_block3"))  # fmt: skip
    l5 = layers.Conv2D(256, 1)(c5)
    m4 = layers.Add()([layers.Conv2D(256, 1)(c4), layers.UpSampling2D()(l5)])
    m3 = layers.Add()([layers.Conv2D(256, 1)(c3), layers.UpSampling2D()(m4)])
    outs = [layers.Conv2D(256, 3, padding="same")(t) for t in (m3, m4, l5)]
    plain = keras.Model(base.input, outs)
    assert model.count_params() == plain.count_params() == api.analyze(spec).params
    assert [tuple(o.shape) for o in model.outputs] == [tuple(o.shape) for o in plain.outputs]
    assert "backbone_conv4_block6_out" in {layer.name for layer in model.layers}


@pytest.mark.keras
@pytest.mark.parametrize("size", [97, 100, 225])
def test_mobilenet_v2_at_an_odd_size_pads_as_keras(keras, size, tmp_path):
    """A walkthrough: the zoo's MobileNetV2 with `any_size: true` padded its stride-2 depthwise
    convs ((0, 1), (0, 1)) at every size, where Keras's correct_pad gives ((1, 1), (1, 1)) on an
    odd one: at 100 x 100 its output was 3 x 3, Keras's 4 x 4, with no warning."""
    import numpy as np

    spec = write(tmp_path, f"name: m\ninput: [{size}, {size}, 3]\nblocks:\n  - {{type: spec, "
                 "path: mobilenet_v2, name: bb, any_size: true, outputs: [out_relu]}\n")  # fmt: skip
    base = keras.applications.MobileNetV2(include_top=False, weights=None,
                                          input_shape=(size, size, 3))  # fmt: skip
    assert api.analyze(spec).output_shapes == {"bb_out_relu": tuple(base.output.shape)[1:]}
    model = api.compile(spec)
    model.set_weights(base.get_weights())
    x = np.random.default_rng(0).random((1, size, size, 3), dtype=np.float32)
    assert np.abs(model.predict(x, verbose=0) - base.predict(x, verbose=0)).max() < 1e-5


#: a spec block of the zoo's VGG16 with `any_size: true`
VGG_AT = "name: v\ninput: [{size}, {size}, 3]\nblocks:\n  - {{type: spec, name: bb, " \
    "path: vgg16, any_size: true{outputs}}}\n"  # fmt: skip


@pytest.mark.parametrize(("size", "here"), [(64, 2), (32, 1)])
def test_any_size_under_a_flatten_classifier_warns_that_its_weights_change(tmp_path, size, here):
    """A walkthrough: the zoo's VGG16 with `any_size: true` at 64 x 64 had 43,985,704 params
    where it has 138,357,544, silently: its `flatten` feeds fc1 a 2 x 2 x 512 image, not
    7 x 7 x 512 (keras.applications refuses include_top=True at another size). At 32 x 32 the
    image is 1 x 1 x 512, still not VGG16's 7 x 7 x 512: the warning names both sizes."""
    result = check_file(write(tmp_path, VGG_AT.format(size=size, outputs="")))
    (d,) = result.diagnostics
    assert (d.code, d.severity, d.path) == ("W308", "warning", ("blocks", 0, "any_size"))
    assert d.message == (
        f"blocks[0]: with `any_size: true`, `bb_flatten` flattens ({here}, {here}, 512) into "
        f"{here * here * 512:,} values here, and (7, 7, 512) into 25,088 at the included spec's "
        "own input (224, 224, 3): the layers after it get other weights than the spec's as "
        "written"
    )
    # keras.applications.VGG16(include_top=False)'s 14,714,688, then fc1 on 2 x 2 x 512
    notop, fc1 = 14_714_688, here * here * 512 * 4096 + 4096
    assert result.graph is not None
    assert result.graph.params == notop + fc1 + 4097 * 4096 + 4097 * 1000
    # at its own size, or without the classifier: nothing to say
    for at, outputs in [(224, ""), (size, ", outputs: [block5]")]:
        result = check_file(write(tmp_path, VGG_AT.format(size=at, outputs=outputs), "w.yaml"))
        assert result.ok and result.diagnostics == [], (at, result.diagnostics)


@pytest.mark.parametrize("path", ["mobilenet_v3_small", "mobilenet_v3_large"])
def test_any_size_under_a_flatten_of_pooled_features_says_nothing(tmp_path, path):
    """A review: W308 warned of MobileNetV3 at 160 x 160, whose `flatten` takes the 1 x 1 x 1000
    logits after its global pooling at every size: its weights are the spec's."""
    spec = write(tmp_path, "name: m\ninput: [160, 160, 3]\nblocks:\n  - {type: spec, "
                 f"name: bb, path: {path}, any_size: true}}\n")  # fmt: skip
    result = check_file(spec)
    assert result.ok and result.diagnostics == [], result.diagnostics
    assert result.graph is not None and result.graph.nodes["bb_flatten"].shape == (1000,)


def test_any_size_under_a_flatten_after_global_pooling_says_nothing(tmp_path):
    """A `flatten` after a global pooling gives the channels whatever the input's size."""
    write(tmp_path, "name: g\ninput: [224, 224, 3]\nblocks:\n"
          "  - {type: conv, name: c, filters: 8, kernel: 3, strides: 2}\n"
          "  - {type: global_avg_pool, name: gap}\n  - {type: flatten, name: flatten}\n"
          "  - {type: dense, name: fc, units: 10}\n", "g.yaml")  # fmt: skip
    top = "name: t\ninput: [64, 64, 3]\nblocks:\n  - {type: spec, path: g.yaml, any_size: true}\n"
    result = check_file(write(tmp_path, top))
    assert result.ok and result.diagnostics == [], result.diagnostics


def test_any_size_in_a_spec_included_warns_in_that_spec_once(tmp_path):
    """W308 for a `spec` block of a spec included (nested includes), in that spec's file, once
    however often it is included; and once for a `flatten` that both a `spec` block and one
    within the spec it includes resize: at the outer one, whose `any_size` changes it."""
    inner = write(tmp_path, "name: b\ninput: [64, 64, 3]\nblocks:\n"
                  "  - {type: conv, name: c, filters: 3, kernel: 1}\n"
                  "  - {type: spec, name: vv, path: vgg16, any_size: true}\n", "b.yaml")  # fmt: skip
    result = check_file(write(tmp_path, "name: a\ninput: [64, 64, 3]\nblocks:\n"
                              "  - {type: spec, name: one, path: b.yaml}\n"
                              "  - {type: spec, name: two, path: b.yaml, inputs: input}\n"
                              "  - {type: add, inputs: [one, two]}\n"))  # fmt: skip
    (d,) = result.diagnostics
    assert (d.code, d.file, d.path) == ("W308", str(inner), ("blocks", 1, "any_size"))
    assert d.message.startswith(
        "blocks[1]: with `any_size: true`, `one_vv_flatten` flattens "
        "(2, 2, 512) into 2,048 values here, and (7, 7, 512) into 25,088"
    )
    # b2 includes VGG16 at its own size; a2 gives b2 another: said at a2's block
    write(tmp_path, "name: b2\ninput: [224, 224, 3]\nblocks:\n"
          "  - {type: spec, name: vv, path: vgg16, any_size: true}\n", "b2.yaml")  # fmt: skip
    outer = write(tmp_path, "name: a2\ninput: [64, 64, 3]\nblocks:\n  - {type: spec, "
                  "name: bb, path: b2.yaml, any_size: true}\n", "a2.yaml")  # fmt: skip
    (d,) = check_file(outer).diagnostics
    assert (d.code, d.file, d.path) == ("W308", str(outer), ("blocks", 0, "any_size"))
    assert "`bb_vv_flatten` flattens (2, 2, 512)" in d.message


@pytest.mark.parametrize(("path", "says"), [
    ("/dev/null", "`/dev/null` is a special file (a device, FIFO or socket), not a spec file"),
    (".", "`.` is a folder, not a spec file"),
    ("..", "`..` is a folder, not a spec file"),
])  # fmt: skip
def test_a_path_that_is_no_file_says_what_it_is(tmp_path, path, says):
    head = f"name: h\ninput: [8, 8, 3]\nblocks:\n  - {{type: spec, path: '{path}'}}\n"
    d = error(write(tmp_path, head)).diagnostics[0]
    assert (d.code, d.path) == ("E505", ("blocks", 0, "path"))
    assert d.message == f"blocks[0].path: {says}"


def test_a_file_that_is_no_spec_says_so_and_names_a_links_target(tmp_path):
    """It said "it resolves to passwd" of /etc/passwd itself, which is no link."""
    (tmp_path / "notes.txt").write_text("name: x\n")
    (tmp_path / "l.yaml").symlink_to("notes.txt")
    (tmp_path / "sub").mkdir()
    (tmp_path / "up").symlink_to(tmp_path)  # a link above the file is not the file's
    for path, says in [("notes.txt", ""), ("./sub/../notes.txt", ""),
                       ("l.yaml", "; it links to `notes.txt`")]:  # fmt: skip
        head = f"name: h\ninput: [8, 8, 3]\nblocks:\n  - {{type: spec, path: '{path}'}}\n"
        for spec in (write(tmp_path, head), tmp_path / "up" / "spec.yaml"):
            d = error(spec).diagnostics[0]
            assert d.message == (
                f"blocks[0].path: `{path}` is not a spec file (a .yaml or .yml file){says}"
            )


def test_a_spec_included_twice_warns_once(tmp_path):
    """W302 is once per place (e2ef732); a spec included twice gave it twice."""
    write(tmp_path, "name: sub\ninput: [8, 8, 3]\nblocks:\n"
          "  - {type: conv, filters: 4, kernel: 3, bn_scale: false}\n", "sub.yaml")  # fmt: skip
    head = write(tmp_path, "name: h\ninput: [8, 8, 3]\nblocks:\n"
                 "  - {type: spec, name: a, path: sub.yaml}\n"
                 "  - {type: spec, name: b, path: sub.yaml, inputs: input}\n"
                 "  - {type: add, inputs: [a, b]}\n", "head.yaml")  # fmt: skip
    warnings = api.analyze(head).warnings
    assert [(w.code, w.path, w.line) for w in warnings] == [("W302", ("blocks", 0, "bn_scale"), 4)]


def test_an_error_a_set_value_causes_in_the_included_spec_notes_the_set_key(tmp_path):
    """`set: {depth: 19}` on the resnet family: seven errors inside resnet.yaml, each noting only
    the including block, with no word on which value caused them."""
    path = write(tmp_path, "name: t\ninput: [224, 224, 3]\nblocks:\n"
                 "  - {type: spec, name: bb, path: resnet, set: {depth: 19}}\n")  # fmt: skip
    with pytest.raises(SpecError) as e:
        api.analyze(path)
    (d,) = e.value.diagnostics
    assert (d.code, d.file, d.line) == ("E501", str(ROOT / "specs/families/resnet.yaml"), 7)
    notes = [(r.message, r.file, r.line, r.col) for r in d.related]
    assert notes[0] == ("`depth` comes from blocks[0].set.depth", str(path), 4, 55)  # 19
    assert notes[1][0].startswith("the same error at 6 more keys of resnet.yaml: blocks[1].use")
    assert notes[2] == ("in the spec included by blocks[0]", str(path), 4, 5)


@pytest.mark.parametrize("written", ["1e-5", "'1e-5'"])
def test_a_set_value_yaml_read_as_text_gets_the_hint_at_the_set_key(tmp_path, written):
    write(tmp_path, "name: inner\nparams: {eps: 0.001}\ninput: [8, 8, 3]\nblocks:\n"
          "  - {type: conv, filters: 4, kernel: 3, batch_norm: true, bn_epsilon: '${eps}'}\n",
          "inner.yaml")  # fmt: skip
    path = write(tmp_path, "name: t\ninput: [8, 8, 3]\nblocks:\n"
                 f"  - {{type: spec, path: inner.yaml, set: {{eps: {written}}}}}\n")  # fmt: skip
    with pytest.raises(SpecError) as e:
        api.analyze(path)
    (d,) = e.value.diagnostics
    assert d.code == "E202" and d.line == 5
    assert d.related[0].message == "`eps` comes from blocks[0].set.eps"
    unquote = " (without quotes)" if written.startswith("'") else ""
    assert d.hint == f"blocks[0].set.eps: YAML reads `1e-5` as text; write `1.0e-5`{unquote}"


def test_an_included_specs_errors_come_in_the_place_of_the_including_block(tmp_path):
    """Errors were sorted by line whatever their file: the included spec's (line 7 of
    resnet.yaml) came after the including spec's line 5, which follows the including block."""
    path = write(tmp_path, "name: t\ninput: [224, 224, 3]\nblocks:\n"
                 "  - {type: spec, name: bb, path: resnet, set: {depth: 19}}\n"
                 "  - {type: dense, units: -3}\n")  # fmt: skip
    with pytest.raises(SpecError) as e:
        api.analyze(path)
    got = [(Path(d.file).name, d.line, d.code) for d in e.value.diagnostics]
    assert got == [("resnet.yaml", 7, "E501"), (path.name, 5, "E204")]


def test_a_set_value_that_reads_a_set_of_the_including_spec_notes_both(tmp_path):
    """`set: {depth: "${d + 1}"}` with `--set d=18`: the note named the set key and stopped,
    with no word on the --set that made it 19; through a second include as well."""
    mid = write(tmp_path, "name: mid\nparams: {d: 50}\ninput: [224, 224, 3]\nblocks:\n"
                "  - {type: spec, name: bb, path: resnet, set: {depth: '${d + 1}'}}\n",
                "mid.yaml")  # fmt: skip
    with pytest.raises(SpecError) as e:
        api.analyze(mid, sets=["d=18"])
    (d,) = e.value.diagnostics
    assert [r.message for r in d.related][:2] == [
        "`depth` comes from blocks[0].set.depth", "`d` comes from --set d=18"
    ]  # fmt: skip
    top = write(tmp_path, "name: top\nparams: {n: 50}\ninput: [224, 224, 3]\nblocks:\n"
                "  - {type: spec, name: m, path: mid.yaml, set: {d: '${n}'}}\n", "top.yaml")  # fmt: skip
    with pytest.raises(SpecError) as e:
        api.analyze(top, sets=["n=18"])
    (d,) = e.value.diagnostics
    assert [(r.message, r.file and Path(r.file).name) for r in d.related][:4] == [
        ("`depth` comes from blocks[0].set.depth", "mid.yaml"),
        ("`d` comes from blocks[0].set.d", "top.yaml"),
        ("`n` comes from --set n=18", None),
        (
            "the same error at 6 more keys of resnet.yaml: blocks[1].use_bias, blocks[1].bn_epsilon, "
            "blocks[4].blocks, blocks[5].blocks, blocks[6].blocks, blocks[7].blocks",
            None,
        ),
    ]


@pytest.mark.parametrize(("given", "hint"), [
    ("./family.yml", "did you mean `family.yaml`?"),  # it listed the zoo's names
    ("sub/famly.yaml", "did you mean `sub/family.yaml`?"),
    ("FAMILY.yaml", "did you mean `family.yaml`?"),  # a walkthrough: it listed the zoo's names
    ("resnt50", "did you mean `resnet50`?"),  # a bare name: the zoo, as before
    # a walkthrough: "did you mean `efficientnet`?", the family and not the member written
    ("x/efficientnet_b3.yaml", "`efficientnet_b3` is a zoo network: write "
     "`path: efficientnet_b3`, without a folder"),
    ("specs/resnet50.yaml", "`resnet50` is a zoo network: write `path: resnet50`, without a "
     "folder"),
    ("sub/x/resnet50.yaml", "`resnet50` is a zoo network: write `path: resnet50`, without a "
     "folder"),
])  # fmt: skip
def test_a_mistyped_include_path_suggests_the_file_beside_it(tmp_path, given, hint):
    (tmp_path / "sub").mkdir()
    for name in ("family.yaml", "sub/family.yaml"):
        write(tmp_path, "name: f\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten}\n", name)
    path = write(
        tmp_path, f"name: t\ninput: [8, 8, 3]\nblocks:\n  - {{type: spec, path: {given}}}\n"
    )
    with pytest.raises(SpecError) as e:
        api.analyze(path)
    (d,) = e.value.diagnostics
    assert (d.code, d.hint) == ("E505", hint)


NET = """\
name: net
params: {size: 32, half: "${size // 2}"}
input: ["${size}", "${size}", 3]
blocks:
  - {type: conv, filters: 8, kernel: 3, strides: 2}
  - {type: avg_pool, pool: "${half}"}
  - {type: flatten}
  - {type: dense, units: 4}
"""


#: the same with its input named: the refusal below read `input` only (a review found it)
NAMED_NET = NET.replace(
    'input: ["${size}", "${size}", 3]', 'inputs: {image: ["${size}", "${size}", 3]}'
)


#: and with the whole shape one param (a review found it built 356 params where 260 is right)
SHAPE_NET = NET.replace('input: ["${size}", "${size}", 3]', 'input: "${shape}"').replace(
    'half: "${size // 2}"}', 'half: "${size // 2}", shape: ["${size}", "${size}", 3]}'
)


#: only a `require` reads the size (at its old value with any_size; a review found it passed)
REQUIRE_NET = NET.replace('pool: "${half}"', "pool: 16").replace(
    "blocks:\n", 'require: [{that: "${size % 32 == 0}", message: "a multiple of 32"}]\nblocks:\n'
)


def test_any_size_refuses_an_input_size_a_require_reads(tmp_path):
    """The included spec's `require` would hold the old size (a review found it passed when
    `require` was counted with `expect`, which an included spec does not check)."""
    assert "pool: 16" in REQUIRE_NET and "require:" in REQUIRE_NET
    write(tmp_path, REQUIRE_NET, "net.yaml")
    top = (
        "name: top\ninput: [64, 64, 3]\nblocks:\n  - {type: spec, path: net.yaml, any_size: true}\n"
    )
    d = error(write(tmp_path, top, "top.yaml")).diagnostics[0]
    assert (d.code, d.path) == ("E505", ("blocks", 0, "any_size"))
    assert "computes its input from its params (size)" in d.message


@pytest.mark.parametrize("net", [NET, NAMED_NET, SHAPE_NET])
def test_any_size_refuses_an_input_computed_from_params_that_other_keys_read(tmp_path, net):
    """The pool reads `size` (through `half`): at 64 x 64 it stayed 16 and the model was not
    the one `set: {size: 64}` gives, without a word (a review found it)."""
    assert "inputs: {image: " in NAMED_NET and 'input: "${shape}"' in SHAPE_NET  # replaced
    write(tmp_path, net, "net.yaml")
    top = (
        "name: top\ninput: [64, 64, 3]\nblocks:\n  - {type: spec, path: net.yaml, any_size: true}\n"
    )
    d = error(write(tmp_path, top, "top.yaml")).diagnostics[0]
    assert (d.code, d.path, d.line, d.col) == ("E505", ("blocks", 0, "any_size"), 4, 34)
    assert "computes its input from its params (size)" in d.message
    assert d.hint == "give the params their values in `set` instead"
    given = api.analyze(write(tmp_path, top.replace("any_size: true", "set: {size: 64}"), "s.yaml"))
    # the pool covers the whole 32 x 32 map: conv 3*3*3*8 + 8, dense 8*4 + 4 (a 2 x 2 map
    # left by a pool of 16 gave the dense 32*4 + 4)
    assert given.params == (3 * 3 * 3 * 8 + 8) + (8 * 4 + 4)
    # where only the input (and the `expect`, not checked in an included spec) reads them
    # (EfficientNet's `resolution`), any_size takes the size
    eff = ("name: t\ninput: [512, 512, 3]\nblocks:\n  - {type: spec, name: bb, path: efficientnet, "
           "any_size: true, outputs: [block6a]}\n")  # fmt: skip
    graph = api.analyze(write(tmp_path, eff, "eff.yaml"))
    assert list(graph.output_shapes.values()) == [(16, 16, 192)]  # 512 / 32
    at224 = api.analyze(write(tmp_path, eff.replace("512, 512", "224, 224"), "eff224.yaml"))
    assert graph.params == at224.params  # no weight depends on the size


def test_a_value_yaml_read_as_text_passed_on_by_set_gets_an_unnamed_hint(tmp_path):
    """`--set e=1e-5` read by `set: {eps: "${e}"}`: the hint named `blocks[0].set.eps` and said
    to remove the quotes that `"${e}"` needs (a review found it)."""
    write(tmp_path, "name: inner\nparams: {eps: 0.001}\ninput: [8, 8, 3]\nblocks:\n"
          "  - {type: conv, filters: 4, kernel: 3, batch_norm: true, bn_epsilon: '${eps}'}\n",
          "inner.yaml")  # fmt: skip
    path = write(tmp_path, "name: t\nparams: {e: 0.01}\ninput: [8, 8, 3]\nblocks:\n"
                 "  - {type: spec, path: inner.yaml, set: {eps: '${e}'}}\n")  # fmt: skip
    with pytest.raises(SpecError) as e:
        api.analyze(path, sets=["e=1e-5"])
    (d,) = e.value.diagnostics
    assert [r.message for r in d.related][:2] == [
        "`eps` comes from blocks[0].set.eps", "`e` comes from --set e=1e-5"
    ]  # fmt: skip
    assert d.hint == "YAML reads `1e-5` as text; write `1.0e-5`"


def test_a_mistyped_include_path_is_not_told_to_include_its_own_file(tmp_path):
    # `backbone.yaml` including `backbone2.yaml` was asked "did you mean `backbone.yaml`?"
    path = write(tmp_path, "name: b\ninput: [8, 8, 3]\nblocks:\n"
                 "  - {type: spec, path: backbone2.yaml}\n", "backbone.yaml")  # fmt: skip
    (d,) = error(path).diagnostics
    assert d.code == "E505" and d.hint.startswith("give a path relative to this spec")


def test_a_members_name_as_path_refuses_a_set_that_picks_another(tmp_path):
    head = ("name: h\ninput: [224, 224, 3]\nblocks:\n"
            "  - {type: spec, path: efficientnet_b3, set: {variant: b4}}\n")  # fmt: skip
    d = error(write(tmp_path, head)).diagnostics[0]
    assert (d.code, d.path, d.line, d.col) == ("E503", ("blocks", 0, "set", "variant"), 4, 47)
    assert d.message == ("blocks[0].set.variant: `efficientnet_b3` is the member variant=b3 of "
                         "the zoo family `efficientnet`; `set` would pick another")  # fmt: skip
    assert d.hint == "name the family: `path: efficientnet`"
    same = head.replace("variant: b4", "variant: b3").replace("224, 224", "300, 300")
    same = api.analyze(write(tmp_path, same, "same.yaml"))
    assert same.params == api.analyze("efficientnet_b3").params  # its own value: no other member


@pytest.mark.parametrize("path", ["resnet50.yaml", "ResNet50.yml", "resnet50"])
def test_a_zoo_name_as_path_may_end_in_yaml_or_yml(tmp_path, path):
    # `ResNet50.yml` was E505 where `resnet50.yaml` was the zoo's (a review found it)
    head = f"name: h\ninput: [224, 224, 3]\nblocks:\n  - {{type: spec, path: {path}}}\n"
    assert api.analyze(write(tmp_path, head)).params == api.analyze("resnet50").params


def test_a_zoo_network_included_with_its_familys_param_names_the_family(tmp_path):
    # `path: resnet50` with `set: {depth: 101}` was told only "it has no params"
    spec = ("name: h\ninput: [224, 224, 3]\nblocks:\n"
            "  - {type: spec, path: resnet50, set: {depth: 101}}\n")  # fmt: skip
    d = error(write(tmp_path, spec)).diagnostics[0]
    assert (d.code, d.path) == ("E503", ("blocks", 0, "set", "depth"))
    assert d.hint == ("`resnet50` is the zoo family `resnet` at depth=50; for another, include "
                      "the family: `path: resnet`")  # fmt: skip
    d = error(write(tmp_path, spec.replace("resnet50", "vgg16"), "v.yaml")).diagnostics[0]
    assert d.hint == "it has no params"


def test_an_include_output_named_twice_is_e302_as_at_the_top(tmp_path):
    # a review: `outputs: [c, c]` was E302 at the top level and taken in a `spec` block
    write(tmp_path, "name: b\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, name: c, filters: 4, "
          "kernel: 1}\n", "b.yaml")  # fmt: skip
    d = error(write(tmp_path, "name: h\ninput: [8, 8, 3]\nblocks:\n"
                    "  - {type: spec, path: b.yaml, outputs: [c, c]}\n")).diagnostics[0]  # fmt: skip
    assert (d.code, d.path, d.hint) == (
        "E302",
        ("blocks", 0, "outputs", 1),
        "name each output once",
    )
    assert d.message == ("blocks[0].outputs[1] `c` and blocks[0].outputs[0] `c` both name the "
                         "block `c`")  # fmt: skip
    # two names of one block: a repeated block's name and its last copy's (a review)
    write(tmp_path, "name: r\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, name: st, filters: 4, "
          "kernel: 1, repeat: 2}\n", "r.yaml")  # fmt: skip
    d = error(write(tmp_path, "name: h\ninput: [8, 8, 3]\nblocks:\n  - {type: spec, path: "
                    "r.yaml, outputs: [st, st_2]}\n", "h2.yaml")).diagnostics[0]  # fmt: skip
    assert (d.code, d.path) == ("E302", ("blocks", 0, "outputs", 1))
    assert d.message.endswith("`st_2` and blocks[0].outputs[0] `st` both name the block `st_2`")


def test_repeat_on_a_spec_block_is_reported_at_repeat(tmp_path):
    # a review: the error stood at the block
    write(tmp_path, "name: b\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten}\n", "b.yaml")
    d = error(write(tmp_path, "name: h\ninput: [8, 8, 3]\nblocks:\n"
                    "  - {type: spec, path: b.yaml, repeat: 2}\n")).diagnostics[0]  # fmt: skip
    assert (d.code, d.path, d.line, d.col) == ("E204", ("blocks", 0, "repeat"), 4, 32)


def test_an_include_path_without_its_suffix_is_hinted_to_the_file_beside(tmp_path):
    # a review: `path: bb` beside bb.yaml was hinted with the zoo's names only
    write(tmp_path, "name: b\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten}\n", "bb.yaml")
    d = error(write(tmp_path, "name: h\ninput: [8, 8, 3]\nblocks:\n"
                    "  - {type: spec, path: bb}\n")).diagnostics[0]  # fmt: skip
    assert (d.code, d.hint) == ("E505", "did you mean `bb.yaml`?")
    # read from standard input, the path is relative to the current folder, not "this spec"
    with pytest.raises(SpecError) as e:
        api.load(text="name: h\ninput: [8, 8, 3]\nblocks:\n  - {type: spec, path: zzqq}\n")
    assert e.value.diagnostics[0].hint.startswith("give a path relative to the current folder")


def test_a_backbones_classifier_read_by_a_new_head_is_warned():
    """A walkthrough: a zoo network included whole, then a 5-class dense, checked ok: its
    1000-way softmax fed the new head. W304 at the `spec` block; a cut backbone, or a model
    that is the whole network, gets none."""
    head = "name: h\ninput: [224, 224, 3]\nblocks:\n  - {type: spec, name: bb, path: resnet50%s}\n"
    graph = api.analyze(api.load(text=head % "" + "  - {type: dense, name: head, units: 5}\n"))
    (w,) = graph.warnings
    assert (w.code, w.path, w.severity) == ("W304", ("blocks", 0), "warning")
    assert w.message == (
        "blocks[0]: `head` reads the softmax of the classifier of the spec block `bb` "
        "(`bb_predictions`)"
    )
    assert w.hint and "list a block before its classifier in its `outputs`" in w.hint
    cut = head % ", outputs: [avg_pool]" + "  - {type: dense, name: head, units: 5}\n"
    assert api.analyze(api.load(text=cut)).warnings == []
    assert api.analyze(api.load(text=head % "")).warnings == []  # the network itself
    # a review: legitimate reads of a softmax are not warned: asked for in `outputs`, or read
    # by a layer without weights (an ensemble's `add`)
    asked = head % ", outputs: [avg_pool, predictions]" + \
        "  - {type: dense, name: head, units: 5, inputs: bb.predictions}\n"  # fmt: skip
    graph = api.analyze(api.load(text=asked))
    assert [w.code for w in graph.warnings] == ["W301"]  # avg_pool, unread: as before
    ensemble = ("name: e\ninput: [224, 224, 3]\nblocks:\n  - {type: spec, name: a, path: resnet50}"
                "\n  - {type: spec, name: b, path: resnet50, inputs: input}\n"
                "  - {type: add, inputs: [a, b]}\n")  # fmt: skip
    assert api.analyze(api.load(text=ensemble)).warnings == []


def test_an_unknown_key_of_a_spec_block_lists_the_keys_it_takes():
    """A walkthrough: the list offered `repeat` and `repeat_names`, which a `spec` block
    refuses (E505)."""
    text = "name: h\ninput: [224, 224, 3]\nblocks:\n  - {type: spec, path: resnet50, foo: 1}\n"
    with pytest.raises(SpecError) as e:
        api.load(text=text)
    (d,) = e.value.diagnostics
    assert (d.code, d.hint) == (
        "E201", "allowed keys: type, name, inputs, trainable, path, set, outputs, any_size"
    )  # fmt: skip


def test_an_output_that_a_set_value_names_notes_where_it_came_from():
    """A walkthrough: `outputs: ["${cut}"]` with `--set cut=layer4` got no note, as an error
    a block's `${...}` causes has."""
    text = ("name: h\nparams: {cut: stem}\ninput: [8, 8, 3]\nblocks:\n"
            "  - {type: conv, name: stem, filters: 3, kernel: 3}\noutputs: [\"${cut}\"]\n")  # fmt: skip
    with pytest.raises(SpecError) as e:
        api.load(text=text, sets=["cut=layer4"])
    (d,) = e.value.diagnostics
    assert d.code == "E301" and d.message == "outputs[0]: `layer4` is not a block"
    assert [r.message for r in d.related] == ["`cut` comes from --set cut=layer4"]


@pytest.mark.parametrize("any_size", ["", ", any_size: true"])
def test_a_backbone_on_other_channels_is_told_the_channels_differ(any_size):
    """A walkthrough: a grey 128 x 128 x 1 input under MobileNetV2 with `any_size: true` was
    told only that the shapes must agree, and the hint then left `any_size` out."""
    text = ("name: h\ninput: [128, 128, 1]\nblocks:\n  - {type: spec, name: bb, path: "
            f"mobilenet_v2, outputs: [out_relu]{any_size}}}\n")  # fmt: skip
    with pytest.raises(SpecError) as e:
        api.load(text=text)
    (d,) = e.value.diagnostics
    assert d.code == "E401" and d.hint is not None
    assert d.hint.startswith("the channels differ (3 against 1): `any_size` lets the height")


def test_a_channels_first_input_under_a_backbone_is_told_its_layout():
    """A walkthrough: `input: [3, 160, 160]` under MobileNetV2 (any_size) was told the channels
    differ (3 against 160) and to add a 1x1 conv to 3, and lost the W305 every other error of a
    channels-first input comes with."""
    text = ("name: headcf\ninput: [3, 160, 160]\nblocks:\n  - {type: spec, name: backbone, path: "
            "mobilenet_v2, any_size: true, outputs: [block_16]}\n  - {type: global_avg_pool}\n")  # fmt: skip
    with pytest.raises(SpecError) as e:
        api.load(text=text)
    d, w = e.value.diagnostics
    assert d.code == "E401" and d.hint is not None
    assert "channels first" in d.hint and d.hint.endswith("is [160, 160, 3]")
    assert "conv" not in d.hint
    assert (w.code, w.path, w.severity) == ("W305", ("input",), "warning")
