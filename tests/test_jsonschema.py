"""The generated JSON Schema accepts every spec in specs/ (and ones with `${...}` and `define`),
rejects misspelled keys in every built-in block; `archspec schema` and `archspec blocks`.

Every validation test runs twice: with Draft7Validator on the draft-07 schema (the committed one,
what the YAML language server validates) and with Draft202012Validator on the 2020-12 rendering,
so the two dialects give every document here the same verdict and the same messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from archspec.blocks import REGISTRY
from archspec.frontend.jsonschema import SCHEMA_ID, Dialect, block_types, dumps, generate
from tests.conftest import ROOT, SPECS, run_cli, spec_id, write

Validator = jsonschema.protocols.Validator
VALIDATORS: dict[Dialect, type[Validator]] = {
    "draft-07": jsonschema.Draft7Validator,
    "2020-12": jsonschema.Draft202012Validator,
}
COMMITTED = ROOT / "schema" / "archspec.schema.json"


def _validator(dialect: Dialect) -> Validator:
    schema = generate(dialect)
    cls = VALIDATORS[dialect]
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture(scope="module", params=list(VALIDATORS))
def validator(request: pytest.FixtureRequest) -> Validator:
    return _validator(request.param)


def _errors(validator: Validator, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(yaml.safe_load(text))]


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_accepts_every_spec(validator: Validator, path: Path) -> None:
    assert _errors(validator, path.read_text()) == []


def test_accepts_expressions_and_defined_blocks(validator: Validator) -> None:
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
    validator: Validator,
) -> None:
    errors = list(validator.iter_errors(yaml.safe_load(TYPO)))
    messages = [e.message for e in errors]
    assert "Additional properties are not allowed ('n_filter' was unexpected)" in messages
    assert "'n_filters' is a required property" in messages
    assert {tuple(e.absolute_path) for e in errors} == {("blocks", 0)}


@pytest.mark.parametrize("kind", sorted(block_types()))
def test_every_builtin_block_is_closed(validator: Validator, kind: str) -> None:
    """A misspelled key fails in every built-in block type, also inside `define`."""
    spec = {"name": "x", "input": [8, 8, 3], "blocks": [{"type": kind, "bogus_key": 1}],
            "define": {"d": {"blocks": [{"type": kind, "bogus_key": 1}]}}}  # fmt: skip
    msgs = [e.message for e in validator.iter_errors(spec)]
    assert msgs.count("Additional properties are not allowed ('bogus_key' was unexpected)") == 2


def test_a_spec_block_is_checked_like_the_others(validator: Validator) -> None:
    ok = (
        "name: h\ninput: [32, 32, 3]\nblocks:\n  - {type: spec, path: resnet50, set: {depth: 50}}\n"
    )
    assert _errors(validator, ok) == []
    typo = ok.replace("path:", "paths:")
    assert _errors(validator, typo) == [
        "Additional properties are not allowed ('paths' was unexpected)",
        "'path' is a required property",
    ]
    # included once, as `check` says: the schema offered `repeat` and `repeat_names`
    for key in ("repeat: 2", "repeat_names: letters"):
        assert _errors(validator, ok.replace("set: {depth: 50}", key)) == [
            f"Additional properties are not allowed ('{key.split(':')[0]}' was unexpected)"
        ]


@pytest.mark.parametrize(
    "shape", ["[null, null, 3]", "[null, 32, 3]", '[null, "${w}", "${c}"]', '["${s}", "${s}", 3]']
)
def test_accepts_unknown_heights_and_widths(validator: Validator, shape: str) -> None:
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
def test_rejects(validator: Validator, text: str, fragment: str) -> None:
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
    for kind in [*REGISTRY, "spec"]:  # `spec`: another spec as a block, not in the registry
        assert f"\n{kind}: " in r.stdout
    spec = r.stdout.split("\nspec: ")[1].split("\n\n")[0].splitlines()
    assert [line.split()[:3] for line in spec[1:]] == [
        ["path", "string", "required"],
        ["set", "mapping", "{}"],
        ["outputs", "list", "of"],
        ["any_size", "bool", "false"],
    ]
    vgg = r.stdout.split("\nvgg: ")[1].split("\n\n")[0].splitlines()
    rows = {line.split()[0]: line for line in vgg[1:]}
    assert set(rows) == {
        "n_filters",
        "n_conv",
        "kernel",
        "activation",
        "batch_norm",
        "bn_epsilon",
        "bn_momentum",
    }
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


# -- the committed schema (schema/archspec.schema.json) and the two dialects --------------------


def test_the_committed_schema_is_current() -> None:
    """schema/archspec.schema.json is the built-in blocks' schema of today (`make schema`);
    `archspec schema` prints it with the installed plugins' blocks (none, in a clean venv)."""
    assert COMMITTED.read_text(encoding="utf-8") == dumps(plugins=False), (
        "schema/archspec.schema.json is out of date: run `make schema`"
    )
    r = run_cli("schema")
    assert r.returncode == 0 and r.stdout == dumps()


def test_the_committed_schema_is_draft07_with_an_absolute_id() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"] == SCHEMA_ID and SCHEMA_ID.startswith("urn:")
    jsonschema.Draft7Validator.check_schema(schema)
    text = json.dumps(schema)
    assert "prefixItems" not in text  # draft-07 ignores it: tuples are `items: [...]`
    # every reference is local, so the file works wherever an editor finds it
    refs = text.split('"$ref": ')[1:]
    assert refs and all(r.startswith('"#/$defs/') for r in refs)
    assert generate("2020-12")["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    with pytest.raises(ValueError, match="draft-07"):
        generate("draft-04")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def committed() -> Validator:
    return jsonschema.Draft7Validator(json.loads(COMMITTED.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_every_spec_validates_under_the_committed_schema(committed: Validator, path: Path) -> None:
    assert [e.message for e in committed.iter_errors(yaml.safe_load(path.read_text()))] == []


_ZOO = ROOT / "specs" / "resnet50.yaml"

#: (document, valid?): the same verdict in both dialects
AGREEMENT = [
    ("name: x\ninput: [32, 32, 3]\nblocks: [{type: flatten}]\n", True),
    ('name: x\ninput: [32, 32, "three"]\nblocks: [{type: flatten}]\n', False),
    ("name: x\ninput: [32, 32, 3, 4]\nblocks: [{type: flatten}]\n", False),
    ("name: x\ninput: [32, 32]\nblocks: [{type: flatten}]\n", True),  # a sequence (length, ch)
    ("name: x\ninput: [32, 32, null]\nblocks: [{type: flatten}]\n", False),
    ("name: x\ninput: [null, null, 3]\nblocks: [{type: flatten}]\n", True),
    ('name: x\ninput: [32, "${w}", 3]\nblocks: [{type: flatten}]\n', True),
    ('name: x\ninputs: {a: [32, 32, "three"]}\nblocks: [{type: flatten}]\n', False),
    ("name: x\ninputs: {a: [32, 32, 3], b: [10]}\nblocks: [{type: flatten}]\n", True),
    ("name: x\ninput: [8, 8, 3]\nblocks: [{type: conv, filters: 8, kernel: 3, bogus: 1}]\n", False),
    ("name: x\ninput: [8, 8, 3]\nblocks: [{type: conv, filters: 8, kernel: [3, x]}]\n", False),
    ("name: x\ninput: [8, 8, 3]\nblocks: [{type: conv, filters: 8, kernel: [3, 3]}]\n", True),
    (TYPO, False),
]


def _agreement_docs() -> list[tuple[str, bool]]:
    docs = list(AGREEMENT)
    if _ZOO.exists():
        docs.append((_ZOO.read_text(), True))
    return docs + [(p.read_text(), True) for p in SPECS[:: max(1, len(SPECS) // 8)]]


def test_draft07_and_2020_12_agree() -> None:
    """`input: [32, 32, "three"]` passed draft-07 when tuples were `prefixItems` only."""
    seven, twenty = _validator("draft-07"), _validator("2020-12")
    for text, valid in _agreement_docs():
        doc = yaml.safe_load(text)
        verdicts = (seven.is_valid(doc), twenty.is_valid(doc))
        assert verdicts == (valid, valid), (text, verdicts)
        assert sorted(e.message for e in seven.iter_errors(doc)) == sorted(
            e.message for e in twenty.iter_errors(doc)
        ), text


def test_archspec_yaml_files_are_found_by_check(tmp_path: Path) -> None:
    """The editor convention `*.archspec.yaml`: `check` on a folder finds those files too."""
    spec = tmp_path / "net.archspec.yaml"
    spec.write_text(TYPO)
    r = run_cli("check", str(tmp_path))
    assert r.returncode == 1 and "net.archspec.yaml" in r.stderr and "E201" in r.stderr
