"""`check` and `build` in agreement (issue 17): what `check` accepts, `build` builds, or refuses up
front, with a documented code, before Keras allocates.

- every integer a spec passes to Keras is bounded (E713): strides, dilation, upsampling,
  padding, cropping, depth multipliers, and anything past TensorFlow's int32;
- long chains build, save and reload (Keras walks the graph recursively);
- a model that needs more memory than the process has is refused before TensorFlow is imported
  (E804), and so is running an unknown-size model at a size whose activations do not fit (E711
  against the limit, E804 against the memory);
- SIGTERM during a save removes the temporary path, as Ctrl-C does;
- `-o .`, `-o ..` and folders that are not a SavedModel are refused before TensorFlow loads.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

import archspec
from archspec import app as api
from archspec.backends.keras import memory
from archspec.blocks import REGISTRY
from archspec.core.errors import ArchspecError, LimitExceeded, SpecError, UsageError
from archspec.core.limits import DEFAULT, INT32_MAX
from archspec.frontend.bounds import FACTORS, check_integers
from tests.conftest import ROOT, previous_target
from tests.test_hostile import expect as expect_refused
from tests.test_hostile import run, snapshot
from tests.test_static_vs_keras import example_spec

HUGE = 2**31


def spec(*blocks: str, shape: str = "[8, 8, 3]") -> str:
    return f"name: m\ninput: {shape}\nblocks:\n" + "".join(f"  - {b}\n" for b in blocks)


def diagnostic(text: str) -> Any:
    with pytest.raises(ArchspecError) as e:
        archspec.analyze(archspec.load(text=text))
    return e.value.diagnostics[0]


# -- 1. every integer that reaches Keras is bounded (E713) ------------------------------------

# (block, the key whose value the error points at); each value is 2^31 or over the limit of
# 1,024, which `check` used to accept and TensorFlow refused (exit 3)
INTEGERS = [
    ("{type: conv, filters: 4, kernel: 3, strides: 2147483648}", "strides"),
    ("{type: conv, filters: 4, kernel: 3, dilation: [1, 5000]}", "dilation"),
    ("{type: max_pool, pool: 2, strides: 2147483648}", "strides"),
    ("{type: avg_pool, pool: [2, 2], strides: [1, 4096]}", "strides"),
    ("{type: upsample, size: 2147483648}", "size"),
    ("{type: depthwise_conv, kernel: 3, depth_multiplier: 4096}", "depth_multiplier"),
    ("{type: separable_conv, filters: 4, kernel: 3, strides: 2048}", "strides"),
    ("{type: conv_transpose, filters: 4, kernel: 3, strides: 2147483648}", "strides"),
    ("{type: mbconv, filters: 8, strides: 2147483648}", "strides"),
    ("{type: zero_pad, padding: 2147483648}", "padding"),
]


def _value_col(block: str, key: str) -> int:
    """The column of `key`'s value in `block` on its spec line (`  - ` comes first)."""
    return len("  - ") + block.index(f"{key}: ") + len(f"{key}: ") + 1


@pytest.mark.parametrize(
    ("block", "key"), INTEGERS, ids=[f"{b.split(',')[0][7:]}_{k}" for b, k in INTEGERS]
)
def test_huge_integers_are_e713_at_their_key(block, key):
    d = diagnostic(spec(block, shape="[null, null, 3]"))
    assert d.code == "E713" and (d.line, d.col) == (4, _value_col(block, key)), d
    assert d.path[-1] == key and "larger than" in d.message


def test_every_integer_field_of_every_op_is_bounded():
    """The class: for each op the block examples make, each integer field set to 2^31 is
    refused by the op's own limits (E707 filters and units, E708 windows) or by
    check_integers (E713), generically, so a new op's integers are covered too."""
    seen: set[tuple[str, str]] = set()
    for kind in REGISTRY:
        graph = archspec.analyze(archspec.load(text=example_spec(kind)))
        for node in graph.nodes.values():
            for f in dataclasses.fields(node.op):  # type: ignore[arg-type]
                value = getattr(node.op, f.name)
                huge = _scaled(value)
                if huge is None or (type(node.op).__name__, f.name) in seen:
                    continue
                seen.add((type(node.op).__name__, f.name))
                op = dataclasses.replace(node.op, **{f.name: huge})  # type: ignore[type-var]
                with pytest.raises(LimitExceeded) as e:
                    op.check_limits(DEFAULT)
                    check_integers(op, DEFAULT)
                assert e.value.code in ("E707", "E708", "E713"), (op, f.name)
    fields = {f for _, f in seen}
    assert set(FACTORS) <= fields  # every bounded name is a real field
    assert {"strides", "dilation", "size", "groups", "depth_multiplier"} <= fields


def _scaled(value: object) -> object:
    """`value` with every integer (but 0 and -1: axes, padding) made 2^31; None if it has none."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return HUGE if value > 0 else None
    if isinstance(value, tuple) and value:
        parts = [_scaled(v) for v in value]
        if all(p is None for p in parts):
            return None
        return tuple(v if p is None else p for v, p in zip(value, parts, strict=True))
    return None


def test_a_dimension_past_int32_is_e713():
    """Within the activation limit (8 GiB) but 2^31 long: TensorFlow's shapes are int32."""
    text = spec(
        "{type: upsample, size: [1024, 1]}",
        "{type: upsample, size: [128, 1]}",
        shape="[16384, 1, 1]",
    )
    d = diagnostic(text)
    assert d.code == "E713" and "2,147,483,648" in d.message and (d.line, d.col) == (5, 5)


def test_check_and_build_refuse_the_same_way_before_tensorflow(tmp_path):
    """Through the CLI, under the guarantee's 1 GiB and 10 s: `check` and `build` agree."""
    (tmp_path / "spec.yaml").write_text(spec(INTEGERS[0][0]))
    before = snapshot(tmp_path)
    for args in (["check", "spec.yaml"], ["build", "spec.yaml", "-o", "m.keras"]):
        r = run(args, tmp_path)
        expect_refused(r, 1, "E713", ("spec.yaml", 4, _value_col(*INTEGERS[0])), before, tmp_path)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("blocks", "shape"),
    [
        (["{type: conv, filters: 2, kernel: 3, strides: 1024}",
          "{type: depthwise_conv, kernel: 1, depth_multiplier: 1024}"], (1, 1, 2048)),
        (["{type: upsample, size: [1024, 2]}", "{type: zero_pad, padding: [1024, 1]}"],
         (10240, 18, 3)),
        (["{type: conv, filters: 2, kernel: 2, dilation: 1024}",
          "{type: max_pool, pool: 1, strides: 1024}"], (1, 1, 2)),
    ],
    ids=["strides_multiplier", "upsample_pad", "dilation_pool"],
)  # fmt: skip
def test_integers_at_the_limit_build(keras, blocks, shape):
    model = archspec.compile(archspec.analyze(archspec.load(text=spec(*blocks))))
    assert tuple(model.output.shape) == (None, *shape)


# -- 2. long chains build, save and reload ----------------------------------------------------


@pytest.mark.keras
@pytest.mark.parametrize(
    ("block", "n", "verify"),
    [("{type: conv, filters: 2, kernel: 1, repeat: 1000}", 1000, False),
     pytest.param("{type: activation, activation: relu, repeat: 3000}", 3000, True,
                  marks=pytest.mark.zoo)],  # 22 s: the long tier
    ids=["conv_x1000", "relu_x3000_verified"],
)  # fmt: skip
def test_long_chains_build_and_save(tmp_path, keras, block, n, verify):
    """Keras recurses once per layer on the longest path when it builds a functional model and
    when it loads one (`--verify`): Python's default limit of 1,000 stopped 1,000 convs."""
    path = tmp_path / "chain.yaml"
    path.write_text(spec(block))
    limit = sys.getrecursionlimit()
    built = api.build(path, tmp_path / "chain.keras", verify=verify)
    assert len(built.model.layers) == n + 1
    saved = api.export(built)
    assert (tmp_path / "chain.keras").is_file() and saved.size > 0
    assert saved.max_abs_diff == (0.0 if verify else None)
    assert sys.getrecursionlimit() == limit  # raised for the Keras calls only


# -- 3. memory: refused before TensorFlow is imported (E804) ----------------------------------

#: 524 M parameters: 2 GiB of weights, about 6.5 GiB to build
BIG = spec("{type: flatten}", "{type: dense, units: 1000}", shape="[128, 128, 32]")


def test_build_over_the_address_space_limit_is_e804_before_tensorflow(tmp_path):
    """Under RLIMIT_AS = 1 GiB (the catalogue's bound) the build cannot fit: E804, exit 2,
    at once, instead of a MemoryError (exit 3) inside TensorFlow minutes later."""
    (tmp_path / "big.yaml").write_text(BIG)
    before = snapshot(tmp_path)
    r = run(["build", "big.yaml", "-o", "big.keras"], tmp_path)
    expect_refused(r, 2, "E804", None, before, tmp_path)
    assert "building `m` needs about 6.48 GiB" in r.stderr and "RLIMIT_AS" in r.stderr
    assert "524M parameters" in r.stderr and "hint:" in r.stderr


def test_build_over_the_available_memory_is_e804(monkeypatch):
    monkeypatch.setattr(memory, "available", lambda: (1 << 30, "MemAvailable"))
    graph = archspec.analyze(archspec.load(text=BIG))
    with pytest.raises(UsageError) as e:
        archspec.compile(graph)
    d = e.value.diagnostics[0]
    assert d.code == "E804" and e.value.exit_code == 2
    assert "1 GiB is available (MemAvailable)" in d.message and "--max-params" in (d.hint or "")
    monkeypatch.setattr(memory, "available", lambda: None)  # unknown: not refused
    memory.check(1 << 60, "x", "y")


def test_available_memory_is_read_from_the_system():
    have = memory.available()
    assert have is not None and have[0] > 0 and have[1]


class _FakeModel:
    layers: ClassVar[list[object]] = []

    def count_params(self) -> int:
        return 250_000_000


@pytest.mark.parametrize(("fmt", "verify", "refused"),
                         [("keras", False, False), ("keras", True, True), ("tflite", False, True),
                          ("onnx", False, True), ("savedmodel", False, False)])  # fmt: skip
def test_export_checks_the_memory_of_its_format_first(tmp_path, monkeypatch, fmt, verify, refused):
    """A converter's copies of the weights are estimated before it starts (1 GB of weights,
    1.5 GiB available): nothing is written, no temporary path is left."""
    from archspec.backends.keras import save

    monkeypatch.setattr(memory, "available", lambda: (3 << 29, "MemAvailable"))
    monkeypatch.setattr(save, "_write", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("w")))
    target = save.Target(tmp_path / ("m" + save.FORMATS[fmt]), fmt)
    with pytest.raises(UsageError if refused else RuntimeError) as e:
        save.export(_FakeModel(), target, verify=verify)
    if refused:
        assert isinstance(e.value, UsageError) and e.value.diagnostics[0].code == "E804"
    assert os.listdir(tmp_path) == []


class ResourceExhaustedError(Exception):
    """TensorFlow's, as save._out_of_memory recognises it (by name and message)."""


@pytest.mark.parametrize(
    "error",
    [MemoryError(), ResourceExhaustedError("OOM when allocating tensor with shape[2,4096]")],
    ids=["MemoryError", "tf_OOM"],
)
def test_running_out_of_memory_while_saving_is_e804_not_cannot_write(tmp_path, monkeypatch, error):
    from archspec.backends.keras import save

    def boom(model: Any, tmp: Path, *args: Any) -> None:
        tmp.write_bytes(b"half")
        raise error

    monkeypatch.setattr(save, "_write", boom)
    with pytest.raises(UsageError) as e:
        save.export(_FakeModel(), save.Target(tmp_path / "m.keras", "keras"))
    d = e.value.diagnostics[0]
    assert d.code == "E804" and "ran out of memory writing" in d.message
    assert os.listdir(tmp_path) == []


# -- 4. an unknown size run at 224: its activations are checked first -------------------------

#: fine at 1 x 1 (what `check` bounds), 6 TiB of activations at 224 x 224
WIDE = spec(
    "{type: conv, filters: 4096, kernel: 1}",
    "{type: upsample, size: 64}",
    "{type: conv, filters: 4096, kernel: 1}",
    "{type: global_avg_pool}",
    shape="[null, null, 3]",
)


def test_run_size_activations_over_the_limit_are_e711_at_the_input():
    from archspec.backends.keras.verify import run_shapes

    resolved = archspec.load(text=WIDE)
    graph = archspec.analyze(resolved)  # `check` accepts it
    with pytest.raises(SpecError) as e:
        run_shapes(graph, resolved.doc)
    d = e.value.diagnostics[0]
    assert d.code == "E711" and (d.line, d.col) == (2, 8) and "224 x 224" in d.message
    assert "--max-activation-memory" in (d.hint or "") and "--set" in (d.hint or "")


def test_run_size_activations_over_the_available_memory_are_e804(monkeypatch):
    from archspec.backends.keras.verify import run_shapes

    text = spec("{type: conv, filters: 512, kernel: 3, repeat: 4}", shape="[null, null, 3]")
    resolved = archspec.load(text=text)
    graph = archspec.analyze(resolved)
    monkeypatch.setattr(memory, "available", lambda: (256 << 20, "MemAvailable"))
    with pytest.raises(UsageError) as e:
        run_shapes(graph, resolved.doc)
    d = e.value.diagnostics[0]
    assert d.code == "E804" and "running `m` at 224 x 224 x 3" in d.message


def test_build_verify_of_an_unknown_size_refuses_before_tensorflow(tmp_path):
    (tmp_path / "wide.yaml").write_text(WIDE)
    before = snapshot(tmp_path)
    assert run(["check", "wide.yaml"], tmp_path).returncode == 0
    r = run(["build", "wide.yaml", "-o", "wide.keras", "--verify"], tmp_path)
    expect_refused(r, 1, "E711", ("wide.yaml", 2, 8), before, tmp_path)


# -- 5. SIGTERM during a save cleans up as Ctrl-C does -----------------------------------------


def test_terminated_cleanly_removes_then_hands_the_signal_on(tmp_path):
    """In-process, with a Python handler installed before (so the test survives): the body is
    interrupted, its `finally` runs, the previous handler gets the signal, and is back."""
    from archspec.core.files import Terminated, terminated_cleanly

    got: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: got.append(signum))
    tmp = tmp_path / "tmp"
    # No garbage collection while the signal is pending: its handler would otherwise raise
    # Terminated inside whatever gc callback runs then (hypothesis installs one), and pytest
    # would report a PytestUnraisableExceptionWarning (seen once under load).
    gc.disable()
    try:
        with pytest.raises(Terminated), terminated_cleanly():
            try:
                tmp.write_text("half")
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # interrupted at once
            finally:
                tmp.unlink()
        assert got == [signal.SIGTERM] and not tmp.exists()
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    finally:
        gc.enable()
        signal.signal(signal.SIGTERM, previous)


SWALLOWED = """
import os, signal, sys
from pathlib import Path
from archspec.core import files

class Collected:  # TensorFlow's garbage-collection callbacks run Python too
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)  # Terminated is raised in __del__: Python drops it

real_sync = files.sync
def sync(path):
    Collected()
    real_sync(path)

files.sync = sync
files.write_file(Path(sys.argv[1]), b"data")
print("written")
"""


def test_a_signal_swallowed_mid_save_still_ends_the_process_and_writes_nothing(tmp_path):
    # 3 runs in 47 of `build -o m.tflite` under SIGTERM exited 0 with the file written
    out = tmp_path / "out.bin"
    r = subprocess.run([sys.executable, "-c", SWALLOWED, str(out)], capture_output=True,
                       text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert r.returncode == -signal.SIGTERM, r.stderr
    assert "written" not in r.stdout and os.listdir(tmp_path) == []
    # and quietly: Python reported the dropped Terminated ("Exception ignored in ...") with a
    # traceback, as CI saw from JAX's GC callback during a save
    assert "Exception ignored" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_signal_whose_exception_was_replaced_still_ends_the_process(tmp_path):
    # a converter that wraps Terminated in its own error: exit 3 "internal error" before
    code = (
        "import os, signal\nfrom archspec.core.files import terminated_cleanly\n"
        "with terminated_cleanly():\n"
        "    try:\n        os.kill(os.getpid(), signal.SIGTERM)\n        import time; time.sleep(5)\n"
        "    except BaseException as e:\n        raise RuntimeError('replaced') from None\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert r.returncode == -signal.SIGTERM and "replaced" not in r.stderr, r.stderr


@pytest.mark.keras
@pytest.mark.parametrize("name", ["m.keras", "m_savedmodel"])
def test_sigterm_mid_save_leaves_no_temporary_and_the_previous_target(tmp_path, name):
    out = tmp_path / "out" / name
    previous_target(out)
    before = sorted(p.name for p in out.parent.rglob("*"))
    big = tmp_path / "big.yaml"
    big.write_text(spec("{type: flatten}", "{type: dense, units: 2000}", shape="[64, 64, 3]"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "archspec", "build", str(big), "-o", str(out), "--force"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    try:
        while not [n for n in os.listdir(out.parent) if ".archspec-" in n]:
            assert proc.poll() is None, "the save finished before it could be terminated"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGTERM, err  # it still dies of SIGTERM, after cleaning up
    assert "Traceback" not in err
    assert sorted(p.name for p in out.parent.rglob("*")) == before
    assert (out / "saved_model.pb" if out.is_dir() else out).read_bytes() == b"previous"


# -- 6. output targets that are folders in use: refused before TensorFlow ----------------------


@pytest.mark.parametrize(
    ("target", "setup", "message"),
    [
        (".", None, "names a folder in use"),
        ("..", None, "names a folder in use"),
        ("sub/..", "sub", "names a folder in use"),
        ("dir.keras", "dir.keras", "it is a folder, and a Keras model is a file"),
        ("dir.tflite", "dir.tflite", "it is a folder, and a TFLite model is a file"),
        ("src", "src/code.py", "not a SavedModel"),
    ],
    ids=["dot", "dotdot", "sub_dotdot", "folder_as_keras", "folder_as_tflite", "not_savedmodel"],
)
def test_folders_in_use_are_refused_before_tensorflow_even_with_force(
    tmp_path, target, setup, message
):
    (tmp_path / "spec.yaml").write_text(spec("{type: conv, filters: 4, kernel: 3}"))
    if setup is not None:
        (tmp_path / setup).parent.mkdir(parents=True, exist_ok=True)
        if setup.endswith(".py"):
            (tmp_path / setup).write_text("keep me")
        else:
            (tmp_path / setup).mkdir()
    before = snapshot(tmp_path)
    r = run(["build", "spec.yaml", "-o", target, "--force"], tmp_path)
    expect_refused(r, 2, "E002", None, before, tmp_path)
    assert message in r.stderr


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (["build", "spec.yaml", "-o", "m.keras/"], "m.keras/: a path that ends in `/` names a "
         "folder, and a Keras model is a file", "leave the `/` out: m.keras"),
        (["build", "spec.yaml", "-o", "m.tflite/"], "and a TFLite model is a file",
         "leave the `/` out: m.tflite"),
        (["build", "spec.yaml", "-o", "out/", "--format", "onnx"], "and an ONNX model is a file",
         "leave the `/` out: out"),
        (["plot", "spec.yaml", "-o", "d.svg/"], "d.svg/: a path that ends in `/` names a "
         "folder, and a diagram is a file", "leave the `/` out: d.svg"),
        (["schema", "-o", "s.json/"], "and the schema is a file", "leave the `/` out: s.json"),
        (["plot", "spec.yaml", "-o", "d.svg/."], "d.svg/.: a path that ends in `/.` names a "
         "folder, and a diagram is a file", "leave the `/.` out: d.svg"),
        (["build", "spec.yaml", "-o", "m.keras/./"], "ends in `/./` names a folder",
         "leave the `/./` out: m.keras"),
    ],
    ids=["keras", "tflite", "onnx_format", "plot", "schema", "plot_dot", "keras_dot_slash"],
)  # fmt: skip
def test_a_file_output_ending_in_a_slash_is_refused_before_tensorflow(tmp_path, args, message,
                                                                       hint):  # fmt: skip
    """A walkthrough: `-o m.keras/` and `-o m.tflite/` wrote files m.keras and m.tflite (Path
    drops the `/`), as `plot -o d.svg/` wrote d.svg; a review: `-o d.svg/.` still did."""
    (tmp_path / "spec.yaml").write_text(spec("{type: conv, filters: 4, kernel: 3}"))
    before = snapshot(tmp_path)
    r = run(args, tmp_path)
    expect_refused(r, 2, "E002", None, before, tmp_path)
    assert message in r.stderr
    assert f"  hint: {hint}" in r.stderr.splitlines(), r.stderr


def test_a_savedmodel_folder_may_end_in_a_slash(tmp_path):
    from archspec.backends.keras.save import check_target

    assert check_target(f"{tmp_path}/model/", force=False).format == "savedmodel"


def test_a_savedmodel_or_empty_folder_may_still_be_replaced(tmp_path):
    from archspec.backends.keras.save import check_target

    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "saved_model.pb").write_bytes(b"")
    (tmp_path / "empty").mkdir()
    for name in ("sm", "empty"):
        assert check_target(tmp_path / name, force=True).format == "savedmodel"


def test_int32_bound_is_tensorflows():
    assert INT32_MAX == 2**31 - 1 == HUGE - 1
