"""The ConvNeXt block (Liu et al., 2022), as keras.applications' ConvNeXt builds it
(`ConvNeXtBlock`).

Layer roles are Keras's: a `convnext` block named `convnext_tiny_stage_0_block_0` gives
`..._depthwise_conv`, `_layernorm`, `_pointwise_conv_1`, `_gelu`, `_pointwise_conv_2`,
`_layer_scale`, `_identity`, then `_add`, so that ConvNeXt's weight files load by name. Stages
are a `convnext` block with `repeat` and `repeat_names: "{name}_{i}"` (`stage_0_block_0`, ...).

Three differences from Keras, none in weights or arithmetic:
- the "depthwise" conv is Conv2D(C, kernel, groups=C), as Keras's (SPEC's table says
  DepthwiseConv2D: its kernel is (k, k, C, 1) where Keras's is (k, k, 1, C), so Keras's weights
  would not load; parameters and MACs are the same);
- the layer scale is the built-in EinsumDense of `layer_scale` (layers/layer_scale.py) where
  Keras has its custom LayerScale: the same weight, shape (C,), in the same position;
- the residual sum is an Add layer (`add`) where Keras adds with an op (`inputs + x`), so the
  model has one layer more per block.
Keras's `identity` (the Activation("linear") it puts where StochasticDepth would be, with
drop_path_rate 0, as in every keras.applications ConvNeXt) is emitted too, so that the layer
names match Keras's one for one; StochasticDepth is the identity at inference."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import Block, PositiveInt, register
from archspec.blocks.layers.activation import Activation
from archspec.blocks.layers.add import Add
from archspec.blocks.layers.conv import Conv2D
from archspec.blocks.layers.dense import Dense
from archspec.blocks.layers.layer_norm import Epsilon, LayerNorm
from archspec.blocks.layers.layer_scale import layer_scale
from archspec.ir.graph import Builder
from archspec.ir.op import image, known


@register
class ConvNeXt(Block):
    """ConvNeXt block, C = input channels: Conv2D(C, kernel, same, groups=C, bias) ->
    LayerNormalization -> Dense(expansion x C) -> gelu -> Dense(C) -> [layer scale] ->
    Activation(linear) (Keras's `identity`) -> Add(input, branch). Keeps the input's shape."""

    family = "convnext"
    example: ClassVar[str] = "{type: convnext, kernel: 3, expansion: 2, layer_scale: 0.5}"
    type: Literal["convnext"] = "convnext"
    kernel: PositiveInt = Field(default=7, description="Kernel of the per-channel conv.")
    expansion: PositiveInt = Field(
        default=4, description="Width of the first Dense = expansion x input channels."
    )
    layer_scale: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        default=1e-6,
        description="Initial value of the learned per-channel factor (EinsumDense, C params) "
        "before the add; 0 = no layer scale.",
    )
    epsilon: Epsilon = Field(default=1e-6, description="LayerNormalization epsilon.")

    def expand(self, b: Builder, inputs: list[str]) -> str:
        x = inputs[0]
        (c,) = known(image(b.shape(x), "a convnext block")[2:], "a convnext block")
        k = self.kernel
        y = b.add("depthwise_conv", Conv2D(filters=c, kernel=(k, k), groups=c), x)
        y = b.add("layernorm", LayerNorm(epsilon=self.epsilon), y)
        y = b.add("pointwise_conv_1", Dense(units=self.expansion * c), y)
        y = b.add("gelu", Activation("gelu"), y)
        y = b.add("pointwise_conv_2", Dense(units=c), y)
        if self.layer_scale > 0:
            y = layer_scale(b, "layer_scale", y, self.layer_scale)
        y = b.add("identity", Activation("linear"), y)
        return b.add("add", Add(), x, y)
