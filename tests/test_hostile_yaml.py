"""Hostile YAML and hostile folders (issue 17; README "Guarantees"), each item tested as a class.

- duplicate keys are judged on the key's resolved value (`yes` and `true`, `~` and `null`,
  `1` and `0x1`), with both spellings in the message;
- every explicit tag is refused, the non-specific `!` too;
- a character YAML does not allow (control characters, lone surrogates) is reported at its line
  and column;
- an empty path is a usage error, not the current folder;
- a folder search follows no symlink and opens nothing but regular files: links, FIFOs, sockets
  and devices are skipped with a W101 warning naming them, and a link's target never reaches the
  output, in any format; a symlink loop says so.

The CLI cases run through tests/test_hostile.py's `run` (a subprocess within the guarantee's
memory and CPU bounds, and a wall-clock timeout: a FIFO opened by mistake fails, not hangs).
"""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest

from archspec.app.check import find_specs
from archspec.app.check import run as check_run
from archspec.core.errors import ArchspecError, Diagnostic, SpecError, UsageError
from archspec.frontend.loader import load_text
from tests.test_hostile import OK, expect, run, snapshot


def _error(text: str) -> Diagnostic:
    with pytest.raises(SpecError) as e:
        load_text(text, "spec.yaml")
    assert len(e.value.diagnostics) == 1
    return e.value.diagnostics[0]


# -- 1. duplicate keys, judged on the resolved key -----------------------------------------

SAME_KEY = [  # (first spelling, second spelling): one key for YAML 1.1's resolver
    ("yes", "true"),
    ("true", "yes"),
    ("on", "TRUE"),
    ("Yes", "True"),
    ("no", "false"),
    ("off", "NO"),
    ("~", "null"),
    ("null", "Null"),
    ("~", "NULL"),
    ("1", "0x1"),
    ("1", "01"),  # YAML 1.1 octal
    ("1", "+1"),
    ("2", "0b10"),
    ("1000", "1_000"),
    ("60", "1:00"),  # sexagesimal
    ("0", "-0"),
    ("1.0", "1.00"),
    ("1.5", "0.15e+1"),
    (".inf", ".Inf"),
    (".nan", ".NaN"),
]


@pytest.mark.parametrize(("first", "second"), SAME_KEY, ids=[f"{a}-{b}" for a, b in SAME_KEY])
def test_duplicate_key_in_another_spelling(first, second):
    d = _error(f"name: m\nblocks:\n  - {{{first}: 1, {second}: 2}}\n")
    assert d.code == "E102"
    assert (d.line, d.col) == (3, 11 + len(first))  # at the second
    assert f"`{first}`" in d.message and f"`{second}`" in d.message
    assert "line 3" in d.message


@pytest.mark.parametrize(("first", "second"), [("yes", "true"), ("1", "0x1"), ("~", "null")])
def test_duplicate_key_in_block_style_names_the_first_line(first, second):
    d = _error(
        f"name: m\nblocks:\n  - type: flatten\n    {first}: 1\n    name: x\n    {second}: 2\n"
    )
    assert (d.code, d.line, d.col) == ("E102", 6, 5)
    assert "line 4" in d.message and f"`{first}`" in d.message


@pytest.mark.parametrize(
    "text",
    [
        "{1: a, 1.0: b}",  # an int and a float: two keys for YAML
        "{yes: a, 'yes2': b, 'true': c}",  # quoted: strings
        "{0.0: a, -0.0: b}",
        "{x: {true: 1}, y: {yes: 1}}",  # separate mappings
    ],
)
def test_distinct_keys_stay_distinct(text):
    load_text(f"m: {text}\n")


def test_same_spelling_quoted_and_plain_is_still_a_duplicate():
    d = _error('m: {"true": 1, true: 2}\n')
    assert (d.code, d.line, d.col) == ("E102", 1, 16)


def test_duplicate_key_through_the_cli(tmp_path):
    (tmp_path / "spec.yaml").write_text(
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 4, kernel: 3, "
        "use_bias: true, on: 1, yes: 2}\n"
    )
    before = snapshot(tmp_path)
    r = run(["check", "spec.yaml"], tmp_path)
    expect(r, 1, "E102", ("spec.yaml", 4, 64), before, tmp_path)
    assert "`yes` and `on`" in r.stderr


# -- 2. tags: `!` is refused like the others -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pos", "tag"),
    [
        ("a: ! 4\n", (1, 4), "!"),
        ("a: ! [1, 2]\n", (1, 4), "!"),
        ("a: ! {b: 1}\n", (1, 4), "!"),
        ("a:\n  - ! x\n", (2, 5), "!"),
        ("? ! k\n: 1\n", (1, 3), "!"),
        ("! {a: 1}\n", (1, 1), "!"),
        ('a: ! "4"\n', (1, 4), "!"),
        ("a: !!str 4\n", (1, 4), "tag:yaml.org,2002:str"),
        ("a: !foo 4\n", (1, 4), "!foo"),
        ("a: !<tag:yaml.org,2002:int> 4\n", (1, 4), "tag:yaml.org,2002:int"),
    ],
)
def test_every_tag_refused(text, pos, tag):
    d = _error(text)
    assert (d.code, d.line, d.col) == ("E104", *pos)
    assert f"`{tag}`" in d.message


def test_non_specific_tag_through_the_cli(tmp_path):
    (tmp_path / "spec.yaml").write_text(
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: ! 4, kernel: 3}\n"
    )
    before = snapshot(tmp_path)
    expect(run(["check", "spec.yaml"], tmp_path), 1, "E104", ("spec.yaml", 4, 27), before, tmp_path)


# -- 3. characters YAML does not allow: at their line and column ----------------------------


@pytest.mark.parametrize(
    ("text", "pos", "char"),
    [
        ("name: m\x01\n", (1, 8), "U+0001"),
        ("name: m\ninput: [8, \x1b[31m8]\n", (2, 12), "U+001B"),  # an ANSI escape
        ("a: 1\n\x7fb: 2\n", (2, 1), "U+007F"),
        ("a: 1\nb: 'x\x08y'\n", (2, 6), "U+0008"),  # inside a quoted string
        ('a: 1\nb: "\x0c"\n', (2, 5), "U+000C"),  # form feed
        ("# comment \x0b\na: 1\n", (1, 11), "U+000B"),  # in a comment
        ("a: 1\r\nb: 2\r\nc: \x80\r\n", (3, 4), "U+0080"),  # CRLF lines; C1 control
        ("a: 1\rb: \x9b\r", (2, 4), "U+009B"),  # CR-only lines count as YAML counts them
        ("a: [1,\n  2, 3]\n  \x1f: 4\n", (3, 3), "U+001F"),
        ("a: \ufffe\n", (1, 4), "U+FFFE"),
        ("a: \ud800\n", (1, 4), "U+D800"),  # a lone surrogate (a str from the API may hold one)
        ("\x01\x02\x03", (1, 1), "U+0001"),  # the first one is reported
    ],
)
def test_disallowed_character_has_a_position(text, pos, char):
    d = _error(text)
    assert (d.code, d.line, d.col) == ("E101", *pos)
    assert char in d.message


def test_printable_unicode_and_tabs_are_fine():
    load_text("a: '\tx é \u2603 \U0001f600 \xa0 \ue000'\nb: \x85\n")


def test_nul_before_a_control_character_stays_e107():
    assert (_error("a: 1\0\x01\n").code, _error("a: 1\x01\0\n").code) == ("E107", "E101")


@pytest.mark.parametrize(
    ("raw", "pos"),
    [
        (b"name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten, name: a\x01b}\n", (4, 28)),
        (b"\xef\xbb\xbfname: m\x1b\n", (1, 8)),  # after a BOM
        (b"name: m\r\ninput: [8, 8, 3]\r\nblocks: \x05\r\n", (3, 9)),
    ],
)
def test_control_character_through_the_cli(tmp_path, raw, pos):
    (tmp_path / "spec.yaml").write_bytes(raw)
    before = snapshot(tmp_path)
    expect(run(["check", "spec.yaml"], tmp_path), 1, "E101", ("spec.yaml", *pos), before, tmp_path)


# -- 4. an empty path ------------------------------------------------------------------------


def test_empty_path_is_a_usage_error(tmp_path, monkeypatch):
    (tmp_path / "spec.yaml").write_text(OK)
    monkeypatch.chdir(tmp_path)
    for paths in ([""], ["spec.yaml", ""]):
        with pytest.raises(UsageError) as e:
            find_specs(paths)
        assert e.value.exit_code == 2
        assert e.value.diagnostics[0].code == "E001"
        assert "empty path" in e.value.diagnostics[0].message


def test_empty_path_through_the_cli(tmp_path):
    (tmp_path / "spec.yaml").write_text(OK)
    before = snapshot(tmp_path)
    r = run(["check", ""], tmp_path)
    expect(r, 2, "E001", None, before, tmp_path)
    assert "cannot read an empty path (PATH)" in r.stderr  # named, as the other commands do


@pytest.mark.parametrize(("args", "code", "named"), [
    (["plot", ""], "E001", "SPEC"),  # it wrote `.svg`: the default name of an empty stem
    (["render", ""], "E001", "SPEC"),
    (["diff", "", "spec.yaml"], "E001", "OLD"),
    (["diff", "spec.yaml", ""], "E001", "NEW"),
    (["plot", "spec.yaml", "-o", ""], "E002", "-o"),  # it was `.`: "cannot tell the format"
    (["schema", "-o", ""], "E002", "-o"),
    (["build", "spec.yaml", "-o", ""], "E002", "-o"),
    (["build", "spec.yaml", "--weights", ""], "E001", "--weights"),
])  # fmt: skip
def test_an_empty_path_argument_is_refused_by_name(tmp_path, args, code, named):
    """Every path a command takes: an empty one is not the current folder (Path('') is)."""
    (tmp_path / "spec.yaml").write_text(OK)
    before = snapshot(tmp_path)
    r = run(args, tmp_path)
    expect(r, 2, code, None, before, tmp_path)  # TensorFlow not imported, nothing written
    assert f"an empty path ({named})" in r.stderr, r.stderr


@pytest.mark.parametrize("command", [["check"], ["plot"], ["render"], ["diff", "spec.yaml"]])
def test_a_trailing_slash_names_a_folder_in_every_command(tmp_path, command):
    """Path drops a trailing `/`: `plot spec.yaml/` read the file and `plot resnet50/` drew the
    zoo network, where check said there was no such folder. Every command answers as check."""
    (tmp_path / "spec.yaml").write_text(OK)
    before = snapshot(tmp_path)
    r = run([*command, "spec.yaml/"], tmp_path)
    expect(r, 2, "E001", "spec.yaml/", before, tmp_path)
    assert "not a folder: spec.yaml/ (spec.yaml is a file)" in r.stderr
    assert "name the file without the `/`: spec.yaml" in r.stderr
    r = run([*command, "resnet50/"], tmp_path)  # a zoo network's name has no `/`
    expect(r, 2, "E001", "resnet50/", before, tmp_path)
    assert "no such file or folder: resnet50/" in r.stderr
    assert "did you mean the zoo network `resnet50`" in r.stderr
    (tmp_path / "resnet50").mkdir()  # a SavedModel folder: `resnet50/` names it, not the zoo's
    before = snapshot(tmp_path)
    r = run([*command, "resnet50/"], tmp_path)
    expect(r, 2, "E001", None if command == ["check"] else "resnet50/", before, tmp_path)
    said = "no spec files found in resnet50/" if command == ["check"] else "is a directory"
    assert said in r.stderr, r.stderr


# -- 5, 6, 7. folder searches: nothing followed, nothing but regular files opened -------------

SECRET = "SECRET_TOKEN_d41d8cd98f00"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """specs/ as a pull request could make it: a valid spec, and beside it links (to a file
    outside, to a folder outside, dangling, in a loop), a FIFO and a socket named *.yaml."""
    outside = tmp_path / "outside"
    outside.mkdir()
    # content that would be quoted in an error's excerpt if it were read as a spec
    (outside / "secret.txt").write_text(f"{SECRET}: a: b\n")
    (outside / "inner.yaml").write_text(f"name: {SECRET}\n")
    specs = tmp_path / "specs"
    (specs / "sub").mkdir(parents=True)
    (specs / "ok.yaml").write_text(OK)
    os.symlink(outside / "secret.txt", specs / "spec.yaml")  # absolute
    os.symlink("../../outside/secret.txt", specs / "sub" / "relative.yml")
    os.symlink("../outside", specs / "linked")  # a folder: not searched
    os.symlink("nowhere.yaml", specs / "dangling.yaml")
    os.symlink("loop_b.yaml", specs / "loop_a.yaml")
    os.symlink("loop_a.yaml", specs / "loop_b.yaml")
    os.symlink("../outside/secret.txt", specs / "notes.txt")  # not a spec's name: silent
    os.mkfifo(specs / "sub" / "pipe.yaml")  # opened, it would wait for a writer forever
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(specs / "sub" / "sock.yaml"))
    return tmp_path


_LINK = " not followed in a folder search: skipped"
SKIPPED = {
    "specs/spec.yaml": "symlink" + _LINK,
    "specs/sub/relative.yml": "symlink" + _LINK,
    "specs/linked": "symlink to a folder" + _LINK,
    "specs/dangling.yaml": "dangling symlink" + _LINK,
    "specs/loop_a.yaml": "symlink loop" + _LINK,
    "specs/loop_b.yaml": "symlink loop" + _LINK,
    "specs/sub/pipe.yaml": "FIFO, not a regular file: skipped",
    "specs/sub/sock.yaml": "socket, not a regular file: skipped",
}


def test_folder_search_skips_and_warns_in_process(hostile, monkeypatch):
    monkeypatch.chdir(hostile)
    warnings: list[Diagnostic] = []
    assert find_specs(["specs"], warnings) == [Path("specs/ok.yaml")]
    assert {d.file: d.message for d in warnings} == SKIPPED
    assert all(d.code == "W101" and d.severity == "warning" for d in warnings)
    assert [d.file for d in warnings] == sorted(SKIPPED)  # in a stable order
    results = check_run(["specs"])
    assert [r.file for r in results] == ["specs/ok.yaml"] and results[0].ok
    assert [d.code for d in results[0].warnings] == ["W101"] * len(SKIPPED)


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_folder_search_never_prints_a_link_target(hostile, fmt):
    before = snapshot(hostile)
    r = run(["check", "--format", fmt, "specs"], hostile)  # bounded: a FIFO opened fails here
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    assert SECRET not in out
    assert "Traceback" not in out
    for path in SKIPPED:
        assert path in out, (path, out)
    assert "notes.txt" not in out
    assert snapshot(hostile) == before
    if fmt == "json":
        report = json.loads(r.stdout)
        assert report["ok"] and report["summary"]["warnings"] == len(SKIPPED)
        # each names its own path: listed apart, not as the first file's (a CI engineer's
        # dashboard counted them against a spec that had none)
        assert {w["code"] for w in report["skipped"]} == {"W101"}
        assert sorted(w["file"] for w in report["skipped"]) == sorted(SKIPPED)
        assert [w for f in report["files"] for w in f["warnings"]] == []
    elif fmt == "github":
        assert r.stdout.count("::warning") == len(SKIPPED)
    elif fmt == "sarif":
        results = json.loads(r.stdout)["runs"][0]["results"]
        assert sorted(x["ruleId"] for x in results) == ["W101"] * len(SKIPPED)
    else:
        assert r.stderr.count("warning[W101]") == len(SKIPPED)


def test_only_skipped_entries_is_no_spec_found(hostile):
    (hostile / "specs" / "ok.yaml").unlink()
    before = snapshot(hostile)
    r = run(["check", "specs"], hostile)
    expect(r, 2, "E001", None, before, hostile)
    assert "no spec files found" in r.stderr and "specs/spec.yaml: warning[W101]" in r.stderr
    assert SECRET not in r.stdout + r.stderr


def test_a_symlink_given_explicitly_is_followed(hostile):
    """The user asked for that file: it is read (and its error quotes it)."""
    before = snapshot(hostile)
    r = run(["check", "specs/spec.yaml"], hostile)
    expect(r, 1, "E101", ("specs/spec.yaml", 1, None), before, hostile)
    assert SECRET in r.stderr
    r = run(["check", "specs/linked"], hostile)  # a folder given as a link: searched
    expect(r, 1, "E203", "specs/linked/inner.yaml:1:1", before, hostile)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("specs/loop_a.yaml", "symlink loop: specs/loop_a.yaml"),
        ("specs/loop_a.yaml/x.yaml", "symlink loop: specs/loop_a.yaml/x.yaml"),
        ("specs/dangling.yaml", "dangling symlink: specs/dangling.yaml"),
        ("specs/sub/pipe.yaml", "not a regular file: specs/sub/pipe.yaml"),
    ],
)
def test_a_bad_path_given_explicitly_says_what_it_is(hostile, path, message):
    before = snapshot(hostile)
    r = run(["check", path], hostile)
    expect(r, 2, "E001", path, before, hostile)
    assert message in r.stderr
    assert "no such file" not in r.stderr


def test_loader_says_symlink_loop(hostile):
    from archspec.frontend.loader import read_file

    with pytest.raises(ArchspecError) as e:
        read_file(hostile / "specs" / "loop_a.yaml")
    assert e.value.exit_code == 2 and "symlink loop" in e.value.diagnostics[0].message


def test_a_device_in_a_folder_is_skipped(tmp_path):
    (tmp_path / "ok.yaml").write_text(OK)
    try:
        os.mknod(tmp_path / "dev.yaml", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
    except PermissionError:
        pytest.skip("creating a device needs CAP_MKNOD")
    warnings: list[Diagnostic] = []
    assert find_specs([tmp_path], warnings) == [tmp_path / "ok.yaml"]
    assert [(d.code, d.message) for d in warnings] == [
        ("W101", "device, not a regular file: skipped")
    ]


def test_an_unreadable_subfolder_is_skipped_with_a_warning(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every folder")
    (tmp_path / "ok.yaml").write_text(OK)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked").chmod(0)
    try:
        warnings: list[Diagnostic] = []
        assert find_specs([tmp_path], warnings) == [tmp_path / "ok.yaml"]
        assert [d.file for d in warnings] == [str(tmp_path / "locked")]
        assert "cannot read folder" in warnings[0].message
    finally:
        (tmp_path / "locked").chmod(0o700)


def test_hidden_entries_are_still_skipped_silently(tmp_path):
    (tmp_path / "ok.yaml").write_text(OK)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.yaml").write_text("bad")
    os.symlink("nowhere", tmp_path / ".hidden.yaml")
    warnings: list[Diagnostic] = []
    assert find_specs([tmp_path], warnings) == [tmp_path / "ok.yaml"]
    assert warnings == []


@pytest.mark.parametrize(("raw", "message"), [
    (b"null\n", "this file holds only null"),  # it said "this file is empty"
    (b"~\n", "this file holds only null"),
    (b"# a comment\n---\n", "this file is empty"),
    (b"", "this file is empty"),
    ("name: m\n".encode("utf-16"), "the file is UTF-16, not UTF-8"),  # "invalid UTF-8 at byte 0"
    ("name: m\n".encode("utf-32"), "the file is UTF-32, not UTF-8"),  # its mark begins as 16's
    (b"%YAML 1.1\n---\n", "this file is empty"),  # a directive is no content
    (b"name: \xff\n", "invalid UTF-8 at byte 6"),
])  # fmt: skip
def test_a_file_that_is_no_spec_says_what_it_holds(raw, message):
    from archspec.frontend.loader import load_bytes

    with pytest.raises(SpecError) as e:
        load_bytes(raw, "spec.yaml")
    (d,) = e.value.diagnostics
    assert message in d.message, d.message
    if "UTF" in message:
        assert (d.code, d.hint) == ("E107", "save the file as UTF-8")
    else:
        assert (d.code, d.line, d.col) == ("E106", 1, 1)
