"""The `${...}` expression language: a whitelist walk over Python's `ast`, never `eval`.

Allowed: numbers, names bound in the environment (params, and a user-defined block's params),
`+ - * / // % **`, unary `-` and `+`, parentheses, indexing (`stages[2]`, and `table[depth]` or
`table['a']` on a mapping param), and the functions `min`, `max`, `round`, `int`. Everything
else is refused: attribute access, other calls, comprehensions, lambdas, strings, comparisons.
Arithmetic takes numbers only (no list repetition), and results are bounded, so `10**10**10` is
refused at once.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from archspec.core.errors import describe

MAX_SOURCE = 500
MAX_INT_BITS = 128
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


def _round(x: Any, n: Any = None) -> Any:
    return round(x) if n is None else round(x, n)


_FUNCS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "round": _round, "int": int}


def evaluate(source: str, env: Mapping[str, Any]) -> Any:
    """Evaluate the text inside `${...}` with names from `env`. Raises ExprError."""
    if len(source) > MAX_SOURCE:
        raise ExprError(f"expression longer than {MAX_SOURCE} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as e:
        raise ExprError(f"invalid expression: {e.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError("invalid expression: too deeply nested") from None
    try:
        return _Eval(env).visit(tree.body)
    except RecursionError:
        raise ExprError("expression too deeply nested") from None


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
        if node.id.startswith("__"):
            raise ExprError(f"`{node.id}` is not allowed in an expression")
        if node.id not in self.env:
            from archspec.core.errors import did_you_mean

            raise ExprError(f"`{node.id}` is not defined", code="E502",
                            hint=did_you_mean(node.id, self.env) or _known(self.env))  # fmt: skip
        return self.env[node.id]

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
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
                shown = "null" if index is None else name
                raise ExprError(f"key {shown} is not in the mapping; its keys: "
                                + ", ".join(map(str, container)))  # fmt: skip
            return container[name]
        raise ExprError(f"only lists and mappings can be indexed, found {describe(container)}")

    def visit_Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS:
            raise ExprError(
                f"`{_describe(node.func)}(...)` is not allowed; "
                "the functions are min, max, round and int"
            )
        if node.keywords:
            raise ExprError("keyword arguments are not allowed")
        args = [self.visit(a) for a in node.args]
        name = node.func.id
        if name in ("min", "max") and len(args) == 1 and isinstance(args[0], list):
            args = list(args[0])
        if not args or not all(_number(a) for a in args):
            raise ExprError(f"{name}() takes numbers")
        if name in ("round", "int") and len(args) > (2 if name == "round" else 1):
            raise ExprError(
                f"{name}() takes {'one or two arguments' if name == 'round' else 'one argument'}"
            )
        try:
            return _check_result(_FUNCS[name](*args))
        except (OverflowError, ValueError, TypeError) as e:
            raise ExprError(f"{name}(): {e}") from None


def _check_power(base: Any, exp: Any) -> None:
    if abs(exp) > 1024:
        raise ExprError(f"exponent {exp} is too large")
    if abs(base) > 1 and exp > 0 and exp * math.log2(abs(base)) > MAX_INT_BITS:
        raise ExprError("result too large")


def _known(env: Mapping[str, Any]) -> str:
    return ("defined names: " + ", ".join(env)) if env else "the spec has no `params`"


def _describe(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # unparse can fail on odd trees; the message still names the kind
        return type(node).__name__
