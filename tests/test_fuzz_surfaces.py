"""Fuzzing the surfaces added after tests/test_fuzz.py was written (issue 17, "Also"): the
registry's newer block types with `repeat` (`0` included), `repeat_names` templates and the
expressions that read `copy`, `in_shape` and `in_channels`; user-defined blocks reading them;
`type: spec` includes (paths with `..`, absolute, zoo names, cycles, folders, FIFOs, devices,
dangling links, nothing); standard input (`archspec check -`); zoo names and `--set` on the
command line; `build --weights` with corrupt and foreign files.

The guarantee asserted on every example: exit 0, 1 or 2 with a message (never 3, never a
traceback), within the guarantee's time (10 s of CPU per example) and with the report about one
file under 1 MiB in every format. Budgets are test_fuzz's: a short campaign in `make test`, a
long one in `make fuzz` (ARCHSPEC_FUZZ=long, scaled by ARCHSPEC_FUZZ_SCALE).
"""

from __future__ import annotations

import contextlib
import gc
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import Phase, assume, given, reject, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from archspec.app import check
from archspec.blocks import REGISTRY
from archspec.cli import app
from archspec.core.errors import ArchspecError
from archspec.frontend import zoo
from archspec.render import report
from archspec.render.text import format_diagnostics
from tests.conftest import ROOT
from tests.test_fuzz import (
    EXPRESSIONS,
    LONG,
    budget,
    check_diagnostics,
    dump,
    mutate,
    scalars,
    values,
)
from tests.test_static_vs_keras import EXAMPLES

#: the guarantee's bounds, per example
CPU_SECONDS = 10
REPORT_BYTES = 1 << 20

#: a folder of its own for the included files; the fuzzed spec is written in it as spec.yaml
HOME = Path(tempfile.mkdtemp(prefix="archspec-fuzz-surfaces-"))
SPEC = HOME / "spec.yaml"

SMALL = """\
name: small
input: [null, null, 3]
params: {width: 8}
blocks:
  - {type: conv, name: stem, filters: "${width}", kernel: 3, strides: 2}
  - {type: conv, name: mid, filters: "${width * 2}", kernel: 3, strides: 2}
  - {type: conv, name: deep, filters: "${in_channels * 2}", kernel: 3, strides: 2}
  - {type: global_avg_pool, name: pool}
  - {type: dense, name: head, units: 10}
"""


def _home() -> None:
    """The files `type: spec` paths may name, next to the fuzzed spec (and a level down)."""
    (HOME / "small.yaml").write_text(SMALL)
    (HOME / "inner").mkdir(exist_ok=True)
    (HOME / "inner" / "up.yaml").write_text(SMALL.replace(
        "blocks:\n", "blocks:\n  - {type: spec, name: s, path: ../small.yaml}\n", 1))  # fmt: skip
    (HOME / "loop_a.yaml").write_text(SMALL.replace(
        "blocks:\n", "blocks:\n  - {type: spec, name: b, path: loop_b.yaml}\n", 1))  # fmt: skip
    (HOME / "loop_b.yaml").write_text(SMALL.replace(
        "blocks:\n", "blocks:\n  - {type: spec, name: a, path: loop_a.yaml}\n", 1))  # fmt: skip
    (HOME / "back.yaml").write_text(SMALL.replace(  # includes the fuzzed spec itself
        "blocks:\n", "blocks:\n  - {type: spec, name: x, path: spec.yaml}\n", 1))  # fmt: skip
    (HOME / "broken.yaml").write_text("name: [\n")
    (HOME / "binary.yaml").write_bytes(bytes(range(256)))
    (HOME / "two.yaml").write_text("name: t\ninputs: {a: [8, 8, 3], b: [8, 8, 3]}\n"
                                   "blocks:\n  - {type: add, inputs: [a, b]}\n")  # fmt: skip
    (HOME / "folder.yaml").mkdir(exist_ok=True)
    for name, target in [("dangling.yaml", "nowhere"), ("zero.yaml", "/dev/zero"),
                         ("selfloop.yaml", "selfloop.yaml")]:  # fmt: skip
        with contextlib.suppress(FileExistsError):
            os.symlink(target, HOME / name)
    with contextlib.suppress(FileExistsError, AttributeError):
        os.mkfifo(HOME / "fifo.yaml")


_home()

# -- the report about one file: bounded in every format, quick --------------------------------


def guarded(content: str | bytes) -> Any:
    """test_fuzz.pipeline with the guarantee's bounds: `check` on SPEC holding `content`, every
    report format under REPORT_BYTES, within CPU_SECONDS. The graph of a valid spec, else None."""
    SPEC.write_bytes(content.encode() if isinstance(content, str) else content)
    start = time.process_time()
    result = check.check_file(SPEC)
    check_diagnostics(result.diagnostics)
    assert result.exit_code in (0, 1, 2)
    for text in (format_diagnostics(result.diagnostics), report.to_json([result]),
                 report.to_github([result]), report.to_sarif([result])):  # fmt: skip
        assert len(text.encode()) < REPORT_BYTES, len(text)
    assert time.process_time() - start < CPU_SECONDS
    return result.graph if result.ok else None


# -- registry blocks, repeat, repeat_names, copy / in_shape / in_channels ----------------------

#: the expressions that read the copy and the block's input, valid and not
SHAPE_EXPRESSIONS = [
    "${copy}", "${copy + 1}", "${2 if copy == 0 else 1}", "${copy * 1000000}", "${1 / copy}",
    "${in_channels}", "${in_channels * 2}", "${in_channels // 4}", "${in_channels ** 9}",
    "${in_channels - in_channels}", "${in_shape[0]}", "${in_shape[-1]}", "${in_shape[7]}",
    "${in_shape[0] // 2}", "${in_shape[0] or 224}", "${in_shape}", "${in_shape[0] > 4}",
    "${max(in_shape[0], 1)}", "${ceil(in_channels / 3)}", "${in_channels if copy else 8}",
    "${in_shape[copy]}", "${[in_channels] * 4}", "${in_channels * copy + 1}", "${copy.x}",
]  # fmt: skip
REPEATS: list[Any] = [0, 0, 1, 2, 3, -1, 10**6, 2**63, 2.0, "2", True, None, "${copy}",
                      "${in_channels}", "${1 if 1 else 2}", "${0}", "${2 ** 40}"]  # fmt: skip
REPEAT_NAMES: list[Any] = [
    "number", "letters", "{name}{k}", "{name}_{i}", "{name}{letter}", "{k}_{name}",
    "{name}-{k}", "{name}{k}{i}", "{name}", "{nope}", "{", "}", "{name}{{k}}", "{name}" + "x" * 200
    + "{k}", "{name}{k}" * 40, "", "{name}{k!r}", "{name.__class__}{k}", "{name[0]}{k}",
    "{name:>999999}{k}", 3, None, ["{name}{k}"],
]  # fmt: skip
INPUTS = [[16, 16, 3], [None, None, 3], [8, 8, 1], [1, 1, 1], [33, 17, 5], [64, 64, 32]]


def _example(kind: str) -> dict[str, Any]:
    return dict(yaml.safe_load(EXAMPLES[kind]))


@st.composite
def copy_and_shape_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A stem conv, then one to three registry blocks (their examples), each with a `repeat`,
    `repeat_names` and fields set to expressions that read `copy`, `in_shape`, `in_channels`."""
    rnd = draw(st.randoms(use_true_random=False))
    blocks: list[dict[str, Any]] = [{"type": "conv", "name": "stem", "filters": 8, "kernel": 3}]
    for n in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(sorted(EXAMPLES)))
        block = _example(kind)
        block.setdefault("name", f"b{n}")
        if REGISTRY[kind].n_inputs is None:  # merge blocks: the stem and the previous
            block["inputs"] = ["stem", blocks[-1]["name"]] if len(blocks) > 1 else ["stem", "stem"]
        if rnd.random() < 0.8:
            block["repeat"] = rnd.choice(REPEATS)
        if rnd.random() < 0.6:
            block["repeat_names"] = rnd.choice(REPEAT_NAMES)
        numbers = [k for k, v in block.items() if k not in ("type", "name", "inputs")
                   and not isinstance(v, str)]  # fmt: skip
        for key in rnd.sample(numbers, min(len(numbers), rnd.randint(0, 2))):
            block[key] = rnd.choice(SHAPE_EXPRESSIONS + EXPRESSIONS[:4])
        if rnd.random() < 0.2:  # a common key reading copy or a shape: refused (E502)
            block[rnd.choice(["name", "inputs", "repeat", "repeat_names"])] = rnd.choice(
                SHAPE_EXPRESSIONS
            )
        blocks.append(block)
    if rnd.random() < 0.3:  # a later block reads a copy's name, or the name of a `repeat: 0`
        names = [b["name"] for b in blocks if isinstance(b.get("name"), str)]
        blocks.append(
            {
                "type": "conv",
                "filters": 4,
                "kernel": 1,
                "inputs": rnd.choice(names) + rnd.choice(["", "_1", "_2", "a", "_0"]),
            }
        )
    return {"name": "m", "input": rnd.choice(INPUTS), "blocks": blocks}


@budget(100)
@given(copy_and_shape_specs(), st.randoms(use_true_random=False))
def test_copy_shape_and_repeat_expressions(spec, rnd):
    guarded(dump(spec, rnd))


# -- user-defined blocks reading copy and the instance's input --------------------------------


@st.composite
def define_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A definition built from registry examples (its params' defaults and inner keys reading
    `in_channels`, `copy` or a param), used with a `repeat`, possibly by another definition."""
    rnd = draw(st.randoms(use_true_random=False))
    inner = []
    for n in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from([k for k in sorted(EXAMPLES) if REGISTRY[k].n_inputs]))
        block = {**_example(kind), "name": f"i{n}"}
        for key in [k for k, v in block.items() if isinstance(v, int) and k != "type"][:1]:
            block[key] = rnd.choice(["${w}", "${w * copy + 1}", *SHAPE_EXPRESSIONS])
        inner.append(block)
    if rnd.random() < 0.3:
        inner.append({"type": "add", "inputs": ["input", inner[-1]["name"]]})
    params = {"w": rnd.choice([4, None, "${in_channels}", "${in_channels // 2}", "${copy}",
                               "${in_shape[0]}", "${w}", 0, -3])}  # fmt: skip
    if rnd.random() < 0.2:
        params[rnd.choice(["copy", "in_shape", "in_channels", "input"])] = 1
    define: dict[str, Any] = {"unit": {"params": params, "blocks": inner}}
    if rnd.random() < 0.3:  # a definition using the first (or itself: recursion)
        define["outer"] = {"params": {}, "blocks": [{"type": rnd.choice(["unit", "outer"]),
                                                     "name": "u", "repeat": 2}]}  # fmt: skip
    use: dict[str, Any] = {"type": rnd.choice(list(define)), "name": "use"}
    if use["type"] == "unit" and rnd.random() < 0.7:
        use["w"] = rnd.choice([8, "${in_channels}", "${copy + 1}", "${in_channels * 2}", None])
    use["repeat"] = rnd.choice(REPEATS[:6])
    if rnd.random() < 0.5:
        use["repeat_names"] = rnd.choice(REPEAT_NAMES[:8])
    return {
        "name": "m",
        "input": rnd.choice(INPUTS),
        "define": define,
        "blocks": [{"type": "conv", "name": "stem", "filters": 8, "kernel": 3}, use],
    }


@budget(80)
@given(define_specs(), st.randoms(use_true_random=False))
def test_define_with_copy_and_shapes(spec, rnd):
    guarded(dump(spec, rnd))


# -- `type: spec` includes ---------------------------------------------------------------------

ZOO = sorted(zoo.files())
INCLUDE_PATHS: list[str] = [
    "small.yaml", "./small.yaml", f"../{HOME.name}/small.yaml", str(HOME / "small.yaml"),
    "inner/up.yaml", "inner/../small.yaml", "inner/../../x.yaml", "loop_a.yaml", "back.yaml",
    "spec.yaml", "broken.yaml", "binary.yaml", "two.yaml", "folder.yaml", "dangling.yaml",
    "zero.yaml", "selfloop.yaml", "fifo.yaml", "nowhere.yaml", "/nonexistent/x.yaml", "..", ".",
    "/", "/dev/zero", "/dev/null", "inner", "a\0b", "x" * 5000, "\u202e.yaml", "small",
    "resnet5", "resnet18.yaml", "families/resnet", "../specs/resnet18.yaml", *ZOO,
]  # fmt: skip
EXPOSED = ["stem", "mid", "deep", "pool", "head", "nope", "s", "conv1", "a.b", "input"]


@st.composite
def include_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A spec including another (one of INCLUDE_PATHS or any text) with a fuzzed `set` and
    `outputs`, then blocks reading `bb`, `bb.<exposed>` or a name that is not there."""
    rnd = draw(st.randoms(use_true_random=False))
    path = draw(st.one_of(st.sampled_from(INCLUDE_PATHS), st.text(max_size=30), scalars))
    use: dict[str, Any] = {"type": "spec", "name": "bb", "path": path}
    if rnd.random() < 0.5:
        use["set"] = draw(st.one_of(
            st.dictionaries(st.sampled_from(["width", "depth", "variant", "nope", "copy"]),
                            st.one_of(st.sampled_from([4, 0, -1, 10**6, "b7", 201, "${copy}",
                                                       "${in_channels}"]), scalars),
                            max_size=3),
            values))  # fmt: skip
    if rnd.random() < 0.5:
        use["outputs"] = draw(st.one_of(st.lists(st.sampled_from(EXPOSED), max_size=3), values))
    if rnd.random() < 0.15:
        use[rnd.choice(["repeat", "repeat_names", "inputs"])] = rnd.choice(
            [2, 0, "letters", "nowhere"]
        )
    blocks: list[Any] = [use]
    if rnd.random() < 0.3:
        blocks.insert(0, {"type": "conv", "name": "pre", "filters": rnd.choice([3, 8]),
                          "kernel": 1})  # fmt: skip
    for _ in range(rnd.randint(0, 2)):
        ref = rnd.choice(["bb", *(f"bb.{e}" for e in EXPOSED), "bb.", ".mid", "bb.mid.x"])
        blocks.append({"type": rnd.choice(["conv", "global_avg_pool", "flatten"]),
                       "filters": 4, "kernel": 1, "inputs": ref})  # fmt: skip
    doc: dict[str, Any] = {"name": "m", "input": rnd.choice(INPUTS), "blocks": blocks}
    if rnd.random() < 0.3:
        doc["outputs"] = rnd.choice([["bb"], ["bb.mid", "bb.deep"], ["bb.nope"], "bb"])
    if rnd.random() < 0.1:  # inside a definition: refused
        doc["define"] = {"d": {"params": {}, "blocks": [use]}}
        doc["blocks"] = [{"type": "d"}]
    return doc


@budget(100)
@given(include_specs(), st.randoms(use_true_random=False))
def test_spec_blocks(spec, rnd):
    guarded(dump(spec, rnd))


@budget(40)
@given(st.sampled_from([Path(p) for p in ("small.yaml", "inner/up.yaml")]),
       st.randoms(use_true_random=False))  # fmt: skip
def test_included_file_mutated(name, rnd):
    """The included file itself broken (test_fuzz's mutations), read through an include."""
    target = HOME / "mutated.yaml"
    target.write_text(dump(mutate(yaml.safe_load((HOME / name).read_text()), rnd), rnd)
                      .replace("../small.yaml", "small.yaml"))  # fmt: skip
    guarded(
        "name: m\ninput: [16, 16, 3]\nblocks:\n  - {type: spec, name: bb, path: mutated.yaml}\n"
        "  - {type: conv, filters: 4, kernel: 1, inputs: bb}\n"
    )


# -- the command line: stdin, zoo names, --set ------------------------------------------------


@contextlib.contextmanager
def in_folder(folder: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


#: an empty working folder for the command-line examples (a name must not find a file)
EMPTY = Path(tempfile.mkdtemp(prefix="archspec-fuzz-cwd-"))


def invoke(args: list[str], stdin: bytes | None = None) -> Any:
    """`archspec ARGS` in process, in EMPTY, held to the guarantee: exit 0, 1 or 2 with a
    message, no traceback, bounded output and time, nothing written."""
    start = time.process_time()
    with in_folder(EMPTY):
        r = CliRunner().invoke(app, args, input=stdin)
    gc.unfreeze()  # `check` freezes what is alive for a short-lived process; this one lives on
    assert r.exit_code in (0, 1, 2), (args, r.exit_code, r.stderr, r.exception)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.stdout + r.stderr
    if r.exit_code:
        assert re.search(r"\bE\d{3}\b|Usage", r.stdout + r.stderr), (r.stdout, r.stderr)
    assert len(r.stdout.encode()) + len(r.stderr.encode()) < REPORT_BYTES
    assert time.process_time() - start < CPU_SECONDS
    assert not os.listdir(EMPTY)
    return r


FORMATS = st.sampled_from([[], ["--format", "json"], ["--format", "github"],
                           ["--format", "sarif"], ["--table"], ["--quiet"]])  # fmt: skip


@budget(60)
@given(st.one_of(st.binary(max_size=2000),
                 st.builds(lambda s, r: dump(mutate(s, r), r).encode(),
                           st.sampled_from([yaml.safe_load(SMALL)]),
                           st.randoms(use_true_random=False))),
       FORMATS)  # fmt: skip
def test_stdin(raw, fmt):
    """`archspec check -` on fuzzed bytes (and `check - -`: standard input read twice)."""
    r = invoke(["check", "-", *fmt], stdin=raw)
    named = "<stdin>" in r.stdout + r.stderr or "%3Cstdin%3E" in r.stdout  # a SARIF URI
    assert named or r.exit_code == 0 or fmt == ["--quiet"]


def test_stdin_twice_and_with_a_file():
    invoke(["check", "-", "-"], stdin=SMALL.encode())
    invoke(["check", "-", str(HOME / "small.yaml")], stdin=b"\xff\xfe")


#: SPEC arguments near the zoo's names, and paths that are nothing
NAME_EDITS = [lambda n: n, lambda n: n[:-1], lambda n: n + "s", str.upper, lambda n: n + ".yaml",
              lambda n: n + ".yml", lambda n: n + "/", lambda n: "./" + n, lambda n: n + "\0",
              lambda n: f"specs/{n}", lambda n: n.replace("_", "-"), lambda n: n + " ",
              lambda n: "\u202e" + n, lambda n: n * 50]  # fmt: skip


@budget(60)
@given(st.one_of(st.builds(lambda n, e: e(n), st.sampled_from(ZOO), st.sampled_from(NAME_EDITS)),
                 st.text(min_size=1, max_size=40)),
       FORMATS)  # fmt: skip
def test_zoo_names_on_the_command_line(name, fmt):
    """`archspec check NAME`: a zoo network, a near miss (did-you-mean), or nothing."""
    with in_folder(EMPTY):
        assume("\0" in name or not os.path.lexists(name))
    assume(not name.startswith("-"))  # an option, not a SPEC
    invoke(["check", name, *fmt])


FAMILIES = [n for n in ZOO if zoo.is_family(zoo.files()[n])]


@budget(40)
@given(st.sampled_from(FAMILIES),
       st.sampled_from(["variant", "depth", "width", "nope", "copy", "in_channels", ""]),
       st.one_of(st.sampled_from(["b7", "l", "xlarge", "201", "152", "0", "-1", "1e9", "null",
                                  "[1, 2]", "{a: 1}", "${copy}", "${in_channels}", "!!python/x",
                                  "'", "&a", "${10 ** 10 ** 10}"]),
                 st.text(max_size=20)))  # fmt: skip
def test_set_on_zoo_families(name, param, value):
    """`archspec check <family> --set P=V`: any member, any value."""
    invoke(["check", name, "--set", f"{param}={value}"])


# -- build --weights with corrupt and foreign files ---------------------------------------------

VGG = ROOT / "specs" / "seed" / "vgg_one_block.yaml"


@pytest.fixture(scope="module")
def weight_files(keras, tmp_path_factory) -> dict[str, Path]:
    """VGG's own weights (both layouts), then corrupt and foreign files made from them."""
    from archspec.app import compile as to_keras
    from tests.test_weights import write_both

    folder = tmp_path_factory.mktemp("weights")
    own = write_both(to_keras(VGG), folder)
    other = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(5, 3, name="c"),
                              keras.layers.Dense(2, name="d")], name="other")  # fmt: skip
    other_files = write_both(other, folder)
    rnd = random.Random(3)
    files = {"random": rnd.randbytes(4000), "empty": b"",
             "hdf5_magic": b"\x89HDF\r\n\x1a\n" + rnd.randbytes(3000),
             "zip_of_random": b"", "zip_of_nothing": b""}  # fmt: skip
    out = {**{f"own_{k}": v for k, v in own.items()},
           **{f"other_{k}": v for k, v in other_files.items()}}  # fmt: skip
    for layout, path in own.items():
        data = path.read_bytes()
        for label, cut in (("512", 512), ("half", len(data) // 2), ("end", len(data) - 100)):
            files[f"truncated_{layout}_{label}"] = data[:cut]
        flipped = bytearray(data)
        for _ in range(20):
            flipped[rnd.randrange(len(data))] ^= 0xFF
        files[f"flipped_{layout}"] = bytes(flipped)
    for name, data in files.items():
        out[name] = folder / f"{name}.h5"
        out[name].write_bytes(data)
    with zipfile.ZipFile(out["zip_of_random"], "w") as z:
        z.writestr("model.weights.h5", rnd.randbytes(2000))
    with zipfile.ZipFile(out["zip_of_nothing"], "w") as z:
        z.writestr("config.json", "{}")
    out["folder"] = folder / "folder.h5"
    out["folder"].mkdir()
    return out


WEIGHTS_CASES = ["random", "empty", "hdf5_magic", "zip_of_random", "zip_of_nothing", "folder",
                 "other_keras3", "other_legacy", "flipped_keras3", "flipped_legacy",
                 *(f"truncated_{layout}_{cut}" for layout in ("keras3", "legacy")
                   for cut in ("half", "end", "512"))]  # fmt: skip


def _weights_case(files: dict[str, Path], case: str) -> Path:
    return files[case]


def _limit_build() -> None:
    """The CPU bound only: TensorFlow maps more address space than `check`'s 1 GiB."""
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))


@pytest.mark.keras
@pytest.mark.parametrize("case", WEIGHTS_CASES)
def test_weights_corrupt_or_foreign_in_process(weight_files, tmp_path, case):
    """Reading the file (h5py, before Keras builds anything) answers every corrupt file with
    E001 (exit 2) or a foreign one with E803 (exit 1): only ArchspecError escapes."""
    from archspec.backends.keras import weights

    try:
        weights.read(_weights_case(weight_files, case))
    except ArchspecError as e:
        assert e.diagnostics and e.diagnostics[0].code in ("E001", "E803"), e.diagnostics


#: the cases run through the CLI in a fresh process (each imports TensorFlow: a few seconds)
SUBPROCESS_CASES = WEIGHTS_CASES if LONG else ["other_legacy", "truncated_keras3_half"]


@pytest.mark.keras
@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_weights_corrupt_or_foreign_cli(weight_files, tmp_path, case):
    """`archspec build VGG --weights FILE -o out.keras`: exit 1 or 2, never 3, no traceback,
    nothing written."""
    r = subprocess.run(
        [sys.executable, "-m", "archspec", "build", str(VGG), "--weights",
         str(_weights_case(weight_files, case)), "-o", "out.keras"],
        capture_output=True, text=True, errors="replace", cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300, preexec_fn=_limit_build,
    )  # fmt: skip
    assert "Traceback" not in r.stderr + r.stdout
    if case.startswith("flipped_") and r.returncode == 0:  # HDF5 has no checksum on the data:
        return  # flipped bytes among the weights' values load as other values
    assert r.returncode in (1, 2), r.stderr
    assert "error[E" in r.stderr
    assert not os.listdir(tmp_path)


#: names and values a weights file's groups, datasets and attributes are drawn from
H5_NAMES = st.sampled_from(["layers", "model_weights", "vars", "block1_conv1", "conv2d", "conv2d_3",
                            "dense_x", "0", "1", "a", "kernel:0", "_", "x_1_2"])  # fmt: skip
H5_ATTRS = st.one_of(
    st.lists(st.sampled_from(["block1_conv1", "conv2d", "vars", "nope", "0", ""]), max_size=3),
    st.integers(-3, 3), st.text(max_size=5), st.just([1, 2]),
)  # fmt: skip
#: budget(60) without shrinking: a failure is reported as found (shrinking HDF5 trees is slow)
NO_SHRINK = settings(budget(60), phases=[Phase.explicit, Phase.reuse, Phase.generate])
H5_TREES = st.recursive(
    st.one_of(st.lists(st.integers(0, 3), max_size=3), st.integers(), st.text(max_size=4)),
    lambda children: st.dictionaries(H5_NAMES, children, max_size=4),
    max_leaves=12,
)


def _write_h5(group: Any, tree: dict[str, Any], rnd: random.Random) -> None:
    for name, node in tree.items():
        if isinstance(node, dict):
            sub = group.create_group(name)
            for attr in ("layer_names", "weight_names", "name"):
                if rnd.random() < 0.3:
                    sub.attrs[attr] = rnd.choice([list(node) or ["x"], "conv2d", 3, [b"0", b"1"]])
            _write_h5(sub, node, rnd)
        else:
            group.create_dataset(name, data=node if not isinstance(node, list) else
                                 [[float(v)] * 2 for v in node] or [0.0])  # fmt: skip


@pytest.mark.keras
@NO_SHRINK
@given(H5_TREES.filter(lambda t: isinstance(t, dict)), H5_ATTRS, st.randoms(use_true_random=False))
def test_weights_hdf5_structures(tree, root_names, rnd):
    """HDF5 files of any shape read as weights: what is not weights in a layout archspec reads
    is E001 or E803, never another exception (exit 3)."""
    h5py = pytest.importorskip("h5py")
    from archspec.backends.keras import weights

    path = HOME / "weights.h5"
    try:
        with h5py.File(path, "w") as f:
            if rnd.random() < 0.5:
                f.attrs["layer_names"] = root_names
            _write_h5(f, tree, rnd)
    except TypeError:  # a value h5py cannot store (an object array): no file to read
        reject()
    try:
        weights.read(path)
    except ArchspecError as e:
        assert e.diagnostics[0].code in ("E001", "E803"), e.diagnostics


@pytest.mark.parametrize("path", ["ABSOLUTE", "../secret/token", "link.yaml"])
def test_include_never_prints_a_file_outside_the_specs_folder(tmp_path, path):
    """What a pull request's spec includes from outside its folder (an absolute path, `..`
    past it, a symbolic link out of it) is never read into any output format."""
    (tmp_path / "secret").mkdir()
    token = tmp_path / "secret" / "token"
    token.write_text("AWS_SECRET=hunter2 and more\n")
    pr = tmp_path / "pr"
    pr.mkdir()
    (pr / "link.yaml").symlink_to(token)
    spec = pr / "spec.yaml"
    spec.write_text("name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: spec, path: "
                    f"{str(token) if path == 'ABSOLUTE' else path}}}\n")  # fmt: skip
    result = check.check_file(spec)
    assert result.exit_code in (1, 2)
    out = (format_diagnostics(result.diagnostics) + report.to_json([result])
           + report.to_github([result]) + report.to_sarif([result]))  # fmt: skip
    assert "hunter2" not in out
