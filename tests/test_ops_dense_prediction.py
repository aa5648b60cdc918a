"""The dense-prediction ops on their own (issue 15): conv_transpose, upsample and crop. Shapes,
params and MACs against figures computed by hand from the formulas, each also checked against
Keras 3 (test_the_figures_are_keras_s builds the Keras layers directly, not through `emit`);
errors, limits, text, and the layer types' keys."""

from __future__ import annotations

from typing import Any

import pytest

import archspec
from archspec.blocks.layers.batch_norm import BatchNorm
from archspec.blocks.layers.conv_transpose import Conv2DTranspose
from archspec.blocks.layers.crop import Crop2D
from archspec.blocks.layers.upsample import UpSample2D
from archspec.core.errors import SpecError
from archspec.core.limits import Limits
from archspec.core.units import Shape
from archspec.ir.op import Cost, Op
from tests.test_ops import limit_error, run, shape_error

# conv transpose, as Keras computes it (output_padding None): same: out = in * stride;
# valid: out = (in - 1) * stride + max(k, stride). Params kh*kw*cin*cout + cout. MACs: each
# input pixel scatters a kh x kw x cout patch: in_h*in_w*kh*kw*cin*cout (fvcore's and
# torch.utils.flop_counter's convention for transposed convs).
CASES = [
    ("conv transpose 3x3/2 same (Keras: (16, 16, 32), 4,640)",
     Conv2DTranspose(filters=32, kernel=(3, 3), strides=(2, 2)), [(8, 8, 16)],
     (16, 16, 32), Cost(3 * 3 * 16 * 32 + 32, 0, 8 * 8 * 3 * 3 * 16 * 32)),
    ("conv transpose 4x4/2 valid: (7 - 1) * 2 + 4 = 16 (Keras: (16, 16, 4), 516)",
     Conv2DTranspose(filters=4, kernel=(4, 4), strides=(2, 2), padding="valid"), [(7, 7, 8)],
     (16, 16, 4), Cost(4 * 4 * 8 * 4 + 4, 0, 7 * 7 * 4 * 4 * 8 * 4)),
    ("conv transpose 1x1/3 valid, stride over kernel: (5 - 1) * 3 + 3 = 15 (Keras: 9)",
     Conv2DTranspose(filters=3, kernel=(1, 1), strides=(3, 3), padding="valid"), [(5, 5, 2)],
     (15, 15, 3), Cost(1 * 1 * 2 * 3 + 3, 0, 5 * 5 * 1 * 1 * 2 * 3)),
    ("conv transpose [3, 2] strides [2, 3] valid, no bias (Keras: (9, 15, 5), 180)",
     Conv2DTranspose(filters=5, kernel=(3, 2), strides=(2, 3), padding="valid",
                     use_bias=False), [(4, 5, 6)],
     (9, 15, 5), Cost(3 * 2 * 6 * 5, 0, 4 * 5 * 3 * 2 * 6 * 5)),
    ("conv transpose on an unknown size (Keras: (None, None, 4), 292)",
     Conv2DTranspose(filters=4, kernel=(3, 3), strides=(2, 2)), [(None, None, 8)],
     (None, None, 4), Cost(3 * 3 * 8 * 4 + 4, 0, None)),
    ("conv transpose 5x5/2 same, width unknown (Keras: (6, None, 4), 804)",
     Conv2DTranspose(filters=4, kernel=(5, 5), strides=(2, 2)), [(3, None, 8)],
     (6, None, 4), Cost(5 * 5 * 8 * 4 + 4, 0, None)),
    ("conv transpose 5x5/2 valid, width unknown: (3 - 1) * 2 + 5 = 9 (Keras: (9, None, 4))",
     Conv2DTranspose(filters=4, kernel=(5, 5), strides=(2, 2), padding="valid"),
     [(3, None, 8)], (9, None, 4), Cost(804, 0, None)),
    # upsample: (H * size_h, W * size_w, C), no weights, no MACs
    ("upsample 2 (Keras: (14, 14, 3))", UpSample2D(), [(7, 7, 3)], (14, 14, 3), Cost()),
    ("upsample [2, 3] bilinear (Keras: (14, 15, 3))",
     UpSample2D(size=(2, 3), interpolation="bilinear"), [(7, 5, 3)], (14, 15, 3), Cost()),
    ("upsample on an unknown size", UpSample2D(), [(None, None, 3)], (None, None, 3), Cost()),
    # crop: (H - top - bottom, W - left - right, C)
    ("crop [[1, 2], [0, 3]] (Keras: (13, 13, 4))", Crop2D(((1, 2), (0, 3))), [(16, 16, 4)],
     (13, 13, 4), Cost()),
    ("crop 2, height unknown (Keras: (None, 6, 3))", Crop2D(((2, 2), (2, 2))),
     [(None, 10, 3)], (None, 6, 3), Cost()),
    ("crop leaving one row (Keras: (1, 8, 3))", Crop2D(((4, 3), (0, 0))), [(8, 8, 3)],
     (1, 8, 3), Cost()),
]  # fmt: skip


@pytest.mark.parametrize(("op", "shapes", "shape", "cost"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_infer_and_cost(op: Op, shapes: list[Shape], shape: Shape, cost: Cost) -> None:
    assert run(op, *shapes) == (shape, cost)


@pytest.mark.keras
def test_the_figures_are_keras_s(keras: Any) -> None:
    """The shapes and params above, from Keras's own layers (built here, not by `emit`)."""
    L = keras.layers
    layers = [
        L.Conv2DTranspose(32, 3, strides=2, padding="same"),
        L.Conv2DTranspose(4, 4, strides=2, padding="valid"),
        L.Conv2DTranspose(3, 1, strides=3, padding="valid"),
        L.Conv2DTranspose(5, (3, 2), strides=(2, 3), padding="valid", use_bias=False),
        L.Conv2DTranspose(4, 3, strides=2, padding="same"),
        L.Conv2DTranspose(4, 5, strides=2, padding="same"),
        L.Conv2DTranspose(4, 5, strides=2, padding="valid"),
        L.UpSampling2D(2),
        L.UpSampling2D((2, 3), interpolation="bilinear"),
        L.UpSampling2D(2),
        L.Cropping2D(((1, 2), (0, 3))),
        L.Cropping2D(2),
        L.Cropping2D(((4, 3), (0, 0))),
    ]
    assert len(layers) == len(CASES)
    for layer, (what, _, shapes, shape, cost) in zip(layers, CASES, strict=True):
        out = layer(keras.Input(shapes[0]))
        assert (tuple(out.shape[1:]), layer.count_params()) == (shape, cost.params), what


@pytest.mark.keras
def test_keras_refuses_a_crop_that_leaves_nothing(keras: Any) -> None:
    for shape, cropping in [((8, 8, 3), ((5, 4), (0, 0))), ((8, 6, 3), ((0, 0), (3, 3)))]:
        with pytest.raises(ValueError, match="should be smaller than"):
            keras.layers.Cropping2D(cropping)(keras.Input(shape))


# --- errors ----------------------------------------------------------------------------------


def test_a_crop_that_leaves_nothing_is_e402_with_the_sizes() -> None:
    e = shape_error(Crop2D(((5, 4), (0, 0))), (8, 8, 3))
    assert (e.code, e.key, str(e)) == (
        "E402",
        "cropping",
        "cropping 5 + 4 from a height of 8 leaves 0",
    )
    assert e.hint == "the top and bottom cropping must add up to less than the height (8)"
    e = shape_error(Crop2D(((0, 0), (3, 3))), (8, 6, 3))
    assert (e.code, str(e)) == ("E402", "cropping 3 + 3 from a width of 6 leaves 0")
    assert "left and right" in (e.hint or "")


@pytest.mark.parametrize("op", [Conv2DTranspose(filters=2, kernel=(3, 3)), UpSample2D(),
                                Crop2D(((1, 1), (1, 1)))])  # fmt: skip
def test_on_a_vector_they_are_e403(op: Op) -> None:
    e = shape_error(op, (10,))
    assert e.code == "E403"
    assert "needs an image input (height, width, channels); received shape (10)" in str(e)
    assert e.hint == ("a flatten, global pool or dense layer before it made a vector: image "
                      "layers come before those")  # fmt: skip


def _spec_error(blocks: str, input_: str = "[8, 8, 3]") -> SpecError:
    text = f"name: m\ninput: {input_}\nblocks:\n{blocks}"
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=text))
    return e.value


def test_errors_in_a_spec_point_at_the_block_or_the_key() -> None:
    (d,) = _spec_error("  - {type: crop, cropping: [[5, 4], [0, 0]]}\n").diagnostics
    assert (d.code, d.path, d.line) == ("E402", ("blocks", 0, "cropping"), 4)
    assert d.message.endswith("cropping 5 + 4 from a height of 8 leaves 0")
    (d,) = _spec_error("  - {type: upsample}\n", "[16]").diagnostics
    assert (d.code, d.path, d.line) == ("E403", ("blocks", 0), 4)
    assert "upsampling needs an image input" in d.message


@pytest.mark.parametrize("cropping", ["-1", "[1, -2]", "[[1, 2], [-3, 0]]"])
def test_negative_cropping_is_one_range_error(cropping: str) -> None:
    (d,) = _spec_error(f"  - {{type: crop, cropping: {cropping}}}\n").diagnostics
    assert (d.code, d.path) == ("E204", ("blocks", 0, "cropping"))
    assert "0 or more; received -" in d.message


@pytest.mark.parametrize("cropping", ["[1, 2, 3]", "[[1], [2, 3]]", "[1, [2, 3]]"])
def test_cropping_of_another_form_is_one_error_naming_the_forms(cropping: str) -> None:
    (d,) = _spec_error(f"  - {{type: crop, cropping: {cropping}}}\n").diagnostics
    assert d.path == ("blocks", 0, "cropping")
    assert "[[top, bottom], [left, right]]" in d.message


def test_the_layer_types_check_their_keys() -> None:
    from pydantic import ValidationError

    from archspec.blocks import REGISTRY

    bad = [
        {"type": "conv_transpose", "kernel": 3},
        {"type": "conv_transpose", "filters": 0, "kernel": 3},
        {"type": "conv_transpose", "filters": 4, "kernel": 3, "padding": "full"},
        {"type": "upsample", "size": 0},
        {"type": "upsample", "interpolation": "bicubic"},
        {"type": "crop"},
        {"type": "crop", "cropping": True},
    ]
    for data in bad:
        with pytest.raises(ValidationError):
            REGISTRY[str(data["type"])].model_validate(data)
    up = REGISTRY["upsample"].model_validate({"type": "upsample"})
    assert (up.size, up.interpolation) == (2, "nearest")  # type: ignore[attr-defined]


# --- limits ----------------------------------------------------------------------------------


def test_conv_transpose_limits() -> None:
    limits = Limits(width=64, kernel=7)
    Conv2DTranspose(filters=64, kernel=(7, 7)).check_limits(limits)  # at the limits: fine
    e = limit_error(Conv2DTranspose(filters=65, kernel=(3, 3)), limits)
    assert (e.code, str(e), e.value) == ("E707", "filters 65 is over the limit of 64", 65)
    e = limit_error(Conv2DTranspose(filters=4, kernel=(3, 9)), limits)
    assert (e.code, str(e), e.value) == ("E708", "a kernel of 9 is larger than the limit of 7", 9)


@pytest.mark.parametrize("op", [UpSample2D(size=(900, 900)), Crop2D(((900, 900), (0, 0)))])
def test_upsample_and_crop_have_no_limits_of_their_own(op: Op) -> None:
    op.check_limits(Limits(width=1, kernel=1))


# --- blocks and text -------------------------------------------------------------------------


def test_the_blocks_make_the_ops() -> None:
    text = (
        "name: m\ninput: [8, 8, 3]\nblocks:\n"
        "  - {type: conv_transpose, name: t, filters: 4, kernel: 3, strides: 2,"
        " batch_norm: true, bn_epsilon: 0.01, activation: relu}\n"
        "  - {type: conv_transpose, name: u, filters: 2, kernel: [2, 1], activation: relu,"
        " use_bias: false}\n"
        "  - {type: upsample, name: up, size: [1, 2], interpolation: bilinear}\n"
        "  - {type: crop, name: c, cropping: [1, 2]}\n"
    )
    graph = archspec.analyze(archspec.load(text=text))
    nodes = graph.nodes
    assert list(nodes) == ["t_conv", "t_bn", "t_relu", "u", "up", "c"]
    # with batch_norm the conv loses its activation, which follows the BN
    assert nodes["t_conv"].op == Conv2DTranspose(filters=4, kernel=(3, 3), strides=(2, 2))
    assert nodes["t_bn"].op == BatchNorm(epsilon=0.01)
    assert nodes["u"].op == Conv2DTranspose(
        filters=2, kernel=(2, 1), activation="relu", use_bias=False
    )
    assert nodes["up"].op == UpSample2D(size=(1, 2), interpolation="bilinear")
    assert nodes["c"].op == Crop2D(((1, 1), (2, 2)))
    # 8 -> 16 (stride 2) -> 16 -> (16, 32) -> (14, 28)
    assert graph.output_shapes == {"c": (14, 28, 2)}


@pytest.mark.parametrize(("op", "label", "text"), [
    (Conv2DTranspose(filters=16, kernel=(3, 3), strides=(2, 2), activation="relu"),
     "3x3 up 2, 16 relu", "conv transpose 3x3 up 2, 16 relu"),
    (Conv2DTranspose(filters=8, kernel=(4, 2), strides=(2, 1)),
     "4x2 up 2x1, 8", "conv transpose 4x2 up 2x1, 8"),
    (Conv2DTranspose(filters=8, kernel=(3, 3)), "3x3, 8", "conv transpose 3x3, 8"),
    (UpSample2D(), "x2 nearest", "upsample x2 nearest"),
    (UpSample2D(size=(2, 3), interpolation="bilinear"), "x2,3 bilinear",
     "upsample x2,3 bilinear"),
    (Crop2D(((1, 1), (1, 1))), "crop 1", "crop 1"),
    (Crop2D(((1, 2), (0, 3))), "crop 1,2,0,3", "crop 1,2,0,3"),
])  # fmt: skip
def test_label_and_describe(op: Op, label: str, text: str) -> None:
    assert (op.label(), op.describe()) == (label, text)
