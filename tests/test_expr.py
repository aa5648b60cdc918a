"""The `${...}` evaluator: what it computes, what it refuses, and that nothing but its own
error escapes (Hypothesis drives it with arbitrary text and expression trees)."""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import math
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archspec.frontend.expr import ExprError, evaluate

ENV = {
    "width": 64,
    "ratio": 0.5,
    "stages": [3, 4, 6, 3],
    "table": {"18": 2, "a": 7},
    "flag": True,
    "one": [16],
}


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
        ("min(one)", 16),  # a list of one number: it said "'int' object is not iterable"
        ("max(one)", 16),
        ("  width  ", 64),
        # comparisons, chained as in Python, give booleans
        ("width > 1", True),
        ("width <= 63", False),
        ("0 < ratio < 1", True),
        ("1 < 2 > 3", False),
        ("width == 64.0", True),
        ("width != 64", False),
        ("flag == 1", True),
        ("table['a'] >= stages[-1]", True),
        # `and` / `or` are lazy and give the operand that decided, as in Python
        ("flag and width", 64),
        ("0 or ratio", 0.5),
        ("width > 1 and width < 100", True),
        ("0 and stages[9]", 0),
        ("1 or 1 / 0", 1),
        ("not flag", False),
        ("not 0", True),
        ("not stages", False),
        # the conditional is lazy too, and keeps the type of its branch
        ("width if flag else 1", 64),
        ("1 / 0 if not flag else ratio", 0.5),
        ("stages if width > 100 else table['a']", 7),
        # ceil and floor give integers; abs keeps the type
        ("ceil(2.1)", 3),
        ("ceil(-2.1)", -2),
        ("floor(2.9)", 2),
        ("floor(-2.1)", -3),
        ("ceil(7)", 7),
        ("floor(width / 3)", 21),
        ("int(ceil(1.1 * 3))", 4),
        ("abs(-3)", 3),
        ("abs(-2.5)", 2.5),
        ("round(-2.5)", -2),
        # len of a list or mapping param (a walkthrough hard-coded RegNet's stage count)
        ("len(stages)", len(ENV["stages"])),
        ("len(table)", len(ENV["table"])),
        ("stages[len(stages) - 1]", ENV["stages"][-1]),
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
        ("width in stages", "E501", "not allowed"),
        ("width is 64", "E501", "not allowed"),
        ("~width", "E501", "not allowed"),
        ("width << 2", "E501", "not allowed"),
        ("ceil(x=1)", "E501", "keyword"),
        ("math.ceil(1.5)", "E501", "not allowed"),
        ("1 if flag else nope", "E502", "`nope` is not defined"),
        ("1 if flag else __import__('os')", "E501", "not allowed"),
        ("flag or (lambda: 1)()", "E501", "not allowed"),
        ("width if flag else 'a'", "E501", "only numbers"),
        ("stages < 3", "E501", "compares numbers"),
        ("flag < 2", "E501", "compares numbers"),
        ("stages == stages", "E501", "compares numbers"),
        ("width > 1 < stages", "E501", "compares numbers"),
        ("ceil(1e300)", "E501", "too large"),
        ("floor(-1e39)", "E501", "too large"),
        ("int(1e300)", "E501", "too large"),
        ("ceil(1e309)", "E501", "finite"),
        ("ceil(1, 2)", "E501", "one argument"),
        ("make_divisible(32)", "E501", "two or three arguments"),
        ("make_divisible(32, 8, 8, 8)", "E501", "two or three arguments"),
        ("make_divisible(32, 0)", "E501", "the divisor is a positive integer, found 0"),
        ("make_divisible(32, 8.0)", "E501", "the divisor is a positive integer, found 8.0"),
        ("make_divisible(32, flag)", "E501", "takes numbers"),
        ("make_divisible(stages, 8)", "E501", "takes numbers"),
        ("make_divisible(1e300, 8)", "E501", "too large"),
        ("make_divisible(1e309, 8)", "E501", "finite"),
        ("abs()", "E501", "takes numbers"),
        ("abs(stages)", "E501", "takes numbers"),
        ("floor(flag)", "E501", "takes numbers"),
        ("ceil(2 ** 127 * 2)", "E501", "too large"),
        ("round(5, -99999999)", "E501", "out of range"),
        ("round(1.5, 10 ** 30)", "E501", "out of range"),
        ("round(1.5, 0.5)", "E501", "an integer"),
        ("10**10**10", "E501", "too large"),
        ("2.0 ** 5000", "E501", "too large"),
        ("9" * 60, "E501", "too large"),
        ("width / 0", "E501", "division by zero"),
        ("stages[9]", "E501", "out of range"),
        ("table[5]", "E501", "not in the mapping"),
        ("int(1e308 * 10)", "E501", "finite"),
        ("min()", "E501", "takes two or more numbers, or one list of numbers"),
        ("min(1)", "E501", "takes two or more numbers, or one list of numbers"),  # not Python's
        ("max(stages, 3)", "E501", "takes two or more numbers, or one list of numbers"),
        ("len(width)", "E501", "len() takes one list or mapping"),
        ("len(stages, table)", "E501", "len() takes one list or mapping"),
        ("len()", "E501", "len() takes one list or mapping"),
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


@pytest.mark.parametrize(("source", "hint"), [
    # refused as documented, but with no word of what does the job: a table param
    ("width == 'nearest'", "strings are not compared: give a table param keyed by `width`'s "
     "values (`by_width: {nearest: ..., ...}`) and read `${by_width[width]}`"),
    ("2 if 'a b' != flag else 4", "strings are not compared: give a table param keyed by "
     "`flag`'s values (`by_flag: {'a b': ..., ...}`) and read `${by_flag[flag]}`"),
    ("'x' == 'y'", "strings are not compared: give a table param keyed by the value "
     "(`table: {x: ..., ...}`) and read `${table[value]}`"),
    ("width if flag else 'a'", "a string is allowed only as a quoted mapping key: `table['a']`"),
])  # fmt: skip
def test_a_refused_string_hints_at_a_table(source, hint):
    with pytest.raises(ExprError) as e:
        evaluate(source, ENV)
    assert (e.value.code, e.value.hint) == ("E501", hint)
    assert "only numbers are allowed as literals" in str(e.value)


@pytest.mark.parametrize("source", ["1 if t else 0", "not t", "t and 1", "t or 1", "0 or t or 1"])
@pytest.mark.parametrize("text", ["false", "No", "yes", " "])
def test_text_that_reads_as_a_boolean_is_no_condition(source, text):
    # a quoted "false" (a param, a --set) was true: it kept blocks and froze others unsaid
    with pytest.raises(ExprError) as e:
        evaluate(source, {**ENV, "t": text})
    assert e.value.code == "E501"
    assert f"takes a boolean, found {text!r} (a string): text is no boolean" in str(e.value)
    if text.strip():
        assert e.value.hint == (f"write {text.lower()} without quotes for a boolean "
                                "(quoted, it is text)")  # fmt: skip
    else:
        assert e.value.hint == "for no value write null (a param `none: null`), not empty text"


def test_other_text_keeps_its_truth():
    """A review: `${act or fallback}` with `act: swish` was refused once text was; only text
    that reads as a boolean is (`act` set or not is the usual question)."""
    assert evaluate("t or 1", {"t": "swish"}) == "swish"
    assert evaluate("1 if t else 0", {"t": "nearest"}) == 1
    assert evaluate("n or t", {"n": None, "t": "relu"}) == "relu"
    assert evaluate("1 and t", {"t": "relu"}) == "relu"


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("func", ["ceil", "floor", "int", "round"])
def test_non_finite_params_are_refused_by_integer_functions(func, value):
    with pytest.raises(ExprError, match="not a finite number"):
        evaluate(f"{func}(x)", {"x": value})


def test_did_you_mean_for_undefined_names():
    with pytest.raises(ExprError) as e:
        evaluate("widht", ENV)
    assert e.value.hint == "did you mean `width`?"


def test_huge_power_is_refused_quickly():
    start = time.perf_counter()
    for source in ("10**10**10", "2**2**2**2**2**2", "(2**127)**(2**127)", "9**9**9**9",
                   "round(5, -99999999)", "round(2**127, -10**30)", "ceil(1e308)",
                   "floor(-1.7e308)", "int(ceil(1e308) if 1 else 0)"):  # fmt: skip
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


#: names the fuzzed trees may use: ENV's, and values the integer functions must refuse cleanly
FUZZ_ENV = {**ENV, "inf": math.inf, "nan": math.nan, "big": 1.7e308, "none": None, "word": "relu"}

_atoms = st.sampled_from(["width", "ratio", "stages", "table", "flag", "nope", "__class__", "0",
                          "1", "2.5", "1e308", "-3", "'a'", "10", "99999999999", "inf", "nan",
                          "big", "none", "word", "2**127", "True", "None"])  # fmt: skip


def _combine(children):
    ops = st.sampled_from(["+", "-", "*", "/", "//", "%", "**", ".", "[", "(", ",", " if 1 else ",
                           "<", "<=", "==", "!=", ">", ">=", " and ", " or ", " in ", " is ",
                           " not in ", "<<", "&"])  # fmt: skip
    funcs = st.sampled_from(["min", "max", "round", "int", "abs", "ceil", "floor", "len", "eval",
                             "getattr", "math.ceil", ""])  # fmt: skip
    return st.one_of(
        st.tuples(children, ops, children).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        st.tuples(funcs, st.lists(children, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(children, st.lists(st.tuples(ops, children), min_size=1, max_size=3)).map(
            lambda t: "(" + t[0] + "".join(op + c for op, c in t[1]) + ")"  # chains: a < b <= c
        ),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"(not {c})"),
    )


#: `${...}` sources built from the grammar, valid and not (tests/test_fuzz.py runs more)
EXPRESSION_TREES = st.recursive(_atoms, _combine, max_leaves=12)


def evaluates_only_to_expr_error(source: str, limit: float = 0.5) -> None:
    """Evaluating `source` raises nothing but ExprError, gives a value of a spec's types, and is
    quick."""
    start = time.perf_counter()
    try:
        value = evaluate(source, FUZZ_ENV)
    except ExprError as e:
        assert e.code in ("E501", "E502") and str(e)
    else:
        assert isinstance(value, (bool, int, float, str, list, dict, type(None)))
        if isinstance(value, float):
            # a non-finite value can only be a param's passed on (`${x}`, `${-x}`)
            assert math.isfinite(value) or abs(value) in FUZZ_ENV.values() or math.isnan(value)
        if isinstance(value, int):
            assert value.bit_length() <= 128
    assert time.perf_counter() - start < limit


@settings(max_examples=300, deadline=1000)
@given(EXPRESSION_TREES)
def test_expression_trees_raise_only_expr_error(source):
    evaluates_only_to_expr_error(source)


# -- keras.applications' rounding helpers, written as expressions -----------------------------
# The references are copied from keras/src/applications/efficientnet.py (round_filters and
# round_repeats are nested in EfficientNet(); their closure variables become arguments) and
# mobilenet_v3.py (_depth); test_references_match_keras checks the copies against the files.


def round_filters(filters, width_coefficient, divisor=8):
    """Round number of filters based on depth multiplier."""
    filters *= width_coefficient
    new_filters = max(
        divisor, int(filters + divisor / 2) // divisor * divisor
    )  # fmt: skip
    # Make sure that round down does not go down by more than 10%.
    if new_filters < 0.9 * filters:
        new_filters += divisor
    return int(new_filters)


def round_repeats(repeats, depth_coefficient):
    """Round number of repeats based on depth multiplier."""
    return int(math.ceil(depth_coefficient * repeats))  # noqa: RUF046


def _depth(v, divisor=8, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    # Make sure that round down does not go down by more than 10%.
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


WIDTHS = [1.0, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0]  # EfficientNet B0..B7
DEPTHS = [1.0, 1.1, 1.2, 1.4, 1.8, 2.2, 2.6, 3.1]
FILTERS = [32, 16, 24, 40, 80, 112, 192, 320, 1280]
REPEATS = [1, 2, 2, 3, 3, 4, 1]

#: round_filters / _make_divisible, with `v` the value to round and `divisor`, `min_value`
MAKE_DIVISIBLE = ("max(min_value, int(V + divisor / 2) // divisor * divisor)"
                  " + (divisor if max(min_value, int(V + divisor / 2) // divisor * divisor)"
                  " < 0.9 * (V) else 0)")  # fmt: skip


@pytest.mark.parametrize("width", sorted(set(WIDTHS)))
@pytest.mark.parametrize("filters", FILTERS)
def test_efficientnet_round_filters(width, filters):
    expected = round_filters(filters, width)
    source = MAKE_DIVISIBLE.replace("V", "filters * w")
    got = evaluate(source, {"filters": filters, "w": width, "divisor": 8, "min_value": 8})
    assert got == expected and type(got) is int
    if filters == 32:  # the form written out in the issue, with the literals in place
        stem = ("max(8, int(32 * w + 4) // 8 * 8)"
                " + (8 if max(8, int(32 * w + 4) // 8 * 8) < 0.9 * 32 * w else 0)")  # fmt: skip
        assert evaluate(stem, {"w": width}) == expected


@pytest.mark.parametrize("depth", sorted(set(DEPTHS)))
@pytest.mark.parametrize("repeats", sorted(set(REPEATS)))
def test_efficientnet_round_repeats(depth, repeats):
    got = evaluate("int(ceil(d * repeats))", {"d": depth, "repeats": repeats})
    assert got == round_repeats(repeats, depth) and type(got) is int


#: MobileNetV3's `depth(d)` arguments, and the expansions `_depth(infilters * expansion)` takes
MOBILENET_FILTERS = [16, 24, 40, 48, 80, 96, 112, 160, 576, 960, 1024, 1280]
EXPANSIONS = [1, 72.0 / 16, 88.0 / 24, 4, 6, 3, 2.5, 2.3, 0.25]


@pytest.mark.parametrize("alpha", [0.75, 1.0])
def test_mobilenet_v3_depth(alpha):
    source = MAKE_DIVISIBLE.replace("V", "d * alpha")
    for d in MOBILENET_FILTERS:
        env = {"d": d, "alpha": alpha, "divisor": 8, "min_value": 8}
        channels = evaluate(source, env)
        assert channels == _depth(d * alpha) and type(channels) is int
        for e in EXPANSIONS:  # the expanded width of a block with `channels` inputs
            env = {"d": channels, "alpha": e, "divisor": 8, "min_value": 8}
            assert evaluate(source, env) == _depth(channels * e), (channels, e)


@pytest.mark.parametrize("divisor", [1, 4, 8, 16])
@pytest.mark.parametrize("min_value", [None, 16])
def test_make_divisible_with_divisor_and_min_value(divisor, min_value):
    # min_value=None is `min_value if min_value else divisor` (null is not a literal)
    source = MAKE_DIVISIBLE.replace("min_value", "(m or divisor)").replace("V", "v")
    for v in [0.5, 3, 7.9, 12.0, 17.5, 33.6, 100, 1000.7]:
        env = {"v": v, "divisor": divisor, "m": min_value or 0}
        assert evaluate(source, env) == _depth(v, divisor, min_value), (v, divisor, min_value)


def _keras_source(module: str) -> str:
    spec = importlib.util.find_spec("keras")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("keras is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "src/applications" / module
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path.read_text()


@pytest.mark.parametrize(
    ("module", "function"),
    [
        ("efficientnet.py", round_filters),
        ("efficientnet.py", round_repeats),
        ("mobilenet_v3.py", _depth),
    ],
)
def test_references_match_keras(module, function):
    """Every line of a reference's body but its `def` is in Keras's file, as written."""
    text = _keras_source(module)
    body = inspect.getsource(function).splitlines()[1:]
    for line in body:
        code = line.split("  #")[0].strip()  # less our own trailing comments
        if code:
            assert code in text, f"{function.__name__}: `{code}` is not in keras's {module}"


def test_make_divisible_equals_keras():
    """`make_divisible` is keras.applications' `_make_divisible` (MobileNetV2; V3's `_depth` and
    EfficientNet's `round_filters` are the same arithmetic), compared with Keras's own function
    over widths, divisors and minimums, ties and the 10% rule included."""
    from keras.src.applications.mobilenet_v2 import _make_divisible

    bumped = floored = 0  # the cases where the 10% rule and the minimum decide
    for base in (3, 8, 16, 24, 32, 40, 96, 112, 160, 320, 1280):
        for alpha in (0.1, 0.25, 0.35, 0.5, 0.75, 1.0, 1.1, 1.3, 1.4, 1.8, 2.0):
            for divisor in (1, 4, 8, 16):
                v = base * alpha
                env = {"v": v, "d": divisor}
                expected = _make_divisible(v, divisor)
                got = evaluate("make_divisible(v, d)", env)
                assert got == expected and type(got) is type(expected), (v, divisor)
                got = evaluate("make_divisible(v, d, 2 * d)", env)
                assert got == _make_divisible(v, divisor, 2 * divisor), (v, divisor)
                rounded = int(v + divisor / 2) // divisor * divisor
                bumped += expected > max(divisor, rounded)
                floored += rounded < divisor
    assert bumped > 0 and floored > 0  # the grid reaches both branches
