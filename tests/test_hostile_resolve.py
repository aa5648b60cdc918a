"""Hostile input to resolve, `plot` and `render` (issue 17): each case pins a class, not one file.

- A user-defined block's param defaults are evaluated once per definition, unless they read the
  input's shape (then once per use).
- User-defined blocks nested in a chain: an error (E504 past MAX_NESTING, or E204 when the
  composed names pass the name limit first), never a RecursionError; values built by `${...}`
  (deep or exponentially shared) are held to the file's limits (E702, E703).
- `plot` refuses a diagram over its size limit (E712) quickly and within bounded memory, honours
  the limit flags, and never replaces a folder (E002).
- What `check` accepts, `render` writes as a spec that `check` accepts: composed names over
  the name limit are refused at resolve time; odd file names are escaped in the header.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archspec import app as api
from archspec.app.check import check_file
from archspec.core.errors import ArchspecError, SpecError
from archspec.core.limits import Limits
from archspec.frontend import expr
from archspec.frontend.resolve import define
from archspec.frontend.resolve.naming import NAME_CHARS
from archspec.frontend.resolve.values import measure
from archspec.render import bounds
from archspec.render.spec import render_spec
from tests.conftest import ROOT, SPECS, spec_id, write

GIB = 1 << 30


def run_limited(args: list[str], cwd: Path, memory: int = GIB, cpu: int = 10
                ) -> tuple[subprocess.CompletedProcess[str], float]:  # fmt: skip
    """`python -m archspec ARGS` under RLIMIT_AS `memory` and RLIMIT_CPU `cpu`; (result, CPU s)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([sys.executable, "-m", "archspec", *args], capture_output=True, text=True,
                       cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60,
                       preexec_fn=limit)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    return r, seconds


def chain(n: int, named: bool = False) -> str:
    """`n` user-defined blocks, each using the previous; the last is used once."""
    lines = ["name: chain", "input: [8, 8, 3]", "define:", "  b0:", "    blocks:",
             "      - {type: conv, filters: 4, kernel: 3}"]  # fmt: skip
    for i in range(1, n):
        lines += [f"  b{i}:", "    blocks:",
                  f"      - {{type: b{i - 1}{', name: x' if named else ''}}}"]  # fmt: skip
    lines += ["blocks:", f"  - {{type: b{n - 1}{', name: x' if named else ''}}}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- defaults, once


def counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls: dict[str, int] = {}
    evaluate = expr.evaluate

    def counted(source: str, env: object) -> object:
        calls[source] = calls.get(source, 0) + 1
        return evaluate(source, env)  # type: ignore[arg-type]

    monkeypatch.setattr(expr, "evaluate", counted)
    return calls


def test_a_default_is_evaluated_once_per_definition(monkeypatch):
    calls = counting(monkeypatch)
    spec = api.load(text="name: m\ninput: [8, 8, 3]\nparams: {base: 4}\ndefine:\n  unit:\n"
                    "    params: {width: '${base * 2 + 0}', other: '${base + 1}'}\n"
                    "    blocks:\n      - {type: conv, filters: '${width}', kernel: 3}\n"
                    "blocks:\n  - {type: unit, repeat: 50}\n  - {type: unit, other: 3}\n"
                    "  - {type: unit, width: 16}\n")  # fmt: skip
    assert calls["base * 2 + 0"] == 1 and calls["base + 1"] == 1
    assert [i.block.filters for i in spec.items] == [8] * 51 + [16]  # type: ignore[attr-defined]


def test_a_default_that_reads_the_shape_is_evaluated_per_use(monkeypatch):
    calls = counting(monkeypatch)
    spec = api.load(text="name: m\ninput: [8, 8, 3]\ndefine:\n  unit:\n"
                    "    params: {width: '${in_channels * 2}'}\n"
                    "    blocks:\n      - {type: conv, filters: '${width}', kernel: 1}\n"
                    "blocks:\n  - {type: unit, repeat: 4}\n")  # fmt: skip
    assert calls["in_channels * 2"] == 4
    assert [i.block.filters for i in spec.items] == [6, 12, 24, 48]  # type: ignore[attr-defined]


def test_a_bad_default_still_points_at_the_default():
    with pytest.raises(SpecError) as e:
        api.load(text="name: m\ninput: [8, 8, 3]\ndefine:\n  unit:\n"
                 "    params: {width: '${nope}'}\n"
                 "    blocks:\n      - {type: conv, filters: '${width}', kernel: 1}\n"
                 "blocks:\n  - {type: unit}\n  - {type: unit}\n")  # fmt: skip
    d = e.value.diagnostics[0]
    assert (d.code, d.line, d.path) == ("E502", 5, ("define", "unit", "params", "width"))


# ---------------------------------------------------------------- nesting, recursion


def test_a_chain_of_500_user_defined_blocks_is_an_error_not_a_crash(tmp_path):
    write(tmp_path, chain(500))
    r, seconds = run_limited(["check", "spec.yaml"], tmp_path)
    assert r.returncode == 1, r.stderr
    assert "error[E204]" in r.stderr and "more than the limit of 128" in r.stderr
    assert seconds < 10


def test_nesting_past_the_limit_is_e504_at_the_use(monkeypatch):
    monkeypatch.setattr(define, "MAX_NESTING", 8)
    with pytest.raises(SpecError) as e:
        api.load(text=chain(10, named=True))
    d = e.value.diagnostics[0]
    assert d.code == "E504" and "nested more than 8 deep" in d.message
    assert d.path[-1] == "type" and d.related  # at the inner use, noting the outer one


def test_the_deepest_chain_the_names_allow_resolves_with_stack_to_spare():
    depth = (NAME_CHARS - len("conv_1")) // 2  # each level prefixes `x_`
    assert depth < define.MAX_NESTING
    limit = sys.getrecursionlimit()
    frames = len(__import__("inspect").stack())
    sys.setrecursionlimit(frames + 4 * depth + 150)  # 2 frames a level, and some
    try:
        spec = api.load(text=chain(depth, named=True))
    finally:
        sys.setrecursionlimit(limit)
    assert (
        len(spec.items) == 1 and len(str(spec.items[0].block.name)) == 2 * depth + 6 <= NAME_CHARS
    )


def test_param_values_nested_deeper_than_a_file_may_be_are_e702(tmp_path):
    lines = ["name: m", "input: [8, 8, 3]", "params:", "  p0: 1"]
    lines += [f"  p{i}: ['${{p{i - 1}}}']" for i in range(1, 3000)]
    lines += ["blocks:", "  - {type: conv, filters: 4, kernel: 3, junk: '${p2999}'}"]
    write(tmp_path, "\n".join(lines) + "\n")
    r, _ = run_limited(["check", "spec.yaml"], tmp_path)
    assert r.returncode == 1 and "spec.yaml:69:8: error[E702]: params.p65" in r.stderr


def test_param_values_shared_exponentially_are_e703_fast(tmp_path):
    lines = ["name: m", "input: [8, 8, 3]", "params:", "  p0: 1"]
    lines += [f"  p{i}: ['${{p{i - 1}}}', '${{p{i - 1}}}']" for i in range(1, 60)]
    lines += ["blocks:", "  - {type: conv, filters: 4, kernel: 3, junk: '${p59}'}"]
    write(tmp_path, "\n".join(lines) + "\n")
    r, seconds = run_limited(["check", "spec.yaml"], tmp_path)
    assert r.returncode == 1 and "error[E703]: params.p16" in r.stderr
    assert seconds < 5


def test_includes_of_a_large_file_count_its_yaml_nodes_each_time(tmp_path):
    # 95,000 list items: about 95,000 parser events, half the limit; three inclusions pass it
    junk = ", ".join("1" for _ in range(95_000))
    write(tmp_path, f"name: heavy\ninput: [8, 8, 3]\nparams: {{junk: [{junk}]}}\n"
          "blocks:\n  - {type: activation, activation: relu}\n", "heavy.yaml")  # fmt: skip
    uses = "".join(f"  - {{type: spec, name: h{k}, path: heavy.yaml, inputs: input}}\n"
                   for k in range(40))  # fmt: skip
    write(tmp_path, "name: top\ninput: [8, 8, 3]\nblocks:\n" + uses)
    r, seconds = run_limited(["check", "spec.yaml"], tmp_path)
    assert r.returncode == 1, r.stdout
    assert "spec.yaml:6:34: error[E703]: blocks[2].path: with this include" in r.stderr
    assert seconds < 5


def test_a_binary_tree_of_small_includes_stops_at_a_limit(tmp_path):
    # l<n> includes l<n-1> twice: 2^16 inclusions of one-block files if nothing stopped it
    write(tmp_path, "name: l0\ninput: [8, 8, 3]\nblocks:\n  - {type: activation, "
          "activation: relu}\n", "l0.yaml")  # fmt: skip
    for n in range(1, 17):
        write(tmp_path, f"name: l{n}\ninput: [8, 8, 3]\nblocks:\n"
              f"  - {{type: spec, name: a, path: l{n - 1}.yaml, inputs: input}}\n"
              f"  - {{type: spec, name: b, path: l{n - 1}.yaml, inputs: input}}\n"
              "  - {type: add, inputs: [a, b]}\n", f"l{n}.yaml")  # fmt: skip
    r, _ = run_limited(["check", "l16.yaml"], tmp_path)
    assert r.returncode == 1 and ("error[E703]" in r.stderr or "error[E705]" in r.stderr)
    # the block limit counts the including specs' blocks too: stopped well before 2^16
    small = api.load(tmp_path / "l9.yaml")  # 512 + 511 blocks: within the limit
    assert len(small.items) == 1023
    with pytest.raises(SpecError) as e:
        api.load(tmp_path / "l9.yaml", limits=Limits(blocks=1000))
    assert e.value.diagnostics[0].code == "E705"


def test_a_user_defined_blocks_param_value_is_bounded_too():
    text = ("name: m\ninput: [8, 8, 3]\nparams: {p0: 1}\ndefine:\n  unit:\n    params: {v: 0}\n"
            "    blocks:\n      - {type: conv, filters: 4, kernel: 3}\nblocks:\n"
            "  - {type: unit, v: " + "[" * 40 + "'${p0}'" + "]" * 40 + "}\n")  # fmt: skip
    api.load(text=text)  # 40 deep: within the limit
    deep = text.replace("params: {p0: 1}", "params: {p0: " + "[" * 40 + "1" + "]" * 40 + "}")
    with pytest.raises(SpecError) as e:
        api.load(text=deep)
    assert e.value.diagnostics[0].code == "E702"
    assert e.value.diagnostics[0].path == ("blocks", 0, "v")


def test_measure_counts_shared_parts_each_time_without_walking_them():
    value: object = 1
    for _ in range(200):
        value = [value, value]
    start = time.perf_counter()
    assert measure(value) == (200, 2**201 - 1)
    assert time.perf_counter() - start < 0.5
    assert measure({"a": [1, {"b": []}]}) == (4, 5)


# ---------------------------------------------------------------- plot


REPEAT = (
    "name: big\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 4, kernel: 3, repeat: %d}\n"
)


def test_plot_of_repeat_10000_is_e712_fast_in_bounded_memory(tmp_path):
    write(tmp_path, REPEAT % 10_000)
    start = time.monotonic()
    r, seconds = run_limited(["plot", "spec.yaml", "-o", "big.svg"], tmp_path, memory=2 * GIB)
    assert r.returncode == 1, r.stderr
    assert "error[E712]" in r.stderr and "10,000 layers, more than the limit of 2,000" in r.stderr
    assert seconds < 5 and time.monotonic() - start < 30
    assert not (tmp_path / "big.svg").exists()
    r, _ = run_limited(["plot", "spec.yaml", "-o", "big.svg", "--collapse"], tmp_path,
                       memory=2 * GIB)  # fmt: skip
    assert r.returncode == 1 and "10,000 blocks, more than the limit of 5,000" in r.stderr


def test_plot_over_the_limit_hints_collapse_when_that_fits():
    graph = api.analyze(api.load(text=REPEAT % 2_500))
    with pytest.raises(SpecError) as e:
        bounds.check_size(graph, collapse=False)
    d = e.value.diagnostics[0]
    assert d.code == "E712" and d.hint is not None and "--collapse" in d.hint
    bounds.check_size(graph, collapse=True)  # fits collapsed


def test_the_zoo_fits_the_diagram_limits():
    for path in SPECS:
        try:
            graph = api.analyze(path)
        except ArchspecError:
            continue  # the zoo's deliberately bad specs
        bounds.check_size(graph, collapse=False)


def test_plot_honours_the_limit_flags(tmp_path):
    write(tmp_path, REPEAT % 300)
    r, _ = run_limited(["plot", "spec.yaml", "-o", "x.dot", "--max-blocks", "100"], tmp_path)
    assert r.returncode == 1 and "error[E706]" in r.stderr
    r, _ = run_limited(["plot", "spec.yaml", "-o", "x.dot", "--max-layers", "100"], tmp_path)
    assert r.returncode == 1 and "error[E705]" in r.stderr
    assert not (tmp_path / "x.dot").exists()


def test_plot_never_replaces_a_folder(tmp_path):
    write(tmp_path, REPEAT % 2)
    folder = tmp_path / "x.svg"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    r, _ = run_limited(["plot", "spec.yaml", "-o", "x.svg"], tmp_path)
    assert r.returncode == 2 and "error[E002]" in r.stderr and "x.svg: it is a folder" in r.stderr
    assert (folder / "keep.txt").read_text() == "mine"
    # nor with --force, nor the page (it replaced a folder named x.html, --force or not)
    page = tmp_path / "x.html"
    page.mkdir()
    (page / "keep.txt").write_text("mine")
    for extra in ([], ["--force"]):
        for name in ("x.svg", "x.html"):
            r, _ = run_limited(["plot", "spec.yaml", "-o", name, *extra], tmp_path)
            assert r.returncode == 2 and f"{name}: it is a folder" in r.stderr, r.stderr
    assert (folder / "keep.txt").read_text() == (page / "keep.txt").read_text() == "mine"
    (tmp_path / "y.dot").write_text("old")  # a file is replaced with --force only (issue 16)
    r, _ = run_limited(["plot", "spec.yaml", "-o", "y.dot"], tmp_path)
    assert r.returncode == 2 and "y.dot exists" in r.stderr and "pass --force" in r.stderr
    assert (tmp_path / "y.dot").read_text() == "old"
    r, _ = run_limited(["plot", "spec.yaml", "-o", "y.dot", "--force"], tmp_path)
    assert r.returncode == 0 and (tmp_path / "y.dot").read_text().startswith("digraph")


# ---------------------------------------------------------------- render re-checks clean


def rechecks(path: Path, tmp_path: Path) -> str:
    """`render` of the spec at `path` (which `check` accepts) is a spec `check` accepts, with
    the same figures; the rendered text."""
    before = check_file(path)
    assert before.exit_code == 0 and before.graph is not None, before.diagnostics
    text = api.expand(path)
    out = tmp_path / "rendered.yaml"
    out.write_text(text, encoding="utf-8")
    after = check_file(out)
    assert after.exit_code == 0 and after.graph is not None, (after.diagnostics, text[:2000])
    assert (after.graph.params, after.graph.cost.macs) == (before.graph.params,
                                                           before.graph.cost.macs)  # fmt: skip
    assert len(yaml.safe_load(text)["blocks"]) >= 1
    return text


@pytest.mark.parametrize("path", [p for p in SPECS if check_file(p).exit_code == 0], ids=spec_id)
def test_render_of_the_zoo_rechecks_clean(path, tmp_path):
    rechecks(path, tmp_path)


NAME = st.text("abcxyz_", min_size=1, max_size=NAME_CHARS).map(lambda s: "n" + s[1:])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(outer=NAME, inner=NAME, repeat=st.integers(1, 12),
       names=st.sampled_from(["number", "letters", "{name}{k}", "{name}_{letter}_x"]))  # fmt: skip
def test_long_names_are_refused_or_render_clean(tmp_path, outer, inner, repeat, names):
    write(
        tmp_path,
        "name: m\ninput: [8, 8, 3]\ndefine:\n  unit:\n    blocks:\n"
        f"      - {{type: conv, name: {inner}, filters: 4, kernel: 3, repeat: {repeat}, "
        f"repeat_names: '{names}'}}\nblocks:\n  - {{type: unit, name: {outer}, repeat: 2}}\n",
    )
    result = check_file(tmp_path / "spec.yaml")
    if result.exit_code:
        assert [d.code for d in result.errors] == ["E204"], result.errors
        assert "more than the limit of 128" in result.errors[0].message
        return
    rechecks(tmp_path / "spec.yaml", tmp_path)


@pytest.mark.parametrize(
    "name",
    [
        "a\nname: evil\n.yaml",
        "tab\there.yaml",
        "nel\x85.yaml",
        "ls\u2028ps\u2029.yaml",
        "bell\x07esc\x1b[31m.yaml",
        "back\\slash #x.yaml",
        "é ü 名.yaml",
        "bad\udcff.yaml",
    ],
)
def test_an_odd_file_name_stays_in_the_header_comment(tmp_path, name):
    try:
        path = write(tmp_path, REPEAT % 2, name)
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system does not take this name")
    text = rechecks(path, tmp_path)
    header = text.splitlines()[0]
    assert header.startswith("# Rendered by archspec from ") and header.isprintable()
    assert yaml.safe_load(text)["name"] == "big"


def test_render_spec_escapes_the_source_it_is_given():
    resolved = api.load(text=REPEAT % 1)
    text = render_spec(resolved, source="x\ny\r\x00\u2029z")
    assert text.splitlines()[0] == "# Rendered by archspec from x\\ny\\r\\x00\\u2029z: params " \
        "substituted, defaults applied,"  # fmt: skip
    assert yaml.safe_load(text)["archspec"] == 1
