"""Stage 2, the schema: strict, closed pydantic models of the spec (pydantic's errors become
positioned diagnostics in translate.py).

The top level is validated here; each block is validated against its own model from the block
registry (dispatching on `type` ourselves gives a precise "unknown block type" with a hint).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from archspec.blocks import REGISTRY, Block, unknown_type_notes
from archspec.blocks.base import Identifier, MultiInput, PositiveInt, Reference
from archspec.core.errors import (
    Diagnostic,
    KeyPath,
    KeyValueError,
    SpecError,
    a_block,
    closest,
    describe,
    first_of,
    format_path,
    reset_hint_budget,
)
from archspec.core.units import Shape, channels_first, parse_count, shape_str
from archspec.frontend import foreign
from archspec.frontend.loader import Document
from archspec.frontend.translate import translate


def _known_channels(shape: list[int | None]) -> list[int | None]:
    if None in shape and (len(shape) != 3 or shape[2] is None):
        raise ValueError(
            "only the height and width of an image input [H, W, C] can be null (unknown until "
            "run time); the channels and a vector's features must be given"
        )
    return shape


_DIM = {"type": "integer", "exclusiveMinimum": 0}
InputShape = Annotated[
    list[PositiveInt | None],
    Field(min_length=1, max_length=3),
    AfterValidator(_known_channels),
    WithJsonSchema({
        "description": "[H, W, C] for images (H and W may be null: any size), or [F].",
        "anyOf": [
            {"type": "array", "items": _DIM, "minItems": 1, "maxItems": 3},
            {"type": "array", "minItems": 3, "maxItems": 3,
             "prefixItems": [{"anyOf": [_DIM, {"type": "null"}]}] * 2 + [_DIM]},
        ],
    }),
]  # fmt: skip


def _valid_count(value: int | str) -> int | str:
    parse_count(value)
    return value


def _positive_count(value: int | str) -> int | str:
    if parse_count(value) <= 0:
        raise ValueError("a budget is a positive count")
    return value


_COUNT_DOC = "An int, or a string with a K/M/G suffix: `25.6M`."
Count = Annotated[int | str, AfterValidator(_valid_count), Field(description=_COUNT_DOC)]
PositiveCount = Annotated[int | str, AfterValidator(_positive_count), Field(description=_COUNT_DOC)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Budget(_Strict):
    """CI limits checked by `archspec check`."""

    max_params: PositiveCount | None = Field(default=None, description="Most total parameters.")
    max_trainable_params: PositiveCount | None = Field(default=None, description="Most trainable.")
    max_macs: PositiveCount | None = Field(default=None, description="Most multiply-accumulates.")


class Expect(_Strict):
    """Exact figures checked by `archspec check`."""

    params: int | None = Field(default=None, description="Total parameters (as Keras counts).")
    trainable_params: int | None = Field(default=None, description="Trainable parameters.")
    macs: Count | None = Field(default=None, description="Multiply-accumulates.")
    output_shape: list[int | None] | dict[str, list[int | None]] | None = Field(
        default=None,
        description="Output shape without batch (null for an unknown size), or output name -> "
        "shape.",
    )


class Requirement(_Strict):
    """A condition on the params that must hold for the spec to be built (E506 where not)."""

    that: bool = Field(description="The condition, `${...}` over the params: true where the spec "
                       "can be built as written.")  # fmt: skip
    message: Annotated[str, Field(min_length=1)] = Field(
        description="What the error says where the condition is false: why, and what to do."
    )


class Define(_Strict):
    """A user-defined composite block."""

    params: dict[Identifier, Any] = Field(
        default_factory=dict, description="Parameter names and defaults; null means required."
    )
    blocks: Annotated[list[dict[str, Any]], Field(min_length=1)] = Field(
        description="The blocks of the definition, as in the top-level `blocks`."
    )
    description: str | None = Field(default=None, description="Free text.")


ONE_INPUT = "give exactly one of `input` (one shape) and `inputs` (named shapes)"
BOTH_INPUTS = f"`input` is given too: {ONE_INPUT}"


#: the top-level keys that do not make the network: what reads a param there does not change
#: the layers (an `expect` figure, a `require` condition, the name)
NOT_THE_NETWORK = frozenset({"name", "description", "params", "budget", "expect", "require"})


class SpecModel(_Strict):
    """The top level of a spec file (blocks are validated one by one against the registry)."""

    #: other tools' names of top-level keys (Keras's `input_shape`), for the unknown key's hint
    key_aliases: ClassVar[dict[str, str]] = {"input_shape": "input", "layers": "blocks"}

    archspec: Literal[1] = Field(default=1, description="Format version; only 1 exists.")
    name: Identifier = Field(description="Model name; becomes the Keras model name.")
    description: str | None = Field(default=None, description="Free text.")
    input: InputShape | None = Field(
        default=None, description="One input shape without batch: [H, W, C] or [F]."
    )
    inputs: dict[Identifier, InputShape] | None = Field(
        default=None, description="Several named inputs: {image: [224, 224, 3], meta: [10]}."
    )
    params: dict[Identifier, Any] = Field(
        default_factory=dict, description="Named values for ${...} substitution."
    )
    defaults: dict[Identifier, dict[Identifier, Any]] = Field(
        default_factory=dict, description="Per block type, parameter values used where unset."
    )
    define: dict[Identifier, Define] = Field(
        default_factory=dict, description="User-defined composite blocks."
    )
    blocks: Annotated[list[dict[str, Any]], Field(min_length=1)] = Field(
        description="The blocks, in order."
    )
    outputs: Annotated[list[Reference], Field(min_length=1)] | None = Field(
        default=None,
        description="Block names whose outputs are the model's (`<spec block>.<block>` for an "
        "output a `spec` block exposes); default: the last block.",
    )
    budget: Budget | None = Field(default=None, description="CI limits.")
    expect: Expect | None = Field(default=None, description="Exact expected figures.")
    require: list[Requirement] = Field(
        default_factory=list,
        description="Conditions on the params, each with the error it gives where false.",
    )

    @model_validator(mode="after")
    def _one_input_key(self) -> SpecModel:
        if self.input is not None and self.inputs is not None:  # at `inputs`
            raise KeyValueError(BOTH_INPUTS, "inputs")
        if self.input is None and self.inputs is None:
            raise ValueError(ONE_INPUT)
        return self

    @property
    def input_shapes(self) -> dict[str, Shape]:
        if self.input is not None:
            return {"input": tuple(self.input)}
        return {k: tuple(v) for k, v in (self.inputs or {}).items()}


def validate_spec(doc: Document) -> SpecModel:
    """Validate the top level (blocks stay raw mappings here). Each document validated gets its
    own did-you-mean budget (errors.did_you_mean)."""
    reset_hint_budget()
    data = doc.data
    version = data.get("archspec", 1)
    if type(version) is not int:
        raise SpecError(
            doc.diag(
                "E202",
                "archspec: expected the format version as an integer, "
                f"received {describe(version)}",
                ("archspec",),
                hint="write `archspec: 1`",
            )
        )
    if version != 1:
        raise SpecError(
            doc.diag(
                "E206",
                f"unsupported format version `archspec: {version}`; this archspec reads version 1",
                ("archspec",),
                hint="upgrade archspec, or write `archspec: 1`",
            )
        )
    keys = [str(k) for k in data]
    if keys and not any(k in SpecModel.model_fields or closest(k, SpecModel.model_fields)
                        for k in keys):  # fmt: skip
        # another tool's YAML (a training config) in a folder searched: one error, not four
        shown = first_of([f"`{k}`" for k in keys], 3)
        raise SpecError(doc.diag(
            "E106", f"a spec is a YAML mapping with `name`, `input` and `blocks`; this file has "
            f"none of a spec's keys ({shown})", (), hint="if it is another tool's YAML that "
            "`archspec check` found in a folder, leave it out with --exclude PATTERN"))  # fmt: skip
    try:
        return SpecModel.model_validate(data)
    except ValidationError as e:
        diags = translate(e, data, doc, (), "the spec", list(SpecModel.model_fields), SpecModel)
        # pydantic runs the model's own check only when every field is valid: the input rule is
        # reported with the fields' errors here, so that one run shows all of the top level's
        absent = data.get("input") is None, data.get("inputs") is None
        if absent == (True, True) and all(d.message != f"top level: {ONE_INPUT}" for d in diags):
            diags.append(doc.diag("E204", f"top level: {ONE_INPUT}", ()))
        if absent == (False, False) and all(d.path != ("inputs",) for d in diags):
            diags.append(doc.diag("E204", f"inputs: {BOTH_INPUTS}", ("inputs",), key=True))
        diags = [_batch_hint(d, data) for d in diags]
        raise SpecError(sorted(diags, key=lambda d: (d.line or 0, d.col or 0))) from None


def _batch_hint(d: Diagnostic, data: dict[str, Any]) -> Diagnostic:
    """An input of four sizes whose first is 1 or null (`[1, 224, 224, 3]`, as a batch of one
    is written elsewhere) is told that the batch size is left out."""
    value: Any = data
    for k in d.path:
        value = value.get(k) if isinstance(value, dict) else None
    top = d.path[:1] == ("input",) or (d.path[:1] == ("inputs",) and len(d.path) == 2)
    if not top or not isinstance(value, list) or len(value) != 4 or value[0] not in (1, None):
        return d
    dims = value[1:]
    also = ""
    if channels_first(dims):  # [1, 3, 224, 224], PyTorch's NCHW: channels last too
        dims, also = [*dims[1:], dims[0]], ", and images are channels last"
    return dataclasses.replace(d, hint=f"the batch size is left out{also}: "
                               f"{shape_str(dims, 'spec')}")  # fmt: skip


def type_hint(kind: str, types: Iterable[str] = REGISTRY) -> str | None:
    """The hint for an unknown block type: the nearest of `types` or of their other names
    (Keras's `LayerNormalization` and `layer_normalisation` are `layer_norm`, not
    `normalization`), or what stands for another tool's layer archspec has not
    (`AdaptiveAvgPool2d`); None where none is near."""
    if (foreign_hint := foreign.type_hint(kind)) is not None:
        return foreign_hint
    names = {a: k for k in types if k in REGISTRY for a in REGISTRY[k].aliases}
    names |= {k: k for k in types}
    near = closest(kind, names)
    if near is None:
        return None
    keys = REGISTRY[names[near]].alias_keys.get(near) if names[near] in REGISTRY else None
    return f"did you mean `{names[near]}`" + (f" with `{keys}`?" if keys else "?")


def _near_type(key: str) -> bool:
    """Whether `key` is `type` misspelled (`typ`, `tpye`, `Type`; not `style`)."""
    import difflib

    return bool(difflib.get_close_matches(key.casefold(), ["type"], n=1, cutoff=0.75))


def validate_block(raw: Any, doc: Document, path: KeyPath, names: dict[str, str] | None = None
                   ) -> Block | list[Diagnostic]:  # fmt: skip
    """Validate one block mapping against its type's model. Returns the model or diagnostics.
    `names`: the names the block can read, in order (for the hint of a merge without
    `inputs`)."""
    if not isinstance(raw, dict):
        return [doc.diag("E202", f"{format_path(path)}: expected a mapping with `type`, "
                         f"received {describe(raw)}", path)]  # fmt: skip
    kind = raw.get("type")
    if kind is None:
        for key, value in raw.items():  # `typ: conv`: the misspelled key, not a missing `type`
            if isinstance(key, str) and isinstance(value, str) and _near_type(key):
                at = (*path, key)
                return [doc.diag("E201", f"{format_path(at)}: unknown key `{key}` in a block",
                                 at, hint="did you mean `type`?", key=True)]  # fmt: skip
        return [doc.diag("E203", f"{format_path(path)}: a block needs `type`", path,
                         hint="built-in types: " + ", ".join(REGISTRY))]  # fmt: skip
    if not isinstance(kind, str) or kind not in REGISTRY:
        shown = (
            f"`{kind}`"
            if isinstance(kind, str) and re.fullmatch(r"[\w.-]+", kind)
            else describe(kind)
        )
        hint = (
            type_hint(str(kind))
            or "see `archspec blocks` for the types; nothing in a spec names Python code"
        )
        at = (*path, "type")
        d = doc.diag("E205", f"{format_path(path)}.type: unknown block type {shown}", at, hint)
        return [dataclasses.replace(d, related=unknown_type_notes())]
    model = REGISTRY[kind]
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        diags = translate(e, raw, doc, path, a_block(kind), list(model.model_fields), model)
        inputs = raw.get("inputs")
        if issubclass(model, MultiInput) and not (isinstance(inputs, list) and len(inputs) > 1):
            hint = merge_hint(kind, names or {})  # a wrong number of inputs: E303, at
            at = (*path, "inputs")  # `inputs` where it is given (`inputs: []`, as a conv's)

            def e303(d: Diagnostic) -> Diagnostic:
                if "inputs" not in raw:
                    return dataclasses.replace(d, code="E303", hint=hint)
                text = format_path(at) + d.message.removeprefix(format_path(path))
                return doc.diag("E303", text, at, hint=hint)

            diags = [e303(d) if d.path == path and d.code == "E204" else d for d in diags]
        return diags


def merge_hint(kind: str, names: dict[str, str]) -> str:
    """The hint of a merge block (`add`, `concat`) without `inputs`: the names it could read,
    the nearest first."""
    near = list(itertools.islice(reversed(names), 6))
    if len(near) < 2:
        before = f"only `{near[0]}` comes" if near else "nothing comes"
        return f"{before} before it: add blocks, then list two or more of them in `inputs`"
    shown = ", ".join(near[:5]) + (", ..." if len(near) > 5 else "")
    return (f"name two or more earlier blocks, e.g. `inputs: [{near[1]}, {near[0]}]`; it can "
            f"read (nearest first): {shown}")  # fmt: skip
