"""The spec language: params and --set, defaults, user-defined blocks, render, plugins."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

import archspec
from archspec.core.errors import ArchspecError, SpecError
from tests.conftest import ROOT, SPECS, run_cli, spec_id, write

FAMILY = """\
name: small
params: {width: 1.0, depth: 1}
input: [32, 32, 3]
blocks:
  - {type: conv, filters: "${int(16 * width)}", kernel: 3}
  - {type: vgg, n_filters: "${int(32 * width)}", n_conv: "${depth}"}
  - {type: global_avg_pool}
  - {type: dense, units: 10}
"""


def conv_params(k, cin, cout, bias=True):
    return k * k * cin * cout + (cout if bias else 0)


@pytest.mark.parametrize(("width", "depth"), [(1.0, 1), (0.5, 2), (2.0, 3)])
def test_width_multiplier_params_by_hand(width, depth):
    c1, c2 = int(16 * width), int(32 * width)
    expected = conv_params(3, 3, c1) + conv_params(3, c1, c2)
    expected += (depth - 1) * conv_params(3, c2, c2) + (c2 * 10 + 10)
    graph = archspec.analyze(archspec.load(text=FAMILY, sets=[f"width={width}", f"depth={depth}"]))
    assert graph.params == expected


def test_param_types_are_kept_and_params_may_use_earlier_params():
    spec = archspec.load(text=FAMILY.replace("depth: 1}", "depth: 1, wide: '${width * 2}'}"),
                         sets=["width=0.25"])  # fmt: skip
    assert spec.params == {"width": 0.25, "depth": 1, "wide": 0.5}


def test_set_value_is_strict_yaml(tmp_path):
    spec = write(tmp_path, FAMILY)
    r = run_cli("render", str(spec), "--set", "depth=yes")
    assert r.returncode == 1
    assert "error[E202]" in r.stderr and "received true (a boolean)" in r.stderr
    r = run_cli("render", str(spec), "--set", "dept=2")
    assert r.returncode == 2
    assert "error[E503]" in r.stderr and "did you mean `depth`?" in r.stderr
    r = run_cli("render", str(spec), "--set", "depth")
    assert r.returncode == 2 and "NAME=VALUE" in r.stderr


def test_expression_error_points_at_the_value(tmp_path):
    spec = write(tmp_path, FAMILY.replace("int(32 * width)", "int(32 * widht)"))
    r = run_cli("render", str(spec))
    assert r.returncode == 1
    assert f"{spec}:6:28: error[E502]" in r.stderr
    assert "`${int(32 * widht)}`" in r.stderr and "did you mean `width`?" in r.stderr


DEFAULTS = """\
name: d
input: [8, 8, 3]
defaults:
  conv: {use_bias: false, kernel: 1}
  batch_norm: {epsilon: 0.5}
define:
  cbr:
    params: {filters: null}
    blocks:
      - {type: conv, name: c, filters: "${filters}"}
      - {type: batch_norm, name: bn}
blocks:
  - {type: conv, filters: 4, kernel: 3}
  - {type: conv, filters: 4, use_bias: true}
  - {type: cbr, name: u, filters: 2}
"""


def test_defaults_precedence_and_reach_into_definitions():
    items = {i.block.name: i.block for i in archspec.load(text=DEFAULTS).items}
    assert (items["conv_1"].kernel, items["conv_1"].use_bias) == (3, False)  # own value wins
    assert (items["conv_2"].kernel, items["conv_2"].use_bias) == (1, True)
    assert (items["u_c"].kernel, items["u_c"].use_bias) == (1, False)  # inside `define` too
    assert items["u_bn"].epsilon == 0.5
    assert items["u_bn"].momentum == 0.99  # built-in default where neither sets it


DEFINE = """\
name: r
input: [16, 16, 8]
define:
  unit:
    params: {filters: null, kernel: 3}
    blocks:
      - {type: conv, name: a, filters: "${filters}", kernel: "${kernel}", activation: relu}
      - {type: conv, name: b, filters: "${filters}", kernel: 1}
      - {type: add, name: sum, inputs: [input, b]}
  pair:
    params: {filters: null}
    blocks:
      - {type: unit, name: first, filters: "${filters}"}
      - {type: unit, filters: "${filters}", kernel: 1}
blocks:
  - {type: pair, name: p, filters: 8}
  - {type: unit, filters: 8, repeat: 2}
"""


def test_definitions_have_local_names_and_prefixed_layers(keras):
    graph = archspec.analyze(archspec.load(text=DEFINE))
    names = [b.name for b in graph.blocks]
    assert names[:3] == ["p_first_a", "p_first_b", "p_first_sum"]
    assert names[3:6] == ["p_unit_1_a", "p_unit_1_b", "p_unit_1_sum"]
    assert names[6:] == ["unit_1_a", "unit_1_b", "unit_1_sum", "unit_2_a", "unit_2_b", "unit_2_sum"]
    # `input` inside a definition is the instance's input: the residual sums line up
    assert graph.nodes["unit_2_sum"].inputs == ["unit_1_sum", "unit_2_b"]
    per_unit = conv_params(3, 8, 8) + conv_params(1, 8, 8)
    assert graph.params == 3 * per_unit + conv_params(1, 8, 8) * 2  # pair's 2nd unit: kernel 1
    model = archspec.compile(graph)
    assert model.count_params() == graph.params
    assert model.get_layer("p_unit_1_a").kernel.shape == (1, 1, 8, 8)


@pytest.mark.parametrize(
    ("change", "code", "line", "words"),
    [
        (
            ("- {type: unit, filters: 8, repeat: 2}", "- {type: unit, filter: 8}"),
            "E504",
            17,
            "`unit` has no param `filter`",
        ),
        (
            ("- {type: unit, filters: 8, repeat: 2}", "- {type: unit, kernel: 1}"),
            "E504",
            17,
            "`unit` needs param `filters`",
        ),
        (("  pair:\n", "  conv:\n"), "E504", 10, "`conv` is a built-in block type"),
        (
            ("- {type: unit, name: first", "- {type: pair, name: first"),
            "E504",
            13,
            "recursive user-defined block: pair -> pair",
        ),
        (('"${kernel}"', '"${kernal}"'), "E502", 7, "`kernal` is not defined"),
        (
            ("inputs: [input, b]", "inputs: [input, c]"),
            "E301",
            9,
            "`c` is not an input or an earlier block",
        ),
    ],
)
def test_definition_errors_name_use_site_and_definition(tmp_path, change, code, line, words):
    spec = write(tmp_path, DEFINE.replace(*change))
    r = run_cli("render", str(spec))
    assert r.returncode == 1, r.stdout
    assert f"{spec}:{line}:" in r.stderr and f"error[{code}]" in r.stderr
    assert words in r.stderr
    if "built-in" not in words:  # the other end: the definition, or the use site
        assert "note:" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_render_round_trips(tmp_path, path):
    original = archspec.analyze(path)
    text = run_cli("render", str(path))
    assert text.returncode == 0, text.stderr
    again = archspec.analyze(archspec.load(tmp_path / "r.yaml", text=text.stdout))
    assert [(n.name, n.shape, n.cost) for n in again.nodes.values()] == [
        (n.name, n.shape, n.cost) for n in original.nodes.values()
    ]
    assert again.outputs == original.outputs


def test_render_round_trips_definitions_and_sets(tmp_path):
    original = archspec.analyze(archspec.load(text=DEFINE))
    rendered = run_cli("render", str(write(tmp_path, DEFINE)))
    assert rendered.returncode == 0, rendered.stderr
    assert "${" not in rendered.stdout and "\ndefine:" not in rendered.stdout
    again = archspec.analyze(archspec.load(text=rendered.stdout))
    assert list(again.nodes) == list(original.nodes) and again.cost == original.cost


def test_render_names_expected_output_shapes_as_its_outputs(tmp_path):
    # a walkthrough: `outputs: [stage_b, head]` rendered beside `output_shape: {stage: ...}`,
    # which check refused (E602), as it did `backbone.conv3_block2` beside its `_` spelling
    spec = write(
        tmp_path,
        """\
name: r
input: [64, 64, 3]
define:
  u:
    blocks:
      - {type: conv, name: a, filters: 8, kernel: 3}
      - {type: conv, name: b, filters: 8, kernel: 3}
blocks:
  - {type: spec, name: bb, path: resnet18, any_size: true, outputs: [conv3_block2]}
  - {type: u, name: stage, inputs: input}
outputs: [stage, bb.conv3_block2]
expect: {output_shape: {stage: [64, 64, 8], bb.conv3_block2: [8, 8, 128]}}
""",
    )
    assert run_cli("check", str(spec)).returncode == 0
    rendered = run_cli("render", str(spec))
    assert rendered.returncode == 0, rendered.stderr
    assert "expect: {output_shape: {stage_b: [64, 64, 8], bb_conv3_block2: [8, 8, 128]}}" in (
        rendered.stdout
    )
    again = run_cli("check", str(write(tmp_path, rendered.stdout, "rendered.yaml")))
    assert again.returncode == 0, again.stderr


def test_render_leaves_out_keys_that_change_nothing(tmp_path):
    """A `bn_*` key from `defaults` reaches blocks without batch norm too, silently (W302 is for
    keys a block gives itself); written into them, it would warn on the rendered spec."""
    spec = write(tmp_path, """\
name: d
input: [16, 16, 3]
defaults:
  conv: {bn_epsilon: 0.01}
blocks:
  - {type: conv, filters: 8, kernel: 3, batch_norm: true}
  - {type: conv, filters: 8, kernel: 3}
""")  # fmt: skip
    original = archspec.analyze(spec)
    assert original.warnings == []
    rendered = run_cli("render", str(spec))
    assert rendered.returncode == 0, rendered.stderr
    lines = [line for line in rendered.stdout.splitlines() if "type: conv" in line]
    assert "bn_epsilon: 0.01" in lines[0] and "bn_" not in lines[1]
    again = archspec.analyze(archspec.load(text=rendered.stdout))
    assert again.warnings == []
    assert [(n.name, n.op) for n in again.nodes.values()] == [
        (n.name, n.op) for n in original.nodes.values()
    ]


def test_repeat_expansion_limit_is_fast():
    text = FAMILY.replace(
        "- {type: global_avg_pool}",
        "- {type: batch_norm, repeat: 1000000}\n  - {type: global_avg_pool}",
    )
    with pytest.raises(ArchspecError) as e:
        archspec.load(text=text)
    assert e.value.diagnostics[0].code == "E706"  # the repeat limit (archspec/core/limits.py)


PLUGIN_SPEC = """\
name: regularized
input: [32, 32, 3]
blocks:
  - {type: conv, filters: 8, kernel: 3, strides: 2}
  - {type: spatial_dropout, rate: 0.2}
  - {type: conv_dropout, filters: 16, strides: 2, rate: 0.1}
  - {type: global_avg_pool}
"""


def test_plugin_package_installs_and_its_blocks_work(tmp_path):
    target = tmp_path / "site"
    # the README's plugin section installs it in the venv: then that one is tested
    installed = importlib.util.find_spec("archspec_dropout") is not None
    if not installed:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
             "--no-build-isolation", "--target", str(target),
             str(ROOT / "examples" / "archspec-dropout")],
            check=True, capture_output=True,
        )  # fmt: skip
    spec = write(tmp_path, PLUGIN_SPEC)
    code = f"""
import json, archspec
from archspec.blocks import REGISTRY
g = archspec.analyze({str(spec)!r})
m = archspec.compile(g)
# the same spec on an input of unknown height and width
text = open({str(spec)!r}).read().replace("[32, 32, 3]", "[null, null, 3]")
g2 = archspec.analyze(archspec.load(text=text))
m2 = archspec.compile(g2)
print(json.dumps({{
    "types": sorted(REGISTRY),
    "static": {{n.name: [list(n.shape), n.params] for n in g.nodes.values()}},
    "keras": {{l.name: [list(l.output.shape)[1:], l.count_params()] for l in m.layers[1:]}},
    "static_any": {{n.name: [list(n.shape), n.params] for n in g2.nodes.values()}},
    "keras_any": {{l.name: [list(l.output.shape)[1:], l.count_params()] for l in m2.layers[1:]}},
    "macs_any": g2.cost.macs,
}}))
"""
    env = {"PYTHONPATH": f"{target}:{ROOT}", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"spatial_dropout", "conv_dropout"} <= set(out["types"])
    assert out["static"] == out["keras"]
    # spatial dropout keeps the shape and has no weights; conv_dropout's conv 3x3 from 8 to 16
    # channels has no bias: 3*3*8*16
    assert out["static"]["spatial_dropout_1"] == [[16, 16, 8], 0]
    assert out["static"]["conv_dropout_1_conv"] == [[8, 8, 16], 1152]
    assert out["static"]["conv_dropout_1_drop"] == [[8, 8, 16], 0]
    assert out["static_any"] == out["keras_any"]
    assert out["static_any"]["conv_dropout_1_conv"] == [[None, None, 16], 1152]
    assert out["macs_any"] is None
    # `archspec blocks` lists the plugin's blocks with their parameters
    r = subprocess.run([sys.executable, "-m", "archspec", "blocks", "conv_dropout"],
                       capture_output=True, text=True, env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "conv_dropout" in r.stdout and "rate" in r.stdout
    # without the plugin installed, the same spec is an unknown block type
    if not installed:
        r = run_cli("render", str(spec))
        assert r.returncode == 1 and "error[E205]" in r.stderr


def test_user_defined_block_with_several_inputs(keras):
    text = """\
name: two
inputs: {a: [8, 8, 3], b: [8, 8, 3]}
define:
  merge:
    params: {filters: 4}
    blocks:
      - {type: add, name: sum, inputs: [input_1, input_2]}
      - {type: conv, filters: "${filters}", kernel: 1}
blocks:
  - {type: merge, name: m, inputs: [a, b]}
"""
    graph = archspec.analyze(archspec.load(text=text))
    assert graph.nodes["m_sum"].inputs == ["a", "b"]
    assert archspec.compile(graph).count_params() == graph.params == 3 * 4 + 4


def test_default_names_skip_names_already_taken():
    repeated = """\
name: n
input: [8, 8, 3]
blocks:
  - {type: conv, name: conv, filters: 2, kernel: 1, repeat: 2}
  - {type: conv, filters: 2, kernel: 1}
"""
    assert [i.block.name for i in archspec.load(text=repeated).items] == [
        "conv_1",
        "conv_2",
        "conv_3",
    ]
    an_input = "name: n\ninputs: {conv_1: [8, 8, 3]}\nblocks:\n  - {type: conv, filters: 2, kernel: 1, inputs: conv_1}\n"
    assert [i.block.name for i in archspec.load(text=an_input).items] == ["conv_2"]


def test_layer_name_clash_is_a_duplicate_name_error(tmp_path):
    spec = write(tmp_path, "name: m\ninput: [8, 8, 3]\nblocks:\n"
                 "  - {type: conv, name: a, filters: 2, kernel: 1, batch_norm: true}\n"
                 "  - {type: batch_norm, name: a_bn}\n")  # fmt: skip
    r = run_cli("check", str(spec))
    assert r.returncode == 1 and "error[E302]" in r.stderr and "`a_bn` is already taken" in r.stderr


def test_render_quotes_what_yaml_would_misread(tmp_path):
    spec = write(tmp_path, 'name: "null"\ndescription: "smile \U0001F600: yes"\ninput: [8, 8, 3]\n'
                 "blocks:\n  - {type: conv, filters: 4, kernel: 3}\n")  # fmt: skip
    r = run_cli("render", str(spec))
    assert r.returncode == 0, r.stderr
    again = archspec.load(tmp_path / "r.yaml", text=r.stdout)
    assert again.model.name == "null" and again.model.description == "smile \U0001f600: yes"


COPIES = """\
name: copies
params: {r: 3}
input: [16, 16, 3]
define:
  stage:
    params: {f: null}
    blocks:
      - {type: conv, name: c, filters: "${f}", kernel: 3, repeat: 2, repeat_names: letters,
         strides: "${2 if copy == 0 else 1}"}
blocks:
  - {type: conv, name: block1, filters: 4, kernel: 3, repeat_names: letters}
  - {type: conv, name: block2, filters: "${4 + copy}", kernel: 3, repeat: "${r}",
     repeat_names: letters, strides: "${2 if copy == 0 else 1}"}
  - {type: stage, name: s, f: 8}
  - {type: conv, name: skipped, filters: 4, kernel: 1, repeat: 0}
  - {type: global_avg_pool, inputs: skipped}
"""


def test_render_of_copies_letters_and_repeat_zero_round_trips(tmp_path):
    original = archspec.analyze(archspec.load(text=COPIES))
    rendered = run_cli("render", str(write(tmp_path, COPIES)))
    assert rendered.returncode == 0, rendered.stderr
    assert "${" not in rendered.stdout and "repeat:" not in rendered.stdout
    assert "- {type: conv, name: block2b, filters: 5, kernel: 3}" in rendered.stdout
    again = archspec.analyze(archspec.load(text=rendered.stdout))
    assert list(again.nodes) == list(original.nodes) and again.cost == original.cost
    assert list(original.nodes)[:5] == ["block1a", "block2a", "block2b", "block2c", "s_ca"]


SET_SPEC = """\
name: s
params: {depth: 2, width: 1.0}
input: [8, 8, 3]
define:
  unit:
    blocks:
      - {type: conv, filters: 4, kernel: 1}
blocks:
  - {type: conv, filters: "${int(8 * width)}", kernel: 3, repeat: "${depth}"}
  - {type: unit, repeat: "${depth}"}
"""


@pytest.mark.parametrize("block", [0, 1])  # a built-in block, a user-defined one
def test_a_schema_error_in_a_set_value_notes_the_set(block):
    """`--set depth=2.5`: the schema refuses the repeat; the error notes the --set item and
    does not hint int(...), which would cut 2.5 to 2 without a word."""
    # only this block reads `depth` (errors that one --set causes in several keys are one)
    other = (
        '  - {type: unit, repeat: "${depth}"}' if block == 0 else 'kernel: 3, repeat: "${depth}"'
    )
    text = SET_SPEC.replace(other, other.replace('"${depth}"', "2"))
    with pytest.raises(SpecError) as e:
        archspec.load(text=text, sets=["depth=2.5"])
    (d,) = e.value.diagnostics
    assert d.path == ("blocks", block, "repeat")
    assert d.message == f"blocks[{block}].repeat: expected an integer, received 2.5 (a number)"
    assert [r.message for r in d.related] == ["`depth` comes from --set depth=2.5"]
    assert d.hint is None
    # the same value written in the spec: the int(...) hint, no note
    with pytest.raises(SpecError) as e:
        archspec.load(text=text.replace("depth: 2,", "depth: 2.5,"))
    d = {d.path: d for d in e.value.diagnostics}[("blocks", block, "repeat")]
    assert d.related == () and d.hint == 'wrap the expression in int(...): "${int(depth)}"'


def test_a_set_value_yaml_reads_as_text_is_hinted_as_in_a_spec():
    with pytest.raises(SpecError) as e:
        archspec.load(text=SET_SPEC, sets=["width=1e0"])
    d = e.value.diagnostics[0]
    assert d.code == "E501" and "'1e0' (a string)" in d.message
    assert [r.message for r in d.related] == ["`width` comes from --set width=1e0"]
    assert d.hint == (
        "--set width: YAML reads `1e0` as text; write `1.0e+0`, or `1` where an integer is wanted"
    )


TOP_SPEC = """\
name: m
params: {size: 16, limit: 1000000, eps: 0.001, n: 16}
input: ["${size}", "${size}", 3]
defaults: {batch_norm: {epsilon: "${eps}"}}
blocks:
  - {type: conv, filters: 4, kernel: 1}
  - {type: batch_norm}
budget: {max_params: "${limit}"}
expect: {params: "${n}"}
"""


@pytest.mark.parametrize(
    ("item", "code", "path"),
    [
        ("size=-3", "E204", ("input", 0)),
        ("limit=abc", "E204", ("budget", "max_params")),
        ("limit=-5", "E204", ("budget", "max_params")),
        ("n=abc", "E202", ("expect", "params")),
        ("eps=-1", "E204", ("defaults", "batch_norm", "epsilon")),
    ],
)
def test_a_set_value_that_fails_a_top_level_key_is_noted_as_a_blocks_is(item, code, path):
    # input, budget, expect and defaults had no note; the two input sizes were two errors
    with pytest.raises(SpecError) as e:
        archspec.load(text=TOP_SPEC, sets=[item])
    (d,) = e.value.diagnostics
    assert (d.code, d.path) == (code, path)
    name = item.split("=")[0]
    notes = [r.message for r in d.related]
    assert f"`{name}` comes from --set {item}" in notes
    if name == "size":
        assert notes[-1] == "the same error at 1 more key of <spec>: input[1]"


def test_a_set_value_over_budget_or_unexpected_is_noted(tmp_path):
    from archspec.app.check import check_file

    path = tmp_path / "m.yaml"
    path.write_text(TOP_SPEC)
    result = check_file(path, sets=["limit=5", "n=5"])
    assert [(d.code, [r.message for r in d.related]) for d in result.diagnostics
            if d.severity == "error"] == [
        ("E601", ["`limit` comes from --set limit=5"]),
        ("E602", ["`n` comes from --set n=5"]),
    ]  # fmt: skip
    # a --set value written as an expression: noted too (a review: it was not)
    result = check_file(path, sets=["limit=${2 + 3}", "n=${10 // 2}"])
    assert [(d.code, [r.message for r in d.related]) for d in result.diagnostics
            if d.severity == "error"] == [
        ("E601", ["`limit` comes from --set limit=${2 + 3}"]),
        ("E602", ["`n` comes from --set n=${10 // 2}"]),
    ]  # fmt: skip
    # a shape error in a value from `defaults`: the note, not "checked with --set g=2"
    path.write_text(TOP_SPEC.replace('epsilon: "${eps}"}', 'epsilon: "${eps}"}, conv: {groups: '
                                     '"${g}"}').replace("n: 16}", "n: 16, g: 1}"))  # fmt: skip
    (d,) = check_file(path, sets=["g=2"]).diagnostics
    assert (d.code, d.path) == ("E401", ("defaults", "conv", "groups"))
    assert [r.message for r in d.related] == ["the default is used by blocks[0]",
                                              "`g` comes from --set g=2"]  # fmt: skip


ANOTHER_NETWORK = """\
name: t
params: {width: 8, extra: 1, scale: 1.0, wide: "${width}", figures: {params: "${28 * wide + 1}"}}
input: [16, 16, 3]
blocks:
  - {type: conv, filters: "${int(wide * scale)}", kernel: 3}
expect: {params: EXPECTED}
"""


@pytest.mark.parametrize(
    ("expected", "sets", "noted"),
    [
        ("224", ["width=16"], True),  # 3 x 3 x 3 x 8 + 8 as written; the --set made another
        ("225", ["width=8"], False),  # the spec's own value: the figure is wrong as written
        ("225", ["scale=1"], False),  # the value of `scale: 1.0`, as an int
        ("225", ["wide=8"], False),  # the value a param written as an expression has
        ("225", ["extra=2"], False),  # a param the network does not read
        ("225", ["width=16", "wide=8"], False),  # another --set gives what it would change
        ('"${28 * width + 1}"', ["width=16"], False),  # the figure reads it: its own error
    ],
    ids=[
        "changed",
        "own_value",
        "own_number",
        "own_computed",
        "not_read_by_the_network",
        "overridden",
        "read_by_the_figure",
    ],
)
def test_expect_against_a_network_a_set_changed_says_so(tmp_path, expected, sets, noted):
    """`check efficientnet_b0 --set stem_filters=16` was E602, hinted to write the new figure
    into the zoo's file: the figure is the spec's as written, and the --set made another
    network (a review)."""
    from archspec.app.check import check_file

    path = write(tmp_path, ANOTHER_NETWORK.replace("EXPECTED", expected))
    (d,) = check_file(path, sets=sets).diagnostics
    assert (d.code, d.path) == ("E602", ("expect", "params"))
    says = f"--set {sets[0]} changes the network, and `expect.params` does not read it: it is " \
        "the figure of the spec as written"  # fmt: skip
    assert (says in [r.message for r in d.related]) == noted
    assert d.hint is not None and d.hint.startswith("if the model is right") != noted


def test_expect_as_one_expression_reads_what_its_param_reads(tmp_path):
    """`expect: "${figures}"`, a param that reads `width`: `--set width=16` changes the
    figure too, and was noted as a network the figure does not read (a review)."""
    from archspec.app.check import check_file

    text = ANOTHER_NETWORK.replace("expect: {params: EXPECTED}", 'expect: "${figures}"')
    (d,) = check_file(write(tmp_path, text), sets=["width=16"]).diagnostics
    assert (d.code, d.path, d.related) == ("E602", ("expect", "params"), ())
    assert d.message.startswith("expect.params: expected 449 params, the model has 448")


def test_expect_after_new_set_names_that_option(tmp_path):
    """`diff --new-set width=16` against a spec whose `expect` holds for width 8: the note
    named `--set`, an option diff does not have (a review)."""
    from archspec.app import compare

    path = write(tmp_path, ANOTHER_NETWORK.replace("EXPECTED", "224"))
    (d,) = compare(path, path, "text", new_sets=["width=16"]).failures
    assert [r.message for r in d.related] == ["--new-set width=16 changes the network, and "
                                              "`expect.params` does not read it: it is the "
                                              "figure of the spec as written"]  # fmt: skip
    assert d.hint is not None and "check it without --new-set width=16," in d.hint


def test_a_bare_set_param_keeps_the_hints_that_fit_it():
    """Only the int(...) hint is dropped where the value is a --set param alone: a did-you-mean
    and the YAML hint stay (the first version of the --set notes dropped them all)."""
    spec = SET_SPEC.replace('filters: "${int(8 * width)}"', 'filters: "${depth}", '
                            'activation: "${act}"').replace("width: 1.0}", "width: 1.0, act: relu}")  # fmt: skip
    for sets, key, hint in [
        (["act=rellu"], "activation", "did you mean `relu`?"),
        (
            ["depth=1e0"],
            "filters",
            "--set depth: YAML reads `1e0` as text; write `1.0e+0`, "
            "or `1` where an integer is wanted",
        ),
        (["depth=2.5"], "filters", None),
    ]:
        with pytest.raises(SpecError) as e:
            archspec.load(text=spec, sets=sets)
        d = {d.path: d for d in e.value.diagnostics}[("blocks", 0, key)]
        assert d.hint == hint, (sets, d.hint)
        assert d.related[0].message.startswith(f"`{sets[0].split('=')[0]}` comes from --set")


def test_free_text_may_hold_dollar_braces():
    """`description` is free text: a `${` in it is no expression (the check for a partial
    `${...}` refused it)."""
    text = SET_SPEC.replace("name: s\n", 'name: s\ndescription: "scaled by ${width}; a ${ b"\n')
    assert archspec.load(text=text).model.description == "scaled by ${width}; a ${ b"


EXPRESSION_ERRORS = """\
name: m
params: {w: 8}
input: [8, 8, 3]
blocks:
  - {type: conv, name: a, filters: "${wdth}", kernel: "${kk}"}
  - {type: conv, inputs: a, filtrs: 4, kernel: 3}
  - {type: dense, units: "${w * }"}
"""


@pytest.mark.parametrize("included", [False, True])
def test_expression_errors_come_with_the_other_blocks_errors(tmp_path, included):
    """An undefined name in one block ended the run before the next block's unknown key and
    the one after's syntax error were looked at: the user fixed them one run at a time."""
    spec = write(tmp_path, EXPRESSION_ERRORS)
    if included:  # an included spec's blocks are reported alike
        spec = write(tmp_path, "name: outer\ninput: [8, 8, 3]\nblocks:\n"
                     "  - {type: spec, path: spec.yaml}\n", "outer.yaml")  # fmt: skip
    with pytest.raises(SpecError) as e:
        archspec.load(spec)
    found = [(d.code, d.line, d.message.split(":")[0]) for d in e.value.diagnostics]
    assert found == [
        ("E502", 5, "blocks[0].filters"),  # every key of the block, not only the first
        ("E502", 5, "blocks[0].kernel"),
        ("E201", 6, "blocks[1].filtrs"),  # and no "unknown input `a`" after the failed block
        ("E501", 7, "blocks[2].units"),
    ]


PARAM_ORIGINS = """\
name: m
input: [8, 8, 3]
defaults:
  unit: {k: 2.5}
define:
  unit:
    params: {f: 8, k: 3, act: relu, t: 0}
    blocks:
      - {type: conv, filters: "${f}", kernel: "${k}", activation: "${act}", strides: "${t}"}
  outer:
    params: {g: 5}
    blocks:
      - {type: unit, f: "${-g}", act: rleu}
blocks:
  - {type: outer}
"""


def test_a_bad_value_read_from_a_definition_param_notes_where_it_was_written():
    """The error pointed at `${f}` inside the definition and noted the use: which of the
    use's keys, the spec's `defaults` or the definition's defaults gave the value was left
    to the user to find."""
    with pytest.raises(SpecError) as e:
        archspec.load(text=PARAM_ORIGINS)
    notes = {d.path[-1]: [(n.message, n.line, n.col) for n in d.related]
             for d in e.value.diagnostics}  # fmt: skip
    assert notes["filters"][0] == ("`f` is -5 (an integer), from define.outer.blocks[0].f", 13, 25)
    assert notes["kernel"][0] == ("`k` is 2.5 (a number), from defaults.unit.k", 4, 13)
    act = "`act` is 'rleu' (a string), from define.outer.blocks[0].act"
    assert notes["activation"][0] == (act, 13, 39)
    t = "`t` is 0 (an integer), from the default at define.unit.params.t"
    assert notes["strides"][0] == (t, 7, 40)
    # the value to change is the one noted: no "wrap the expression in int(...)" for 2.5
    (kernel,) = [d for d in e.value.diagnostics if d.path[-1] == "kernel"]
    assert kernel.hint is None


def test_expression_errors_survive_an_error_raised_before_their_block():
    """An error raised at once (an unknown input, here) came alone: the later block's E502,
    found first, was dropped; and then without the schema errors of the blocks after it (the
    E201 of `filtrs`). A block that is a `${...}` as a whole is reported as before."""
    text = EXPRESSION_ERRORS.replace("name: a, ", "inputs: nosuch, name: a, ", 1)
    text = text.replace('"${wdth}"', "8").replace('"${kk}"', "3")
    with pytest.raises(SpecError) as e:
        archspec.load(text=text)
    assert [(d.code, d.line) for d in e.value.diagnostics] == [
        ("E301", 5), ("E201", 6), ("E501", 7)
    ]  # fmt: skip
    whole = "name: m\nparams: {b: {type: dense, units: 2}}\ninput: [8]\nblocks:\n" \
        '  - "${b}"\n  - "${nope}"\n'  # fmt: skip
    with pytest.raises(SpecError) as e:
        archspec.load(text=whole)
    assert [(d.code, d.message) for d in e.value.diagnostics] == [
        ("E502", "blocks[1]: in `${nope}`: `nope` is not defined")
    ]


SHADOWED = """\
name: m
params: {w: 4, width: 2}
input: [8, 8, 3]
define:
  unit:
    params: {w: 8, f: 8, g: 2, h: 1}
    blocks:
      - {type: conv, filters: "${(f + h + w) // g}", kernel: 3}
blocks:
"""


@pytest.mark.parametrize(
    ("use", "sets", "expected"),
    [
        # the use's `w` hides the spec's: no "comes from --set w=..." for an equal value
        ("{type: unit, w: 6.5}", ["w=6.5"],
         ["`w` is 6.5 (a number), from blocks[0].w"]),
        # of several names read, the ones the use gave, not the definition's defaults
        ("{type: unit, g: 0}", [], ["`g` is 0 (an integer), from blocks[0].g"]),
        # a use's key that reads a --set param notes the --set too
        ("{type: unit, g: '${width}'}", ["width=0.5"],
         ["`g` is 0.5 (a number), from blocks[0].g", "`width` comes from --set width=0.5"]),
        # which copy of a repeated use
        ("{type: unit, g: '${1 - copy}', repeat: 2}", [],
         ["`g` is 0 (an integer), from blocks[0].g, with `copy` = 1"]),
        # a NaN is still the value noted (nan != nan)
        ("{type: unit, g: .nan}", [], ["`g` is nan (a number), from blocks[0].g"]),
    ],
)  # fmt: skip
def test_param_notes_name_the_value_that_matters(use, sets, expected):
    with pytest.raises(SpecError) as e:
        archspec.load(text=SHADOWED + f"  - {use}\n", sets=sets)
    (d,) = e.value.diagnostics
    notes = [n.message for n in d.related]
    # then the use site (and in a repeated use, which copy)
    assert notes[: len(expected)] == expected
    assert notes[len(expected)] == "in the block used at blocks[0]"
    copy = ["with `copy` = 1 (copy 2 of 2 of blocks[0])"] if "repeat" in use else []
    assert notes[len(expected) + 1 :] == copy


NESTED = """\
name: m
params: {w: 5, h: 2}
input: [8, 8, 3]
define:
  inner:
    params: {f: 8, g: 2}
    blocks:
      - {type: conv, filters: "${f // g}", kernel: 3}
  outer:
    params: {h: 1}
    blocks:
      - {type: inner, g: "${w - 4}"}
blocks:
  - {type: outer}
"""


@pytest.mark.parametrize(
    ("change", "sets", "expected"),
    [
        # a use inside a definition: its key reads the spec's `w`, which --set gave
        ({}, ["w=4"], ["`g` is 0 (an integer), from define.outer.blocks[0].g",
                       "`w` comes from --set w=4"]),
        # ... but the outer definition's `h` hides the spec's: no --set note for it, and a note
        # on where the outer use's `h` got its value
        ({'g: "${w - 4}"': 'g: "${h - 1}"'}, ["h=1"],
         ["`g` is 0 (an integer), from define.outer.blocks[0].g",
          "`h` is 1 (an integer), from the default at define.outer.params.h"]),
        # a default of the inner definition reads the spec's params, not the outer use's
        # (it crashed: KeyError), and a default that reads a --set counts as given
        ({"{f: 8, g: 2}": '{f: 8, g: "${8 // h}"}', 'g: "${w - 4}"': "f: 8"}, ["h=0"],
         ["`h` comes from --set h=0"]),
        ({"{f: 8, g: 2}": '{f: 8, g: "${h - 2}"}', 'g: "${w - 4}"': "f: 16"}, ["h=2"],
         ["`f` is 16 (an integer), from define.outer.blocks[0].f",
          "`g` is 0 (an integer), from the default at define.inner.params.g",
          "`h` comes from --set h=2"]),
    ],
)  # fmt: skip
def test_param_notes_in_nested_definitions(change, sets, expected):
    text = NESTED
    for old, new in change.items():
        text = text.replace(old, new)
    with pytest.raises(SpecError) as e:
        archspec.load(text=text, sets=sets)
    (d,) = e.value.diagnostics
    assert [n.message for n in d.related if not n.message.startswith("in the block")] == expected


CHAIN = """\
name: t
input: [32, 32, 3]
params: {w: 1}
define:
  a:
    params: {x: 8}
    blocks:
      - {type: conv, filters: "${x}", kernel: 3}
  b:
    params: {y: 8}
    blocks:
      - {type: a, x: "${y - 10}"}
  c:
    params: {z: 8}
    blocks:
      - {type: b, y: "${z * w}"}
blocks:
  - {type: c, z: "${w * 4}"}
"""


def test_param_notes_follow_a_value_through_nested_definitions():
    """A value passed on through three definitions: the notes said only where the innermost
    use's key was (`x` from define.b.blocks[0].x), not where the values it read came from."""
    with pytest.raises(SpecError) as e:
        archspec.load(text=CHAIN, sets=["w=1"])
    (d,) = e.value.diagnostics
    assert d.message == "define.a.blocks[0].filters: expected a value > 0, received -6 (an integer)"
    assert [(n.message, n.line, n.col) for n in d.related] == [
        ("`x` is -6 (an integer), from define.b.blocks[0].x", 12, 22),
        ("`y` is 4 (an integer), from define.c.blocks[0].y", 16, 22),
        ("`z` is 4 (an integer), from blocks[0].z", 18, 18),
        ("`w` comes from --set w=1", None, None),  # read at two levels: noted once
        ("in the block used at blocks[0]", 18, 5),
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # a whole block as `${...}` that fails, among blocks whose keys fail
        ('blocks:\n  - {type: dense, units: "${nope1}"}\n  - "${nope2}"\n'
         '  - {type: dense, units: "${nope3}"}\n', [("E502", 4), ("E502", 5), ("E502", 6)]),
        # a schema error of the top level; a failing top-level key
        ('budget: {params: "lots"}\nblocks:\n  - {type: dense, units: "${nope1}"}\n',
         [("E201", 3), ("E502", 5)]),
        ('expect: {params: "${nope0}"}\nblocks:\n  - {type: dense, units: "${nope1}"}\n',
         [("E502", 3), ("E502", 5)]),
        # an error found inside a definition before one raised there at once
        ("define:\n  a:\n    params: {g: 0}\n    blocks:\n      - {type: dense, units: -1}\n"
         '      - {type: dense, units: "${8 // g}"}\nblocks:\n  - {type: a}\n'
         '  - {type: dense, units: "${nope}"}\n', [("E204", 7), ("E501", 8), ("E502", 11)]),
    ],
)  # fmt: skip
def test_no_error_found_is_dropped_by_another(text, found):
    with pytest.raises(SpecError) as e:
        archspec.load(text="name: m\ninput: [8]\n" + text)
    assert [(d.code, d.line) for d in e.value.diagnostics] == found


QUOTED = """\
name: m
params: {use_se: "false"}
input: [8, 8, 3]
blocks:
  - {type: conv, filters: 4, kernel: 1, repeat: "${1 if use_se else 0}"}
  - {type: conv, filters: 4, kernel: 1, trainable: "${not use_se}"}
"""


def test_a_quoted_boolean_is_no_condition():
    # "false" is text, which Python takes as true: the block was kept, the other frozen
    with pytest.raises(SpecError) as e:
        archspec.load(text=QUOTED)
    assert [(d.code, d.path, d.line) for d in e.value.diagnostics] == [
        ("E501", ("blocks", 0, "repeat"), 5), ("E501", ("blocks", 1, "trainable"), 6)]  # fmt: skip
    d = e.value.diagnostics[0]
    assert "the condition of `if` takes a boolean, found 'false' (a string)" in d.message
    assert d.hint == ("`use_se` is the text `false`: write `use_se: false` without quotes for a "
                      "boolean (quoted, it is text)")  # fmt: skip
    assert [(r.message, r.line) for r in d.related] == [("`use_se` is written at params.use_se", 2)]
    # given by --set, quoted: how to pass a boolean
    spec = QUOTED.replace('use_se: "false"', "use_se: true")
    with pytest.raises(SpecError) as e:
        archspec.load(text=spec, sets=['use_se="false"'])
    d = e.value.diagnostics[0]
    assert d.hint == "write `--set use_se=false` without quotes for a boolean (quoted, it is text)"
    assert [r.message for r in d.related] == ['`use_se` comes from --set use_se="false"']
    assert len(archspec.load(text=spec, sets=["use_se=false"]).items) == 1


REQUIRE_SPEC = """\
name: r
params:
  alpha: 1.0
  first: "${make_divisible(32 * alpha, 8)}"
  second: "${first - 8}"
input: [16, 16, 3]
require:
  - that: "${alpha >= 0.1}"
    message: "alpha below 0.1 is not supported"
  - {that: "${second > 0}", message: "alpha too small: the second conv has no filters"}
blocks:
  - {type: conv, filters: "${first}", kernel: 3}
  - {type: conv, filters: "${second}", kernel: 3}
"""


def test_require_holds_silently_and_a_false_condition_is_its_own_error():
    """`require` states what a param may be, with the error's words (MobileNetV2 refused
    alpha < 0.28 through a list index out of range on a param named for the reason)."""
    assert archspec.analyze(archspec.load(text=REQUIRE_SPEC)).cost.params > 0
    with pytest.raises(SpecError) as e:  # second = 0: only E506, not the conv's filters error
        archspec.load(text=REQUIRE_SPEC, sets=["alpha=0.2"])
    (d,) = e.value.diagnostics
    assert (d.code, d.path, d.line) == ("E506", ("require", 1, "that"), 10)
    assert d.message == "alpha too small: the second conv has no filters"
    # the values it read, and the --set they were computed from (through `first`)
    assert [r.message for r in d.related] == [
        "the condition read: `second` is 0 (an integer)",
        "`alpha` comes from --set alpha=0.2",
    ]
    with pytest.raises(SpecError) as e:  # both false: both reported, in the file's order
        archspec.load(text=REQUIRE_SPEC, sets=["alpha=0.05"])
    assert [(d.code, d.path[1]) for d in e.value.diagnostics] == [("E506", 0), ("E506", 1)]
    assert e.value.diagnostics[0].message == "alpha below 0.1 is not supported"


def test_require_names_the_set_behind_a_param_written_as_a_list():
    """The condition read `widths`, a list computed from `alpha`: `--set alpha=0.2` was not
    noted (the walk back read only params written as one `${...}`; a review)."""
    text = REQUIRE_SPEC.replace('second: "${first - 8}"', 'widths: ["${first - 8}", 8]\n'
                                '  second: "${widths[0]}"').replace("${second > 0}",
                                "${widths[0] > 0}")  # fmt: skip
    with pytest.raises(SpecError) as e:
        archspec.load(text=text, sets=["alpha=0.2"])
    (d,) = e.value.diagnostics
    assert d.code == "E506"
    assert [r.message for r in d.related] == [
        "the condition read: `widths` is [0, 8] (a list)",
        "`alpha` comes from --set alpha=0.2",
    ]
    with pytest.raises(SpecError) as e:  # `first` given: alpha is not behind the list
        archspec.load(text=text, sets=["alpha=0.2", "first=8"])
    (d,) = e.value.diagnostics
    assert [r.message for r in d.related] == [
        "the condition read: `widths` is [0, 8] (a list)",
        "`first` comes from --set first=8",
    ]


def test_require_in_an_included_spec_names_the_including_set(tmp_path):
    write(tmp_path, REQUIRE_SPEC, "r.yaml")
    outer = write(tmp_path, "name: o\ninput: [16, 16, 3]\nblocks:\n"
                  "  - {type: spec, path: r.yaml, set: {alpha: 0.2}}\n", "o.yaml")  # fmt: skip
    with pytest.raises(SpecError) as e:
        archspec.load(outer)
    (d,) = e.value.diagnostics
    assert d.code == "E506" and d.file.endswith("r.yaml")
    assert "`alpha` comes from blocks[0].set.alpha" in [r.message for r in d.related]


@pytest.mark.parametrize(
    ("entry", "code", "words"),
    [
        ('{that: "${alpha}", message: x}', "E202", "expected true or false, received 1.0"),
        ('{that: "false", message: x}', "E202", "expected true or false"),
        ("{that: true, mesage: x}", "E201", "unknown key `mesage`"),
        ("{that: true}", "E203", "needs `message`"),
        ('{that: true, message: ""}', "E204", "non-empty string"),
    ],
)
def test_bad_require_entries(entry, code, words):
    text = REQUIRE_SPEC.replace('{that: "${second > 0}", message: "alpha too small: the second '
                                'conv has no filters"}', entry)  # fmt: skip
    assert entry in text
    with pytest.raises(SpecError) as e:
        archspec.load(text=text)
    (d,) = e.value.diagnostics
    assert d.code == code and d.path[:2] == ("require", 1) and words in d.message, d.message


def test_check_reports_require_with_exit_1(tmp_path):
    path = write(tmp_path, REQUIRE_SPEC)
    done = run_cli("check", str(path), "--set", "alpha=0.2")
    assert done.returncode == 1
    assert "error[E506]: alpha too small: the second conv has no filters" in done.stderr
