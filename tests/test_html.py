"""The interactive page (`archspec plot -o model.html`) without a browser: self-contained, the
test contract (`data-block` per block, `data-layer` per layer), totals, size."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import archspec
from archspec.ir.graph import nest
from archspec.render.dot import find_renderer
from archspec.render.html import plot_html, spec_lines, to_html
from tests.conftest import write
from tests.test_plot_groups import NESTED

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 5 * 1024 * 1024


def page(spec: str, *sets: str) -> tuple[archspec.Graph, str]:
    resolved = archspec.load(ROOT / spec, sets=list(sets))
    graph = archspec.analyze(resolved)
    return graph, to_html(graph, spec, spec_lines(resolved))


def attr_values(text: str, attr: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(rf'{attr}="([^"]*)"', text)]


@pytest.mark.parametrize(
    "spec", ["specs/seed/inception_two_modules.yaml", "specs/resnet50.yaml",
             "specs/examples/unet.yaml", "specs/examples/fpn.yaml"],
)  # fmt: skip
def test_contract_and_self_contained(spec: str) -> None:
    graph, text = page(spec)
    assert sorted(attr_values(text, "data-block")) == sorted(b.name for b in graph.blocks)
    assert sorted(attr_values(text, "data-layer")) == sorted(graph.nodes)
    lowered = text.lower()
    assert "http://" not in lowered
    assert "https://" not in lowered
    assert not re.search(r"<script[^>]*\bsrc\s*=", lowered)
    assert not re.search(r"<link[^>]*\bhref\s*=", lowered)
    assert not re.search(r"<img[^>]*\bsrc\s*=", lowered)
    assert "@import" not in lowered and "url(http" not in lowered


def test_totals_in_the_header() -> None:
    graph, text = page("specs/resnet50.yaml")
    header = text[text.index('<header id="top">') : text.index("</header>")]
    assert f"<b>{graph.params:,}</b> params" in header
    assert f"<b>{graph.cost.trainable:,}</b> trainable" in header
    for key in ("params", "trainable", "non-trainable", "macs", "outputs"):
        assert f'data-total="{key}"' in header
    assert "predictions 1000" in header


def test_a_share_of_unknown_macs_is_not_zero(tmp_path: Path) -> None:
    # a walkthrough: with an input of unknown size, a block read `? MACs` and `0.0% MACs`
    spec = write(tmp_path, "name: a\ninput: [null, null, 3]\nblocks:\n"
                 "  - {type: conv, filters: 8, kernel: 3}\n  - {type: global_avg_pool}\n"
                 "  - {type: dense, units: 4}\n")  # fmt: skip
    text = to_html(archspec.analyze(spec))
    shares = re.findall(r'<div class="pct">([^<]*)</div>', text)
    assert len(shares) == 3 and all(s.endswith(" · ? MACs") for s in shares), shares
    assert "0.0% MACs" not in text


def test_spec_lines_and_nesting() -> None:
    resolved = archspec.load(ROOT / "specs/examples/unet.yaml")
    graph = archspec.analyze(resolved)
    lines = spec_lines(resolved)
    assert set(lines) >= {b.name for b in graph.blocks}
    assert re.fullmatch(r".*unet\.yaml:\d+ \(used at .*unet\.yaml:\d+\)", lines["enc2_conv_conv1"])
    enc2 = next(c for c in nest(graph.blocks) if getattr(c, "name", "") == "enc2")
    assert [c.name for c in enc2.children] == ["enc2_pool", "enc2_conv"]  # type: ignore[union-attr]
    _, text = page("specs/examples/unet.yaml")
    assert 'data-group="enc2_conv" data-gtype="double_conv"' in text


class _Groups(HTMLParser):
    """The `data-group` boxes of a page, nested as the page nests them: (name, [inner ones])."""

    def __init__(self) -> None:
        super().__init__()
        self.top: list[tuple[str, list]] = []  # type: ignore[type-arg]
        self.stack = [self.top]
        self.opened: list[bool] = []  # per open div: whether it is a group box

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "div":
            name = dict(attrs).get("data-group")
            self.opened.append(name is not None)
            if name is not None:
                box: tuple[str, list] = (name, [])  # type: ignore[type-arg]
                self.stack[-1].append(box)
                self.stack.append(box[1])

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.opened.pop():
            self.stack.pop()


def test_three_levels_of_instances_nest_on_the_page(tmp_path: Path) -> None:
    """Each box holds the instances expanded inside it, at every depth (the IR records the
    chain of instances per block; the page once stopped at two levels)."""
    spec = write(tmp_path, NESTED)
    parser = _Groups()
    parser.feed(to_html(archspec.analyze(spec), str(spec), {}))
    assert parser.top == [("o", [("o_m", [("o_m_i1", []), ("o_m_i2", [])])])]


@pytest.mark.parametrize("spec,sets", [("specs/resnet152.yaml", ()),
                                       ("specs/families/efficientnet.yaml", ("variant=b7",))])  # fmt: skip
def test_size(spec: str, sets: tuple[str, ...], tmp_path: Path) -> None:
    resolved = archspec.load(ROOT / spec, sets=list(sets))
    graph = archspec.analyze(resolved)
    out = plot_html(graph, tmp_path / "model.html", lines=spec_lines(resolved))
    size = out.stat().st_size
    assert size < MAX_BYTES, size
    text = out.read_text()
    assert len(attr_values(text, "data-layer")) == len(graph.nodes)


def test_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    graph = archspec.analyze(archspec.load(ROOT / "specs/seed/residual_module.yaml"))
    with pytest.raises(archspec.ArchspecError):
        plot_html(graph, tmp_path / "nope" / "m.html")


def test_without_graphviz_layers_are_stacked() -> None:
    from archspec.render.html_layout import layouts

    graph = archspec.analyze(archspec.load(ROOT / "specs/seed/inception_two_modules.yaml"))
    lay = layouts(graph, set(), None)
    assert {n for b in lay.values() for n in b.nodes} == set(graph.nodes)


def test_a_one_layer_block_is_fed_from_its_top() -> None:
    # a walkthrough: an open one-layer block (`stem`, `head`) had no edge into its layer, and
    # the layer sat at the block's left, away from where the edge between blocks arrives
    from archspec.render.html_layout import layouts

    graph = archspec.analyze(archspec.load(ROOT / "specs/vgg16.yaml"))
    lay = layouts(graph, set(), find_renderer())["predictions"]
    ((_, (x, y, w, _h)),) = lay.nodes.items()
    (edge,) = lay.edges
    ends = [float(v) for v in re.findall(r"[-\d.]+", edge.d)]
    assert ends == pytest.approx([lay.width / 2, 0.0, lay.width / 2, y], abs=0.1)
    assert x + w / 2 == pytest.approx(lay.width / 2)


def test_every_shortcut_is_drawn_inside_its_open_block() -> None:
    # an identity shortcut enters its block's `add` from outside: a port at the top of the
    # block, dashed (the block's entry edge reaches only its first layers)
    graph, text = page("specs/resnet50.yaml")
    bodies = re.findall(r'data-block="([^"]+)".*?<svg[^>]*>(.*?)</svg>', text, re.S)
    dashed = {name: body.count('class="sc"') for name, body in bodies}
    residual = [b.name for b in graph.blocks if b.type == "bottleneck"]
    assert len(residual) == 16 and all(dashed[n] >= 1 for n in residual), dashed
    # projection blocks: port -> conv -> BN -> add on the shortcut (3); identity blocks:
    # port -> add (1)
    assert sorted(dashed[n] for n in residual) == [1] * 12 + [3] * 4


def test_every_input_of_every_layer_is_drawn_in_its_open_block() -> None:
    """The block's first layers had no edge into them: the edge between blocks ends at the open
    block's border, and nothing led on from there (conv2_block1's two 1x1 convs hung free)."""
    for spec in ("specs/resnet50.yaml", "specs/googlenet.yaml", "specs/families/densenet.yaml"):
        graph, text = page(spec)
        bodies = dict(re.findall(r'data-block="([^"]+)".*?<svg[^>]*>(.*?)</svg>', text, re.S))
        for b in graph.blocks:
            if len(b.nodes) > 1:  # one edge per input read, from inside or from outside
                reads = sum(len(graph.nodes[n].inputs) for n in b.nodes)
                assert bodies[b.name].count("<path") == reads, (spec, b.name)
