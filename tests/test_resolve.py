"""The resolve stage on its own (load_text, then resolve): defaults, repeat and naming,
user-defined blocks, references, --set, and where each error points."""

from __future__ import annotations

import dataclasses

import pytest

from archspec.core.errors import Diagnostic, SpecError, UsageError
from archspec.core.limits import DEFAULT
from archspec.frontend.loader import load_text
from archspec.frontend.resolve import Item, Resolved, parse_sets, resolve

CBR = """\
name: t
input: [8, 8, 3]
defaults:
  batch_norm: {epsilon: 0.01}
  conv: {kernel: 5}
define:
  cbr:
    params: {filters: null, k: 3}
    blocks:
      - {type: conv, filters: "${filters}"}
      - {type: conv, filters: "${filters}", kernel: "${k}", name: mid}
      - {type: batch_norm, name: bn}
      - {type: batch_norm, epsilon: 0.5}
      - {type: activation, activation: relu}
blocks:
"""


def run(text: str, sets: tuple[str, ...] = (), **limits: int) -> Resolved:
    doc = load_text(text, "t.yaml", dataclasses.replace(DEFAULT, **limits))
    return resolve(doc, sets)


def by_name(resolved: Resolved) -> dict[str, Item]:
    return {item.block.name: item for item in resolved.items if item.block.name is not None}


def error(text: str, sets: tuple[str, ...] = (), **limits: int) -> Diagnostic:
    with pytest.raises(SpecError) as e:
        run(text, sets, **limits)
    errors = [d for d in e.value.diagnostics if d.severity == "error"]  # warnings come after
    assert len(errors) == 1 and e.value.diagnostics[0] == errors[0], e.value.diagnostics
    return errors[0]


# defaults


def test_defaults_apply_inside_user_defined_blocks():
    items = by_name(run(CBR + "  - {type: cbr, filters: 4, name: stem}\n"))
    assert list(items) == ["stem_conv_1", "stem_mid", "stem_bn", "stem_batch_norm_1",
                           "stem_activation_1"]  # fmt: skip
    conv, mid = items["stem_conv_1"].block, items["stem_mid"].block
    assert (conv.filters, conv.kernel) == (4, 5)  # type: ignore[attr-defined]
    assert (mid.filters, mid.kernel) == (4, 3)  # the block's own value wins over `defaults`
    assert items["stem_bn"].block.epsilon == 0.01  # type: ignore[attr-defined]
    assert items["stem_batch_norm_1"].block.epsilon == 0.5  # type: ignore[attr-defined]
    assert items["stem_bn"].block.momentum == 0.99  # type: ignore[attr-defined]
    assert items["stem_bn"].path == ("define", "cbr", "blocks", 2)
    assert (items["stem_bn"].group, items["stem_bn"].use) == (("stem", "cbr"), ("blocks", 0))


def test_defaults_give_a_user_defined_blocks_params():
    text = CBR.replace("  conv: {kernel: 5}\n", "  conv: {kernel: 5}\n  cbr: {filters: 6, k: 1}\n")
    items = by_name(run(text + "  - {type: cbr, name: a}\n  - {type: cbr, k: 7, name: b}\n"))
    assert items["a_conv_1"].block.filters == 6  # type: ignore[attr-defined]
    assert items["a_mid"].block.kernel == 1  # type: ignore[attr-defined]
    assert items["b_mid"].block.kernel == 7  # type: ignore[attr-defined]


def test_defaults_of_batch_norm_reach_the_batch_norms_a_block_emits():
    # SPEC.md: defaults "apply inside composite and user-defined blocks too"; a residual block's
    # batch norms kept Keras's epsilon 0.001 under `defaults: {batch_norm: {epsilon: ...}}`
    text = PLAIN_BN + (
        "  - {type: residual, n_filters: 4, batch_norm: true, name: r}\n"
        "  - {type: conv, filters: 4, kernel: 1, batch_norm: true, bn_epsilon: 0.2, name: c}\n"
        "  - {type: mbconv, filters: 4, expansion: 1, name: m}\n"
        "  - {type: residual, n_filters: 4, name: plain}\n"
        "  - {type: dense_layer, growth_rate: 4, name: d}\n"
    )
    items = by_name(run(text))
    r, c, m = (items[k].block for k in "rcm")
    assert r.bn_epsilon == 0.5 and m.bn_epsilon == 0.5  # type: ignore[attr-defined]
    assert (c.bn_epsilon, c.bn_momentum) == (0.2, 0.9)  # type: ignore[attr-defined]
    assert m.bn_momentum == 0.75  # its own type's default wins  # type: ignore[attr-defined]
    assert items["d"].block.bn_epsilon == 0.5  # type: ignore[attr-defined]
    # a block without batch norms takes none (no W302 either)
    assert "bn_epsilon" not in items["plain"].block.model_fields_set
    assert not run(text).warnings
    # a bad value is reported once, at `defaults.batch_norm`, for the block that uses it
    d = error(
        PLAIN_BN.replace("0.5", "2") + "  - {type: residual, n_filters: 4, batch_norm: true}\n"
    )
    assert (d.code, d.path, d.line) == ("E204", ("defaults", "batch_norm", "epsilon"), 4)
    assert [r.message for r in d.related] == ["the default is used by blocks[0]"]


PLAIN_BN = ("name: t\ninput: [8, 8, 4]\ndefaults:\n  batch_norm: {epsilon: 0.5, momentum: 0.9}\n"
            "  mbconv: {bn_momentum: 0.75}\nblocks:\n")  # fmt: skip


def test_a_bad_default_points_at_defaults_and_notes_the_block():
    d = error(CBR.replace("epsilon: 0.01", "epsilon: -1") + "  - {type: batch_norm}\n")
    assert (d.code, d.path, d.line, d.col) == ("E204", ("defaults", "batch_norm", "epsilon"), 4, 25)
    assert d.message.startswith("defaults.batch_norm.epsilon: expected a value > 0.0")
    assert [(r.message, r.line, r.col) for r in d.related] == [
        ("the default is used by blocks[0]", 16, 5)
    ]


def test_a_bad_default_used_inside_a_definition_points_at_defaults():
    """It read `defaults.None.epsilon` at the `defaults:` line: the block's type was looked up
    in the top-level blocks."""
    d = error(CBR.replace("epsilon: 0.01", "epsilon: -1") + "  - {type: cbr, filters: 4}\n")
    assert (d.code, d.path, d.line, d.col) == ("E204", ("defaults", "batch_norm", "epsilon"), 4, 25)
    assert d.message.startswith("defaults.batch_norm.epsilon: expected a value > 0.0")
    assert [r.message for r in d.related] == [
        "the default is used by define.cbr.blocks[2]",
        "in the block used at blocks[0]",
    ]


def test_a_default_for_an_unknown_type_or_parameter_is_an_error_there():
    d = error(CBR.replace("  conv: {kernel: 5}", "  conv: {kernal: 5}") + "  - {type: flatten}\n")
    assert (d.code, d.path, d.line, d.col) == ("E201", ("defaults", "conv", "kernal"), 5, 10)
    assert d.hint == "did you mean `kernel`?"
    d = error(CBR.replace("  conv: {kernel: 5}", "  conv: {name: x}") + "  - {type: flatten}\n")
    assert (d.code, d.message) == ("E204", "defaults.conv.name: `name` cannot have a default")


# repeat and names


def test_repeat_copies_and_name_refers_to_the_last_copy():
    text = CBR + (
        "  - {type: conv, filters: 2, repeat: 3, name: head}\n"
        "  - {type: dense, units: 3, inputs: head}\n"
        "  - {type: dense, units: 3, inputs: input}\n"
    )
    resolved = run(text)
    assert [(i.block.name, i.block.inputs, i.block.repeat) for i in resolved.items] == [
        ("head_1", ["input"], 1),
        ("head_2", ["head_1"], 1),
        ("head_3", ["head_2"], 1),
        ("dense_1", ["head_3"], 1),
        ("dense_2", ["input"], 1),
    ]
    assert [i.path for i in resolved.items[:3]] == [("blocks", 0)] * 3
    assert resolved.outputs == ["dense_2"]


def test_default_names_count_per_type_and_per_scope():
    text = CBR + (
        "  - {type: conv, filters: 2}\n"
        "  - {type: cbr, filters: 4, repeat: 2}\n"
        "  - {type: conv, filters: 2, repeat: 2}\n"
        "  - {type: conv, filters: 2, name: conv_4}\n"
        "  - {type: conv, filters: 2}\n"
    )
    names = [i.block.name for i in run(text).items]
    assert names == [
        "conv_1",
        *("cbr_1_conv_1", "cbr_1_mid", "cbr_1_bn", "cbr_1_batch_norm_1", "cbr_1_activation_1"),
        *("cbr_2_conv_1", "cbr_2_mid", "cbr_2_bn", "cbr_2_batch_norm_1", "cbr_2_activation_1"),
        "conv_2",
        "conv_3",
        "conv_4",
        "conv_5",  # `conv_4` is declared by a later block: the counter skips it
    ]


def test_a_repeated_user_defined_block_chains_its_copies():
    text = CBR + "  - {type: cbr, filters: 4, repeat: 2, name: s}\n  - {type: flatten}\n"
    items = by_name(run(text))
    assert items["s_1_conv_1"].block.inputs == ["input"]
    assert items["s_2_conv_1"].block.inputs == ["s_1_activation_1"]
    assert items["flatten_1"].block.inputs == ["s_2_activation_1"]
    assert (items["s_2_bn"].group, items["s_2_bn"].use) == (("s_2", "cbr"), ("blocks", 0))


def test_a_name_used_twice_is_an_error_at_the_second():
    text = CBR + "  - {type: flatten, name: x}\n  - {type: flatten, name: x}\n"
    d = error(text)
    assert (d.code, d.path, d.line, d.col) == ("E302", ("blocks", 1, "name"), 17, 27)
    assert d.message == "blocks[1]: block name `x` is already used"
    assert d.hint == "give one of the blocks another `name`"


def test_a_repeat_of_one_or_none_is_told_why_its_name_is_taken():
    """A sweep's `repeat: "${n}"` after a block of the same name: n = 2 was valid and n = 1 and
    0 were 'already used', with no word of the bare name a single copy keeps."""
    text = CBR + "  - {type: flatten, name: x}\n  - {type: flatten, name: x, repeat: %d}\n"
    assert {"x", "x_1", "x_2"} <= set(by_name(run(text % 2)))
    d = error(text % 1)
    assert (d.code, d.path) == ("E302", ("blocks", 1, "name"))
    assert "with `repeat: 1` the one copy keeps the name `x`" in d.hint
    d = error(text % 0)
    assert "with `repeat: 0` the block is left out and `x` names its input" in d.hint
    # named copies (`repeat_names`) are not the bare name: not said
    d = error(CBR + "  - {type: flatten, name: xa}\n"
              "  - {type: flatten, name: x, repeat: 1, repeat_names: letters}\n")  # fmt: skip
    assert d.code == "E302" and "repeat" not in d.hint


@pytest.mark.parametrize(
    ("first", "second", "note", "hint"),
    [  # the repeated block first: its note says why it has the name (a review)
        ("name: x, repeat: 1", "name: x", "`x` is the name of blocks[0]: with `repeat: 1` the "
         "one copy keeps the name `x`; copies are numbered `x_1`, `x_2`, ... from `repeat: 2`",
         "give one of the blocks another `name`"),
        ("name: x, repeat: 0", "name: x", "`x` is the name of blocks[0]: with `repeat: 0` the "
         "block is left out and `x` names its input", "give one of the blocks another `name`"),
        ("name: x, repeat: 2", "name: x_1", "`x_1` is the name of copy 1 of 2 of blocks[0]: "
         "with `repeat: 2` the copies are named `x_1` ... `x_2`",
         "give one of the blocks another `name`"),
        # the repeated copies second: the hint says how their names were made
        ("name: x_2", "name: x, repeat: 3", "`x_2` is the name of blocks[0]",
         "give one of the blocks another `name`: with `repeat: 3` the copies are named `x_1` "
         "... `x_3`"),
    ],
    ids=["repeat_1_first", "repeat_0_first", "copies_first", "copies_second"],
)  # fmt: skip
def test_a_name_repeat_gave_is_explained_at_either_holder(first, second, note, hint):
    d = error(CBR + f"  - {{type: flatten, {first}}}\n  - {{type: flatten, {second}}}\n")
    assert (d.code, d.path) == ("E302", ("blocks", 1, "name"))
    assert [r.message for r in d.related] == [note]
    assert d.hint == hint


def test_a_name_repeat_gave_in_a_definition_is_said_with_its_prefix():
    """In a definition the copies are named with the use's prefix (`u_x_1`); the hint said
    `x_1` ... `x_3` against a message about `u_x_2` (a review)."""
    d = error("name: d\ninput: [8, 8, 3]\ndefine:\n  unit:\n    blocks:\n"
              "      - {type: flatten, name: x_2}\n      - {type: flatten, name: x, repeat: 3}\n"
              "blocks:\n  - {type: unit, name: u}\n")  # fmt: skip
    assert d.message == "define.unit.blocks[1]: block name `u_x_2` is already used"
    assert d.hint == ("give one of the blocks another `name`: with `repeat: 3` the copies are "
                      "named `u_x_1` ... `u_x_3`")  # fmt: skip


def test_repeat_over_the_block_limit():
    d = error(CBR + "  - {type: flatten, repeat: 50}\n", blocks=10)
    assert (d.code, d.path, d.line) == ("E706", ("blocks", 0, "repeat"), 16)
    assert d.message == "blocks[0].repeat: makes 50 blocks, more than the limit of 10"
    d = error(CBR + "  - {type: flatten, repeat: 6}\n  - {type: cbr, filters: 1}\n", blocks=10)
    assert (d.code, d.path, d.line) == ("E705", ("blocks", 1), 17)
    assert d.message == "blocks[1]: the spec expands to more than 10 blocks"


# references


def test_a_reference_to_an_unknown_block_says_did_you_mean():
    text = (
        CBR + "  - {type: cbr, filters: 4, name: stem}\n  - {type: dense, units: 3, inputs: stme}\n"
    )
    d = error(text)
    assert (d.code, d.path, d.line, d.col) == ("E301", ("blocks", 1, "inputs"), 17, 37)
    assert d.message == "blocks[1].inputs: `stme` is not an input or an earlier block"
    assert d.hint == "did you mean `stem`?"
    assert d.related == ()


def test_a_reference_to_a_name_close_to_nothing_lists_the_readable_names_nearest_first():
    blocks = "".join(f"  - {{type: flatten, name: b{i}}}\n" for i in range(14))
    d = error(CBR + blocks + "  - {type: dense, units: 3, inputs: zzz}\n")
    assert (d.code, d.path) == ("E301", ("blocks", 14, "inputs"))
    names = ", ".join(f"`b{i}`" for i in range(13, 1, -1))
    assert d.hint == f"it can read, nearest first: {names}, ... (15 in all)"
    d = error(CBR + "  - {type: flatten, name: flat}\n  - {type: dense, units: 3, inputs: zzz}\n")
    assert d.hint == "it can read, nearest first: `flat`, `input`"
    # inside a definition: its own names, not the including scope's
    text = CBR.replace('"${filters}"}', '"${filters}", inputs: zzz}', 1)
    d = error(text + "  - {type: flatten, name: flat}\n  - {type: cbr, filters: 4}\n")
    assert (d.code, d.path) == ("E301", ("define", "cbr", "blocks", 0, "inputs"))
    assert d.hint == "it can read, nearest first: `input`"


def test_a_reference_to_a_later_block_or_an_unknown_output():
    text = CBR + "  - {type: add, inputs: [input, b]}\n  - {type: flatten, name: b}\n"
    d = error(text)
    assert (d.code, d.path, d.line, d.col) == ("E301", ("blocks", 0, "inputs", 1), 16, 33)
    assert d.message.endswith("`b` is a later block; a block can only read earlier ones")
    assert d.hint is None
    d = error(CBR + "  - {type: flatten, name: flat}\noutputs: [flta]\n")
    assert (d.code, d.path, d.line, d.hint) == ("E301", ("outputs", 0), 17, "did you mean `flat`?")


def test_a_bad_reference_inside_a_definition_notes_the_use_site():
    text = CBR.replace('"${filters}"}', '"${filters}", inputs: bn}', 1)
    d = error(text + "  - {type: flatten}\n  - {type: cbr, filters: 4}\n")
    assert (d.code, d.path, d.line) == ("E301", ("define", "cbr", "blocks", 0, "inputs"), 10)
    assert d.message.endswith("`bn` is a later block; a block can only read earlier ones")
    assert [(r.message, r.line, r.col) for r in d.related] == [
        ("in the block used at blocks[1]", 17, 5)
    ]


# user-defined blocks


RECURSIVE = """\
name: t
input: [8, 8, 3]
define:
  pair:
    blocks:
      - {type: conv, filters: 2, kernel: 1}
      - {type: wrap}
  wrap:
    blocks:
      - {type: pair}
blocks:
  - {type: flatten}
  - {type: wrap}
"""


def test_a_recursive_definition_is_an_error():
    d = error(RECURSIVE)
    assert d.code == "E504"
    # with its key path first, as every other message (a walkthrough)
    assert (
        d.message
        == "define.pair.blocks[1].type: recursive user-defined block: wrap -> pair -> wrap"
    )
    assert (d.path, d.line, d.col) == (("define", "pair", "blocks", 1, "type"), 7, 16)
    assert [(r.message, r.line, r.col) for r in d.related] == [("`wrap` is defined here", 8, 3)]


def test_a_definition_may_not_take_a_built_in_name():
    d = error(CBR.replace("  cbr:\n", "  conv:\n") + "  - {type: flatten}\n")
    assert (d.code, d.path, d.line, d.col) == ("E504", ("define", "conv"), 7, 3)
    assert d.hint == "choose another name"


@pytest.mark.parametrize("key", ["type", "name", "inputs", "repeat", "repeat_names"])
def test_a_definitions_param_may_not_take_a_common_keys_name(key: str):
    # a new user: `params: {repeat: 1}` with `{type: blk, repeat: 3}` repeated the instance
    # three times and set the param to 3; a param `type` received the type's name
    d = error(CBR.replace("{filters: null, k: 3}", f"{{filters: null, {key}: 3}}")
              + "  - {type: cbr, filters: 2}\n")  # fmt: skip
    assert (d.code, d.path, d.line, d.col) == ("E501", ("define", "cbr", "params", key), 8, 29)
    assert d.message.startswith(f"define.cbr.params.{key}: `{key}` is reserved: at a use, "
                                f"`{key}` is the use's own key (")  # fmt: skip
    assert d.hint == "rename the param"


WIDE = """\
name: t
input: [8, 8, 3]
params: {planes: 100}
defaults:
  wide: {stride: 2}
define:
  wide:
    params: {planes: 4, stride: 1, width: "${planes * 2}", step: "${stride if planes > 0 else 1}"}
    blocks:
      - {type: conv, name: c, filters: "${width}", kernel: 1, strides: "${step}"}
blocks:
"""


def test_a_definitions_default_reads_the_params_before_it():
    # a new user: `params: {planes: null, width: "${planes * 2}"}` was E502 "`planes` is not
    # defined", hinting that "a param can read the params before it"
    items = by_name(run(WIDE + "  - {type: wide, name: a, planes: 3}\n  - {type: wide, name: b}\n"
                        "  - {type: wide, name: c, planes: 5, stride: 1}\n"))  # fmt: skip
    # per use: the value given there, the definition's default (not the spec's `planes`), or
    # the one `defaults` gave; not the first use's value kept for the others
    assert [(items[n].block.filters, items[n].block.strides) for n in ("a_c", "b_c", "c_c")] \
        == [(6, 2), (8, 2), (10, 1)]  # type: ignore[attr-defined]  # fmt: skip


def test_a_definitions_default_may_not_read_itself_or_a_later_param():
    later = WIDE.replace("{planes: 4, stride: 1, ", "{stride: 1, width: '${planes * 2}', "
                         "planes: 4, ").replace(', width: "${planes * 2}"', "")  # fmt: skip
    # the spec's `planes` is the one defined there (a default may pass a spec param on)
    assert by_name(run(later + "  - {type: wide, planes: 3}\n"))["wide_1_c"].block.filters == 200
    d = error(later.replace("params: {planes: 100}\n", "") + "  - {type: wide, planes: 3}\n")
    assert (d.code, d.path) == ("E502", ("define", "wide", "params", "width"))
    assert d.hint == ("`planes` is a later param of `wide`: a default reads only the params "
                      "before it, and the spec's")  # fmt: skip
    d = error(WIDE.replace('"${planes * 2}"', '"${width + 1}"') + "  - {type: wide}\n")
    assert (d.code, d.path) == ("E502", ("define", "wide", "params", "width"))
    assert d.hint is not None and d.hint.startswith("`width` is the param itself: ")


def test_an_error_in_a_default_notes_where_the_earlier_param_it_read_came_from():
    d = error(WIDE.replace("stride: 2", "planes: [1]") + "  - {type: wide, stride: 1}\n")
    assert (d.code, d.path) == ("E501", ("define", "wide", "params", "width"))
    assert [(r.message, r.line) for r in d.related] == [
        ("`planes` is [1] (a list), from defaults.wide.planes", 5)
    ]


def test_a_spec_param_may_take_a_common_keys_name():
    # only a definition's params are set by a use's keys
    r = run("name: t\ninput: [8]\nparams: {repeat: 2, name: d}\n"
            "blocks:\n  - {type: dense, units: 2, repeat: '${repeat}', name: '${name}'}\n")  # fmt: skip
    assert [i.block.name for i in r.items] == ["d_1", "d_2"]


def test_a_use_with_an_unknown_or_missing_param():
    with pytest.raises(SpecError) as e:
        run(CBR + "  - {type: flatten}\n  - {type: cbr, width: 4}\n")
    assert [(x.code, x.message, x.hint, x.line, x.col) for x in e.value.diagnostics] == [
        ("E504", "blocks[1]: `cbr` needs param `filters`", "add `filters: ...`", 17, 5),
        ("E504", "blocks[1].width: `cbr` has no param `width`", "its params: filters, k",
         17, 17),
    ]  # fmt: skip
    assert all(
        [r.message for r in x.related] == ["`cbr` is defined here"] for x in e.value.diagnostics
    )
    # a misspelled param is not also missing (a built-in block's key is not either)
    with pytest.raises(SpecError) as e:
        run(CBR + "  - {type: flatten}\n  - {type: cbr, filtrs: 4}\n")
    assert [(x.code, x.message, x.hint, x.line, x.col) for x in e.value.diagnostics] == [
        ("E504", "blocks[1].filtrs: `cbr` has no param `filtrs`", "did you mean `filters`?",
         17, 17),
    ]  # fmt: skip
    assert all(
        [r.message for r in x.related] == ["`cbr` is defined here"] for x in e.value.diagnostics
    )


# params and --set


def test_parse_sets_reads_strict_yaml_values():
    params = {"width": 1, "stages": [], "act": "relu"}
    assert parse_sets(["width=8", "stages=[3, 4]", "act = gelu"], params) == {
        "width": 8,
        "stages": [3, 4],
        "act": "gelu",
    }
    with pytest.raises(UsageError) as e:
        parse_sets(["widht=3"], params, "t.yaml")
    [d] = e.value.diagnostics
    assert (d.code, d.file, d.message) == (
        "E503",
        "t.yaml",
        "--set widht: the spec has no param `widht`",
    )
    assert d.hint == "did you mean `width`?"
    with pytest.raises(UsageError) as e:
        parse_sets(["width"], params)
    assert e.value.diagnostics[0].message == "--set 'width': expected NAME=VALUE"
    with pytest.raises(UsageError) as e:
        parse_sets(["x=1"], {})
    assert e.value.diagnostics[0].hint == "the spec has no params"


def test_sets_override_params_before_they_are_evaluated():
    text = CBR.replace("defaults:", "params: {width: 2, wide: '${width * 2}'}\ndefaults:")
    text += "  - {type: cbr, filters: '${wide}', name: s}\n  - {type: dense, units: '${width}'}\n"
    resolved = run(text, ("width=3",))
    assert resolved.params == {"width": 3, "wide": 6}
    items = by_name(resolved)
    assert items["s_conv_1"].block.filters == 6  # type: ignore[attr-defined]
    assert items["dense_1"].block.units == 3  # type: ignore[attr-defined]
    d = error(text, ("width=yes",))
    assert (d.code, d.path, d.line, d.col) == ("E501", ("params", "wide"), 3, 26)
    assert d.message == (
        "params.wide: in `${width * 2}`: arithmetic takes numbers, found true (a boolean) and 2 "
        "(an integer)"
    )


def test_an_expression_given_by_set_fails_as_the_set_not_at_the_params_line():
    text = CBR.replace("defaults:", "params: {width: 2, wide: '${width * 2}'}\ndefaults:")
    text += "  - {type: dense, units: '${wide}'}\n"
    assert run(text, ("width=${3 * 2}",)).params == {"width": 6, "wide": 12}
    with pytest.raises(UsageError) as e:
        run(text, ("width=${1 / 0}",))
    [d] = e.value.diagnostics
    assert (d.code, d.line, d.message) == ("E503", None, "--set width: in `${1 / 0}`: division "
                                           "by zero")  # fmt: skip
    with pytest.raises(UsageError) as e:  # the first param reads nothing: no "has no params"
        run(text, ("width=${width}",))
    [d] = e.value.diagnostics
    assert d.message == "--set width: in `${width}`: `width` is the param itself"
    assert d.hint == "a param (and a --set of it) reads only the params before it: give its value"


def test_a_param_reading_a_later_one_says_so():
    # it said "`wide` is not defined", with the earlier params as the defined names
    text = CBR.replace("defaults:", "params: {width: 2, half: 1, wide: 4}\ndefaults:")
    text += "  - {type: dense, units: '${half}'}\n"
    with pytest.raises(UsageError) as e:
        run(text, ("half=${wide // 2}",))
    [d] = e.value.diagnostics
    assert d.message == "--set half: in `${wide // 2}`: `wide` comes after `half` in `params`"
    assert d.hint == ("a param (and a --set of it) reads only the params before it: move `wide` "
                      "before `half`, or give the value")  # fmt: skip
    d = error(text.replace("half: 1", "half: '${wide // 2}'"))
    assert (d.code, d.path) == ("E502", ("params", "half"))
    assert d.message == "params.half: in `${wide // 2}`: `wide` comes after `half` in `params`"
    # a name no param has keeps its hint
    with pytest.raises(UsageError) as e:
        run(text, ("half=${wdth // 2}",))
    assert e.value.diagnostics[0].hint == "did you mean `width`?"


def test_errors_of_several_blocks_are_reported_together_in_file_order():
    text = CBR.replace("defaults:", "params: {width: 0.5}\ndefaults:")
    text += "  - {type: cbr, filters: '${width * 2}'}\n  - {type: dense, units: '${width}'}\n"
    with pytest.raises(SpecError) as e:
        run(text)
    got = [(d.code, d.path, d.line, [r.message for r in d.related]) for d in e.value.diagnostics]
    # the use's key it came from
    given = [
        "`filters` is 1.0 (a number), from blocks[0].filters",
        "in the block used at blocks[0]",
    ]
    assert got == [
        ("E202", ("define", "cbr", "blocks", 0, "filters"), 11, given),
        ("E202", ("define", "cbr", "blocks", 1, "filters"), 12, given),
        ("E202", ("blocks", 1, "units"), 18, []),
    ]


def test_the_errors_one_set_value_causes_are_one_naming_the_other_keys():
    """`--set depth=19` on the resnet family was seven errors, one per key that reads `depth`
    (each table lacks 19); they are one mistake, on the command line."""
    text = CBR.replace("defaults:", "params: {width: 2}\ndefaults:")
    text += "  - {type: cbr, filters: '${width * 2}'}\n  - {type: dense, units: '${width}'}\n"
    with pytest.raises(SpecError) as e:
        run(text, ("width=0.5",))
    got = [(d.code, d.path, d.line, [r.message for r in d.related]) for d in e.value.diagnostics]
    # the definition's two convs: the same error, notes and all; the dense's own notes differ
    # (no use, no param), so it stays apart
    given = ["`filters` is 1.0 (a number), from blocks[0].filters",
             "`width` comes from --set width=0.5", "in the block used at blocks[0]"]  # fmt: skip
    folded = "the same error at 1 more key of t.yaml: define.cbr.blocks[1].filters"
    assert got == [
        ("E202", ("define", "cbr", "blocks", 0, "filters"), 11, [*given, folded]),
        ("E202", ("blocks", 1, "units"), 18, ["`width` comes from --set width=0.5"]),
    ]
    # errors that say different things of the same value stay apart (a review found the
    # second hidden behind the first): the expression they quote aside, the cause must match
    two = ("name: m\nparams: {k: 3}\ninput: [8, 8, 3]\nblocks:\n"
           "  - {type: conv, filters: '${20 - k * 2}', kernel: 3}\n"
           "  - {type: dropout, rate: '${k / 10}'}\n  - {type: conv, filters: '${10 - k}', "
           "kernel: 3}\n")  # fmt: skip
    with pytest.raises(SpecError) as e:
        run(two, ("k=10",))
    got = [(d.path, d.message.split(": ", 1)[1], d.related[-1].message)
           for d in e.value.diagnostics]  # fmt: skip
    assert got == [
        (("blocks", 0, "filters"), "expected a value > 0, received 0 (an integer)",
         "the same error at 1 more key of t.yaml: blocks[2].filters"),
        (("blocks", 1, "rate"), "expected a value < 1.0, received 1.0 (a number)",
         "`k` comes from --set k=10"),
    ]  # fmt: skip


def test_an_error_raised_inside_a_definition_comes_with_the_later_blocks_errors():
    """An undefined name in `define` stopped the walk: the misspelled key of the next block
    waited for another run."""
    text = (
        "name: t\ninput: [32, 32, 3]\ndefine:\n  unit:\n    params: {f: 8}\n    blocks:\n"
        "      - {type: conv, filters: '${g}', kernel: 3}\nblocks:\n  - {type: unit}\n"
        "  - {type: conv, filters: 8, kernal: 3}\n  - {type: unit}\n"
    )
    with pytest.raises(SpecError) as e:
        run(text)
    got = [(d.code, d.path, d.line) for d in e.value.diagnostics]
    # the second use of `unit` is only validated: its definition's error is not repeated
    assert got == [
        ("E502", ("define", "unit", "blocks", 0, "filters"), 7),
        ("E201", ("blocks", 1, "kernal"), 10),
    ]


def test_of_a_set_name_given_twice_the_last_counts():
    text = ("name: t\nparams: {w: 2}\ninput: [8, 8, 3]\nblocks:\n"
            "  - {type: conv, name: c, filters: '${w}', kernel: 1}\n")  # fmt: skip
    assert by_name(run(text, ("w=4", "w=8")))["c"].block.filters == 8
    assert by_name(run(text, ("w=8", "w=4")))["c"].block.filters == 4


def test_e705_notes_the_block_that_made_the_blocks():
    """A search's `repeat: 5000` of a two-block unit: E705 stood at the global pool after it,
    told to 'include fewer specs' of a spec that includes none."""
    text = CBR + "  - {type: cbr, filters: 2, repeat: 3}\n  - {type: flatten}\n"
    d = error(text, blocks=15)
    assert (d.code, d.path) == ("E705", ("blocks", 1))
    assert [(r.message, r.line) for r in d.related] == [
        ("blocks[0] made 15 of the 15 blocks before it", 16)
    ]
    assert d.hint.startswith("lower `repeat`, or raise the limit")
