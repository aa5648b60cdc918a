"""The generated JSON Schema accepts every spec in specs/ (and ones with `${...}` and `define`),
rejects misspelled keys in every built-in block; `archspec schema` and `archspec blocks`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from archspec.blocks import REGISTRY
from archspec.frontend.jsonschema import generate
from tests.conftest import SPECS, run_cli, spec_id, write


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = generate()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: jsonschema.Draft202012Validator, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(yaml.safe_load(text))]


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_accepts_every_spec(validator: jsonschema.Draft202012Validator, path: Path) -> None:
    assert _errors(validator, path.read_text()) == []


def test_accepts_expressions_and_defined_blocks(validator: jsonschema.Draft202012Validator) -> None:
    text = """\
name: x
input: [32, 32, 3]
params: {width: 64, stages: [3, 4], k: 3, kinds: [conv]}
defaults: {batch_norm: {epsilon: 1.001e-5}}
define:
  conv_bn_relu:
    params: {filters: null, kernel: 3}
    blocks:
      - {type: conv, filters: "${filters}", kernel: "${kernel}", use_bias: false}
      - {type: batch_norm}
      - {type: activation, activation: relu}
blocks:
  - {type: vgg, n_filters: "${width * 2}", n_conv: 2, repeat: "${stages[1]}", kernel: ["${k}", 3]}
  - {type: conv_bn_relu, name: stem, filters: 32, repeat: 2}
  - {type: add, inputs: [stem, vgg_1]}
  - {type: "${kinds[0]}", filters: 8, kernel: 1}
budget: {max_params: 25.6M, max_macs: 4100000000}
expect: {params: 100, output_shape: {add_1: [8, 8, 64]}}
"""
    assert _errors(validator, text) == []


TYPO = """\
name: x
input: [32, 32, 3]
blocks:
  - {type: vgg, n_filter: 64, n_conv: 2}
"""


def test_rejects_a_misspelled_key_in_a_vgg_block(
    validator: jsonschema.Draft202012Validator,
) -> None:
    errors = list(validator.iter_errors(yaml.safe_load(TYPO)))
    messages = [e.message for e in errors]
    assert "Additional properties are not allowed ('n_filter' was unexpected)" in messages
    assert "'n_filters' is a required property" in messages
    assert {tuple(e.absolute_path) for e in errors} == {("blocks", 0)}


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_builtin_block_is_closed(
    validator: jsonschema.Draft202012Validator, kind: str
) -> None:
    """A misspelled key fails in every built-in block type, also inside `define`."""
    spec = {"name": "x", "input": [8, 8, 3], "blocks": [{"type": kind, "bogus_key": 1}],
            "define": {"d": {"blocks": [{"type": kind, "bogus_key": 1}]}}}  # fmt: skip
    msgs = [e.message for e in validator.iter_errors(spec)]
    assert msgs.count("Additional properties are not allowed ('bogus_key' was unexpected)") == 2


@pytest.mark.parametrize(
    "shape", ["[null, null, 3]", "[null, 32, 3]", '[null, "${w}", "${c}"]', '["${s}", "${s}", 3]']
)
def test_accepts_unknown_heights_and_widths(
    validator: jsonschema.Draft202012Validator, shape: str
) -> None:
    assert (
        _errors(validator, f"name: x\ninput: {shape}\nblocks: [{{type: global_avg_pool}}]\n") == []
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: x\ninput: [8, 8, 3]\nblocks: [{type: flatten}]\nbudjet: {}\n", "'budjet' was unexpected"),
        ("name: x\nblocks: [{type: flatten}]\n", "is not valid under any of the given schemas"),
        ("name: x\ninput: [8, 8, 3]\nblocks: []\n", "should be non-empty"),
        ("name: x\ninput: [8, 8, 3]\nblocks: [{type: vgg, n_filters: 3.5, n_conv: 1}]\n", "3.5"),
        ("name: x\ninput: [8, 8, 3]\nblocks: [{type: vgg, n_filters: '64', n_conv: 1}]\n", "'64'"),
        ("name: x\ninput: [8, 8, 3]\nblocks: [{type: add, inputs: a}]\n", "'a'"),
        ("name: x\ninput: [8, 8, 3]\nblocks: [{name: a}]\n", "'type' is a required property"),
        ("name: x\ninput: [8, 8, 3]\nblocks: [{type: flatten}]\nbudget: {max_parms: 1}\n", "max_parms"),
        ("name: x\ninput: [8, 8, 3]\nblocks: [{type: flatten}]\nbudget: {max_params: lots}\n", "'lots'"),
        # only an image's height and width may be unknown
        ("name: x\ninput: [8, 8, null]\nblocks: [{type: flatten}]\n", "is not valid under any"),
        ("name: x\ninput: [null]\nblocks: [{type: flatten}]\n", "is not valid under any"),
    ],
)  # fmt: skip
def test_rejects(validator: jsonschema.Draft202012Validator, text: str, fragment: str) -> None:
    assert any(fragment in m for m in _errors(validator, text)), _errors(validator, text)


def _properties(node: Any) -> list[tuple[str, dict[str, Any]]]:
    out = []
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            out.append((name, prop))
        for v in node.values():
            out.extend(_properties(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(_properties(v))
    return out


def test_every_field_has_a_description() -> None:
    schema = generate()
    missing = [name for name, prop in _properties(schema) if not prop.get("description")]
    # `if` clauses select on `type` and carry no description of their own
    assert set(missing) <= {"type"}
    for kind in REGISTRY:
        block = schema["$defs"][f"block_{kind}"]
        assert all(p.get("description") for p in block["properties"].values()), kind


def test_schema_command_prints_and_writes(tmp_path: Path) -> None:
    r = run_cli("schema")
    assert r.returncode == 0
    assert json.loads(r.stdout) == generate()
    out = tmp_path / "archspec.schema.json"
    r = run_cli("schema", "-o", str(out))
    assert r.returncode == 0 and json.loads(out.read_text()) == generate()
    r = run_cli("schema", "-o", str(out))
    assert r.returncode == 2 and "exists" in r.stderr and "--force" in r.stderr
    out.write_text("old")
    assert run_cli("schema", "-o", str(out), "--force").returncode == 0
    assert json.loads(out.read_text()) == generate()
    r = run_cli("schema", "-o", str(tmp_path / "missing" / "s.json"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["archspec.schema.json"]  # no temp files


def test_blocks_command_lists_every_type_with_parameters() -> None:
    r = run_cli("blocks")
    assert r.returncode == 0, r.stderr
    for kind in REGISTRY:
        assert f"\n{kind}: " in r.stdout
    vgg = r.stdout.split("\nvgg: ")[1].split("\n\n")[0].splitlines()
    rows = {line.split()[0]: line for line in vgg[1:]}
    assert set(rows) == {"n_filters", "n_conv", "kernel", "activation", "batch_norm"}
    assert "required" in rows["n_filters"] and "Filters of every conv" in rows["n_filters"]
    assert rows["kernel"].split()[1:5] == ["int", ">", "0", "or"] and " 3 " in rows["kernel"]
    assert " false " in rows["batch_norm"]
    r = run_cli("blocks", "residual")
    assert r.returncode == 0 and "\nresidual: " in r.stdout and "\nvgg: " not in r.stdout
    r = run_cli("blocks", "vgh")
    assert r.returncode == 2 and "did you mean `vgg`?" in r.stderr


def test_the_schema_works_from_an_editor_comment(tmp_path: Path) -> None:
    """A spec that carries the yaml-language-server comment still checks."""
    spec = write(tmp_path, "# yaml-language-server: $schema=archspec.schema.json\n" + TYPO)
    r = run_cli("check", str(spec))
    assert r.returncode == 1 and "E201" in r.stderr
