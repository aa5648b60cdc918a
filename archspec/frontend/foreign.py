"""Names a user brings from PyTorch (and other tools) that archspec writes otherwise, or not at
all: the hints for an unknown block type or key that no spelling of archspec's own names
explains (a walkthrough porting torchvision's models: `AdaptiveAvgPool2d((6, 6))` was hinted as
`global_avg_pool`, a different network; `padding: 1` and `ceil_mode` got no hint).

A block type's other names for itself (`Conv2D`, `BatchNorm2d`) are its `aliases`; these are
the names that are not any type's."""

from __future__ import annotations

import re
from typing import Any

from archspec.core.errors import folded

_ADAPTIVE = (
    "there is no adaptive pooling: `{pool}` is {torch}(1) (`keepdims: true` keeps the 1 x 1); "
    "another output size, at a fixed input size, is an `{window}` whose `pool` and `strides` give "
    "it (AlexNet's (6, 6) pool at 224 meets a 6 x 6 map and does nothing: leave it out)"
)
_GAP = (
    "archspec has no channel shuffle, split, slice, permute or transpose layer yet (see the "
    "README's 'What archspec cannot express yet'): ShuffleNet cannot be written (a transposed "
    "convolution is `conv_transpose`)"
)
_CONV_BN_ACT = (
    "`conv` with `batch_norm: true` and an `activation` is conv -> batch norm -> activation "
    "(torchvision's convs before a batch norm also have `use_bias: false`)"
)
_DROP_PATH = (
    "stochastic depth is the identity at inference and has no parameters: leave it out "
    "(`mbconv`'s `dropout` is EfficientNet's, per sample)"
)
_AVG_ADAPTIVE = _ADAPTIVE.format(
    pool="global_avg_pool", torch="AdaptiveAvgPool2d", window="avg_pool"
)
_NO_REFLECT = "there is no reflect or replicate padding: `zero_pad` pads with zeros"
_PIXEL = (
    "there is no depth-to-space layer: an upsampling is `upsample` (nearest or bilinear) or "
    "`conv_transpose`"
)

#: block types of other tools that archspec has not, or has under a misleading near name:
#: folded name (`folded`: no case, `_` or `-`) -> the hint
TYPES: dict[str, str] = {
    **dict.fromkeys(("adaptiveavgpool2d", "adaptiveavgpool"), _AVG_ADAPTIVE),
    **dict.fromkeys(("adaptivemaxpool2d", "adaptivemaxpool"), _ADAPTIVE.format(
        pool="global_max_pool", torch="AdaptiveMaxPool2d", window="max_pool")),
    **dict.fromkeys(("channelshuffle", "shuffle", "channelsplit", "split", "chunk", "slice",
                     "permute", "transpose"), _GAP),
    **dict.fromkeys(("conv2dnormactivation", "convnormactivation", "convbnact", "convbnrelu",
                     "convbnactivation", "convnormact", "conv2dbnrelu"), _CONV_BN_ACT),
    **dict.fromkeys(("droppath", "stochasticdepth"), _DROP_PATH),
    **dict.fromkeys(("pixelshuffle", "pixelunshuffle", "depthtospace", "spacetodepth"), _PIXEL),
    "sequential": ("a spec's `blocks` are already applied in order; a group of blocks used "
                   "more than once is a user-defined block (`define`)"),
    "constantpad2d": "`zero_pad` pads with zeros (no other constant)",
    **dict.fromkeys(("reflectionpad2d", "replicationpad2d", "reflectpad"), _NO_REFLECT),
    **dict.fromkeys(("localresponsenorm", "lrn", "localresponsenormalization"),
                    "there is no local response normalization layer"),
}  # fmt: skip

CEIL_MODE = (
    "there is no `ceil_mode`: PyTorch's ceil_mode size is ceil((in - pool) / strides) + 1; "
    "`padding: valid` gives floor((in - pool) / strides) + 1 and `padding: same` "
    "ceil(in / strides): pick the one equal to it at your size (a 3/2 pool: `same` on an even "
    "size, `valid` on an odd one)"
)
PADDING = (
    "`padding` is `same` or `valid`: PyTorch's `padding=kernel // 2` at stride 1 is `same`; "
    "other padding is a `zero_pad` block before this one (`{type: zero_pad, padding: 1}`) and "
    "`padding: valid` here"
)
TUPLE = "YAML has no tuples: write a pair as a list, `[3, 3]`, not `(3, 3)`"
#: what YAML reads of `kernel: (3, 3)` in a flow mapping: `(3` (and a key `3)`), or a whole
#: tuple where it is quoted or in block style
TUPLE_START = re.compile(r"\(\s*-?\d+(\s*,\s*-?\d+)*\s*,?\s*\)?")
_INFERRED = "the input's channels are inferred: leave `{key}` out"

#: keys of other tools: their name in archspec, the first of these the block has
KEYS: dict[str, tuple[str, ...]] = {
    "out_channels": ("filters", "n_filters", "units"),
    "num_filters": ("filters", "n_filters"),
    "out_features": ("units",),
    "kernel_size": ("kernel", "pool"),
    "kernel": ("pool",),
    "pool_size": ("pool",),
    "stride": ("strides",),
    "bias": ("use_bias",),
    "eps": ("epsilon", "bn_epsilon"),
    "dim": ("axis",),
    "p": ("rate",),
    "num_groups": ("groups",),
    "scale_factor": ("size",),
    "mode": ("interpolation",),
}

#: keys with no counterpart: what to write instead (`{key}`: the key as written)
NO_KEYS: dict[str, str] = {
    **dict.fromkeys(("in_channels", "in_features", "num_features", "num_channels"), _INFERRED),
    "inplace": "leave `inplace` out: Keras has no in-place layers",
    "ceil_mode": CEIL_MODE,
    "output_size": _AVG_ADAPTIVE,
    "padding_mode": _NO_REFLECT,
    "track_running_stats": "leave it out: a batch norm always keeps its moving statistics",
    "affine": "PyTorch's `affine=False` is `scale: false` and `center: false`",
}  # fmt: skip

#: activations written as a key (`relu: true`)
_ACTIVATIONS = frozenset({"relu", "relu6", "gelu", "silu", "swish", "sigmoid", "tanh", "elu"})


def type_hint(kind: str) -> str | None:
    """The hint for `kind`, an unknown block type, where it is another tool's name that no
    archspec type stands for."""
    return TYPES.get(folded(kind))


def key_hint(key: str, fields: Any) -> str | None:
    """The hint for `key`, unknown in a block whose keys are `fields`, where it is another
    tool's name: archspec's name for it (`stride` -> `strides`) or what to write instead."""
    for name in KEYS.get(key, ()):
        if name in fields:
            return f"did you mean `{name}`?"
    if key in NO_KEYS:
        return NO_KEYS[key].format(key=key)
    if key.endswith(")"):  # `kernel: (3, 3)` in a flow mapping: a key `3)`
        return TUPLE
    if key.casefold() in _ACTIVATIONS and "activation" in fields:
        if key.casefold() == "sigmoid" and "gate" in fields:  # squeeze-excitation's gate
            return "write `gate: sigmoid`"
        return f"write `activation: {key.casefold()}`"
    return None
