"""Pydantic's validation errors as positioned diagnostics (the schema stage's messages): each
error placed at its node in the spec, in the spec's words ("expected an integer or a list of
exactly 2 items, received [3]"), with a hint where one helps; a union's errors are those of the
arm the value was meant for."""

from __future__ import annotations

import functools
import re
import types
from collections import Counter
from decimal import Decimal
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from archspec.blocks.base import ACTIVATION_SPELLINGS
from archspec.core.errors import (
    Diagnostic,
    HintedValueError,
    KeyPath,
    KeyValueError,
    describe,
    did_you_mean,
    format_path,
)
from archspec.core.units import count_precision, half, parse_count, shape_str
from archspec.frontend import foreign
from archspec.frontend.loader import Document, plain_kind

_EXPECTED = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "finite_number": "a finite number",
    "string_pattern_mismatch": "an identifier (letters, digits and _, not starting with a digit)",
}


def _data_path(loc: tuple[Any, ...], data: Any
               ) -> tuple[KeyPath, str | None, tuple[KeyPath, str] | None]:  # fmt: skip
    """Follow pydantic's loc through the data: union-branch tags are skipped. Returns the path
    that exists in the data, the last key if it does not (a missing key), and where a union
    was tried with the arm the error is from: the value's path and the arm's tag in loc
    (`list[constrained-int]`), for a value that is not a mapping (where a name in loc may be a
    missing key), else None."""
    path: list[str | int] = []
    node = data
    missing: str | None = None
    arm: tuple[KeyPath, str] | None = None
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif isinstance(part, str) and not isinstance(node, dict):
            arm = arm or (tuple(path), part)
        elif (
            isinstance(node, dict)
            and isinstance(part, str)
            and missing is None
            and part.isidentifier()
        ):
            missing = part
    return tuple(path), missing, arm


def _likeliest_arms(located: list[Any]) -> list[Any]:
    """Of a union's arms, the errors of the one the value was most likely meant for: the arm
    that got deepest into the value, then the one with the fewest errors (ties keep all, and
    are read "expected a or b"). `padding: [1, -1]` was also "padding[0]: expected a list",
    from the arm of two pairs."""
    arms: dict[KeyPath, dict[str, list[int]]] = {}
    for k, (_e, _path, _missing, found) in enumerate(located):
        if found is not None:
            arms.setdefault(found[0], {}).setdefault(found[1], []).append(k)
    drop: set[int] = set()
    for by_arm in arms.values():
        if len(by_arm) < 2:
            continue
        rank = {tag: (-max(len(located[k][1]) for k in ks), len(ks)) for tag, ks in by_arm.items()}
        best = min(rank.values())
        drop.update(k for tag, ks in by_arm.items() if rank[tag] != best for k in ks)
    return [x for k, x in enumerate(located) if k not in drop]


def _value_at(data: Any, path: KeyPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _inner(tp: Any, part: str | int) -> Any:
    """The type at `part` inside the type `tp` (a model's field, a mapping's value, a list's
    item), or None."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType, Annotated):
        args = get_args(tp)[:1] if origin is Annotated else get_args(tp)
        return next((t for t in (_inner(a, part) for a in args) if t is not None), None)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        f = tp.model_fields.get(str(part))
        return None if f is None else f.annotation
    if origin is dict:
        return get_args(tp)[1]
    return get_args(tp)[0] if origin is list and isinstance(part, int) else None


def _exact_length(model: Any, parts: KeyPath) -> int | None:
    """n where the value at `parts` inside `model` may be a list of exactly n items (a pair),
    else None."""
    here = [model]  # the types the value at `parts` may have: every arm of every union
    for part in parts:
        here = [t for tp in _arms(here) if (t := _inner(tp, part)) is not None]
    for tp in _arms(here):
        if get_origin(tp) is Annotated:
            bounds = {type(m).__name__: m for f in tp.__metadata__
                      for m in (getattr(f, "metadata", None) or [f])}  # fmt: skip
            lo, hi = bounds.get("MinLen"), bounds.get("MaxLen")
            if lo is not None and hi is not None and lo.min_length == hi.max_length:
                return int(lo.min_length)
    return None


def _arms(tps: list[Any]) -> list[Any]:
    """The types, with each union replaced by its arms (bounded: a type is a few levels deep)."""
    out: list[Any] = []
    todo = list(tps)
    while todo and len(out) < 64:
        tp = todo.pop(0)
        if get_origin(tp) in (Union, types.UnionType):
            todo.extend(get_args(tp))
        else:
            out.append(tp)
    return out


def _model_at(tp: Any, parts: KeyPath) -> type[BaseModel] | None:
    """The model that validates the mapping at `parts` inside the type `tp`, if one does."""
    for part in parts:
        tp = _inner(tp, part)
    if get_origin(tp) in (Union, types.UnionType, Annotated):
        return next(filter(None, (_model_at(a, ()) for a in get_args(tp))), None)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def translate(
    err: ValidationError,
    data: Any,
    doc: Document,
    base: KeyPath,
    what: str,
    fields: list[str],
    model: type[BaseModel] | None = None,
) -> list[Diagnostic]:
    """Diagnostics for a pydantic ValidationError on `data`, which stands at `base` in `doc`.

    `what` names the thing validated ("a vgg block"); `fields` are its keys, for hints; `model`
    (what validated `data`) gives the keys of a mapping inside it (`budget`, a definition)."""
    by_path: dict[KeyPath, list[Any]] = {}
    out: list[Diagnostic] = []
    errors = err.errors(include_url=False)
    located = [(e, *_data_path(e["loc"], data)) for e in errors]  # (e, path, missing, arm)
    # a union (`float | list of floats`) reports each branch: where one branch got as far as
    # an item of the value, the others' "expected a number" for the whole list is noise
    inner = {path[:n] for _, path, _, _ in located for n in range(len(path))}
    located = [(e, path, m, a) for e, path, m, a in located
               if not (e["type"] in _EXPECTED and path in inner)]  # fmt: skip
    located = _likeliest_arms(located)
    # an unknown key's hint, computed once per key (did_you_mean bounds the work), over the
    # keys of the mapping it stands in
    inside = {
        path[:-1]: _model_at(model, path[:-1]) if model is not None and len(path) > 1 else None
        for e, path, _, _ in located
        if e["type"] == "extra_forbidden"
    }
    keys = {at: list(m.model_fields) if m else fields for at, m in inside.items()}
    hints = {
        path: (other_name(model, str(path[0])) if len(path) == 1 else None)
        or _flops_hint(base + path, _value_at(data, path))
        or did_you_mean(str(path[-1]), keys[path[:-1]])
        for e, path, _, _ in located
        if e["type"] == "extra_forbidden"
    }
    # one unknown key where one required key is missing, with a value that key takes, is that
    # key under another name (`{type: spec, spec: x.yaml}`), however unlike it is spelt
    needed: dict[KeyPath, list[str]] = {}
    for e, path, missing, _ in located:
        if e["type"] == "missing" and missing is not None:
            needed.setdefault(path, []).append(missing)
    unknown = Counter(p[:-1] for p in hints)
    for path, hint in list(hints.items()):
        at = path[:-1]
        if hint is None and unknown[at] == 1 and len(needed.get(at, ())) == 1:
            owner = model if not at else inside.get(at)
            if _takes(owner, needed[at][0], _value_at(data, path)):
                hints[path] = f"did you mean `{needed[at][0]}`?"
    # a misspelled key is reported once, as unknown with its hint, not also as a missing one
    misspelled = {(path[:-1], hint) for path, hint in hints.items()}
    allowed = "allowed keys: " + ", ".join(fields)
    for e, path, missing, _ in located:
        kind = e["type"]
        if kind == "missing" and (path, f"did you mean `{missing}`?") in misspelled:
            continue
        if kind == "extra_forbidden":
            key, at = path[-1], path[:-1]
            place = f"`{format_path(base + at)}`" if inside[at] else what
            out.append(
                doc.diag(
                    "E201",
                    f"{format_path(base + path)}: unknown key `{key}` in {place}",
                    base + path,
                    hint=hints[path]
                    or ("allowed keys: " + ", ".join(keys[at]) if inside[at] else allowed),
                    key=True,
                )
            )
        elif e["loc"][-1:] == ("[key]",):  # a mapping's key (`params: {2x: 3}`), not its value
            key = str(path[-1])
            shown = key if len(key) <= 40 else key[:40] + "..."
            what = f"{format_path((*base, *path[:-1], shown))}: the key `{shown}`"
            if kind == "string_too_long":
                what += f" has {len(key):,} characters, more than {e['ctx']['max_length']}"
            else:
                what += f" is not {_EXPECTED.get(kind) or e['msg']}"
            out.append(doc.diag("E202", what, base + path, key=True,
                                hint=_text_hint(key, {kind})))  # fmt: skip
        elif kind == "value_error" and isinstance(e["ctx"].get("error"), KeyValueError):
            at = (*base, *path, e["ctx"]["error"].key)
            out.append(doc.diag("E204", f"{format_path(at)}: {e['ctx']['error']}", at,
                                hint=e["ctx"]["error"].hint, key=True))  # fmt: skip
        elif kind == "missing":
            out.append(
                doc.diag(
                    "E203",
                    f"{format_path(base + path) or 'top level'}: {what} needs `{missing}`",
                    base + path,
                    hint=f"add `{missing}: ...`",
                )
            )
        else:
            by_path.setdefault(path, []).append(e)
    for path, errs in by_path.items():
        received = describe(_value_at(data, path))
        expected: list[str] = []
        code = "E202"
        for e in errs:
            kind, ctx = e["type"], e.get("ctx", {})
            if kind in _EXPECTED:
                text = _EXPECTED[kind]
            elif kind == "literal_error":
                text = "one of " + ctx.get("expected", "")
                code = "E204"
            elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
                op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
                      "less_than_equal": "<="}[kind]  # fmt: skip
                bound = next(iter(ctx.values()))
                text = f"a value {op} {bound}"
                code = "E204"
                if f"a value {op} {_other_spelling(bound)}" in expected:  # `int | float`: 1, 1.0
                    continue
            elif kind in ("too_short", "too_long"):
                lo = ctx.get("min_length")
                text = f"a list of {lo if kind == 'too_short' else ctx.get('max_length')}"
                text += " or more items" if kind == "too_short" else " items at most"
                exact = _exact_length(model, path)
                if exact is not None:  # a pair: `kernel: [3]` needs 2, not "2 or more"
                    text = f"a list of exactly {exact} items"
                code = "E204"
            elif kind in ("string_too_short", "string_too_long"):
                short = kind == "string_too_short"
                n = ctx.get("min_length" if short else "max_length")
                text = (
                    "a non-empty string"
                    if short and n == 1
                    else f"a string of {'at least' if short else 'at most'} {n} characters"
                )
                code = "E204"
            elif kind == "value_error":
                text = str(ctx.get("error", e["msg"]))
                code = "E204"
            else:
                text = e["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
            if text not in expected:
                expected.append(text)
        where = format_path(base + path) or "top level"  # as E203 names it
        hint = None
        value = _value_at(data, path)
        if isinstance(value, float) and any(t.startswith("a value ") for t in expected):
            # `int | float` (mbconv's expansion): 0.5 is a number out of range, not "an
            # integer or a value >= 1" (which an integer 0 is not either)
            expected = [t for t in expected if t != _EXPECTED["int_type"]]
        if isinstance(value, str) and any(e["type"] == "literal_error" for e in errs):
            options = re.findall(r"'([^']*)'", errs[0].get("ctx", {}).get("expected", ""))
            other = ACTIVATION_SPELLINGS.get(value.lower().replace("-", "_"))
            hint = f"did you mean `{other}`?" if other in options else did_you_mean(value, options)
        if isinstance(value, str):
            hint = _text_hint(value, {e["type"] for e in errs}) or hint
        numeric = {e["type"] for e in errs} & {"int_type", "float_type"}
        if isinstance(value, str) and numeric:
            source = written_at(doc.written, base + path)
            quoted = base + path in doc.quoted or source != value  # else: unknown, perhaps
            hint = number_hint(value, quoted)
        if isinstance(value, float) and "int_type" in numeric:
            hint = _integer_hint(value, written_at(doc.written, base + path))
        if isinstance(value, bool) and any(e["type"] in ("int_type", "float_type") for e in errs):
            source = written_at(doc.written, base + path)
            hint = ("the expression gives true or false (a comparison, `and`, `or`, `not`, or a "
                    "param YAML read as a boolean)" if isinstance(source, str) and "${" in source
                    else "YAML reads yes/no/on/off/true/false as booleans")  # fmt: skip
        if isinstance(value, str) and value.strip().lower() in ("true", "false") and \
                any(e["type"] == "bool_type" for e in errs) and \
                written_at(doc.written, base + path) == value:  # (not from a param) # fmt: skip
            hint = f"write it without quotes: `{path[-1]}: {value.strip().lower()}`"
        if path == ("padding",) and type(value) in (int, list) and _takes(model, "padding", "same"):
            # PyTorch's `padding=1` (not `zero_pad`'s, which takes numbers)
            hint = foreign.PADDING
        if isinstance(value, str) and foreign.TUPLE_START.fullmatch(value):
            hint = foreign.TUPLE  # `kernel: (3, 3)` read as `(3` and a key `3)`
        if base + path == ("inputs",) and isinstance(value, list):
            hint = _inputs_hint(value)
        if path[-1:] == ("outputs",) and isinstance(value, str) and re.fullmatch(r"[\w.]+", value):
            hint = f"write a list: `outputs: [{value}]`"  # (`inputs` takes one name alone)
        if isinstance(value, str) and any(e["type"] != "value_error" for e in errs):
            hint = expression_hint(value) or hint  # `$(planes)`: "expected an integer" alone
        if isinstance(value, str) and value.strip().lower() == "none":  # Python's spelling
            if (base + path)[:1] in (("input",), ("inputs",)):
                hint = NULL_SIZE
            elif path[-1:] == ("activation",):
                hint = "YAML reads `None` as text: for no activation, write `linear`"
            else:
                hint = ("YAML reads `None` as text (YAML's is `null`); a key left out takes its "
                        "default, where it has one")  # fmt: skip
        if (base + path)[:1] == ("expect",) and isinstance(value, str):
            hint = _expect_hint(base + path, value, data, path) or hint
        found = errs[0].get("ctx", {}).get("error")  # a validator's own hint comes first
        if isinstance(found, HintedValueError) and found.hint:
            hint = found.hint
        if code == "E204" and len(errs) == 1 and errs[0]["type"] == "value_error":
            message = f"{where}: {expected[0]}"
        else:
            message = f"{where}: expected {' or '.join(expected)}, received {received}"
        out.append(doc.diag(code, message, base + path, hint=hint))
    return out


def _flops_hint(where: KeyPath, value: Any) -> str | None:
    """The hint for a FLOPs key in `budget` or `expect` (`max_flops: 600M`, which
    did_you_mean took for `max_params`): archspec counts MACs, half the FLOPs."""
    key = str(where[-1]).lower()
    if len(where) != 2 or where[0] not in ("budget", "expect") or "flop" not in key:
        return None
    target = "max_macs" if where[0] == "budget" else "macs"
    hint = f"archspec counts MACs, and FLOPs = 2 x MACs: write `{target}`"
    try:
        parse_count(value)
    except (ValueError, TypeError):
        return hint
    if key in ("flops", "max_flops"):
        return f"{hint}; {value} FLOPs is `{target}: {half(value)}`"
    return hint


def _other_spelling(bound: Any) -> Any:
    """A whole bound as the other arm of `int | float` writes it: 1 -> 1.0, 1.0 -> 1."""
    if isinstance(bound, float) and bound.is_integer():
        return int(bound)
    return float(bound) if isinstance(bound, int) else bound


def other_name(model: Any, key: str) -> str | None:
    """The hint for a block's key written under another name of it (its type's `key_aliases`:
    mbconv's `expand_ratio`, Keras's name, is `expansion`; PyTorch's `out_channels` is a conv's
    `filters`), or for another tool's key archspec has not (`in_channels`, `ceil_mode`), or
    None."""
    name = getattr(model, "key_aliases", {}).get(key)
    if name:
        return f"did you mean `{name}`?"
    return foreign.key_hint(key, getattr(model, "model_fields", ()))


def _takes(model: type[BaseModel] | None, key: str, value: Any) -> bool:
    """Whether `model`'s field `key` validates `value` (False where either is unknown)."""
    adapter = _adapter(model, key) if model is not None else None
    if adapter is None:
        return False
    try:
        adapter.validate_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


@functools.cache
def _adapter(model: type[BaseModel], key: str) -> TypeAdapter[Any] | None:
    """A validator of `model`'s field `key` alone, made once (a spec may have many blocks)."""
    field = model.model_fields.get(key)
    return None if field is None else TypeAdapter(field.rebuild_annotation())


NULL_SIZE = "an unknown size is `null`; YAML reads `None` as text"


def _expect_hint(where: KeyPath, value: str, data: Any, path: KeyPath) -> str | None:
    """The hint for text in `expect`: a shape written with its batch dimension as `None`
    (`output_shape: [None, 1000]`), and a rounded count where an exact one is compared
    (`params: 11.7M`)."""
    if where[1:2] == ("output_shape",) and value.strip().lower() == "none":
        if where[-1] != 0:  # not where a batch dimension would stand
            return NULL_SIZE
        written = _value_at(data, path[:-1])
        rest = written[1:] if isinstance(written, list) else []
        dims = ", ".join("null" if d is None or str(d).strip().lower() == "none" else str(d)
                         for d in rest)  # fmt: skip
        key = where[-2] if len(where) > 3 else "output_shape"
        return (f"if the first is the batch dimension, leave it out: `{key}: [{dims}]`; "
                f"{NULL_SIZE}")  # fmt: skip
    if where[1:] in (("params",), ("trainable_params",)) and count_precision(value):
        return (f"`expect.{where[1]}` is compared exactly: write the whole count, as `check` "
                f"prints it; a rounded figure such as `{value.strip()}` is for "
                f"`budget.max_{where[1]}` (and `expect.macs`, compared at the precision "
                "written)")  # fmt: skip
    return None


def _inputs_hint(value: list[Any]) -> str:
    """The hint for `inputs` given as a list: one shape (`input` was meant), several shapes
    (each needs a name), or `- name: shape` items (one mapping was meant); shown as written
    where short."""

    def shape(v: Any) -> str | None:
        ok = isinstance(v, list) and 0 < len(v) <= 4 and all(type(d) is int or d is None for d in v)
        return shape_str(v, "spec") if ok else None

    if value and all(isinstance(v, dict) for v in value):  # `- image: [32, 32, 3]`
        pairs = [(k, shape(v)) for item in value[:3] for k, v in item.items()]
        short = all(s and isinstance(k, str) and len(k) <= 40 for k, s in pairs)
        shown = ", ".join(f"{k}: {s}" for k, s in pairs[:3]) if short else ""
        return ("write the inputs as one mapping, without `- `: "
                f"`inputs: {{{shown or 'image: [H, W, C]'}}}`")  # fmt: skip
    if value and all(isinstance(v, list) for v in value):  # a list of shapes
        if len(value) == 1:
            value = value[0]
        else:
            more = ", ..." if len(value) > 3 else ""
            named = ", ".join(
                f"{n}: {shape(v) or '[H, W, C]'}" for n, v in zip("abc", value, strict=False)
            )
            return f"name each input: `inputs: {{{named}{more}}}`"
    one = shape(value) or "[H, W, C]"
    return (f"for one input, write `input: {one}`; several inputs are named: "
            f"`inputs: {{image: {one}}}`")  # fmt: skip


def written_at(data: Any, path: KeyPath) -> Any:
    """The value at `path` in the document as written (before substitution and defaults), or
    None where it has none."""
    for part in path:
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not in_list and not (isinstance(data, dict) and part in data):
            return None
        data = data[part]
    return data


def _text_hint(text: str, kinds: set[str]) -> str | None:
    """The hint for text where a name or a shape was meant: `my-model` -> `my_model`,
    `32x32x3` -> `[32, 32, 3]`."""
    if "string_pattern_mismatch" in kinds and "." not in text and text.isascii():  # `bb.x-1`
        fixed = re.sub(r"\W+", "_", text.strip(), flags=re.ASCII).strip("_")
        if re.fullmatch(r"[A-Za-z_]\w*", fixed, flags=re.ASCII) and len(fixed) <= 128:
            return f"write `{fixed}`"
    if "list_type" in kinds and re.fullmatch(r"\s*\d+(\s*[x×*,]\s*\d+)+\s*", text):
        dims = ", ".join(re.findall(r"\d+", text))
        return f"write a list: `[{dims}]`"
    return None


#: text that looks like an expression in another tool's syntax (`$(x)`, `{x}`, `{{x}}`, `$x`,
#: `$ {x}`, `#{x}`): its inside
_MISTYPED = re.compile(
    r"\s*(?:\$\((?P<paren>[^(){}$]*(?:\([^(){}$]*\)[^(){}$]*)*)\)"
    r"|\{\{(?P<double>[^{}$]+)\}\}|[$#]?\s*\{(?P<brace>[^{}$]+)\}|\$(?P<bare>[A-Za-z_]\w*))\s*"
)


def expression_hint(text: str) -> str | None:
    """The hint for text that looks like a mistyped `${...}` (`$(planes)`, `{planes}`,
    `$planes`): how an expression is written."""
    found = _MISTYPED.fullmatch(text) if len(text) <= 200 else None
    inside = next((g.strip() for g in found.groups() if g is not None), "") if found else ""
    if not inside:
        return None
    return f'an expression is written "${{{inside}}}", as the whole value'


def number_hint(text: str, quoted: bool) -> str | None:
    """Why a string that was meant as a number is a string: quotes (only where it was quoted,
    or its source is not known), or a spelling YAML 1.1 reads as text (`50%`, `0o10`, `1e-5`)."""
    if plain_kind(text) is not None:  # a number without its quotes
        return "write numbers without quotes" if quoted else None
    written = text.strip()
    unquote = " (without quotes)" if quoted else ""
    if len(written) > 40:
        return None
    if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)%", written):
        return f"a percentage is not a number: write {float(written[:-1]) / 100:g}{unquote}"
    if re.fullmatch(r"[-+]?0[oO][0-7]+", written):
        sign = "-" if written.startswith("-") else ""
        return (f"`{written}` is YAML 1.2's octal, which the loader (YAML 1.1 rules) reads as "
                f"text: write {sign}{int(written.lstrip('+-')[2:], 8)}{unquote}")  # fmt: skip
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", written):
        return f"write {written.replace(',', '')} (no thousands separators){unquote}"
    exponent = re.fullmatch(r"([-+]?(?:\d+\.?\d*|\.\d+))[eE]([-+]?)(\d+)", written)
    if exponent:
        mantissa, sign, digits = exponent.groups()
        whole = ""  # `1e3` where an integer is wanted: `1.0e+3` is a float, refused there too
        value = Decimal(written) if len(digits) <= 2 and "." not in mantissa else None
        if value is not None and abs(value) < 10**18 and value == value.to_integral_value():
            whole = f", or `{int(value)}` where an integer is wanted"
        mantissa += "" if "." in mantissa else ".0"
        return (f"YAML reads `{written}` as text; write `{mantissa}e{sign or '+'}{digits}`"
                f"{unquote}{whole}")  # fmt: skip
    return None


def _integer_hint(value: float, source: Any) -> str | None:
    """Why a number is not an integer: `10.0` as written, or an expression's float result."""
    if isinstance(source, str) and "${" in source:
        whole = re.fullmatch(r"\$\{(.*)\}", source.strip(), re.DOTALL)
        if whole and "${" not in whole.group(1):
            return f'wrap the expression in int(...): "${{int({whole.group(1).strip()})}}"'
        return "wrap the expression in int(...)"
    if not value.is_integer():
        return None
    if isinstance(source, float):
        return f"write {int(value)} (an integer)"
    return f"write {int(value)} (an integer), or wrap an expression in int(...)"
