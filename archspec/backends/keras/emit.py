"""Stage 5, emission: graph IR -> keras.Model. The only module that imports Keras."""

from __future__ import annotations

import os
from typing import Any

from archspec.ir.graph import Graph


def import_keras() -> Any:
    """Import Keras with TensorFlow's start-up chatter silenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    return keras


def to_keras(graph: Graph) -> Any:
    """Build the keras.Model: one Keras layer per IR node, named as the node."""
    keras = import_keras()
    tensors: dict[str, Any] = {
        name: keras.Input(shape=shape, name=name) for name, shape in graph.inputs.items()
    }
    for node in graph.nodes.values():
        layer = node.op.emit(keras, node.name)
        args = [tensors[i] for i in node.inputs]
        tensors[node.name] = layer(args if node.op.multi_input else args[0])
    inputs = [tensors[n] for n in graph.inputs]
    outputs = [tensors[n] for n in graph.outputs]
    return keras.Model(
        inputs=inputs[0] if len(inputs) == 1 else inputs,
        outputs=outputs[0] if len(outputs) == 1 else outputs,
        name=graph.name,
    )
