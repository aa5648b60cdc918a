"""Each op on its own, without Keras: shapes, params and MACs against figures computed by hand
from the formulas (a few are also keras.applications' published per-layer counts), its limits
(E707, E708) and its text (`label`, `describe`)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from archspec.blocks.layers.activation import Activation
from archspec.blocks.layers.add import Add
from archspec.blocks.layers.batch_norm import BatchNorm
from archspec.blocks.layers.concat import Concat
from archspec.blocks.layers.conv import Conv2D
from archspec.blocks.layers.dense import Dense
from archspec.blocks.layers.dropout import Dropout
from archspec.blocks.layers.flatten import Flatten
from archspec.blocks.layers.global_pool import GlobalPool
from archspec.blocks.layers.group_norm import GroupNorm
from archspec.blocks.layers.layer_norm import LayerNorm
from archspec.blocks.layers.multiply import Multiply
from archspec.blocks.layers.normalization import Normalization
from archspec.blocks.layers.pool import Pool2D
from archspec.blocks.layers.rescaling import Rescaling
from archspec.blocks.layers.reshape import Reshape
from archspec.blocks.layers.separable_conv import SeparableConv2D
from archspec.blocks.layers.zero_pad import ZeroPad2D
from archspec.core.errors import LimitExceeded, ShapeError
from archspec.core.limits import Limits
from archspec.core.units import Shape
from archspec.ir.op import Cost, Op


def run(op: Op, *shapes: Shape) -> tuple[Shape, Cost]:
    out = op.infer(list(shapes))
    return out, op.cost(list(shapes), out)


# --- shapes, params and MACs ---------------------------------------------------------------

CASES = [
    # conv: params = kh*kw*cin*cout + cout; MACs = out_h*out_w*kh*kw*cin*cout;
    # same: out = ceil(in / stride); valid: out = (in - k) // stride + 1
    ("conv 3x3 same (VGG16 block1_conv1)",
     Conv2D(filters=64, kernel=(3, 3), activation="relu"), [(224, 224, 3)],
     (224, 224, 64), Cost(3 * 3 * 3 * 64 + 64, 0, 224 * 224 * 3 * 3 * 3 * 64)),
    ("conv 3x3/2 same",
     Conv2D(filters=64, kernel=(3, 3), strides=(2, 2)), [(224, 224, 3)],
     (112, 112, 64), Cost(1792, 0, 112 * 112 * 1728)),
    ("conv 7x7/2 valid (ResNet50 conv1_conv, after a 3-pixel pad)",
     Conv2D(filters=64, kernel=(7, 7), strides=(2, 2), padding="valid"), [(230, 230, 3)],
     (112, 112, 64), Cost(9472, 0, 112 * 112 * 7 * 7 * 3 * 64)),
    ("conv [3, 1]/2 valid",
     Conv2D(filters=6, kernel=(3, 1), strides=(2, 2), padding="valid"), [(16, 16, 4)],
     ((16 - 3) // 2 + 1, (16 - 1) // 2 + 1, 6), Cost(3 * 1 * 4 * 6 + 6, 0, 7 * 8 * 72)),
    ("conv without bias",
     Conv2D(filters=32, kernel=(3, 3), use_bias=False), [(8, 8, 16)],
     (8, 8, 32), Cost(3 * 3 * 16 * 32, 0, 8 * 8 * 4608)),
    ("conv on an unknown size: MACs unknown, params not",
     Conv2D(filters=64, kernel=(3, 3)), [(None, None, 3)],
     (None, None, 64), Cost(1792, 0, None)),
    ("max pool 2x2/2 (VGG16 block1_pool)",
     Pool2D(kind="max", pool=(2, 2), strides=(2, 2)), [(224, 224, 64)],
     (112, 112, 64), Cost()),
    ("max pool 3x3/2 same",
     Pool2D(kind="max", pool=(3, 3), strides=(2, 2), padding="same"), [(15, 15, 8)],
     (8, 8, 8), Cost()),
    ("avg pool 3x3/2 valid",
     Pool2D(kind="avg", pool=(3, 3), strides=(2, 2)), [(15, 15, 8)],
     (7, 7, 8), Cost()),
    ("global avg pool", GlobalPool(kind="avg"), [(7, 7, 2048)], (2048,), Cost()),
    ("global max pool, unknown size", GlobalPool(kind="max"), [(None, None, 5)], (5,), Cost()),
    ("zero pad 3", ZeroPad2D(padding=((3, 3), (3, 3))), [(224, 224, 3)], (230, 230, 3), Cost()),
    ("zero pad 1,2,0,3",
     ZeroPad2D(padding=((1, 2), (0, 3))), [(16, 16, 3)], (19, 19, 3), Cost()),
    ("zero pad, unknown size",
     ZeroPad2D(padding=((1, 1), (1, 1))), [(None, 8, 3)], (None, 10, 3), Cost()),
    # batch norm: gamma and beta trainable, moving mean and variance not: 4 * channels
    ("batch norm", BatchNorm(), [(8, 8, 64)], (8, 8, 64), Cost(128, 128, 0)),
    ("activation", Activation("relu"), [(8, 8, 3)], (8, 8, 3), Cost()),
    ("dropout", Dropout(0.5), [(10,)], (10,), Cost()),
    ("flatten (VGG16 flatten)", Flatten(), [(7, 7, 512)], (25088,), Cost()),
    # dense: params = in*units + units; MACs = in*units (per position)
    ("dense (VGG16 predictions)",
     Dense(units=1000, activation="softmax"), [(4096,)],
     (1000,), Cost(4_097_000, 0, 4_096_000)),
    ("dense on a sequence, no bias",
     Dense(units=10, use_bias=False), [(5, 8)], (5, 10), Cost(80, 0, 5 * 8 * 10)),
    ("add", Add(), [(8, 8, 4), (8, 8, 4), (8, 8, 4)], (8, 8, 4), Cost()),
    ("add, an unknown dimension stays unknown",
     Add(), [(None, 8, 4), (8, 8, 4)], (None, 8, 4), Cost()),
    ("concat channels", Concat(), [(8, 8, 4), (8, 8, 6)], (8, 8, 10), Cost()),
    ("concat axis 1 (counting the batch)",
     Concat(axis=1), [(8, 8, 4), (2, 8, 4)], (10, 8, 4), Cost()),
    ("concat, unknown sizes: the first input's",
     Concat(), [(None, 8, 4), (8, 8, 4)], (None, 8, 8), Cost()),
]  # fmt: skip


@pytest.mark.parametrize(("op", "shapes", "shape", "cost"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_infer_and_cost(op: Op, shapes: list[Shape], shape: Shape, cost: Cost) -> None:
    assert run(op, *shapes) == (shape, cost)


def test_params_count_trainable_and_non_trainable() -> None:
    assert Cost(3, 4, 5).params == 7
    assert Cost(1, 2, 3) + Cost(10, 20, None) == Cost(11, 22, None)


# --- shape errors ----------------------------------------------------------------------------


def shape_error(op: Op, *shapes: Shape) -> ShapeError:
    with pytest.raises(ShapeError) as e:
        run(op, *shapes)
    return e.value


def test_a_collapsing_window_is_e402() -> None:
    e = shape_error(Conv2D(filters=2, kernel=(5, 5), padding="valid"), (4, 4, 3))
    assert e.code == "E402"
    assert str(e) == "the height collapses to 0: input height 4, window 5, stride 1, padding valid"
    e = shape_error(Pool2D(kind="max", pool=(1, 3), strides=(1, 3)), (4, 2, 3))
    assert (e.code, str(e).split(":")[0]) == ("E402", "the width collapses to 0")


@pytest.mark.parametrize("op", [Conv2D(filters=2, kernel=(3, 3)), Pool2D("max", (2, 2), (2, 2)),
                                GlobalPool("avg"), ZeroPad2D(((1, 1), (1, 1)))])  # fmt: skip
def test_image_ops_on_a_vector_are_e403(op: Op) -> None:
    e = shape_error(op, (10,))
    assert e.code == "E403"
    assert "needs an image input (height, width, channels); received shape (10)" in str(e)


def test_what_needs_a_known_size_is_e404() -> None:
    e = shape_error(Flatten(), (None, None, 3))
    assert e.code == "E404" and str(e).startswith("flatten needs a known size; received (?, ?, 3)")
    assert shape_error(Dense(units=2), (None,)).code == "E404"


def test_merges_of_unequal_shapes_are_e401() -> None:
    e = shape_error(Add(), (8, 8, 4), (8, 8, 5))
    assert (e.code, str(e)) == (
        "E401",
        "add needs inputs of equal shapes; received (8, 8, 4), (8, 8, 5)",
    )
    assert shape_error(Add(), (8, 8, 4), (4,)).code == "E401"
    e = shape_error(Concat(), (8, 8, 4), (4, 8, 4))
    assert str(e).startswith("concat needs inputs that are equal but for the concatenation axis")
    e = shape_error(Concat(axis=5), (8, 8, 4), (8, 8, 4))
    assert (e.code, e.key) == ("E401", "axis")
    assert str(e) == "concat axis 5 does not fit inputs (8, 8, 4), (8, 8, 4)"


def test_only_merges_take_several_inputs() -> None:
    assert Add.multi_input and Concat.multi_input
    assert not Conv2D.multi_input and not Dense.multi_input


# --- limits ----------------------------------------------------------------------------------


def limit_error(op: Op, limits: Limits) -> LimitExceeded:
    with pytest.raises(LimitExceeded) as e:
        op.check_limits(limits)
    return e.value


def test_widths_over_the_limit_are_e707() -> None:
    limits = Limits(width=64)
    Conv2D(filters=64, kernel=(3, 3)).check_limits(limits)  # at the limit: fine
    Dense(units=64).check_limits(limits)
    e = limit_error(Conv2D(filters=65, kernel=(3, 3)), limits)
    assert (e.code, str(e), e.value) == ("E707", "filters 65 is over the limit of 64", 65)
    e = limit_error(Dense(units=70_000), Limits())
    assert (e.code, str(e)) == ("E707", "units 70,000 is over the limit of 65,536")


def test_windows_over_the_limit_are_e708() -> None:
    limits = Limits(kernel=7)
    Conv2D(filters=1, kernel=(7, 7)).check_limits(limits)
    Pool2D("max", (7, 7), (1, 1)).check_limits(limits)
    e = limit_error(Conv2D(filters=1, kernel=(3, 9)), limits)
    assert (e.code, str(e), e.value) == ("E708", "a kernel of 9 is larger than the limit of 7", 9)
    e = limit_error(Pool2D("avg", (2_000, 2), (1, 1)), Limits())
    assert (e.code, str(e)) == (
        "E708",
        "a pooling window of 2,000 is larger than the limit of 1,024",
    )


@pytest.mark.parametrize("op", [BatchNorm(), Activation("relu"), Dropout(0.1), Flatten(), Add(),
                                Concat(), GlobalPool("max"), ZeroPad2D(((900, 900), (0, 0)))])  # fmt: skip
def test_ops_without_limits_pass_any(op: Op) -> None:
    op.check_limits(Limits(width=1, kernel=1))


# --- text --------------------------------------------------------------------------------------

TEXT = [
    (Conv2D(filters=64, kernel=(3, 3), strides=(2, 2), activation="relu"),
     "3x3/2, 64 relu", "conv 3x3/2, 64 relu"),
    (Conv2D(filters=8, kernel=(1, 1)), "1x1, 8", "conv 1x1, 8"),
    (Conv2D(filters=6, kernel=(3, 1), strides=(2, 1)), "3x1/2x1, 6", "conv 3x1/2x1, 6"),
    (Pool2D("max", (2, 2), (2, 2)), "max 2x2/2", "max pool 2x2/2"),
    (Pool2D("avg", (3, 3), (1, 1), "same"), "avg 3x3/1", "avg pool 3x3/1"),
    (GlobalPool("avg"), "global avg", "global avg pool"),
    (GlobalPool("max"), "global max", "global max pool"),
    (ZeroPad2D(((3, 3), (3, 3))), "pad 3", "pad 3"),
    (ZeroPad2D(((1, 2), (0, 3))), "pad 1,2,0,3", "pad 1,2,0,3"),
    (BatchNorm(), "batch norm", "batch norm"),
    (Activation("swish"), "swish", "swish"),
    (Dropout(0.25), "dropout 0.25", "dropout 0.25"),
    (Flatten(), "flatten", "flatten"),
    (Dense(units=1000, activation="softmax"), "1000 softmax", "dense 1000 softmax"),
    (Dense(units=10), "10", "dense 10"),
    (Add(), "add", "add"),
    (Concat(), "concat", "concat"),
]  # fmt: skip


@pytest.mark.parametrize(("op", "label", "text"), TEXT, ids=[t[2] for t in TEXT])
def test_label_and_describe(op: Op, label: str, text: str) -> None:
    assert (op.label(), op.describe()) == (label, text)


def test_an_op_without_a_label_is_described_by_its_class_name() -> None:
    @dataclass(frozen=True)
    class Identity(Op):
        def infer(self, shapes: list[Shape]) -> Shape:
            return shapes[0]

    assert (Identity().label(), Identity().describe()) == ("", "identity")
    assert run(Identity(), (4, 4, 2)) == ((4, 4, 2), Cost())


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
    (Rescaling(0.5, offset=-1.0), "x 0.5 + -1", "rescale x 0.5 + -1"),
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
     "3x3 dil 2 groups 4, 64 relu", "conv 3x3 dil 2 groups 4, 64 relu"),
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
