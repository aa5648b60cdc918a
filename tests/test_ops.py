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
from archspec.blocks.layers.pool import Pool2D
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
    assert str(e) == "concat axis 5 of inputs (8, 8, 4), (8, 8, 4) is out of range"
    assert e.hint == "the axes are 1 to 3, or -3 to -1 (the channels are -1)"
    # a walkthrough: axis 0 said only "does not fit", as 5 and -4 did
    e = shape_error(Concat(axis=0), (8, 8, 4), (8, 8, 4))
    assert (e.key, str(e)) == (
        "axis", "concat axis 0 of inputs (8, 8, 4), (8, 8, 4) is the batch axis, which concat "
        "does not join")  # fmt: skip
    assert shape_error(Concat(axis=2), (4,), (4,)).hint == "the only axis is 1, or -1"
    e = shape_error(Concat(), (8, 8, 4), (4,))
    assert (e.key, str(e)) == (None, "concat needs inputs of one rank; received (8, 8, 4), (4)")


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
    (Activation("linear"), "identity", "identity"),
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
