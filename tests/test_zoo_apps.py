"""The zoo networks equal keras.applications (issues 13 and 14), one table row each.

For each row the reference is built here with weights=None (never from figures typed into the
test), and the spec with archspec; then:

* `archspec check` passes on the spec: its `expect:` (parameters, and the published MACs where
  the paper gives them, at the precision written) holds;
* count_params, trainable parameters, the output shape and (but for specs that leave out or add
  weightless layers) the number of layers are equal;
* every weighted layer of the reference whose name is not one of Keras's automatic session
  counters (`conv2d_3`, `batch_normalization`, `add_7`, `re_lu_2`, ...) exists in ours under the
  same name with the same weight shapes, so keras.applications weight files load by name; every
  layer Keras names by a pattern has the same class and configuration (initializers aside;
  Keras's ReLU layers equal Activation(relu / relu6));
* a nested model of the reference (ConvNeXt's stem and downsampling layers are Sequential
  models) is compared by its layers, which a flat spec has in the same order with the same
  weights; a custom layer the spec writes as a built-in one (`replaced`: ConvNeXt's LayerScale,
  an EinsumDense here) must have that class and the same weight shapes;
* `set_weights(reference.get_weights())` fits (same layers in the same order), and with BN's
  statistics, LayerNorm's scale and offset and the replaced layers' weights randomised (on the
  reference first, then copied) a random batch of 2 gives the same predictions, logits (or the
  classifier's input) and 12 intermediate outputs within 1e-5 (relative to the magnitude where
  it exceeds 1). MobileNetV3 needs no more: its hard_sigmoid gate (Keras: ReLU(6)(x + 3) * (1/6);
  archspec: Activation(hard_sigmoid)) differs by a rounding error, about 1e-7 at the logits.

The long tier (`make test-zoo`): B7 and V2-L take a while and GBs; each row builds its two models
once and frees them (keras.backend.clear_session) before the next.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import archspec
from archspec.app.check import check_file
from tests.conftest import ROOT

pytestmark = [pytest.mark.zoo, pytest.mark.keras]

#: Keras's automatic layer names: a per-session counter, not a pattern a spec can (or should) match
AUTO_NAME = re.compile(
    r"(conv2d|depthwise_conv2d|separable_conv2d|batch_normalization|add|multiply|re_lu|activation"
    r"|global_average_pooling2d|dropout|flatten|reshape|rescaling|normalization|zero_padding2d"
    r"|dense|max_pooling2d|average_pooling2d|concatenate|custom_scale_layer|lambda)(_\d+)?"
)

#: outputs: absolute tolerance on the predictions (softmax); the logits get the same relative to
#: their magnitude
ATOL = 1e-5

#: how many intermediate layers the output comparison probes
PROBES = 12


@dataclass(frozen=True)
class Row:
    id: str
    spec: str  # relative to specs/
    factory: str  # keras.applications.<factory>
    sets: tuple[str, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: build the reference at the spec's input shape where the spec fixes it (MobileNetV3's
    #: default input is (None, None, 3))
    input_from_spec: bool = False
    #: the range of the random input: what the model expects, so that activations neither
    #: vanish nor saturate (relu6 everywhere would hide a wrong epsilon): [-1, 1] for the models
    #: that take preprocessed images, [0, 255] for those that rescale inside (V3, EfficientNet)
    pixels: tuple[float, float] = (0.0, 255.0)
    #: the spec leaves out or adds weightless layers: `mbconv` pads `same` instead of
    #: ZeroPadding2D + `valid`, its squeeze-excitation pools with keepdims instead of adding a
    #: Reshape, and has its activations inside its convs where MobileNetV3 has separate layers;
    #: Inception-ResNet-v2's scaled residual is Rescaling + Add where Keras has one custom
    #: layer. The layer counts may then differ, and the configuration keys in `loose` are not
    #: compared (the weights, their order and the outputs still are)
    weightless_differ: bool = False
    loose: frozenset[str] = frozenset()
    #: Keras's custom layers that the spec writes as a built-in layer with the same weights:
    #: Keras class name -> ours (ConvNeXt's LayerScale -> EinsumDense("...c,c->...c")). Such a
    #: layer must have our class and the same weight shapes; its configuration is not compared,
    #: and its weights are randomised like BN's statistics (the outputs still are compared)
    replaced: dict[str, str] = field(default_factory=dict)


#: depthwise `padding` (`same`, not a ZeroPadding2D and `valid`) and the squeeze's `keepdims`
EFFICIENTNET_LOOSE = frozenset({"padding", "keepdims"})
#: and MobileNetV3's squeeze-excitation convs carry their activations (relu, hard_sigmoid)
V3_LOOSE = EFFICIENTNET_LOOSE | {"activation"}

ROWS = [
    Row("mobilenet", "mobilenet.yaml", "MobileNet", pixels=(-1.0, 1.0)),
    Row("mobilenet_v2", "mobilenet_v2.yaml", "MobileNetV2", pixels=(-1.0, 1.0)),
    Row("mobilenet_v3_small", "mobilenet_v3_small.yaml", "MobileNetV3Small",
        input_from_spec=True, weightless_differ=True, loose=V3_LOOSE),
    Row("mobilenet_v3_large", "mobilenet_v3_large.yaml", "MobileNetV3Large",
        input_from_spec=True, weightless_differ=True, loose=V3_LOOSE),
    # the MobileNets' width multiplier, `--set alpha=...` against keras.applications(alpha=...):
    # Keras's ImageNet alphas, and for V2 and V3 one above 1 (Keras widens the last convs there)
    *(
        Row(f"mobilenet_alpha_{a}", "mobilenet.yaml", "MobileNet", sets=(f"alpha={a}",),
            kwargs={"alpha": a}, pixels=(-1.0, 1.0))
        for a in (0.25, 0.5, 0.75)
    ),
    # and its depth_multiplier, `--set depth_multiplier=2` against MobileNet(depth_multiplier=2):
    # every depthwise conv doubles its channels, alone and with a width multiplier
    *(
        Row(f"mobilenet_{'' if a == 1.0 else f'alpha_{a}_'}depth_multiplier_2", "mobilenet.yaml",
            "MobileNet", sets=(f"alpha={a}", "depth_multiplier=2"),
            kwargs={"alpha": a, "depth_multiplier": 2}, pixels=(-1.0, 1.0))
        for a in (1.0, 0.5)
    ),
    *(
        Row(f"mobilenet_v2_alpha_{a}", "mobilenet_v2.yaml", "MobileNetV2", sets=(f"alpha={a}",),
            kwargs={"alpha": a}, pixels=(-1.0, 1.0))
        for a in (0.35, 0.5, 1.4)
    ),
    *(
        Row(f"mobilenet_v3_small_alpha_{a}", "mobilenet_v3_small.yaml", "MobileNetV3Small",
            sets=(f"alpha={a}",), kwargs={"alpha": a}, input_from_spec=True,
            weightless_differ=True, loose=V3_LOOSE)
        for a in (0.75, 1.25)
    ),
    # 0.5: block 0's project conv narrows to 8 channels, so Keras drops its shortcut
    *(
        Row(f"mobilenet_v3_large_alpha_{a}", "mobilenet_v3_large.yaml", "MobileNetV3Large",
            sets=(f"alpha={a}",), kwargs={"alpha": a}, input_from_spec=True,
            weightless_differ=True, loose=V3_LOOSE)
        for a in (0.5, 0.75, 1.25)
    ),
    # Keras's minimalistic models, `--set minimalistic=true` against
    # keras.applications(minimalistic=True): no squeeze-excitation, 3x3 kernels, relu everywhere
    # (stem and head too); at the alpha of its ImageNet weights (1.0) and at another
    *(
        Row(f"mobilenet_v3_{size}_minimalistic{'' if a == 1.0 else f'_alpha_{a}'}",
            f"mobilenet_v3_{size}.yaml", f"MobileNetV3{size.title()}",
            sets=("minimalistic=true", *(() if a == 1.0 else (f"alpha={a}",))),
            kwargs={"minimalistic": True, "alpha": a},
            input_from_spec=True, weightless_differ=True, loose=V3_LOOSE)
        for size in ("small", "large") for a in (1.0, 0.75)
    ),
    Row("xception", "xception.yaml", "Xception", pixels=(-1.0, 1.0)),
    *(
        Row(f"efficientnet_{v}", "families/efficientnet.yaml", f"EfficientNet{v.upper()}",
            sets=(f"variant={v}",), weightless_differ=True,
            loose=EFFICIENTNET_LOOSE)
        for v in ("b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7")
    ),
    *(
        Row(f"efficientnet_v2_{v}", "families/efficientnet_v2.yaml",
            f"EfficientNetV2{v.upper()}", sets=(f"variant={v}",), weightless_differ=True,
            loose=EFFICIENTNET_LOOSE)
        for v in ("b0", "b1", "b2", "b3", "s", "m", "l")
    ),
    # -- issue 14: resnet_v2 and densenet rows --
    *(
        Row(f"resnet_v2_{d}", "families/resnet_v2.yaml", f"ResNet{d}V2", sets=(f"depth={d}",),
            pixels=(-1.0, 1.0))
        for d in (50, 101, 152)
    ),
    # DenseNet takes torch-style inputs, (x / 255 - mean) / std: about [-2.1, 2.6]
    *(
        Row(f"densenet_{d}", "families/densenet.yaml", f"DenseNet{d}", sets=(f"depth={d}",),
            pixels=(-2.1, 2.6))
        for d in (121, 169, 201)
    ),
    # -- issue 14: inception rows --
    Row("inception_v3", "inception_v3.yaml", "InceptionV3", pixels=(-1.0, 1.0)),
    Row("inception_resnet_v2", "inception_resnet_v2.yaml", "InceptionResNetV2",
        pixels=(-1.0, 1.0), weightless_differ=True),
    # -- issue 14: convnext rows --
    # Normalization inside (pixels in [0, 255]); the stem and downsampling layers are nested
    # Sequential models in Keras (compared leaf by leaf), its residual adds are ops where ours are
    # Add layers, and its LayerScale is our EinsumDense
    *(
        Row(f"convnext_{v}", "families/convnext.yaml", f"ConvNeXt{k}", sets=(f"variant={v}",),
            weightless_differ=True, replaced={"LayerScale": "EinsumDense"})
        for v, k in (("tiny", "Tiny"), ("small", "Small"), ("base", "Base"), ("large", "Large"),
                     ("xlarge", "XLarge"))
    ),
]  # fmt: skip


def leaves(keras, model) -> list:
    """The model's layers, with nested models (ConvNeXt's stem and downsampling layers are
    Sequential models) replaced by their own layers, recursively; a flat spec has the same
    weights in the same order as those leaves."""
    out = []
    for layer in model.layers:
        out.extend(leaves(keras, layer) if isinstance(layer, keras.Model) else [layer])
    return out


def weighted(keras, model) -> dict[str, list[tuple[int, ...]]]:
    return {
        layer.name: [tuple(w.shape) for w in layer.weights]
        for layer in leaves(keras, model)
        if layer.weights
    }


#: where Keras has a ReLU layer, an archspec spec has the same activation as Activation
RELU_AS_ACTIVATION = {None: "relu", 6.0: "relu6"}

#: config keys that cannot differ in outputs or weights' shapes and that archspec does not
#: reproduce (EfficientNet's VarianceScaling initializers), or are the layer's identity
IGNORED = re.compile(r"name|trainable|dtype|.*_(initializer|regularizer|constraint)")


def config(layer, ignore: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The layer's configuration to compare; an axis counted from the end or from the batch is
    the same axis (EfficientNet's BatchNormalization(axis=3) is archspec's axis -1)."""
    out = {
        k: v for k, v in layer.get_config().items() if not IGNORED.fullmatch(k) and k not in ignore
    }
    if isinstance(out.get("axis"), int):
        first = layer.input[0] if isinstance(layer.input, list) else layer.input  # a merge
        out["axis"] %= len(first.shape)
    return out


def same_layer(keras, ours, theirs, ignore: frozenset[str]) -> bool:
    """Same class and configuration (but for initializers); Keras's ReLU(6.) layer equals an
    Activation(relu6) layer."""
    if isinstance(theirs, keras.layers.ReLU) and isinstance(ours, keras.layers.Activation):
        c = theirs.get_config()
        if c["negative_slope"] or c["threshold"] or c["max_value"] not in RELU_AS_ACTIVATION:
            return False
        return ours.get_config()["activation"] == RELU_AS_ACTIVATION[c["max_value"]]
    return type(ours) is type(theirs) and config(ours, ignore) == config(theirs, ignore)


def randomise_batch_norm(
    keras, model, rng: np.random.Generator, replaced: frozenset[str] = frozenset()
) -> None:
    """BN's statistics (and LayerNorm's scale and offset, and the weights of the custom layers
    in `replaced`: ConvNeXt's layer scales, 1e-6, would silence every residual branch) away
    from their identity initial values, so that an epsilon or an ordering mistake cannot
    hide."""
    for layer in leaves(keras, model):
        if isinstance(layer, keras.layers.LayerNormalization) or type(layer).__name__ in replaced:
            layer.set_weights(
                [rng.uniform(0.5, 1.5, w.shape).astype("float32") if i % 2 == 0
                 else rng.normal(0, 0.1, w.shape).astype("float32")
                 for i, w in enumerate(layer.get_weights())]
            )  # fmt: skip
        if isinstance(layer, keras.layers.BatchNormalization):
            weights = layer.get_weights()
            mean, var = weights[-2], weights[-1]
            weights[-2] = rng.normal(0, 0.1, mean.shape).astype("float32")
            weights[-1] = rng.uniform(0.5, 1.5, var.shape).astype("float32")
            if len(weights) == 4:  # scale and center
                weights[0] = rng.uniform(0.5, 1.5, weights[0].shape).astype("float32")
                weights[1] = rng.normal(0, 0.1, weights[1].shape).astype("float32")
            layer.set_weights(weights)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_zoo_spec_equals_keras_applications(keras, row: Row):
    path = ROOT / "specs" / row.spec
    # `archspec check`: the spec's expect (params; published MACs where there are some) holds
    checked = check_file(path, row.sets)
    assert checked.ok, [d.message for d in checked.errors]
    graph = checked.graph
    assert graph is not None
    model = reference = None
    try:
        model = archspec.compile(graph)  # the graph `check` analysed: load -> analyze
        kwargs = dict(row.kwargs)
        (spec_input,) = graph.inputs.values()
        if row.input_from_spec and None not in spec_input:
            kwargs["input_shape"] = tuple(spec_input)
        reference = getattr(keras.applications, row.factory)(weights=None, **kwargs)

        # static figures
        assert model.count_params() == reference.count_params() == graph.params
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        ref_trainable = sum(int(np.prod(w.shape)) for w in reference.trainable_weights)
        assert trainable == ref_trainable == graph.cost.trainable
        if not row.weightless_differ:
            assert len(model.layers) == len(reference.layers)
        assert tuple(model.output.shape) == tuple(reference.output.shape)
        assert tuple(model.input.shape) == tuple(reference.input.shape)
        if row.spec.startswith("families/"):  # a member is named as Keras names it, in the
            # zoo's spelling: efficientnet_v2_b0 for efficientnetv2-b0, resnet50_v2 for resnet50v2
            assert re.sub("[-_]", "", model.name) == re.sub("[-_]", "", reference.name)

        # names: every weighted layer Keras names by a pattern is ours too, same weight shapes
        ours, theirs = weighted(keras, model), weighted(keras, reference)
        named = {n: s for n, s in theirs.items() if not AUTO_NAME.fullmatch(n)}
        missing = sorted(set(named) - set(ours))
        assert not missing, f"{len(missing)} keras.applications layers missing: {missing[:10]}"
        differ = [n for n in named if ours[n] != named[n]]
        assert not differ, [(n, ours[n], named[n]) for n in differ[:10]]
        assert len(ours) == len(theirs)

        # every layer Keras names by a pattern is ours too, of the same class and configuration
        # (strides, padding, epsilon, momentum, activation, rates, ...)
        mine = {layer.name: layer for layer in leaves(keras, model)}
        patterned = [
            layer for layer in leaves(keras, reference)[1:] if not AUTO_NAME.fullmatch(layer.name)
        ]
        absent = [
            layer.name for layer in patterned if layer.name not in mine
            and not (row.weightless_differ and not layer.weights)
        ]  # fmt: skip
        assert not absent, f"keras.applications layers missing: {absent[:10]}"
        unlike = [
            (layer.name, type(mine[layer.name]).__name__, type(layer).__name__)
            for layer in patterned
            if layer.name in mine
            and (
                type(mine[layer.name]).__name__ != row.replaced[type(layer).__name__]
                if type(layer).__name__ in row.replaced
                else not same_layer(keras, mine[layer.name], layer, row.loose)
            )
        ]
        assert not unlike, f"{len(unlike)} layers differ from keras.applications': {unlike[:5]}"

        # the reference's weights fit, in order, and give the same outputs
        rng = np.random.default_rng(0)
        randomise_batch_norm(keras, reference, rng, frozenset(row.replaced))
        model.set_weights(reference.get_weights())
        shape = tuple(224 if d is None else d for d in reference.input.shape[1:])
        x = rng.uniform(*row.pixels, (2, *shape)).astype("float32")

        # A random network damps a difference within a few blocks (a wrong epsilon early on
        # leaves no trace in the predictions), so intermediate outputs are compared too: up to
        # 12 layers named by a pattern, evenly spread over the network, among those equal to
        # Keras's in every key (not a squeeze conv whose activation `mbconv` has inside), and
        # not inside a nested model (its outputs are not the outer model's tensors)
        top = {layer.name for layer in reference.layers}
        shared = [
            layer.name
            for layer in patterned
            if layer.name in mine and layer.name in top
            and same_layer(keras, mine[layer.name], layer, frozenset())
        ]  # fmt: skip
        head = reference.layers[-1].name  # `predictions`; ConvNeXt's `<model>_head_dense`
        probes = [shared[i * len(shared) // PROBES] for i in range(PROBES)] if shared else []
        probes = sorted(set(probes) - {head}, key=shared.index)

        def probe(m):
            """The intermediate outputs, the classifier's input (logits or features) and the
            predictions."""
            outputs = [m.get_layer(n).output for n in probes]
            return keras.Model(m.inputs[0], [*outputs, m.get_layer(head).input, m.outputs[0]])

        ours_out, theirs_out = (
            [np.asarray(t) for t in probe(m)(x, training=False)] for m in (model, reference)
        )
        for name, a, b in zip(probes, ours_out, theirs_out, strict=False):
            scale = max(1.0, float(np.abs(b).max()))
            assert np.abs(a - b).max() <= ATOL * scale, f"{name}: {np.abs(a - b).max():.3g}"
        logits, predictions = ours_out[-2:]
        ref_logits, ref_predictions = theirs_out[-2:]
        print(  # shown with -s / -rP: the figures a report quotes
            f"{row.id}: params {model.count_params():,} / keras {reference.count_params():,}; "
            f"MACs {graph.cost.macs:,}; max |predictions diff| "
            f"{np.abs(predictions - ref_predictions).max():.3g}, max |logits diff| "
            f"{np.abs(logits - ref_logits).max():.3g} (logits up to {np.abs(ref_logits).max():.3g})"
        )
        assert np.abs(logits).max() > 0  # a dead network would compare equal trivially
        assert np.abs(predictions - ref_predictions).max() <= ATOL
        scale = max(1.0, float(np.abs(ref_logits).max()))
        assert np.abs(logits - ref_logits).max() <= ATOL * scale
    finally:
        del model, reference
        keras.backend.clear_session()
        gc.collect()
