"""The CLI in process, through typer.testing.CliRunner: exit codes, messages, the shared options
(--set, the limit flags, --debug) on every command that takes them. The subprocess tests
(test_cli_build, test_check, ...) run the same commands as a user would."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from archspec.cli import app
from archspec.core.errors import ArchspecError
from tests.conftest import ROOT, write

SEED = ROOT / "specs" / "seed"
VGG = SEED / "vgg_one_block.yaml"
ANY_SIZE = ROOT / "specs" / "examples" / "any_size.yaml"
BROKEN = "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filter: 4, n_conv: 1}\n"

#: each command that reads a spec, with the arguments that make it read VGG
READS_SPEC = {
    "build": ["build", str(VGG)],
    "check": ["check", str(VGG)],
    "render": ["render", str(VGG)],
    "plot": ["plot", str(VGG), "-o", "{tmp}/v.dot"],
    "diff": ["diff", str(VGG), str(VGG)],
}


@pytest.fixture(autouse=True)
def _unfreeze() -> Iterator[None]:
    """`check` freezes the objects alive for a short-lived process; this one lives on."""
    yield
    gc.unfreeze()


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def with_tmp(args: list[str], tmp_path: Path) -> list[str]:
    return [a.format(tmp=tmp_path) for a in args]


# -- exit codes --------------------------------------------------------------------------------


def test_check_ok():
    r = run("check", SEED)
    assert r.exit_code == 0, r.stderr
    assert "5 specs checked, 5 valid" in r.stdout
    assert f"ok    {VGG}: vgg_one_block: 38,720 params" in r.stdout


def test_check_table_and_json():
    r = run("check", "--table", VGG)
    assert r.exit_code == 0 and "vgg_1" in r.stdout and "MACs" in r.stdout
    r = run("check", "-f", "JSON", VGG)
    assert r.exit_code == 0
    assert json.loads(r.stdout)["summary"]["valid"] == 1


@pytest.mark.parametrize("command", ["check", "render", "plot", "build"])
def test_invalid_spec_exits_1_with_position(tmp_path, command):
    spec = write(tmp_path, BROKEN)
    r = run(command, spec)
    assert r.exit_code == 1
    assert f"{spec}:4:17: error[E201]" in r.stderr
    assert "did you mean `n_filters`?" in r.stderr
    assert "Traceback" not in r.stderr


def test_invalid_spec_in_check_is_counted(tmp_path):
    spec = write(tmp_path, BROKEN)
    r = run("check", spec, VGG)
    assert r.exit_code == 1
    assert f"FAIL  {spec}: 1 error" in r.stdout
    assert "2 specs checked, 1 valid, 1 invalid (1 error)" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "missing.yaml"], "no such file or folder: missing.yaml"),
        (["check"], "Missing argument 'PATH'"),
        (
            ["check", "-f", "xml", str(VGG)],
            "--format must be one of text, json, github, sarif; received 'xml'",
        ),
        (["render", "missing.yaml"], "no such file"),
        (
            ["diff", str(VGG), str(VGG), "--format", "html"],
            "--format must be one of text, json, markdown; received 'html'",
        ),
        (["plot", str(VGG), "-o", "v.bmp"], "cannot tell the diagram format"),
        (["build", str(VGG), "--verify"], "--verify needs an output: -o PATH"),
        (["build", str(VGG), "--tolerance", "-1"], "--tolerance must be >= 0"),
        (["build", str(VGG), "--tolerance", "1e-5x"], "--tolerance '1e-5x': expected a number"),
        # it was ignored without --verify (a walkthrough)
        (["build", str(VGG), "--tolerance", "0.1"], "--tolerance is what --verify accepts"),
        (["build", str(VGG), "-o", "m.h5"], "HDF5"),
        (["blocks", "vggg"], "unknown block type `vggg`"),
        (["blocks", "LayerNormalization"], "did you mean `layer_norm`?"),  # Keras's name
        (["bogus"], "No such command"),
        (["check", str(VGG), "--no-such-flag"], "No such option"),
    ],
)
def test_usage_errors_exit_2(args, message):
    r = run(*args)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_no_arguments_prints_help():
    r = run()
    assert r.exit_code == 0
    assert "Commands" in r.stderr and "check" in r.stderr  # as Click shows it


def test_the_caller_of_app_handles_errors_itself():
    """`app(..., standalone_mode=False)` lets an ArchspecError through, as Click does."""
    with pytest.raises(ArchspecError):
        app(["render", "missing.yaml"], standalone_mode=False)


# -- --set ----------------------------------------------------------------------------------


def test_set_overrides_a_param():
    r = run("render", ANY_SIZE, "--set", "size=64")
    assert r.exit_code == 0, r.stderr
    assert "input: [64, 64, 3]" in r.stdout
    r = run("check", ANY_SIZE, "--set", "size=64")
    assert r.exit_code == 0 and "output (None, 10)" in r.stdout


@pytest.mark.parametrize("command", ["check", "render", "plot", "diff"])
def test_set_of_an_unknown_param_is_a_usage_error(tmp_path, command):
    args = with_tmp(READS_SPEC[command], tmp_path)
    r = run(*args, "--set", "nope=1")
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "nope" in r.stderr


# -- the limit flags, shared by every command that reads a spec ------------------------------


@pytest.mark.parametrize("command", list(READS_SPEC))
def test_limit_flags_on_every_command_that_reads_a_spec(tmp_path, command):
    args = with_tmp(READS_SPEC[command], tmp_path)
    r = run(*args, "--max-params", "1K")  # vgg_one_block has 38,720
    assert r.exit_code == 1, r.stdout + r.stderr
    assert "error[E710]" in r.stderr
    r = run(*args, "--max-layers", "abc")
    assert r.exit_code == 2
    assert "--max-layers 'abc': expected a positive count" in r.stderr
    help_text = run(command, "--help").stdout
    for flag in ("--set", "--debug", "--max-file-size", "--max-blocks", "--max-layers",
                 "--max-params", "--max-activation-memory"):  # fmt: skip
        assert flag in help_text


def test_a_raised_limit_lets_a_spec_through(tmp_path):
    r = run("check", VGG, "--max-params", "1K")
    assert r.exit_code == 1
    r = run("check", VGG, "--max-params", "1K", "--max-params", "1M")  # the last one wins
    assert r.exit_code == 0, r.stderr


@pytest.mark.parametrize("command", ["schema", "blocks"])
def test_commands_that_read_no_spec_take_only_debug(command):
    help_text = run(command, "--help").stdout
    assert "--debug" in help_text
    assert "--set" not in help_text and "--max-params" not in help_text


# -- blocks and schema -----------------------------------------------------------------------


def test_blocks_lists_every_type_or_the_ones_asked():
    r = run("blocks")
    assert r.exit_code == 0
    assert r.stdout.startswith("Every block also takes: name, inputs, repeat")
    assert "\nvgg: " in r.stdout and "\nconv: " in r.stdout
    r = run("blocks", "vgg")
    assert r.exit_code == 0
    assert "\nvgg: " in r.stdout and "\nconv: " not in r.stdout
    assert "n_filters" in r.stdout
    assert run("blocks", "vgg", "vgg").stdout.count("\nvgg: ") == 1  # asked twice, listed once
    # `spec` is included once: its common keys are name and inputs
    assert run("blocks", "spec").stdout.startswith(
        "Every block also takes: name, inputs, trainable ("
    )
    assert "repeat_names (`spec`: no repeat)" in run("blocks", "vgg", "spec").stdout
    # the names of a key of many names: listed for a type asked for, not in the whole list
    assert "One of: celu, elu, exponential, gelu" in run("blocks", "activation").stdout
    assert "One of:" not in run("blocks").stdout
    assert "once (no `repeat` or `repeat_names`)" in run("blocks", "spec").stdout


def test_blocks_unknown_type_suggests_one():
    r = run("blocks", "vggg")
    assert r.exit_code == 2
    assert "did you mean `vgg`?" in r.stderr


def test_schema_prints_and_writes(tmp_path):
    r = run("schema")
    assert r.exit_code == 0
    assert "$schema" in json.loads(r.stdout)
    out = tmp_path / "s.json"
    r = run("schema", "-o", out)
    assert r.exit_code == 0 and r.stdout == f"Wrote: {out}\n"
    assert json.loads(out.read_text()) == json.loads(run("schema").stdout)
    r = run("schema", "-o", out)
    assert r.exit_code == 2 and "--force" in r.stderr
    assert run("schema", "-o", out, "--force").exit_code == 0
    assert json.loads(run("schema", "-o", "-").stdout) == json.loads(out.read_text())  # stdout


def test_schema_never_replaces_a_folder(tmp_path, monkeypatch):
    # `-o FOLDER --force` deleted the folder and what it held; `-o .` crashed
    folder = tmp_path / "full"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    monkeypatch.chdir(folder)
    for target in (folder, Path(".")):
        for extra in ((), ("--force",)):
            r = run("schema", "-o", target, *extra)
            assert r.exit_code == 2, r.stderr
            assert f"{target}: it is a folder" in r.stderr and "Traceback" not in r.stderr
    assert (folder / "keep.txt").read_text() == "mine"


def test_plot_and_diff(tmp_path):
    out = tmp_path / "v.dot"
    r = run("plot", VGG, "-o", out, "--rankdir", "lr")
    assert r.exit_code == 0 and r.stdout == f"Wrote: {out}\n"
    assert "rankdir=LR" in out.read_text()
    r = run("diff", VGG, SEED / "vgg_three_blocks.yaml", "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["changed"]


# -- --debug ---------------------------------------------------------------------------------


@pytest.fixture
def broken_expand(monkeypatch):
    """An internal error (a bug) inside `archspec render`."""
    import archspec.app

    def boom(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(archspec.app, "expand", boom)


def test_internal_error_exits_3_without_traceback(broken_expand):
    r = run("render", VGG)
    assert r.exit_code == 3
    assert "archspec: internal error: RuntimeError: disk on fire" in r.stderr
    assert "run again with --debug" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "args",
    [["render", str(VGG), "--debug"], ["render", "--debug", str(VGG)]],
    ids=["after", "before-the-spec"],
)
def test_debug_shows_the_traceback(broken_expand, args):
    r = run(*args)
    assert r.exit_code == 3
    assert "Traceback (most recent call last)" in r.stderr
    assert "RuntimeError: disk on fire" in r.stderr
    r = run("render", VGG)  # --debug is read per run
    assert "Traceback" not in r.stderr


def test_debug_is_a_plain_flag_of_every_command():
    """--debug changes nothing when all goes well, and is not read from elsewhere (--set)."""
    r = run("check", VGG, "--debug")
    assert r.exit_code == 0
    r = run("blocks", "vgg", "--debug")
    assert r.exit_code == 0 and "vgg: " in r.stdout


def test_debug_value_is_read_not_argv(broken_expand, monkeypatch):
    """The value of the option counts, not a `--debug` anywhere on the command line."""
    import sys

    monkeypatch.setattr(sys, "argv", ["archspec", "render", str(VGG), "--debug"])
    r = run("render", VGG)
    assert r.exit_code == 3 and "Traceback" not in r.stderr


# -- build (Keras) ---------------------------------------------------------------------------


@pytest.mark.keras
def test_build_prints_summary_and_saves(tmp_path):
    out = tmp_path / "m.keras"
    r = run("build", VGG, "-o", out)
    assert r.exit_code == 0, r.stderr
    assert "Model: vgg_one_block" in r.stdout
    assert "Total params: 38,720" in r.stdout
    assert f"Saved: {out} (Keras, " in r.stdout
    r = run("build", VGG, "-o", out)
    assert r.exit_code == 2 and "--force" in r.stderr


@pytest.mark.keras
def test_app_build_and_export_for_library_users(tmp_path):
    from archspec import app as api

    out = tmp_path / "m.keras"
    built = api.build(VGG, out, verify=True)
    assert built.model.count_params() == built.graph.cost.params == 38_720
    assert not out.exists()  # nothing is written until export
    saved = api.export(built)
    assert out.exists() and saved.max_abs_diff is not None and saved.max_abs_diff <= 1e-4
    with pytest.raises(ValueError, match="needs a model built with an output"):
        api.export(api.build(VGG))
    # a second export onto the first: E002, whose hint says force=True, which export takes
    with pytest.raises(ArchspecError) as e:
        api.export(built)
    assert e.value.diagnostics[0].code == "E002" and "force=True" in e.value.diagnostics[0].hint
    out.write_bytes(b"old")
    assert api.export(built, force=True).max_abs_diff is not None and out.stat().st_size > 3
    out.unlink()
    out.mkdir()  # a folder is still refused, force or not
    (out / "keep.txt").write_text("x")
    with pytest.raises(ArchspecError) as e:
        api.export(built, force=True)
    assert e.value.diagnostics[0].code == "E002" and (out / "keep.txt").exists()
