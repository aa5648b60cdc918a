"""The interactive page (`archspec plot -o model.html`) without a browser: self-contained, the
test contract (`data-block` per block, `data-layer` per layer), totals, size."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

import archspec
from archspec.render.html import plot_html, spec_lines, to_html, tree

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


def test_spec_lines_and_nesting() -> None:
    resolved = archspec.load(ROOT / "specs/examples/unet.yaml")
    graph = archspec.analyze(resolved)
    lines = spec_lines(resolved)
    assert set(lines) >= {b.name for b in graph.blocks}
    assert re.fullmatch(r".*unet\.yaml:\d+ \(used at .*unet\.yaml:\d+\)", lines["enc2_conv_conv1"])
    root = tree(graph)
    enc2 = next(c for c in root.children if getattr(c, "name", "") == "enc2")
    assert [c.name for c in enc2.children] == ["enc2_pool", "enc2_conv"]  # type: ignore[union-attr]
    _, text = page("specs/examples/unet.yaml")
    assert 'data-group="enc2_conv" data-gtype="double_conv"' in text


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
