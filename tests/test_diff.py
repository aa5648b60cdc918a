"""`archspec diff`: VGG16 -> VGG19 shows the added convolutions and the published parameter
delta; a spec against itself shows no change; blocks are matched by name, then by position."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archspec import app as api
from archspec.render.diff import diff, format_markdown, format_text, to_json
from tests.conftest import ROOT, SPECS, run_cli, spec_id, write

VGG16 = ROOT / "specs/vgg16.yaml"
VGG19 = ROOT / "specs/vgg19.yaml"
#: REFERENCE.md: keras.applications VGG19 143,667,240 - VGG16 138,357,544
VGG_DELTA = 143_667_240 - 138_357_544


@pytest.fixture(scope="module")
def vgg_diff():
    return diff(api.analyze(VGG16), api.analyze(VGG19))


def test_vgg16_to_vgg19_delta(vgg_diff):
    data = to_json(vgg_diff)
    assert data["delta"]["params"] == VGG_DELTA == 5_309_696
    assert data["old"]["params"] == 138_357_544 and data["new"]["params"] == 143_667_240
    assert data["delta"]["non_trainable_params"] == 0
    assert data["changed"] is True


def test_vgg16_to_vgg19_shows_the_added_convolutions(vgg_diff):
    # VGG configuration D -> E: blocks 3, 4 and 5 get a fourth 3x3 conv (256, 512, 512 filters)
    added = [n for r in vgg_diff.blocks for n in r.notes if n.startswith("+ ")]
    assert added == [
        "+ block3_conv4: conv 3x3, 256 relu",
        "+ block4_conv4: conv 3x3, 512 relu",
        "+ block5_conv4: conv 3x3, 512 relu",
    ]
    changed = {r.name for r in vgg_diff.blocks if r.status == "changed"}
    assert changed == {"block3", "block4", "block5"}
    # blocks 1-2, flatten, fc1, fc2 and predictions are the same
    assert vgg_diff.counts == {"changed": 3, "added": 0, "removed": 0, "unchanged": 6}
    # a 3x3 conv C -> C with bias: 9*C*C + C params each
    by_name = {r.name: r for r in vgg_diff.blocks}
    for name, c in (("block3", 256), ("block4", 512), ("block5", 512)):
        old, new = by_name[name].old, by_name[name].new
        assert old is not None and new is not None
        assert new.params - old.params == 9 * c * c + c


def test_vgg_text_and_markdown(vgg_diff):
    text = format_text(vgg_diff)
    assert "vgg16 -> vgg19" in text
    assert "138,357,544 -> 143,667,240 (+5,309,696, +3.84%)" in text
    assert "+ block3_conv4: conv 3x3, 256 relu" in text
    md = format_markdown(vgg_diff)
    lines = md.splitlines()
    assert "params **+5,309,696, +3.84%**" in lines[0]
    header = "| | block | type | output shape | params | MACs | what changed |"
    table = lines[lines.index(header) :]
    rows = [ln for ln in table[2:] if ln.startswith("| ~")]
    assert len(rows) == 3 and all(row.count(" | ") == 6 for row in rows)
    assert "`+ block4_conv4: conv 3x3, 512 relu`" in rows[1]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_spec_against_itself_is_no_change(spec: Path):
    g = api.analyze(spec)
    d = diff(g, api.analyze(spec))
    assert not d.changed
    assert all(r.status == "unchanged" and not r.notes for r in d.blocks)
    assert len(d.blocks) == len(g.blocks)
    delta = to_json(d)["delta"]
    # MACs of an input of unknown size (examples/any_size.yaml) are unknown, and so is their delta
    assert delta.pop("macs") == (None if g.cost.macs is None else 0)
    assert set(delta.values()) == {0}
    assert "no change" in format_text(d) and "no architectural change" in format_markdown(d)


def test_added_removed_and_matched_by_position(tmp_path: Path):
    old = write(tmp_path, _spec(
        "{type: conv, name: stem, filters: 8, kernel: 3}",
        "{type: vgg, n_filters: 16, n_conv: 1}",
        "{type: max_pool, name: pool}",
        "{type: flatten}",
    ), "old.yaml")  # fmt: skip
    new = write(tmp_path, _spec(
        "{type: conv, name: stem, filters: 8, kernel: 3}",
        "{type: vgg, name: features, n_filters: 16, n_conv: 1}",
        "{type: dropout, name: drop, rate: 0.5}",
        "{type: flatten}",
        "{type: dense, name: head, units: 10}",
    ), "new.yaml")  # fmt: skip
    d = diff(api.analyze(old), api.analyze(new))
    status = [
        (r.status, r.old.name if r.old else None, r.new.name if r.new else None) for r in d.blocks
    ]
    assert status == [
        ("unchanged", "stem", "stem"),
        # vgg_1 -> features: same position, no name in common: a rename
        ("changed", "vgg_1", "features"),
        # pool (index 2) has no namesake; position 2 is drop, of another type: not a pair
        ("added", None, "drop"),
        ("removed", "pool", None),
        ("changed", "flatten_1", "flatten_1"),
        ("added", None, "head"),
    ]
    rows = {r.new.name: r for r in d.blocks if r.new}
    assert "renamed: vgg_1 -> features" in rows["features"].notes
    # layers are compared by their role in the block, not their full name
    assert not [n for n in rows["features"].notes if n[:1] in "+-~"]
    # a block that keeps its name shows a new type
    retyped = write(tmp_path, old.read_text().replace("type: max_pool", "type: avg_pool"),
                    "retyped.yaml")  # fmt: skip
    (pool,) = [r for r in diff(api.analyze(old), api.analyze(retyped)).blocks if r.old
               and r.old.name == "pool"]  # fmt: skip
    assert pool.status == "changed" and "type: max_pool -> avg_pool" in pool.notes[0]
    flat_old, flat_new = rows["flatten_1"].old, rows["flatten_1"].new
    assert flat_old is not None and flat_new is not None
    assert flat_old.shape == (2 * 2 * 16,)  # 8x8 -> vgg's pool 4x4 -> max_pool 2x2
    assert flat_new.shape == (4 * 4 * 16,)


def test_removed_blocks_stay_in_place(tmp_path: Path):
    old = write(tmp_path, _spec(
        "{type: conv, name: a, filters: 8, kernel: 3}",
        "{type: conv, name: b, filters: 8, kernel: 3}",
        "{type: conv, name: c, filters: 8, kernel: 3}",
    ), "old.yaml")  # fmt: skip
    new = write(tmp_path, _spec(
        "{type: conv, name: a, filters: 8, kernel: 3}",
        "{type: conv, name: c, filters: 8, kernel: 3}",
    ), "new.yaml")  # fmt: skip
    d = diff(api.analyze(old), api.analyze(new))
    assert [(r.status, r.name) for r in d.blocks] == [
        ("unchanged", "a"), ("removed", "b"), ("changed", "c"),
    ]  # fmt: skip
    assert d.counts == {"changed": 1, "added": 0, "removed": 1, "unchanged": 1}
    text = format_text(d)
    assert "-  b " in text and "~  c " in text


def _spec(*blocks: str) -> str:
    return "name: m\ninput: [8, 8, 3]\nblocks:\n" + "".join(f"  - {b}\n" for b in blocks)


def test_a_key_at_its_default_shows_the_default_value(tmp_path: Path):
    # a summary leaves defaults out: the change read `batch_norm: true -> (default)`
    bn = write(tmp_path, _spec("{type: conv, name: c, filters: 8, kernel: 3, batch_norm: true}"),
               "bn.yaml")  # fmt: skip
    plain = write(tmp_path, _spec("{type: conv, name: c, filters: 8, kernel: 3, "
                                  "batch_norm: false}"), "plain.yaml")  # fmt: skip
    (row,) = diff(api.analyze(bn), api.analyze(plain)).blocks
    assert "batch_norm: true -> false" in row.notes
    (row,) = diff(api.analyze(plain), api.analyze(bn)).blocks
    assert "batch_norm: false -> true" in row.notes
    pool = write(tmp_path, _spec("{type: max_pool, name: c, pool: 3}"), "pool.yaml")
    (row,) = diff(api.analyze(write(tmp_path, _spec("{type: max_pool, name: c}"), "p2.yaml")),
                  api.analyze(pool)).blocks  # fmt: skip
    assert "pool: 2 -> 3" in row.notes  # max_pool's default pool: 2
    strided = write(tmp_path, _spec("{type: max_pool, name: c, strides: 1}"), "p3.yaml")
    (row,) = diff(api.analyze(strided), api.analyze(pool)).blocks
    assert "strides: 1 -> null" in row.notes  # the spec's word, not Python's None


# ---------------------------------------------------------------- the command line


def test_cli_formats():
    text = run_cli("diff", str(VGG16), str(VGG19))
    assert text.returncode == 0, text.stderr
    assert "+5,309,696" in text.stdout
    js = run_cli("diff", str(VGG16), str(VGG19), "--format", "json")
    assert json.loads(js.stdout)["delta"]["params"] == VGG_DELTA
    md = run_cli("diff", str(VGG16), str(VGG16), "--format", "markdown")
    assert md.stdout.startswith("**archspec diff** `vgg16`: no architectural change")


def test_cli_set_applies_to_both_sides(tmp_path: Path):
    with_param = write(tmp_path, "name: p\ninput: [8, 8, 3]\nparams: {width: 8}\n"
                       "blocks:\n  - {type: conv, filters: 8, kernel: 3}\n", "p.yaml")  # fmt: skip
    plain = write(tmp_path, _spec("{type: conv, filters: 8, kernel: 3}"), "q.yaml")
    ok = run_cli("diff", str(with_param), str(with_param), "--set", "width=16")
    assert ok.returncode == 0, ok.stderr
    # the new side has no `width`: --set reached it too
    r = run_cli("diff", str(with_param), str(plain), "--set", "width=16")
    assert r.returncode == 2 and "E503" in r.stderr and "width" in r.stderr


def test_two_members_of_a_family_are_named_by_their_sets():
    from archspec import app as api

    family = str(ROOT / "specs" / "families" / "efficientnet.yaml")
    text = api.diff(family, family, old_sets=["variant=b0"], new_sets=["variant=b1"])
    assert text.splitlines()[0] == "efficientnet_b0 variant=b0 -> efficientnet_b1 variant=b1"
    md = api.diff(family, family, "markdown", old_sets=["variant=b0"], new_sets=["variant=b1"])
    assert "`efficientnet_b0 variant=b0` → `efficientnet_b1 variant=b1`" in md
    # shared --set values name both sides too; a name set again shows the value used
    text = api.diff(family, family, sets=["variant=b1"], new_sets=["variant=b2"])
    assert text.splitlines()[0] == "efficientnet_b1 variant=b1 -> efficientnet_b2 variant=b2"
    text = api.diff(family, family, sets=["variant=b1"])
    assert text.startswith("efficientnet_b1 variant=b1: no change (7,856,239 params")
    # JSON: the name is the model's, the values beside it
    out = json.loads(api.diff(family, family, "json", ["variant=b1"], new_sets=["variant=b2"]))
    assert (out["old"]["name"], out["old"]["sets"]) == ("efficientnet_b1", ["variant=b1"])
    assert (out["new"]["name"], out["new"]["sets"]) == ("efficientnet_b2", ["variant=b2"])


def test_an_error_on_one_side_says_which_and_names_its_option():
    family = str(ROOT / "specs" / "families" / "efficientnet.yaml")
    r = run_cli("diff", family, family, "--old-set", "varient=b0", "--new-set", "variant=b1")
    assert r.returncode == 2
    assert "error[E503]: --old-set varient: the spec has no param `varient`" in r.stderr
    assert f"note: in OLD ({family} --old-set varient=b0)" in r.stderr
    r = run_cli("diff", family, family, "--set", "variant=b3", "--new-set", "variant=b10")
    assert r.returncode == 1 and "key 'b10' (a string) is not in the mapping" in r.stderr
    assert "note: `variant` comes from --new-set variant=b10" in r.stderr
    assert f"note: in NEW ({family} --set variant=b3 --new-set variant=b10)" in r.stderr
    # a name in both --set and --old-set: the bad item says which option it came from
    r = run_cli("diff", family, family, "--set", "variant=[", "--old-set", "variant=b1")
    assert "error[E503]: --set variant=[: YAML syntax error" in r.stderr
    r = run_cli("diff", family, family, "--old-set", "variant=[", "--set", "variant=b1")
    assert "error[E503]: --old-set variant=[: YAML syntax error" in r.stderr
    # a name in both, the side's value bad when read by its params: the side's (it comes last)
    r = run_cli("diff", family, family, "--set", "variant=b1", "--new-set", "variant=${1/0}")
    assert "error[E503]: --new-set variant: in `${1/0}`: division by zero" in r.stderr
    r = run_cli("diff", family, family, "--set", "variant=b10")  # shared: --set, the first side
    assert "note: `variant` comes from --set variant=b10" in r.stderr and "in OLD" in r.stderr


def test_cli_bad_format_and_broken_spec(tmp_path: Path):
    r = run_cli("diff", str(VGG16), str(VGG19), "--format", "html")
    assert r.returncode == 2
    assert "error[E003]: --format must be one of text, json, markdown; received 'html'" in r.stderr
    broken = write(tmp_path, _spec("{type: conv, filters: 8}"))
    r = run_cli("diff", str(VGG16), str(broken))
    assert r.returncode == 1 and "needs `kernel`" in r.stderr and "Traceback" not in r.stderr


def test_both_sides_errors_are_reported(tmp_path: Path):
    # only OLD's were: a second run then showed NEW's
    old = write(tmp_path, _spec("{type: conv, filters: 8}"), "old.yaml")
    new = write(tmp_path, _spec("{type: conv, kernal: 3, filters: 8}"), "new.yaml")
    r = run_cli("diff", str(old), str(new))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.index("needs `kernel`") < r.stderr.index("unknown key `kernal`")
    assert "note: in OLD" in r.stderr and "note: in NEW" in r.stderr
    r = run_cli("diff", str(old), str(tmp_path / "nowhere.yaml"))  # a usage error: exit 2
    assert r.returncode == 2 and "needs `kernel`" in r.stderr and "no such file" in r.stderr


def test_diff_never_imports_tensorflow():
    code = (
        "import sys\n"
        "from archspec.cli import app\n"
        f"app(['diff', {str(VGG16)!r}, {str(VGG19)!r}, '--format', 'json'], standalone_mode=False)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_an_input_made_fixed_is_a_change(tmp_path: Path):
    """Fixing an input of unknown size changes the model's interface even where no block's
    figures move (a global pool first)."""
    text = "name: p\ninput: {shape}\nblocks:\n  - {{type: global_avg_pool}}\n  - {{type: dense, units: 2}}\n"
    free = api.analyze(api.load(text=text.format(shape="[null, null, 3]")))
    fixed = api.analyze(api.load(text=text.format(shape="[64, 64, 3]")))
    d = diff(free, fixed)
    assert d.changed and d.counts == {"changed": 0, "added": 0, "removed": 0, "unchanged": 2}
    assert "input shape    (None, None, None, 3) -> (None, 64, 64, 3)" in format_text(d)
    assert to_json(d)["new"]["input_shapes"] == [[64, 64, 3]]
    assert to_json(d)["old"]["input_shapes"] == [[None, None, 3]]
    assert to_json(d)["new"]["inputs"] == {"input": [64, 64, 3]}
    assert "| input shape | (None, None, None, 3) → (None, 64, 64, 3) |" in format_markdown(d)


def test_the_markdown_summary_writes_no_change_and_an_unknown_figure_alike():
    # a walkthrough: "params **+0**, MACs **0**" for a rename, and "MACs **?**" without the
    # figure that was known
    text = "name: p\ninput: {shape}\nblocks:\n  - {{type: conv, name: {name}, filters: 8, kernel: 3}}\n"
    a = api.analyze(api.load(text=text.format(shape="[32, 32, 3]", name="c")))
    renamed = api.analyze(api.load(text=text.format(shape="[32, 32, 3]", name="d")))
    free = api.analyze(api.load(text=text.format(shape="[null, null, 3]", name="c")))
    # a CI review: `params **0**` read as "the model has 0 params"
    assert "params **unchanged**, MACs **unchanged**;" in format_markdown(diff(a, renamed))
    # MACs by hand: 32 x 32 positions x (3 x 3 x 3) x 8 filters = 221,184
    assert "params **unchanged**, MACs **221.18K -> ?**;" in format_markdown(diff(a, free))
    assert "MACs **? -> 221.18K**;" in format_markdown(diff(free, a))


def test_a_block_changed_by_an_earlier_one_says_its_input_shape_changed():
    # a walkthrough: widening `stem` marked the dense head changed, with no line saying why
    text = ("name: p\ninput: [8, 8, 3]\nblocks:\n  - {{type: conv, name: stem, filters: {f}, "
            "kernel: 3}}\n  - {{type: global_avg_pool, name: pool}}\n"
            "  - {{type: dense, name: head, units: 4}}\n")  # fmt: skip
    d = diff(api.analyze(api.load(text=text.format(f=16))),
             api.analyze(api.load(text=text.format(f=32))))  # fmt: skip
    rows = {r.name: r for r in d.blocks}
    assert rows["head"].notes == ("input shape: (None, 16) -> (None, 32)",)
    # the pool has no params: its output shape moved with its input's
    assert rows["pool"].status == "changed" and "input shape" in rows["pool"].notes[0]


def test_a_layer_that_only_took_another_name_is_one_rename():
    # a walkthrough: `batch_norm: true` on `stem` printed `- stem: conv 3x3, 16` and
    # `+ stem_conv: conv 3x3, 16`, one layer as a removal and an addition
    text = "name: p\ninput: [8, 8, 3]\nblocks:\n  - {{type: conv, name: stem, filters: 16, kernel: 3{bn}}}\n"
    d = diff(api.analyze(api.load(text=text.format(bn=""))),
             api.analyze(api.load(text=text.format(bn=", batch_norm: true"))))  # fmt: skip
    assert d.blocks[0].notes == (
        "batch_norm: false -> true",
        "~ stem -> stem_conv: conv 3x3, 16",
        "+ stem_bn: batch norm",
    )


def test_unrelated_networks_pair_no_blocks_of_different_types():
    """MobileNetV2 against ResNet-50 paired a conv with a zero_pad (and 21 more) by position."""
    d = diff(api.analyze(ROOT / "specs" / "mobilenet_v2.yaml"),
             api.analyze(ROOT / "specs" / "resnet50.yaml"))  # fmt: skip
    pairs = [r for r in d.blocks if r.old and r.new]
    assert pairs and all(r.old.type == r.new.type for r in pairs)


def test_blocks_named_after_their_model_match_across_members():
    """ConvNeXt names every block after the model (`convnext_tiny_stem`): tiny against small
    matched nothing by name and paired 25 blocks by position as renames (a walkthrough)."""
    d = diff(api.analyze("convnext_tiny"), api.analyze("convnext_small"))
    assert d.counts == {"changed": 1, "added": 18, "removed": 0, "unchanged": 29}
    added = [r.new.name for r in d.blocks if r.status == "added"]
    assert added == [f"convnext_small_stage_2_block_{k}" for k in range(9, 27)]
    (changed,) = [r for r in d.blocks if r.status == "changed"]
    assert changed.notes == ("inputs: convnext_tiny_stage_2_block_8 -> "
                             "convnext_small_stage_2_block_26",)  # fmt: skip
    assert not any("renamed" in n for r in d.blocks for n in r.notes)


def test_a_key_written_another_way_or_changing_nothing_is_no_change(tmp_path: Path):
    """A walkthrough: `kernel: 3` against `[3, 3]` (and `strides: [1, 1]` against the default)
    was "1 changed", and so was a `bn_epsilon` that changes nothing without batch norm, which
    `render` leaves out: a spec against its rendered self was not `no change`."""
    head = "name: x\ninput: [8, 8, 4]\nblocks:\n"
    old = write(tmp_path, head + "  - {type: conv, name: c, filters: 4, kernel: 3, "
                "bn_epsilon: 0.01}\n", "old.yaml")  # fmt: skip
    new = write(tmp_path, head + "  - {type: conv, name: c, filters: 4, kernel: [3, 3], "
                "strides: [1, 1]}\n", "new.yaml")  # fmt: skip
    d = diff(api.analyze(old), api.analyze(new))
    assert d.counts["unchanged"] == 1 and not d.changed
    other = write(tmp_path, head + "  - {type: conv, name: c, filters: 4, kernel: [3, 1]}\n",
                  "other.yaml")  # fmt: skip
    (row,) = diff(api.analyze(old), api.analyze(other)).blocks
    assert row.status == "changed" and row.notes[0] == "kernel: 3 -> [3,1]"


def test_blocks_named_after_the_model_still_match_by_their_own_names(tmp_path: Path):
    """A review of the ConvNeXt matching: renaming the model alone made `renamed: m_c1 ->
    m_c1` twice, and a real rename (`m_c1` -> `c1`, which changes Keras's layer names) was
    `no change`."""
    text = ("name: m\ninput: [8, 8, 4]\nblocks:\n  - {type: conv, name: m_c1, filters: 4, "
            "kernel: 1}\n  - {type: conv, name: m_c2, filters: 4, kernel: 1}\n")  # fmt: skip
    old = api.analyze(write(tmp_path, text, "a.yaml"))
    d = diff(old, api.analyze(write(tmp_path, text.replace("name: m\n", "name: n\n"), "b.yaml")))
    assert d.counts["unchanged"] == 2 and not any(r.notes for r in d.blocks)
    d = diff(old, api.analyze(write(tmp_path, text.replace("name: m_c1,", "name: c1,"), "c.yaml")))
    assert d.counts == {"changed": 1, "added": 0, "removed": 0, "unchanged": 1}
    assert d.blocks[0].notes == ("renamed: m_c1 -> c1",)


def test_a_spec_blocks_own_keys_are_compared(tmp_path: Path):
    """The last notes: `path: resnet50 -> resnet101` (or `depth` in `set`) appeared nowhere, only
    its effect on the included blocks; `any_size: true` on a backbone at its size was no change
    at all."""
    fpn = (ROOT / "specs/examples/fpn.yaml").read_text()
    old = write(tmp_path, fpn, "old.yaml")
    deeper = write(tmp_path, fpn.replace("path: resnet50,", "path: resnet101,"), "deeper.yaml")
    any_size = write(tmp_path, fpn.replace("path: resnet50,", "path: resnet50, any_size: true,"),
                     "any.yaml")  # fmt: skip
    d = diff(api.analyze(old), api.analyze(deeper))
    assert [(s.status, s.name, s.notes) for s in d.specs] == [
        ("changed", "backbone", ("path: resnet50 -> resnet101",))
    ]
    text = format_text(d).splitlines()
    assert text[1:4] == ["", "~  backbone (spec): path: resnet50 -> resnet101", ""]
    assert "- ~ `backbone` (spec): `path: resnet50 → resnet101`" in format_markdown(d)
    assert to_json(d)["specs"] == [
        {"status": "changed", "name": "backbone", "notes": ["path: resnet50 -> resnet101"]}
    ]
    d = diff(api.analyze(old), api.analyze(any_size))
    assert d.changed and [s.notes for s in d.specs] == [("any_size: false -> true",)]
    assert d.counts["changed"] == d.counts["added"] == 0  # its blocks are the same
    d = diff(api.analyze(old), api.analyze(old))
    assert not d.changed and [s.status for s in d.specs] == ["unchanged"]
    head = ("name: c\ninput: [224, 224, 3]\nblocks:\n  - {{type: spec, name: bb, path: resnet{set}}}\n"
            "  - {{type: dense, units: 3}}\n")  # fmt: skip
    d = diff(api.analyze(api.load(text=head.format(set=""))),
             api.analyze(api.load(text=head.format(set=", set: {depth: 101}"))))  # fmt: skip
    assert [s.notes for s in d.specs] == [("set: {} -> {depth: 101}",)]
    # a review: `set` was compared as text, so the same values in another order were a change
    two = head.format(set=", set: {depth: 101, eps: {101: 0.001}}")
    d = diff(api.analyze(api.load(text=two)),
             api.analyze(api.load(text=head.format(set=", set: {eps: {101: 0.001}, depth: 101}"))))  # fmt: skip
    assert not d.changed and [s.status for s in d.specs] == ["unchanged"]
    # a `set` that gives the included spec's own default (ResNet's depth 50) changes nothing,
    # nor one that names the member included (a review: efficientnet_b3 and variant b3)
    d = diff(api.analyze(api.load(text=head.format(set=""))),
             api.analyze(api.load(text=head.format(set=", set: {depth: 50}"))))  # fmt: skip
    assert not d.changed and [s.status for s in d.specs] == ["unchanged"]
    member = head.replace("path: resnet", "path: efficientnet_b3").replace("224", "300")
    d = diff(api.analyze(api.load(text=member.format(set=""))),
             api.analyze(api.load(text=member.format(set=", set: {variant: b3}"))))  # fmt: skip
    assert not d.changed and [s.status for s in d.specs] == ["unchanged"]


# ---------------------------------------------------------------- budget and expect


def _checked(tmp_path: Path, name: str, budget: str = "", expect: str = "") -> Path:
    """A conv 3x3, 3 -> 8 channels on 8x8: 3*3*3*8 + 8 = 224 params, 8*8*(3*3*3)*8 = 13,824
    MACs."""
    text = _spec("{type: conv, name: c, filters: 8, kernel: 3}")
    text += f"budget: {{{budget}}}\n" if budget else ""
    text += f"expect: {{{expect}}}\n" if expect else ""
    return write(tmp_path, text, name)


def _compared(old: Path, new: Path, format: str = "text") -> api.Compared:
    return api.compare(old, new, format)


def test_budget_and_expect_changes_are_shown(tmp_path: Path):
    """A CI review: raising budget.max_params 12M -> 50M, adding max_macs or changing
    expect.params read as "no change"."""
    old = _checked(tmp_path, "old.yaml", "max_params: 12M", "params: 224")
    new = _checked(tmp_path, "new.yaml", "max_params: 50M, max_macs: 1G", "params: 224")
    r = _compared(old, new)
    assert r.exit_code == 0 and not r.failures
    lines = r.text.splitlines()
    assert lines[:4] == ["m", "", "~  budget.max_params: 12M -> 50M",
                         "+  budget.max_macs: (none) -> 1G"]  # fmt: skip
    assert "no change" not in r.text
    md = _compared(old, new, "markdown").text
    assert "no architectural change" not in md
    assert "- ~ `budget.max_params: 12M → 50M`" in md
    assert "- + `budget.max_macs: (none) → 1G`" in md
    data = json.loads(_compared(old, new, "json").text)
    assert data["changed"] is True
    assert data["checks"] == [
        {"status": "changed", "key": "budget.max_params", "old": "12M", "new": "50M",
         "note": "budget.max_params: 12M -> 50M"},
        {"status": "added", "key": "budget.max_macs", "old": None, "new": "1G",
         "note": "budget.max_macs: (none) -> 1G"},
        {"status": "unchanged", "key": "expect.params", "old": 224, "new": 224,
         "note": "expect.params: 224 -> 224"},
    ]  # fmt: skip
    assert data["new"]["checks_ok"] is True and data["new"]["failures"] == []
    # removed, and an expect figure changed (224 -> 225 is wrong: NEW fails, below)
    gone = _checked(tmp_path, "gone.yaml", "", "params: 224, macs: 13824")
    text = _compared(old, gone).text
    assert "-  budget.max_params: 12M -> (none)" in text
    assert "+  expect.macs: (none) -> 13824" in text
    # a limit written another way is the same limit
    same = _checked(tmp_path, "same.yaml", "max_params: 12000000", "params: 224")
    assert _compared(old, same).text.startswith("m: no change (224 params, 13.82K MACs")


def test_a_spec_failing_its_budget_or_expect_is_said_and_new_exits_1(tmp_path: Path):
    """A CI review: a NEW that fails its own budget passed `diff` silently (exit 0) while
    `check` exits 1 on it."""
    ok = _checked(tmp_path, "ok.yaml", "max_params: 1K", "params: 224")
    over = _checked(tmp_path, "over.yaml", "max_params: 200", "params: 224")
    r = _compared(ok, over)
    assert r.exit_code == 1 and [d.code for d in r.failures] == ["E601"]
    message = "budget.max_params: params 224 exceed the budget of 200 by 24 (12.0%)"
    assert r.failures[0].message == message
    lines = r.text.splitlines()
    assert lines[2:4] == ["NEW fails its own budget or expect (exit 1):",
                          f"  error[E601]: {message}"]  # fmt: skip
    md = _compared(ok, over, "markdown").text
    assert "**NEW fails its own budget or expect** (exit 1):" in md
    assert f"- `E601` {message}" in md
    data = json.loads(_compared(ok, over, "json").text)
    assert data["new"]["checks_ok"] is False and data["old"]["checks_ok"] is True
    assert [f["code"] for f in data["new"]["failures"]] == ["E601"]
    # OLD failing is shown, and does not change the exit code
    r = _compared(over, ok)
    assert r.exit_code == 0 and "OLD fails its own budget or expect:" in r.text
    # the same failing spec on both sides: no change, and the failure still said
    wrong = _checked(tmp_path, "wrong.yaml", "", "params: 225")
    r = _compared(wrong, wrong)
    assert r.exit_code == 1 and r.text.startswith("m: no change")
    assert "error[E602]: expect.params: expected 225 params, the model has 224" in r.text
    # the command line: the diff on stdout, the failure on stderr as `check` shows it, exit 1
    cli = run_cli("diff", str(ok), str(over), "-f", "json")
    assert cli.returncode == 1 and json.loads(cli.stdout)["new"]["checks_ok"] is False
    assert "error[E601]: budget.max_params" in cli.stderr
    assert run_cli("check", str(over)).returncode == 1  # as check
    assert run_cli("diff", str(over), str(ok)).returncode == 0


# ---------------------------------------------------------------- renames


def _rows(d) -> list[tuple[str, str | None, str | None]]:
    return [(r.status, r.old.name if r.old else None, r.new.name if r.new else None)
            for r in d.blocks]  # fmt: skip


def test_a_rename_after_an_inserted_block_is_a_rename(tmp_path: Path):
    """A CI review: inserting a block earlier and renaming a later one gave `+ new` and `- old`
    (pairing was by index, and the index had moved)."""
    old = write(tmp_path, _spec(
        "{type: conv, name: stem, filters: 8, kernel: 3}",
        "{type: conv, name: mid, filters: 8, kernel: 3}",
        "{type: conv, name: tail, filters: 8, kernel: 1}",
        "{type: flatten, name: flat}",
    ), "old.yaml")  # fmt: skip
    new = write(tmp_path, _spec(
        "{type: conv, name: stem, filters: 8, kernel: 3}",
        "{type: dropout, name: drop, rate: 0.1}",
        "{type: conv, name: mid, filters: 8, kernel: 3}",
        "{type: conv, name: last, filters: 8, kernel: 1}",
        "{type: flatten, name: flat}",
    ), "new.yaml")  # fmt: skip
    d = diff(api.analyze(old), api.analyze(new))
    assert _rows(d) == [
        ("unchanged", "stem", "stem"),
        ("added", None, "drop"),
        ("changed", "mid", "mid"),  # its input: stem -> drop
        ("changed", "tail", "last"),
        ("unchanged", "flat", "flat"),  # its input renamed: the same input
    ]
    rows = {r.name: r for r in d.blocks}
    assert rows["last"].notes == ("renamed: tail -> last",)
    # renamed and changed too, between two blocks kept, and as the last block
    changed = write(tmp_path, new.read_text().replace("name: last, filters: 8", "name: last, "
                    "filters: 16"), "changed.yaml")  # fmt: skip
    d = diff(api.analyze(old), api.analyze(changed))
    assert ("changed", "tail", "last") in _rows(d)
    last = write(tmp_path, new.read_text().replace("name: flat}", "name: flat2}"), "last.yaml")
    d = diff(api.analyze(old), api.analyze(last))
    assert _rows(d)[-1] == ("changed", "flat", "flat2")


def test_two_unrelated_models_pair_no_blocks_as_renames(tmp_path: Path):
    """A CI review: two unrelated models (no block name in common) got renames such as
    `renamed: tb_c3 -> bb_a_expanded_conv_project`, blocks paired for their type and index."""
    old = write(tmp_path, _spec(
        "{type: conv, name: tb_c1, filters: 16, kernel: 3}",
        "{type: conv, name: tb_c2, filters: 32, kernel: 3}",
        "{type: conv, name: tb_c3, filters: 64, kernel: 3}",
        "{type: global_avg_pool, name: tb_pool}",
        "{type: dense, name: tb_head, units: 10}",
    ), "old.yaml")  # fmt: skip
    new = write(tmp_path, _spec(
        "{type: conv, name: bb_stem, filters: 8, kernel: 3}",
        "{type: conv, name: bb_a_expand, filters: 24, kernel: 1}",
        "{type: conv, name: bb_a_expanded_conv_project, filters: 12, kernel: 1}",
        "{type: global_avg_pool, name: bb_gap}",
        "{type: dense, name: bb_out, units: 5}",
    ), "new.yaml")  # fmt: skip
    d = diff(api.analyze(old), api.analyze(new))
    assert not any(n.startswith("renamed") for r in d.blocks for n in r.notes)
    assert d.counts == {"changed": 0, "added": 5, "removed": 5, "unchanged": 0}
    # a block the same in type and key parameters is one renamed, wherever the alignment has it
    same = write(tmp_path, old.read_text().replace("tb_", "xx_"), "same.yaml")
    d = diff(api.analyze(old), api.analyze(same))
    assert d.counts == {"changed": 5, "added": 0, "removed": 0, "unchanged": 0}
    assert [r.notes[0] for r in d.blocks] == [f"renamed: tb_{n} -> xx_{n}"
                                              for n in ("c1", "c2", "c3", "pool", "head")]  # fmt: skip


def test_a_large_gap_of_repeated_blocks_is_aligned_fast():
    """4,000 convs of three kinds a side, no name in common, took 105 s to align in full."""
    import time

    from archspec.render.diff import _align

    old = [("conv", f"filters={4 + k % 3}", "") for k in range(4000)]
    new = [("conv", f"filters={5 + k % 3}", "") for k in range(4000)]
    start = time.perf_counter()
    assert _align(old, new, (False, False)) == []  # repeated: added and removed, not renamed
    assert time.perf_counter() - start < 10
    # a small gap is aligned in full: the one block not repeated is found
    assert _align(old[:50], [("dense", "", ""), *old[:50]], (True, True))[:2] == [(0, 1), (1, 2)]


def test_markdown_fits_a_pull_request_comment(tmp_path: Path):
    """A CI review: a 4,000-block diff made 910 KB of Markdown (GitHub takes 65,536 characters
    in a comment), with the totals last."""
    blocks = [f"{{type: conv, name: c{k}, filters: {{f}}, kernel: 1}}" for k in range(2000)]
    text = "name: m\ninput: [8, 8, 3]\nblocks:\n" + "".join(f"  - {b}\n" for b in blocks)
    d = diff(api.analyze(api.load(text=text.replace("{f}", "4"))),
             api.analyze(api.load(text=text.replace("{f}", "5"))))  # fmt: skip
    assert d.counts["changed"] == 2000
    md = format_markdown(d)
    assert len(md) < 60_000
    lines = md.splitlines()
    rows = [ln for ln in lines if ln.startswith("| ~ |")]
    assert 0 < len(rows) <= 200
    assert lines[-1] == (f"... and {2000 - len(rows)} more rows (`archspec diff -f json` lists "
                         "every block).")  # fmt: skip
    # the totals before the rows: conv 1x1, 3 -> 4 then 4 -> 4 (1999 of them), bias each:
    # 16 + 1999 * 20 = 39,996 params; with 5 filters: 20 + 1999 * 30 = 59,990
    totals = lines.index("| total | before → after |")
    assert totals < lines.index(rows[0])
    assert "| params | 39,996 → 59,990 (+19,994, +49.99%) |" in lines
    # a row's notes are bounded too: 30 layers added to one block show 10 and a count
    many = (
        "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, name: v, n_filters: 4, n_conv: %d}\n"
    )
    d = diff(api.analyze(api.load(text=many % 1)), api.analyze(api.load(text=many % 31)))
    (row,) = [ln for ln in format_markdown(d).splitlines() if ln.startswith("| ~ |")]
    assert row.count("<br>") == 10 and row.endswith("... and 21 more |")


def test_an_invalid_spec_is_a_document_of_errors_in_json_and_markdown(tmp_path: Path):
    """A CI review: `diff -f json` with an invalid spec printed nothing on stdout (exit 1); a bot
    wants a JSON document of the errors."""
    broken = write(tmp_path, _spec("{type: conv, filters: 8}"), "broken.yaml")
    r = run_cli("diff", str(VGG16), str(broken), "-f", "json")
    assert r.returncode == 1 and "needs `kernel`" in r.stderr  # stderr as before
    out = json.loads(r.stdout)
    assert out["version"] == 1
    (error,) = out["errors"]
    assert (
        error["code"] == "E203" and error["message"] == "blocks[0]: a `conv` block needs `kernel`"
    )
    assert (error["file"], error["line"]) == (str(broken), 4)
    assert error["notes"][0]["message"] == f"in NEW ({broken})"
    md = run_cli("diff", str(VGG16), str(broken), "-f", "markdown")
    assert md.returncode == 1
    assert md.stdout.splitlines() == [
        "**archspec diff**: not compared; the specs have errors:",
        "",
        f"- `E203` `{broken}:4:5` blocks[0]: a `conv` block needs `kernel`; in NEW ({broken})",
    ]
    missing = run_cli("diff", str(VGG16), str(tmp_path / "nowhere.yaml"), "-f", "json")
    assert missing.returncode == 2 and json.loads(missing.stdout)["errors"][0]["code"] == "E001"
    text = run_cli("diff", str(VGG16), str(broken))  # text: stderr only, as before
    assert text.returncode == 1 and text.stdout == ""
    # a diff's JSON has the version too, and no errors
    out = json.loads(run_cli("diff", str(VGG16), str(VGG19), "-f", "json").stdout)
    assert out["version"] == 1 and out["errors"] == []
    # a review: a malformed --set was a JSON document with the error twice (once per side);
    # it is the command's mistake, alone on stderr, once, as `check` reports it
    for option in ("--set", "--old-set"):
        r = run_cli("diff", str(VGG16), str(VGG19), "-f", "json", option, "depth")
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.count("E503") == 1 and f"{option} 'depth': expected NAME=VALUE" in r.stderr


def test_json_shapes_are_keyed_by_name_as_check_has_them():
    """A sweep script read `output_shapes` from `check -f json` ({name: shape}) and from
    `diff -f json` ([[shape]]): `outputs` and `inputs` key them by name (the lists stay: JSON
    version 1 only gains fields); an order of outputs alone is no change."""
    two = str(ROOT / "specs" / "examples" / "two_heads.yaml")
    checked = json.loads(run_cli("check", two, "-f", "json").stdout)["files"][0]["totals"]
    diffed = json.loads(run_cli("diff", two, two, "-f", "json").stdout)["new"]
    assert diffed["outputs"] == checked["output_shapes"] and len(diffed["outputs"]) == 2
    assert diffed["output_shapes"] == list(checked["output_shapes"].values())
    assert list(diffed["inputs"]) == list(api.analyze(two).inputs)
