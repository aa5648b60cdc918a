"""The tutorial's five example models: golden figures from REFERENCE.md, and numerical equality
with the models written the way the tutorial writes them."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from tests.conftest import ROOT

# (spec, total params, output shape) from ../shared/REFERENCE.md
GOLDEN = [
    ("vgg_one_block", 38_720, (128, 128, 64)),
    ("vgg_three_blocks", 2_325_568, (32, 32, 256)),
    ("inception_naive", 6_272, (256, 256, 227)),
    ("inception_two_modules", 513_120, (256, 256, 480)),
    ("residual_module", 38_976, (256, 256, 64)),
]


def tutorial_model(keras, name):
    """The tutorial's code, transcribed (seed/tutorial-vgg-inception-resnet-modules.txt)."""
    from keras.layers import Activation, Conv2D, Input, MaxPooling2D, add, concatenate

    def vgg_block(layer_in, n_filters, n_conv):
        for _ in range(n_conv):
            layer_in = Conv2D(n_filters, (3, 3), padding="same", activation="relu")(layer_in)
        return MaxPooling2D((2, 2), strides=(2, 2))(layer_in)

    def naive_inception_module(layer_in, f1, f2, f3):
        conv1 = Conv2D(f1, (1, 1), padding="same", activation="relu")(layer_in)
        conv3 = Conv2D(f2, (3, 3), padding="same", activation="relu")(layer_in)
        conv5 = Conv2D(f3, (5, 5), padding="same", activation="relu")(layer_in)
        pool = MaxPooling2D((3, 3), strides=(1, 1), padding="same")(layer_in)
        return concatenate([conv1, conv3, conv5, pool], axis=-1)

    def inception_module(layer_in, f1, f2_in, f2_out, f3_in, f3_out, f4_out):
        conv1 = Conv2D(f1, (1, 1), padding="same", activation="relu")(layer_in)
        conv3 = Conv2D(f2_in, (1, 1), padding="same", activation="relu")(layer_in)
        conv3 = Conv2D(f2_out, (3, 3), padding="same", activation="relu")(conv3)
        conv5 = Conv2D(f3_in, (1, 1), padding="same", activation="relu")(layer_in)
        conv5 = Conv2D(f3_out, (5, 5), padding="same", activation="relu")(conv5)
        pool = MaxPooling2D((3, 3), strides=(1, 1), padding="same")(layer_in)
        pool = Conv2D(f4_out, (1, 1), padding="same", activation="relu")(pool)
        return concatenate([conv1, conv3, conv5, pool], axis=-1)

    def residual_module(layer_in, n_filters):
        merge_input = layer_in
        if layer_in.shape[-1] != n_filters:
            merge_input = Conv2D(n_filters, (1, 1), padding="same", activation="relu",
                                 kernel_initializer="he_normal")(layer_in)  # fmt: skip
        conv1 = Conv2D(n_filters, (3, 3), padding="same", activation="relu",
                       kernel_initializer="he_normal")(layer_in)  # fmt: skip
        conv2 = Conv2D(n_filters, (3, 3), padding="same", activation="linear",
                       kernel_initializer="he_normal")(conv1)  # fmt: skip
        layer_out = add([conv2, merge_input])
        return Activation("relu")(layer_out)

    visible = Input(shape=(256, 256, 3))
    if name == "vgg_one_block":
        layer = vgg_block(visible, 64, 2)
    elif name == "vgg_three_blocks":
        layer = vgg_block(visible, 64, 2)
        layer = vgg_block(layer, 128, 2)
        layer = vgg_block(layer, 256, 4)
    elif name == "inception_naive":
        layer = naive_inception_module(visible, 64, 128, 32)
    elif name == "inception_two_modules":
        layer = inception_module(visible, 64, 96, 128, 16, 32, 32)
        layer = inception_module(layer, 128, 128, 192, 32, 96, 64)
    else:
        layer = residual_module(visible, 64)
    return keras.Model(inputs=visible, outputs=layer)


@pytest.mark.parametrize(("name", "params", "shape"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_static_figures_match_the_tutorial(name, params, shape):
    graph = archspec.analyze(ROOT / "specs" / "seed" / f"{name}.yaml")
    assert graph.params == params
    assert list(graph.output_shapes.values()) == [shape]


@pytest.mark.parametrize(("name", "params", "shape"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_compiled_model_equals_the_tutorials(keras, name, params, shape):
    model = archspec.compile(ROOT / "specs" / "seed" / f"{name}.yaml")
    assert model.count_params() == params
    assert tuple(model.output.shape) == (None, *shape)
    reference = tutorial_model(keras, name)
    assert reference.count_params() == params
    reference.set_weights(model.get_weights())
    # a small spatial size keeps the check fast; the weights do not depend on it
    x = np.random.default_rng(0).normal(size=(2, 256, 256, 3)).astype("float32")
    got, want = model(x, training=False), reference(x, training=False)
    assert float(np.max(np.abs(np.asarray(got) - np.asarray(want)))) <= 1e-5
