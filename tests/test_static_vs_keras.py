"""The static figures (shapes, params, MACs' inputs) equal what Keras reports, layer by layer,
for every spec in specs/ and for every block type in the registry."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import archspec
from archspec.blocks import REGISTRY
from tests.conftest import SPECS, spec_id

#: kind -> its example (`Block.example`), for tests that loop over the examples (fuzz seeds)
EXAMPLES: dict[str, str] = {kind: getattr(cls, "example", "") for kind, cls in REGISTRY.items()}


def example_spec(kind: str) -> str:
    """A conv, then the block type's example; two parallel convs `a` and `b` feed the merge
    blocks."""
    merge = REGISTRY[kind].n_inputs is None  # add, concat, multiply: two or more inputs
    return (
        "name: example\ninput: [16, 16, 3]\nblocks:\n"
        "  - {type: conv, name: a, filters: 4, kernel: 3}\n"
        + ("  - {type: conv, name: b, filters: 4, kernel: 1, inputs: input}\n" if merge else "")
        + f"  - {REGISTRY[kind].example}\n"
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


@pytest.mark.parametrize("kind", list(REGISTRY))
def test_every_block_type_has_an_example_that_validates(kind):
    """Every registered block type carries `example`: a flow mapping of that type which
    validates on its own and builds statically after a conv (no Keras)."""
    example = getattr(REGISTRY[kind], "example", None)
    assert isinstance(example, str) and example, f"`{kind}` has no `example`"
    data = yaml.safe_load(example)
    assert isinstance(data, dict) and data["type"] == kind
    REGISTRY[kind].model_validate(data)
    graph = archspec.analyze(archspec.load(text=example_spec(kind)))
    assert any(b.type == kind for b in graph.blocks)


@pytest.mark.keras
@pytest.mark.parametrize("kind", list(REGISTRY))
def test_block_static_equals_keras(keras, kind):
    graph = archspec.analyze(archspec.load(text=example_spec(kind)))
    assert any(b.type == kind for b in graph.blocks)
    assert_static_equals_keras(keras, graph, archspec.compile(graph))


@pytest.mark.keras
def test_a_types_keras_names_are_layers_it_emits(keras):
    """A block type's `aliases` that name a Keras layer class (the hint for `type:
    LayerNormalization`) name one that its example emits: a wrong one cannot slip in."""
    checked = 0
    for kind, cls in REGISTRY.items():
        graph = archspec.analyze(archspec.load(text=example_spec(kind)))
        emitted = {type(n.op.emit(keras, "probe")).__name__ for b in graph.blocks
                   if b.type == kind for n in (graph.nodes[m] for m in b.nodes)}  # fmt: skip
        for alias in cls.aliases:
            if hasattr(keras.layers, alias):
                assert alias in emitted, (kind, alias, emitted)
                checked += 1
    assert checked >= 24


@pytest.mark.keras
@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_spec_static_equals_keras(keras, compiled_specs, path):
    graph, model = compiled_specs.get(path)  # built once per session, shared with test_zoo
    assert_static_equals_keras(keras, graph, model)


@pytest.mark.keras
def test_every_activation_keeps_the_shape_in_keras(keras):
    """The activations the schema offers run in Keras and keep the shape, as `infer` assumes."""
    from archspec.blocks.base import ACTIVATIONS

    blocks = "".join(f"  - {{type: activation, activation: {a}}}\n" for a in ACTIVATIONS)
    graph = archspec.analyze(archspec.load(text=f"name: acts\ninput: [4, 4, 6]\nblocks:\n{blocks}"))
    model = archspec.compile(graph)
    out = model(np.random.default_rng(0).normal(size=(2, 4, 4, 6)).astype("float32"))
    assert tuple(out.shape) == (2, 4, 4, 6)
    assert_static_equals_keras(keras, graph, model)


@pytest.mark.keras
def test_every_initializer_is_a_keras_initializer(keras):
    from archspec.blocks.base import INITIALIZERS

    for name in INITIALIZERS:
        assert keras.initializers.get(name) is not None, name
        spec = f"name: i\ninput: [4, 4, 3]\nblocks:\n  - {{type: conv, filters: 2, kernel: 3, kernel_initializer: {name}}}\n"
        assert archspec.compile(archspec.load(text=spec)).count_params() == 3 * 3 * 3 * 2 + 2
