"""The `${...}` expression language: a whitelist walk over Python's `ast`, never `eval`.

Allowed: numbers, names bound in the environment (params, and a user-defined block's params),
`+ - * / // % **`, unary `-` and `+`, parentheses, indexing (`stages[2]`, and `table[depth]` or
`table['a']` on a mapping param), comparisons `< <= == != > >=` (chained as in Python),
`and`, `or`, `not`, the conditional `a if cond else b`, and the functions `min`, `max`, `round`,
`int`, `ceil`, `floor`, `abs` and `len` (of a list or mapping param). Everything else is
refused: attribute access, other calls, comprehensions, lambdas, strings (but a quoted mapping
key), `in`, `is`.

The whole tree is checked before anything is evaluated, so a refused construct or an undefined
name is an error even in a branch that is not taken. Evaluation then follows Python: `and`, `or`
and the conditional evaluate lazily and give one of their operands (`a or b` is `a` if `a` is
true, else `b`); comparisons give booleans; `ceil`, `floor` and `int` give integers. Text that
reads as a boolean (`"false"`, `"yes"`) or is empty is no condition (`not`, `if`, an operand of
`and` or `or` but the last): Python takes `"false"`, a quoted boolean, as true.

Bounds: arithmetic takes numbers only (no list repetition); integers are at most MAX_INT_BITS
bits and floats finite, so `10**10**10` is refused at once; exponents at most 1024; `round`'s
digits at most MAX_ROUND_DIGITS; `ceil`, `floor` and `int` refuse non-finite and too large
floats before converting; `==` and `!=` compare scalars only; the source is at most MAX_SOURCE
characters and too deep nesting is refused.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from archspec.core.errors import describe, did_you_mean
from archspec.core.units import expression_suffix_hint

MAX_SOURCE = 500
MAX_INT_BITS = 128
#: `round(x, n)`: |n| at most this (an int of MAX_INT_BITS has 39 digits, a float 309)
MAX_ROUND_DIGITS = 400
#: `${ ... }` filling a whole string
PATTERN = re.compile(r"^\$\{(.*)\}$", re.DOTALL)


class ExprError(Exception):
    """An expression is malformed or refers to something undefined.

    `code` is E501 (malformed, refused) or E502 (undefined name); `hint` may suggest a name."""

    def __init__(self, message: str, code: str = "E501", hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.hint = hint


_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}

_CMPOPS: dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}

_UNARY = (ast.USub, ast.UAdd, ast.Not)

#: the functions, and how many arguments each takes (None: one or more, or one list)
_ARITY: dict[str, tuple[int, int] | None] = {
    "min": None,
    "max": None,
    "round": (1, 2),
    "int": (1, 1),
    "ceil": (1, 1),
    "floor": (1, 1),
    "abs": (1, 1),
    "len": (1, 1),
    "make_divisible": (2, 3),
}
_COUNTS = {(1, 1): "one argument", (1, 2): "one or two arguments", (2, 3): "two or three arguments"}
_FUNC_NAMES = "min, max, round, int, ceil, floor, abs, len and make_divisible"

#: node kinds checked by their parent (operators, contexts) or allowed as they are
_PASSIVE = (ast.expr_context, ast.operator, ast.cmpop, ast.boolop, ast.unaryop, ast.IfExp)

#: the values `and`, `or`, `not` and `if` take the truth of (Python's truth)
_SCALARS = (bool, int, float, str, type(None))


def evaluate(source: str, env: Mapping[str, Any]) -> Any:
    """Evaluate the text inside `${...}` with names from `env`. Raises ExprError."""
    if len(source) > MAX_SOURCE:
        raise ExprError(f"expression longer than {MAX_SOURCE} characters")
    tree, lookups, refused, _ = _parsed(source)
    for name in lookups:  # in the order of the walk, up to the first refused construct
        _lookup(name, env)
    if refused is not None:
        raise ExprError(*refused)
    try:
        return _Eval(env).visit(tree)
    except RecursionError:
        raise ExprError("expression too deeply nested") from None


def source_of(value: Any) -> str | None:
    """The expression a `${...}` value holds, as written; None for any other value."""
    m = PATTERN.match(value) if isinstance(value, str) else None
    return m.group(1) if m else None


def holds(value: Any, reading: frozenset[str] | set[str] | None = None) -> bool:
    """Whether `value` (a string, or lists and mappings holding strings) has a `${...}`: any, or
    with `reading`, one that reads one of those names."""
    if isinstance(value, str):
        source = source_of(value)
        return source is not None and (reading is None or bool(names(source) & reading))
    if isinstance(value, list):
        return any(holds(v, reading) for v in value)
    if isinstance(value, dict):
        return any(holds(v, reading) for v in value.values())
    return False


def reach(params: Mapping[str, Any], names: set[str] | frozenset[str]) -> set[str]:
    """`names` and the params (`params` as written, in order: one reads only those before it)
    computed from them, directly or through others, in any `${...}` of their values."""
    found = set(names)
    for name, value in params.items():
        if holds(value, found):
            found.add(name)
    return found


def names(source: str) -> frozenset[str]:
    """The names an expression reads (not the functions it calls); empty if it does not parse
    (`evaluate` then says why)."""
    if len(source) > MAX_SOURCE:
        return frozenset()
    try:
        return _parsed(source)[3]
    except ExprError:
        return frozenset()


@functools.lru_cache(maxsize=4096)
def _parsed(source: str) -> tuple[ast.expr, tuple[str, ...], tuple[str, str, str | None] | None,
                                  frozenset[str]]:  # fmt: skip
    """What evaluating `source` needs that does not depend on the names' values, worked out once
    per text (a family spec evaluates the same few expressions for every block): its tree, the
    names the whitelist walk looks up before the first refused construct, that construct's
    error (message, code and hint; None if there is none), and every name it reads. Raises
    ExprError where it does not parse; the tree is never changed by evaluation."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as e:
        raise ExprError(f"invalid expression: {e.msg}",
                        hint=expression_suffix_hint(source)) from None  # fmt: skip
    except (RecursionError, MemoryError, ValueError):
        raise ExprError("invalid expression: too deeply nested") from None
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    read = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                     and id(n) not in called)  # fmt: skip
    lookups: list[str] = []
    try:
        _check_tree(tree.body, lookups)
    except ExprError as e:
        return tree.body, tuple(lookups), (str(e), e.code, e.hint), read
    return tree.body, tuple(lookups), None, read


def _check_tree(root: ast.expr, lookups: list[str]) -> None:
    """Refuse anything outside the whitelist anywhere in the tree (also in branches that
    evaluation will not take), and list the names to look up (`evaluate` refuses undefined
    ones) in the order of the walk. Iterative: no recursion on deep trees."""
    keys: set[int] = set()  # quoted mapping keys: the only strings allowed
    functions: set[int] = set()  # the names of called functions (not looked up in env)
    compared: dict[int, str | None] = {}  # a string compared: the name it is compared with
    for node in ast.walk(root):  # (breadth first: a comparison before its operands)
        if isinstance(node, _PASSIVE):
            continue
        if isinstance(node, ast.Constant):
            if not (_number(node.value) or id(node) in keys):
                text = node.value if isinstance(node.value, str) else None
                if text is None:  # Python's None, True, False: the hint; 1j: none
                    hint = (
                        NO_LITERAL if node.value is None or isinstance(node.value, bool) else None
                    )
                elif id(node) in compared:
                    hint = _string_hint(text, compared[id(node)])
                else:
                    hint = _KEY_HINT
                raise ExprError(f"only numbers are allowed as literals, found {node.value!r}",
                                hint=hint)  # fmt: skip
        elif isinstance(node, ast.Name):
            if id(node) not in functions:
                lookups.append(node.id)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise ExprError(f"operator `{_describe(node)}` is not allowed in an expression")
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, _UNARY):
                raise ExprError(f"operator `{_describe(node)}` is not allowed in an expression")
        elif isinstance(node, ast.Compare):
            if not all(type(op) in _CMPOPS for op in node.ops):
                raise ExprError(
                    f"`{_describe(node)}` is not allowed; the comparisons are < <= == != > >="
                )
            operands = [node.left, *node.comparators]
            for k, x in enumerate(operands):
                if isinstance(x, ast.Constant) and isinstance(x.value, str):
                    near = [o.id for o in operands[max(k - 1, 0) : k + 2]
                            if isinstance(o, ast.Name)]  # fmt: skip
                    compared[id(x)] = near[0] if near else None
        elif isinstance(node, ast.BoolOp):
            pass
        elif isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                keys.add(id(node.slice))
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _ARITY:
                raise ExprError(
                    f"`{_describe(node.func)}(...)` is not allowed; the functions are {_FUNC_NAMES}"
                )
            if node.keywords:
                raise ExprError("keyword arguments are not allowed")
            functions.add(id(node.func))
        else:
            raise ExprError(f"`{_describe(node)}` is not allowed in an expression")


#: the hint for YAML's or Python's true, false and null in an expression, which has none
NO_LITERAL = (
    "an expression has no true, false or null: a comparison gives a boolean (`${depth > 50}`), "
    "and a null is a param's value (`params: {none: null}`, then `${x if c else none}`)"
)


def _lookup(name: str, env: Mapping[str, Any]) -> Any:
    if name.startswith("__"):
        raise ExprError(f"`{name}` is not allowed in an expression")
    if name not in env:
        from archspec.core.errors import did_you_mean

        hint = NO_LITERAL if name.lower() in ("true", "false", "null", "none") else None
        raise ExprError(f"`{name}` is not defined", code="E502",
                        hint=hint or did_you_mean(name, env) or _known(env))  # fmt: skip
    return env[name]


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_result(x: Any) -> Any:
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > MAX_INT_BITS:
        raise ExprError("result too large")
    if isinstance(x, complex):
        raise ExprError("result is not a real number")
    if isinstance(x, float) and not math.isfinite(x):
        raise ExprError("result is not a finite number")
    return x


def _truth(x: Any, what: str) -> bool:
    """Python's truth of `x` (numbers, booleans, null, lists, mappings, text: `${act or
    fallback}` with `act: swish`). Not of text that reads as a boolean (`"false"`, a quoted
    boolean or a `--set` of one, would be true) or of empty text."""
    if isinstance(x, str) and (not x.strip() or x.strip().lower() in BOOLEAN_WORDS):
        raise ExprError(f"{what} takes a boolean, found {describe(x)}: text is no boolean "
                        "(even 'false' would be true)", hint=text_truth(x))  # fmt: skip
    if not isinstance(x, (*_SCALARS, list, dict)):
        raise ExprError(f"{what} takes numbers or booleans, found {describe(x)}")
    return bool(x)


#: the words YAML reads as booleans where they are not quoted (in any case)
BOOLEAN_WORDS = frozenset(("true", "false", "yes", "no", "on", "off"))


def text_truth(text: str, written: str = "") -> str:
    """The hint for the text `text` used as a condition; `written`: how the value was given
    (`` `flag: `` or `` `--set flag= ``), shown before the word."""
    word = text.strip().lower()
    if word in BOOLEAN_WORDS:
        shown = f"{written}{word}`" if written else word
        return f"write {shown} without quotes for a boolean (quoted, it is text)"
    return "for no value write null (a param `none: null`), not empty text"


def _to_int(name: str, x: Any, convert: Callable[[float], int]) -> int:
    """`convert(x)` (int, ceil or floor) of a number, refusing non-finite and too large floats
    before converting."""
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ExprError(f"{name}() of {x}: not a finite number")
        if abs(x) >= 2.0**MAX_INT_BITS:
            raise ExprError(f"{name}() of {x}: result too large")
    result: int = _check_result(convert(x))
    return result


def _round(x: Any, n: Any = None) -> Any:
    if n is None:
        return _to_int("round", x, round)
    if not isinstance(n, int):
        raise ExprError(f"round(): the number of digits is an integer, found {describe(n)}")
    if abs(n) > MAX_ROUND_DIGITS:
        raise ExprError(f"round(): {n} digits is out of range (at most {MAX_ROUND_DIGITS})")
    return round(x, n)


def _make_divisible(v: Any, divisor: Any, min_value: Any = None) -> Any:
    """Keras's (and torchvision's) `_make_divisible` of MobileNetV2/V3, which is EfficientNet's
    `round_filters` after the width multiplier: `v` rounded to the nearest multiple of
    `divisor`, at least `min_value` (default `divisor`), and one `divisor` more where that
    rounds down by more than 10%."""
    if not isinstance(divisor, int) or isinstance(divisor, bool) or divisor < 1:
        raise ExprError(
            f"make_divisible(): the divisor is a positive integer, found {describe(divisor)}"
        )
    if min_value is None:
        min_value = divisor
    rounded = _to_int("make_divisible", v + divisor / 2, int) // divisor * divisor
    new_v = max(min_value, rounded)
    return new_v + divisor if new_v < 0.9 * v else new_v


_FUNCS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "round": _round,
    "int": lambda x: _to_int("int", x, int),
    "ceil": lambda x: _to_int("ceil", x, math.ceil),
    "floor": lambda x: _to_int("floor", x, math.floor),
    "abs": abs,
    "len": len,
    "make_divisible": _make_divisible,
}


class _Eval:
    def __init__(self, env: Mapping[str, Any]) -> None:
        self.env = env

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise ExprError(f"`{_describe(node)}` is not allowed in an expression")
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> Any:
        if not _number(node.value):
            raise ExprError(f"only numbers are allowed as literals, found {node.value!r}")
        return _check_result(node.value)

    def visit_Name(self, node: ast.Name) -> Any:
        return _lookup(node.id, self.env)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not _truth(value, "`not`")
        if not _number(value):
            raise ExprError(f"unary operators take numbers, found {describe(value)}")
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
        raise ExprError(f"`{_describe(node)}` is not allowed in an expression")

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise ExprError(f"operator `{_describe(node)}` is not allowed in an expression")
        left, right = self.visit(node.left), self.visit(node.right)
        if not (_number(left) and _number(right)):
            raise ExprError(
                f"arithmetic takes numbers, found {describe(left)} and {describe(right)}"
            )
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        try:
            return _check_result(op(left, right))
        except ZeroDivisionError:
            raise ExprError("division by zero") from None
        except (OverflowError, ValueError) as e:
            raise ExprError(f"arithmetic error: {e}") from None

    def visit_Compare(self, node: ast.Compare) -> bool:
        # chained as in Python: `a < b < c` is `a < b and b < c`, b evaluated once, lazily
        left = self.visit(node.left)
        for op_node, right_node in zip(node.ops, node.comparators, strict=True):
            if type(op_node) not in _CMPOPS:
                raise ExprError(f"`{_describe(node)}` is not allowed in an expression")
            symbol, op = _CMPOPS[type(op_node)]
            right = self.visit(right_node)
            if symbol in ("==", "!="):
                if not (isinstance(left, _SCALARS) and isinstance(right, _SCALARS)):
                    raise ExprError(f"`{symbol}` compares numbers, booleans or strings, "
                                    f"found {describe(left)} and {describe(right)}")  # fmt: skip
            elif not (_number(left) and _number(right)):
                raise ExprError(
                    f"`{symbol}` compares numbers, found {describe(left)} and {describe(right)}"
                )
            if not op(left, right):
                return False
            left = right
        return True

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        # as Python: lazy, and the result is the operand that decided
        is_and = isinstance(node.op, ast.And)
        what = "`and`" if is_and else "`or`"
        for operand in node.values[:-1]:
            value = self.visit(operand)
            if _truth(value, what) != is_and:
                return value
        return self.visit(node.values[-1])  # (its truth is not taken: `${m or 8}`)

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        test = _truth(self.visit(node.test), "the condition of `if`")
        return self.visit(node.body if test else node.orelse)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        container = self.visit(node.value)
        # a quoted key is allowed as an index only: table['a']
        key = node.slice
        quoted = isinstance(key, ast.Constant) and isinstance(key.value, str)
        index: Any = key.value if quoted else self.visit(key)  # type: ignore[attr-defined]
        if isinstance(container, list):
            if not isinstance(index, int) or isinstance(index, bool):
                raise ExprError(f"list indexes are integers, found {index!r}")
            if not -len(container) <= index < len(container):
                raise ExprError(f"index {index} is out of range for a list of {len(container)}")
            return container[index]
        if isinstance(container, dict):
            name = str(index)
            if name not in container:
                shown = "null" if index is None else describe(index)  # 5e1: a string
                raise ExprError(f"key {shown} is not in the mapping; its keys: "
                                + ", ".join(map(str, container)),
                                hint=None if re.fullmatch(r"[-+]?[\d.]+", name)  # 19: not 152
                                else did_you_mean(name, map(str, container)))  # fmt: skip
            return container[name]
        raise ExprError(f"only lists and mappings can be indexed, found {describe(container)}")

    def visit_Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS:
            raise ExprError(
                f"`{_describe(node.func)}(...)` is not allowed; the functions are {_FUNC_NAMES}"
            )
        if node.keywords:
            raise ExprError("keyword arguments are not allowed")
        args = [self.visit(a) for a in node.args]
        name = node.func.id
        if name == "len":  # of a list or mapping (`len(depths)`: a stage count from its list)
            if len(args) != 1 or not isinstance(args[0], list | dict):
                raise ExprError("len() takes one list or mapping (a param written as one)")
            return len(args[0])
        arity = _ARITY[name]
        if arity is None:  # min, max: two or more numbers, or one list of them
            listed = len(args) == 1 and isinstance(args[0], list)
            args = list(args[0]) if listed else args
            if not args or not all(_number(a) for a in args) or len(args) < 2 - listed:
                raise ExprError(f"{name}() takes two or more numbers, or one list of numbers")
        if not args or not all(_number(a) for a in args):
            raise ExprError(f"{name}() takes numbers")
        if arity is not None and not arity[0] <= len(args) <= arity[1]:
            raise ExprError(f"{name}() takes {_COUNTS[arity]}")
        try:  # min, max of one number (a list of one): that number
            return _check_result(_FUNCS[name](*args) if len(args) > 1 or arity else args[0])
        except (OverflowError, ValueError, TypeError) as e:
            raise ExprError(f"{name}(): {e}") from None


def _check_power(base: Any, exp: Any) -> None:
    if abs(exp) > 1024:
        raise ExprError(f"exponent {exp} is too large")
    if abs(base) > 1 and exp > 0 and exp * math.log2(abs(base)) > MAX_INT_BITS:
        raise ExprError("result too large")


#: the hint for a string in an expression (not a mapping key)
_KEY_HINT = "a string is allowed only as a quoted mapping key: `table['a']`"


def _string_hint(text: str, name: str | None) -> str:
    """The hint for the string `text` compared with the param `name` (`mode == 'nearest'`):
    a table param indexed by the value does what the comparison was for."""
    text = text if re.fullmatch(r"[A-Za-z_][\w.-]*", text) else repr(text)  # as a YAML key
    if name is None:
        return ("strings are not compared: give a table param keyed by the value "
                f"(`table: {{{text}: ..., ...}}`) and read `${{table[value]}}`")  # fmt: skip
    return (f"strings are not compared: give a table param keyed by `{name}`'s values "
            f"(`by_{name}: {{{text}: ..., ...}}`) and read `${{by_{name}[{name}]}}`")  # fmt: skip


def _known(env: Mapping[str, Any]) -> str:
    names = [k for k in env if k.isidentifier()]  # not a placeholder such as `<in_shape>`
    if names:
        return "defined names: " + ", ".join(names)
    return "no name is defined here: a param can read the params before it, a block all of them"


def _describe(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # unparse can fail on odd trees; the message still names the kind
        return type(node).__name__
