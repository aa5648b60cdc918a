"""The ops of the modern vocabulary on their own, without Keras (as tests/test_ops.py does for
the first ones): shapes, params and MACs against figures computed by hand from the formulas,
each also checked against Keras 3; errors, limits and text."""

from __future__ import annotations

import pytest

from archspec.blocks.layers.batch_norm import BatchNorm
from archspec.blocks.layers.conv import Conv2D
from archspec.blocks.layers.global_pool import GlobalPool
from archspec.blocks.layers.group_norm import GroupNorm
from archspec.blocks.layers.layer_norm import LayerNorm
from archspec.blocks.layers.multiply import Multiply
from archspec.blocks.layers.normalization import Normalization
from archspec.blocks.layers.rescaling import Rescaling
from archspec.blocks.layers.reshape import Reshape
from archspec.blocks.layers.separable_conv import SeparableConv2D
from archspec.core.limits import Limits
from archspec.core.units import Shape
from archspec.ir.op import Cost, Op
from tests.test_ops import limit_error, run, shape_error

# --- issue 13: separable_conv, rescaling, normalization, multiply, reshape, keepdims ---------

NEW_CASES = [
    # separable conv: depthwise k*k*C*m weights, then pointwise C*m*filters, then the bias;
    # MACs = out_h*out_w*(k*k*C*m + C*m*filters)
    ("separable 3x3 (Xception block2_sepconv1: 8,768 params)",
     SeparableConv2D(filters=128, kernel=(3, 3), use_bias=False), [(147, 147, 64)],
     (147, 147, 128), Cost(8768, 0, 147 * 147 * (9 * 64 + 64 * 128))),
    ("separable 3x3, depth_multiplier 2 (Keras: 416)",
     SeparableConv2D(filters=16, kernel=(3, 3), depth_multiplier=2), [(10, 10, 8)],
     (10, 10, 16), Cost(9 * 16 + 16 * 16 + 16, 0, 100 * (9 * 16 + 16 * 16))),
    ("separable [3, 1]/2 valid, no bias (Keras: (4, 5, 16), 152)",
     SeparableConv2D(filters=16, kernel=(3, 1), strides=(2, 2), padding="valid",
                     use_bias=False), [(10, 10, 8)],
     (4, 5, 16), Cost(3 * 8 + 8 * 16, 0, 4 * 5 * (3 * 8 + 8 * 16))),
    ("separable dilation [2, 3] valid: the window spans (k-1)*d+1 = 5 x 7 (Keras: (6, 4))",
     SeparableConv2D(filters=16, kernel=(3, 3), padding="valid", dilation=(2, 3)),
     [(10, 10, 8)], (6, 4, 16), Cost(9 * 8 + 8 * 16 + 16, 0, 6 * 4 * (9 * 8 + 8 * 16))),
    ("separable on an unknown size",
     SeparableConv2D(filters=16, kernel=(3, 3), strides=(2, 2)), [(None, None, 8)],
     (None, None, 16), Cost(216, 0, None)),
    ("global avg pool, keepdims", GlobalPool("avg", keepdims=True), [(7, 7, 2048)],
     (1, 1, 2048), Cost()),
    ("global max pool, keepdims, unknown size", GlobalPool("max", keepdims=True),
     [(None, None, 5)], (1, 1, 5), Cost()),
    ("rescaling 1/255", Rescaling(1 / 255), [(224, 224, 3)], (224, 224, 3), Cost()),
    ("rescaling per channel", Rescaling((1.0, 2.0, 3.0), offset=(-1.0, 0.0, 1.0)),
     [(None, None, 3)], (None, None, 3), Cost()),
    # normalization without statistics: mean and variance per channel, and a count, all
    # non-trainable (EfficientNetB0's `normalization`: 7 params on RGB)
    ("normalization, statistics as weights (EfficientNetB0: 7)", Normalization(),
     [(224, 224, 3)], (224, 224, 3), Cost(0, 2 * 3 + 1, 0)),
    ("normalization on vectors (Keras: 11)", Normalization(), [(5,)], (5,), Cost(0, 11, 0)),
    ("normalization with mean and variance: no weights",
     Normalization(mean=(0.485, 0.456, 0.406), variance=0.05), [(8, 8, 3)], (8, 8, 3), Cost()),
    ("multiply, equal shapes", Multiply(), [(8, 8, 4), (8, 8, 4), (8, 8, 4)], (8, 8, 4), Cost()),
    ("multiply by a (1, 1, C) gate", Multiply(), [(8, 8, 6), (1, 1, 6)], (8, 8, 6), Cost()),
    ("multiply, the gate first", Multiply(), [(1, 1, 6), (8, 8, 6)], (8, 8, 6), Cost()),
    ("multiply by a vector: aligned at the last axis", Multiply(), [(4, 4, 3), (3,)],
     (4, 4, 3), Cost()),
    ("multiply, 1s on both sides", Multiply(), [(4, 1, 3), (1, 5, 1)], (4, 5, 3), Cost()),
    ("multiply, unknown sizes stay unknown (Keras)", Multiply(),
     [(None, None, 3), (1, 1, 3)], (None, None, 3), Cost()),
    ("multiply, unknown beside known is unknown (Keras)", Multiply(),
     [(None, None, 3), (5, 5, 3)], (None, None, 3), Cost()),
    ("reshape, -1 takes the rest", Reshape((4, -1)), [(4, 4, 3)], (4, 12), Cost()),
    ("reshape to a vector", Reshape((48,)), [(4, 4, 3)], (48,), Cost()),
    ("reshape to (1, 1, C)", Reshape((1, 1, 48)), [(48,)], (1, 1, 48), Cost()),
    ("reshape an unknown size: -1 unknown (Keras)", Reshape((-1, 3)), [(None, None, 3)],
     (None, 3), Cost()),
    ("reshape an unknown size: sizes taken (Keras)", Reshape((2, 3)), [(None, None, 3)],
     (2, 3), Cost()),
]  # fmt: skip


@pytest.mark.parametrize(("op", "shapes", "shape", "cost"), [c[1:] for c in NEW_CASES],
                         ids=[c[0] for c in NEW_CASES])  # fmt: skip
def test_new_ops_infer_and_cost(op: Op, shapes: list[Shape], shape: Shape, cost: Cost) -> None:
    assert run(op, *shapes) == (shape, cost)


def test_per_channel_values_must_match_the_channels() -> None:
    e = shape_error(Rescaling((1.0, 2.0)), (8, 8, 3))
    assert (e.code, e.key, str(e)) == (
        "E401",
        "scale",
        "`scale` has 2 values, one per channel, but the input (8, 8, 3) has 3 channels",
    )
    assert shape_error(Rescaling(1.0, offset=(1.0,) * 4), (8, 8, 3)).key == "offset"
    e = shape_error(Normalization(mean=(1.0, 2.0, 3.0), variance=(1.0,) * 4), (8, 8, 3))
    assert (e.code, e.key) == ("E401", "variance")
    assert "`variance` has 4 values" in str(e) and "has 3 channels" in str(e)
    # weights per channel need the channels
    assert shape_error(Normalization(), (None,)).code == "E404"


def test_multiply_of_shapes_that_do_not_broadcast_is_e401() -> None:
    e = shape_error(Multiply(), (8, 8, 4), (4, 4, 4))
    assert (e.code, str(e)) == (
        "E401",
        "multiply needs inputs of equal shapes, or 1 where they differ; "
        "received (8, 8, 4), (4, 4, 4)",
    )
    assert shape_error(Multiply(), (8, 8, 4), (8, 8, 1), (8, 8, 2)).code == "E401"
    assert Multiply.multi_input


def test_reshape_of_another_size_is_e401_at_target_shape() -> None:
    e = shape_error(Reshape((5, 5)), (8, 8, 3))
    assert (e.code, e.key, str(e)) == (
        "E401",
        "target_shape",
        "reshape to [5, 5] needs 25 values; the input (8, 8, 3) has 192",
    )
    e = shape_error(Reshape((5, -1)), (8, 8, 3))
    assert (e.code, e.key) == ("E401", "target_shape")
    assert str(e).startswith("reshape to [5, -1]: the input (8, 8, 3) has 192 values, not a")


def test_reshape_of_an_unknown_size_that_no_size_fits_is_e401() -> None:
    # a review: 96 values from (?, 16, 8) (a multiple of 128) passed check, and the model
    # built could never run
    e = shape_error(Reshape((4, 4, 6)), (None, 16, 8))
    assert (e.code, e.key) == ("E401", "target_shape")
    assert str(e) == ("reshape to [4, 4, 6] needs 96 values; the input (?, 16, 8) has a "
                      "multiple of 128 values at any size, and 96 is not one")  # fmt: skip
    assert run(Reshape((2, 16, 8)), (None, 16, 8)) == ((2, 16, 8), Cost())  # an unknown 2 fits
    assert run(Reshape((4, 4, 6)), (None, None, 8)) == ((4, 4, 6), Cost())  # 12 = 3 x 4, say


def test_separable_conv_limits() -> None:
    e = limit_error(SeparableConv2D(filters=65, kernel=(3, 3)), Limits(width=64))
    assert (e.code, e.value) == ("E707", 65)
    e = limit_error(SeparableConv2D(filters=8, kernel=(3, 9)), Limits(kernel=7))
    assert (e.code, e.value) == ("E708", 9)


NEW_TEXT = [
    (SeparableConv2D(filters=64, kernel=(3, 3), strides=(2, 2), activation="relu"),
     "3x3/2, 64 relu", "separable conv 3x3/2, 64 relu"),
    (SeparableConv2D(filters=8, kernel=(3, 3), depth_multiplier=2, dilation=(2, 2)),
     "3x3 x2 dil 2, 8", "separable conv 3x3 x2 dil 2, 8"),
    (GlobalPool("avg", keepdims=True), "global avg, keepdims", "global avg pool, keepdims"),
    (Rescaling(0.5, offset=-1.0), "x 0.5 - 1", "rescale x 0.5 - 1"),
    (Rescaling(0.5, offset=1.0), "x 0.5 + 1", "rescale x 0.5 + 1"),
    (Rescaling((1.0, 2.0)), "x per channel", "rescale x per channel"),
    (Normalization(), "normalize", "normalize"),
    (Normalization(mean=0.5, variance=(1.0, 2.0)), "normalize mean 0.5, variance per channel",
     "normalize mean 0.5, variance per channel"),
    (Multiply(), "multiply", "multiply"),
    (Reshape((-1, 4)), "reshape ?x4", "reshape ?x4"),
]  # fmt: skip


@pytest.mark.parametrize(("op", "label", "text"), NEW_TEXT, ids=[t[2] for t in NEW_TEXT])
def test_new_label_and_describe(op: Op, label: str, text: str) -> None:
    assert (op.label(), op.describe()) == (label, text)


def test_new_layer_types_check_their_keys() -> None:
    from pydantic import ValidationError

    from archspec.blocks import REGISTRY

    bad = [
        {"type": "separable_conv", "filters": 4, "kernel": 3, "depth_multiplier": 0},
        {"type": "reshape", "target_shape": [2, -1, -1]},
        {"type": "reshape", "target_shape": [0, 3]},
        {"type": "normalization", "mean": 0.5},
        {"type": "normalization", "mean": 0.5, "variance": -1.0},
        {"type": "rescaling"},
        {"type": "global_max_pool", "keepdims": "yes"},
        {"type": "multiply", "inputs": ["a"]},
    ]
    for data in bad:
        with pytest.raises(ValidationError):
            REGISTRY[str(data["type"])].model_validate(data)
    assert REGISTRY["rescaling"].model_validate({"type": "rescaling", "scale": 2, "offset": -1})
    assert REGISTRY["global_avg_pool"].model_validate({"type": "global_avg_pool"}).keepdims is False


def test_bn_momentum_reaches_batch_norm() -> None:
    import archspec

    text = (
        "name: m\ninput: [8, 8, 3]\nblocks:\n"
        "  - {type: conv, name: c, filters: 4, kernel: 3, batch_norm: true, bn_momentum: 0.9}\n"
        "  - {type: separable_conv, name: s, filters: 4, kernel: 3, batch_norm: true,"
        " bn_momentum: 0.5, bn_epsilon: 0.01, activation: relu}\n"
        "  - {type: conv, name: d, filters: 4, kernel: 3, batch_norm: true}\n"
    )
    nodes = archspec.analyze(archspec.load(text=text)).nodes
    assert nodes["c_bn"].op == BatchNorm(momentum=0.9)
    assert nodes["s_bn"].op == BatchNorm(epsilon=0.01, momentum=0.5)
    assert nodes["d_bn"].op == BatchNorm()
    assert list(nodes)[2:] == ["s_conv", "s_bn", "s_relu", "d_conv", "d_bn"]
    assert nodes["s_conv"].op == SeparableConv2D(filters=4, kernel=(3, 3))


# --- issue 14: grouped and dilated conv, BN scale/center, layer_norm, group_norm -------------

# figures from the formulas; each also checked against Keras 3 (params counted from its weights)
NORM_CASES = [
    # grouped conv: each filter sees C / groups channels: k*k*(C/groups)*filters + filters
    ("conv 3x3, groups 4 (Keras: 228)",
     Conv2D(filters=12, kernel=(3, 3), groups=4), [(10, 10, 8)],
     (10, 10, 12), Cost(3 * 3 * 2 * 12 + 12, 0, 10 * 10 * 3 * 3 * 2 * 12)),
    ("conv [3, 1]/2 valid, groups 2, no bias (Keras: (7, 8, 6), 36)",
     Conv2D(filters=6, kernel=(3, 1), strides=(2, 2), padding="valid", groups=2,
            use_bias=False), [(16, 16, 4)],
     (7, 8, 6), Cost(3 * 1 * 2 * 6, 0, 7 * 8 * 3 * 1 * 2 * 6)),
    ("conv dilation [2, 3] valid: the window spans 5 x 7 (Keras: (6, 4, 16), 1,168)",
     Conv2D(filters=16, kernel=(3, 3), padding="valid", dilation=(2, 3)), [(10, 10, 8)],
     (6, 4, 16), Cost(9 * 8 * 16 + 16, 0, 6 * 4 * 9 * 8 * 16)),
    ("conv dilation 2 same keeps the size (Keras: (10, 10, 16))",
     Conv2D(filters=16, kernel=(3, 3), dilation=(2, 2)), [(10, 10, 8)],
     (10, 10, 16), Cost(1168, 0, 100 * 9 * 8 * 16)),
    ("conv dilated on an unknown size",
     Conv2D(filters=16, kernel=(3, 3), padding="valid", dilation=(2, 2)), [(None, None, 8)],
     (None, None, 16), Cost(1168, 0, None)),
    # batch norm: gamma where scale, beta where center; the moving statistics always
    ("batch norm without scale (Keras: 64 + 128)", BatchNorm(scale=False), [(8, 8, 64)],
     (8, 8, 64), Cost(64, 128, 0)),
    ("batch norm without center (Keras: 64 + 128)", BatchNorm(center=False), [(8, 8, 64)],
     (8, 8, 64), Cost(64, 128, 0)),
    ("batch norm without either (Keras: 0 + 128)", BatchNorm(scale=False, center=False),
     [(8, 8, 64)], (8, 8, 64), Cost(0, 128, 0)),
    # layer norm and group norm: gamma and beta per channel
    ("layer norm (Keras: 192)", LayerNorm(), [(8, 8, 96)], (8, 8, 96), Cost(192, 0, 0)),
    ("layer norm on vectors (Keras: 20)", LayerNorm(epsilon=1e-6), [(10,)], (10,), Cost(20)),
    ("group norm (Keras: 64)", GroupNorm(groups=4), [(8, 8, 32)], (8, 8, 32), Cost(64)),
    ("group norm on an unknown size (Keras: 64)", GroupNorm(groups=32), [(None, None, 32)],
     (None, None, 32), Cost(64)),
]  # fmt: skip


@pytest.mark.parametrize(("op", "shapes", "shape", "cost"), [c[1:] for c in NORM_CASES],
                         ids=[c[0] for c in NORM_CASES])  # fmt: skip
def test_grouped_dilated_and_norm_ops(
    op: Op, shapes: list[Shape], shape: Shape, cost: Cost
) -> None:
    assert run(op, *shapes) == (shape, cost)


def test_conv_groups_must_divide_both_channel_counts() -> None:
    e = shape_error(Conv2D(filters=6, kernel=(3, 3), groups=3), (8, 8, 8))
    assert (e.code, e.key, str(e)) == (
        "E401",
        "groups",
        "groups 3 does not divide the input's 8 channels",
    )
    assert e.hint is not None and e.hint.endswith("(8 and 6): 1 or 2")
    e = shape_error(Conv2D(filters=6, kernel=(3, 3), groups=4), (8, 8, 8))
    assert (e.code, e.key, str(e)) == (
        "E401",
        "groups",
        "groups 4 does not divide the 6 output channels (`filters`)",
    )


@pytest.mark.parametrize(("strides", "dilation"), [((2, 2), (2, 2)), ((2, 1), (1, 2))])
def test_conv_dilation_with_strides_is_an_error_at_dilation(strides, dilation) -> None:
    """Keras 3 refuses any stride > 1 beside any dilation > 1 (both pairs here)."""
    e = shape_error(Conv2D(filters=4, kernel=(3, 3), strides=strides, dilation=dilation), (8, 8, 3))
    assert (e.code, e.key) == ("E401", "dilation")
    assert "strides > 1 together with dilation > 1" in str(e) and e.hint


def test_group_norm_groups_must_divide_the_channels() -> None:
    e = shape_error(GroupNorm(groups=3), (8, 8, 8))
    assert (e.code, e.key, str(e)) == (
        "E401",
        "groups",
        "groups 3 does not divide the input's 8 channels",
    )
    assert e.hint == "choose groups that divide 8: 1, 2, 4 or 8"
    assert shape_error(GroupNorm(groups=16), (8, 8, 8)).key == "groups"
    assert shape_error(GroupNorm(groups=2), (8, 8, None)).code == "E404"
    assert shape_error(LayerNorm(), (None,)).code == "E404"


NORM_TEXT = [
    (Conv2D(filters=64, kernel=(3, 3), dilation=(2, 2), groups=4, activation="relu"),
     "3x3 dil 2, 64 relu, 4 groups", "conv 3x3 dil 2, 64 relu, 4 groups"),
    (Conv2D(filters=96, kernel=(7, 7), groups=96), "7x7, 96, 96 groups", "conv 7x7, 96, 96 groups"),
    (Conv2D(filters=8, kernel=(3, 3), dilation=(2, 1)), "3x3 dil 2x1, 8", "conv 3x3 dil 2x1, 8"),
    (BatchNorm(scale=False), "batch norm, no scale", "batch norm, no scale"),
    (BatchNorm(center=False), "batch norm, no center", "batch norm, no center"),
    (LayerNorm(), "layer norm", "layer norm"),
    (GroupNorm(groups=8), "group norm, 8 groups", "group norm, 8 groups"),
]  # fmt: skip


@pytest.mark.parametrize(("op", "label", "text"), NORM_TEXT, ids=[t[2] for t in NORM_TEXT])
def test_norm_label_and_describe(op: Op, label: str, text: str) -> None:
    assert (op.label(), op.describe()) == (label, text)


def test_norm_layer_types_check_their_keys() -> None:
    from pydantic import ValidationError

    from archspec.blocks import REGISTRY

    bad = [
        {"type": "conv", "filters": 4, "kernel": 3, "groups": 0},
        {"type": "conv", "filters": 4, "kernel": 3, "groups": -2},
        {"type": "conv", "filters": 4, "kernel": 3, "dilation": 0},
        {"type": "conv", "filters": 4, "kernel": 3, "dilation": [2, 2, 2]},
        {"type": "conv", "filters": 4, "kernel": 3, "bn_scale": "yes"},
        {"type": "batch_norm", "center": 1},
        {"type": "group_norm"},
        {"type": "group_norm", "groups": 0},
        {"type": "group_norm", "groups": 2, "epsilon": 0},
        {"type": "layer_norm", "epsilon": 1.5},
        {"type": "layer_norm", "scale": False},
    ]
    for data in bad:
        with pytest.raises(ValidationError):
            REGISTRY[str(data["type"])].model_validate(data)


def test_conv_keys_reach_the_ops_and_old_callers_keep_their_bn() -> None:
    import archspec

    text = (
        "name: m\ninput: [8, 8, 8]\nblocks:\n"
        "  - {type: conv, name: c, filters: 4, kernel: 3, groups: 2, dilation: [2, 1],"
        " batch_norm: true, bn_scale: false, bn_center: false, activation: relu}\n"
        "  - {type: residual, name: r, n_filters: 4, batch_norm: true}\n"
        "  - {type: separable_conv, name: s, filters: 4, kernel: 3, batch_norm: true}\n"
        "  - {type: batch_norm, name: b, scale: false}\n"
    )
    nodes = archspec.analyze(archspec.load(text=text)).nodes
    assert nodes["c_conv"].op == Conv2D(filters=4, kernel=(3, 3), groups=2, dilation=(2, 1))
    assert nodes["c_bn"].op == BatchNorm(scale=False, center=False)
    assert nodes["c_bn"].cost == Cost(0, 8, 0)
    assert nodes["r_1_bn"].op == BatchNorm()
    assert nodes["s_bn"].op == BatchNorm()
    assert nodes["b"].op == BatchNorm(scale=False)


@pytest.mark.parametrize(("block", "key"), [
    ("{type: conv, filters: 6, kernel: 3, groups: 3}", "groups"),
    ("{type: conv, filters: 4, kernel: 3, strides: 2, dilation: 2}", "dilation"),
    ("{type: group_norm, groups: 3}", "groups"),
])  # fmt: skip
def test_divisibility_and_dilation_errors_point_at_the_key(block: str, key: str) -> None:
    import archspec
    from archspec.core.errors import SpecError

    text = f"name: m\ninput: [8, 8, 8]\nblocks:\n  - {block}\n"
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=text))
    d = e.value.diagnostics[0]
    col = len("  - ") + block.index(f"{key}: ") + len(f"{key}: ") + 1  # at the value
    assert (d.code, d.path, d.line, d.col) == ("E401", ("blocks", 0, key), 4, col)
    assert d.hint
