"""The README's `$ archspec check ...` transcripts are what the command prints today.

Each fenced block that holds a `$ archspec check` line is replayed: `$ cat FILE` lines write the
file that follows, the spec shown as `tiny.yaml` in the Quick start is written too, and each
command's output (stdout and stderr in one pipe, in the order a terminal shows them) must match the lines after it, where a line `...` stands for any number of lines.
Commands that build (`archspec build`) import TensorFlow and are left to the other tests.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def transcripts() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [b for b in BLOCK.findall(text) if "\n$ archspec check " in "\n" + b]


def tiny() -> str:
    """The Quick start's `tiny.yaml` (the yaml block after "A spec, `tiny.yaml`")."""
    text = README.read_text(encoding="utf-8")
    after = text.split("A spec, `tiny.yaml`:", 1)[1]
    return BLOCK.search(after).group(1)  # type: ignore[union-attr]


def matches(expected: list[str], got: list[str]) -> bool:
    """`got` equals `expected`, where a `...` line in `expected` matches any run of lines."""
    if not expected:
        return not got
    if expected[0] == "...":
        return any(matches(expected[1:], got[k:]) for k in range(len(got) + 1))
    return bool(got) and got[0] == expected[0] and matches(expected[1:], got[1:])


def steps(block: str) -> list[tuple[list[str], list[str]]]:
    """(command words, expected output lines) per `$` line of a transcript."""
    out: list[tuple[list[str], list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((shlex.split(line[2:]), []))
        elif out:
            out[-1][1].append(line)
    return out


@pytest.mark.parametrize("block", transcripts(), ids=lambda b: b.splitlines()[0][2:40])
def test_a_check_transcript_is_what_check_prints(block: str, tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(tiny())
    (tmp_path / "specs").symlink_to(ROOT / "specs")
    for words, expected in steps(block):
        if words[0] == "cat":
            (tmp_path / words[1]).write_text("\n".join(expected) + "\n")
            continue
        if words[:2] != ["archspec", "check"]:
            continue
        r = subprocess.run([sys.executable, "-m", "archspec", *words[1:]], cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=120)  # fmt: skip
        got = r.stdout.splitlines()
        assert matches(expected, got), "\n".join(["README:", *expected, "printed:", *got])


def test_the_transcripts_are_found() -> None:
    commands = [" ".join(w) for b in transcripts() for w, _ in steps(b)]
    assert "archspec check tiny.yaml" in commands and "archspec check specs/" in commands
    assert "archspec check big.yaml --max-params 3G" in commands
