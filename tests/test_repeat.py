"""Repeated blocks in the resolve stage: the `copy` index in expressions, `repeat_names`
(letters and templates), `repeat: 0`, and where their errors point."""

from __future__ import annotations

import time

import pytest

import archspec
from tests.conftest import write
from tests.test_resolve import error, run

# copy index, letter names, repeat 0 (issue 13)

PLAIN = "name: t\ninput: [8, 8, 3]\n"


def test_copy_is_the_index_of_each_copy_in_a_blocks_own_keys():
    text = PLAIN + (
        "params: {s: 2, total: 10}\n"
        "blocks:\n"
        "  - {type: conv, name: block2, filters: 4, kernel: 3, repeat: 3,\n"
        "     strides: '${2 if copy == 0 else 1}', use_bias: '${copy != 1}'}\n"
        "  - {type: dropout, repeat: 3, rate: '${0.2 * (s + copy) / total}'}\n"
        "  - {type: dense, units: '${4 + copy}'}\n"  # no repeat: the only copy, 0
    )
    items = run(text).items
    assert [(i.block.name, i.block.strides, i.block.use_bias) for i in items[:3]] == [
        ("block2_1", 2, True),
        ("block2_2", 1, False),
        ("block2_3", 1, True),
    ]
    assert [i.block.rate for i in items[3:6]] == [0.2 * 2 / 10, 0.2 * 3 / 10, 0.2 * 4 / 10]
    assert items[6].block.units == 4


def test_copy_inside_a_definition_sees_the_definitions_params_too():
    text = PLAIN + (
        "define:\n"
        "  stage:\n"
        "    params: {f: null, n: 2, first: 0}\n"
        "    blocks:\n"
        "      - {type: conv, name: c, filters: '${f}', kernel: 3, repeat: '${n}',\n"
        "         strides: '${2 if copy == 0 else 1}', use_bias: '${first + copy == 2}'}\n"
        "blocks:\n"
        "  - {type: stage, name: s, f: 8, n: 3, first: 1}\n"
        "  - {type: stage, name: t, repeat: 2, f: '${16 + copy}'}\n"  # copy of the use
    )
    got = [(i.block.name, i.block.filters, i.block.strides, i.block.use_bias)
           for i in run(text).items]  # fmt: skip
    assert got == [
        ("s_c_1", 8, 2, False),
        ("s_c_2", 8, 1, True),
        ("s_c_3", 8, 1, False),
        ("t_1_c_1", 16, 2, False),
        ("t_1_c_2", 16, 1, False),
        ("t_2_c_1", 17, 2, False),
        ("t_2_c_2", 17, 1, False),
    ]


def test_an_error_in_a_later_copy_points_at_the_key_and_notes_the_copy():
    text = (
        PLAIN
        + "blocks:\n  - {type: conv, filters: 2, kernel: 1, repeat: 3,\n"
        + ("     strides: '${1 if copy < 2 else 0}'}\n")
    )
    d = error(text)
    assert (d.code, d.path, d.line) == ("E204", ("blocks", 0, "strides"), 5)
    assert [(r.message, r.line) for r in d.related] == [
        ("with `copy` = 2 (copy 3 of 3 of blocks[0])", 4)
    ]
    text = (
        PLAIN
        + "blocks:\n  - {type: conv, filters: 2, kernel: 1, repeat: 3,\n"
        + ("     strides: '${1 + 0 * (1 // (copy - 1))}'}\n")
    )
    d = error(text)
    assert (d.code, d.path, d.line) == ("E501", ("blocks", 0, "strides"), 5)
    assert "division by zero" in d.message
    assert [r.message for r in d.related] == ["with `copy` = 1 (copy 2 of 3 of blocks[0])"]
    text = PLAIN + (
        "define:\n  d:\n    params: {k: 1}\n    blocks:\n"
        "      - {type: conv, filters: 2, kernel: 1, repeat: 2, strides: '${k - copy}'}\n"
        "blocks:\n  - {type: d}\n"
    )
    d = error(text)
    assert (d.code, d.path, d.line) == ("E204", ("define", "d", "blocks", 0, "strides"), 7)
    assert [r.message for r in d.related] == [
        "`k` is 1 (an integer), from the default at define.d.params.k",
        "in the block used at blocks[0]",
        "with `copy` = 1 (copy 2 of 2 of define.d.blocks[0])",
    ]


def test_copy_is_not_bound_in_the_common_keys_nor_in_defaults():
    d = error(PLAIN + "blocks:\n  - {type: conv, filters: 2, kernel: 1, repeat: '${copy}'}\n")
    assert (d.code, d.path) == ("E502", ("blocks", 0, "repeat"))
    assert d.hint is not None and "bound in a block's own keys" in d.hint
    d = error(
        PLAIN + "defaults: {conv: {kernel: '${copy}'}}\nblocks:\n  - {type: conv, filters: 2}\n"
    )
    assert (d.code, d.path) == ("E502", ("defaults", "conv", "kernel"))


def test_copy_is_a_reserved_param_name():
    d = error(PLAIN + "params: {copy: 1}\nblocks:\n  - {type: flatten}\n")
    assert (d.code, d.path, d.line, d.col) == ("E501", ("params", "copy"), 3, 10)
    assert d.message.startswith("params.copy: `copy` is reserved")
    d = error(PLAIN + "define:\n  d:\n    params: {copy: 1}\n    blocks: [{type: flatten}]\n"
              "blocks:\n  - {type: d}\n")  # fmt: skip
    assert (d.code, d.path, d.line) == ("E501", ("define", "d", "params", "copy"), 5)


def test_the_block_limit_is_checked_before_copies_are_substituted():

    text = PLAIN + (
        "blocks:\n  - {type: conv, filters: 2, kernel: 1, repeat: 1000000000,"
        " strides: '${1 + copy}'}\n"
    )
    start = time.perf_counter()
    d = error(text)
    assert time.perf_counter() - start < 1
    assert (d.code, d.path) == ("E706", ("blocks", 0, "repeat"))
    start = time.perf_counter()
    define = PLAIN + (
        "define:\n  d:\n    params: {n: 1}\n    blocks:\n"
        "      - {type: dropout, rate: '${copy / 1000000000}', repeat: '${n}'}\n"
        "blocks:\n  - {type: d, n: 1000000000}\n"
    )
    d = error(define)
    assert time.perf_counter() - start < 1
    assert (d.code, d.path) == ("E706", ("define", "d", "blocks", 0, "repeat"))


def test_letter_names_and_references_to_each_copy():
    text = PLAIN + (
        "blocks:\n"
        "  - {type: conv, name: block1, filters: 2, kernel: 1, repeat_names: letters}\n"
        "  - {type: conv, name: block2, filters: 2, kernel: 1, repeat: 3, repeat_names: letters}\n"
        "  - {type: dense, units: 3, inputs: block2a}\n"
        "  - {type: dense, units: 3, inputs: block2}\n"
        "  - {type: dense, units: 3, inputs: block1}\n"
    )
    items = run(text).items
    assert [(i.block.name, i.block.inputs) for i in items] == [
        ("block1a", ["input"]),
        ("block2a", ["block1a"]),
        ("block2b", ["block2a"]),
        ("block2c", ["block2b"]),
        ("dense_1", ["block2a"]),
        ("dense_2", ["block2c"]),  # `name`: the last copy
        ("dense_3", ["block1a"]),
    ]
    assert {i.block.repeat_names for i in items} == {"number"}


def test_each_copy_of_a_definition_is_read_by_its_own_name(tmp_path):
    # `inputs: stb` (or `st_1`, or `outputs: [st_1]`) named a copy of a user-defined block:
    # internal error, KeyError 'stb' (the copy's name was no tensor); found by a review
    text = PLAIN + (
        "define:\n  unit:\n    blocks:\n"
        "      - {type: conv, name: a, filters: 2, kernel: 1}\n"
        "      - {type: batch_norm}\n"
        "blocks:\n"
        "  - {type: unit, name: st, repeat: 3}\n"
        "  - {type: unit, name: ab, repeat: 2, repeat_names: letters, inputs: st_1}\n"
        "  - {type: add, inputs: [st_2, aba, ab, st]}\n"
        "outputs: [add_1, st_1, abb]\n"
    )
    items = {i.block.name: i.block.inputs for i in run(text).items}
    assert items["aba_a"] == ["st_1_batch_norm_1"] and items["abb_a"] == ["aba_batch_norm_1"]
    assert items["add_1"] == ["st_2_batch_norm_1", "aba_batch_norm_1", "abb_batch_norm_1",
                              "st_3_batch_norm_1"]  # fmt: skip
    graph = archspec.analyze(write(tmp_path, text, "copies.yaml"))
    assert list(graph.output_shapes) == ["add_1", "st_1_batch_norm_1", "abb_batch_norm_1"]
    # and an included spec exposes a copy by its name
    host = PLAIN + ("blocks:\n  - {type: spec, path: copies.yaml, name: b, outputs: [st_1, aba]}\n"
                    "  - {type: concat, inputs: [b.st_1, b.aba]}\n")  # fmt: skip
    graph = archspec.analyze(write(tmp_path, host, "host.yaml"))
    assert graph.nodes["concat_1"].inputs == ["b_st_1_batch_norm_1", "b_aba_batch_norm_1"]


def test_letters_go_on_after_z_as_spreadsheet_columns():
    text = PLAIN + "blocks:\n  - {type: flatten, name: b, repeat: 28, repeat_names: letters}\n"
    names = [i.block.name for i in run(text).items]
    assert names[:2] == ["ba", "bb"] and names[24:] == ["by", "bz", "baa", "bab"]


def test_letter_names_of_a_definitions_copies_and_inside_it():
    text = PLAIN + (
        "define:\n  d:\n    blocks:\n"
        "      - {type: flatten, name: f, repeat: 2, repeat_names: letters}\n"
        "blocks:\n  - {type: d, name: s, repeat: 2, repeat_names: letters}\n"
    )
    assert [i.block.name for i in run(text).items] == ["sa_fa", "sa_fb", "sb_fa", "sb_fb"]


def test_letter_names_need_a_name():
    d = error(PLAIN + "blocks:\n  - {type: flatten, repeat: 2, repeat_names: letters}\n")
    assert (d.code, d.path, d.line, d.col) == ("E203", ("blocks", 0, "repeat_names"), 4, 46)
    d = error(PLAIN + "define:\n  d:\n    blocks: [{type: flatten}]\n"
              "blocks:\n  - {type: d, repeat_names: letters}\n")  # fmt: skip
    assert (d.code, d.path) == ("E203", ("blocks", 0, "repeat_names"))
    d = error(PLAIN + "blocks:\n  - {type: flatten, name: f, repeat_names: abc}\n")
    assert (d.code, d.path) == ("E204", ("blocks", 0, "repeat_names"))
    d = error(
        PLAIN + "defaults: {flatten: {repeat_names: letters}}\nblocks:\n  - {type: flatten}\n"
    )
    assert d.message == "defaults.flatten.repeat_names: `repeat_names` cannot have a default"


def test_a_letter_name_that_clashes_is_a_duplicate_name():
    text = PLAIN + (
        "blocks:\n  - {type: flatten, name: b, repeat: 2, repeat_names: letters}\n"
        "  - {type: dense, name: bb, units: 2}\n"
    )
    d = error(text)
    assert (d.code, d.path) == ("E302", ("blocks", 1, "name"))
    # it did not say which block has the name (a review)
    assert [(r.message, r.line) for r in d.related] == [
        ("`bb` is the name of copy 2 of 2 of blocks[0]", 4)
    ]


@pytest.mark.parametrize("later", [
    "repeat: 2",  # copies x_1, x_2: the final names differ, the name `x` does not
    "repeat: 2, repeat_names: letters",
])  # fmt: skip
@pytest.mark.parametrize("reader", ["inputs", "outputs"])
def test_a_name_two_blocks_give_themselves_cannot_be_read(later, reader):
    text = PLAIN + (
        "blocks:\n  - {type: conv, name: x, filters: 4, kernel: 1}\n"
        f"  - {{type: conv, name: x, filters: 8, kernel: 1, {later}}}\n"
        + ("  - {type: conv, name: y, filters: 4, kernel: 1, inputs: x}\n" if reader == "inputs"
           else "  - {type: conv, name: y, filters: 4, kernel: 1}\noutputs: [x, y]\n")
    )  # fmt: skip
    d = error(text)
    where = ("blocks", 2, "inputs") if reader == "inputs" else ("outputs", 0)
    assert (d.code, d.path) == ("E302", where)
    assert "2 blocks are named `x`, so it is unclear which one this reads" in d.message


def test_a_block_and_a_repeated_one_may_share_a_name_that_nothing_reads():
    # MobileNetV3's `expanded_conv` then `expanded_conv_1` ... `expanded_conv_10`
    text = PLAIN + (
        "blocks:\n  - {type: conv, name: x, filters: 4, kernel: 1}\n"
        "  - {type: conv, name: x, filters: 8, kernel: 1, repeat: 2}\n"
        "  - {type: conv, name: y, filters: 4, kernel: 1, inputs: x_1}\n"
    )
    assert [i.block.name for i in run(text).items] == ["x", "x_1", "x_2", "y"]


def test_repeat_zero_leaves_the_block_out_and_its_name_means_its_input():
    text = PLAIN + (
        "define:\n  d:\n    blocks: [{type: conv, filters: 2, kernel: 1}]\n"
        "blocks:\n"
        "  - {type: conv, name: a, filters: 2, kernel: 1}\n"
        "  - {type: conv, name: gone, filters: 2, kernel: 1, repeat: 0}\n"
        "  - {type: d, name: also_gone, repeat: '${0 * 3}'}\n"
        "  - {type: dense, units: 3, inputs: gone}\n"
        "  - {type: dense, units: 3, inputs: also_gone}\n"
        "  - {type: dense, units: 3, repeat: 0}\n"
    )
    resolved = run(text)
    assert [(i.block.name, i.block.inputs) for i in resolved.items] == [
        ("a", ["input"]),
        ("dense_1", ["a"]),
        ("dense_2", ["a"]),
    ]
    assert resolved.outputs == ["dense_2"]


def test_repeat_zero_errors():
    blocks = PLAIN + "blocks:\n  - {type: conv, name: a, filters: 3, kernel: 1}\n"
    d = error(blocks + "  - {type: add, inputs: [input, a], repeat: 0}\n")
    assert (d.code, d.path) == ("E303", ("blocks", 1, "repeat"))
    assert "reads one input, not 2" in d.message
    d = error(blocks + "  - {type: flatten, name: f, repeat: 0, inputs: input}\n"
              "  - {type: flatten, inputs: a}\noutputs: [f]\n")  # fmt: skip
    assert (d.code, d.path) == ("E301", ("outputs", 0))
    assert d.message == "outputs[0]: `f` has `repeat: 0` and passes on the input `input`"
    d = error(PLAIN + "blocks:\n  - {type: flatten, repeat: 0}\n")
    assert (d.code, d.path) == ("E301", ("blocks", 0, "repeat"))
    d = error(blocks + "  - {type: flatten, name: a, repeat: 0}\n")
    assert (d.code, d.path) == ("E302", ("blocks", 1, "name"))
    d = error(blocks + "  - {type: flatten, repeat: -1}\n")
    assert (d.code, d.path) == ("E204", ("blocks", 1, "repeat"))


# repeat_names templates


def test_repeat_name_templates_count_from_1_from_0_or_with_letters():
    text = PLAIN + (
        "blocks:\n"
        "  - {type: flatten, name: conv2_block, repeat: 2, repeat_names: '{name}{k}'}\n"
        "  - {type: dense, units: 2, name: stage_0_block, repeat: 2, repeat_names: '{name}_{i}'}\n"
        "  - {type: dense, units: 2, name: b, repeat: 2, repeat_names: 'x_{letter}_{name}'}\n"
        "  - {type: dense, units: 2, name: one, repeat_names: '{name}{k}'}\n"
        "  - {type: dense, units: 2, name: w, repeat: 2, repeat_names: number}\n"
        "  - {type: dense, units: 2, inputs: conv2_block1}\n"
        "  - {type: dense, units: 2, inputs: stage_0_block}\n"
    )
    items = run(text).items
    assert [(i.block.name, i.block.inputs) for i in items] == [
        ("conv2_block1", ["input"]),
        ("conv2_block2", ["conv2_block1"]),
        ("stage_0_block_0", ["conv2_block2"]),
        ("stage_0_block_1", ["stage_0_block_0"]),
        ("x_a_b", ["stage_0_block_1"]),
        ("x_b_b", ["x_a_b"]),
        ("one1", ["x_b_b"]),  # a template names even a single copy
        ("w_1", ["one1"]),
        ("w_2", ["w_1"]),
        ("dense_1", ["conv2_block1"]),
        ("dense_2", ["stage_0_block_1"]),  # `name`: the last copy
    ]
    assert {i.block.repeat_names for i in items} == {"number"}


def test_repeat_name_templates_of_a_definition_and_inside_it():
    text = PLAIN + (
        "define:\n  stage:\n    blocks:\n"
        "      - {type: flatten, name: block, repeat: 2, repeat_names: '{name}{k}'}\n"
        "blocks:\n  - {type: stage, name: conv, repeat: 2, repeat_names: '{name}{k}'}\n"
    )
    assert [i.block.name for i in run(text).items] == [
        "conv1_block1", "conv1_block2", "conv2_block1", "conv2_block2"
    ]  # fmt: skip


def test_the_words_equal_their_templates_but_for_numbers_single_copy():
    words = PLAIN + (
        "blocks:\n  - {type: flatten, name: a, repeat: 2, repeat_names: number}\n"
        "  - {type: flatten, name: b, repeat: 2, repeat_names: letters}\n"
    )
    templates = words.replace("number", "'{name}_{k}'").replace("letters", "'{name}{letter}'")
    names = [i.block.name for i in run(words).items]
    assert names == [i.block.name for i in run(templates).items] == ["a_1", "a_2", "ba", "bb"]


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("block", "not `number`, `letters` or a template"),  # no placeholder
        ("'{name}'", "exactly one of `{k}`"),  # no counter
        ("'{name}{k}{i}'", "exactly one of `{k}`"),  # two counters
        (
            "'{k}_{name}'",
            "makes names such as `1_block` (for `name: block`), which are not identifiers",
        ),
        ("'{name}-{k}'", "makes names such as `block-1` (for `name: block`)"),
        ("'{name}{k}}'", "which are not identifiers"),
        ("'{name}{j}'", "unknown placeholder `{j}`"),
        ("'{name}{{k}}'", "makes names such as `block{1}` (for `name: block`)"),
    ],
)
def test_a_bad_repeat_name_template_is_an_error_at_repeat_names(template, says):
    d = error(
        PLAIN + f"blocks:\n  - {{type: flatten, name: f, repeat: 2, repeat_names: {template}}}\n"
    )
    assert (d.code, d.path, d.line) == ("E204", ("blocks", 0, "repeat_names"), 4)
    assert says in d.message


def test_a_template_needs_a_name_and_a_clash_is_a_duplicate_name():
    d = error(PLAIN + "blocks:\n  - {type: flatten, repeat: 2, repeat_names: '{name}{k}'}\n")
    assert (d.code, d.path) == ("E203", ("blocks", 0, "repeat_names"))
    assert "`{name}{k}` needs the block's `name`" in d.message
    d = error(PLAIN + (
        "blocks:\n  - {type: flatten, name: b, repeat: 2, repeat_names: '{name}{k}'}\n"
        "  - {type: dense, name: b2, units: 2}\n"
    ))  # fmt: skip
    assert (d.code, d.path) == ("E302", ("blocks", 1, "name"))


@pytest.mark.parametrize("kind", ["add", "concat", "multiply"])
def test_a_merging_block_is_not_repeated(kind):
    # its second copy read one input: `render` wrote a spec that `check` refused
    d = error(PLAIN + "blocks:\n  - {type: conv, filters: 3, kernel: 3}\n"
              f"  - {{type: {kind}, inputs: [input, conv_1], repeat: 2}}\n")  # fmt: skip
    assert (d.code, d.path) == ("E303", ("blocks", 1, "repeat"))
    assert f"`{kind}` merges its inputs, and a copy after the first would read one" in d.message
    run(PLAIN + "blocks:\n  - {type: conv, filters: 3, kernel: 3}\n"
        f"  - {{type: {kind}, inputs: [input, conv_1], repeat: 1}}\n")  # fmt: skip


def test_a_repeat_count_from_a_list_params_length():
    """A walkthrough's RegNet wrote `repeat: 4` beside `depths: [...]`: a `--set` of five
    depths then used four, silently. `len()` takes the count from the list."""
    text = ("name: m\nparams: {widths: [8, 16, 32]}\ninput: [32, 32, 3]\nblocks:\n"
            "  - {type: conv, filters: '${widths[copy]}', kernel: 3, repeat: '${len(widths)}'}\n")  # fmt: skip
    graph = archspec.analyze(archspec.load(text=text))
    assert [b.shape[-1] for b in graph.blocks] == [8, 16, 32]
    graph = archspec.analyze(archspec.load(text=text, sets=["widths=[4, 4, 4, 4, 4]"]))
    assert [b.shape[-1] for b in graph.blocks] == [4] * 5


def test_an_error_inside_a_copy_of_a_repeated_use_notes_the_copy():
    # copy 1 reads 2 channels, so `f` is 0 there: the note said where `f` was written only
    use = ("define:\n  cell:\n    params: {f: null}\n    blocks:\n"
           "      - {type: conv, name: a, filters: '${f}', kernel: 1}\n")  # fmt: skip
    d = error("name: t\ninput: [8, 8, 8]\n" + use +
              "blocks:\n  - {type: cell, name: c, f: '${in_channels // 4}', repeat: 3}\n")  # fmt: skip
    assert (d.code, d.path) == ("E204", ("define", "cell", "blocks", 0, "filters"))
    assert [(r.message, r.line) for r in d.related] == [
        ("`f` is 0 (an integer), from blocks[0].f", 9),
        ("in the block used at blocks[0]", 9),
        ("with `copy` = 1 (copy 2 of 3 of blocks[0])", 9),
    ]
    # an error raised inside the copy (a name it reads), and the copies of a nested use
    d = error("name: t\ninput: [8, 8, 8]\n" + use + "  outer:\n    params: {}\n    blocks:\n"
              "      - {type: cell, name: i, f: '${2 - copy}', repeat: 3}\n"
              "blocks:\n  - {type: outer, name: o, repeat: 2}\n")  # fmt: skip
    assert [r.message for r in d.related if "copy" in r.message] == [
        "`f` is 0 (an integer), from define.outer.blocks[0].f, with `copy` = 2",
        "with `copy` = 0 (copy 1 of 2 of blocks[0])",
        "with `copy` = 2 (copy 3 of 3 of define.outer.blocks[0])",
    ]
    d = error("name: t\ninput: [8, 8, 8]\ndefine:\n  cell:\n    params: {}\n    blocks:\n"
              "      - {type: conv, filters: 2, kernel: 1, inputs: ['${nope}']}\n"
              "blocks:\n  - {type: cell, name: c, repeat: 2}\n")  # fmt: skip
    assert [r.message for r in d.related][-1] == "with `copy` = 0 (copy 1 of 2 of blocks[0])"


def test_an_error_in_the_first_of_copies_that_differ_notes_it():
    # a later copy's error named its copy, the first's nothing: which one failed was a guess
    d = error(PLAIN + "blocks:\n  - {type: conv, filters: '${-1 if copy == 0 else 4}', kernel: 1,"
              " repeat: 3}\n")  # fmt: skip
    assert (d.code, d.path) == ("E204", ("blocks", 0, "filters"))
    assert [r.message for r in d.related] == ["with `copy` = 0 (copy 1 of 3 of blocks[0])"]
    # copies that are all the same: no note (each would fail alike)
    d = error(PLAIN + "blocks:\n  - {type: conv, filters: -1, kernel: 1, repeat: 3}\n")
    assert d.related == ()
