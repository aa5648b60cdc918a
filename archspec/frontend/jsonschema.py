"""The JSON Schema of the spec format, generated from the pydantic models (for editors and CI).

The top level comes from SpecModel; each block from its model in the block registry, selected by
`type` with one `if`/`then` per built-in type (editors then report the errors of the right block
type only). A block whose `type` is not built in is a user-defined block (`define`): only its
common keys are checked. Any value may also be a `${...}` expression string (substitution is
resolved before validation), so every property and list item accepts one.

The committed schema (schema/archspec.schema.json, `make schema`) and `archspec schema` are in
draft-07, the dialect the YAML language server validates; `generate("2020-12")` gives the same
schema in draft 2020-12. The two differ only in how a tuple is written (draft-07: `items` as an
array plus `additionalItems`; 2020-12: `prefixItems` plus `items`), so both dialects give every
document the same verdict (tests/test_jsonschema.py checks it). References are all local
(`#/$defs/...`, a JSON pointer, which draft-07 resolves too); `$id` names the schema of format
version 1 and is not a location.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from archspec.blocks import REGISTRY, Block
from archspec.blocks.base import IDENTIFIER, provider
from archspec.core.units import COUNT_PATTERN
from archspec.frontend.schema import SpecModel

Dialect = Literal["draft-07", "2020-12"]
DIALECTS: dict[Dialect, str] = {
    "draft-07": "http://json-schema.org/draft-07/schema#",
    "2020-12": "https://json-schema.org/draft/2020-12/schema",
}
#: the dialect of the committed schema and of `archspec schema`: the YAML language server's
DEFAULT_DIALECT: Dialect = "draft-07"
#: a stable name, not a location: editors reference the file by path (see the README)
SCHEMA_ID = "urn:archspec:schema:1"
EXPRESSION = r"^\$\{.*\}$"
COUNT = COUNT_PATTERN
_REF = "#/$defs/{model}"

#: keys whose value is never an expression: a block's `type` selects its schema, and the top
#: level's containers (their contents may hold expressions: `expect: {params: ${...}}`)
_NO_EXPRESSION = {"type"}
_TOP_CONTAINERS = {"blocks", "define", "params", "defaults", "budget", "expect", "require"}


def _hoist(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Move a generated schema's `$defs` into the shared `defs`."""
    for name, definition in schema.pop("$defs", {}).items():
        if name in defs and defs[name] != definition:
            raise RuntimeError(f"two different JSON Schema definitions named {name!r}")
        defs[name] = definition
    return schema


def _allow_expressions(node: Any, keep: frozenset[str] = frozenset(_NO_EXPRESSION)) -> Any:
    """Every property value and list item may also be a `${...}` string, but the properties
    in `keep`."""
    if isinstance(node, list):
        return [_allow_expressions(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _allow_expressions(v) for k, v in node.items()}
    props = out.get("properties")
    if isinstance(props, dict):
        out["properties"] = {k: v if k in keep else _or_expression(v) for k, v in props.items()}
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _or_expression(out[key])
    if isinstance(out.get("prefixItems"), list):
        out["prefixItems"] = [_or_expression(item) for item in out["prefixItems"]]
    return out


def _or_expression(schema: dict[str, Any]) -> dict[str, Any]:
    if schema == {} or schema.get("$ref") in ("#/$defs/Expression", "#/$defs/Block"):
        return schema
    meta: dict[str, Any] = {
        k: schema[k] for k in ("description", "default", "title") if k in schema
    }
    body = {k: v for k, v in schema.items() if k not in meta}
    if list(body) == ["anyOf"]:  # flatten: anyOf [a, b] -> anyOf [a, b, expression]
        return {**meta, "anyOf": [*body["anyOf"], {"$ref": "#/$defs/Expression"}]}
    return {**meta, "anyOf": [body, {"$ref": "#/$defs/Expression"}]}


def block_types(plugins: bool = True) -> dict[str, type[Block]]:
    """Every block type: the registry's (with the installed plugins' unless `plugins` is
    false), then `spec` (another spec as a block, which the resolver expands: include.py)."""
    from archspec.frontend.resolve.include import KIND, SpecUse

    own = {k: v for k, v in REGISTRY.items() if plugins or provider(v) is None}
    return {**own, KIND: SpecUse}


def _type_text(types: dict[str, type[Block]]) -> str:
    """The description of a block's `type`: the built-in types, then the plugins' (if any)."""
    own = sorted(k for k, v in types.items() if provider(v) is None)
    plugins = sorted(types.keys() - set(own))
    theirs = f"; from plugins: {', '.join(plugins)}" if plugins else ""
    return f"Built-in: {', '.join(own)}{theirs}; or a type from `define`."


def block_schema(model: type[Block], defs: dict[str, Any]) -> dict[str, Any]:
    """One block type's schema (its `$defs` moved into `defs`)."""
    schema = _hoist(model.model_json_schema(ref_template=_REF), defs)
    schema["properties"]["type"] = {
        "const": model.model_fields["type"].default,
        "description": "The block type.",
    }
    schema["required"] = sorted({"type", *schema.get("required", [])})
    if not model.repeatable:  # `spec`: its validator refuses them
        for key in ("repeat", "repeat_names"):
            schema["properties"].pop(key, None)
    if model.n_inputs is None:  # add, concat: two or more named inputs
        schema["required"] = sorted({*schema["required"], "inputs"})
        schema["properties"]["inputs"] = {
            "type": "array",
            "items": {"type": "string", "pattern": IDENTIFIER},
            "minItems": 2,
            "description": "Two or more block or input names.",
        }
    return schema


def user_block_schema() -> dict[str, Any]:
    """A block of a user-defined type: common keys checked, its parameters free."""
    common = Block.model_json_schema(ref_template=_REF)
    props = {k: v for k, v in common["properties"].items() if k != "type"}
    props["type"] = {
        "type": "string",
        "anyOf": [{"pattern": IDENTIFIER}, {"pattern": EXPRESSION}],
        "description": "A type from `define`, or a `${...}` expression that gives a type "
        "(built-in types have their own schemas).",
    }
    return {
        "title": "UserBlock",
        "description": "A block of a type defined under `define` (or chosen by an expression); "
        "its parameters are those of the definition, checked by `archspec check`.",
        "type": "object",
        "properties": props,
        "required": ["type"],
        "additionalProperties": True,
    }


def _count_pattern(node: Any) -> None:
    """A count written as a string must look like `25.6M` (as core.units.parse_count reads it)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and "pattern" not in node:
            node["pattern"] = COUNT
        for value in node.values():
            _count_pattern(value)
    elif isinstance(node, list):
        for value in node:
            _count_pattern(value)


def _tuples_as_draft07(node: Any) -> Any:
    """2020-12 tuples (`prefixItems`, then `items` for the rest) written as draft-07 ones
    (`items` as an array, then `additionalItems`): draft-07 ignores `prefixItems`."""
    if isinstance(node, list):
        return [_tuples_as_draft07(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _tuples_as_draft07(v) for k, v in node.items()}
    if "prefixItems" in out:
        rest = out.pop("items", None)
        out["items"] = out.pop("prefixItems")
        if rest is not None:
            out["additionalItems"] = rest
        elif out.get("maxItems") != len(out["items"]):
            out["additionalItems"] = True
    return out


def generate(dialect: Dialect = DEFAULT_DIALECT, plugins: bool = True) -> dict[str, Any]:
    """The JSON Schema of a spec file, in draft-07 (the default) or draft 2020-12; with the
    blocks of the installed plugins unless `plugins` is false (the committed schema)."""
    if dialect not in DIALECTS:
        raise ValueError(
            f"unknown JSON Schema dialect {dialect!r}; expected one of {list(DIALECTS)}"
        )
    defs: dict[str, Any] = {}
    top = _hoist(SpecModel.model_json_schema(ref_template=_REF), defs)
    types = block_types(plugins)
    builtin = sorted(types)
    branches: list[dict[str, Any]] = []
    for kind in builtin:
        name = f"block_{kind}"
        defs[name] = block_schema(types[kind], defs)
        branches.append(
            {
                "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/{name}"},
            }
        )
    defs["UserBlock"] = user_block_schema()
    branches.append(
        {
            "if": {"properties": {"type": {"not": {"enum": builtin}}}, "required": ["type"]},
            "then": {"$ref": "#/$defs/UserBlock"},
        }
    )
    defs["Block"] = {
        "title": "Block",
        "description": "A block: a built-in type (see `archspec blocks`) or one from `define`.",
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {
                "type": "string",
                "description": _type_text(types),
                "anyOf": [{"enum": builtin}, {"pattern": IDENTIFIER}, {"pattern": EXPRESSION}],
            }
        },
        "allOf": branches,
    }
    block_list = {"type": "array", "items": {"$ref": "#/$defs/Block"}, "minItems": 1}
    top["properties"]["blocks"] = {
        **block_list,
        "description": top["properties"]["blocks"].get("description", "The blocks, in order."),
    }
    if "Define" in defs:
        defs["Define"]["properties"]["blocks"] = {
            **block_list,
            "description": defs["Define"]["properties"]["blocks"].get("description", ""),
        }
    for name, keys in (("Budget", ("max_params", "max_trainable_params", "max_macs")),
                       ("Expect", ("macs",))):  # fmt: skip
        for key in keys:
            _count_pattern(defs[name]["properties"][key])
    top["oneOf"] = [{"required": ["input"]}, {"required": ["inputs"]}]
    top = _allow_expressions(top, frozenset(_NO_EXPRESSION | _TOP_CONTAINERS))
    defs = {  # a definition's `blocks` and `params` are containers, as at the top level
        name: _allow_expressions(d, frozenset(_NO_EXPRESSION | {"blocks", "params"}))
        if name == "Define"
        else _allow_expressions(d)
        for name, d in defs.items()
    }
    defs["Expression"] = {
        "type": "string",
        "pattern": EXPRESSION,
        "description": "A `${...}` expression over `params` (and a definition's parameters).",
    }
    schema = {
        "$schema": DIALECTS[dialect],
        "$id": SCHEMA_ID,
        "title": "archspec spec (format version 1)",
        **{k: v for k, v in top.items() if k != "title"},
        "$defs": dict(sorted(defs.items())),
    }
    return _tuples_as_draft07(schema) if dialect == "draft-07" else schema


def dumps(dialect: Dialect = DEFAULT_DIALECT, plugins: bool = True) -> str:
    """The schema as JSON text (schema/archspec.schema.json holds it for the default dialect,
    without plugins: `make schema`)."""
    import json

    return json.dumps(copy.deepcopy(generate(dialect, plugins)), indent=2) + "\n"


# -- `archspec blocks`: the same information, for people -------------------------------------


def type_str(schema: dict[str, Any]) -> str:
    """A short rendering of a property's JSON Schema: `int > 0`, `int or [int, int]`, ..."""
    if "anyOf" in schema:
        parts = [type_str(s) for s in schema["anyOf"] if s.get("type") != "null"]
        return " or ".join(dict.fromkeys(parts))
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        values = [str(v) for v in schema["enum"]]
        return "|".join(values) if len(values) <= 6 else f"one of {len(values)} names"
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = schema.get("type")
    if kind == "integer" or kind == "number":
        text = "int" if kind == "integer" else "float"
        bounds = []
        for key, op in (("exclusiveMinimum", ">"), ("minimum", ">="), ("exclusiveMaximum", "<"),
                        ("maximum", "<=")):  # fmt: skip
            if key in schema:
                bounds.append(f"{op} {schema[key]}")
        return f"{text} {' '.join(bounds)}".strip()
    if kind == "array":
        item = type_str(schema.get("items", {})) if schema.get("items") else "any"
        n = schema.get("minItems")
        if n is not None and n == schema.get("maxItems"):
            return "[" + ", ".join([item] * n) + "]"
        return f"list of {item}"
    if kind == "boolean":
        return "bool"
    if kind == "string":
        return "name" if schema.get("pattern") == IDENTIFIER else "string"
    if kind == "object":
        return "mapping"
    return "any"


def block_rows(kind: str, names: bool = False) -> list[tuple[str, str, str, str]]:
    """(parameter, type, default or `required`, description) for one block type's own
    parameters (the common keys type, name, inputs, repeat and repeat_names are left out);
    `names`: a description lists the names a key of many names takes."""
    model = block_types()[kind]
    schema = model.model_json_schema(ref_template=_REF)
    required = set(schema.get("required", []))
    common = set(Block.model_fields)
    rows = []
    for name, prop in schema["properties"].items():
        if name in common and not (name == "inputs" and model.n_inputs is None):
            continue
        if name in required or (name == "inputs" and model.n_inputs is None):
            default = "required"
        elif "default" not in prop and name in model.model_fields:  # a default_factory
            default = _yaml_value(model.model_fields[name].get_default(call_default_factory=True))
        else:
            default = _yaml_value(prop.get("default"))
        description = prop.get("description", "")
        choices = _enum(prop)
        if names and len(choices) > 6:  # type_str says "one of 29 names": here they are
            description += " One of: " + ", ".join(choices) + "."
        rows.append((name, type_str(prop), default, description))
    return rows


def _enum(schema: dict[str, Any]) -> list[str]:
    """The names an enum property (or an anyOf branch of one) takes."""
    if "enum" in schema:
        return [str(v) for v in schema["enum"]]
    return [v for s in schema.get("anyOf", []) for v in _enum(s)]


def _yaml_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
