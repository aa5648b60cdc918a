"""`archspec plot` with user-defined blocks, included specs and skips (issue 18): collapsed
instances are one box, nested instances get nested boxes, skips are dashed and labelled in both
views, and cluster ids are unique by construction."""

from __future__ import annotations

import re
from pathlib import Path

import pydot
import pytest

from archspec import app as api
from archspec.ir.graph import BlockInfo, Graph, Instance, nest
from archspec.render import dot
from archspec.render.dot_groups import Ids, shortcut_edges
from tests.conftest import ROOT, write
from tests.test_plot import _edges, png_size, svg_texts

UNET = ROOT / "specs/examples/unet.yaml"
FPN = ROOT / "specs/examples/fpn.yaml"

NESTED = """\
name: nest3
input: [16, 16, 3]
define:
  inner:
    params: {filters: null}
    blocks:
      - {type: conv, name: c, filters: "${filters}", kernel: 3}
      - {type: batch_norm, name: bn}
  middle:
    params: {filters: null}
    blocks:
      - {type: inner, name: i1, filters: "${filters}"}
      - {type: activation, name: act, activation: relu}
      - {type: inner, name: i2, filters: "${filters}"}
  outer:
    params: {filters: null}
    blocks:
      - {type: middle, name: m, filters: "${filters}"}
      - {type: max_pool, name: pool, pool: 2}
blocks:
  - {type: outer, name: o, filters: 8}
  - {type: global_avg_pool, name: gap}
"""

#: a block named `group_a` beside an instance `a`: `cluster_group_a` twice, before
CLASH = """\
name: clash
input: [16, 16, 3]
define:
  pair:
    params: {filters: null}
    blocks:
      - {type: conv, name: x, filters: "${filters}", kernel: 3}
      - {type: conv, name: y, filters: "${filters}", kernel: 3}
blocks:
  - {type: pair, name: a, filters: 8}
  - {type: conv, name: group_a, filters: 8, kernel: 3}
  - {type: global_avg_pool, name: gap}
"""

#: a residual and a skip written by hand: stem -> proj -> sum and stem -> cat are skips
SKIPS = """\
name: skips
input: [8, 8, 16]
blocks:
  - {type: conv, name: stem, filters: 16, kernel: 3}
  - {type: conv, name: c1, filters: 16, kernel: 3, activation: relu}
  - {type: conv, name: c2, filters: 16, kernel: 3}
  - {type: conv, name: proj, filters: 16, kernel: 1, inputs: stem}
  - {type: add, name: sum, inputs: [c2, proj]}
  - {type: concat, name: cat, inputs: [sum, stem]}
"""


def source(spec: Path, collapse: bool = False) -> str:
    return str(dot.to_pydot(api.analyze(spec), collapse=collapse).to_string())


def clusters(src: str) -> list[str]:
    return re.findall(r'subgraph "(cluster_[^"]*)"', src)


def inner_clusters(g: pydot.Graph, name: str) -> list[str]:
    """The clusters directly inside cluster `name` of a pydot graph (searched at any depth)."""
    for sub in g.get_subgraphs():
        if sub.get_name().strip('"') == name:
            return [s.get_name().strip('"') for s in sub.get_subgraphs()]
        found = inner_clusters(sub, name)
        if found:
            return found
    return []


def dashed(edges: dict[tuple[str, str], str]) -> set[tuple[str, str]]:
    return {e for e, attrs in edges.items() if "dashed" in attrs}


# ---------------------------------------------------------------- 1: --collapse collapses them


def test_collapse_draws_an_instance_as_one_box():
    graph = api.analyze(UNET)
    src = source(UNET, collapse=True)
    assert "cluster" not in src
    boxes = re.findall(r'^"([^"]+)" \[label=<', src, re.M)
    tops = ["enc1", "enc2", "enc3", "enc4", "bottleneck", "dec4", "dec3", "dec2", "dec1"]
    assert boxes == ["in:input", "out:0", *(f"group:{n}" for n in tops), "head"]
    assert not any(f'"{b.name}"' in src for b in graph.blocks if b.group)
    # its name, type, what it holds, params and MACs
    enc2 = re.search(r'^"group:enc2" \[label=<(.*?)>, (.*?)\];$', src, re.M | re.S)
    assert enc2 is not None
    params = sum(b.cost(graph).params for b in graph.blocks if b.group == ("enc2", "down"))
    assert params == 222_208
    assert "<B>enc2</B>" in enc2.group(1) and "down" in enc2.group(1)
    assert "3 blocks, 7 layers, 1 nested" in enc2.group(1)
    assert "222.21K params" in enc2.group(1) and "dashed" in enc2.group(2)


def test_collapse_draws_an_included_spec_as_one_box():
    src = source(FPN, collapse=True)
    label = re.search(r'^"group:backbone" \[label=<(.*)>', src, re.M)
    assert label is not None and "spec" in label.group(1) and "20 blocks" in label.group(1)
    edges = _edges(src)
    assert {("in:input", "group:backbone"), ("group:backbone", "lateral3"),
            ("group:backbone", "lateral4"), ("group:backbone", "lateral5")} <= set(edges)  # fmt: skip
    assert not any(n.startswith("backbone_") for e in edges for n in e)


# ---------------------------------------------------------------- 2: nested boxes


def test_nested_instance_gets_its_own_box_inside_the_outer_one():
    g = dot.to_pydot(api.analyze(UNET))
    assert inner_clusters(g, "cluster_group_enc2") == [
        "cluster_block_enc2_pool", "cluster_group_enc2_conv"]  # fmt: skip
    assert inner_clusters(g, "cluster_group_enc2_conv") == [
        "cluster_block_enc2_conv_conv1", "cluster_block_enc2_conv_conv2"]  # fmt: skip
    assert inner_clusters(g, "cluster_group_dec4")[-1] == "cluster_group_dec4_conv"
    assert "<B>enc2_conv</B>" in g.to_string()  # labelled with its name and type
    assert "double_conv" in g.to_string()


def test_three_levels_of_nesting(tmp_path: Path):
    spec = write(tmp_path, NESTED)
    units = nest(api.analyze(spec).blocks)

    def shape(u: Instance | BlockInfo) -> object:
        return (
            (u.name, u.type, [shape(c) for c in u.children]) if isinstance(u, Instance) else u.name
        )

    inner = [("o_m_i1", "inner", ["o_m_i1_c", "o_m_i1_bn"])]
    assert [shape(u) for u in units] == [
        ("o", "outer", [("o_m", "middle", [*inner, "o_m_act",
                                           ("o_m_i2", "inner", ["o_m_i2_c", "o_m_i2_bn"])]),
                        "o_pool"]),
        "gap",
    ]  # fmt: skip
    g = dot.to_pydot(api.analyze(spec))
    assert inner_clusters(g, "cluster_group_o") == ["cluster_group_o_m", "cluster_block_o_pool"]
    assert inner_clusters(g, "cluster_group_o_m") == [
        "cluster_group_o_m_i1", "cluster_block_o_m_act", "cluster_group_o_m_i2"]  # fmt: skip


# ---------------------------------------------------------------- 3: skips dashed when collapsed


def test_hand_written_skips_are_dashed_in_both_views(tmp_path: Path):
    spec = write(tmp_path, SKIPS)
    skips = {("stem", "proj"), ("proj", "sum"), ("stem", "cat")}
    for collapse in (False, True):
        edges = _edges(source(spec, collapse))
        assert dashed(edges) == skips, collapse
        for e in skips:
            assert "#607D8B" in edges[e]


def test_unet_skips_are_dashed_collapsed_and_the_main_path_is_not():
    edges = _edges(source(UNET, collapse=True))
    pairs = [("enc1", "dec1"), ("enc2", "dec2"), ("enc3", "dec3"), ("enc4", "dec4")]
    assert dashed(edges) == {(f"group:{a}", f"group:{b}") for a, b in pairs}
    assert "dashed" not in edges[("group:bottleneck", "group:dec4")]


def test_inception_branches_are_not_skips():
    src = source(ROOT / "specs/seed/inception_two_modules.yaml")
    assert not dashed(_edges(src))


#: two branches side by side at one size, one with an `se` gate (a global pool, multiplied back
#: onto the map), one with ASPP's image pooling (pooled to 1x1, upsampled back): none is a skip
SQUEEZED = """\
name: squeezed
input: [32, 32, 3]
blocks:
  - {type: conv, name: a, filters: 8, kernel: 3, inputs: input}
  - {type: conv, name: b, filters: 8, kernel: 3, inputs: input}
  - {type: se, name: b_se, ratio: 0.25}
  - {type: concat, name: cat, inputs: [a, b_se]}
  - {type: conv, name: r1, filters: 8, kernel: 1, inputs: cat}
  - {type: global_avg_pool, name: gp, keepdims: true, inputs: cat}
  - {type: conv, name: gp_conv, filters: 8, kernel: 1}
  - {type: upsample, name: gp_up, size: 32}
  - {type: concat, name: aspp, inputs: [r1, gp_up]}
"""

#: a U-Net on a 4x4 input: max pools down to a 1x1 bottleneck; each skip goes through a 1x1
#: conv of its own, so only the trip down and back up says sk2 and sk1 are skips
UNET_1X1 = """\
name: unet_1x1
input: [4, 4, 3]
blocks:
  - {type: conv, name: e1, filters: 8, kernel: 3, inputs: input}
  - {type: max_pool, name: p1, pool: 2}
  - {type: conv, name: e2, filters: 8, kernel: 3}
  - {type: max_pool, name: p2, pool: 2}
  - {type: conv, name: bottleneck, filters: 8, kernel: 1}
  - {type: upsample, name: u2, size: 2}
  - {type: conv, name: sk2, filters: 8, kernel: 1, inputs: e2}
  - {type: concat, name: c2, inputs: [u2, sk2]}
  - {type: upsample, name: u1, size: 2}
  - {type: conv, name: sk1, filters: 8, kernel: 1, inputs: e1}
  - {type: concat, name: c1, inputs: [u1, sk1]}
"""


def test_a_squeeze_branch_does_not_make_the_others_skips(tmp_path: Path):
    edges = _edges(source(write(tmp_path, SQUEEZED)))
    into = {e for e in edges if e[1] in ("cat", "aspp")}
    assert {("a", "cat"), ("b_se_excite", "cat"), ("r1", "aspp"), ("gp_up", "aspp")} <= into
    assert not dashed(edges)


def test_a_map_pooled_down_to_1x1_still_makes_skips(tmp_path: Path):
    edges = _edges(source(write(tmp_path, UNET_1X1)))
    assert dashed(edges) == {("e2", "sk2"), ("sk2", "c2"), ("e1", "sk1"), ("sk1", "c1")}


def test_the_concat_skip_test_walks_the_graph_once_per_concat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A concat of n inputs made one after another (each an ancestor of the next, as in a
    DenseNet): one walk up the graph for the concat, not one per pair of inputs (a chain of
    1,300 took 54 s to plot)."""
    n = 40
    names = [f"c{k}" for k in range(1, n + 1)]
    spec = "\n".join([
        "name: wide", "input: [8, 8, 3]", "blocks:",
        *(f"  - {{type: conv, name: {c}, filters: 4, kernel: 1}}" for c in names),
        f"  - {{type: concat, name: cat, inputs: [{', '.join(names)}]}}",
    ])  # fmt: skip
    graph = api.analyze(write(tmp_path, spec))
    walked: list[int] = []
    ancestors = Graph.ancestors

    def counted(self: Graph, *names: str) -> set[str]:
        found = ancestors(self, *names)
        walked.append(len(found))
        return found

    monkeypatch.setattr(Graph, "ancestors", counted)
    skips = shortcut_edges(graph)
    assert len(walked) == 1 and sum(walked) <= len(graph.nodes) + len(graph.inputs)
    # every input but the last was made into the last: all of them skips, as before
    assert {(c, "cat") for c in names[:-1]} <= skips and (names[-1], "cat") not in skips


# ---------------------------------------------------------------- 4: every edge between blocks


def test_every_edge_into_another_block_carries_its_shape():
    graph = api.analyze(UNET)
    edges = _edges(source(UNET))
    block = {n.name: n.block for n in graph.nodes.values()}
    crossing = {
        e: a for e, a in edges.items() if block.get(e[0]) != block.get(e[1]) and "invis" not in a
    }
    assert crossing and all("label=" in a for a in crossing.values())
    # the long skips
    assert 'label=" 568x568x64"' in edges[("enc1_conv2_relu", "dec1_crop")]
    assert 'label=" 64x64x512"' in edges[("enc4_conv_conv2_relu", "dec4_crop")]
    collapsed = _edges(source(UNET, collapse=True))
    assert all("label=" in a for a in collapsed.values())
    assert 'label=" 568x568x64"' in collapsed[("group:enc1", "group:dec1")]


# ---------------------------------------------------------------- 5: unique cluster ids


def test_cluster_ids_are_unique_by_construction(tmp_path: Path):
    spec = write(tmp_path, CLASH)
    src = source(spec)
    ids = clusters(src)
    assert len(ids) == len(set(ids))
    assert {"cluster_group_a", "cluster_block_group_a", "cluster_block_a_x"} <= set(ids)
    # both boxes are drawn: the instance's dashed box and the block's own
    svg = dot.render(dot.to_pydot(api.analyze(spec)), "svg").decode()
    for cid in ("cluster_group_a", "cluster_block_group_a"):
        assert svg.count(f"<title>{cid}</title>") == 1
    texts = svg_texts(svg)
    assert {"a", "group_a", "a_x", "a_y"} <= set(texts)
    inside = inner_clusters(dot.to_pydot(api.analyze(spec)), "cluster_group_a")
    assert inside == ["cluster_block_a_x", "cluster_block_a_y"]


def test_ids_count_on_a_repeat():
    ids = Ids()
    assert [ids("group", "a"), ids("block", "a"), ids("group", "a")] == [
        "cluster_group_a", "cluster_block_a", "cluster_group_a~2"]  # fmt: skip


# ---------------------------------------------------------------- pictures


def test_png_smoke(tmp_path: Path):
    clash = write(tmp_path, CLASH)
    nested = write(tmp_path, NESTED, "nested.yaml")
    for spec, collapse in [(clash, False), (nested, False), (UNET, True), (FPN, True)]:
        png = dot.plot(api.analyze(spec), tmp_path / "m.png", collapse=collapse).read_bytes()
        width, height = png_size(png)
        assert 200 < width < 4000 and height > width, (spec.name, width, height)


def test_collapse_of_a_model_that_is_one_instance_draws_what_it_holds():
    src = source(ROOT / "specs/families/convnext.yaml", collapse=True)
    boxes = re.findall(r'^"([^"]+)" \[label=<', src, re.M)
    assert "group:convnext_tiny" not in boxes  # not one box for the whole model
    assert "convnext_tiny_stage_0_block_0" in boxes and "convnext_tiny_head_dense" in boxes


def test_collapsed_taps_of_an_instance_name_their_blocks(tmp_path):
    # the backbone hands out three tensors: each edge says which block it comes from, by the
    # name it has in the box's spec (`backbone.conv3_block4`), not repeating the box's name:
    # side by side, two full names touched
    edges = _edges(source(FPN, collapse=True))
    label = edges[("group:backbone", "lateral3")]
    assert 'label=" conv3_block4\\n 28x28x512"' in label
    # a tap that is a stage (a user-defined block) inside: the stage's name, as the spec reads
    # it (`backbone.conv4`); it was the stage's last block, `conv4_block2`
    spec = write(tmp_path, "name: tap\ninput: [224, 224, 3]\nblocks:\n"
                 "  - {type: spec, name: backbone, path: resnet, set: {depth: 18}, "
                 "outputs: [conv4, conv5]}\n"
                 "  - {type: global_avg_pool, name: p4, inputs: backbone.conv4}\n"
                 "  - {type: global_avg_pool, name: p5, inputs: backbone.conv5}\n"
                 "  - {type: concat, inputs: [p4, p5]}\n")  # fmt: skip
    stages = _edges(source(spec, collapse=True))
    assert 'label=" conv4\\n 14x14x256"' in stages[("group:backbone", "p4")]
    assert 'label=" conv5\\n 7x7x512"' in stages[("group:backbone", "p5")]
    # the stages' blocks, as listed (the family's conv3_block4 was labelled `conv3`, its
    # stage); a block within an instance (MobileNetV2's block_13_expand_relu in `block_13`,
    # a walkthrough's U-Net encoder) by its own name, not the instance's
    spec = write(tmp_path, "name: tap\ninput: [224, 224, 3]\nblocks:\n"
                 "  - {type: spec, name: backbone, path: resnet, set: {depth: 18}, "
                 "outputs: [conv4_block2, conv5_block1]}\n"
                 "  - {type: global_avg_pool, name: p4, inputs: backbone.conv4_block2}\n"
                 "  - {type: global_avg_pool, name: p5, inputs: backbone.conv5_block1}\n"
                 "  - {type: concat, inputs: [p4, p5]}\n", "blocks.yaml")  # fmt: skip
    blocks = _edges(source(spec, collapse=True))
    assert 'label=" conv4_block2\\n 14x14x256"' in blocks[("group:backbone", "p4")]
    assert 'label=" conv5_block1\\n 7x7x512"' in blocks[("group:backbone", "p5")]
    spec = write(
        tmp_path,
        "name: tap\ninput: [224, 224, 3]\nblocks:\n"
        "  - {type: spec, name: enc, path: mobilenet_v2, "
        "outputs: [block_13_expand_relu, block_16]}\n"
        "  - {type: upsample, name: up, inputs: enc.block_16}\n"
        "  - {type: concat, inputs: [up, enc.block_13_expand_relu]}\n",
        "mn.yaml",
    )
    within = _edges(source(spec, collapse=True))
    assert 'label=" block_13_expand_relu\\n 14x14x576"' in within[("group:enc", "concat_1")]
    assert 'label=" block_16\\n 7x7x320"' in within[("group:enc", "up")]
    # an encoder stage of the U-Net hands out one tensor (to the next stage and its decoder)
    unet = _edges(source(UNET, collapse=True))
    assert 'label=" 568x568x64"' in unet[("group:enc1", "group:dec1")]
