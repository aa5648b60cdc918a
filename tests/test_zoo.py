"""The model zoo (specs/*.yaml): each spec builds exactly the network it names.

Golden figures come from keras.applications itself (built here, weights=None) and from
../shared/REFERENCE.md (published parameter counts and MACs, the papers' Table 1 shapes), never
from archspec. The static figures of every zoo spec also equal Keras's layer by layer: that is
test_static_vs_keras, which builds each spec once per session (the `compiled_specs` cache) and
shares the models with this module.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import archspec
from tests.conftest import ROOT

ZOO = {p.stem: p for p in sorted((ROOT / "specs").glob("*.yaml"))}

#: spec -> (keras.applications constructor, count_params() and layer count from REFERENCE.md)
KERAS_APPLICATIONS = {
    "vgg16": ("VGG16", 138_357_544, 23),
    "vgg19": ("VGG19", 143_667_240, 26),
    "resnet50": ("ResNet50", 25_636_712, 177),
    "resnet101": ("ResNet101", 44_707_176, 347),
    "resnet152": ("ResNet152", 60_419_944, 517),
}

#: published MACs at 224x224 (REFERENCE.md), in G; archspec's static MACs are within 0.5 %
PUBLISHED_MACS_G = {
    "vgg16": 15.47,
    "vgg19": 19.63,
    "resnet18": 1.81,
    "resnet34": 3.66,
    "resnet50": 3.86,
    "googlenet": 1.58,
}

#: published parameter counts (REFERENCE.md): torchvision's ResNet-18/34 (trainable: PyTorch
#: does not count BN's moving statistics), GoogLeNet from the paper's Table 1 (no BN)
PUBLISHED_TRAINABLE = {"resnet18": 11_689_512, "resnet34": 21_797_672, "googlenet": 6_998_552}
PUBLISHED_TOTAL = {"googlenet": 6_998_552}

#: output sizes of Table 1 of the GoogLeNet paper (Szegedy et al., 2014), per block
GOOGLENET_TABLE1 = {
    "conv1": (112, 112, 64),
    "pool1": (56, 56, 64),
    "conv2": (56, 56, 192),
    "pool2": (28, 28, 192),
    "inception_3a": (28, 28, 256),
    "inception_3b": (28, 28, 480),
    "pool3": (14, 14, 480),
    "inception_4a": (14, 14, 512),
    "inception_4b": (14, 14, 512),
    "inception_4c": (14, 14, 512),
    "inception_4d": (14, 14, 528),
    "inception_4e": (14, 14, 832),
    "pool4": (7, 7, 832),
    "inception_5a": (7, 7, 832),
    "inception_5b": (7, 7, 1024),
    "avg_pool": (1, 1, 1024),
    "predictions": (1000,),
}

#: output sizes of Table 1 of the ResNet paper (He et al., 2015) for the 18/34-layer nets
RESNET_TABLE1 = {
    "conv1_relu": (112, 112, 64),
    "pool1_pool": (56, 56, 64),
    "conv2": (56, 56, 64),
    "conv3": (28, 28, 128),
    "conv4": (14, 14, 256),
    "conv5": (7, 7, 512),
}


#: compared with keras.applications output for output in the long tier (tests/test_zoo_apps.py)
IN_THE_ZOO_TIER = {"mobilenet", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
                   "xception", "inception_v3", "inception_resnet_v2"}  # fmt: skip


def test_the_zoo_is_complete():
    expected = {*KERAS_APPLICATIONS, *IN_THE_ZOO_TIER, "resnet18", "resnet34", "googlenet"}
    assert set(ZOO) == expected


@pytest.mark.parametrize("name", sorted(ZOO))
def test_spec_says_what_it_reproduces_and_expects_its_figures(name):
    """Each zoo spec opens with a comment naming its source, and its `expect:` (what
    `archspec check` guards) holds the parameter count and output shape, equal to the static
    figures."""
    text = ZOO[name].read_text()
    assert text.startswith("# ") and "Reference" in text.split("\nname:")[0]
    expect = archspec.load(ZOO[name]).model.expect  # evaluated: the MobileNets' `${...}`
    assert expect is not None
    graph = archspec.analyze(ZOO[name])
    assert expect.params == graph.params
    assert (expect.trainable_params or graph.cost.trainable) == graph.cost.trainable
    assert expect.output_shape is not None
    assert [tuple(expect.output_shape)] == list(graph.output_shapes.values())


@pytest.mark.parametrize("name", sorted(PUBLISHED_MACS_G))
def test_static_macs_within_half_a_percent_of_published(name):
    macs = archspec.analyze(ZOO[name]).cost.macs
    assert macs == pytest.approx(PUBLISHED_MACS_G[name] * 1e9, rel=0.005)


@pytest.mark.parametrize("name", sorted(PUBLISHED_TRAINABLE))
def test_published_parameter_counts(name):
    graph = archspec.analyze(ZOO[name])
    assert graph.cost.trainable == PUBLISHED_TRAINABLE[name]
    if name in PUBLISHED_TOTAL:
        assert graph.params == PUBLISHED_TOTAL[name]


def test_googlenet_has_table1_shapes():
    graph = archspec.analyze(ZOO["googlenet"])
    shapes = {b.name: b.shape for b in graph.blocks}
    assert {k: shapes[k] for k in GOOGLENET_TABLE1} == GOOGLENET_TABLE1
    dropout = graph.nodes["dropout"].op
    assert dropout.rate == 0.4  # type: ignore[attr-defined]
    assert not any(type(n.op).__name__ == "BatchNorm" for n in graph.nodes.values())


@pytest.mark.parametrize("name", ["resnet18", "resnet34"])
def test_basic_resnets_have_table1_shapes(name):
    graph = archspec.analyze(ZOO[name])
    shapes = {n: node.shape for n, node in graph.nodes.items()}
    for b in graph.blocks:  # a stage's shape is its last block's
        shapes[b.name.split("_")[0]] = b.shape
    assert {k: shapes[k] for k in RESNET_TABLE1} == RESNET_TABLE1
    convs = [n.op for n in graph.nodes.values() if type(n.op).__name__ == "Conv2D"]
    assert convs and not any(c.use_bias for c in convs)  # type: ignore[attr-defined]


# --- equality with keras.applications ------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(KERAS_APPLICATIONS))
def pair(request, keras, compiled_specs):
    """(name, compiled spec, keras.applications reference), one model at a time: pytest runs
    all tests of one param before building the next, and the models are then freed."""
    name = request.param
    _, model = compiled_specs.get(ZOO[name])
    reference = getattr(keras.applications, KERAS_APPLICATIONS[name][0])(weights=None)
    yield name, model, reference
    compiled_specs.release(ZOO[name])


def test_count_params_equals_keras_applications(pair):
    name, model, reference = pair
    assert model.count_params() == reference.count_params() == KERAS_APPLICATIONS[name][1]
    assert len(reference.layers) == KERAS_APPLICATIONS[name][2]


def test_layer_names_and_order_equal_keras_applications(pair):
    _, model, reference = pair
    assert [layer.name for layer in model.layers[1:]] == [
        layer.name for layer in reference.layers[1:]
    ]


def test_reference_weights_fit_and_give_the_same_outputs(keras, pair):
    """set_weights(reference.get_weights()) succeeds, and a random batch gives the same
    features and predictions. BN's statistics are randomized first so that an epsilon or an
    ordering mistake cannot hide behind BN's initial identity."""
    _, model, reference = pair
    rng = np.random.default_rng(0)
    for layer in reference.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([
                rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.1, beta.shape),
                rng.normal(0, 0.1, mean.shape), rng.uniform(0.5, 1.5, var.shape),
            ])  # fmt: skip
    model.set_weights(reference.get_weights())

    def probe(m):
        """The classifier's input (features) and the predictions."""
        return keras.Model(m.inputs[0], [m.get_layer("predictions").input, m.outputs[0]])

    x = rng.uniform(0, 255, (1, 224, 224, 3)).astype("float32")
    ours = [np.asarray(t) for t in probe(model)(x, training=False)]
    theirs = [np.asarray(t) for t in probe(reference)(x, training=False)]
    features, predictions = ours
    assert np.abs(features).max() > 0  # a dead network would compare equal trivially
    assert np.abs(predictions - theirs[1]).max() <= 1e-5
    assert np.abs(features - theirs[0]).max() <= 1e-5 * max(1.0, float(np.abs(theirs[0]).max()))


# --- the README's zoo table ----------------------------------------------------------------------


def test_readme_zoo_table_is_generated_and_current():
    """`make zoo-table` writes the README's table; it must match what the specs say now."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "zoo_table.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


#: the MobileNets take keras.applications' width multiplier: Keras's ImageNet alphas, and one
#: above them (tests/test_zoo_apps.py compares the networks with keras.applications')
MOBILENET_ALPHAS = [
    ("mobilenet", a) for a in (0.25, 0.5, 0.75)
] + [
    ("mobilenet_v2", a) for a in (0.35, 0.5, 0.75, 1.3, 1.4)
] + [
    (f"mobilenet_v3_{size}", a) for size in ("small", "large") for a in (0.75, 1.25)
]  # fmt: skip


@pytest.mark.parametrize(("name", "alpha"), MOBILENET_ALPHAS)
def test_the_mobilenets_take_a_width_multiplier(name, alpha):
    """A deployment walkthrough: `archspec check mobilenet_v2 --set alpha=0.5` was refused
    ("the spec has no params"), where keras.applications.MobileNetV2(alpha=0.5) builds. Another
    alpha is another network: its figures are not held to alpha 1.0's `expect`."""
    result = archspec.check(ZOO[name], sets=[f"alpha={alpha}"])
    assert result.ok, [d.message for d in result.errors]
    assert result.graph is not None
    assert list(result.graph.output_shapes.values()) == [(1000,)]
    expect = archspec.load(ZOO[name], sets=[f"alpha={alpha}"]).model.expect
    assert expect is not None
    assert (expect.params, expect.trainable_params, expect.macs) == (None, None, None)
    default = archspec.analyze(ZOO[name])
    assert (result.graph.params < default.params) == (alpha < 1)


@pytest.mark.parametrize("name", ["mobilenet", "mobilenet_v2", "mobilenet_v3_small",
                                  "mobilenet_v3_large"])  # fmt: skip
def test_a_mobilenet_at_alpha_1_keeps_its_expect_checked(name):
    """`expect` still holds keras.applications' figures at the default alpha (a wrong one
    fails), whether alpha is left out or given as 1.0."""
    for sets in ([], ["alpha=1.0"]):
        wrong = archspec.check(ZOO[name], sets=[*sets, "keras_params=1"])
        assert [(d.code, d.path) for d in wrong.errors] == [("E602", ("expect", "params"))]
    assert archspec.check(ZOO[name], sets=["alpha=0.75", "keras_params=1"]).ok


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "mobilenet_v3_large"])
def test_mobilenet_v3_takes_keras_minimalistic(name):
    """keras.applications.MobileNetV3Small/Large(minimalistic=True) (no squeeze-excitation, 3x3
    kernels, relu for hard_swish) had no spelling; `--set minimalistic=true` is it
    (tests/test_zoo_apps.py compares it with Keras's, at two alphas). It is another network:
    alpha 1.0's `expect` is not applied (a wrong keras_params passes), as for another alpha;
    `minimalistic=false`, written out, keeps it checked. Text is refused, not read as true."""
    result = archspec.check(ZOO[name], sets=["minimalistic=true", "keras_params=1"])
    assert result.ok, [d.message for d in result.errors]
    assert result.graph is not None
    assert list(result.graph.output_shapes.values()) == [(1000,)]
    ops = [n.op for n in result.graph.nodes.values()]
    assert not [op for op in ops if type(op).__name__ == "Multiply"]  # no squeeze-excitation
    assert {op.kernel for op in ops if type(op).__name__ == "DepthwiseConv2D"} == {(3, 3)}
    assert {getattr(op, "activation", None) for op in ops} == {None, "linear", "relu", "softmax"}
    expect = archspec.load(ZOO[name], sets=["minimalistic=true"]).model.expect
    assert expect is not None
    assert (expect.params, expect.trainable_params, expect.macs) == (None, None, None)
    wrong = archspec.check(ZOO[name], sets=["minimalistic=false", "keras_params=1"])
    assert [(d.code, d.path) for d in wrong.errors] == [("E602", ("expect", "params"))]
    typo = archspec.check(ZOO[name], sets=["minimalistic=flase"])
    assert [(d.code, d.path) for d in typo.errors] == [("E506", ("require", 0, "that"))]


def test_mobilenet_v2_refuses_an_alpha_whose_block_0_keras_gives_a_shortcut():
    """Below alpha 0.28 Keras adds block 0's input to its output (Conv1 and its project conv
    are both 8 wide): a graph the spec does not build, so it refuses such an alpha rather than
    build another network than Keras's."""
    result = archspec.check(ZOO["mobilenet_v2"], sets=["alpha=0.25"])
    assert [(d.code, d.path) for d in result.errors] == [("E506", ("require", 0, "that"))]
    assert result.errors[0].message.startswith("alpha below 0.28 is not supported")
    assert archspec.check(ZOO["mobilenet_v2"], sets=["alpha=0.28"]).ok


@pytest.mark.parametrize("sets", [["depth_multiplier=2"], ["alpha=0.5", "depth_multiplier=2"]])
def test_mobilenet_takes_keras_depth_multiplier(sets):
    """keras.applications.MobileNet(depth_multiplier=2) widens every depthwise conv (C -> 2C
    channels, and the pointwise conv after it reads them); a user porting such a model had no
    way to write it. Another depth_multiplier is another network: alpha 1.0's `expect` is not
    applied (a wrong keras_params passes). tests/test_zoo_apps.py compares it with Keras's."""
    result = archspec.check(ZOO["mobilenet"], sets=[*sets, "keras_params=1"])
    assert result.ok, [d.message for d in result.errors]
    assert result.graph is not None
    assert list(result.graph.output_shapes.values()) == [(1000,)]
    expect = archspec.load(ZOO["mobilenet"], sets=sets).model.expect
    assert expect is not None
    assert (expect.params, expect.trainable_params, expect.macs) == (None, None, None)
    alpha_only = archspec.analyze(ZOO["mobilenet"], sets=sets[:-1])  # depth_multiplier 1
    assert result.graph.params > alpha_only.params
    assert result.graph.cost.macs > alpha_only.cost.macs
    # depth_multiplier 1, written out, keeps alpha 1.0's figures checked
    wrong = archspec.check(ZOO["mobilenet"], sets=["depth_multiplier=1", "keras_params=1"])
    assert [(d.code, d.path) for d in wrong.errors] == [("E602", ("expect", "params"))]


@pytest.mark.parametrize(
    ("value", "code", "says"),
    [("0", "E204", "expected a value > 0, received 0"),
     ("-1", "E204", "expected a value > 0, received -1"),
     ("1.5", "E202", "expected an integer, received 1.5")],
)  # fmt: skip
def test_mobilenet_refuses_a_depth_multiplier_keras_cannot_build(value, code, says):
    """A depth_multiplier that is not a positive integer is one error, at the first depthwise
    conv, saying what is expected and that the value came from --set (not 13 errors, not a
    Keras traceback)."""
    result = archspec.check(ZOO["mobilenet"], sets=[f"depth_multiplier={value}"])
    assert [(d.code, d.path) for d in result.errors] == [(code, ("blocks", 3, "depth_multiplier"))]
    (error,) = result.errors
    assert says in error.message
    notes = [r.message for r in error.related]
    assert f"`depth_multiplier` comes from --set depth_multiplier={value}" in notes
