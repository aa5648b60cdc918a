"""Hints that misfired for a new user (issue 16): each names what is wrong, where, and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import archspec
from archspec.core.errors import (
    ArchspecError,
    Diagnostic,
    SpecError,
    did_you_mean,
    reset_hint_budget,
)
from archspec.frontend import loader
from archspec.frontend.loader import load_text
from archspec.frontend.schema import BOTH_INPUTS, ONE_INPUT
from tests.conftest import ROOT, write

HEAD = "name: m\ninput: [32, 32, 3]\nblocks:\n"


def diagnose(text: str) -> Diagnostic:
    """The one diagnostic of a spec that does not compile."""
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=text))
    assert len(e.value.diagnostics) == 1, e.value.diagnostics
    return e.value.diagnostics[0]


def at(d: Diagnostic) -> tuple[int | None, int | None]:
    return d.line, d.col


# -- 1. a match but for case wins over difflib's closest -----------------------------------


def test_activation_in_another_case_suggests_that_name_not_a_shorter_one():
    d = diagnose(HEAD + "  - {type: conv, filters: 8, kernel: 3, activation: Relu}\n")
    assert d.code == "E204" and at(d) == (4, 53)
    assert d.hint == "did you mean `relu`?"


@pytest.mark.parametrize(
    ("block", "col", "hint"),
    [
        ("{type: Conv, filters: 8, kernel: 3}", 12, "did you mean `conv`?"),
        ("{type: conv, Filters: 8, kernel: 3}", 18, "did you mean `filters`?"),
        ("{type: conv, filters: 8, kernel: 3, activation: LeakyReLU}", 53,
         "did you mean `leaky_relu`?"),
        ("{type: conv, filters: 8, kernel: 3, activation: Sigmod}", 53,
         "did you mean `sigmoid`?"),
    ],
)  # fmt: skip
def test_keys_types_and_names_in_another_case(block, col, hint):
    d = diagnose(HEAD + f"  - {block}\n")
    assert at(d) == (4, col) and d.hint == hint


@pytest.mark.parametrize(
    ("block", "hint"),
    [  # a review: the first four were all "did you mean `normalization`?" (valid, and another
       # layer), the keys `se_ratio`, the paper's names `residual` or nothing
        ("{type: LayerNormalization}", "layer_norm"),
        ("{type: layer_normalization}", "layer_norm"),
        ("{type: GroupNormalization, groups: 1}", "group_norm"),
        ("{type: group_normalisation}", "group_norm"),
        ("{type: MaxPooling2D}", "max_pool"),
        ("{type: SeparableConv2D, filters: 4, kernel: 3}", "separable_conv"),
        ("{type: squeeze_excite}", "se"),
        ("{type: squeeze_excitaton}", "se"),  # near another name
        ("{type: inverted_residual, filters: 8}", "mbconv"),
        ("{type: fused_mbconv, filters: 8}", "mbconv` with `fused: true"),  # not the plain one
        ("{type: mbconv, filters: 8, expand_ratio: 2}", "expansion"),
        ("{type: mbconv, filters: 8, drop_rate: 0.2}", "dropout"),
        ("{type: Conv, filters: 8, kernel: 3}", "conv"),  # the type's own name still wins
        ("{type: normalisation}", "normalization"),
        # a walkthrough: PyTorch's and other common names got another layer or nothing
        ("{type: global_pool}", "global_avg_pool"),  # was max_pool
        ("{type: ReLU}", "activation` with `activation: relu"),  # was nothing
        ("{type: LeakyReLU}", "activation` with `activation: leaky_relu"),
        ("{type: swish}", "activation` with `activation: swish"),
        ("{type: Linear, units: 10}", "dense"),
        ("{type: fc, units: 10}", "dense"),
        ("{type: BatchNorm2d}", "batch_norm"),
        ("{type: dw_conv, kernel: 3}", "depthwise_conv"),  # was conv
        ("{type: sep_conv, filters: 4, kernel: 3}", "separable_conv"),
        ("{type: ConvTranspose2d, filters: 4, kernel: 2}", "conv_transpose"),
        ("{type: BasicBlock, n_filters: 8}", "residual` with `batch_norm: true"),
        ("{type: bottleneck_block, n_filters: 8}", "bottleneck"),  # was preact_bottleneck
        ("{type: ZeroPad2d}", "zero_pad"),
    ],
)  # fmt: skip
def test_keras_and_paper_names_of_types_and_keys(block, hint):
    d = diagnose(HEAD + f"  - {block}\n")
    assert d.code in ("E205", "E201") and d.hint == f"did you mean `{hint}`?", d


def test_an_unknown_type_is_named_as_written():
    """A type that is a word is quoted as the spec writes it (`x`), as every other name is;
    another kind of value is described (a walkthrough: 'LayerNormalization' (a string))."""
    d = diagnose(HEAD + "  - {type: LayerNormalization}\n")
    assert d.message.endswith("unknown block type `LayerNormalization`"), d.message
    d = diagnose(HEAD + "  - {type: 3}\n")
    assert d.message.endswith("unknown block type 3 (an integer)"), d.message
    d = diagnose(HEAD + "  - {type: ' '}\n")  # a review: "unknown block type ` `"
    assert d.message.endswith("unknown block type ' ' (a string)"), d.message


def test_a_keras_key_name_in_defaults():
    d = diagnose(HEAD.replace("blocks:", "defaults: {mbconv: {expand_ratio: 2}}\nblocks:")
                 + "  - {type: mbconv, filters: 8}\n")  # fmt: skip
    assert (
        d.path == ("defaults", "mbconv", "expand_ratio") and d.hint == "did you mean `expansion`?"
    )


def test_a_reference_in_another_case():
    d = diagnose(HEAD + "  - {type: conv, name: stem, filters: 8, kernel: 3}\n"
                 "  - {type: conv, name: step, filters: 8, kernel: 3, inputs: Stem}\n")  # fmt: skip
    assert d.code == "E301" and at(d) == (5, 61)
    assert d.hint == "did you mean `stem`?"


def test_did_you_mean_prefers_case_then_separators_then_difflib():
    reset_hint_budget()
    assert did_you_mean("Relu", ["elu", "relu", "selu"]) == "did you mean `relu`?"
    assert did_you_mean("RELU6", ["relu", "relu6"]) == "did you mean `relu6`?"
    assert did_you_mean("Hard-Swish", ["hard_swish", "swish"]) == "did you mean `hard_swish`?"
    # a large set: the case match is a look-up, found whatever the pool or budget
    many = [f"name_{i:05d}" for i in range(5000)] + ["Target"]
    assert did_you_mean("TARGET", many) == "did you mean `Target`?"


# -- 2. numbers: "without quotes" only where there are quotes ------------------------------


@pytest.mark.parametrize(
    ("value", "key", "hint"),
    [
        ("50%", "rate", "a percentage is not a number: write 0.5"),
        ("12.5%", "rate", "a percentage is not a number: write 0.125"),
        ("'50%'", "rate", "a percentage is not a number: write 0.5 (without quotes)"),
        ("0o10", "filters", "`0o10` is YAML 1.2's octal, which the loader (YAML 1.1 rules) "
                            "reads as text: write 8"),
        ("1e5", "filters", "YAML reads `1e5` as text; write `1.0e+5`, or `100000` where an "
                           "integer is wanted"),  # `1.0e+5` alone was a float, refused again
        ("1.0e5", "rate", "YAML reads `1.0e5` as text; write `1.0e+5`"),
        ("'8'", "filters", "write numbers without quotes"),
        ('"0.5"', "rate", "write numbers without quotes"),
    ],
)  # fmt: skip
def test_number_hints_say_what_is_wrong(value, key, hint):
    block = (f"{{type: dropout, rate: {value}}}" if key == "rate"
             else f"{{type: conv, kernel: 3, filters: {value}}}")  # fmt: skip
    d = diagnose(HEAD + f"  - {block}\n")
    assert d.code == "E202" and d.hint == hint
    assert at(d) == (4, len("  - {type: dropout, rate: ") + 1 if key == "rate"
                     else len("  - {type: conv, kernel: 3, filters: ") + 1)  # fmt: skip


@pytest.mark.parametrize(("value", "hint"), [
    ("4.19e6", "write `4.19M` (4190000): a count takes K, M, G or T, not an exponent"),
    ("3e9", "write `3G` (3000000000): a count takes K, M, G or T, not an exponent"),
    ("5e2", "write `500`: a count takes K, M, G or T, not an exponent"),
])  # fmt: skip
def test_a_count_written_with_an_exponent_is_told_its_suffix(value, hint):
    """`expect: {macs: 4.19e6}` (YAML's text) got 'expected a count like ...' and no hint."""
    d = diagnose(HEAD + "  - {type: dense, units: 4}\n" + f"expect: {{macs: {value}}}\n")
    assert (d.code, d.path, d.hint) == ("E204", ("expect", "macs"), hint)


@pytest.mark.parametrize(("top", "path", "hint"), [
    ("budget: {max_flops: 600M}", ("budget", "max_flops"), "archspec counts MACs, and FLOPs = "
     "2 x MACs: write `max_macs`; 600M FLOPs is `max_macs: 300M`"),  # was `max_params`
    ("expect: {FLOPs: 14.6G}", ("expect", "FLOPs"), "archspec counts MACs, and FLOPs = 2 x MACs: "
     "write `macs`; 14.6G FLOPs is `macs: 7.3G`"),
    ("budget: {max_gflops: 3}", ("budget", "max_gflops"), "archspec counts MACs, and FLOPs = "
     "2 x MACs: write `max_macs`"),
    ("budget: {max_flops: 601}", ("budget", "max_flops"), "archspec counts MACs, and FLOPs = "
     "2 x MACs: write `max_macs`; 601 FLOPs is `max_macs: 300`"),  # 300.5 was refused again
    ("budget: {max_params: 1.5GB}", ("budget", "max_params"), "write `1.5G`: a count takes K, "
     "M, G or T and no unit (no B, bytes or FLOPs)"),
    ("budget: {max_macs: 300MFLOPs}", ("budget", "max_macs"), "write `300M`: a count takes K, "
     "M, G or T and no unit (no B, bytes or FLOPs); and if 300M is FLOPs, the MACs are half "
     "(FLOPs = 2 x MACs): `150M`"),
])  # fmt: skip
def test_a_budget_in_flops_or_bytes_is_told_what_to_write(top, path, hint):
    """A walkthrough: `max_flops: 600M` got 'did you mean `max_params`?', and `1.5GB` or
    `300MFLOPs` no hint at all."""
    d = diagnose(HEAD + "  - {type: dense, units: 4}\n" + top + "\n")
    assert (d.path, d.hint) == (path, hint)


def test_a_suffix_inside_an_expression_is_told_it_works_outside_only():
    """`max_params: "${20M if res <= 160 else 40M}"` was 'invalid decimal literal', no hint."""
    text = HEAD.replace("blocks:", "params: {res: 160}\nblocks:") + "  - {type: dense, units: 4}\n"
    d = diagnose(text + 'budget: {max_params: "${20M if res <= 160 else 40M}"}\n')
    assert (d.code, d.path) == ("E501", ("budget", "max_params"))
    assert d.hint == ("a size suffix works in a plain value, not inside `${...}`: write 20M as "
                      "20000000 or 20 * 10**6")  # fmt: skip


def test_an_unquoted_percentage_in_block_style_is_not_told_about_quotes():
    d = diagnose(HEAD + "  - type: dropout\n    rate: 50%\n")
    assert at(d) == (5, 11) and "quotes" not in (d.hint or "")
    assert d.hint == "a percentage is not a number: write 0.5"


def test_the_loader_records_which_scalars_were_quoted():
    doc = load_text("a: '8'\nb: 8\nc: [\"x\", y]\n")
    assert doc.quoted == {("a",), ("c", 0)}


# -- 3. YAML syntax: where the construct began, and the common causes ----------------------

HEAD3 = "name: m\ninput: [32, 32, 3]\nblocks:\n"


@pytest.mark.parametrize(("body", "where", "note", "hint"), [
    # an unclosed `{`: the parser stops on the next line; the `{` is on this one
    ("  - {type: conv, filters: 8, kernel: 3\n  - {type: flatten}\n", (5, 5),
     ("the `{...}` that starts here", 4, 5), "close the `{` of line 4 with `}`"),
    ("  - {type: concat, inputs: [input, input}\n", (4, 41), None, "close the `[` with `]`"),
    # `filters:8`: no key; the parser stops at the next line
    ("  - type: conv\n    filters:8\n    kernel: 3\n", (6, 5),
     ("the key that starts here", 5, 5), "put a space after the `:` of a key: `filters: 8`"),
    # a `{name}_{k}` pattern unquoted inside `{...}`
    ("  - {type: conv, filters: 8, kernel: 3, repeat: 2, repeat_names: {name}_{k}}\n", (4, 72),
     None, 'quote the value: `repeat_names: "{name}_{k}"`'),
    # a key indented further than the one above
    ("  - type: conv\n    filters: 8\n      kernel: 3\n", (6, 13), None,
     "a line indented further than the key above it continues that key's value: align the "
     "keys, or quote a value that holds `: `"),
    # a `{...}` over two lines, closed, with a comma missing: not "close the `{`"
    ("  - {type: conv,\n     filters: 8 kernel: 3}\n", (5, 23),
     ("the `{...}` that starts here", 4, 5), "separate the items of the `{...}` of line 4 with `,`"),
    # ... and the value to quote on the second line
    ("  - {type: conv, filters: 8, kernel: 3, repeat: 2,\n     repeat_names: {name}_{k}}\n",
     (5, 26), ("the `{...}` that starts here", 4, 5), 'quote the value: `repeat_names: "{name}_{k}"`'),
    # a `[` never closed, the parser stopping at the next key; a `{` closed by `]`
    ("  - {type: flatten, inputs: [input}\n", (4, 35), None, "close the `[` with `]`"),
    # a value that holds `: `; a key or an item indented less than the others
    ("  - {type: flatten}\ndescription: a net: small\n", (5, 19), None,
     "quote a value that holds `: `"),
    ("  - {type: flatten}\n - {type: flatten}\n", (5, 2), ("the mapping that starts here", 1, 1),
     "indent this line as the other items (`- `) of its list"),
    ("  - {type: flatten}\n  - {type: flatten}\n   - {type: flatten}\n", (6, 4),
     ("the list that starts here", 4, 3), "indent this line as the other items (`- `) of its list"),
    # an unclosed quote, and a `{` or `[` never closed: at the end of the last line, not past
    # the end of the file (5:1, where no line is to show)
    ("  - {type: flatten, name: \"f}\n", (4, 30), ("the quoted text that starts here", 4, 27),
     "close the quote of line 4"),
    ("  - {type: conv, filters: 8, kernel: 3\n", (4, 39),
     ("the `{...}` that starts here", 4, 5), "close the `{` of line 4 with `}`"),
    ("  - [conv, 3\n\n  \n", (4, 13), ("the `[...]` that starts here", 4, 5),
     "close the `[` of line 4 with `]`"),
    ("  - {type: conv, filters: 8, kernel: 3\n# the head comes later\n", (4, 39),
     ("the `{...}` that starts here", 4, 5), "close the `{` of line 4 with `}`"),
    # ... and with no line break at the end of the file: the hint was missing
    ("  - {type: conv, filters: 8, kernel: 3", (4, 39),
     ("the `{...}` that starts here", 4, 5), "close the `{` of line 4 with `}`"),
])  # fmt: skip
def test_a_yaml_syntax_error_notes_where_it_began_and_hints_the_cause(body, where, note, hint):
    """The parser's position only: an unclosed `{` was reported on the line after it, with no
    word on the `{`; `filters:8`, `{name}_{k}` and an indented key got no hint."""
    d = diagnose(HEAD3 + body)
    assert d.message.startswith("YAML syntax error"), d.message
    assert (d.code, at(d)) == ("E101", where)
    notes = [(r.message, r.line, r.col) for r in d.related]
    assert notes == ([note] if note else [])
    assert d.hint == hint


# -- 3b. an unquoted ${...} inside {...} or [...] -----------------------------------------


def test_unquoted_expression_in_a_flow_mapping():
    d = diagnose("name: m\nparams: {w: 8}\ninput: [32, 32, 3]\nblocks:\n"
                 "  - {type: conv, filters: ${w}, kernel: 3}\n")  # fmt: skip
    assert d.code == "E101" and at(d) == (5, len("  - {type: conv, filters: ") + 1)  # the `$`
    assert d.message == "YAML syntax error: the expression `${w}` inside `{...}` must be quoted"
    assert d.hint == 'quote the expression: "${w}"'


def test_unquoted_expression_in_a_flow_sequence():
    d = diagnose("name: m\nparams: {k: 3}\ninput: [32, 32, 3]\nblocks:\n"
                 "  - {type: conv, filters: 8, kernel: [1, ${max(k, 1)}]}\n")  # fmt: skip
    assert at(d) == (5, len("  - {type: conv, filters: 8, kernel: [1, ") + 1)
    assert d.hint == 'quote the expression: "${max(k, 1)}"'
    assert "inside `[...]`" in d.message


# -- 4. E402: `padding: same` only for blocks that have `padding` ---------------------------


def test_collapse_in_a_block_with_padding_suggests_it():
    d = diagnose("name: m\ninput: [4, 4, 3]\nblocks:\n  - {type: max_pool, pool: 8}\n")
    assert d.code == "E402" and at(d) == (4, 5)
    assert d.hint == "use a larger input, fewer stride-2 steps, or padding: same"


def test_collapse_in_a_block_without_padding_does_not():
    d = diagnose("name: m\ninput: [4, 4, 3]\nblocks:\n"
                 + "  - {type: vgg, n_filters: 8, n_conv: 1}\n" * 3)  # fmt: skip
    assert d.code == "E402" and at(d) == (6, 5)
    assert d.hint == "use a larger input or fewer stride-2 steps"


# -- 5. tabs, 10.0 for an integer, a float from an expression --------------------------------


def test_tab_inside_a_flow_list(monkeypatch):
    # libyaml accepts a tab between items but not one that continues a plain scalar
    d = diagnose("name: m\ninput: [32, 3\n\t2, 3]\nblocks:\n  - {type: flatten}\n")
    assert d.code == "E101" and at(d) == (3, 1)
    assert d.hint == "replace the tab with spaces"
    # the pure-Python parser refuses every tab in flow context, with a cryptic message
    monkeypatch.setattr(loader, "_Parser", yaml.SafeLoader)
    with pytest.raises(SpecError) as e:
        load_text("name: m\ninput: [32,\t32, 3]\n")
    (d,) = e.value.diagnostics
    assert at(d) == (2, 12) and d.hint == "replace the tab with spaces"


def test_tab_as_indentation_keeps_its_hint():
    with pytest.raises(SpecError) as e:
        load_text("name: m\nblocks:\n\t- {type: flatten}\n")
    (d,) = e.value.diagnostics
    assert at(d) == (3, 1) and d.hint == "indent with spaces, not tabs"


def test_a_float_for_an_integer_key():
    d = diagnose(HEAD + "  - {type: flatten}\n  - {type: dense, units: 10.0}\n")
    assert d.code == "E202" and at(d) == (5, 26)
    assert d.hint == "write 10 (an integer)"
    d = diagnose(HEAD + "  - {type: flatten}\n  - {type: dense, units: 10.5}\n")
    assert d.hint is None  # not an integer at all: the message says what is expected


def test_an_expression_that_gives_a_float_for_an_integer_key():
    d = diagnose("name: m\nparams: {w: 0.5}\ninput: [32, 32, 3]\nblocks:\n"
                 "  - {type: conv, filters: '${16 * w}', kernel: 3}\n")  # fmt: skip
    assert d.code == "E202" and at(d) == (5, 27)
    assert d.hint == 'wrap the expression in int(...): "${int(16 * w)}"'


# -- 6. naming the blocks that could be meant ---------------------------------------------


def test_outputs_naming_a_missing_block_lists_the_blocks():
    d = diagnose(HEAD + "  - {type: conv, name: a, filters: 8, kernel: 3}\n"
                 "  - {type: conv, name: b, filters: 8, kernel: 3}\noutputs: [zzzzz]\n")  # fmt: skip
    assert d.code == "E301" and at(d) == (6, 11)
    assert d.hint == "the blocks: a, b"


def test_outputs_lists_the_first_twenty_and_the_count():
    blocks = "".join(f"  - {{type: conv, name: c{i}, filters: 8, kernel: 1}}\n" for i in range(25))
    d = diagnose(HEAD + blocks + "outputs: [zzzzz]\n")
    shown = ", ".join(f"c{i}" for i in range(20))
    assert d.hint == f"the blocks: {shown}, ... (25 in all)"


def test_outputs_still_say_did_you_mean_when_one_is_close():
    d = diagnose(HEAD + "  - {type: conv, name: head, filters: 8, kernel: 3}\noutputs: [Head]\n")
    assert d.hint == "did you mean `head`?"


@pytest.mark.parametrize("kind", ["concat", "add", "multiply"])
def test_a_merge_without_inputs_names_the_blocks_it_could_read(kind):
    d = diagnose(HEAD + "  - {type: conv, name: a, filters: 8, kernel: 3}\n"
                 f"  - {{type: conv, name: b, filters: 8, kernel: 3}}\n  - {{type: {kind}}}\n")  # fmt: skip
    # E303, as README's table says of a wrong number of inputs (it was E204, a walkthrough)
    assert d.code == "E303" and at(d) == (6, 5)
    assert d.message == f"blocks[2]: `{kind}` needs `inputs`: a list of two or more block names"
    assert d.hint == ("name two or more earlier blocks, e.g. `inputs: [a, b]`; it can read "
                      "(nearest first): b, a, input")  # fmt: skip


def test_a_merge_lists_the_nearest_five():
    blocks = "".join("  - {type: conv, filters: 8, kernel: 1}\n" for _ in range(7))
    d = diagnose(HEAD + blocks + "  - {type: concat, inputs: conv_7}\n")
    assert d.hint == ("name two or more earlier blocks, e.g. `inputs: [conv_6, conv_7]`; it can "
                      "read (nearest first): conv_7, conv_6, conv_5, conv_4, conv_3, ...")  # fmt: skip


def test_a_merge_first_has_only_the_input():
    d = diagnose(HEAD + "  - {type: add}\n")
    assert at(d) == (4, 5)
    assert d.hint == ("only `input` comes before it: add blocks, then list two or more of them "
                      "in `inputs`")  # fmt: skip


@pytest.mark.parametrize(("block", "code", "says", "hint"), [
    ("{type: conv, name: " + "r" * 129 + ", filters: 4, kernel: 1}", "E204",
     "blocks[0].name: expected a string of at most 128 characters, received 'rrr", None),
    ("{type: spec, path: ''}", "E204", "blocks[0].path: expected a non-empty string", None),
    ("{type: conv, filters: '${1 < 2}', kernel: 1}", "E202",
     "blocks[0].filters: expected an integer, received true", "the expression gives true or false"),
    ("{type: conv, filters: yes, kernel: 1}", "E202",
     "blocks[0].filters: expected an integer, received true", "YAML reads yes/no/on/off"),
])  # fmt: skip
def test_a_length_or_a_boolean_is_told_in_the_specs_words(block, code, says, hint):
    d = diagnose(f"name: m\ninput: [8, 8, 3]\nblocks:\n  - {block}\n")
    assert d.code == code and d.message.startswith(says), d
    assert "should have" not in d.message  # pydantic's own words
    assert (d.hint or "").startswith(hint or ""), d.hint


def test_a_union_reports_the_bad_item_not_also_the_whole_list():
    # `mean: float | list of floats`: not "expected a number, received [...] (a list)" as well
    text = HEAD + "  - {type: normalization, mean: [0, 0, 'a'], variance: [1, 1, -1]}\n"
    with pytest.raises(SpecError) as e:
        archspec.load(text=text)
    assert [(d.code, d.path) for d in e.value.diagnostics] == [
        ("E202", ("blocks", 0, "mean", 2)),
        ("E204", ("blocks", 0, "variance", 2)),
    ]


def test_bn_keys_without_batch_norm_are_a_warning_at_the_key():
    text = HEAD + (
        "  - {type: conv, filters: 4, kernel: 1, bn_scale: false, bn_epsilon: 0.5}\n"
        "  - {type: conv, filters: 4, kernel: 1, batch_norm: true, bn_scale: false}\n"  # used
        "  - {type: conv, filters: 4, kernel: 1}\n"
    )
    graph = archspec.analyze(archspec.load(text=text))
    assert [(w.code, w.path, w.severity) for w in graph.warnings] == [
        ("W302", ("blocks", 0, "bn_scale"), "warning"),
        ("W302", ("blocks", 0, "bn_epsilon"), "warning"),
    ]
    # from `defaults` (for the convs with batch norm and those without alike): no warning
    text = text.replace("blocks:", "defaults: {conv: {bn_momentum: 0.9}}\nblocks:")
    text = text.replace(", bn_scale: false, bn_epsilon: 0.5", "")
    assert archspec.analyze(archspec.load(text=text)).warnings == []


def test_a_bn_key_in_a_definition_warns_once_for_all_its_uses():
    text = HEAD.replace("blocks:\n", "") + (
        "define:\n  u:\n    blocks:\n      - {type: conv, filters: 4, kernel: 1, bn_epsilon: 0.1}\n"
        "blocks:\n  - {type: u}\n  - {type: u}\n  - {type: u, repeat: 3}\n"
    )
    warnings = archspec.analyze(archspec.load(text=text)).warnings
    assert [(w.code, w.path) for w in warnings] == [
        ("W302", ("define", "u", "blocks", 0, "bn_epsilon"))
    ]


UNUSED = """\
name: d
input: [32, 32, 3]
define:
  unused:
    params: {f: 8}
    blocks:
      - {type: convv, filters: "${f}", kernel: 3}
      - {type: dense, unitz: "${f}"}
      - {type: inner, g: 1}
  inner:
    params: {g: 1}
    blocks:
      - {type: dense, units: 4}
  used:
    blocks:
      - {type: conv, filters: 4, kernel: 3}
blocks:
  - {type: used}
"""


def test_a_definition_no_block_uses_is_checked_for_types_and_keys_and_warned():
    """`check` said `ok` of a spec whose unused definition had an unknown block type and an
    unknown key: a definition was checked only where a block used it."""
    with pytest.raises(SpecError) as e:
        archspec.load(text=UNUSED)
    got = [(d.code, d.path, d.line, d.hint) for d in e.value.diagnostics]
    assert got[:2] == [
        ("E205", ("define", "unused", "blocks", 0, "type"), 7, "did you mean `conv`?"),
        ("E201", ("define", "unused", "blocks", 1, "unitz"), 8, "did you mean `units`?"),
    ]  # and the warnings, after the errors
    assert [g[:2] for g in got[2:]] == [
        ("W303", ("define", "unused")),
        ("W303", ("define", "inner")),
    ]
    text = UNUSED.replace("convv", "conv").replace("unitz", "units")
    warnings = archspec.analyze(archspec.load(text=text)).warnings
    # `inner` is used only by `unused`: no block reaches it either
    assert [(w.code, w.path, w.line, w.message) for w in warnings] == [
        (
            "W303",
            ("define", "unused"),
            4,
            "define.unused: `unused` is defined, but no block uses it",
        ),
        ("W303", ("define", "inner"), 10, "define.inner: `inner` is defined, but no block uses it"),
    ]


def test_a_definition_a_whole_block_expression_may_be_is_not_called_unused():
    text = ("name: t\nparams: {b: {type: u}}\ninput: [8]\ndefine:\n  u:\n    blocks:\n"
            '      - {type: dense, units: 2}\nblocks:\n  - "${b}"\n')  # fmt: skip
    assert archspec.analyze(archspec.load(text=text)).warnings == []


@pytest.mark.parametrize("kind", ["a", "b"])
def test_a_definition_a_type_expression_may_pick_is_not_called_unused(kind):
    # `type: "${kind}"` with `--set kind=b` uses `b`: "remove it" would have broken that
    text = (f"name: d\nparams: {{kind: {kind}}}\ninput: [8]\ndefine:\n"
            "  a:\n    blocks:\n      - {type: dense, units: 2}\n"
            "  b:\n    blocks:\n      - {type: dense, units: 3}\n"
            'blocks:\n  - {type: "${kind}"}\n')  # fmt: skip
    assert archspec.analyze(archspec.load(text=text)).warnings == []


@pytest.mark.parametrize(("name", "hint"), [
    ("widht", "no param is defined here, only `copy` (the index of the copy), `in_shape` and "
              "`in_channels`"),  # an instance's params read its input's shape too
    ("cpy", "did you mean `copy`?"),
])  # fmt: skip
def test_an_undefined_name_where_only_copy_is_bound(name: str, hint: str) -> None:
    d = diagnose(
        "name: c\ninput: [32, 32, 3]\ndefine:\n  pair:\n    params: {f: 8}\n    blocks:\n"
        '      - {type: conv, filters: "${f}", kernel: 3}\nblocks:\n'
        f'  - {{type: pair, f: "${{{name}}}", repeat: 2}}\n'
    )
    assert (d.code, d.hint) == ("E502", hint)


@pytest.mark.parametrize(("nested", "message", "hint"), [
    ("budget: {max_parms: 3}\n", "budget.max_parms: unknown key `max_parms` in `budget`",
     "did you mean `max_params`?"),  # it suggested the spec's `params`
    ("expect: {parms: 3}\n", "expect.parms: unknown key `parms` in `expect`",
     "did you mean `params`?"),
    ("define:\n  u:\n    blocks: [{type: flatten}]\n    extra: 1\n",
     "define.u.extra: unknown key `extra` in `define.u`",
     "allowed keys: params, blocks, description"),  # it listed the spec's keys
])  # fmt: skip
def test_an_unknown_key_in_a_nested_mapping_is_hinted_from_its_keys(nested, message, hint):
    d = diagnose("name: m\ninput: [8, 8, 3]\n" + nested + "blocks:\n  - {type: flatten}\n")
    assert (d.code, d.message, d.hint) == ("E201", message, hint)


def test_a_top_level_error_says_top_level():  # it began ": give exactly one of"
    d = diagnose("name: m\nblocks:\n  - {type: flatten}\n")
    assert (
        d.message == "top level: give exactly one of `input` (one shape) and `inputs` "
        "(named shapes)"
    )


@pytest.mark.parametrize("spec", [
    "name: m\nbudget: {max_params: lots}\nblocks:\n  - {type: flatten}\n",
    "blocks:\n  - {type: flatten}\n",  # `name` is missing too
    "name: m\ninput: [8, 8, 3]\ninputs: {a: [8, 8, 3]}\nbudget: {max_params: x}\n"
    "blocks:\n  - {type: flatten}\n",
])  # fmt: skip
def test_the_input_rule_is_reported_with_the_top_levels_other_errors(spec):
    """One run shows every top-level error: the input rule (a model-level check, which pydantic
    runs only when every field is valid) came a run after a bad budget or a missing name."""
    with pytest.raises(SpecError) as e:
        archspec.load(text=spec)
    messages = [d.message for d in e.value.diagnostics]
    # both keys given: at the second, `inputs` (a review: it stood at 1:1, at neither key)
    both = "inputs: {a: " in spec
    rule = f"inputs: {BOTH_INPUTS}" if both else f"top level: {ONE_INPUT}"
    assert messages.count(rule) == 1, messages
    assert len(messages) == 2, messages
    if both:
        (d,) = [d for d in e.value.diagnostics if d.message == rule]
        assert (d.path, d.line, d.col) == (("inputs",), 3, 1)


@pytest.mark.parametrize(("value", "expected"), [
    ("kernel: [3]", "an integer or a list of exactly 2 items"),  # said "2 or more items"
    ("kernel: [3, 3, 3]", "an integer or a list of exactly 2 items"),  # said "2 items at most"
    ("strides: []", "an integer or a list of exactly 2 items"),
])  # fmt: skip
def test_a_pair_of_the_wrong_length_asks_for_exactly_two(value, expected):
    d = diagnose(f"name: m\ninput: [8, 8, 3]\nblocks:\n  - {{type: conv, filters: 4, {value}"
                 + (", kernel: 3" if "kernel" not in value else "") + "}\n")  # fmt: skip
    assert d.code == "E204" and f"expected {expected}, received" in d.message, d.message


def test_a_list_without_an_exact_length_keeps_its_bound():
    d = diagnose("name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten}\noutputs: []\n")
    assert "a list of 1 or more items" in d.message, d.message


@pytest.mark.parametrize(("padding", "at", "expected"), [
    ("[1, -1]", "padding[1]", "a value >= 0, received -1"),  # also "padding[0]: expected a list"
    ("[[1, 2], [3]]", "padding[1]", "a list of exactly 2 items, received [3]"),  # and [0]
    ("[[1, -2], [3, 4]]", "padding[0][1]", "a value >= 0, received -2"),  # and "[1]: an int"
    ("-1", "padding", "a value >= 0 or a list, received -1"),  # no arm got further: all read
])  # fmt: skip
def test_a_union_error_is_the_arm_the_value_was_meant_for(padding, at, expected):
    """zero_pad's padding is an int, a pair, or a pair of pairs: the error is the arm's that got
    deepest into the value, then the one with the fewest errors, not every arm's."""
    d = diagnose(
        f"name: m\ninput: [8, 8, 3]\nblocks:\n  - {{type: zero_pad, padding: {padding}}}\n"
    )
    assert d.message == f"blocks[0].{at}: expected {expected} (an integer)" or (
        d.message == f"blocks[0].{at}: expected {expected} (a list)"
    ), d.message


@pytest.mark.parametrize(("spec", "hint"), [
    # the model's own input is the vector: nothing before the conv made it
    ("input: [10]\nblocks:\n  - {type: conv, filters: 4, kernel: 3}\n",
     "the model's input is a vector: give `input` as [H, W, C] for images"),
    ("input: [8, 8, 3]\nblocks:\n  - {type: flatten}\n  - {type: conv, filters: 4, kernel: 3}\n",
     "`flatten_1` (flatten) before it made a vector: image layers go before it"),
    # a review: after a reshape it said "give `input` as [H, W, C]", which it was; a reshape
    # to a vector was "a flatten, global pool or dense layer"; and through a layer that keeps
    # the rank (MNIST's [28, 28] and a rescaling) the model's input was not seen
    ("input: [8, 8, 4]\nblocks:\n  - {type: reshape, target_shape: [8, 32]}\n"
     "  - {type: activation, activation: relu}\n  - {type: conv, filters: 4, kernel: 3}\n",
     "`reshape_1` (reshape 8x32) before it made this shape: image layers need (height, width, "
     "channels)"),
    ("input: [28, 28]\nblocks:\n  - {type: reshape, target_shape: [784]}\n"
     "  - {type: conv, filters: 4, kernel: 3}\n",
     "`reshape_1` (reshape 784) before it made a vector: image layers go before it"),
    ("input: [28, 28]\nblocks:\n  - {type: rescaling, scale: 0.5}\n"
     "  - {type: conv, filters: 4, kernel: 3}\n",
     "the model's input is no image: give `input` as [H, W, C] for images"),
    # a walkthrough: an uncut backbone's pooling was blamed as any layer, with no word of the
    # spec block's `outputs`; the tap named is the block before the pooling, which loads
    ("input: [224, 224, 3]\nblocks:\n  - {type: spec, path: resnet50, name: bb}\n"
     "  - {type: conv, filters: 4, kernel: 3}\n",
     "the spec block `bb` ends in a vector (`bb_avg_pool`, global avg pool): to read its image "
     "features, cut it before that with `outputs: [conv5_block3]`"),
    ("input: [224, 224, 3]\nblocks:\n  - {type: spec, path: convnext_tiny, name: bb}\n"
     "  - {type: upsample}\n",
     "the spec block `bb` ends in a vector (`bb_convnext_tiny_head_gap`, global avg pool): to "
     "read its image features, cut it before that with "
     "`outputs: [convnext_tiny_stage_3_block_2]`"),
])  # fmt: skip
def test_an_image_layer_on_a_vector_says_where_the_vector_came_from(spec, hint):
    d = diagnose("name: m\n" + spec)
    assert (d.code, d.hint) == ("E403", hint)
    if "outputs: [" in hint:  # the cut it suggests checks
        cut = hint.split("`outputs: ")[1].rstrip("`")
        fixed = spec.replace("name: bb}", f"name: bb, outputs: {cut}}}")
        archspec.analyze(archspec.load(text="name: m\n" + fixed))  # raises where it fails


@pytest.mark.parametrize("spec", [
    "input: [8, 8, 3]\nblocks:\n  - {type: conv, name: input, filters: 4, kernel: 3}\n",
    "inputs: {img: [8, 8, 3], b: [8]}\nblocks:\n  - {type: flatten, name: b, inputs: img}\n",
])  # fmt: skip
def test_a_block_named_as_a_model_input_says_so(spec):
    d = diagnose("name: m\n" + spec)  # it said "already used; give one of the blocks another"
    name = "input" if "name: input" in spec else "b"
    assert d.code == "E302" and d.message.endswith(f"`{name}` is the name of a model input")
    assert d.hint == "give the block another `name`"


WHOLE = 'write the value as "${...}" alone, nothing around it'


@pytest.mark.parametrize(("value", "why", "hint"), [
    # it was read as text: "expected an integer"; then its hint said to remove what was around
    # the expression, when what it lacks is its end
    ('"${ 16 "', "`${` is not closed", 'close it with `}`, as "${...}"'),
    ('"${int(16 * width"', "`${` is not closed", 'close it with `}`, as "${...}"'),
    ('"x${16}"', "an expression is the whole value", WHOLE),
    ('" ${16}"', "an expression is the whole value", WHOLE),
])  # fmt: skip
def test_a_partial_expression_is_not_taken_as_text(value, why, hint):
    d = diagnose(f"name: m\ninput: [8, 8, 3]\nblocks:\n  - {{type: conv, filters: {value}, "
                 "kernel: 3}\n")  # fmt: skip
    assert (d.code, d.path) == ("E501", ("blocks", 0, "filters"))
    assert d.message.endswith(f"is not an expression: {why}"), d.message
    assert d.hint == hint


@pytest.mark.parametrize(("value", "meant"), [
    # a new user: "expected an integer, received '$(planes)'", and no word of `${...}`
    ('"$(planes)"', "planes"), ('"{planes}"', "planes"), ("'{{ planes }}'", "planes"),
    ('"$planes"', "planes"), ('"$ {planes}"', "planes"), ('"#{planes}"', "planes"),
    ('"$(int(planes * 2))"', "int(planes * 2)"), ('"{planes // 2}"', "planes // 2"),
])  # fmt: skip
def test_an_expression_in_another_syntax_is_told_how_to_write_it(value, meant):
    d = diagnose(f"name: m\ninput: [8, 8, 3]\nparams: {{planes: 4}}\nblocks:\n"
                 f"  - {{type: conv, filters: {value}, kernel: 3}}\n")  # fmt: skip
    assert (d.code, d.path) == ("E202", ("blocks", 0, "filters"))
    assert d.hint == f'an expression is written "${{{meant}}}", as the whole value'


@pytest.mark.parametrize("value", ['"planes"', '"$"', '"{}"', '"a{b}c"', '"$(a"'])
def test_other_text_is_not_taken_for_an_expression(value):
    d = diagnose(f"name: m\ninput: [8, 8, 3]\nblocks:\n"
                 f"  - {{type: conv, filters: {value}, kernel: 3}}\n")  # fmt: skip
    assert d.code == "E202" and d.hint is None


def test_a_mistyped_expression_is_hinted_at_any_key():
    d = diagnose("name: m\ninput: [8, 8, 3]\nblocks:\n"
                 "  - {type: conv, filters: 2, kernel: 3, activation: '{act}'}\n")  # fmt: skip
    assert (d.code, d.hint) == ("E204", 'an expression is written "${act}", as the whole value')


def test_a_string_compared_in_an_expression_hints_at_a_table_param():
    d = diagnose(
        "name: m\ninput: [8, 8, 3]\nparams: {mode: nearest}\nblocks:\n"
        "  - {type: conv, filters: \"${2 if mode == 'nearest' else 4}\", kernel: 3}\n"
    )
    assert (d.code, d.path) == ("E501", ("blocks", 0, "filters"))
    assert d.hint == ("strings are not compared: give a table param keyed by `mode`'s values "
                      "(`by_mode: {nearest: ..., ...}`) and read `${by_mode[mode]}`")  # fmt: skip


@pytest.mark.parametrize(("spec", "hint"), [
    # in a definition's block: `<in_shape>`, the internal placeholder, was listed
    ("define:\n  u:\n    params: {f: 4}\n    blocks:\n      - {type: conv, filters: '${g}', "
     "kernel: 3}\nblocks:\n  - {type: u}\n", "defined names: f, copy, in_shape, in_channels"),
    ("params: {w: 4}\nblocks:\n  - {type: conv, filters: '${g}', kernel: 3}\n",
     "defined names: w, copy, in_shape, in_channels"),
    ("params: {w: 4, v: '${g}'}\nblocks:\n  - {type: flatten}\n", "defined names: w"),
    ("blocks:\n  - {type: conv, filters: '${g}', kernel: 3}\n",  # no params at all
     "no param is defined here, only `copy` (the index of the copy), `in_shape` and "
     "`in_channels`"),
])  # fmt: skip
def test_an_undefined_name_lists_the_names_that_can_be_read_there(spec, hint):
    d = diagnose("name: m\ninput: [8, 8, 3]\n" + spec)
    assert (d.code, d.hint) == ("E502", hint)


def test_an_output_named_twice_is_placed_at_the_second_naming():
    d = diagnose("name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten, name: f}\n"
                 "  - {type: dense, name: g, units: 2}\noutputs: [f, g, g]\n")  # fmt: skip
    assert (d.code, d.path, d.line, d.col) == ("E302", ("outputs", 2), 6, 17)  # was the list
    assert d.message == "outputs[2] `g` and outputs[1] `g` both name the block `g`"
    d = diagnose("name: m\ninput: [8]\nblocks:\n  - {type: dense, name: s, units: 2, repeat: 2}\n"
                 "outputs: [s, s_2]\n")  # fmt: skip
    assert d.message == "outputs[1] `s_2` and outputs[0] `s` both name the block `s_2`"


@pytest.mark.parametrize(("spec", "hint"), [
    ("fam2.yaml", "did you mean `fam.yaml`?"),  # a file beside it, sooner than the zoo
    ("sub/famm.yaml", "did you mean `sub/fam.yaml`?"),
    ("resnt50.yaml", "did you mean the zoo network `resnet50`? (`archspec zoo` lists them)"),
    ("nonexist.yaml", None),  # it said "did you mean the zoo network `convnext`"
    ("alexnet", "a SPEC is a file or a zoo network's name: `archspec zoo` lists them"),  # was
    # "did you mean the zoo network `mobilenet` or `googlenet` or `resnet`?"
    ("effnet", "did you mean the zoo network `resnet` or `efficientnet`? "
               "(`archspec zoo` lists them)"),  # still near at 0.67
    ("resnet50.yaml", "did you mean the zoo network `resnet50` or `resnet` or `resnet152`? "
                      "(`archspec zoo` lists them)"),  # its own name, not a file beside it
    ("resnt50", "did you mean the zoo network `resnet50` or `resnet` or `resnet152`? "
                "(`archspec zoo` lists them)"),  # a bare name: the zoo, as before
])  # fmt: skip
def test_a_missing_spec_path_suggests_a_file_beside_it_first(tmp_path, monkeypatch, spec, hint):
    from archspec.frontend.zoo import resolve_spec

    (tmp_path / "sub").mkdir()
    for name in ("fam.yaml", "sub/fam.yaml", "notes.yaml", "resnet18.yaml"):
        (tmp_path / name).write_text("name: x\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ArchspecError) as e:
        resolve_spec(spec)
    assert (e.value.diagnostics[0].code, e.value.diagnostics[0].hint) == ("E001", hint)


@pytest.mark.parametrize(("spec", "hint"), [
    ("efficientnet_b9", "`efficientnet_b9` is no member of the zoo family `efficientnet`; its "
     "members are `efficientnet_b0`, `efficientnet_b1`, `efficientnet_b2`, `efficientnet_b3`, "
     "`efficientnet_b4`, `efficientnet_b5`, `efficientnet_b6`, `efficientnet_b7` (or "
     "`efficientnet --set variant=b0|b1|b2|b3|b4|b5|b6|b7`)"),  # was `efficientnet`, no members
    ("resnet_999", "`resnet_999` is no member of the zoo family `resnet`; its members are "
     "`resnet18`, `resnet34`, `resnet50`, `resnet101`, `resnet152` (or `resnet --set "
     "depth=18|34|50|101|152`)"),
    ("efficientnet_v2_x", "`efficientnet_v2_x` is no member of the zoo family `efficientnet_v2`; "
     "its members are `efficientnet_v2_b0`, `efficientnet_v2_b1`, `efficientnet_v2_b2`, "
     "`efficientnet_v2_b3`, `efficientnet_v2_s`, `efficientnet_v2_m`, `efficientnet_v2_l` (or "
     "`efficientnet_v2 --set variant=b0|b1|b2|b3|s|m|l`)"),  # the longer family's
])  # fmt: skip
def test_a_mistyped_family_member_is_told_the_members(tmp_path, monkeypatch, spec, hint):
    from archspec.frontend.zoo import named, resolve_spec

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ArchspecError) as e:
        resolve_spec(spec)
    assert (e.value.diagnostics[0].code, e.value.diagnostics[0].hint) == ("E001", hint)
    for member in hint.split("are ")[1].split(" (or")[0].split(", "):  # each of them resolves
        assert named(member.strip("`")) is not None, member


@pytest.mark.parametrize(("spec", "near"), [
    ("resnet_mine", None), ("specs/resnet_mine.yaml", None), ("resnet_v3", "`resnet_v2`"),
    ("efficientnet_v3", "`efficientnet_v2`"),
])  # fmt: skip
def test_a_name_not_of_the_members_form_is_not_told_the_members(spec, near):
    """A review: the user's own `resnet_mine.yaml` was told resnet's members, and
    `efficientnet_v3` efficientnet's, not the `efficientnet_v2` family."""
    from archspec.frontend.zoo import resolve_spec

    with pytest.raises(ArchspecError) as e:
        resolve_spec(spec)
    hint = e.value.diagnostics[0].hint or ""
    assert "no member" not in hint
    assert near is None or near in hint


def test_a_mistyped_family_member_in_a_spec_block_is_told_the_members():
    """The same hint where a `spec` block's `path` names no member (`path: efficientnet_b9`
    got 'did you mean `efficientnet`?', which is no backbone without its --set)."""
    d = diagnose(
        "name: m\ninput: [224, 224, 3]\nblocks:\n  - {type: spec, path: efficientnet_b9}\n"
    )
    assert (d.code, d.path) == ("E505", ("blocks", 0, "path"))
    assert d.hint.startswith("`efficientnet_b9` is no member of the zoo family `efficientnet`")
    assert "`efficientnet_b7`" in d.hint


@pytest.mark.parametrize("key", ["typ", "Type", "tpye", "types"])
def test_a_misspelled_type_key_is_named_not_reported_missing(key):
    # it said "a block needs `type`" and listed every built-in type, with no word on the key
    d = diagnose(
        f"name: m\ninput: [8, 8, 3]\nblocks:\n  - {{{key}: conv, filters: 4, kernel: 3}}\n"
    )
    assert (d.code, d.path, d.line, d.col) == ("E201", ("blocks", 0, key), 4, 6)
    assert d.message == f"blocks[0].{key}: unknown key `{key}` in a block"
    assert d.hint == "did you mean `type`?"


@pytest.mark.parametrize("pair", ["kind: conv", "style: v1", "typ: 3"])
def test_a_block_without_type_or_a_near_key_still_needs_type(pair):
    # `style` is no misspelled `type` (a review found it named so), nor a name without text
    d = diagnose(f"name: m\ninput: [8, 8, 3]\nblocks:\n  - {{{pair}, filters: 4, kernel: 3}}\n")
    assert (d.code, d.path) == ("E203", ("blocks", 0))


@pytest.mark.parametrize(("word", "family", "item"), [
    ("efficientnet_b3", "efficientnet", "variant=b3"),  # the zoo's spelling
    ("efficientnetb3", "efficientnet", "variant=b3"),  # Keras's
    ("efficientnetv2-s", "efficientnet_v2", "variant=s"),
    ("resnet50v2", "resnet_v2", "depth=50"),  # the value inside the family's name
    ("DenseNet201", "densenet", "depth=201"),
    ("convnext_tiny", "convnext", "variant=tiny"),
])  # fmt: skip
def test_a_family_members_name_is_a_spec_and_an_include_path(word, family, item):
    """A member's name is a SPEC and an included spec's path: its family and the --set that
    picks it (it was E001, "did you mean `efficientnet` or `efficientnet_v2`?")."""
    from archspec.frontend.zoo import files, resolve_spec

    assert resolve_spec(word) == (files()[family], item)
    # as an included spec's path too: the family with that set (it was E505 with a hint)
    head = f"name: m\ninput: [224, 224, 3]\nblocks:\n  - {{type: spec, path: {word}, any_size: true}}\n"
    included = archspec.analyze(archspec.load(text=head))
    assert included.params == archspec.analyze(family, sets=[item]).params


@pytest.mark.parametrize("path", ["efficientnet_b3.yaml", "./efficientnet_b3", "x/efficientnet_b3"])
def test_a_missing_file_named_as_a_family_member_gets_the_family_hint(path):
    from archspec.frontend.zoo import resolve_spec

    with pytest.raises(ArchspecError) as e:
        resolve_spec(path)
    assert e.value.diagnostics[0].hint == (
        "`efficientnet_b3` is a member of the zoo family `efficientnet`: give its name alone, "
        "`efficientnet_b3`, or `efficientnet --set variant=b3`"
    )


@pytest.mark.parametrize(("word", "start"), [
    ("efficientnet_b9", "`efficientnet_b9` is no member of the zoo family `efficientnet`;"),
    ("resnet19", "did you mean `resnet18`? `resnet19` is no member of the zoo family `resnet`;"),
    ("ResNet19", "did you mean `resnet18`? `ResNet19` is no member"),
    ("resnet_19", "did you mean `resnet18`? `resnet_19` is no member"),
])  # fmt: skip
def test_a_name_near_a_family_that_is_no_member_gets_the_members(word, start):
    """Not taken for a member; the hint lists the members (it was 'did you mean the zoo
    network `efficientnet` or `efficientnet_v2`?', which named none), the nearest first where
    one is nearest."""
    from archspec.frontend.zoo import resolve_spec

    with pytest.raises(ArchspecError) as e:
        resolve_spec(word)
    assert e.value.diagnostics[0].hint.startswith(start)


def test_a_number_missing_from_a_table_gets_no_near_number():
    # `resnet --set depth=15` suggested 152 (near as text, not as a depth)
    d = diagnose("name: m\nparams: {depth: 15, f: {18: 4, 152: 8}}\ninput: [8, 8, 3]\nblocks:\n"
                 "  - {type: conv, filters: '${f[depth]}', kernel: 3}\n")  # fmt: skip
    assert d.code == "E501" and d.hint is None


@pytest.mark.parametrize(("value", "hint"), [
    ("smal", "did you mean `small`?"),
    ("Small", "did you mean `small`?"),
    ("huge", None),  # nothing near: the keys, listed in the message, are the hint
])  # fmt: skip
def test_a_key_missing_from_a_table_gets_did_you_mean(value, hint):
    # `convnext --set variant=smal` listed the keys, with no word on the near one
    d = diagnose("name: m\nparams: {variant: " + value + ", width: {tiny: 4, small: 8}}\n"
                 "input: [8, 8, 3]\nblocks:\n"
                 "  - {type: conv, filters: '${width[variant]}', kernel: 3}\n")  # fmt: skip
    assert d.code == "E501" and "is not in the mapping; its keys: tiny, small" in d.message
    assert d.hint == hint


def test_a_set_of_no_param_lists_the_values_before_the_tables():
    # `convnext --set depth=50` listed "variant, table, prefix, mean, ..." as if all were settings
    with pytest.raises(ArchspecError) as e:
        archspec.load(ROOT / "specs" / "families" / "convnext.yaml", sets=["depth=50"])
    assert e.value.diagnostics[0].hint == (
        "its params: variant; tables and lists: table, prefix, mean, std, keras_params, "
        "published_macs"
    )


def test_a_merge_hint_after_a_failed_block_lists_the_blocks_written_before_it():
    # once blocks[1] failed, the walk bound no more names: the hint said "it can read: c1,
    # input", leaving out c2 and c3, which the add already names
    with pytest.raises(SpecError) as e:
        archspec.load(text="name: c\ninput: [32, 32, 3]\nblocks:\n"
                      "  - {type: conv, name: c1, filters: 16, kernel: 3}\n"
                      "  - {type: conv, name: c2, filters: 16, kernel: 3, inputs: [c1, input]}\n"
                      "  - {type: conv, name: c3, filters: 16, kernel: 3, inputs: c1}\n"
                      "  - {type: add, name: s, inputs: [c3]}\n")  # fmt: skip
    d = e.value.diagnostics[-1]
    assert d.hint == ("name two or more earlier blocks, e.g. `inputs: [c2, c3]`; it can read "
                      "(nearest first): c3, c2, c1, input")  # fmt: skip


@pytest.mark.parametrize(("spec", "path", "hint"), [
    ("name: my-model\ninput: [8, 8, 3]\n", ("name",), "write `my_model`"),
    ("name: m\ninput: 32x32x3\n", ("input",), "write a list: `[32, 32, 3]`"),
    ("name: m\ninput: '224 x 224 x 3'\n", ("input",), "write a list: `[224, 224, 3]`"),
    ("name: café-net\ninput: [8, 8, 3]\n", ("name",), None),  # `caf_net`: not a fix
])  # fmt: skip
def test_text_where_a_name_or_a_shape_was_meant_gets_the_written_form(spec, path, hint):
    d = diagnose(spec + "blocks:\n  - {type: flatten}\n")
    assert (d.code, d.path, d.hint) == ("E202", path, hint)


def test_an_empty_set_value_says_it_reads_as_null():
    # `--set width=`: "received null", with no word on why
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text="name: m\nparams: {width: 8}\ninput: [8, 8, 3]\n"
                                       "blocks:\n  - {type: conv, filters: '${width}', kernel: 3}\n",
                                       sets=["width="]))  # fmt: skip
    d = e.value.diagnostics[0]
    assert d.message.endswith("received null")
    assert d.hint == "--set width: an empty value reads as null: give one after `=`"


@pytest.mark.parametrize(("written", "shape"), [
    ("[32, 32, 3]", "[32, 32, 3]"),
    ("[null, null, 3]", "[null, null, 3]"),
    ("[a, b]", "[H, W, C]"),  # not a shape: no copy of it in the hint
    ("[" + ", ".join(["1"] * 500) + "]", "[H, W, C]"),  # nor of a long list
])  # fmt: skip
def test_one_shape_given_as_inputs_suggests_input(written, shape):
    d = diagnose(f"name: m\ninputs: {written}\nblocks:\n  - {{type: flatten}}\n")
    assert (d.code, d.path) == ("E202", ("inputs",))
    assert d.hint == (f"for one input, write `input: {shape}`; several inputs are named: "
                      f"`inputs: {{image: {shape}}}`")  # fmt: skip


@pytest.mark.parametrize(("block", "hint"), [
    ("{type: spec, spec: resnet50}", "did you mean `path`?"),  # `spec` was "allowed keys: ..."
    ("{type: conv, channels: 8, kernel: 3}", "did you mean `filters`?"),
])  # fmt: skip
def test_the_one_unknown_key_where_one_required_key_is_missing_is_taken_for_it(block, hint):
    d = diagnose(HEAD + f"  - {block}\n")  # and no E203 for the missing key
    assert (d.code, d.path[:2], d.hint) == ("E201", ("blocks", 0), hint)


@pytest.mark.parametrize("block", [
    "{type: conv, channels: 8, size: 3}",  # two missing, two unknown: no pairing guessed
    "{type: conv, channels: 8, width: 8, kernel: 3}",  # one missing, two unknown
    "{type: conv, filters: 8, comment: stem conv}",  # a value `kernel` does not take
])  # fmt: skip
def test_no_key_is_guessed_where_unknown_and_missing_keys_do_not_pair_up(block):
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=HEAD + f"  - {block}\n"))
    unknown = [d for d in e.value.diagnostics if d.code == "E201"]
    assert unknown and all(d.hint.startswith("allowed keys: ") for d in unknown)
    assert any(d.code == "E203" for d in e.value.diagnostics)


@pytest.mark.parametrize(("written", "hint"), [
    ("[[32, 32, 3], [32, 32, 1]]", "name each input: `inputs: {a: [32, 32, 3], b: [32, 32, 1]}`"),
    ("[[1], [2], [3], [4]]", "name each input: `inputs: {a: [1], b: [2], c: [3], ...}`"),
    ("[[32, 32, 3]]", "for one input, write `input: [32, 32, 3]`; several inputs are named: "
                      "`inputs: {image: [32, 32, 3]}`"),
    ("[{image: [32, 32, 3]}, {mask: [32, 32, 1]}]",
     "write the inputs as one mapping, without `- `: `inputs: {image: [32, 32, 3], mask: "
     "[32, 32, 1]}`"),
    ("[{image: 5}]", "write the inputs as one mapping, without `- `: `inputs: {image: [H, W, C]}`"),
])  # fmt: skip
def test_a_list_of_shapes_or_of_named_shapes_given_as_inputs_gets_the_mapping(written, hint):
    d = diagnose(f"name: m\ninputs: {written}\nblocks:\n  - {{type: flatten}}\n")
    assert (d.code, d.path, d.hint) == ("E202", ("inputs",), hint)


# -- errors lowering finds get the notes resolve gives its own ---------------------------------


def lowering_error(text: str, sets: tuple[str, ...] = (), tmp: Path | None = None) -> Diagnostic:
    with pytest.raises(SpecError) as e:
        if tmp is None:
            archspec.analyze(archspec.load(text=text, sets=sets))
        else:
            archspec.analyze(write(tmp, text, "outer.yaml"), sets=sets)
    (d,) = [d for d in e.value.diagnostics if d.severity == "error"]  # (the unused `define`)
    assert d.code == "E401", d
    return d


def test_a_lowering_error_far_from_the_set_value_notes_the_sets():
    # the E401 of an `add` whose input `a` a --set widened: the add reads no param, so no note
    # said the spec was checked with other values than its own
    spec = ("name: s\ninput: [8, 8, 3]\nparams: {w: 8, unused: 1}\nblocks:\n"
            '  - {type: conv, name: a, filters: "${w}", kernel: 3}\n'
            "  - {type: conv, name: b, filters: 16, kernel: 3, inputs: input}\n"
            "  - {type: add, inputs: [a, b]}\n")  # fmt: skip
    d = lowering_error(spec, ("w=4", "unused=2", "w=12"))
    assert [r.message for r in d.related] == [
        "the spec was checked with --set w=12 --set unused=2"  # the ones that count
    ]
    assert lowering_error(spec).related == ()  # without --set, no note


GROUPS = ("name: g\ninput: [8, 8, 8]\nparams: {g: 1}\ndefine:\n  unit:\n    params: {gg: 1}\n"
          "    blocks:\n      - {type: conv, filters: 12, kernel: 3, groups: \"${gg}\"}\n"
          "blocks:\n")  # fmt: skip


def test_a_lowering_error_notes_where_its_values_came_from(tmp_path: Path):
    # a review: E401 (groups that do not divide the channels) had none of these notes, and an
    # error in a value from `defaults` stood at a block line without that key
    d = lowering_error(GROUPS + '  - {type: conv, filters: 12, kernel: 3, groups: "${g}"}\n',
                       ("g=3",))  # fmt: skip
    assert d.path == ("blocks", 0, "groups") and [r.message for r in d.related] == [
        "`g` comes from --set g=3"
    ]
    d = lowering_error(GROUPS + "  - {type: unit, gg: 5}\n")
    assert d.path == ("define", "unit", "blocks", 0, "groups")
    assert [r.message for r in d.related] == ["`gg` is 5 (an integer), from blocks[0].gg",
                                              "in the block used at blocks[0]"]  # fmt: skip
    d = lowering_error(GROUPS.replace("params: {g: 1}", "defaults: {group_norm: {groups: 3}}")
                       + "  - {type: group_norm}\n")  # fmt: skip
    assert (d.path, d.line) == (("defaults", "group_norm", "groups"), 3)
    assert [r.message for r in d.related] == ["the default is used by blocks[0]"]
    # an included spec's `set` gave `filters`, which the message names beside `groups`
    write(tmp_path, "name: inner\ninput: [8, 8, 8]\nparams: {width: 8}\nblocks:\n"
          '  - {type: conv, filters: "${width}", kernel: 3, groups: 2}\n', "inner.yaml")  # fmt: skip
    d = lowering_error("name: o\ninput: [8, 8, 8]\nblocks:\n"
                       "  - {type: spec, path: inner.yaml, set: {width: 15}}\n", tmp=tmp_path)  # fmt: skip
    assert "15 output channels (`filters`)" in d.message
    assert [r.message for r in d.related] == ["`width` comes from blocks[0].set.width",
                                              "in the spec included by blocks[0]"]  # fmt: skip
    # a name both keys read is noted once (a review saw it twice)
    d = lowering_error(GROUPS + '  - {type: conv, filters: "${g}", kernel: 3, groups: "${g // 5}"}\n',
                       ("g=16",))  # fmt: skip
    assert [r.message for r in d.related] == ["`g` comes from --set g=16"]


@pytest.mark.parametrize(("inputs", "key"), [
    ("input: [3, 224, 224]", ("input",)),
    ("inputs: {image: [1, 64, 64], mask: [64, 64, 1]}", ("inputs", "image")),
])  # fmt: skip
def test_a_channels_first_input_is_warned(inputs, key):
    """A walkthrough: `input: [3, 224, 224]` (PyTorch's layout) checked ok, 224 channels wide;
    an error came only where a size collapsed. W305 at the input, the model still built."""
    graph = archspec.analyze(archspec.load(
        text=f"name: m\n{inputs}\nblocks:\n  - {{type: conv, filters: 8, kernel: 3, inputs: "
        f"{key[-1]}}}\n"))  # fmt: skip
    (w,) = [w for w in graph.warnings if w.code == "W305"]  # (`mask`, unread: W301)
    assert (w.code, w.path, w.severity) == ("W305", key, "warning")
    c, h = (3, 224) if key == ("input",) else (1, 64)
    assert w.message == (f"{'.'.join(key)}: [{c}, {h}, {h}] is height {c}, width {h} and {h} "
                         "channels: it looks channels first")  # fmt: skip
    assert w.hint == (f"images are channels last, [H, W, C]; a {c}-channel image of {h} x {h} is "
                      f"[{h}, {h}, {c}]")  # fmt: skip


@pytest.mark.parametrize(("inputs", "hint"), [
    ("input: [1, 224, 224, 3]", "the batch size is left out: [224, 224, 3]"),
    ("inputs: {x: [null, 64, 64, 3]}", "the batch size is left out: [64, 64, 3]"),
    # an audit: PyTorch's NCHW was told [3, 224, 224], which W305 then warns about
    ("input: [1, 3, 224, 224]", "the batch size is left out, and images are channels last: "
     "[224, 224, 3]"),
])  # fmt: skip
def test_an_input_with_a_batch_size_is_told_it_is_left_out(inputs, hint):
    d = diagnose(f"name: m\n{inputs}\nblocks:\n  - {{type: flatten}}\n")
    assert (d.code, d.hint) == ("E204", hint)
    assert "None" not in d.message  # `received [null, 64, 64, 3]`, as YAML writes it


def test_a_channels_first_input_that_collapses_is_hinted_channels_last():
    """A walkthrough (a user from PyTorch): `input: [3, 32, 32]` failed at the second pool with
    "the height collapses to 0", and nothing said the input reads as 3 rows of 32 channels."""
    body = "  - {type: conv, filters: 16, kernel: 3, padding: same}\n  - {type: max_pool}\n" * 2
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text="name: m\ninput: [3, 32, 32]\nblocks:\n" + body))
    d, w = e.value.diagnostics  # and W305 at the input, as any channels-first input has
    assert (d.code, w.code, w.path) == ("E402", "W305", ("input",))
    assert d.hint == (
        "`input` [3, 32, 32] is height 3, width 32 and 32 channels: images are channels last, "
        "[H, W, C]; a 3-channel image of 32 x 32 is [32, 32, 3]. Else: use a larger input, "
        "fewer stride-2 steps, or padding: same"
    )
    # a review: inputs that are no square image with few channels keep the usual hint alone
    for shape in ("[8, 32, 3]", "[4, 4, 256]", "[1, 100, 40]", "[3, null, 32]"):
        d = diagnose(f"name: m\ninput: {shape}\nblocks:\n" + body * 4)
        assert d.code == "E402" and d.hint == (
            "use a larger input, fewer stride-2 steps, or padding: same"
        ), (shape, d.hint)


@pytest.mark.parametrize(
    ("value", "hint"),
    [  # a walkthrough: `letter` got the rule and no hint
        ("letter", "did you mean `letters`?"),
        ("numbers", "did you mean `number`?"),
        ("k", 'a counter goes in a template with `{name}`: `"{name}_{k}"`'),
        ("{name}{k}{i}", None),
    ],
)
def test_repeat_names_near_a_word_or_a_bare_counter_is_hinted(value, hint):
    d = diagnose(HEAD + f"  - {{type: conv, filters: 8, kernel: 3, repeat: 2, "
                 f"repeat_names: '{value}'}}\n")  # fmt: skip
    assert d.code == "E204" and d.path[-1] == "repeat_names" and d.hint == hint, d


def test_outputs_written_as_one_name_is_hinted_as_a_list():
    # a walkthrough: `outputs: dense_1` (as `inputs: dense_1` is allowed) said only "expected a
    # list"; so did an included spec's
    d = diagnose(HEAD + "  - {type: conv, filters: 8, kernel: 3}\noutputs: conv_1\n")
    assert d.code == "E202" and d.hint == "write a list: `outputs: [conv_1]`"
    d = diagnose(HEAD + "  - {type: spec, name: bb, path: resnet50, outputs: conv2_block1}\n")
    assert (
        d.path == ("blocks", 0, "outputs") and d.hint == "write a list: `outputs: [conv2_block1]`"
    )
    d = diagnose(HEAD + "  - {type: conv, filters: 8, kernel: 3}\noutputs: ''\n")
    assert d.hint is None  # a review: `outputs: []` is no list to write


@pytest.mark.parametrize(
    ("reads", "passes", "hint"),
    [  # a walkthrough: `input` with two inputs was "did you mean `input_2`?", and `input_1`
       # with one "did you mean `input`?", at the definition, where the use is to change
        ("input", "[p, a]", "the use at blocks[2] passes 2 inputs, which its blocks read as "
         "`input_1`, `input_2`"),
        ("input_3", "[p, a]", "the use at blocks[2] passes 2 inputs, which its blocks read as "
         "`input_1`, `input_2`"),
        ("input_1", "p", "the use at blocks[2] passes one input, which its blocks read as "
         "`input`; pass several there (`inputs: [a, b]`) to read `input_1`, `input_2`, ..."),
    ],
)  # fmt: skip
def test_a_definitions_input_names_follow_what_its_use_passes(reads, passes, hint):
    d = diagnose("name: u\ninput: [16, 16, 8]\ndefine:\n  up:\n    blocks:\n"
                 f"      - {{type: upsample, inputs: {reads}}}\n"
                 "      - {type: concat, inputs: [upsample_1, input]}\n"
                 "blocks:\n  - {type: conv, name: a, filters: 8, kernel: 3, padding: same}\n"
                 f"  - {{type: max_pool, name: p}}\n  - {{type: up, inputs: {passes}}}\n")  # fmt: skip
    assert d.code == "E301" and d.path == ("define", "up", "blocks", 0, "inputs"), d
    assert d.hint == hint


def test_a_nested_definitions_input_names_name_the_use_inside_the_outer_one():
    # a re-read: the hint named the outermost use (blocks[0]), not the one that passes them
    d = diagnose("name: u\ninput: [16, 16, 8]\ndefine:\n  inner:\n    blocks:\n"
                 "      - {type: conv, filters: 8, kernel: 1, inputs: input_2}\n"
                 "  outer:\n    blocks:\n      - {type: inner}\n"
                 "blocks:\n  - {type: outer}\n")  # fmt: skip
    assert d.code == "E301" and d.hint == (
        "the use at define.outer.blocks[0] passes one input, which its blocks read as `input`; "
        "pass several there (`inputs: [a, b]`) to read `input_1`, `input_2`, ..."
    )


def test_a_count_with_a_lower_case_suffix_is_hinted():
    # a walkthrough: `max_params: 1m` got the rule and no hint
    d = diagnose("name: b\ninput: [8]\nblocks:\n  - {type: dense, units: 4}\n"
                 "budget: {max_params: 2.5m}\n")  # fmt: skip
    assert d.path == ("budget", "max_params")
    assert d.hint == "write `2.5M`: the suffixes are K, M, G and T"


@pytest.mark.parametrize(
    ("blocks", "path"),
    [  # a fuzzer: each was an internal error (IndexError), where a conv's was already E303
        ("  - {type: unit, inputs: []}\n", ("blocks", 0, "inputs")),
        ('  - {type: conv, filters: "${in_channels}", kernel: 1, inputs: []}\n',
         ("blocks", 0, "inputs")),
        ("  - {type: outer}\n", ("define", "outer", "blocks", 0, "inputs")),
        ("  - {type: conv, filters: 4, kernel: 1, inputs: []}\n", ("blocks", 0, "inputs")),
        # a walkthrough: a merge block's stood at the block, a conv's at `[]`
        ("  - {type: add, inputs: []}\n", ("blocks", 0, "inputs")),
        ("  - {type: concat, inputs: [input]}\n", ("blocks", 0, "inputs")),
    ],
)  # fmt: skip
def test_an_empty_inputs_list_is_e303_at_inputs(blocks, path):
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text="name: t\ninput: [8, 8, 3]\ndefine:\n"
            "  unit:\n    blocks:\n      - {type: conv, name: c, filters: 4, kernel: 1}\n"
            "  outer:\n    blocks:\n      - {type: unit, name: i, inputs: []}\n"
            "blocks:\n" + blocks))  # fmt: skip
    (d,) = [d for d in e.value.diagnostics if d.severity == "error"]  # (W303: unused ones)
    assert d.code == "E303" and d.path == path, d
    if "type: conv" in blocks:  # it was "merge several inputs with an `add` ... first"
        assert d.hint.startswith("name the block"), d.hint


def test_the_defined_names_of_a_block_that_reads_its_shape_are_listed_once():
    # a fuzzer: "defined names: copy, in_shape, in_channels, in_shape, in_channels"
    d = diagnose(HEAD + '  - {type: conv, filters: 8, kernel: "${in_channels + nosuch}"}\n')
    assert d.code == "E502" and d.hint == "defined names: copy, in_shape, in_channels", d.hint


def test_defaults_for_spec_blocks_say_they_take_none():
    # a fuzzer: "unknown block type `spec`", did you mean `se`?
    d = diagnose(HEAD.replace("blocks:", "defaults: {spec: {any_size: true}}\nblocks:")
                 + "  - {type: conv, filters: 8, kernel: 3}\n")  # fmt: skip
    assert d.path == ("defaults", "spec") and d.message == (
        "defaults.spec: `spec` blocks take no defaults"
    )


def test_a_set_value_written_as_an_expression_is_noted_too():
    """A walkthrough: `--set 'n=${-1}'` lost the note `n comes from --set ...` that `--set n=-1`
    gets (the note compared the value read with the text given), and `--set 'n=${1 + 0.5}'`
    told the user to wrap the spec's `${n}` in int(...) where the fix is the `--set`."""
    text = ("name: z\ninput: [8]\nparams: {n: 10, m: 2}\nblocks:\n"
            '  - {type: dense, units: "${n}"}\n  - {type: dense, units: "${n * m}"}\n')  # fmt: skip
    for item in ("n=-1", "n=${-1}", "m=${-1}", "n=${1 + 0.5}"):
        with pytest.raises(SpecError) as e:
            archspec.analyze(archspec.load(text=text, sets=[item]))
        d = e.value.diagnostics[0]
        assert f"`{item[0]}` comes from --set {item}" in [r.message for r in d.related], (item, d)
        assert "int(" not in (d.hint or ""), (item, d.hint)


@pytest.mark.parametrize(
    ("top", "path", "col", "hint"),
    [  # a review: "params.2x: expected an identifier ..., received 3 (an integer)" at the value
        ("params: {2x: 3}\n", ("params", "2x"), 10, None),
        ("params: {my-p: 3}\n", ("params", "my-p"), 10, "write `my_p`"),
        ("define:\n  3d:\n    blocks: [{type: flatten}]\n", ("define", "3d"), 3, None),
    ],
)  # fmt: skip
def test_a_key_that_is_no_identifier_is_reported_as_the_key(top, path, col, hint):
    d = diagnose(HEAD.replace("blocks:\n", top + "blocks:\n") + "  - {type: flatten}\n")
    assert (d.code, d.path, d.line, d.col, d.hint) == ("E202", path, 4 if path[0] == "define"
                                                       else 3, col, hint)  # fmt: skip
    assert d.message == (f"{'.'.join(path)}: the key `{path[-1]}` is not an identifier "
                         "(letters, digits and _, not starting with a digit)")  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [  # a review: "expected a value >= 1 or a value >= 1.0", and "an integer or a value >= 1.0"
       # for 0.5, which an integer 0 would not fix either
        ("0", "expected a value >= 1, received 0 (an integer)"),
        ("0.5", "expected a value >= 1.0, received 0.5 (a number)"),
        ("2000", "expected a value <= 1024, received 2000 (an integer)"),
    ],
)  # fmt: skip
def test_an_int_or_float_range_says_its_bound_once(value, expected):
    d = diagnose(HEAD + f"  - {{type: mbconv, filters: 4, expansion: {value}}}\n")
    assert d.message == f"blocks[0].expansion: {expected}"


@pytest.mark.parametrize("block", [
    '{type: conv, filters: "${int(w)}", kernel: 1}',  # it said only "int() takes numbers"
    '{type: dropout, rate: "${w}"}',  # its hint said "(without quotes)" of a `${w}` the spec wrote
])  # fmt: skip
def test_a_param_yaml_read_as_text_is_hinted_where_it_is_written(block):
    d = diagnose(HEAD.replace("blocks:", "params: {w: 1e3}\nblocks:") + f"  - {block}\n")
    assert d.hint == (
        "`w` is the text `1e3`: YAML reads `1e3` as text; write `1.0e+3`, or "
        "`1000` where an integer is wanted"
    )
    assert [(r.message, r.line, r.col) for r in d.related] == [
        ("`w` is written at params.w", 3, 13)
    ]


@pytest.mark.parametrize(
    ("merge", "received"),
    [  # a walkthrough: "received (32, 32, 8), (32, 32, 16)" left the user to work out which
       # input of four gave which shape
        ("{type: add, inputs: [a, b]}", "add needs inputs of equal shapes; "
         "received `a` (32, 32, 8), `b` (32, 32, 16)"),
        ("{type: add, inputs: [a, f]}", "add needs inputs of equal shapes; "
         "received `a` (32, 32, 8), `f` (8192)"),
        ("{type: concat, inputs: [a, input, s, b]}", "concat needs inputs that are equal but "
         "for the concatenation axis; received `a` (32, 32, 8), `input` (32, 32, 3), "
         "`s` (16, 16, 8), `b` (32, 32, 16)"),
        ("{type: multiply, inputs: [a, b]}", "multiply needs inputs of equal shapes, or 1 "
         "where they differ; received `a` (32, 32, 8), `b` (32, 32, 16)"),
    ],
)  # fmt: skip
def test_a_merge_blocks_mismatch_names_each_input_with_its_shape(merge, received):
    d = diagnose(HEAD + "  - {type: conv, name: a, filters: 8, kernel: 3}\n"
                 "  - {type: conv, name: b, filters: 16, kernel: 3, inputs: input}\n"
                 "  - {type: conv, name: s, filters: 8, kernel: 3, strides: 2, inputs: input}\n"
                 "  - {type: flatten, name: f, inputs: a}\n"
                 f"  - {merge}\n")  # fmt: skip
    assert (d.code, d.path, d.line) == ("E401", ("blocks", 4), 8)
    assert d.message.split(": ", 1)[1] == received


@pytest.mark.parametrize(
    ("tail", "key", "hint"),
    [  # a walkthrough: `c_2` after `repeat_names: letters` had no hint at all
        ("  - {type: flatten, inputs: c_2}\n", ("blocks", 1, "inputs"), "copy 2 is `cb`"),
        ("  - {type: flatten, inputs: c_9}\n", ("blocks", 1, "inputs"), "there are 3"),
        ("outputs: [c_1]\n", ("outputs", 0), "copy 1 is `ca`"),
    ],
)  # fmt: skip
def test_a_copy_read_by_number_after_letters_names_the_copies(tail, key, hint):
    d = diagnose(HEAD + "  - {type: conv, name: c, filters: 8, kernel: 3, repeat: 3, "
                 "repeat_names: letters}\n" + tail)  # fmt: skip
    assert (d.code, d.path) == ("E301", key)
    assert d.hint == f"the copies of `c` are named `ca`, `cb`, `cc` (its `repeat_names`): {hint}"


@pytest.mark.parametrize(("repeat", "names", "hint"), [
    # a review: "there are 1", and `c2`, a copy too, unnamed
    (1, "letters", "the copies of `c` are named `ca` (its `repeat_names`): there is one"),
    (3, '"{name}{i}"', "the copies of `c` are named `c0`, `c1`, `c2` (its `repeat_names`): "
     "copy 2 is `c1`; `c2` is copy 3"),
    # a walkthrough: no copies at all got no hint
    (0, "letters", "`c` has `repeat: 0`: it makes no copies, and `c` passes on its input"),
    (0, "number", "`c` has `repeat: 0`: it makes no copies, and `c` passes on its input"),
])  # fmt: skip
def test_a_copy_read_by_number_is_hinted_for_each_naming(repeat, names, hint):
    d = diagnose(HEAD + f"  - {{type: conv, name: c, filters: 8, kernel: 3, repeat: {repeat}, "
                 f"repeat_names: {names}}}\n  - {{type: flatten, inputs: c_2}}\n")  # fmt: skip
    assert d.hint == hint


@pytest.mark.parametrize(("written", "meant"), [
    ("h_swish", "hard_swish"),  # a walkthrough: MobileNetV3's name got "did you mean `swish`?"
    ("H-Swish", "hard_swish"),
    ("hsigmoid", "hard_sigmoid"),
    ("identity", "linear"),
    ("sigmod", "sigmoid"),  # the others as before
])  # fmt: skip
def test_an_activation_by_another_librarys_name_is_hinted(written, meant):
    d = diagnose(HEAD + f"  - {{type: conv, filters: 8, kernel: 3, activation: {written}}}\n")
    assert (d.code, d.hint) == ("E204", f"did you mean `{meant}`?")


@pytest.mark.parametrize(("define", "blocks", "hint"), [
    # a walkthrough: a definition that read an outer block by its name got no hint
    ("", "  - {type: conv, name: enc2, filters: 8, kernel: 3}\n  - {type: up, inputs: enc2}\n",
     "`enc2` is what the use at blocks[1] passes in: read it here as `input`"),
    ("", "  - {type: conv, name: enc2, filters: 8, kernel: 3}\n"
     "  - {type: conv, name: other, filters: 8, kernel: 3}\n  - {type: up, inputs: other}\n",
     "`enc2` is outside this user-defined block, whose names are its own: pass it in `inputs` "
     "at blocks[2] to read it here"),
    # a review: the name an instance or a repeat gives its last block, and a use inside a
    # definition, which is where to pass it in (not the outermost use)
    ("  enc:\n    blocks: [{type: conv, name: a, filters: 8, kernel: 3}]\n",
     "  - {type: enc, name: enc2}\n  - {type: up, inputs: enc2}\n",
     "`enc2` is what the use at blocks[1] passes in: read it here as `input`"),
    ("", "  - {type: conv, name: enc2, filters: 8, kernel: 3, repeat: 2}\n"
     "  - {type: up, inputs: enc2}\n",
     "`enc2` is what the use at blocks[1] passes in: read it here as `input`"),
    ("  dec:\n    blocks:\n      - {type: conv, name: enc2, filters: 8, kernel: 3}\n"
     "      - {type: up, inputs: enc2}\n", "  - {type: dec}\n",
     "`enc2` is what the use at define.dec.blocks[1] passes in: read it here as `input`"),
    # a name nowhere: not that it is outside, but what the definition can read
    ("", "  - {type: up}\n", "it can read, nearest first: `reduce`, `input`"),
])  # fmt: skip
def test_a_definition_reading_an_outer_name_is_told_its_names_are_its_own(define, blocks, hint):
    d = diagnose(HEAD.replace("blocks:", "define:\n  up:\n    blocks:\n"
                 "      - {type: conv, name: reduce, filters: 8, kernel: 1}\n"
                 "      - {type: concat, inputs: [reduce, enc2]}\n" + define + "blocks:")
                 + blocks)  # fmt: skip
    assert (d.code, d.path[:2], d.path[-2:], d.hint) == (
        "E301",
        ("define", "up"),
        ("inputs", 1),
        hint,
    )


def test_a_merge_blocks_mismatch_names_its_inputs_as_written():
    # a review: the final names `s_b` and `c_2` were named, which the spec does not write
    d = diagnose(HEAD.replace("blocks:", "define:\n  u:\n    blocks: [{type: conv, name: a, "
                 "filters: 8, kernel: 3}, {type: conv, name: b, filters: 16, kernel: 3}]\nblocks:")
                 + "  - {type: u, name: s}\n"
                 "  - {type: conv, name: c, filters: 8, kernel: 3, repeat: 2, inputs: input}\n"
                 "  - {type: add, inputs: [s, c]}\n")  # fmt: skip
    assert d.message.endswith("received `s` (32, 32, 16), `c` (32, 32, 8)"), d.message
    # a walkthrough's U-Net: where a later block reads `in_channels`, the shapes are found while
    # resolving, and that path named none of the inputs
    d = diagnose(HEAD.replace("blocks:", "define:\n  up:\n    blocks:\n"
                 "      - {type: max_pool, name: p, inputs: input}\n"
                 "      - {type: concat, name: cat, inputs: [p, input]}\n"
                 "      - {type: conv, filters: '${in_channels}', kernel: 1}\nblocks:")
                 + "  - {type: up}\n")  # fmt: skip
    assert d.message.endswith("received `p` (16, 16, 3), `input` (32, 32, 3)"), d.message


def test_an_empty_inputs_list_with_several_model_inputs_is_not_told_to_leave_it_out():
    # a review: "or leave `inputs` out to read the block before", where there is none (E301)
    d = diagnose("name: m\ninputs: {a: [8, 8, 3], b: [8, 8, 3]}\nblocks:\n"
                 "  - {type: conv, filters: 8, kernel: 3, inputs: []}\n")  # fmt: skip
    assert (d.code, d.path, d.hint) == ("E303", ("blocks", 0, "inputs"), "name the block it reads")
    assert d.message == "blocks[0].inputs: a `conv` block reads one input, received 0"


STAGED = """\
name: m
input: [32, 32, 3]
define:
  stage:
    params: {}
    blocks:
      - {type: conv, name: a, filters: 8, kernel: 3}
      - {type: conv, name: b, filters: 8, kernel: 3, strides: 2}
blocks:
  - {type: stage, name: s1}
  - {type: stage, name: s2}
  - {type: global_avg_pool, inputs: READ}
"""


@pytest.mark.parametrize(("read", "hint"), [
    ("s1_a", "`s1_a` is the block `a` within `s1` (a `stage`): from outside, an instance reads "
     "only as its output (`s1`, after its last block)"),
    ("s1_b", "`s1_b` is the last block of `s1` (a `stage`): read it as `s1`"),
])  # fmt: skip
def test_a_block_within_an_instance_read_from_outside(read, hint):
    """A walkthrough's deep supervision read `s1_a` and was asked "did you mean `s1`?", another
    tensor, with no word that blocks within an instance are not readable from outside."""
    d = diagnose(STAGED.replace("READ", read))
    assert (d.code, d.path, d.hint) == ("E301", ("blocks", 2, "inputs"), hint)


@pytest.mark.parametrize(("spec", "hint"), [
    ("input: [None, None, 3]\nblocks:\n  - {type: conv, filters: 4, kernel: 3}\n",
     "an unknown size is `null`; YAML reads `None` as text"),
    ("inputs: {a: [None, 8, 3]}\nblocks:\n  - {type: conv, filters: 4, kernel: 3}\n",
     "an unknown size is `null`; YAML reads `None` as text"),
    # (a review: `filters` has no default, and an activation of None meant `linear`)
    ("input: [8, 8, 3]\nblocks:\n  - {type: conv, filters: None, kernel: 3}\n",
     "YAML reads `None` as text (YAML's is `null`); a key left out takes its default, where "
     "it has one"),
    ("input: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 4, kernel: 3, activation: None}\n",
     "YAML reads `None` as text: for no activation, write `linear`"),
])  # fmt: skip
def test_pythons_none_is_told_apart_from_yamls_null(spec, hint):
    """A walkthrough wrote `None` for an unknown size, as in Keras's Input((None, None, 3)): it
    was told only "expected an integer, received 'None' (a string)"."""
    with pytest.raises(SpecError) as e:
        archspec.load(text="name: m\n" + spec)
    assert e.value.diagnostics[0].hint == hint


def test_a_spec_block_whose_first_block_makes_the_vector_names_no_tap(tmp_path):
    """A review: the tap named was the block before the spec block (`stem`), not one of it."""
    (tmp_path / "inner.yaml").write_text("name: inner\ninput: [8, 8, 4]\nblocks:\n"
                                         "  - {type: flatten}\n  - {type: dense, units: 4}\n")  # fmt: skip
    outer = tmp_path / "outer.yaml"
    outer.write_text("name: o\ninput: [8, 8, 3]\nblocks:\n"
                     "  - {type: conv, name: stem, filters: 4, kernel: 3}\n"
                     "  - {type: spec, name: bb, path: inner.yaml}\n"
                     "  - {type: conv, filters: 4, kernel: 3}\n")  # fmt: skip
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(outer))
    (d,) = e.value.diagnostics
    assert (d.code, d.hint) == ("E403", "`bb_flatten_1` (flatten) before it made a vector: "
                                "image layers go before it")  # fmt: skip


# -- a walkthrough porting torchvision's models: PyTorch's names ----------------------------


@pytest.mark.parametrize(("block", "says"), [
    # was "did you mean `global_avg_pool`?": AlexNet's (6, 6) pool then lost 36M params
    ("{type: AdaptiveAvgPool2d, output_size: [6, 6]}", "there is no adaptive pooling"),
    ("{type: adaptive_max_pool}", "`global_max_pool` is AdaptiveMaxPool2d(1)"),
    ("{type: channel_shuffle, groups: 2}", "no channel shuffle, split"),  # was the generic hint
    ("{type: Sequential}", "already applied in order"),  # was `activation: exponential`
    ("{type: Conv2dNormActivation}", "`conv` with `batch_norm: true`"),  # was group_norm
    ("{type: ConstantPad2d}", "`zero_pad` pads with zeros"),  # was conv_transpose
    ("{type: DropPath}", "stochastic depth is the identity at inference"),  # was dropout
    ("{type: LocalResponseNorm}", "no local response normalization"),
])  # fmt: skip
def test_a_pytorch_layer_archspec_has_not_is_told_what_to_write(block, says):
    d = diagnose(HEAD + f"  - {block}\n")
    assert d.code == "E205" and says in d.hint, d


@pytest.mark.parametrize(("block", "key", "hint"), [
    # `out_channels` was hinted only as the one unknown key; here it is one of three
    ("{type: conv, out_channels: 8, kernel_size: 3, bias: false}", "out_channels",
     "did you mean `filters`?"),
    ("{type: conv, out_channels: 8, kernel_size: 3, bias: false}", "bias",
     "did you mean `use_bias`?"),
    ("{type: conv, filters: 8, kernel: 3, in_channels: 3}", "in_channels",
     "the input's channels are inferred: leave `in_channels` out"),  # was the allowed keys
    ("{type: max_pool, kernel_size: 3}", "kernel_size", "did you mean `pool`?"),  # was nothing
    ("{type: max_pool, kernel: 3}", "kernel", "did you mean `pool`?"),
    ("{type: conv, filters: 8, kernel: 3, relu: true}", "relu",
     "write `activation: relu`"),  # was "did you mean `kernel`?"
    ("{type: dense, units: 4, inplace: true}", "inplace",
     "leave `inplace` out: Keras has no in-place layers"),
])  # fmt: skip
def test_a_pytorch_key_is_told_archspecs_name(block, key, hint):
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=HEAD + f"  - {block}\n"))
    (d,) = [d for d in e.value.diagnostics if d.path[-1] == key]
    assert (d.code, d.hint) == ("E201", hint), d


def test_ceil_mode_is_told_which_padding_gives_its_size():
    d = diagnose(HEAD + "  - {type: max_pool, pool: 3, strides: 2, ceil_mode: true}\n")
    assert d.path[-1] == "ceil_mode" and "`same` on an even size, `valid` on an odd one" in d.hint


def test_torchvisions_inception_keys_are_named_once_each():
    """Six unknown keys and six missing ones (twelve errors) were reported with no pairing."""
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=HEAD + "  - {type: inception, ch1x1: 64, "
            "ch3x3red: 96, ch3x3: 128, ch5x5red: 16, ch5x5: 32, pool_proj: 32}\n"))  # fmt: skip
    hints = {d.path[-1]: d.hint for d in e.value.diagnostics}
    assert hints == {
        "ch1x1": "did you mean `f1`?",
        "ch3x3red": "did you mean `f2_in`?",
        "ch3x3": "did you mean `f2_out`?",
        "ch5x5red": "did you mean `f3_in`?",
        "ch5x5": "did you mean `f3_out`?",
        "pool_proj": "did you mean `f4_out`?",
    }


def test_keras_input_shape_is_told_input():
    with pytest.raises(SpecError) as e:
        archspec.load(text="name: m\ninput_shape: [8, 8, 3]\nblocks:\n  - {type: flatten}\n")
    (d,) = [d for d in e.value.diagnostics if d.code == "E201"]
    assert d.hint == "did you mean `input`?"  # was `inputs`, which names several


@pytest.mark.parametrize("padding", ["1", "[1, 1]", "[[1, 1], [1, 1]]"])
def test_pytorchs_integer_padding_is_told_same_or_zero_pad(padding):
    d = diagnose(HEAD + f"  - {{type: conv, filters: 8, kernel: 3, padding: {padding}}}\n")
    assert d.path[-1] == "padding" and "`zero_pad` block before this one" in d.hint, d


def test_a_python_tuple_is_told_to_be_a_list():
    with pytest.raises(SpecError) as e:
        archspec.analyze(
            archspec.load(text=HEAD + "  - {type: conv, filters: 8, kernel: (3, 3)}\n")
        )
    hints = {d.hint for d in e.value.diagnostics}  # `(3` for kernel, and a key `3)`
    assert hints == {"YAML has no tuples: write a pair as a list, `[3, 3]`, not `(3, 3)`"}


def test_pytorchs_batch_norm_momentum_is_a_warning_where_it_is_written():
    """`momentum: 0.1` (PyTorch's default, Keras's 0.9) checked ok and built a model whose
    running statistics follow each batch."""
    spec = (HEAD.replace("blocks:", "defaults: {batch_norm: {momentum: 0.1}}\nblocks:")
            + "  - {type: conv, filters: 8, kernel: 3, batch_norm: true, bn_momentum: 0.03}\n"
              "  - {type: batch_norm}\n"
              "  - {type: conv, filters: 8, kernel: 3, batch_norm: true}\n"
              "  - {type: batch_norm, momentum: 0.99}\n")  # fmt: skip
    graph = archspec.analyze(archspec.load(text=spec))
    found = [(w.code, w.path, w.hint) for w in graph.warnings]
    assert found == [
        ("W306", ("blocks", 0, "bn_momentum"), "if this is PyTorch's momentum, write 0.97"),
        (
            "W306",
            ("defaults", "batch_norm", "momentum"),
            "if this is PyTorch's momentum, write 0.9",
        ),
    ]  # once for the two blocks the default reaches; none for 0.99


def test_w306_in_a_spec_and_one_it_includes_at_the_same_key_path(tmp_path):
    """A review: the included spec's W306 at `blocks[1].momentum` hid the including spec's at
    the same key path (the warning was given once per key path, whatever the file)."""
    write(tmp_path, "name: inner\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 4, "
          "kernel: 1}\n  - {type: batch_norm, momentum: 0.2}\n", "inner.yaml")  # fmt: skip
    outer = write(tmp_path, "name: outer\ninput: [8, 8, 3]\nblocks:\n  - {type: spec, "
                  "path: inner.yaml}\n  - {type: batch_norm, momentum: 0.1}\n", "outer.yaml")  # fmt: skip
    graph = archspec.analyze(outer)
    found = sorted((Path(w.file).name, w.path, w.hint) for w in graph.warnings if w.code == "W306")
    assert found == [
        ("inner.yaml", ("blocks", 1, "momentum"), "if this is PyTorch's momentum, write 0.8"),
        ("outer.yaml", ("blocks", 1, "momentum"), "if this is PyTorch's momentum, write 0.9"),
    ]


@pytest.mark.parametrize(("block", "hint"), [
    # a review: the tuple hint took any string that began with `(`, over a better hint
    ("{type: activation, activation: '(relu)'}", "did you mean `relu`?"),
    # and the PyTorch padding hint told a `zero_pad` to put a `zero_pad` before itself
    ("{type: zero_pad, padding: -1}", None),
])  # fmt: skip
def test_pytorch_hints_stay_where_they_apply(block, hint):
    d = diagnose(HEAD + f"  - {block}\n")
    assert d.hint == hint or (hint is None and "zero_pad` block before" not in (d.hint or "")), d


@pytest.mark.parametrize(("block", "key", "says"), [
    ("{type: transpose, filters: 4, kernel: 2}", "type", "`conv_transpose`"),
    ("{type: batch_norm, affine: false}", "affine", "`scale: false` and `center: false`"),
    ("{type: se, ratio: 0.25, sigmoid: true}", "sigmoid", "write `gate: sigmoid`"),
])  # fmt: skip
def test_pytorch_names_that_mean_something_else_here(block, key, says):
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=HEAD + f"  - {block}\n"))
    (d,) = [d for d in e.value.diagnostics if d.path[-1] == key]
    assert says in (d.hint or ""), d


@pytest.mark.parametrize("value", ["${1 if true else 2}", "${3 if 1 > 2 else null}", "${None}",
                                   "${False}", "${TRUE}", "${Null}"])  # fmt: skip
def test_true_false_and_null_in_an_expression_are_told_what_to_write(value):
    """A walkthrough wrote `${... else null}` (MobileNetV3's optional squeeze-excitation) and
    was told `null` is not defined, or that `None` is no number."""
    d = diagnose(HEAD + f'  - {{type: max_pool, pool: 2, strides: "{value}"}}\n')
    assert d.hint is not None and d.hint.startswith("an expression has no true, false or null"), d


def test_a_defaults_entry_no_block_takes_a_value_from_is_a_warning():
    """A walkthrough's `defaults.batch_norm` (PyTorch's epsilon) reached no batch norm and
    checked ok; `defaults.conv` does not reach the convs a `vgg` block makes either."""
    spec = HEAD.replace("blocks:", "defaults: {conv: {use_bias: false}, batch_norm: {epsilon: "
                        "1.0e-5}, dense: {use_bias: false}}\nblocks:")  # fmt: skip
    graph = archspec.analyze(archspec.load(text=spec + "  - {type: vgg, n_filters: 8, n_conv: "
                                           "2}\n  - {type: flatten}\n  - {type: dense, units: 2}\n"))  # fmt: skip
    found = [(w.code, w.path) for w in graph.warnings]
    assert found == [("W302", ("defaults", "conv")), ("W302", ("defaults", "batch_norm"))]
    # a batch norm that takes the epsilon: no warning about `defaults.batch_norm`
    graph = archspec.analyze(archspec.load(text=spec + "  - {type: vgg, n_filters: 8, n_conv: "
                                           "2, batch_norm: true}\n  - {type: conv, filters: 2, "
                                           "kernel: 1}\n  - {type: flatten}\n  - {type: dense, "
                                           "units: 2}\n"))  # fmt: skip
    assert graph.warnings == []


def test_pytorchs_concat_dim_on_images_is_a_warning():
    """A walkthrough's `axis: 1` (PyTorch's `dim=1`) joined two 28 x 28 maps into a 56 x 28
    one and checked ok; on vectors, axis 1 is the features and gets no warning."""
    spec = ("name: c\ninput: [28, 28, 64]\nblocks:\n  - {type: conv, name: a, filters: 64, "
            "kernel: 1}\n  - {type: conv, name: b, filters: 64, kernel: 1, inputs: input}\n"
            "  - {type: concat, inputs: [a, b], axis: 1}\n  - {type: global_avg_pool}\n"
            "  - {type: dense, units: 4}\n  - {type: dense, units: 4, name: d2, inputs: dense_1}\n"
            "  - {type: concat, inputs: [dense_1, d2], axis: 1}\n")  # fmt: skip
    graph = archspec.analyze(archspec.load(text=spec))
    assert [(w.code, w.path) for w in graph.warnings] == [("W307", ("blocks", 2, "axis"))]
    assert graph.output_shapes == {"concat_2": (8,)}  # (the warning changes nothing)


def test_a_defaults_key_no_block_takes_and_an_included_specs_defaults(tmp_path):
    """A review: `defaults.batch_norm.momentum` reached no `bottleneck` or `residual` (they
    have `bn_epsilon` only) and was silently dropped, since the entry's epsilon was taken; and
    an included spec's `defaults` were warned about because one `set` of it needed none."""
    spec = HEAD.replace("input: [32, 32, 3]", "input: [32, 32, 64]").replace(
        "blocks:", "defaults: {batch_norm: {epsilon: 1.0e-5, momentum: 0.9}}\nblocks:"
    )
    graph = archspec.analyze(archspec.load(text=spec + "  - {type: bottleneck, n_filters: 16}\n"
                                           "  - {type: residual, n_filters: 64, batch_norm: true}\n"))  # fmt: skip
    assert [(w.code, w.path) for w in graph.warnings] == [
        ("W302", ("defaults", "batch_norm", "momentum"))
    ]
    write(tmp_path, "name: inner\nparams: {bn: true}\ninput: [8, 8, 3]\ndefaults: {batch_norm: "
          "{epsilon: 1.0e-5}}\nblocks:\n  - {type: conv, filters: 4, kernel: 1, batch_norm: "
          '"${bn}"}\n', "inner.yaml")  # fmt: skip
    outer = write(tmp_path, "name: outer\ninput: [8, 8, 3]\nblocks:\n  - {type: spec, name: a, "
                  "path: inner.yaml}\n  - {type: spec, name: b, path: inner.yaml, set: {bn: false}, "
                  "inputs: input}\n  - {type: concat, inputs: [a, b]}\n", "outer.yaml")  # fmt: skip
    assert archspec.analyze(outer).warnings == []


def test_a_quoted_boolean_from_a_param_is_not_told_to_drop_quotes_at_the_key():
    spec = HEAD.replace("blocks:", 'params: {bn: "false"}\nblocks:')
    d = diagnose(spec + '  - {type: conv, filters: 4, kernel: 1, batch_norm: "${bn}"}\n')
    assert d.code == "E202" and "batch_norm: false" not in (d.hint or ""), d
    # but at the param, where the quotes are
    assert d.hint == ("`bn` is the text `false`: write `bn: false` without quotes for a boolean "
                      "(quoted, it is text)")  # fmt: skip
    assert [r.message for r in d.related] == ["`bn` is written at params.bn"]


def test_w307_inside_a_definition_names_the_use():
    spec = ("name: d\ninput: [8, 8, 4]\ndefine:\n  twin:\n    blocks:\n      - {type: conv, name: "
            "a, filters: 4, kernel: 1}\n      - {type: conv, name: b, filters: 4, kernel: 1, "
            "inputs: input}\n      - {type: concat, inputs: [a, b], axis: 1}\nblocks:\n"
            "  - {type: twin}\n")  # fmt: skip
    (w,) = archspec.analyze(archspec.load(text=spec)).warnings
    assert w.code == "W307" and [r.message for r in w.related] == ["in the block used at blocks[0]"]
