"""The conventions of a well-made CLI (issue 16, "Conventions"): --version; `-` for standard
input; NO_COLOR and --no-color; shell completion; -q/--quiet; one option vocabulary (-f/--format,
-o with --force, --set and the limit flags); diff's --old-set/--new-set; build's budget and
expect; one example per command and clean usage lines. In process (typer's CliRunner), plus
subprocesses for a real pipe and a real terminal."""

from __future__ import annotations

import gc
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import archspec
from archspec.cli import app
from tests.conftest import ROOT, run_cli, write

VGG = ROOT / "specs" / "seed" / "vgg_one_block.yaml"
BROKEN = "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filter: 4, n_conv: 1}\n"
PARAMS = 'name: p\ninput: [8, 8, 3]\nparams: {width: 8}\nblocks:\n  - {type: conv, filters: "${width}", kernel: 3}\n'
COMMANDS = ["build", "render", "check", "schema", "blocks", "plot", "diff", "zoo"]
READS_SPEC = ["build", "render", "check", "plot", "diff"]


@pytest.fixture(autouse=True)
def _unfreeze() -> Iterator[None]:
    """`check` freezes the objects alive for a short-lived process; this one lives on."""
    yield
    gc.unfreeze()


def run(*args: str | Path, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], input=stdin)


# -- --version ------------------------------------------------------------------------------


def test_version():
    r = run("--version")
    assert r.exit_code == 0
    assert r.stdout == f"archspec {archspec.__version__} (archspec-cnn)\n"


# -- `-` reads standard input -----------------------------------------------------------------


def test_stdin_for_check_render_and_diff():
    text = VGG.read_text()
    r = run("check", "-", stdin=text)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("ok    <stdin>: vgg_one_block: 38,720 params")
    r = run("check", "-", "-f", "json", stdin=text)
    assert json.loads(r.stdout)["files"][0]["file"] == "<stdin>"
    r = run("render", "-", stdin=text)
    assert r.exit_code == 0 and "from <stdin>" in r.stdout
    r = run("diff", "-", VGG, stdin=text)
    assert r.exit_code == 0 and "no change" in r.stdout


def test_an_error_in_standard_input_shows_its_line():
    # a review: there was no file to read the line from, so none was shown
    broken = "name: x\ninput: [8, 8, 4]\nblocks:\n  - {type: conv, filters: 0, kernel: 3}\n"
    r = run("check", "-", stdin=broken)
    assert r.exit_code == 1
    assert "<stdin>:4:27: error[E204]" in r.stderr
    assert "    4 |   - {type: conv, filters: 0, kernel: 3}\n      |" in r.stderr


def test_stdin_errors_name_stdin():
    for command in ("check", "render", "plot", "build"):
        args = ["-o", "unused.svg"] if command == "plot" else []
        r = run(command, "-", *args, stdin=BROKEN)
        assert r.exit_code == 1, (command, r.stdout + r.stderr)
        assert "<stdin>:4:17: error[E201]" in r.stderr


def test_stdin_size_limit_applies_while_reading():
    r = run("check", "-", "--max-file-size", "100", stdin="#" * 10_000)
    assert r.exit_code == 1
    assert "<stdin>: error[E701]: file is larger than the limit of 100 bytes" in r.stderr


def test_stdin_reads_at_most_the_limit(monkeypatch):
    from archspec import app as api
    from archspec.core.errors import SpecError
    from archspec.core.limits import Limits

    class Endless:
        def __init__(self) -> None:
            self.asked: list[int] = []

        def read(self, n: int) -> bytes:
            self.asked.append(n)
            return b"#" * n

    stream = Endless()
    monkeypatch.setattr(sys, "stdin", type("Stdin", (), {"buffer": stream})())
    with pytest.raises(SpecError, match="larger than the limit"):
        api.load("-", limits=Limits(file_bytes=50))
    assert stream.asked == [51]


def test_stdin_misuse_is_a_usage_error():
    r = run("plot", "-", stdin=VGG.read_text())
    assert r.exit_code == 2 and "give the diagram's file: -o FILE" in r.stderr
    r = run("diff", "-", "-", stdin=VGG.read_text())
    assert r.exit_code == 2 and "can be read once" in r.stderr


def test_stdin_through_a_real_pipe():
    r = subprocess.run(
        [sys.executable, "-m", "archspec", "check", "-"],
        input=BROKEN, capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )  # fmt: skip
    assert r.returncode == 1
    assert "<stdin>:4:17: error[E201]" in r.stderr and "FAIL  <stdin>: 1 error" in r.stdout


# -- colour: NO_COLOR and --no-color ------------------------------------------------------------


@pytest.fixture
def terminal(monkeypatch):
    """CliRunner's streams claim to be a terminal, so that colour would be used."""
    from typer.testing import _NamedTextIOWrapper

    monkeypatch.setattr(_NamedTextIOWrapper, "isatty", lambda self: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.parametrize("command", ["check", "render"])
def test_no_color_flag(tmp_path, terminal, command):
    spec = write(tmp_path, BROKEN)
    assert "\x1b[" in run(command, spec).stderr  # coloured on a terminal
    r = run(command, spec, "--no-color")
    assert r.exit_code == 1 and "error[E201]" in r.stderr
    assert "\x1b[" not in r.stderr + r.stdout
    assert "\x1b[" in run(command, spec).stderr  # read per run


@pytest.mark.parametrize(("value", "coloured"), [("1", False), ("0", False), ("", True)])
def test_no_color_variable(tmp_path, terminal, monkeypatch, value, coloured):
    """Any non-empty value turns colour off (no-color.org)."""
    monkeypatch.setenv("NO_COLOR", value)
    r = run("check", write(tmp_path, BROKEN), VGG)
    assert ("\x1b[" in r.stderr + r.stdout) is coloured


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_no_color_on_a_real_terminal(tmp_path):
    import pty

    spec = write(tmp_path, BROKEN)

    def on_terminal(**env: str) -> str:
        main, child = pty.openpty()
        base = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        subprocess.run([sys.executable, "-m", "archspec", "check", str(spec)], stdout=child,
                       stderr=child, env={**base, "PYTHONPATH": str(ROOT), **env}, timeout=120)  # fmt: skip
        os.close(child)
        out = b""
        try:
            while chunk := os.read(main, 65536):
                out += chunk
        except OSError:  # the child's side is closed
            pass
        os.close(main)
        return out.decode()

    assert "\x1b[" in on_terminal()
    plain = on_terminal(NO_COLOR="1")
    assert "error[E201]" in plain and "\x1b[" not in plain


# -- shell completion ---------------------------------------------------------------------------


def test_completion_is_on():
    root_help = run("--help").stdout
    assert "--install-completion" in root_help and "--show-completion" in root_help
    # the bash script, as `--show-completion` prints it in bash; asked for through the completion
    # variable, in a process of its own, so that neither the calling shell (make runs recipes
    # with sh, which typer does not support) nor other in-process tests decide the outcome
    exe = Path(sys.executable).with_name("archspec")
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "_ARCHSPEC_COMPLETE": "source_bash"})  # fmt: skip
    assert r.returncode == 0 and "_archspec_completion" in r.stdout, r.stderr


def test_completion_offers_commands_and_formats():
    def complete(words: str) -> list[str]:
        env = {"_ARCHSPEC_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(shlex.split(words)) - (0 if words.endswith(" ") else 1))}  # fmt: skip
        r = CliRunner().invoke(app, [], env=env, prog_name="archspec")
        return r.stdout.split()

    assert complete("archspec ch") == ["check"]
    assert complete("archspec check x -f ") == ["text", "json", "github", "sarif"]
    assert complete("archspec diff a b --format ") == ["text", "json", "markdown"]


def test_help_stays_light():
    """`archspec --help` imports neither the app nor pydantic, YAML or the blocks."""
    code = ("import sys, runpy; sys.argv = ['archspec', '--help']\ntry:\n"
            "    runpy.run_module('archspec', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print([m for m in ('pydantic', 'yaml', 'archspec.app', 'archspec.blocks') "
            "if m in sys.modules])")  # fmt: skip
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)  # fmt: skip
    assert r.stdout.strip().splitlines()[-1] == "[]", r.stderr


# -- -q/--quiet -------------------------------------------------------------------------------


def test_quiet_check(tmp_path):
    r = run("check", VGG, "-q")
    assert r.exit_code == 0 and r.stdout == "" and r.stderr == ""
    spec = write(tmp_path, BROKEN)
    r = run("check", VGG, spec, "--quiet")
    assert r.exit_code == 1
    assert r.stdout == f"FAIL  {spec}: 1 error\n"  # no ok line, no summary
    assert "error[E201]" in r.stderr  # errors still print
    r = run("check", VGG, "-q", "-f", "json")  # a report is data, not a success line
    assert json.loads(r.stdout)["ok"] is True


def test_quiet_plot_and_schema(tmp_path):
    r = run("plot", VGG, "-o", tmp_path / "v.dot", "-q")
    assert r.exit_code == 0 and r.stdout == "" and (tmp_path / "v.dot").exists()
    r = run("schema", "-o", tmp_path / "s.json", "-q")
    assert r.exit_code == 0 and r.stdout == "" and (tmp_path / "s.json").exists()
    r = run("plot", VGG, "-o", tmp_path / "v.dot", "-q")  # exists: the error still prints
    assert r.exit_code == 2 and "pass --force" in r.stderr


@pytest.mark.keras
def test_quiet_build(tmp_path):
    out = tmp_path / "m.keras"
    r = run("build", VGG, "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "" and out.exists()


@pytest.mark.parametrize("command", ["build", "check", "plot", "schema"])
def test_quiet_where_there_are_success_lines(command):
    assert "-q, --quiet" in run(command, "--help").stdout


# -- one option vocabulary ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["build", "check", "diff"])
def test_format_is_f_everywhere_and_case_insensitive(tmp_path, command):
    assert "-f, --format FORMAT" in run(command, "--help").stdout
    spec = [VGG, VGG] if command == "diff" else [VGG]
    r = run(command, *spec, "-f", "xml")
    assert r.exit_code == 2 and "error[E003]: --format must be one of " in r.stderr
    assert "received 'xml'" in r.stderr and "Value error" not in r.stderr  # pydantic's words


def test_format_case_is_ignored(tmp_path):
    r = run("check", VGG, "-f", "JSON")
    assert r.exit_code == 0 and json.loads(r.stdout)["ok"]
    r = run("diff", VGG, VGG, "-f", "Json")
    assert r.exit_code == 0 and "changed" in json.loads(r.stdout)
    r = run("diff", VGG, VGG, "--format", "MARKDOWN")
    assert r.exit_code == 0 and r.stdout.startswith("**archspec diff**")
    r = run("build", VGG, "-f", "Keras")  # accepted; then: an output is needed
    # (named as given: it said "--format and --verify" of one of them, a walkthrough)
    assert r.exit_code == 2 and "--format needs an output: -o PATH" in r.stderr
    r = run("build", VGG, "-f", "keras", "--verify")
    assert r.exit_code == 2 and "--format and --verify need an output: -o PATH" in r.stderr


@pytest.mark.parametrize("command", ["build", "schema", "plot"])
def test_output_and_force_wherever_a_file_is_written(command):
    help_text = run(command, "--help").stdout
    assert "-o, --output" in help_text and "--force" in help_text


def test_plot_refuses_an_existing_file_without_force(tmp_path):
    out = tmp_path / "v.dot"
    out.write_text("mine")
    r = run("plot", VGG, "-o", out)
    assert r.exit_code == 2
    assert f"error[E002]: {out} exists" in r.stderr and "hint: pass --force" in r.stderr
    assert out.read_text() == "mine"
    r = run("plot", VGG, "-o", out, "--force")
    assert r.exit_code == 0 and out.read_text().startswith("digraph")


@pytest.mark.parametrize("command", READS_SPEC)
def test_set_and_limit_flags_on_every_command_that_reads_a_spec(command):
    help_text = run(command, "--help").stdout
    for flag in ("--set", "--max-file-size", "--max-params", "--debug", "--no-color"):
        assert flag in help_text


# -- diff: --set on both sides, --old-set and --new-set on one -------------------------------


def test_diff_sets(tmp_path):
    spec = write(tmp_path, PARAMS)
    plain = write(tmp_path, "name: q\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 8, "
                  "kernel: 3}\n", "q.yaml")  # fmt: skip
    r = run("diff", spec, spec, "--set", "width=16", "-f", "json")
    assert r.exit_code == 0 and not json.loads(r.stdout)["changed"]
    r = run("diff", spec, spec, "--new-set", "width=16", "-f", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["changed"]
    r = run("diff", spec, spec, "--set", "width=16", "--old-set", "width=4", "-f", "json")
    assert json.loads(r.stdout)["changed"]  # the side's own --old-set wins over --set
    r = run("diff", spec, plain, "--old-set", "width=16")  # the new side has no `width`
    assert r.exit_code == 0, r.stderr
    r = run("diff", spec, plain, "--new-set", "width=16")
    assert r.exit_code == 2 and "width" in r.stderr


# -- build honours budget and expect ---------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "code"),
    [("budget: {max_params: 10}\n", "E601"), ("expect: {params: 3}\n", "E602")],
)
def test_build_honours_budget_and_expect(tmp_path, monkeypatch, extra, code):
    import archspec.app

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("Keras was reached")

    monkeypatch.setattr(archspec.app, "require_keras", never)
    spec = write(tmp_path, "name: m\ninput: [8, 8, 3]\n" + extra +
                 "blocks:\n  - {type: conv, filters: 4, kernel: 3}\n")  # fmt: skip
    out = tmp_path / "m.keras"
    r = run("build", spec, "-o", out)
    assert r.exit_code == 1, r.stdout + r.stderr
    assert f"error[{code}]" in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".*archspec-tmp*"))
    assert run("check", spec).exit_code == 1  # as check has it


# -- help: one example per command, usage lines without artefacts ------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_one_example_and_a_clean_usage_line(command):
    r = run(command, "--help")
    assert r.exit_code == 0
    examples = re.findall(r"Example: archspec (.+)", r.stdout)
    assert len(examples) == 1 and examples[0].split()[0] == command
    usage = r.stdout.splitlines()[0]
    assert usage.startswith(f"Usage: archspec {command} [OPTIONS]")
    for artefact in ("{", "<", "[[", "list[", "]...]"):
        assert artefact not in usage, usage
    assert not re.search(r"<(path|list\[\w+\]|str|float)>", r.stdout), r.stdout
    # the example parses: its options and arguments are the command's own
    from typer.main import get_command

    group = get_command(app)
    sub = group.get_command(group.make_context("archspec", [command]), command)  # type: ignore[attr-defined]
    sub.make_context(command, shlex.split(examples[0])[1:])


def test_usage_lines():
    assert "Usage: archspec check [OPTIONS] PATH...\n" in run("check", "--help").stdout
    assert "Usage: archspec blocks [OPTIONS] [TYPE]...\n" in run("blocks", "--help").stdout
    assert "Usage: archspec diff [OPTIONS] OLD NEW\n" in run("diff", "--help").stdout
    assert "Usage: archspec plot [OPTIONS] SPEC\n" in run("plot", "--help").stdout
    r = run("check")
    assert r.exit_code == 2 and "Missing argument 'PATH'" in r.stderr


def test_examples_run_in_a_subprocess_too():
    """The root's --version, and an example, as a user types them."""
    r = run_cli("--version")
    assert r.returncode == 0 and archspec.__version__ in r.stdout


def test_the_command_list_cuts_no_description():
    r = CliRunner().invoke(app, ["--help"], terminal_width=80)
    assert r.exit_code == 0
    listed = r.stdout.split("Commands:")[1].splitlines()[1:]
    assert {line.split()[0] for line in listed if line.strip()} == set(COMMANDS)
    assert not [line for line in listed if line.rstrip().endswith("...")], r.stdout
