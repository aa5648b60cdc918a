"""The mobile family against keras.applications' own building blocks: `mbconv` is built as
EfficientNet's `block()`, EfficientNetV2's `MBConvBlock` / `FusedMBConvBlock` and MobileNetV2's
`_inverted_res_block` build it (same weighted layer names, same params, same outputs once the
weights are copied by name); `depthwise_conv` with padding `same` equals Keras's ZeroPadding2D +
`valid`; and the errors of `se` and `mbconv` point at the block or key."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from archspec.blocks.layers.depthwise_conv import DepthwiseConv2D
from archspec.core.errors import LimitExceeded, SpecError
from archspec.core.limits import Limits
from archspec.ir.op import Cost
from tests.conftest import randomize

RNG_SEED = 0


def spec(shape: tuple[int, int, int], *blocks: str) -> str:
    lines = "".join(f"  - {b}\n" for b in blocks)
    return f"name: m\ninput: [{shape[0]}, {shape[1]}, {shape[2]}]\nblocks:\n{lines}"


def analyze(shape: tuple[int, int, int], *blocks: str):
    return archspec.analyze(archspec.load(text=spec(shape, *blocks)))


def build(text: str):
    return archspec.compile(archspec.analyze(archspec.load(text=text)))


def errors(text: str) -> list:
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=text))
    return e.value.diagnostics


def weighted(model) -> dict[str, object]:
    return {layer.name: layer for layer in model.layers if layer.weights}


def assert_same_as_keras(
    ref, ours, shape, absent: frozenset[str] | set[str] | None = frozenset()
) -> None:
    """Same weighted layer names and params; all layer names but `absent` (Keras's weightless
    extras; None: compare the weighted layers only); equal outputs after copying the weights
    by name."""
    ref_w, ours_w = weighted(ref), weighted(ours)
    assert sorted(ours_w) == sorted(ref_w)
    assert ours.count_params() == ref.count_params()
    if absent is not None:
        names = [layer.name for layer in ref.layers[1:]]
        ours_names = [layer.name for layer in ours.layers[1:]]
        assert sorted(ours_names) == sorted(n for n in names if not any(a in n for a in absent))
    rng = np.random.default_rng(RNG_SEED)
    randomize(ref, rng)
    for name, layer in ref_w.items():
        ours.get_layer(name).set_weights(layer.get_weights())
    x = rng.normal(size=(2, *shape)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), atol=1e-5)


# --- depthwise_conv ---------------------------------------------------------------------------


def test_depthwise_op_shapes_params_macs_and_text():
    op = DepthwiseConv2D(kernel=(3, 3), strides=(2, 2), depth_multiplier=2)
    out = op.infer([(15, 16, 8)])
    assert out == (8, 8, 16)
    assert op.cost([(15, 16, 8)], out) == Cost(3 * 3 * 16 + 16, 0, 3 * 3 * 8 * 2 * 8 * 8)
    assert DepthwiseConv2D(kernel=(5, 5), padding="valid", dilation=(2, 2)).infer(
        [(16, 16, 4)]
    ) == (8, 8, 4)
    unknown = DepthwiseConv2D(kernel=(3, 3), use_bias=False)
    assert unknown.cost([(None, None, 4)], unknown.infer([(None, None, 4)])) == Cost(36, 0, None)
    assert op.describe() == "depthwise 3x3/2, x2"
    with pytest.raises(LimitExceeded) as e:
        DepthwiseConv2D(kernel=(3, 9)).check_limits(Limits(kernel=7))
    assert (e.value.code, e.value.value) == ("E708", 9)


@pytest.mark.keras
@pytest.mark.parametrize("size", [15, 16])
@pytest.mark.parametrize("kernel", [3, 5])
def test_strided_same_equals_keras_pad_and_valid(keras, size, kernel):
    """keras.applications pads with correct_pad and convolves `valid`; `same` is the same."""
    from keras.src.applications.imagenet_utils import correct_pad

    inp = keras.Input((size, size, 4))
    pad = keras.layers.ZeroPadding2D(correct_pad(inp, kernel), name="pad")(inp)
    out = keras.layers.DepthwiseConv2D(kernel, strides=2, padding="valid", name="dw")(pad)
    ref = keras.Model(inp, out)
    ours = build(
        spec((size, size, 4), f"{{type: depthwise_conv, name: dw, kernel: {kernel}, strides: 2}}")
    )
    assert ours.output.shape == ref.output.shape
    assert_same_as_keras(ref, ours, (size, size, 4), absent={"pad"})


def test_depthwise_batch_norm_roles_are_conv_bn_activation():
    graph = analyze(
        (8, 8, 3),
        "{type: depthwise_conv, "
        "name: dw, kernel: 3, batch_norm: true, activation: relu6, bn_momentum: 0.9}",
    )
    assert list(graph.nodes) == ["dw_conv", "dw_bn", "dw_relu6"]
    assert graph.nodes["dw_bn"].op.momentum == 0.9  # type: ignore[attr-defined]


# --- mbconv against keras.applications -----------------------------------------------------

#: (filters_in, filters_out, kernel, strides, expand_ratio, se_ratio, drop_rate, size)
EFFNET = [
    (32, 16, 3, 1, 1, 0.25, 0.0, 16),  # block1a: no expansion
    (16, 24, 3, 2, 6, 0.25, 0.0, 16),  # stage-first, even size
    (24, 40, 5, 2, 6, 0.25, 0.0, 15),  # kernel 5, odd size
    (40, 40, 3, 1, 6, 0.25, 0.1, 8),  # repeat: drop and add
    (16, 16, 5, 1, 4, 0.0, 0.0, 9),  # no SE, add without drop
]


@pytest.mark.keras
@pytest.mark.parametrize(("cin", "cout", "k", "s", "e", "se", "drop", "size"), EFFNET)
def test_mbconv_equals_efficientnet_block(keras, cin, cout, k, s, e, se, drop, size):
    from keras.src.applications.efficientnet import block

    inp = keras.Input((size, size, cin))
    out = block(inp, "swish", drop, "block2a_", cin, cout, k, s, e, se)
    ref = keras.Model(inp, out)
    ours = build(
        spec(
            (size, size, cin),
            f"{{type: mbconv, name: block2a, filters: {cout}, "
            f"expansion: {e}, kernel: {k}, strides: {s}, se_ratio: {se}, dropout: {drop}, "
            "activation: swish}",
        )
    )
    assert_same_as_keras(ref, ours, (size, size, cin), absent={"se_reshape", "dwconv_pad"})


#: (filters_in, filters_out, strides, expand_ratio, se_ratio, survival_probability)
EFFNET_V2 = [
    (48, 96, 2, 4, 0.25, 0.0),
    (96, 96, 1, 6, 0.25, 0.2),
    (24, 24, 1, 1, 0.0, 0.0),
    (24, 24, 1, 1, 0.25, 0.1),  # fused without expansion, with SE (never in the zoo)
    (24, 48, 2, 4, 0.0, 0.0),
    (32, 32, 1, 4, 0.25, 0.3),  # fused with expansion and SE
]


@pytest.mark.keras
@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize(("cin", "cout", "s", "e", "se", "drop"), EFFNET_V2)
def test_mbconv_equals_efficientnet_v2_blocks(keras, fused, cin, cout, s, e, se, drop):
    from keras.src.applications.efficientnet_v2 import FusedMBConvBlock, MBConvBlock

    make = FusedMBConvBlock if fused else MBConvBlock
    inp = keras.Input((12, 12, cin))
    out = make(cin, cout, e, 3, s, se, 0.9, "swish", drop, "block3b_")(inp)
    ref = keras.Model(inp, out)
    ours = build(
        spec(
            (12, 12, cin),
            f"{{type: mbconv, name: block3b, filters: {cout}, "
            f"expansion: {e}, strides: {s}, se_ratio: {se}, dropout: {drop}, activation: swish, "
            f"bn_momentum: 0.9, fused: {str(fused).lower()}, roles: {{dwconv: dwconv2}}}}",
        )
    )
    assert_same_as_keras(ref, ours, (12, 12, cin), absent={"se_reshape"})
    for layer in ours.layers:
        if "BatchNormalization" in type(layer).__name__:
            assert layer.momentum == 0.9


MOBILENET_V2_ROLES = (
    "{expand_conv: expand, expand_bn: expand_BN, expand_activation: expand_relu, "
    "dwconv: depthwise, bn: depthwise_BN, activation: depthwise_relu, project_conv: project, "
    "project_bn: project_BN}"
)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("cin", "cout", "s", "e", "size"), [(24, 24, 1, 6, 8), (24, 32, 2, 6, 15), (32, 16, 1, 1, 8)]
)
def test_mbconv_equals_mobilenet_v2_block(keras, cin, cout, s, e, size):
    from keras.src.applications.mobilenet_v2 import _inverted_res_block

    block_id = 0 if e == 1 else 5  # Keras expands in every block but the first
    name = "expanded_conv" if e == 1 else "block_5"
    inp = keras.Input((size, size, cin))
    ref = keras.Model(inp, _inverted_res_block(inp, e, s, 1.0, cout, block_id))
    ours = build(
        spec(
            (size, size, cin),
            f"{{type: mbconv, name: {name}, filters: {cout}, "
            f"expansion: {e}, strides: {s}, bn_momentum: 0.999, roles: {MOBILENET_V2_ROLES}}}",
        )
    )
    # Keras's ReLU(6.) layers are Activation(relu6) here: same names, no weights
    assert_same_as_keras(ref, ours, (size, size, cin), absent={"_pad"})


MOBILENET_V3_ROLES = (
    "{expand_conv: expand, expand_activation: expand_act, dwconv: depthwise, bn: depthwise_bn, "
    "activation: depthwise_act, se_squeeze: squeeze_excite_avg_pool, se_reduce: "
    "squeeze_excite_conv, se_expand: squeeze_excite_conv_1, se_excite: squeeze_excite_mul, "
    "project_conv: project}"
)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("cin", "e", "cout", "k", "s", "se", "act", "block_id"),
    [
        (16, 1, 16, 3, 2, 0.25, "relu", 0),  # Small's block 0: no expansion, SE of 8
        (24, 88 / 24, 24, 3, 1, 0, "relu", 2),  # Small's block 2
        (40, 6, 40, 5, 1, 0.25, "hard_swish", 4),  # Small's block 4
        (80, 2.3, 80, 3, 1, 0, "hard_swish", 8),  # Large's block 8
    ],
)
def test_mbconv_equals_mobilenet_v3_block(keras, cin, e, cout, k, s, se, act, block_id):
    """MobileNetV3 computes its widths with _depth and applies its SE activations as separate
    layers (auto-named): the weighted layers, params and outputs are compared."""
    from keras.src.applications import mobilenet_v3 as v3

    inp = keras.Input((8, 8, cin))
    activation = v3.relu if act == "relu" else v3.hard_swish
    ref = keras.Model(inp, v3._inverted_res_block(inp, e, cout, k, s, se, activation, block_id))
    expanded = v3._depth(cin * e)
    widths = f"expand_filters: {expanded}, " if block_id else "expansion: 1, "
    widths += f"se_filters: {v3._depth(expanded * se)}, " if se else ""
    name = f"expanded_conv_{block_id}" if block_id else "expanded_conv"
    ours = build(
        spec(
            (8, 8, cin),
            f"{{type: mbconv, name: {name}, filters: {cout}, kernel: {k}, strides: {s}, "
            f"{widths}activation: {act}, se_activation: relu, se_gate: hard_sigmoid, "
            f"bn_momentum: 0.999, roles: {MOBILENET_V3_ROLES}}}",
        )
    )
    assert_same_as_keras(ref, ours, (8, 8, cin), absent=None)


def test_mbconv_explicit_widths_and_se_options():
    """MobileNetV3's widths: expand_filters and se_filters given outright, its SE activations."""
    graph = analyze(
        (8, 8, 16),
        "{type: mbconv, name: b, "
        "filters: 24, expansion: 4.5, expand_filters: 72, se_filters: 24, se_activation: relu, "
        "se_gate: hard_sigmoid, activation: hard_swish, kernel: 5, strides: 2}",
    )
    ops = {n.role: n.op for n in graph.nodes.values()}
    assert graph.nodes["b_expand_conv"].shape == (8, 8, 72)
    assert ops["se_reduce"].filters == 24 and ops["se_reduce"].activation == "relu"  # type: ignore[attr-defined]
    assert ops["se_expand"].filters == 72 and ops["se_expand"].activation == "hard_sigmoid"  # type: ignore[attr-defined]
    assert graph.nodes["b_project_bn"].shape == (4, 4, 24)
    assert "b_add" not in graph.nodes
    # a float expansion: int(16 x 4.5) = 72
    graph = analyze((8, 8, 16), "{type: mbconv, name: b, filters: 16, expansion: 4.5}")
    assert graph.nodes["b_expand_conv"].shape == (8, 8, 72)
    assert list(graph.nodes)[-1] == "b_add"


def test_mbconv_skip_none_never_adds():
    graph = analyze((8, 8, 16), "{type: mbconv, name: b, filters: 16, skip: none, dropout: 0.2}")
    assert list(graph.nodes)[-1] == "b_project_bn"


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("keys", ["filters: 4, ratio: 0.25", "activation: relu"])
def test_se_needs_exactly_one_of_filters_and_ratio(keys):
    (d,) = errors(spec((8, 8, 16), "{type: conv, filters: 8, kernel: 3}", f"{{type: se, {keys}}}"))
    assert (d.code, d.path, d.line) == ("E204", ("blocks", 1), 5)
    assert "exactly one of `filters`" in d.message and "`ratio`" in d.message
    assert ("both" if "ratio" in keys else "neither") in d.message


def test_se_ratio_gives_the_squeeze_width():
    graph = analyze((8, 8, 10), "{type: se, name: s, ratio: 0.25}")
    assert [n.shape for n in graph.nodes.values()] == [
        (1, 1, 10),
        (1, 1, 2),
        (1, 1, 10),
        (8, 8, 10),
    ]
    assert list(graph.nodes) == ["s_squeeze", "s_reduce", "s_expand", "s_excite"]


def test_mbconv_unknown_role_is_an_error_at_the_role_with_a_hint():
    text = "{type: mbconv, filters: 16, roles:\n     {dwconv: dw,\n      dwconf: dwconv2}}"
    (d,) = errors(spec((8, 8, 16), text))
    assert (d.code, d.path, d.line, d.col) == ("E204", ("blocks", 0, "roles", "dwconf"), 6, 7)
    assert "unknown role `dwconf`" in d.message and d.hint == "did you mean `dwconv`?"


def test_mbconv_two_roles_of_one_name_are_an_error():
    (d,) = errors(spec((8, 8, 16), "{type: mbconv, filters: 16, roles: {bn: activation}}"))
    assert (d.code, d.path) == ("E204", ("blocks", 0, "roles", "bn"))
    assert "roles `bn` and `activation` would both be named `activation`" in d.message


@pytest.mark.parametrize(
    ("key", "value"),
    [("filters", 0), ("expansion", 0.5), ("se_ratio", 1.5), ("dropout", 1), ("se_ratio", -0.1)],
)
def test_mbconv_out_of_range_values_are_errors_at_their_key(key, value):
    keys = {"filters": 16, key: value}
    block = "{type: mbconv, " + ", ".join(f"{k}: {v}" for k, v in keys.items()) + "}"
    (d,) = errors(spec((8, 8, 16), block))
    assert (d.code, d.path, d.line) == ("E204", ("blocks", 0, key), 4)


def test_mbconv_roles_name_layers_and_stay_out_of_the_summary():
    # the diagrams' and tables' key parameters; `roles` only renames layers
    graph = archspec.analyze(archspec.load(text=spec((8, 8, 16),
        "{type: mbconv, filters: 16, roles: {dwconv: depthwise}}")))  # fmt: skip
    (b,) = graph.blocks
    assert "depthwise" in " ".join(b.nodes) and b.summary == "filters=16"


def test_mbconv_keys_that_change_nothing_are_w302():
    """A review: `se_activation` without a squeeze-excitation, and `dropout` with `skip: none`,
    were taken without a word (the layers they shape are not there)."""
    graph = analyze((8, 8, 4), "{type: mbconv, filters: 4, se_activation: relu, se_gate: hard_sigmoid}",
                    "{type: mbconv, filters: 4, skip: none, dropout: 0.2}",
                    "{type: mbconv, filters: 4, se_ratio: 0.25, se_gate: hard_sigmoid, dropout: 0.2}",
                    # strides 2: no skip here, but the later copies of a stage have it
                    "{type: mbconv, filters: 4, strides: 2, dropout: 0.2}")  # fmt: skip
    found = [(w.code, w.path, w.message.split(": ", 1)[1]) for w in graph.warnings]
    assert found == [
        ("W302", ("blocks", 0, "se_activation"), "`se_activation` changes nothing without a "
         "squeeze-excitation (`se_ratio` > 0 or `se_filters`)"),
        ("W302", ("blocks", 0, "se_gate"), "`se_gate` changes nothing without a "
         "squeeze-excitation (`se_ratio` > 0 or `se_filters`)"),
        ("W302", ("blocks", 1, "dropout"), "`dropout` changes nothing with `skip: none` (the "
         "dropout is on the skip's path)"),
    ]  # fmt: skip
    assert not any(n.op.__class__.__name__ == "Dropout" for b in graph.blocks[:2]
                   for n in (graph.nodes[m] for m in b.nodes))  # fmt: skip
