"""`in_shape` and `in_channels` in expressions (SPEC "Shapes in expressions"): what they are at
the top level, inside a user-defined block and per copy; where they are refused; where each
error points; `archspec render` writes the evaluated values."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from archspec.core.errors import Diagnostic, SpecError
from archspec.core.limits import DEFAULT
from archspec.frontend.loader import load_text
from archspec.frontend.lower import lower
from archspec.frontend.resolve import Resolved, resolve
from archspec.ir.graph import Graph
from archspec.render.spec import render_spec
from tests.conftest import ROOT


def run(text: str, **limits: int) -> Resolved:
    return resolve(load_text(text, "t.yaml", dataclasses.replace(DEFAULT, **limits)))


def graph(text: str) -> Graph:
    return lower(run(text))


def error(text: str, **limits: int) -> Diagnostic:
    with pytest.raises(SpecError) as e:
        lower(run(text, **limits))
    assert len(e.value.diagnostics) == 1, e.value.diagnostics
    return e.value.diagnostics[0]


def fields(resolved: Resolved, key: str) -> dict[str, object]:
    return {i.block.name or "": getattr(i.block, key) for i in resolved.items
            if hasattr(i.block, key)}  # fmt: skip


def facts(g: Graph) -> list[tuple[str, str, tuple[int | None, ...], int]]:
    """Everything that makes two graphs the same model: layers, kinds, shapes, params."""
    return [(n, type(node.op).__name__, node.shape, node.params)
            for n, node in g.nodes.items()]  # fmt: skip


BOTTLENECK = """\
name: t
input: [16, 16, 3]
define:
  bneck:
    params: PARAMS
    blocks:
      - {type: conv, filters: "${FOUR}", kernel: 1, name: reduce}
      - {type: conv, filters: "${FOUR}", kernel: 3, name: conv}
      - {type: conv, filters: "${ONE}", kernel: 1, name: restore}
      - {type: add, inputs: [input, restore]}
blocks:
  - {type: conv, filters: 64, kernel: 3, name: stem}
  - {type: bneck, repeat: 2}
  - {type: conv, filters: 128, kernel: 1, strides: 2}
  - {type: bneck, BLOCK2}
"""


def bottleneck(shapes: bool) -> str:
    if shapes:
        subs = {"PARAMS": "{}", "FOUR": "in_channels // 4", "ONE": "in_channels",
                "BLOCK2": "name: last"}  # fmt: skip
    else:
        subs = {"PARAMS": "{channels: null}", "FOUR": "channels // 4", "ONE": "channels",
                "BLOCK2": "name: last, channels: 128"}  # fmt: skip
    text = BOTTLENECK if shapes else BOTTLENECK.replace("repeat: 2", "repeat: 2, channels: 64")
    for k, v in subs.items():
        text = text.replace(k, v)
    return text


# what they are


def test_a_bottleneck_on_in_channels_equals_one_with_hand_passed_counts():
    derived, passed = run(bottleneck(True)), run(bottleneck(False))
    assert fields(derived, "filters") == fields(passed, "filters")
    assert fields(derived, "filters")["last_reduce"] == 32
    assert fields(derived, "filters")["bneck_2_restore"] == 64
    a, b = lower(derived), lower(passed)
    assert facts(a) == facts(b)
    assert (a.params, a.cost) == (b.params, b.cost)


def test_at_the_top_level_each_copy_sees_its_own_input():
    r = run("name: t\ninput: [8, 8, 3]\nblocks:\n"
            "  - {type: conv, filters: '${in_channels * 2 + copy}', kernel: 1, repeat: 3}\n"
            "  - {type: dense, units: '${in_shape[0] * 100 + in_shape[1] * 10 + in_channels}'}\n")  # fmt: skip
    assert fields(r, "filters") == {"conv_1": 6, "conv_2": 13, "conv_3": 28}
    assert fields(r, "units") == {"dense_1": 8 * 100 + 8 * 10 + 28}


def test_inside_a_definition_they_are_the_instances_first_input():
    text = """\
name: t
inputs: {a: [4, 4, 6], b: [4, 4, 10]}
define:
  pair:
    params: {width: "${in_channels * 10}"}
    blocks:
      - {type: conv, filters: "${in_channels + 1}", kernel: 1, inputs: input_2, name: x}
      - {type: conv, filters: "${in_channels + 2}", kernel: 1, name: y}
      - {type: dense, units: "${width}", name: z}
      - {type: dense, units: "${in_shape[0]}", repeat: 2, name: w}
blocks:
  - {type: pair, inputs: [a, b], name: p}
  - {type: pair, inputs: [b, a], name: q, width: "${in_channels}"}
"""
    r = run(text)
    # the instance's first input in every inner block (not the inner block's own input, not
    # the input the inner block reads), in its params' defaults, and at its use
    assert fields(r, "filters") == {"p_x": 7, "p_y": 8, "q_x": 11, "q_y": 12}
    assert fields(r, "units") == {"p_z": 60, "p_w_1": 4, "p_w_2": 4, "q_z": 10,
                                  "q_w_1": 4, "q_w_2": 4}  # fmt: skip


def test_the_copies_of_a_repeated_instance_and_a_param_that_sets_an_inner_repeat():
    text = """\
name: t
input: [4, 4, 8]
define:
  grow:
    params: {n: 1}
    blocks:
      - {type: conv, filters: "${in_channels * 2}", kernel: 1, repeat: "${n}"}
blocks:
  - {type: grow, repeat: 2, n: "${in_channels // 4}"}
"""
    r = run(text)
    # copy 1 reads 8 channels (n = 2), copy 2 reads 16 (n = 4); inside, always the instance's
    assert fields(r, "filters") == {"grow_1_conv_1": 16, "grow_1_conv_2": 16,
                                    **{f"grow_2_conv_{k}": 32 for k in range(1, 5)}}  # fmt: skip


def test_a_value_from_defaults_is_read_as_if_written_in_the_block():
    r = run("name: t\ninput: [4, 4, 3]\ndefaults: {conv: {filters: '${in_channels * 2}'}}\n"
            "blocks:\n  - {type: conv, kernel: 1, repeat: 3}\n")  # fmt: skip
    assert fields(r, "filters") == {"conv_1": 6, "conv_2": 12, "conv_3": 24}


def test_unknown_sizes_are_null():
    r = run("name: t\ninput: [null, null, 16]\nblocks:\n"
            "  - {type: conv, filters: '${in_shape[2] + (in_shape[0] or 1000)}', kernel: 1}\n")  # fmt: skip
    assert fields(r, "filters") == {"conv_1": 1016}


def test_a_spec_without_shape_names_is_not_lowered_while_resolving():
    r = run(bottleneck(False))
    assert r.items and all("${" not in str(i.block.model_dump()) for i in r.items)


# where they are refused, and where errors point


NULL = "name: t\ninput: [null, null, 16]\n"


def test_arithmetic_on_an_unknown_size_is_an_error_at_the_key():
    d = error(NULL + "blocks:\n  - {type: conv, filters: 4, kernel: 1}\n"
              "  - {type: conv, filters: '${in_shape[0] // 2}', kernel: 1}\n")  # fmt: skip
    assert (d.code, d.path, d.line, d.col) == ("E501", ("blocks", 1, "filters"), 5, 27)
    assert "found null" in d.message
    assert d.hint == "`in_shape` is [null, null, 4] here: null where the input's size is unknown"


def test_an_unknown_size_given_as_is_fails_validation_at_the_key():
    d = error(NULL + "blocks:\n  - {type: conv, filters: '${in_shape[0]}', kernel: 1}\n")
    assert (d.path, d.line) == (("blocks", 0, "filters"), 4)
    assert "null" in d.message


@pytest.mark.parametrize("key", ["repeat", "name", "inputs"])
def test_they_are_refused_in_the_keys_that_decide_the_graph(key: str):
    d = error(
        NULL + f"blocks:\n  - {{type: conv, filters: 4, kernel: 1, {key}: '${{in_channels}}'}}\n"
    )
    assert (d.code, d.path, d.line) == ("E502", ("blocks", 0, key), 4)
    assert "`in_channels` is not known here: it is the shape of a block's input" in d.message
    assert d.hint is not None and "they decide the graph" in d.hint


def test_inside_a_definition_the_error_notes_the_use_site():
    d = error(NULL + "define:\n  d:\n    params: {}\n    blocks:\n"
              "      - {type: conv, kernel: 1, filters: 2, repeat: '${in_channels}'}\n"
              "blocks:\n  - {type: d}\n")  # fmt: skip
    assert (d.code, d.path, d.line) == ("E502", ("define", "d", "blocks", 0, "repeat"), 7)
    assert [r.message for r in d.related] == ["in the block used at blocks[0]"]
    d = error(NULL + "define:\n  d:\n    params: {}\n    blocks:\n"
              "      - {type: conv, kernel: 1, filters: '${in_shape[1] + 1}'}\n"
              "blocks:\n  - {type: d}\n")  # fmt: skip
    assert (d.code, d.path, d.line) == ("E501", ("define", "d", "blocks", 0, "filters"), 7)
    assert [(r.message, r.line) for r in d.related] == [("in the block used at blocks[0]", 9)]


def test_they_are_refused_in_params_budget_and_expect():
    d = error("name: t\ninput: [4]\nparams: {w: '${in_channels}'}\nblocks:\n"
              "  - {type: dense, units: 2}\n")  # fmt: skip
    assert (d.code, d.path, d.line) == ("E502", ("params", "w"), 3)
    d = error("name: t\ninput: [4]\nblocks:\n  - {type: dense, units: 2}\n"
              "expect: {params: '${in_channels}'}\n")  # fmt: skip
    assert (d.code, d.path) == ("E502", ("expect", "params"))


def test_an_error_in_a_default_points_at_defaults():
    d = error(NULL + "defaults: {conv: {filters: '${in_shape[0] * 2}'}}\n"
              "blocks:\n  - {type: conv, kernel: 1}\n")  # fmt: skip
    assert (d.code, d.path, d.line) == ("E501", ("defaults", "conv", "filters"), 3)
    assert [r.message for r in d.related] == ["the default is used by blocks[0]"]


def test_an_error_in_a_later_copy_notes_the_copy():
    d = error("name: t\ninput: [4]\nblocks:\n"
              "  - {type: dense, units: '${in_channels - 3}', repeat: 2}\n")  # fmt: skip
    assert d.path == ("blocks", 0, "units")
    assert [r.message for r in d.related] == ["with `copy` = 1 (copy 2 of 2 of blocks[0])"]


def notes(d: Diagnostic) -> list[tuple[str, int | None]]:
    return [(r.message, r.line) for r in d.related]


@pytest.mark.parametrize("repeat", [3, 5])
def test_a_shape_error_in_a_copy_notes_that_copy_not_the_one_reading_its_shape(repeat: int):
    # copy 0 fails; copy 1, which reads its in_channels, found it (the note named copy 1)
    d = error("name: t\ninput: [16, 16, 8]\nblocks:\n  - {type: conv, name: s, filters: "
              f"'${{in_channels}}', kernel: 3, groups: 3, repeat: {repeat}}}\n")  # fmt: skip
    assert (d.code, d.path) == ("E401", ("blocks", 0, "groups"))
    assert "`s_1`" in d.message
    assert notes(d) == [(f"with `copy` = 0 (copy 1 of {repeat} of blocks[0])", 4)]


def test_a_shape_error_in_the_last_copy_or_at_a_key_reading_copy_notes_the_copy():
    # the last copy: no later copy reads its shape, `lower` finds it
    d = error("name: t\ninput: [16, 16, 8]\nblocks:\n  - {type: conv, name: s, filters: "
              "'${in_channels}', kernel: 7, padding: valid, repeat: 3}\n"
              "  - {type: global_avg_pool}\n")  # fmt: skip
    assert (d.code, d.message.split(":")[0]) == ("E402", "blocks[0] (`s_3`, conv)")
    assert notes(d) == [("with `copy` = 2 (copy 3 of 3 of blocks[0])", 4)]
    d = error("name: t\ninput: [16, 16, 8]\nblocks:\n  - {type: conv, name: s, filters: 12, "
              "kernel: 3, groups: '${1 if copy < 3 else 5}', repeat: 5}\n")  # fmt: skip
    assert "`s_4`" in d.message
    assert notes(d) == [("with `copy` = 3 (copy 4 of 5 of blocks[0])", 4)]


def test_a_shape_error_in_a_copy_of_a_repeated_use_notes_that_copy():
    d = error(
        "name: t\ninput: [16, 16, 8]\n"
        "define:\n  cell:\n    params: {f: null, gg: 1}\n    blocks:\n"
        "      - {type: conv, name: gc, filters: '${f}', kernel: 3, groups: '${gg}'}\n"
        "blocks:\n  - {type: cell, name: s, f: '${in_channels + 4}', gg: '${4 if copy == 0 else 3}',"
        " repeat: 3}\n"
    )
    assert "`s_2_gc`" in d.message
    assert notes(d)[-2:] == [("in the block used at blocks[0]", 9),
                             ("with `copy` = 1 (copy 2 of 3 of blocks[0])", 9)]  # fmt: skip
    assert notes(d)[0][0] == "`gg` is 3 (an integer), from blocks[0].gg, with `copy` = 1"
    # a repeated block inside one copy of a repeated use: both copies named, outermost first
    d = error(
        "name: t\ninput: [16, 16, 8]\n"
        "define:\n  cell:\n    params: {}\n    blocks:\n"
        "      - {type: conv, name: two, filters: 4, kernel: 3, repeat: 2,\n"
        "         groups: '${1 if copy == 0 else 3}'}\n"
        "blocks:\n  - {type: cell, name: s, repeat: 2}\n"
    )
    assert "`s_1_two_2`" in d.message
    assert notes(d) == [("in the block used at blocks[0]", 10),
                        ("with `copy` = 0 (copy 1 of 2 of blocks[0])", 10),
                        ("with `copy` = 1 (copy 2 of 2 of define.cell.blocks[0])", 7)]  # fmt: skip


@pytest.mark.parametrize("name", ["in_shape", "in_channels"])
def test_the_names_are_reserved_params(name: str):
    d = error(
        f"name: t\ninput: [4]\nparams: {{{name}: 3}}\nblocks:\n  - {{type: dense, units: 2}}\n"
    )
    assert (d.code, d.path, d.line, d.col) == ("E501", ("params", name), 3, 10)
    assert d.message.startswith(f"params.{name}: `{name}` is reserved")
    d = error(f"name: t\ninput: [4]\ndefine:\n  d:\n    params: {{{name}: 1}}\n"
              "    blocks: [{type: dense, units: 2}]\nblocks:\n  - {type: d}\n")  # fmt: skip
    assert (d.code, d.path, d.line) == ("E501", ("define", "d", "params", name), 5)


def test_a_misspelt_name_suggests_the_shape_name():
    d = error(NULL + "blocks:\n  - {type: conv, kernel: 1, filters: '${in_chanels}'}\n")
    assert (d.code, d.path) == ("E502", ("blocks", 0, "filters"))
    assert d.hint == "did you mean `in_channels`?"


def test_a_shape_error_before_the_block_is_reported_at_its_own_block():
    d = error("name: t\ninput: [8]\nblocks:\n  - {type: conv, kernel: 1, filters: 2}\n"
              "  - {type: dense, units: '${in_channels}'}\n")  # fmt: skip
    assert (d.code, d.path) == ("E403", ("blocks", 0))


def test_the_block_limit_is_checked_before_expanding():
    d = error("name: t\ninput: [4]\nblocks:\n"
              "  - {type: dense, units: '${in_channels + copy}', repeat: 1000000000}\n")  # fmt: skip
    assert (d.code, d.path) == ("E706", ("blocks", 0, "repeat"))
    d = error(NULL + "define:\n  d:\n    params: {}\n    blocks:\n"
              "      - {type: conv, kernel: 1, filters: '${in_channels}'}\n"
              "blocks:\n  - {type: d, repeat: 3}\n", blocks=2)  # fmt: skip
    assert (d.code, d.path) == ("E706", ("blocks", 0, "repeat"))


def test_validation_errors_elsewhere_are_still_reported_without_lowering():
    with pytest.raises(SpecError) as e:
        run("name: t\ninput: [4]\nblocks:\n  - {type: dense, units: 2, colour: 1}\n"
            "  - {type: dense, units: '${in_channels}'}\n  - {type: dense, units: 0.5}\n")  # fmt: skip
    assert [d.path for d in e.value.diagnostics] == [("blocks", 0, "colour"),
                                                     ("blocks", 2, "units")]  # fmt: skip


# render, and no TensorFlow


def test_render_writes_the_evaluated_values_and_round_trips():
    r = run(bottleneck(True))
    text = render_spec(r)
    assert "in_channels" not in text and "${" not in text
    again = run(text)
    assert render_spec(again) == text
    assert facts(lower(again)) == facts(lower(r))


def test_check_of_a_spec_with_shape_names_imports_no_tensorflow(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(bottleneck(True))
    code = (
        "import sys, archspec\n"
        f"archspec.analyze(archspec.load({str(spec)!r}))\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_reserved_params_are_reported_together():
    # a walkthrough: three reserved names took three runs of check, one error each
    with pytest.raises(SpecError) as e:
        lower(run("name: t\ninput: [4]\nparams: {copy: 1, in_channels: 2}\ndefine:\n  d:\n"
                  "    params: {k: 3, copy: 0}\n    blocks: [{type: dense, units: 2}]\n"
                  "blocks:\n  - {type: d}\n"))  # fmt: skip
    assert [(d.code, d.path, d.line) for d in e.value.diagnostics] == [
        ("E501", ("params", "copy"), 3),
        ("E501", ("params", "in_channels"), 3),
        ("E501", ("define", "d", "params", "copy"), 6),
    ]
