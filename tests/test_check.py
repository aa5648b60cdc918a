"""`archspec check`: every error kind with its exit status, code, line and column (as a user
runs it, in a subprocess), budget and expect, folders, and the TensorFlow-free guarantee."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from archspec.app import check
from archspec.core.limits import DEFAULT
from archspec.frontend import expect
from tests.conftest import ROOT, SPECS, run_cli, write

GOOD = """\
name: good
input: [32, 32, 3]
blocks:
  - {type: vgg, n_filters: 8, n_conv: 2}
"""

#: (id, spec text, expected code, line, the text the column points at: its first occurrence on
#: that line); the position is of the offending YAML node
ERRORS = [
    ("E101 yaml syntax", "name: x\ninput: [32, 32, 3\nblocks: []\n", "E101", 3, ":"),
    ("E102 duplicate key", "name: x\nname: y\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten}\n",
     "E102", 2, "name"),
    ("E103 alias", "name: x\ninput: &i [8, 8, 3]\nblocks:\n  - {type: flatten}\n", "E103", 2, "&i"),
    ("E104 tag", "name: !!str x\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten}\n", "E104", 1, "!!str"),
    ("E105 merge key", "name: x\ninput: [8, 8, 3]\nblocks:\n  - {<<: {}, type: flatten}\n", "E105", 4, "<<"),
    ("E201 unknown key", "name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filter: 8, n_conv: 1}\n",
     "E201", 4, "n_filter"),
    ("E202 wrong type", 'name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: "8", kernel: 3}\n',
     "E202", 4, '"8"'),
    ("E203 missing key", "name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: dense}\n", "E203", 4, "{"),
    ("E204 out of range", "name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: dropout, rate: 1.5}\n",
     "E204", 4, "1.5"),
    ("E204 not a count", "name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten}\nexpect: {macs: lots}\n",
     "E204", 5, "lots"),
    ("E205 unknown block type", "name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: cnv, filters: 3}\n",
     "E205", 4, "cnv"),
    ("E206 version", "archspec: 2\nname: x\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten}\n",
     "E206", 1, "2"),
    ("E301 forward reference",
     "name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 4, kernel: 3, inputs: later}\n"
     "  - {type: conv, name: later, filters: 4, kernel: 3}\n", "E301", 4, "later"),
    ("E301 cycle", "name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, name: me, filters: 4, kernel: 3, inputs: me}\n",
     "E301", 4, "me}"),
    ("E302 duplicate name",
     "name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten, name: f}\n  - {type: dense, name: f, units: 2}\n",
     "E302", 5, "f,"),
    ("E303 inputs count",
     "name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, name: a, filters: 3, kernel: 1}\n"
     "  - {type: conv, filters: 3, kernel: 1, inputs: [a, input]}\n", "E303", 5, "[a,"),
    ("E401 concat of unequal spatial sizes",
     "name: x\ninput: [32, 32, 3]\nblocks:\n  - {type: conv, name: a, filters: 8, kernel: 3}\n"
     "  - {type: conv, name: b, filters: 8, kernel: 3, strides: 2}\n  - {type: concat, inputs: [a, b]}\n",
     "E401", 6, "{"),
    ("E402 spatial size collapses",
     "name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filters: 4, n_conv: 1, repeat: 4}\n",
     "E402", 4, "{"),
    ("E403 conv after flatten",
     "name: x\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten}\n  - {type: conv, filters: 3, kernel: 3}\n",
     "E403", 5, "{"),
    ("E204 null channels", "name: x\ninput: [8, 8, null]\nblocks:\n  - {type: flatten}\n",
     "E204", 2, "["),
    ("E404 flatten on an unknown size",
     "name: x\ninput: [null, null, 3]\nblocks:\n  - {type: conv, filters: 3, kernel: 3}\n"
     "  - {type: flatten}\n  - {type: dense, units: 2}\n", "E404", 5, "{"),
    ("E601 over budget", GOOD + "budget: {max_params: 0.5K}\n", "E601", 5, "0.5K"),
    ("E602 expect params", GOOD + "expect: {params: 1}\n", "E602", 5, "1}"),
    ("E603 MACs budget on an unknown size",
     "name: x\ninput: [null, null, 3]\nblocks:\n  - {type: conv, filters: 3, kernel: 3}\n"
     "budget: {max_macs: 1G}\n", "E603", 5, "1G"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "code", "line", "at"), [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])  # fmt: skip
def test_each_error_kind(tmp_path: Path, text: str, code: str, line: int, at: str) -> None:
    spec = write(tmp_path, text)
    col = text.splitlines()[line - 1].index(at) + 1
    r = run_cli("check", str(spec))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert f"{spec}:{line}:{col}: error[{code}]" in r.stderr, r.stderr
    assert f"FAIL  {spec}" in r.stdout


def test_e403_is_the_rank_error(tmp_path: Path) -> None:
    """A conv after flatten names the block and says what it needs."""
    spec = write(tmp_path, next(e[1] for e in ERRORS if e[2] == "E403"))
    result = check.check_file(spec)
    assert [d.code for d in result.errors] == ["E403"]
    assert "blocks[1]" in result.errors[0].message


def test_valid_zoo_prints_totals_and_exits_0() -> None:
    r = run_cli("check", "specs")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    for path in SPECS:
        data = yaml.safe_load(path.read_text())
        line = next(x for x in r.stdout.splitlines() if str(path.relative_to(ROOT)) in x)
        assert line.startswith("ok")
        params = data.get("expect", {}).get("params")
        if isinstance(params, int):  # the references' figures (a family's is an expression)
            assert f": {params:,} params" in line
        if isinstance(data.get("expect", {}).get("output_shape"), list):
            shape = ", ".join(str(d) for d in data["expect"]["output_shape"])
            assert f"output (None, {shape})" in line
    assert r.stdout.splitlines()[-1] == f"{len(SPECS)} specs checked, {len(SPECS)} valid"


def test_table_adds_the_per_block_rows(tmp_path: Path) -> None:
    spec = write(tmp_path, GOOD)
    r = run_cli("check", "--table", str(spec))
    assert r.returncode == 0, r.stderr
    # 8 filters, 3x3: (3*3*3+1)*8 + (3*3*8+1)*8 = 224 + 584
    assert re.search(r"^vgg_1\s+vgg\s+\(None, 16, 16, 8\)\s+808\b", r.stdout, re.M), r.stdout


def test_all_schema_errors_of_a_file_at_once(tmp_path: Path) -> None:
    spec = write(tmp_path, textwrap.dedent("""\
        name: x
        input: [8, 8, 3]
        blocks:
          - {type: vgg, n_filter: 64, n_conv: 2}
          - {type: vgg, n_filters: "64", n_conv: 2, activaton: relu}
          - {type: cnv, filters: 3}
        """))  # fmt: skip
    r = run_cli("check", str(spec))
    assert r.returncode == 1
    codes = re.findall(r"error\[(E\d+)\]", r.stderr)
    # `n_filter` is reported once, as unknown with its hint, not also `n_filters` as missing
    assert codes == ["E201", "E202", "E201", "E205"]
    assert "did you mean `n_filters`?" in r.stderr
    assert "did you mean `activation`?" in r.stderr
    assert "did you mean `conv`?" in r.stderr
    assert "\033[" not in r.stdout + r.stderr  # no colour when not on a terminal


def test_mixed_folder_exit_1_and_each_file_reported(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", GOOD.replace("n_conv: 2", "n_conv: 0"), "b.yml")
    (tmp_path / ".hidden").mkdir()
    write(tmp_path / ".hidden", "not: a spec\n", "c.yaml")
    write(tmp_path, "ignored\n", "notes.txt")
    r = run_cli("check", str(tmp_path))
    assert r.returncode == 1
    assert f"ok    {tmp_path / 'a.yaml'}" in r.stdout
    assert f"FAIL  {tmp_path / 'sub' / 'b.yml'}: 1 error" in r.stdout
    assert "c.yaml" not in r.stdout + r.stderr
    assert r.stdout.splitlines()[-1] == "2 specs checked, 1 valid, 1 invalid (1 error)"


def test_missing_path_and_empty_folder_exit_2(tmp_path: Path) -> None:
    r = run_cli("check", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2
    assert "error[E001]: no such file or folder" in r.stderr
    r = run_cli("check", str(tmp_path))
    assert r.returncode == 2
    assert f"no spec files found in {tmp_path}\n" in r.stderr  # the folder searched is named
    r = run_cli("check")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_bad_set_is_a_usage_error(tmp_path: Path) -> None:
    spec = write(tmp_path, GOOD)
    r = run_cli("check", "--set", "width=3", str(spec))
    assert r.returncode == 2
    assert "E503" in r.stderr


def test_unused_block_is_a_warning_not_an_error(tmp_path: Path) -> None:
    spec = write(tmp_path, GOOD + "  - {type: flatten, name: f}\n  - {type: dense, units: 3, inputs: f}\n"
                 "  - {type: dense, name: unused, units: 2, inputs: f}\noutputs: [dense_1]\n")  # fmt: skip
    r = run_cli("check", str(spec))
    assert r.returncode == 0, r.stderr
    assert f"{spec}:7:5: warning[W301]: blocks[3]: block `unused` feeds no output" in r.stderr
    assert r.stdout.splitlines()[-1].endswith("1 valid, 1 warning")


def test_an_unused_user_defined_block_is_one_warning_at_its_use(tmp_path: Path) -> None:
    # a walkthrough: two unused uses gave four W301, all at the definition's blocks, with no
    # word of the use and a hint (`inputs: s1_a`) that E301 then refused
    spec = write(
        tmp_path,
        """\
name: w
input: [32, 32, 3]
define:
  u:
    blocks:
      - {type: conv, name: a, filters: 8, kernel: 3}
      - {type: conv, name: b, filters: 8, kernel: 3}
  v:
    blocks:
      - {type: conv, name: side, filters: 8, kernel: 3}
      - {type: conv, name: main, filters: 8, kernel: 3, inputs: input}
blocks:
  - {type: conv, name: c, filters: 8, kernel: 3}
  - {type: u, name: s1, inputs: c}
  - {type: u, name: s2, inputs: c}
  - {type: v, name: t1, inputs: c}
  - {type: v, name: t2, inputs: t1}
""",
    )
    result = check.check_file(spec)
    assert result.ok
    s1, s2, side = result.warnings
    assert (s1.code, s1.path, s1.line, s1.message) == (
        "W301",
        ("blocks", 1),
        14,
        "blocks[1]: block `s1` (u) feeds no output; Keras drops it",
    )
    assert (s2.path, s2.hint) == (("blocks", 2), s1.hint)
    assert "`inputs`" in s1.hint and "`outputs`" in s1.hint  # a hint that can be followed
    assert (side.code, side.path, side.line) == ("W301", ("define", "v", "blocks", 0), 10)
    assert side.message == ("define.v.blocks[0]: block `side` feeds no later block of its "
                            "definition; Keras drops it")  # fmt: skip
    assert [(r.message, r.line) for r in side.related] == [
        ("in the block used at blocks[3]", 16), ("in the block used at blocks[4]", 17)
    ]  # fmt: skip


@pytest.mark.parametrize(("inner", "uses", "message", "notes"), [
    # a review: an instance inside a definition that nothing there reads was warned at the
    # inner definition's blocks, which do read each other
    ("{type: inner, name: s}", "  - {type: outer, name: o1}\n  - {type: outer, name: o2}\n",
     "define.outer.blocks[0]: block `s` (inner) feeds no later block of its definition",
     ["in the block used at blocks[1]", "in the block used at blocks[2]"]),
    ("{type: inner, name: s, repeat: 2}", "  - {type: outer, name: o1}\n",
     "define.outer.blocks[0]: the 2 copies of `s` (inner) feed no later block of its definition",
     ["in the block used at blocks[1]"]),
    # a use repeated, which nothing reads: the name it is written with, not `s_1`
    ("{type: conv, name: s, filters: 8, kernel: 3}",
     "  - {type: inner, name: t, repeat: 3}\n  - {type: outer, name: o1, inputs: c}\n",
     "blocks[1]: the 3 copies of `t` (inner) feed no output", []),
])  # fmt: skip
def test_unused_nested_and_repeated_instances_are_warned_where_written(
    tmp_path: Path, inner: str, uses: str, message: str, notes: list[str]
) -> None:
    spec = write(
        tmp_path,
        f"""\
name: w
input: [32, 32, 3]
define:
  inner: {{blocks: [{{type: conv, name: a, filters: 8, kernel: 3}}, {{type: conv, name: b, filters: 8, kernel: 3}}]}}
  outer: {{blocks: [{inner}, {{type: conv, name: m, filters: 8, kernel: 3, inputs: input}}]}}
blocks:
  - {{type: conv, name: c, filters: 8, kernel: 3}}
"""
        + uses,
    )
    result = check.check_file(spec)
    assert result.ok
    (d,) = [w for w in result.warnings if w.message.startswith(message.split(":")[0] + ":")]
    assert (d.code, d.message) == ("W301", message + "; Keras drops it")
    assert [r.message for r in d.related] == notes


# -- budget and expect ----------------------------------------------------------------------

MODEL = """\
name: m
input: [64, 64, 3]
blocks:
  - {type: vgg, name: small, n_filters: 64, n_conv: 2}
  - {type: vgg, name: big, n_filters: 128, n_conv: 2}
  - {type: global_avg_pool}
  - {type: dense, name: head, units: 10}
"""
BUDGET = MODEL + "budget:\n  max_params: 100K\n  max_trainable_params: 1000000\n  max_macs: 0.1G\n"
# params by hand: small (3*9+1)*64 + (64*9+1)*64 = 38,720; big (64*9+1)*128 + (128*9+1)*128
# = 221,440; head 128*10+10 = 1,290; total 261,450.
# MACs: small 64*64*(27*64) + 64*64*(576*64) = 158,072,832; big 32*32*(576*128 + 1152*128)
# = 226,492,416; head 1,280; total 384,566,528.


def test_budget_names_figure_limit_actual_and_top_blocks(tmp_path: Path) -> None:
    result = check.check_file(write(tmp_path, BUDGET))
    assert [(d.code, d.line, d.col) for d in result.errors] == [("E601", 9, 15), ("E601", 11, 13)]
    params, macs = result.errors
    assert "budget.max_params" in params.message
    assert "261,450" in params.message and "100,000 (100K)" in params.message
    assert params.hint is not None
    assert params.hint.startswith("largest contributors: `big` 221.44K (85%), `small` 38.72K")
    assert "384,566,528" in macs.message and "100,000,000 (0.1G)" in macs.message
    assert macs.hint is not None and macs.hint.startswith("largest contributors: `big`")


def test_within_budget_passes(tmp_path: Path) -> None:
    text = BUDGET.replace("100K", "261450").replace("0.1G", "384566528")
    result = check.check_file(write(tmp_path, text))
    assert result.ok, result.errors


EXPECT = MODEL + "expect:\n"


@pytest.mark.parametrize(
    ("lines", "ok"),
    [
        ("  params: 261450\n  trainable_params: 261450\n  macs: 384566528\n  output_shape: [10]\n", True),
        ("  macs: 384.6M\n", True),  # written at one decimal: 384.57M rounds to 384.6M
        ("  macs: 385M\n", True),
        ("  macs: 384.5M\n", False),
        ("  params: 261.45K\n", None),  # params are exact ints (SPEC.md): a schema error
        ("  output_shape: {head: [10]}\n", True),
        ("  output_shape: {head: [11]}\n", False),
        ("  output_shape: {hed: [10]}\n", False),
        ("  params: 261451\n", False),
        ("  trainable_params: 0\n", False),
    ],
)  # fmt: skip
def test_expect(tmp_path: Path, lines: str, ok: bool | None) -> None:
    result = check.check_file(write(tmp_path, EXPECT + lines))
    if ok is None:
        assert [d.code for d in result.errors] == ["E202"]
    elif ok:
        assert result.ok, result.errors
    else:
        assert [d.code for d in result.errors] == ["E602"]
        d = result.errors[0]
        assert d.line == 9 and d.path[0] == "expect"


def test_expect_message_names_expected_and_actual(tmp_path: Path) -> None:
    result = check.check_file(write(tmp_path, EXPECT + "  params: 261451\n  output_shape: [7]\n"))
    params, shape = result.errors
    assert params.message == (
        "expect.params: expected 261,451 params, the model has 261,450 (261.45K) "
        "(a difference of -1)"
    )
    assert params.hint == "if the model is right, write `params: 261450`"
    assert (shape.line, shape.col) == (10, 17)
    assert "expected [7], the output `head` has shape [10]" in shape.message


@pytest.mark.parametrize(("lines", "hint"), [
    # a new user's `output_shape: [None, 1000]`: "expected an integer, received 'None'", alone
    # (a review: the first may be an unknown height, not the batch: the hint says "if")
    ("  output_shape: [None, 10]\n", "if the first is the batch dimension, leave it out: "
     "`output_shape: [10]`; an unknown size is `null`; YAML reads `None` as text"),
    ("  output_shape: {head: [none, 10]}\n", "if the first is the batch dimension, leave it "
     "out: `head: [10]`; an unknown size is `null`; YAML reads `None` as text"),
    ("  output_shape: [10, None]\n", "an unknown size is `null`; YAML reads `None` as text"),
    # refused as `budget` takes it, and not a word of why
    ("  params: 261.45K\n", "`expect.params` is compared exactly: write the whole count, as "
     "`check` prints it; a rounded figure such as `261.45K` is for `budget.max_params` (and "
     "`expect.macs`, compared at the precision written)"),
])  # fmt: skip
def test_expect_written_as_elsewhere_is_told_why_not(tmp_path: Path, lines: str, hint: str):
    result = check.check_file(write(tmp_path, EXPECT + lines))
    assert [(d.code, d.hint) for d in result.errors] == [("E202", hint)]


@pytest.mark.parametrize(("written", "hint"), [
    ("384.5M", "384.57M"),  # it suggested `macs: 384566528` for a figure written with a suffix
    ("1G", "384.57M"),
    ("384566527", "384566528"),
])  # fmt: skip
def test_expect_macs_suggests_the_form_written(tmp_path: Path, written: str, hint: str):
    result = check.check_file(write(tmp_path, EXPECT + f"  macs: {written}\n"))
    assert [(d.code, d.hint) for d in result.errors] == [
        ("E602", f"if the model is right, write `macs: {hint}`")
    ]
    assert result.graph is not None and expect.matches(hint, result.graph.cost.macs or 0)


def test_matches_at_the_written_precision() -> None:
    assert expect.matches(25_557_032, 25_557_032)
    assert not expect.matches(25_557_032, 25_557_033)
    assert expect.matches("25.6M", 25_557_032)
    assert not expect.matches("25.6M", 25_700_000)
    assert expect.matches("4G", 3_868_000_000)
    assert expect.matches("3.87G", 3_868_000_000)
    assert not expect.matches("3.9G", 3_838_000_000)


# -- the static path stays static -----------------------------------------------------------


def test_check_never_imports_tensorflow(tmp_path: Path) -> None:
    write(tmp_path, GOOD + "budget: {max_params: 500}\n", "over.yaml")
    code = (
        "import sys\n"
        "from archspec.cli import main\n"
        f"sys.argv = ['archspec', 'check', '--format', 'json', {str(ROOT / 'specs')!r}, "
        f"{str(tmp_path)!r}]\n"
        "code = 0\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "sys.stderr.write(f'exit={code} heavy={bad}')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.stderr.strip() == "exit=1 heavy=[]", r.stderr
    assert json.loads(r.stdout)["summary"]["invalid"] == 1


@pytest.mark.parametrize("broken", [
    "  - {type: conv, filters: 8, kernel: 3, inputs: [nope]}\n",  # found while resolving
    "  - {type: conv, filters: 8, kernel: 99, padding: valid}\n",  # found while lowering
    "  - {type: conv, filters: -8, kernel: 3}\n",  # the schema's
])  # fmt: skip
def test_an_invalid_specs_warnings_come_after_its_errors(tmp_path, broken):
    # the W302 was dropped when a later block failed
    spec = write(tmp_path, "name: a\ninput: [32, 32, 3]\nblocks:\n  - {type: conv, filters: 8, "
                 "kernel: 3, batch_norm: false, bn_momentum: 0.9}\n" + broken)  # fmt: skip
    [result] = check.run([spec])
    codes = [(d.severity, d.code) for d in result.diagnostics]
    assert codes[-1] == ("warning", "W302") and codes[0][0] == "error", codes
    assert result.exit_code == 1


def test_an_included_specs_warnings_and_prunings_stay_with_the_error(tmp_path):
    # the included spec's W302 was dropped when it failed; W301 when the totals' limit failed
    write(tmp_path, "name: inner\ninput: [32, 32, 3]\nblocks:\n  - {type: conv, filters: 8, "
          "kernel: 3, batch_norm: false, bn_epsilon: 0.1}\n  - {type: conv, filters: 8, "
          "kernel: 3, inputs: [nope]}\n", "inner.yaml")  # fmt: skip
    head = write(tmp_path, "name: h\ninput: [32, 32, 3]\nblocks:\n"
                 "  - {type: spec, path: inner.yaml}\n", "head.yaml")  # fmt: skip
    [result] = check.run([head])
    assert [(d.severity, d.code) for d in result.diagnostics] == [
        ("error", "E301"), ("warning", "W302")]  # fmt: skip
    # the totals (9,000 + 1,001 params) pass 10,000; no layer does
    pruned = write(tmp_path, "name: p\ninput: [8]\nblocks:\n"
                   "  - {type: dense, name: dead, units: 1}\n"
                   "  - {type: dense, units: 1000, inputs: [input]}\n"
                   "  - {type: dense, units: 1}\n", "p.yaml")  # fmt: skip
    [result] = check.run([pruned], limits=dataclasses.replace(DEFAULT, params=10_000))
    assert [(d.severity, d.code) for d in result.diagnostics] == [
        ("error", "E710"), ("warning", "W301")]  # fmt: skip


def test_the_text_of_an_error_marks_the_warnings_it_holds(tmp_path):
    import archspec

    spec = write(tmp_path, "name: a\ninput: [32, 32, 3]\nblocks:\n  - {type: conv, filters: 8, "
                 "kernel: 3, batch_norm: false, bn_momentum: 0.9}\n  - {type: flatten, "
                 "inputs: [nope]}\n")  # fmt: skip
    with pytest.raises(archspec.SpecError) as e:
        archspec.analyze(spec)
    first, second = str(e.value).splitlines()
    assert ": warning: " not in first and ": warning: blocks[0].bn_momentum: " in second


def test_a_folder_search_finds_suffixes_in_any_case_and_skips_hidden_files(tmp_path: Path) -> None:
    """A CI walkthrough: `B.YAML` was skipped without a word (a spec nobody checked)."""
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "B.YAML")
    write(tmp_path, GOOD, "c.Yml")
    write(tmp_path, "not: a spec\n", ".d.yaml")  # hidden, as the README says
    found = check.find_specs([tmp_path])
    assert sorted(p.name for p in found) == ["B.YAML", "a.yaml", "c.Yml"]


def test_exclude_leaves_names_and_paths_out_of_a_folder_search(tmp_path: Path) -> None:
    """A CI walkthrough's monorepo: `archspec check .` failed on a training config beside the
    specs, with no way to leave it out."""
    (tmp_path / "models" / "sub").mkdir(parents=True)
    (tmp_path / "configs").mkdir()
    write(tmp_path / "models", GOOD, "a.yaml")
    write(tmp_path / "models" / "sub", GOOD, "b.yaml")
    write(tmp_path / "models", "lr: 0.1\n", "a_train.yaml")
    write(tmp_path / "configs", "lr: 0.1\n", "train.yaml")
    r = run_cli("check", ".", cwd=tmp_path)
    assert r.returncode == 1 and "FAIL  configs/train.yaml" in r.stdout
    r = run_cli("check", ".", "--exclude", "configs", "--exclude", "*_train.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "2 specs checked, 2 valid"
    # a path below the folder searched (a trailing / too), and a folder given beside it
    found = check.find_specs([tmp_path], exclude=["models/sub/", "configs", "*_train.yaml"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["models/a.yaml"]
    found = check.find_specs([tmp_path / "models"], exclude=["sub/"])  # a name at any depth
    assert [p.name for p in found] == ["a.yaml", "a_train.yaml"]
    # a review: a folder named like a zoo network, all of it excluded, checked the network
    (tmp_path / "vgg16").mkdir()
    write(tmp_path / "vgg16", "lr: 0.1\n", "train.yaml")
    r = run_cli("check", "vgg16", "--exclude", "train.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "no spec files found in vgg16" in r.stderr, r.stdout


def test_a_yaml_file_with_none_of_a_specs_keys_is_one_error_with_the_way_out(tmp_path: Path):
    """Another tool's YAML in a folder searched got four errors (no `name`, no `blocks`, an
    unknown key, no `input`) and no word of leaving it out; a spec's misspelt key is no such
    file (`Name` is `name`)."""
    (d,) = check.check_file(write(tmp_path, "lr: 0.1\nepochs: 3\n", "train.yaml")).diagnostics
    assert (d.code, d.line) == ("E106", 1)
    assert d.message.endswith("this file has none of a spec's keys (`lr`, `epochs`)")
    assert d.hint is not None and "--exclude" in d.hint
    codes = [x.code for x in check.check_file(write(tmp_path, "Name: x\nlr: 1\n")).diagnostics]
    assert "E106" not in codes


def test_strict_makes_every_warning_an_error(tmp_path: Path) -> None:
    """A CI walkthrough: no way to fail a pull request on warnings (a block that feeds nothing,
    W301, is often a wiring mistake)."""
    unread = ("name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, name: a, filters: 4, "
              "kernel: 3}\n  - {type: conv, name: b, filters: 4, kernel: 3, inputs: input}\n")  # fmt: skip
    spec = write(tmp_path, unread, "warn.yaml")
    write(tmp_path, GOOD, "good.yaml")
    (plain,) = check.run([spec])
    assert plain.exit_code == 0 and [d.severity for d in plain.diagnostics] == ["warning"]
    (strict,) = check.run([spec], strict=True)
    assert strict.exit_code == 1 and not strict.ok
    assert [(d.code, d.severity) for d in strict.diagnostics] == [("W301", "error")]
    r = run_cli("check", "--strict", "-f", "json", ".", cwd=tmp_path)
    report = json.loads(r.stdout)
    assert (
        r.returncode == 1 and report["summary"]["invalid"] == 1 and report["summary"]["valid"] == 1
    )
    r = run_cli("check", "--strict", "good.yaml", cwd=tmp_path)  # nothing to promote
    assert r.returncode == 0
    # a review: W101 (a link the folder search skipped) went with the first file and failed
    # it; it is no spec's warning and stays one
    (tmp_path / "clean").mkdir()
    write(tmp_path / "clean", GOOD, "a.yaml")
    (tmp_path / "clean" / "z.yaml").symlink_to(tmp_path / "good.yaml")
    r = run_cli("check", "--strict", "-f", "json", "clean", cwd=tmp_path)
    report = json.loads(r.stdout)
    assert r.returncode == 0 and report["ok"] and report["summary"]["valid"] == 1
    assert [(w["code"], w["severity"]) for w in report["skipped"]] == [("W101", "warning")]


def test_the_python_api_checks_as_the_command_does_without_raising() -> None:
    """A pipeline had no way to apply `budget` and `expect` without TensorFlow: `analyze`
    ignores them and only `build` raised E601. `archspec.check` returns what `check` finds."""
    import archspec

    text = ("name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 8, kernel: 3}\n"
            "  - {type: batch_norm, momentum: 0.1}\nbudget: {max_params: 100}\n")  # fmt: skip
    result = archspec.check(archspec.load(text=text))
    assert not result.ok and result.file == "<spec>" and result.graph is not None
    # 3 x 3 x 3 x 8 + 8 = 224 params for the conv, 4 x 8 for the batch norm
    assert [d.code for d in result.errors] == ["E601"] and "params 256" in result.errors[0].message
    assert [d.code for d in result.warnings] == ["W306"]
    # torchvision's 11,689,512 and 2 x 4,800 BN moving statistics (REFERENCE.md)
    by_name = archspec.check("resnet", sets=["depth=18"])  # a zoo family's member
    assert by_name.ok and by_name.graph is not None and by_name.graph.params == 11_699_112
    missing = archspec.check("no_such_spec.yaml")  # a usage error is a result too
    assert (missing.exit_code, missing.errors[0].code) == (2, "E001")


@pytest.mark.parametrize("call", ["analyze", "compile", "check", "build"])
def test_sets_with_a_spec_loaded_already_are_refused_not_ignored(call: str) -> None:
    """`archspec.analyze(archspec.load("resnet"), sets=["depth=101"])` gave ResNet-50."""
    import archspec

    spec = archspec.load("resnet")
    with pytest.raises(ValueError, match=r"give them to archspec.load\(path, sets=...\)"):
        getattr(archspec, call)(spec, sets=["depth=101"])


def test_api_errors_name_the_python_argument_beside_the_flag(tmp_path: Path) -> None:
    """A pipeline calling `archspec.build(..., output)` was told `pass --force`; the `Limits`
    the hint names is `archspec.Limits` (a search script found no such name)."""
    import archspec
    from archspec import Limits

    (tmp_path / "m.keras").write_bytes(b"x")
    with pytest.raises(archspec.ArchspecError) as e:
        archspec.build(ROOT / "specs" / "seed" / "vgg_one_block.yaml", tmp_path / "m.keras")
    assert e.value.diagnostics[0].hint == "pass --force (in Python: force=True) to replace it"
    with pytest.raises(archspec.ArchspecError) as e:
        archspec.analyze("resnet50", limits=Limits(params=1000))
    assert "--max-params (in Python: limits=archspec.Limits(params=...))" in str(
        e.value.diagnostics[0].hint
    )


def test_the_python_check_keeps_the_limits_and_refuses_a_graph() -> None:
    """A review: `check(spec, limits=...)` ignored the limits for a loaded spec, and a Graph
    failed on `os.fspath`."""
    import archspec
    from archspec.core.limits import Limits

    loaded = archspec.check(archspec.load("resnet50"), limits=Limits(params=1000))
    assert [d.code for d in loaded.errors] == ["E710"]
    with pytest.raises(TypeError, match="not a Graph"):
        archspec.check(archspec.analyze("resnet50"))
