"""The static figures (shapes, params, MACs' inputs) equal what Keras reports, layer by layer,
for every spec in specs/ and for every block type in the registry."""

from __future__ import annotations

import pytest

import archspec
from archspec.blocks import REGISTRY
from tests.conftest import SPECS, spec_id

#: one small example per block type; a new block type must add one (test below)
EXAMPLES: dict[str, str] = {
    "vgg": "{type: vgg, n_filters: 8, n_conv: 2, batch_norm: true, activation: gelu}",
    "inception_naive": "{type: inception_naive, f1: 4, f2: 8, f3: 2}",
    "inception": "{type: inception, f1: 4, f2_in: 3, f2_out: 5, f3_in: 2, f3_out: 3, f4_out: 6}",
    "residual": "{type: residual, n_filters: 8, strides: 2, batch_norm: true, use_bias: false}",
    "bottleneck": "{type: bottleneck, n_filters: 4, strides: 2}",
    "conv": "{type: conv, filters: 6, kernel: [3, 1], strides: 2, padding: valid, batch_norm: true, activation: relu}",
    "max_pool": "{type: max_pool, pool: 3, strides: 2, padding: same}",
    "avg_pool": "{type: avg_pool}",
    "global_avg_pool": "{type: global_avg_pool}",
    "global_max_pool": "{type: global_max_pool}",
    "zero_pad": "{type: zero_pad, padding: [[1, 2], [0, 3]]}",
    "batch_norm": "{type: batch_norm, epsilon: 1.001e-5}",
    "activation": "{type: activation, activation: swish}",
    "dropout": "{type: dropout, rate: 0.5}",
    "flatten": "{type: flatten}",
    "dense": "{type: dense, units: 7, activation: softmax}",
    "add": "{type: add, inputs: [a, b]}",
    "concat": "{type: concat, inputs: [a, b]}",
}


def example_spec(kind: str) -> str:
    """A conv, then the example; two parallel convs `a` and `b` feed the merge blocks."""
    merge = kind in ("add", "concat")
    return (
        "name: example\ninput: [16, 16, 3]\nblocks:\n"
        "  - {type: conv, name: a, filters: 4, kernel: 3}\n"
        + ("  - {type: conv, name: b, filters: 4, kernel: 1, inputs: input}\n" if merge else "")
        + f"  - {EXAMPLES[kind]}\n"
    )


def assert_static_equals_keras(keras, graph, model) -> None:
    names = [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert sorted(names) == sorted(graph.nodes)
    for node in graph.nodes.values():
        layer = model.get_layer(node.name)
        assert type(layer) is type(node.op.emit(keras, "probe")), node.name
        assert tuple(layer.output.shape) == (None, *node.shape), node.name
        trainable = sum(int(w.numpy().size) for w in layer.trainable_weights)
        non_trainable = sum(int(w.numpy().size) for w in layer.non_trainable_weights)
        assert (trainable, non_trainable) == (node.cost.trainable, node.cost.non_trainable), (
            node.name
        )
    assert model.count_params() == graph.params
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert trainable == graph.cost.trainable
    outs = model.outputs
    assert [tuple(o.shape) for o in outs] == [(None, *s) for s in graph.output_shapes.values()]


def test_every_block_type_has_an_example():
    assert set(EXAMPLES) == set(REGISTRY)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_block_static_equals_keras(keras, kind):
    graph = archspec.analyze(archspec.load(text=example_spec(kind)))
    assert any(b.type == kind for b in graph.blocks)
    assert_static_equals_keras(keras, graph, archspec.compile(graph))


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_spec_static_equals_keras(keras, compiled_specs, path):
    graph, model = compiled_specs.get(path)  # built once per session, shared with test_zoo
    assert_static_equals_keras(keras, graph, model)
