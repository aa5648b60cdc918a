"""The classic families' blocks against keras.applications' own building blocks:
`preact_bottleneck` as ResNet50V2's `residual_block_v2`, `dense_layer` and `transition` as
DenseNet's `conv_block`, `dense_block` and `transition_block`, `convnext` as ConvNeXt's
`ConvNeXtBlock`: the same layer names (Keras's auto-named layers aside), the same params, the
same weight shapes in the same ORDER (so copying `get_weights()` by order works: that is how the
Add's input order shows), and equal outputs after the copy. Also `layer_scale` on its own, and
the errors of these blocks at their keys."""

from __future__ import annotations

import re

import numpy as np
import pytest

import archspec
from archspec.blocks.layers.layer_scale import LayerScale
from archspec.core.errors import SpecError
from archspec.ir.op import Cost
from tests.conftest import randomize

RNG_SEED = 0


def spec(shape: tuple[int | None, ...], *blocks: str) -> str:
    dims = ", ".join("null" if d is None else str(d) for d in shape)
    lines = "".join(f"  - {b}\n" for b in blocks)
    return f"name: m\ninput: [{dims}]\nblocks:\n{lines}"


def analyze(shape: tuple[int, int, int], *blocks: str):
    return archspec.analyze(archspec.load(text=spec(shape, *blocks)))


def build(shape: tuple[int | None, ...], *blocks: str):
    return archspec.compile(archspec.analyze(archspec.load(text=spec(shape, *blocks))))


def errors(shape: tuple[int, int, int], *blocks: str) -> list:
    with pytest.raises(SpecError) as e:
        analyze(shape, *blocks)
    return e.value.diagnostics


def leaves(model) -> list:
    return list(model.layers[1:])


def assert_same_as_keras(ref, ours, shape, renames: dict[str, str], extra: set[str]) -> None:
    """Keras's layer names, with its auto names (regex -> ours) renamed, plus `extra` (layers
    ours has and Keras's has not: the ConvNeXt add, an op in Keras) equal ours; the weighted
    layers' names, the params and the weight shapes in order are equal; and with Keras's
    random weights copied by ORDER the outputs agree."""

    def rename(name: str) -> str:
        for pattern, new in renames.items():
            if re.fullmatch(pattern, name):
                return new
        return name

    ref_names = sorted([rename(layer.name) for layer in leaves(ref)] + sorted(extra))
    assert sorted(layer.name for layer in leaves(ours)) == ref_names
    assert sorted(layer.name for layer in leaves(ours) if layer.weights) == sorted(
        layer.name for layer in leaves(ref) if layer.weights
    )
    assert ours.count_params() == ref.count_params()
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in ref.get_weights()]
    rng = np.random.default_rng(RNG_SEED)
    randomize(ref, rng)
    ours.set_weights(ref.get_weights())
    x = rng.normal(size=(2, *shape)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), atol=1e-5)
    for layer in leaves(ours):  # and by name: the same layer got the same weights
        if layer.weights and ref.get_layer(layer.name).weights:
            for a, b in zip(
                layer.get_weights(), ref.get_layer(layer.name).get_weights(), strict=True
            ):
                np.testing.assert_array_equal(a, b)


# --- preact_bottleneck against ResNet50V2's residual_block_v2 -------------------------------

#: (input channels, n_filters, strides, Keras's conv_shortcut, our shortcut, size)
PREACT = [
    (4, 4, 1, True, "auto", 8),  # projection: 0_conv and 3_conv both (1, 1, 4, 16): order only
    (16, 4, 2, False, "auto", 9),  # a stack's last block: MaxPooling2D(1, 2) shortcut
    (16, 4, 1, False, "auto", 8),  # identity
    (8, 2, 2, True, "projection", 8),  # forced projection with strides
    (16, 4, 2, False, "identity", 7),  # identity with strides: still the pool
    (16, 4, 1, True, "projection", 6),  # forced projection where the channels are kept
]


@pytest.mark.keras
@pytest.mark.parametrize(("cin", "f", "s", "conv_shortcut", "mode", "size"), PREACT)
def test_preact_bottleneck_equals_resnet_v2_block(keras, cin, f, s, conv_shortcut, mode, size):
    from keras.src.applications.resnet import residual_block_v2

    inp = keras.Input((size, size, cin))
    out = residual_block_v2(inp, f, stride=s, conv_shortcut=conv_shortcut, name="conv2_block1")
    ref = keras.Model(inp, out)
    ours = build(
        (size, size, cin),
        f"{{type: preact_bottleneck, name: conv2_block1, n_filters: {f}, strides: {s}, "
        f"shortcut: {mode}}}",
    )
    renames = {r"max_pooling2d(_\d+)?": "conv2_block1_0_pool"}
    assert_same_as_keras(ref, ours, (size, size, cin), renames, set())


def test_preact_bottleneck_shortcut_auto_projects_on_channels_only():
    def roles(cin: int, f: int, s: int, mode: str = "auto") -> list[str]:
        block = (
            f"{{type: preact_bottleneck, name: b, n_filters: {f}, strides: {s}, shortcut: {mode}}}"
        )
        return [n.removeprefix("b_") for n in analyze((8, 8, cin), block).nodes]

    assert "0_conv" in roles(8, 4, 1) and "0_pool" not in roles(8, 4, 1)
    assert "0_conv" not in roles(16, 4, 2) and "0_pool" in roles(16, 4, 2)
    assert "0_conv" not in roles(16, 4, 1) and "0_pool" not in roles(16, 4, 1)
    assert "0_conv" in roles(16, 4, 1, "projection")
    assert roles(8, 4, 2) == [
        "preact_bn", "preact_relu", "0_conv", "1_conv", "1_bn", "1_relu", "2_pad", "2_conv",
        "2_bn", "2_relu", "3_conv", "out",
    ]  # fmt: skip
    out = analyze((8, 8, 8), "{type: preact_bottleneck, name: b, n_filters: 4, strides: 2}")
    assert out.nodes["b_out"].inputs == ["b_0_conv", "b_3_conv"]  # shortcut first
    assert out.nodes["b_0_conv"].inputs == ["b_preact_relu"]  # projection of the pre-activation
    pooled = analyze((8, 8, 16), "{type: preact_bottleneck, name: b, n_filters: 4, strides: 2}")
    assert pooled.nodes["b_0_pool"].inputs == ["input"]  # the pool reads the block's input


def test_preact_bottleneck_identity_with_other_channels_is_an_error_at_shortcut():
    (d,) = errors(
        (8, 8, 8),
        "{type: conv, filters: 8, kernel: 1}",
        "{type: preact_bottleneck, n_filters: 4,\n     shortcut: identity}",
    )
    assert (d.code, d.path, d.line) == ("E401", ("blocks", 1, "shortcut"), 6)
    assert "input has 8 channels, the block outputs 16" in d.message


def test_preact_bottleneck_needs_an_image_and_a_valid_shortcut():
    (d,) = errors((8, 8, 8), "{type: flatten}", "{type: preact_bottleneck, n_filters: 2}")
    assert (d.code, d.path) == ("E403", ("blocks", 1))
    (d,) = errors((8, 8, 8), "{type: preact_bottleneck, n_filters: 2, shortcut: pool}")
    assert (d.code, d.path) == ("E204", ("blocks", 0, "shortcut"))


# --- dense_layer and transition against DenseNet's blocks ----------------------------------


@pytest.mark.keras
@pytest.mark.parametrize(("cin", "growth", "size"), [(6, 4, 8), (16, 8, 5)])
def test_dense_layer_equals_densenet_conv_block(keras, cin, growth, size):
    from keras.src.applications.densenet import conv_block

    inp = keras.Input((size, size, cin))
    ref = keras.Model(inp, conv_block(inp, growth, name="conv2_block1"))
    ours = build(
        (size, size, cin), f"{{type: dense_layer, name: conv2_block1, growth_rate: {growth}}}"
    )
    assert_same_as_keras(ref, ours, (size, size, cin), {}, set())


@pytest.mark.keras
def test_repeated_dense_layers_equal_densenet_dense_block(keras):
    """`repeat_names: "{name}{k}"` gives DenseNet's `conv2_block1`, `conv2_block2`, ..."""
    from keras.src.applications.densenet import dense_block

    inp = keras.Input((6, 6, 8))
    ref = keras.Model(inp, dense_block(inp, 3, name="conv2"))
    ours = build(
        (6, 6, 8),
        "{type: dense_layer, name: conv2_block, repeat: 3, repeat_names: '{name}{k}', "
        "growth_rate: 32}",
    )
    assert ours.output.shape == ref.output.shape == (None, 6, 6, 8 + 3 * 32)
    assert_same_as_keras(ref, ours, (6, 6, 8), {}, set())


@pytest.mark.keras
@pytest.mark.parametrize(("cin", "reduction", "size"), [(12, 0.5, 8), (10, 0.75, 7), (3, 0.5, 4)])
def test_transition_equals_densenet_transition_block(keras, cin, reduction, size):
    from keras.src.applications.densenet import transition_block

    inp = keras.Input((size, size, cin))
    ref = keras.Model(inp, transition_block(inp, reduction, name="pool2"))
    ours = build((size, size, cin), f"{{type: transition, name: pool2, reduction: {reduction}}}")
    assert [layer.name for layer in ours.layers[1:]] == [
        "pool2_bn", "pool2_relu", "pool2_conv", "pool2_pool"
    ]  # fmt: skip
    assert_same_as_keras(ref, ours, (size, size, cin), {}, set())


def test_dense_layer_roles_and_concat_order():
    graph = analyze((8, 8, 6), "{type: dense_layer, name: conv2_block1, growth_rate: 4}")
    assert list(graph.nodes) == [
        f"conv2_block1_{r}"
        for r in ("0_bn", "0_relu", "1_conv", "1_bn", "1_relu", "2_conv", "concat")
    ]
    assert graph.nodes["conv2_block1_concat"].inputs == ["input", "conv2_block1_2_conv"]
    assert graph.nodes["conv2_block1_1_conv"].shape == (8, 8, 16)
    assert graph.nodes["conv2_block1_concat"].shape == (8, 8, 10)


def test_transition_errors_at_reduction():
    (d,) = errors((8, 8, 3), "{type: transition, reduction: 0.25}")
    assert (d.code, d.path) == ("E401", ("blocks", 0, "reduction"))
    assert "int(3 x 0.25) = 0 filters" in d.message
    # the hint's least reduction leaves a filter (0.333 of 3 channels still left none)
    for c in (3, 7, 49):
        (d,) = errors((8, 8, c), "{type: transition, reduction: 0.001}")
        least = d.hint.split("at least ")[1]
        graph = analyze((8, 8, c), f"{{type: transition, reduction: {least}}}")
        assert graph.output_shapes["transition_1_pool"][-1] == 1, (c, least)
    (d,) = errors((8, 8, 3), "{type: transition, reduction: 1.5}")
    assert (d.code, d.path) == ("E204", ("blocks", 0, "reduction"))


# --- convnext against ConvNeXt's ConvNeXtBlock ---------------------------------------------


@pytest.mark.keras
@pytest.mark.parametrize(("c", "scale", "size"), [(8, 1e-6, 9), (6, None, 8), (4, 0.5, 7)])
def test_convnext_equals_keras_convnext_block(keras, c, scale, size):
    from keras.src.applications.convnext import ConvNeXtBlock

    name = "convnext_tiny_stage_0_block_0"
    inp = keras.Input((size, size, c))
    ref = keras.Model(inp, ConvNeXtBlock(c, 0.0, scale, name=name)(inp))
    ours = build(
        (size, size, c), f"{{type: convnext, name: {name}, layer_scale: {scale or 0:.1e}}}"
    )
    assert_same_as_keras(ref, ours, (size, size, c), {}, {f"{name}_add"})
    dw = ours.get_layer(f"{name}_depthwise_conv")
    assert type(dw) is keras.layers.Conv2D and dw.kernel.shape == (7, 7, 1, c)


@pytest.mark.keras
def test_convnext_stage_with_zero_based_names_equals_keras(keras):
    """`repeat_names: "{name}_{i}"` gives ConvNeXt's `stage_0_block_0`, `stage_0_block_1`."""
    from keras.src.applications.convnext import ConvNeXtBlock

    inp = keras.Input((8, 8, 6))
    x = inp
    for j in range(2):
        x = ConvNeXtBlock(6, 0.0, 1e-6, name=f"stage_0_block_{j}")(x)
    ref = keras.Model(inp, x)
    ours = build((8, 8, 6), "{type: convnext, name: stage_0_block, repeat: 2, "
                 "repeat_names: '{name}_{i}'}")  # fmt: skip
    extra = {"stage_0_block_0_add", "stage_0_block_1_add"}
    assert_same_as_keras(ref, ours, (8, 8, 6), {}, extra)


@pytest.mark.keras
def test_convnext_saves_and_loads_in_safe_mode_on_an_unknown_size(keras, tmp_path):
    """Built-in layers only: the model reloads with safe_mode=True, without archspec, and
    runs at any size (the layer scale is an EinsumDense on `...c`)."""
    ours = build((None, None, 4), "{type: convnext, name: b, kernel: 3, layer_scale: 0.25}")
    scale = ours.get_layer("b_layer_scale")
    assert type(scale) is keras.layers.EinsumDense
    assert [w.shape for w in scale.get_weights()] == [(4,)]
    np.testing.assert_array_equal(scale.get_weights()[0], np.full(4, 0.25, "float32"))
    path = tmp_path / "m.keras"
    ours.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = np.random.default_rng(RNG_SEED).normal(size=(1, 5, 7, 4)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), ours.predict(x, verbose=0))


def test_convnext_roles_and_no_layer_scale():
    graph = analyze((8, 8, 6), "{type: convnext, name: b}")
    assert [n.removeprefix("b_") for n in graph.nodes] == [
        "depthwise_conv", "layernorm", "pointwise_conv_1", "gelu", "pointwise_conv_2",
        "layer_scale", "identity", "add",
    ]  # fmt: skip
    assert graph.nodes["b_add"].inputs == ["input", "b_identity"]
    dw = graph.nodes["b_depthwise_conv"]
    assert dw.cost == Cost(7 * 7 * 6 + 6, 0, 7 * 7 * 6 * 8 * 8)  # one input channel per filter
    assert graph.nodes["b_pointwise_conv_1"].shape == (8, 8, 24)
    assert graph.params == (7 * 7 * 6 + 6) + 12 + (6 * 24 + 24) + (24 * 6 + 6) + 6
    plain = analyze((8, 8, 6), "{type: convnext, name: b, layer_scale: 0}")
    assert "b_layer_scale" not in plain.nodes and plain.params == graph.params - 6


def test_layer_scale_op():
    op = LayerScale(channels=5, init=0.1)
    assert op.infer([(None, None, 5)]) == (None, None, 5)
    assert op.cost([(3, 3, 5)], (3, 3, 5)) == Cost(5, 0, 0)
    assert op.describe() == "layer scale 0.1"
    (d,) = errors((8, 8, 3), "{type: layer_scale, init: 0}")
    assert (d.code, d.path) == ("E204", ("blocks", 0, "init"))


def test_defaults_batch_norm_reaches_a_vgg_blocks_batch_norms() -> None:
    """A walkthrough wrote VGG-11 with BN and PyTorch's epsilon in `defaults.batch_norm`: it
    checked ok and changed nothing, since `vgg` had no `bn_*` keys."""
    spec = archspec.load(text="name: v\ninput: [32, 32, 3]\ndefaults: {batch_norm: "
                         "{epsilon: 1.0e-5, momentum: 0.9}}\nblocks:\n  - {type: vgg, "
                         "n_filters: 8, n_conv: 2, batch_norm: true}\n")  # fmt: skip
    graph = archspec.analyze(spec)
    bns = [n.op for n in graph.nodes.values() if n.role.startswith("bn")]
    assert len(bns) == 2 and all((op.epsilon, op.momentum) == (1e-5, 0.9) for op in bns), bns
