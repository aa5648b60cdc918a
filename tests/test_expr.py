"""The `${...}` evaluator: what it computes, what it refuses, and that nothing but its own
error escapes (Hypothesis drives it with arbitrary text and expression trees)."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archspec.frontend.expr import ExprError, evaluate

ENV = {"width": 64, "ratio": 0.5, "stages": [3, 4, 6, 3], "table": {"18": 2, "a": 7}, "flag": True}


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("width * 2", 128),
        ("width / 2", 32.0),
        ("width // 3", 21),
        ("width % 5", 4),
        ("2 ** 10", 1024),
        ("-(width - 70)", 6),
        ("stages[2]", 6),
        ("stages[-1] + 1", 4),
        ("stages", [3, 4, 6, 3]),
        ("table[18]", 2),
        ("table['a']", 7),
        ("flag", True),
        ("int(width * ratio)", 32),
        ("round(2.5 * 3)", 8),
        ("round(1.2345, 2)", 1.23),
        ("min(width, 32, 100)", 32),
        ("max(stages)", 6),
        ("  width  ", 64),
    ],
)
def test_values_and_types(source, value):
    got = evaluate(source, ENV)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("source", "code", "words"),
    [
        ("widht * 2", "E502", "`widht` is not defined"),
        ("width.__class__", "E501", "not allowed"),
        ("__import__('os')", "E501", "not allowed"),
        ("open('x')", "E501", "not allowed"),
        ("__builtins__", "E501", "not allowed"),
        ("(lambda: 1)()", "E501", "not allowed"),
        ("[x for x in stages]", "E501", "not allowed"),
        ("'a' * 3", "E501", "only numbers"),
        ("stages * 1000000000", "E501", "arithmetic takes numbers"),
        ("width if flag else 1", "E501", "not allowed"),
        ("width > 1", "E501", "not allowed"),
        ("10**10**10", "E501", "too large"),
        ("2.0 ** 5000", "E501", "too large"),
        ("9" * 60, "E501", "too large"),
        ("width / 0", "E501", "division by zero"),
        ("stages[9]", "E501", "out of range"),
        ("table[5]", "E501", "not in the mapping"),
        ("int(1e308 * 10)", "E501", "finite"),
        ("min()", "E501", "takes numbers"),
        ("width +", "E501", "invalid expression"),
        ("(" * 240 + "1" + ")" * 240, "E501", "nested"),
        ("1+" * 300 + "1", "E501", "longer than"),
    ],
)
def test_refused(source, code, words):
    with pytest.raises(ExprError) as e:
        evaluate(source, ENV)
    assert e.value.code == code
    assert words in str(e.value)


def test_did_you_mean_for_undefined_names():
    with pytest.raises(ExprError) as e:
        evaluate("widht", ENV)
    assert e.value.hint == "did you mean `width`?"


def test_huge_power_is_refused_quickly():
    start = time.perf_counter()
    for source in ("10**10**10", "2**2**2**2**2**2", "(2**127)**(2**127)", "9**9**9**9"):
        with pytest.raises(ExprError):
            evaluate(source, ENV)
    assert time.perf_counter() - start < 1.0


def _safe(source: str) -> None:
    with contextlib.suppress(ExprError):
        evaluate(source, ENV)


@settings(max_examples=300, deadline=1000)
@given(st.text(max_size=80))
def test_arbitrary_text_raises_only_expr_error(source):
    _safe(source)


_atoms = st.sampled_from(["width", "ratio", "stages", "table", "flag", "nope", "__class__", "0",
                          "1", "2.5", "1e308", "-3", "'a'", "10", "99999999999"])  # fmt: skip


def _combine(children):
    ops = st.sampled_from(["+", "-", "*", "/", "//", "%", "**", ".", "[", "(", ",", " if 1 else "])
    funcs = st.sampled_from(["min", "max", "round", "int", "abs", "eval", "getattr", ""])
    return st.one_of(
        st.tuples(children, ops, children).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        st.tuples(funcs, st.lists(children, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        children.map(lambda c: f"-{c}"),
    )


@settings(max_examples=300, deadline=1000)
@given(st.recursive(_atoms, _combine, max_leaves=12))
def test_expression_trees_raise_only_expr_error(source):
    start = time.perf_counter()
    _safe(source)
    assert time.perf_counter() - start < 0.5
