"""The bad-input catalogue (README "Guarantees"): hostile and broken files through the CLI.

Every case runs `python -m archspec` in a subprocess, in its own empty folder, under the
guarantee's bounds: at most 1 GiB of address space (RLIMIT_AS) and 10 s of CPU time
(RLIMIT_CPU: the kernel stops the process; CPU time, unlike wall time, does not depend on what
else the machine is doing, and the wall clock is also bounded with slack). Each asserts the exit
code, the error code, file:line:col where a position exists, no traceback, that neither
TensorFlow nor Keras was imported (read from `python -X importtime`: bad input is answered
before TensorFlow is loaded, which is also what makes it fast), and that the folder is unchanged.

The in-process tests at the end pin what the catalogue cannot see from outside (an alias bomb
answered in milliseconds with little memory, `repeat: 1000000` refused without expanding) and
the crashes found by fuzzing and review, each as a regular test.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest

import archspec
from archspec.core.errors import ArchspecError
from archspec.core.limits import DEFAULT, from_options
from tests.conftest import ROOT

#: The command every spec case goes through. `check` runs loader, schema, resolve and lower
#: and never imports TensorFlow.
CMD: tuple[str, ...] = ("check",)

GUARANTEE_SECONDS = 10
GUARANTEE_BYTES = 1 << 30

OK = "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 4, kernel: 3}\n"


@dataclass
class Result:
    returncode: int
    stderr: str  # without the -X importtime lines
    stdout: str
    imported: set[str]  # top-level packages imported
    seconds: float  # CPU time, user and system


def _limit_memory_and_time() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (GUARANTEE_BYTES, GUARANTEE_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (GUARANTEE_SECONDS, GUARANTEE_SECONDS))


def run(args: list[str], cwd: Path) -> Result:
    """`python -X importtime -m archspec ARGS` in `cwd`, within 1 GiB and 10 s of CPU."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "archspec", *args],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=cwd,
        env=env,
        timeout=6 * GUARANTEE_SECONDS,  # wall clock, with slack for a busy machine
        preexec_fn=_limit_memory_and_time,
    )
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    assert seconds < GUARANTEE_SECONDS, f"{seconds:.1f} s of CPU ({wall:.1f} s wall)"
    imported, rest = set(), []
    for line in r.stderr.splitlines():
        if line.startswith("import time:"):
            module = line.rsplit("|", 1)[-1].strip()
            imported.add(module.split(".")[0])
        else:
            rest.append(line)
    return Result(r.returncode, "\n".join(rest), r.stdout, imported, seconds)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under `folder` with its size and modification time."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            out[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


def expect(
    r: Result,
    exit_code: int,
    code: str,
    where: str | tuple[str, int, int | None] | None,
    before: dict[str, tuple[int, int]],
    folder: Path,
) -> None:
    """The catalogue's contract for one case."""
    assert r.returncode == exit_code, r.stderr
    if isinstance(where, tuple):  # (file, line, col or None: any column)
        col = r"\d+" if where[2] is None else str(where[2])
        head = rf"^{re.escape(where[0])}:{where[1]}:{col}: error\[{code}\]"
    else:
        head = "^" + re.escape(f"{where}: error[{code}]") if where else rf"error\[{code}\]"
    assert re.search(head, r.stderr, re.MULTILINE), r.stderr
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert not r.imported & {"tensorflow", "keras"}, "TensorFlow was imported for bad input"
    assert snapshot(folder) == before, "the working folder changed"


# (id, file content (str or bytes), error code, (line, col) or None); all exit 1. A column of
# None: the parser's position in a run of brackets differs between libyaml and pure PyYAML.
SPEC_CASES: list[tuple[str, str | bytes, str, tuple[int, int | None] | None]] = [
    ("invalid_utf8", b"name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten, name: \xff}\n",
     "E107", (4, 27)),
    ("nul_byte", "name: m\0\ninput: [8, 8, 3]\n", "E107", (1, 8)),
    ("empty", "", "E106", (1, 1)),
    ("only_comments", "# a spec\n# nothing else\n", "E106", (1, 1)),
    ("top_level_list", "- name: m\n- input: [8, 8, 3]\n", "E106", (1, 1)),
    ("top_level_scalar", "hello\n", "E106", (1, 1)),
    ("yaml_syntax_error", "name: m\ninput: [8, 8, 3\nblocks: []\n", "E101", (3, 7)),
    ("tab_indentation", "name: m\ninput: [8, 8, 3]\nblocks:\n\t- {type: flatten}\n", "E101", (4, 1)),
    ("two_documents", OK + "---\n" + OK, "E106", (5, 1)),
    ("other_tag_str", "name: !!str m\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten}\n",
     "E104", (1, 7)),
    ("other_tag_local", "name: m\ninput: !shape [8, 8, 3]\nblocks:\n  - {type: flatten}\n",
     "E104", (2, 8)),
    ("other_tag_binary", "name: m\ndescription: !!binary aGVsbG8=\ninput: [8, 8, 3]\n"
     "blocks:\n  - {type: flatten}\n", "E104", (2, 14)),
    ("alias_bomb", "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
     + "".join(f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)),
     "E103", (1, 4)),
    ("nested_brackets_40000", "name: m\ninput: " + "[" * 40_000 + "\n", "E702", (2, None)),
    ("nested_mappings_40000", "name: m\ninput: " + "{a: " * 40_000 + "\n", "E702", (2, None)),
    ("duplicate_key", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten}\nname: n\n",
     "E102", (5, 1)),
    ("merge_key", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {<<: {type: flatten}}\n", "E105", (4, 6)),
    ("unknown_key", "name: m\ninput: [8, 8, 3]\nlayers: []\nblocks:\n  - {type: flatten}\n",
     "E201", (3, 1)),
    ("n_filters_yes", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filters: yes, n_conv: 1}\n",
     "E202", (4, 28)),
    ("n_filters_float", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filters: 3.7, n_conv: 1}\n",
     "E202", (4, 28)),
    ("n_filters_string", 'name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filters: "64", n_conv: 1}\n',
     "E202", (4, 28)),
    ("n_filters_1e3", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filters: 1e3, n_conv: 1}\n",
     "E202", (4, 28)),
    ("n_filters_zero", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filters: 0, n_conv: 1}\n",
     "E204", (4, 28)),
    ("n_filters_negative", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filters: -3, n_conv: 1}\n",
     "E204", (4, 28)),
    ("filters_30_digits", "name: m\ninput: [8, 8, 3]\nblocks:\n"
     "  - {type: conv, filters: 123456789012345678901234567890, kernel: 3}\n", "E707", (4, 27)),
    ("repeat_million", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: dense, units: 4, repeat: 1000000}\n",
     "E706", (4, 37)),
    ("n_conv_million", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filters: 4, n_conv: 1000000}\n",
     "E705", (4, 5)),
    # every layer within the per-layer limits (4,096 filters, 3x3), 2.1 G parameters in total
    ("params_2G", "name: m\ninput: [4, 4, 4096]\nblocks:\n"
     "  - {type: conv, filters: 4096, kernel: 3, repeat: 14}\n", "E710", (4, 5)),
    ("activations_20GiB", "name: m\ninput: [1024, 1024, 3]\nblocks:\n"
     "  - {type: conv, filters: 1024, kernel: 3, repeat: 5}\n", "E711", (4, 5)),
    ("input_huge", "name: m\ninput: [100000, 100000, 3]\nblocks:\n  - {type: flatten}\n",
     "E709", (2, 8)),
    ("input_zero", "name: m\ninput: [0, 32, 3]\nblocks:\n  - {type: flatten}\n", "E204", (2, 9)),
    ("input_rank_4", "name: m\ninput: [8, 8, 8, 3]\nblocks:\n  - {type: flatten}\n", "E204", (2, 8)),
    ("kernel_huge", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 4, kernel: 100000}\n",
     "E708", (4, 38)),
    ("too_many_stride_2", "name: m\ninput: [8, 8, 3]\nblocks:\n" + "  - {type: max_pool}\n" * 4,
     "E402", (7, 5)),
    ("rate_nan", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: dropout, rate: .nan}\n", "E202", (4, 27)),
    ("rate_1_5", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: dropout, rate: 1.5}\n", "E204", (4, 27)),
    ("rate_inf", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: dropout, rate: .inf}\n", "E202", (4, 27)),
    ("type_lambda", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: Lambda}\n", "E205", (4, 12)),
    ("type_os_system", "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: os.system}\n", "E205", (4, 12)),
    ("archspec_2", "archspec: 2\n" + OK, "E206", (1, 11)),
    ("number_100k_digits", "name: m\ninput: [8, 8, 3]\nblocks:\n"
     "  - {type: conv, filters: " + "9" * 100_000 + ", kernel: 3}\n", "E704", (4, 27)),
    # 18,000 schema errors: deduplicating them was quadratic (a minute of CPU)
    ("errors_18000", "name: m\ninput: [8]\nblocks:\n" + "  - {type: dense, units: yes, foo: 1}\n" * 9000,
     "E202", (4, 26)),
    ("sexagesimal_bomb", "name: m\ninput: [8, 8, 3]\nblocks:\n"
     "  - {type: conv, filters: 1" + ":0" * 300_000 + ", kernel: 3}\n", "E704", (4, 27)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "code", "pos"), [c[1:] for c in SPEC_CASES], ids=[c[0] for c in SPEC_CASES]
)
def test_bad_spec(tmp_path, content, code, pos):
    spec = tmp_path / "spec.yaml"
    if isinstance(content, bytes):
        spec.write_bytes(content)
    else:
        spec.write_text(content, encoding="utf-8")
    before = snapshot(tmp_path)
    r = run([*CMD, "spec.yaml"], tmp_path)
    expect(r, 1, code, ("spec.yaml", *pos) if pos else "spec.yaml", before, tmp_path)


def test_python_tag_runs_nothing(tmp_path):
    """`!!python/object/apply:os.system` is refused at the tag, and the command never runs."""
    pwned = tmp_path / "pwned"
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: m\ninput: [8, 8, 3]\nblocks:\n"
        f'  - !!python/object/apply:os.system ["touch {pwned}"]\n'
        f"description: !!python/object/apply:os.system [touch {pwned}]\n"
    )
    before = snapshot(tmp_path)
    r = run([*CMD, "spec.yaml"], tmp_path)
    expect(r, 1, "E104", ("spec.yaml", 4, 5), before, tmp_path)
    assert not pwned.exists()


def test_file_over_1_mib(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(OK + "# padding\n" * (DEFAULT.file_bytes // 10 + 1))
    assert spec.stat().st_size > 1 << 20
    before = snapshot(tmp_path)
    expect(run([*CMD, "spec.yaml"], tmp_path), 1, "E701", "spec.yaml", before, tmp_path)


# -- files that cannot be read: exit 2 ------------------------------------------------------


def _missing(tmp_path: Path) -> str:
    return "missing.yaml"


def _directory(tmp_path: Path) -> str:
    (tmp_path / "specs.yaml").mkdir()
    return "specs.yaml"


def _under_a_file(tmp_path: Path) -> str:
    (tmp_path / "spec.yaml").write_text(OK)
    return "spec.yaml/inner.yaml"


def _fifo(tmp_path: Path) -> str:
    os.mkfifo(tmp_path / "spec.yaml")  # nobody writes to it: reading would wait forever
    return "spec.yaml"


def _device(tmp_path: Path) -> str:
    return "/dev/zero"  # endless


def _symlink_loop(tmp_path: Path) -> str:
    os.symlink("b.yaml", tmp_path / "a.yaml")
    os.symlink("a.yaml", tmp_path / "b.yaml")
    return "a.yaml"


@pytest.mark.parametrize(
    "make", [_missing, _directory, _under_a_file, _fifo, _device, _symlink_loop],
    ids=lambda f: f.__name__.strip("_"),
)  # fmt: skip
def test_unreadable_path_exits_2(tmp_path, make):
    path = make(tmp_path)
    before = snapshot(tmp_path)
    r = run([*CMD, path], tmp_path)
    # `check` searches a folder for specs: an empty one is "no spec files found", no position
    expect(r, 2, "E001", None if (tmp_path / path).is_dir() else path, before, tmp_path)


def test_folder_with_a_symlink_loop(tmp_path):
    """`check` searches folders recursively: a link to the folder itself is not followed."""
    (tmp_path / "specs").mkdir()
    os.symlink("..", tmp_path / "specs" / "up")
    (tmp_path / "specs" / "bad.yaml").write_text("name: m\n")
    before = snapshot(tmp_path)
    r = run([*CMD, "specs"], tmp_path)
    expect(r, 1, "E203", "specs/bad.yaml:1:1", before, tmp_path)


# -- output paths (only `build` writes): exit 2, before TensorFlow is imported --------------


def _ok_spec(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(OK)


@pytest.mark.parametrize(
    ("setup", "target", "message"),
    [
        (None, "model.h5", "HDF5"),
        (None, "missing/model.keras", "does not exist"),
        ("file", "spec.yaml/model.keras", "does not exist"),  # a parent that is a file
        ("exists", "model.keras", "exists"),
    ],
    ids=["h5", "missing_folder", "parent_is_a_file", "exists_without_force"],
)
def test_output_path_exits_2(tmp_path, setup, target, message):
    _ok_spec(tmp_path)
    if setup == "exists":
        (tmp_path / "model.keras").write_bytes(b"keep me")
    before = snapshot(tmp_path)
    r = run(["build", "spec.yaml", "-o", target], tmp_path)
    expect(r, 2, "E002", None, before, tmp_path)
    assert message in r.stderr
    if setup == "exists":
        assert (tmp_path / "model.keras").read_bytes() == b"keep me"


# -- limit flags ----------------------------------------------------------------------------


def test_max_file_size_flag_raises_the_limit(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(OK.replace("blocks:", "blokcs: 1\nblocks:") + "#\n" * (1 << 20))
    before = snapshot(tmp_path)
    expect(run([*CMD, "spec.yaml"], tmp_path), 1, "E701", "spec.yaml", before, tmp_path)
    r = run([*CMD, "spec.yaml", "--max-file-size", "3M"], tmp_path)
    expect(r, 1, "E201", ("spec.yaml", 3, 1), before, tmp_path)  # read, and the next error shows


def test_max_blocks_flag_raises_the_limit(tmp_path):
    # 20,000 blocks, then a broken reference: past the limit the reference error shows
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: m\ninput: [4]\nblocks:\n  - {type: dense, units: 2, repeat: 20000}\n"
        "  - {type: dense, units: 2, inputs: nowhere}\n"
    )
    before = snapshot(tmp_path)
    expect(run([*CMD, "spec.yaml"], tmp_path), 1, "E706", ("spec.yaml", 4, 37), before, tmp_path)
    r = run([*CMD, "spec.yaml", "--max-blocks", "30000"], tmp_path)
    expect(r, 1, "E301", ("spec.yaml", 5, 37), before, tmp_path)


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--max-params", "lots"), ("--max-file-size", "0"), ("--max-blocks", "-5"),
     ("--max-activation-memory", "1e9")],
)  # fmt: skip
def test_bad_limit_flag_value_exits_2(tmp_path, flag, value):
    _ok_spec(tmp_path)
    before = snapshot(tmp_path)
    r = run([*CMD, "spec.yaml", f"{flag}={value}"], tmp_path)
    expect(r, 2, "E003", None, before, tmp_path)


def test_limit_options_parse_counts_and_sizes():
    lim = from_options(
        {"--max-params": "3G", "--max-file-size": "4M", "--max-activation-memory": "32GiB"}
    )
    assert (lim.params, lim.file_bytes, lim.activation_bytes) == (3 * 10**9, 4 << 20, 32 << 30)
    assert lim.blocks == DEFAULT.blocks


def test_max_params_raises_the_limit_in_process(tmp_path):
    text = dict((c[0], c[1]) for c in SPEC_CASES)["params_2G"]
    with pytest.raises(ArchspecError) as e:
        archspec.analyze(archspec.load(text=text))
    assert e.value.diagnostics[0].code == "E710"
    graph = archspec.analyze(archspec.load(text=text, limits=from_options({"--max-params": "3G"})))
    assert graph.params == 14 * (3 * 3 * 4096 * 4096 + 4096)  # 2,113,986,560 as Keras counts


# -- in process: what the subprocess cannot show --------------------------------------------


def _code(text: str) -> tuple[str, float, int]:
    """(error code, seconds, peak bytes allocated) of loading and analyzing `text`."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        archspec.analyze(archspec.load(text=text))
    except ArchspecError as e:
        code = e.diagnostics[0].code
    else:
        code = "ok"
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return code, seconds, peak


def test_alias_bomb_answered_fast_with_little_memory():
    text = dict((c[0], c[1]) for c in SPEC_CASES)["alias_bomb"]
    assert isinstance(text, str)
    code, seconds, peak = _code(text)
    assert code == "E103"
    assert seconds < 1
    assert peak < 1 << 20  # expanded, it would be 9^9 = 387 million strings


def test_repeat_million_refused_without_expanding():
    """The count arithmetic runs before lowering: no block is built."""
    code, seconds, peak = _code(
        "name: m\ninput: [8]\nblocks:\n  - {type: dense, units: 4, repeat: 1000000}\n"
    )
    assert code == "E706"
    assert seconds < 1  # lowering a million blocks takes minutes
    assert peak < 1 << 20


def test_blocks_limit_counts_all_blocks():
    blocks = "  - {type: dense, units: 2, repeat: 4000}\n" * 3
    code, _, _ = _code("name: m\ninput: [4]\nblocks:\n" + blocks)
    assert code == "E705"


# -- crashes found by fuzzing and review, kept as regular tests -----------------------------

FOUND = [
    # int() of more than 4,300 digits raised ValueError from PyYAML's constructor
    ("filters: " + "1" * 5000, "E704"),
    # a date-like scalar that is no date: datetime raised ValueError from the constructor
    ("description: 2001-13-45", "E202"),
    # `=` resolved to YAML's `value` tag, which the safe constructor cannot build (read as a string)
    ("description: =", "ok"),
    ("description: <<", "ok"),
    # a 400-digit count with a decimal point overflowed float -> round() raised OverflowError
    ("budget: {max_params: '" + "9" * 400 + ".0'}", "E204"),
]


@pytest.mark.parametrize(("line", "code"), FOUND, ids=[f"found{i}" for i in range(len(FOUND))])
def test_found_by_fuzzing(line, code):
    if line.startswith("filters"):
        text = f"name: m\ninput: [8, 8, 3]\nblocks:\n  - {{type: conv, kernel: 3, {line}}}\n"
    else:
        text = f"name: m\n{line}\ninput: [8, 8, 3]\nblocks:\n  - {{type: flatten}}\n"
    assert _code(text)[0] == code


def test_limits_are_checked_again_under_other_limits() -> None:
    """Each distinct op is checked once per set of limits (bounds.py's _WITHIN): a spec found
    within the default limits is still refused under lower ones."""
    from archspec.core.errors import SpecError
    from archspec.core.limits import Limits

    text = "name: m\ninput: [16, 16, 3]\nblocks:\n  - {type: conv, filters: 8, kernel: 5}\n"
    archspec.analyze(archspec.load(text=text))
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=text, limits=Limits(kernel=3)))
    assert e.value.diagnostics[0].code == "E708"


def test_an_op_with_a_list_field_is_lowered_every_time() -> None:
    """The caches of checked and inferred ops need hashable ops; a plugin's op with a list
    field is not one, and is checked and inferred each time instead of failing."""
    from archspec.frontend.bounds import CheckedBuilder
    from archspec.ir.graph import BlockInfo, Graph
    from archspec.ir.op import Cost, Op

    @dataclass(frozen=True)
    class Listed(Op):
        sizes: list[int]

        def infer(self, shapes):
            return shapes[0]

        def cost(self, shapes, out):
            return Cost(trainable=sum(self.sizes))

    graph = Graph("g", {"x": (4, 4, 3)})
    b = CheckedBuilder(graph, BlockInfo("b", "t", ("blocks", 0), ["x"]))
    first = b.add("one", Listed([1, 2]), "x")
    second = b.add("two", Listed([3]), first)
    assert graph.nodes[second].cost.params == 3 and graph.nodes[first].shape == (4, 4, 3)
