"""What every block shares: the common keys, the field types, and the registry.

A block type is one pydantic model (its parameters, with descriptions that feed the JSON Schema
and `archspec blocks`) whose `expand` composes IR ops through a Builder. Registering it makes it
known to the schema, the compiler, the CLI and the test suite, which loops over the registry.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from archspec.core.errors import HintedValueError, KeyPath, did_you_mean, format_path
from archspec.ir.graph import Builder

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
Identifier = Annotated[str, Field(pattern=IDENTIFIER, max_length=128)]
#: a block or input name, or `<spec block>.<exposed block>` (an output of a `spec` block)
Reference = Annotated[
    str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$", max_length=257)
]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
IntPair = Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]
Size = PositiveInt | IntPair
Padding = Literal["same", "valid"]

#: Keras's built-in activation names that keep the shape (tests run each through Keras).
#: `glu` is left out: it halves the last axis.
ACTIVATIONS = (
    "celu", "elu", "exponential", "gelu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "sparse_plus", "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink",
)  # fmt: skip
ActivationName = Literal[ACTIVATIONS]  # type: ignore[valid-type]
#: what papers and other libraries call some of them (MobileNetV3's h-swish), for the hint
ACTIVATION_SPELLINGS = {
    "h_swish": "hard_swish", "hswish": "hard_swish", "h_sigmoid": "hard_sigmoid",
    "hsigmoid": "hard_sigmoid", "lrelu": "leaky_relu", "identity": "linear", "none": "linear",
}  # fmt: skip

#: Keras's built-in initializer names (tests check each against keras.initializers.get).
INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
    "lecun_uniform", "orthogonal", "random_normal", "random_uniform", "truncated_normal",
    "variance_scaling", "zeros", "ones",
)  # fmt: skip
InitializerName = Literal[INITIALIZERS]  # type: ignore[valid-type]

BnEpsilon = Annotated[
    float, Field(gt=0, lt=1, allow_inf_nan=False, description="BatchNormalization epsilon.")
]
BnMomentum = Annotated[
    float,
    Field(ge=0, le=1, allow_inf_nan=False, description="Momentum of BN's moving statistics."),
]


#: `repeat_names`' two words, as templates
REPEAT_WORDS = {"number": "{name}_{k}", "letters": "{name}{letter}"}
#: a template's counters: the copy's index from 1, from 0, or as letters (a, b, ... z, aa, ...)
REPEAT_COUNTERS = ("k", "i", "letter")


def repeat_template(value: str) -> str:
    """The template of a `repeat_names` value (`number` -> `{name}_{k}`); ValueError where the
    value is neither word nor a template with `{name}` and exactly one counter that makes
    identifiers."""
    template = REPEAT_WORDS.get(value, value)
    fields = re.findall(r"\{([^{}]*)\}", template)
    for f in fields:
        if f != "name" and f not in REPEAT_COUNTERS:
            raise ValueError(
                f"unknown placeholder `{{{f}}}` in `{value}`; a template's placeholders are "
                "`{name}`, `{k}` (the copy's index from 1), `{i}` (from 0) and `{letter}`"
            )
    counters = [f for f in fields if f != "name"]
    if fields.count("name") != 1 or len(counters) != 1:
        hint = did_you_mean(value, REPEAT_WORDS)  # `letter`: a word, misspelt
        counter = value.strip("{}")
        if hint is None and counter in REPEAT_COUNTERS:  # `k`: a counter without the template
            hint = f'a counter goes in a template with `{{name}}`: `"{{name}}_{{{counter}}}"`'
        raise HintedValueError(
            f"`{value}` is not `number`, `letters` or a template with `{{name}}` once and "
            "exactly one of `{k}` (from 1), `{i}` (from 0) or `{letter}`: e.g. `{name}{k}`, "
            "`{name}_{i}`",
            hint,
        )
    counter = "a" if counters[0] == "letter" else "1"
    sample = template.replace("{name}", "block").replace(f"{{{counters[0]}}}", counter)
    if not re.fullmatch(IDENTIFIER, sample):
        raise ValueError(
            f"`{value}` makes names such as `{sample}` (for `name: block`), which are not "
            "identifiers (letters, digits and _, not starting with a digit)"
        )
    return template


def pair(value: int | list[int]) -> tuple[int, int]:
    """3 -> (3, 3); [3, 1] -> (3, 1)."""
    return (value, value) if isinstance(value, int) else (value[0], value[1])


class Block(BaseModel):
    """The keys every block has; subclasses add their parameters and `expand`."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)

    #: Keras layers this block needs as inputs: 1, or None for "two or more" (add, concat)
    n_inputs: ClassVar[int | None] = 1
    #: the family, for diagrams and `archspec blocks`
    family: ClassVar[str] = "layer"
    #: a small YAML flow mapping of this block, which the tests build (and compare with Keras);
    #: every block type defines one
    example: ClassVar[str]
    #: keys left out of `summary` (how layers are named, not what they compute: mbconv's roles)
    unsummarized: ClassVar[frozenset[str]] = frozenset()
    #: whether `repeat` and `repeat_names` apply (not to `spec`, which is included once)
    repeatable: ClassVar[bool] = True
    #: other names a user may write for this type (Keras's layer class, as `Conv2D`, or the
    #: module's name in papers): an unknown type that is one of them is hinted as this type
    aliases: ClassVar[tuple[str, ...]] = ()
    #: the keys an alias stands for beside the type (`fused_mbconv`: `fused: true`), for its hint
    alias_keys: ClassVar[dict[str, str]] = {}
    #: other names of keys (Keras's argument names: mbconv's `expand_ratio`), for the same hint
    key_aliases: ClassVar[dict[str, str]] = {}

    type: str = Field(description="The block type.")
    name: Identifier | None = Field(
        default=None,
        description="Unique block name; default `<type>_<k>`. Layers are named `<name>_<role>`.",
    )
    inputs: Reference | list[Reference] | None = Field(
        default=None,
        description="Block or input name(s) this block reads; default: the previous block. "
        "`<spec block>.<block>` reads an output a `spec` block exposes.",
    )
    repeat: Annotated[int, Field(ge=0)] = Field(
        default=1,
        description="Apply the block this many times in sequence; 0 leaves it out (its `name` "
        "then means its input).",
    )
    repeat_names: Annotated[str, Field(max_length=128)] = Field(
        default="number",
        description="How the copies of a named repeated block are named: `number`: `<name>_1`, "
        "`<name>_2`, ... (a single copy keeps `<name>`); `letters`: `<name>a`, `<name>b`, ... "
        "(even a single copy); or a template with `{name}` and exactly one of `{k}` (from 1), "
        "`{i}` (from 0) or `{letter}`, applied to every copy: `{name}{k}` gives `block1`, "
        "`block2`, ...; `{name}_{i}` gives `block_0`, `block_1`, .... In `${...}` of a block's "
        "other keys, `copy` is the copy's index from 0.",
    )

    trainable: bool = Field(
        default=True,
        description="false freezes the block's layers (Keras's `layer.trainable = False`), "
        "every layer within it for a user-defined block or a `spec` block (a backbone frozen "
        "to fine-tune a new head): their parameters count as non-trainable, and a batch norm "
        "among them runs in inference mode.",
    )

    @field_validator("repeat_names")
    @classmethod
    def _repeat_names(cls, value: str) -> str:
        repeat_template(value)
        return value

    def expand(self, b: Builder, inputs: list[str]) -> str:
        """Add this block's layers to the graph; return the name of the output tensor."""
        raise NotImplementedError

    def inert(self) -> dict[str, tuple[str, str]]:
        """The keys given that change nothing (warning W302), each with what it lacks and the
        hint: the `bn_*` keys of a block whose `batch_norm` is false. A type adds its own."""
        if getattr(self, "batch_norm", True) is not False:
            return {}
        why = ("without `batch_norm: true`", "add `batch_norm: true`, or remove it")
        return {k: why for k in sorted(self.model_fields_set) if k.startswith("bn_")}

    def summary(self) -> str:
        """The key parameters, for summaries and diagrams (not the keys that change nothing:
        `inert`)."""
        skip = set(Block.model_fields) - {"trainable"} | self.unsummarized | self.inert().keys()
        return ", ".join(
            f"{k}={_fmt(v)}"
            for k, v in self.model_dump(exclude_defaults=True).items()
            if k not in skip
        )

    @classmethod
    def default_text(cls, key: str) -> str | None:
        """The default of `key` as `summary` writes values (what a key left out of a summary
        is), or None where the key has no default."""
        f = cls.model_fields.get(key)
        if f is None or f.is_required():
            return None
        value = f.get_default(call_default_factory=True)
        return "null" if value is None else _fmt(value)  # the spec's word (strides: null)


def _fmt(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ",".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{_fmt(x)}" for k, x in v.items()) + "}"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):  # 0.15000000000000002 (from an expression) reads 0.15
        return f"{v:.6g}"
    return str(v)


class MultiInput(Block):
    """A block that merges two or more inputs (add, concat)."""

    n_inputs: ClassVar[int | None] = None

    @model_validator(mode="after")
    def _needs_inputs(self) -> MultiInput:
        if not isinstance(self.inputs, list) or len(self.inputs) < 2:
            raise ValueError(f"`{self.type}` needs `inputs`: a list of two or more block names")
        return self


#: type name -> block model. Filled by `register` in the block modules.
REGISTRY: dict[str, type[Block]] = {}

#: archspec's own modules (the built-in block types'; `spec`'s model is the resolver's): a
#: block type of any other module is a plugin's
BUILTIN = "archspec."

#: block type -> the entry point (name, distribution) of the plugin that registered it; filled
#: as the plugins load (blocks/__init__.py)
PLUGINS: dict[str, tuple[str, str | None]] = {}


def provider(cls: type[Block]) -> str | None:
    """Who provides a block type, as messages name it: None for archspec's own; else
    `plugin `dropout` (module `archspec_dropout`, distribution `archspec-dropout`)`, or
    `plugin module `x`` for one registered without an entry point (a script's `@register`)."""
    module = cls.__module__
    if module.startswith(BUILTIN):
        return None
    entry = PLUGINS.get(cls.model_fields["type"].default)
    if entry is None:
        return f"plugin module `{module}`"
    name, dist = entry
    return f"plugin `{name}` (module `{module}`" + (f", distribution `{dist}`)" if dist else ")")


def plugin_block(path: KeyPath, name: str | None, kind: str, who: str) -> str:
    """How E901 names a plugin's block: `blocks[1]: block `x` (type `t`, from plugin ...)`."""
    return f"{format_path(path)}: block `{name}` (type `{kind}`, from {who})"


B = TypeVar("B", bound=type[Block])


def register(cls: B) -> B:
    """Class decorator: make a block type known by the default of its `type` field."""
    default = cls.model_fields["type"].default  # type: ignore[call-overload]
    if not isinstance(default, str):
        raise TypeError(f"{cls.__name__} needs `type: Literal[...] = ...`")
    if default in REGISTRY:
        owner = provider(REGISTRY[default])
        raise TypeError(
            f"block type `{default}` of `{cls.__module__}.{cls.__qualname__}` clashes with "
            + ("a built-in block type" if owner is None else f"the block type of {owner}")
            + "; choose another type name"
        )
    REGISTRY[default] = cls
    return cls
