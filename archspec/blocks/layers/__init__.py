"""Built-in layers: one file per op, holding the op (its shape inference, cost, Keras emission,
text and limits) and the spec layer type that exposes it. Adding an op is adding a file here;
archspec.blocks discovers it.

A block that emits one layer gives it the block's own name (`predictions`, `avg_pool`), as
keras.applications names its layers.
"""
