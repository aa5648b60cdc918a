"""Fuzzing with Hypothesis: nothing but archspec's own ArchspecError escapes what `archspec
check` runs (loader, schema, resolution, lowering, budget and expect, the reports), and valid
specs have the static figures Keras reports.

Three generators: (a) arbitrary bytes and text, (b) YAML-shaped documents built from the spec's
own vocabulary, (c) valid specs mutated (a key renamed, a value's type changed, a block removed
or duplicated, a reference broken, numbers pushed to extremes or to other small values). The
mutators take a `random.Random`, so Hypothesis drives them in-process and a seeded Random draws
the small samples that go through Keras and through the CLI in subprocesses.

`make test` runs a short campaign (a few hundred examples); `make fuzz` a long one
(ARCHSPEC_FUZZ=long multiplies every budget by ARCHSPEC_FUZZ_SCALE, default 100).
"""

from __future__ import annotations

import copy
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archspec
from archspec.app import check
from archspec.blocks import REGISTRY
from archspec.blocks.base import ACTIVATIONS
from archspec.core.errors import CODES, Diagnostic
from archspec.render import report
from archspec.render.text import format_diagnostics
from tests.conftest import ROOT, SPECS
from tests.test_expr import EXPRESSION_TREES, evaluates_only_to_expr_error
from tests.test_static_vs_keras import EXAMPLES, assert_static_equals_keras, example_spec

LONG = os.environ.get("ARCHSPEC_FUZZ") == "long"
SCALE = int(os.environ.get("ARCHSPEC_FUZZ_SCALE", "100")) if LONG else 1


def budget(examples: int) -> settings:
    """Hypothesis settings for `examples` examples in the short campaign (scaled when long)."""
    extra: dict[str, Any] = {} if LONG else {"database": None}
    return settings(
        max_examples=examples * SCALE,
        deadline=None,  # the CLI catalogue bounds the time; here a slow example is not a bug
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=not LONG,  # `make test` is reproducible; `make fuzz` explores
        **extra,
    )


#: one file, rewritten for every example: `check_file` reads it as `archspec check` would
_SPEC = Path(tempfile.mkdtemp(prefix="archspec-fuzz-")) / "spec.yaml"


def pipeline(content: str | bytes) -> Any:
    """What `archspec check` does with a file holding `content`, in-process: load, resolve,
    lower, budget and expect (check.check_file, which turns every ArchspecError into
    diagnostics), then every report format. Returns the graph of a valid spec, else None.
    Anything that escapes is a bug."""
    _SPEC.write_bytes(content.encode() if isinstance(content, str) else content)
    result = check.check_file(_SPEC)
    check_diagnostics(result.diagnostics)
    format_diagnostics(result.diagnostics)
    report.to_json([result], table=True)
    report.to_github([result])
    report.to_sarif([result])
    return result.graph if result.ok else None


def check_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        assert d.code in CODES, d
        assert d.message, d
        assert d.line is None or d.line >= 1, d
        assert d.col is None or d.col >= 1, d


# -- (a) arbitrary bytes and text -----------------------------------------------------------


@budget(60)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(raw):
    pipeline(raw)


@budget(60)
@given(st.text(max_size=2000))
def test_arbitrary_text(text):
    pipeline(text)


# -- (b) YAML-shaped documents --------------------------------------------------------------

TOP_KEYS = [
    "archspec", "name", "description", "input", "inputs", "params", "defaults", "define",
    "blocks", "outputs", "budget", "expect",
]  # fmt: skip
BLOCK_KEYS = sorted({k for model in REGISTRY.values() for k in model.model_fields})
WORDS = [*REGISTRY, "spec", "letters", "number", "{name}{k}", *ACTIVATIONS, "same", "valid", "auto", "identity", "projection", "a", "b",
         "input", "m", "Lambda", "os.system", "${width}", "25.6M"]  # fmt: skip
FIGURE_KEYS = ["max_params", "max_trainable_params", "max_macs", "params", "trainable_params",
               "macs", "output_shape"]  # fmt: skip
KEYS = st.sampled_from([*TOP_KEYS, *BLOCK_KEYS, *FIGURE_KEYS, "x", "<<", "1", ""])

#: `${...}` strings: valid, broken and hostile expressions (expr.py must refuse the hostile ones)
EXPRESSIONS = ["${width}", "${width * 2}", "${stages[2]}", "${stages[99]}", "${1 / 0}",
               "${10 ** 10 ** 10}", "${2 ** 127 * 2 ** 127}", "${min()}", "${max([])}",
               "${x.__class__}", "${__import__('os').system('true')}", "${(lambda: 1)()}",
               "${" + "(" * 200 + "1" + ")" * 200 + "}", "${" + "1+" * 400 + "1}", "${}",
               "${int('9' * 5000)}", "${round(1e308 * 10)}", "${-(-1) ** 0.5}",
               # comparisons, and/or/not, the conditional, ceil/floor/abs (valid and hostile)
               "${width > 32}", "${0 < width <= 64}", "${width if width > 8 else 8}",
               "${int(ceil(1.1 * 3))}", "${floor(width / 3)}", "${abs(-width)}",
               "${make_divisible(width * 1.1, 8)}", "${make_divisible(width, 0)}",
               "${make_divisible(1e308, 8, width)}", "${make_divisible(stages, 8)}",
               "${len(width)}", "${len(stages) ** 99}", "${stages[len(stages) - 1]}",
               "${max(8, int(width * 1.1 + 4) // 8 * 8) + (8 if max(8, int(width * 1.1 + 4)"
               " // 8 * 8) < 0.9 * width * 1.1 else 0)}", "${width and not width or 2}",
               "${ceil(1e308)}", "${floor(1e309)}", "${round(5, -99999999)}",
               "${1 if 1 else __import__('os')}", "${2 if 0 else nope}", "${width in [1]}",
               "${stages < 3}", "${" + "not " * 120 + "1}", "${" + "1 < " * 120 + "2}",
               "${" + "1 if 0 else " * 40 + "1}",
               # the copy and the block's input (test_fuzz_surfaces.py fuzzes them further)
               "${copy}", "${2 if copy == 0 else 1}", "${in_channels * 2}", "${in_shape[0]}",
               "${in_shape[9]}", "${in_shape[0] or 224}", "${copy * in_channels}"]  # fmt: skip


@budget(150)
@given(EXPRESSION_TREES)
def test_expression_trees(source):
    """The `${...}` evaluator alone, on expressions built from its grammar (and outside it,
    comparisons, `and`/`or`/`not` and the conditional included): nothing but ExprError escapes,
    every value is of a spec's types, and each evaluation is quick."""
    evaluates_only_to_expr_error(source)


#: values for budget and expect figures
FIGURES: list[Any] = ["25.6M", "1K", "abc", "1e3", "9" * 400 + ".0", 10**30, -1, 0, 1, True,
                      None, [1, 2], [8, 8, 3], {"out": [1]}, 3.5]  # fmt: skip
EXTREME_INTS = [0, -1, 1, 2, 3, 7, 64, 65_536, 65_537, 2**31, 2**63, 10**30]
scalars = st.one_of(
    st.sampled_from(EXTREME_INTS),
    st.integers(min_value=-5, max_value=300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.sampled_from(WORDS),
    st.sampled_from(EXPRESSIONS),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(KEYS, children, max_size=5)
    ),
    max_leaves=25,
)
block_dicts = st.builds(
    lambda kind, extra: {"type": kind, **extra},
    st.sampled_from([*REGISTRY, "nope"]),
    st.dictionaries(st.sampled_from(BLOCK_KEYS), values, max_size=5),
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.just("m"), scalars),
        "input": st.one_of(
            st.lists(st.sampled_from([1, 2, 3, 8, 16, 0, -1, 10**6]), min_size=0, max_size=4),
            values,
        ),
        "blocks": st.one_of(st.lists(block_dicts, max_size=6), values),
        "outputs": values,
        "budget": st.one_of(st.dictionaries(st.sampled_from(FIGURE_KEYS), values), values),
        "expect": st.one_of(st.dictionaries(st.sampled_from(FIGURE_KEYS), values), values),
        "archspec": scalars,
        "x": values,
    },
)

#: YAML syntax dropped into a dumped document at a random place
NOISE = ["&a ", "*a", "!!str ", "!t ", "<<: ", "\t", "---\n", "...\n", "[", "]", "{", "}",
         ": ", "- ", "#", "'", '"', "\\", "\0", "\ufeff", "? ", "|\n", "%YAML 1.1\n", "=",
         "2001-13-45", "0x" + "f" * 50, "1:0:0"]  # fmt: skip


def dump(data: Any, rnd: random.Random) -> str:
    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    flow = rnd.choice([None, True, False])
    return yaml.dump(data, Dumper=NoAliases, default_flow_style=flow, sort_keys=False)


@budget(150)
@given(documents, st.randoms(use_true_random=False), st.integers(0, 3))
def test_yaml_shaped_documents(data, rnd, noise):
    text = dump(data, rnd)
    for _ in range(noise):
        at = rnd.randrange(len(text) + 1)
        text = text[:at] + rnd.choice(NOISE) + text[at:]
    pipeline(text)


# -- (c) valid specs, mutated ---------------------------------------------------------------

#: small valid specs: one per block type (test_static_vs_keras's examples) and the zoo
SMALL_SEEDS = [yaml.safe_load(example_spec(kind)) for kind in sorted(EXAMPLES)]
SEEDS = SMALL_SEEDS + [yaml.safe_load(p.read_text()) for p in SPECS]
EXTREMES: list[Any] = [0, -1, -(2**63), 2**31, 2**63, 10**30, 1e308, math.inf, -math.inf,
                       math.nan, 0.5, 1e-320]  # fmt: skip


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in the data (containers included)."""
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _other_type(value: Any, rnd: random.Random) -> Any:
    options: list[Any] = [str(value), [value], {"v": value}, None, True, 3.5, "64", "yes"]
    if isinstance(value, int) and not isinstance(value, bool):
        options += [float(value), value == 1]
    return rnd.choice(options)


def mutate(spec: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """One to three random edits of a copy of `spec`."""
    data = copy.deepcopy(spec)
    for _ in range(rnd.randint(1, 3)):
        paths = [p for p in _paths(data) if p]
        numbers = [p for p in paths if isinstance(_get(data, p), int | float)]
        keyed = [p for p in paths if isinstance(p[-1], str)]
        blocks = data.get("blocks") if isinstance(data.get("blocks"), list) else None
        kind = rnd.choice(["rename", "retype", "remove", "duplicate", "reference", "extreme",
                           "expression", "figure", "small", "small", "small"])  # fmt: skip
        if kind == "rename" and keyed:
            p = rnd.choice(keyed)
            parent = _get(data, p[:-1])
            key = p[-1]
            new = rnd.choice([key[:-1], key + "s", key.upper(), rnd.choice(BLOCK_KEYS + TOP_KEYS)])
            parent[new] = parent.pop(key)
        elif kind == "retype" and paths:
            p = rnd.choice(paths)
            _set(data, p, _other_type(_get(data, p), rnd))
        elif kind == "remove" and blocks:
            blocks.pop(rnd.randrange(len(blocks)))
        elif kind == "duplicate" and blocks:
            i = rnd.randrange(len(blocks))
            blocks.insert(rnd.randrange(len(blocks) + 1), copy.deepcopy(blocks[i]))
        elif kind == "reference" and blocks:
            b = rnd.choice(blocks)
            if isinstance(b, dict):
                later = [x.get("name") for x in blocks if isinstance(x, dict) and x.get("name")]
                b["inputs"] = rnd.choice(["nowhere", b.get("name") or "self", *later, ["a", "zz"]])
        elif kind == "extreme" and numbers:
            _set(data, rnd.choice(numbers), rnd.choice(EXTREMES + EXTREME_INTS))
        elif kind == "figure":  # a budget or expect figure, sensible or not
            section = data.setdefault(rnd.choice(["budget", "expect"]), {})
            if isinstance(section, dict):
                section[rnd.choice(FIGURE_KEYS)] = rnd.choice(FIGURES)
        elif kind == "expression" and paths:
            _set(data, rnd.choice(paths), rnd.choice(EXPRESSIONS))
        elif kind == "small" and numbers:
            p = rnd.choice(numbers)
            old = _get(data, p)
            if isinstance(old, float):
                _set(data, p, rnd.choice([0.0, 0.1, 0.5, 0.9, 1e-5]))
            elif not isinstance(old, bool):
                _set(data, p, rnd.randint(1, 9))
    return data


@budget(200)
@given(st.sampled_from(SEEDS), st.randoms(use_true_random=False))
def test_mutated_specs(seed, rnd):
    graph = pipeline(dump(mutate(seed, rnd), rnd))
    if graph is not None:  # a valid spec: its figures are consistent
        assert graph.params == sum(b.cost(graph).trainable + b.cost(graph).non_trainable
                                   for b in graph.blocks)  # fmt: skip
        # a size is unknown (None) where a mutation made the input's unknown
        assert all(all(d is None or d > 0 for d in s) for s in graph.output_shapes.values())


def sample_valid(n: int, seed: int = 0, max_params: int = 2_000_000) -> list[str]:
    """`n` distinct valid mutated small specs, drawn with a seeded Random (deterministic)."""
    rnd = random.Random(seed)
    out: list[str] = []
    for _ in range(20_000):
        text = dump(mutate(rnd.choice(SMALL_SEEDS), rnd), rnd)
        graph = pipeline(text)
        if graph is not None and graph.params <= max_params and text not in out:
            out.append(text)
            if len(out) == n:
                break
    return out


#: how many mutated valid specs are built with Keras (a handful; many more when long)
KERAS_SAMPLE = 6 * (10 if LONG else 1)


@pytest.fixture(scope="module")
def valid_sample() -> list[str]:
    sample = sample_valid(KERAS_SAMPLE)
    assert len(sample) == KERAS_SAMPLE
    return sample


@pytest.mark.parametrize("k", range(KERAS_SAMPLE))
def test_mutated_valid_spec_matches_keras(keras, valid_sample, k):
    graph = archspec.analyze(archspec.load(text=valid_sample[k]))
    assert_static_equals_keras(keras, graph, archspec.compile(graph))


# -- a sample through the CLI ---------------------------------------------------------------

CLI_SAMPLE = 8 * (10 if LONG else 1)


def _cli_inputs(n: int, seed: int = 1) -> list[bytes]:
    """A seeded mix of the three generators' outputs, as file contents."""
    rnd = random.Random(seed)
    out: list[bytes] = []
    while len(out) < n:
        which = len(out) % 3
        if which == 0:
            out.append(rnd.randbytes(rnd.randrange(200)))
        elif which == 1:
            seed_spec = rnd.choice(SEEDS)
            text = dump(mutate(seed_spec, rnd), rnd)
            at = rnd.randrange(len(text) + 1)
            out.append((text[:at] + rnd.choice(NOISE) + text[at:]).encode())
        else:
            out.append(dump(mutate(rnd.choice(SEEDS), rnd), rnd).encode())
    return out


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (10, 10))


@pytest.mark.parametrize("k", range(CLI_SAMPLE))
def test_cli_sample(tmp_path, k):
    """`archspec check` on generated files: exit 0, 1 or 2, no traceback, nothing written."""
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(_cli_inputs(CLI_SAMPLE)[k])
    before = sorted(os.listdir(tmp_path))
    r = subprocess.run(
        [sys.executable, "-m", "archspec", "check", "spec.yaml"],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        preexec_fn=_limit,
    )
    assert r.returncode in (0, 1, 2), r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert "internal error" not in r.stderr
    assert sorted(os.listdir(tmp_path)) == before


@budget(100)
@given(
    st.sampled_from(SMALL_SEEDS),
    st.sampled_from(["budget", "expect"]),
    st.sampled_from(FIGURE_KEYS),
    st.one_of(st.sampled_from(FIGURES), scalars, values),
)
def test_budget_and_expect_figures(seed, section, key, value):
    """Valid specs with one arbitrary `budget` / `expect` figure: check evaluates it against
    the graph (where `expect: {macs: abc}` once escaped as an internal error)."""
    pipeline(dump({**seed, section: {key: value}}, random.Random(0)))
