"""The inverted residual of MobileNetV2 and the MBConv of EfficientNet (plain and fused).

Layer roles are keras.applications EfficientNet's by default, so that an `mbconv` named
`block2a` gives `block2a_expand_conv`, `block2a_dwconv`, `block2a_se_reduce` ... as EfficientNet
names them; `roles` renames them for the other families (EfficientNetV2, MobileNetV2, V3)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from archspec.blocks.base import ActivationName, Block, BnEpsilon, BnMomentum, PositiveInt, register
from archspec.blocks.layers.activation import Activation
from archspec.blocks.layers.add import Add
from archspec.blocks.layers.batch_norm import BatchNorm
from archspec.blocks.layers.conv import Conv2D
from archspec.blocks.layers.depthwise_conv import DepthwiseConv2D, depthwise_bn_act
from archspec.blocks.layers.dropout import Dropout
from archspec.blocks.se import squeeze_excite, squeeze_width
from archspec.core.errors import KeyValueError, did_you_mean
from archspec.ir.graph import Builder
from archspec.ir.op import image, known

#: the canonical roles (keras.applications EfficientNet's layer names), in emission order
ROLES = (
    "expand_conv", "expand_bn", "expand_activation",
    "dwconv", "bn", "activation",
    "se_squeeze", "se_reduce", "se_expand", "se_excite",
    "project_conv", "project_bn", "project_activation",
    "drop", "add",
)  # fmt: skip

RoleName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$", max_length=128)]
Ratio = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
#: bounded: int(channels x expansion) of a huge float overflows (and no network expands 1,024-fold)
Expansion = (
    Annotated[int, Field(ge=1, le=1024)]
    | Annotated[float, Field(ge=1, le=1024, allow_inf_nan=False)]
)

_ROLES_DOC = (
    "Renames layers: a mapping canonical role -> the role to emit instead, so that other "
    "families' layer names come out (EfficientNetV2: `{dwconv: dwconv2}`; MobileNetV2: "
    "`{expand_conv: expand, expand_bn: expand_BN, expand_activation: expand_relu, dwconv: "
    "depthwise, bn: depthwise_BN, activation: depthwise_relu, project_conv: project, "
    "project_bn: project_BN}`; MobileNetV3: `{expand_conv: expand, expand_activation: "
    "expand_act, dwconv: depthwise, bn: depthwise_bn, activation: depthwise_act, se_squeeze: "
    "squeeze_excite_avg_pool, se_reduce: squeeze_excite_conv, se_expand: squeeze_excite_conv_1, "
    "se_excite: squeeze_excite_mul, project_conv: project}`). Canonical roles (EfficientNet's): "
    + ", ".join(ROLES)
    + "."
)


@register
class MBConv(Block):
    """Inverted residual (MobileNetV2) / MBConv (EfficientNet); `fused` for EfficientNetV2's
    Fused-MBConv. All convs have no bias and are followed by BatchNormalization.

    Not fused: [expansion: 1x1 conv to the expanded width -> BN -> act] -> depthwise (kernel,
    strides, same) -> BN -> act -> [se] -> 1x1 conv (filters) -> BN. Fused, with an expansion:
    conv (kernel, strides) to the expanded width -> BN -> act -> [se] -> 1x1 conv (filters) -> BN;
    without: [se] -> conv (filters, kernel, strides) -> BN -> act (`project_activation`). Then,
    with `skip: auto`, strides 1 and as many input channels as `filters`: [Dropout with one mask
    per sample, where `dropout` > 0] -> Add(output, input).

    Two differences from keras.applications, both without weights and numerically identical
    (the tests compare outputs with Keras's own blocks): the squeeze-excitation pools with
    GlobalAveragePooling2D(keepdims=True) where EfficientNet pools to a vector and adds a
    Reshape layer (`se_reshape`); and a strided depthwise conv uses padding `same` where
    EfficientNet and MobileNetV2/V3 add a ZeroPadding2D (`dwconv_pad`) before a `valid` one."""

    family = "mobile"
    example: ClassVar[str] = (
        "{type: mbconv, filters: 4, expansion: 3, kernel: 5, se_ratio: 0.25, dropout: 0.2, "
        "activation: swish, bn_momentum: 0.9, roles: {dwconv: dwconv2}}"
    )
    aliases: ClassVar[tuple[str, ...]] = ("inverted_residual", "fused_mbconv")
    alias_keys: ClassVar[dict[str, str]] = {"fused_mbconv": "fused: true"}
    #: keras.applications' block arguments (efficientnet.py's `block`)
    key_aliases: ClassVar[dict[str, str]] = {
        "expand_ratio": "expansion", "filters_out": "filters", "kernel_size": "kernel",
        "drop_rate": "dropout", "id_skip": "skip",
    }  # fmt: skip
    type: Literal["mbconv"] = "mbconv"
    filters: PositiveInt = Field(description="Output channels.")
    expansion: Expansion = Field(
        default=6,
        description="Expanded width = int(input channels x expansion); 1 = no expansion layers.",
    )
    expand_filters: PositiveInt | None = Field(
        default=None,
        description="The expanded width, given outright (MobileNetV3's rounded widths); "
        "overrides `expansion`, and the block then always has its expansion layers.",
    )
    kernel: PositiveInt = Field(default=3, description="Kernel of the depthwise (or fused) conv.")
    strides: PositiveInt = Field(default=1, description="Strides of the depthwise (or fused) conv.")
    se_ratio: Ratio = Field(
        default=0,
        description="Squeeze-excitation after the depthwise conv, of squeeze width "
        "max(1, int(INPUT channels x se_ratio)); 0 = none.",
    )
    se_filters: PositiveInt | None = Field(
        default=None,
        description="The squeeze width, given outright (MobileNetV3); overrides `se_ratio` and "
        "adds the squeeze-excitation whatever `se_ratio` is.",
    )
    se_activation: ActivationName | None = Field(
        default=None, description="Activation of the squeeze conv; default: `activation`."
    )
    se_gate: ActivationName = Field(
        default="sigmoid",
        description="Activation of the excitation conv, the gate (MobileNetV3: hard_sigmoid).",
    )
    activation: ActivationName = Field(default="relu6", description="Keras activation name.")
    fused: bool = Field(
        default=False,
        description="EfficientNetV2's Fused-MBConv: one full conv instead of the 1x1 expansion "
        "and the depthwise conv.",
    )
    skip: Literal["auto", "none"] = Field(
        default="auto",
        description="`auto`: add the input where strides are 1 and the channels are kept; "
        "`none`: never.",
    )
    dropout: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(
        default=0,
        description="Rate of a Dropout before the skip's Add (role `drop`), dropping whole "
        "samples (noise_shape (None, 1, 1, 1)): EfficientNet's stochastic depth; 0 = none.",
    )
    bn_epsilon: BnEpsilon = 1e-3
    bn_momentum: BnMomentum = 0.99
    roles: dict[str, RoleName] = Field(default={}, description=_ROLES_DOC)
    unsummarized = frozenset({"roles"})

    def inert(self) -> dict[str, tuple[str, str]]:
        """Beside the base's: the squeeze-excitation's keys without one, and `dropout` with
        `skip: none` (it sits before the skip's add). Not `dropout` where strides > 1 or the
        channels change: a repeated block (EfficientNet's stages) writes it for every copy,
        and the copies after the first have the skip."""
        found = super().inert()
        given = self.model_fields_set
        if self.se_ratio == 0 and self.se_filters is None:
            found |= {k: ("without a squeeze-excitation (`se_ratio` > 0 or `se_filters`)",
                          "add `se_ratio` or `se_filters`, or remove it")
                      for k in ("se_activation", "se_gate") if k in given}  # fmt: skip
        if "dropout" in given and self.dropout and self.skip == "none":
            found["dropout"] = ("with `skip: none` (the dropout is on the skip's path)",
                                "remove it, or the `skip: none`")  # fmt: skip
        return found

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: dict[str, str]) -> dict[str, str]:
        for role in roles:
            if role not in ROLES:
                raise KeyValueError(
                    f"unknown role `{role}`",
                    role,
                    hint=(did_you_mean(role, ROLES) or "the roles are: " + ", ".join(ROLES)),
                )
        emitted: dict[str, str] = {}
        for role in ROLES:
            name = roles.get(role, role)
            if name in emitted:
                raise KeyValueError(
                    f"roles `{emitted[name]}` and `{role}` would both be named `{name}`",
                    role if role in roles else emitted[name],
                    hint="give each layer its own name",
                )
            emitted[name] = role
        return roles

    def role(self, canonical: str) -> str:
        """The emitted role of a canonical role."""
        return self.roles.get(canonical, canonical)

    def _conv_bn(
        self, b: Builder, x: str, filters: int, k: int, s: int, act: str, roles: tuple[str, ...]
    ) -> str:
        """Conv (no bias) -> BN -> the activation, if not linear."""
        conv = Conv2D(filters=filters, kernel=(k, k), strides=(s, s), use_bias=False)
        x = b.add(self.role(roles[0]), conv, x)
        x = b.add(self.role(roles[1]), BatchNorm(self.bn_epsilon, self.bn_momentum), x)
        return x if act == "linear" else b.add(self.role(roles[2]), Activation(act), x)

    def expand(self, b: Builder, inputs: list[str]) -> str:
        x = inputs[0]
        (c_in,) = known(image(b.shape(x), "an mbconv block")[2:], "an mbconv block")
        k, s, act = self.kernel, self.strides, self.activation
        expanded = self.expand_filters or int(c_in * self.expansion)
        has_expand = self.expand_filters is not None or self.expansion != 1
        expand_roles = ("expand_conv", "expand_bn", "expand_activation")
        project_roles = ("project_conv", "project_bn", "project_activation")

        y = x
        if has_expand:  # pointwise, or the fused full conv
            y = self._conv_bn(b, y, expanded, k if self.fused else 1, s if self.fused else 1,
                              act, expand_roles)  # fmt: skip
        if not self.fused:
            dw = DepthwiseConv2D(kernel=(k, k), strides=(s, s), activation=act, use_bias=False)
            dw_roles = (self.role("dwconv"), self.role("bn"), self.role("activation"))
            y = depthwise_bn_act(b, y, dw_roles, dw, self.bn_epsilon, self.bn_momentum)
        if self.se_filters is not None or self.se_ratio > 0:
            width = self.se_filters or squeeze_width(c_in, self.se_ratio)
            se_roles: tuple[str, str, str, str] = (
                self.role("se_squeeze"), self.role("se_reduce"),
                self.role("se_expand"), self.role("se_excite"),
            )  # fmt: skip
            y = squeeze_excite(b, y, width, self.se_activation or act, self.se_gate, se_roles)
        if self.fused and not has_expand:  # the one full conv
            y = self._conv_bn(b, y, self.filters, k, s, act, project_roles)
        else:
            y = self._conv_bn(b, y, self.filters, 1, 1, "linear", project_roles)

        if self.skip == "none" or s != 1 or c_in != self.filters:
            return y
        if self.dropout > 0:
            y = b.add(self.role("drop"), Dropout(self.dropout, noise_shape=(None, 1, 1, 1)), y)
        return b.add(self.role("add"), Add(), y, x)
