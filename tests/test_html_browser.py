"""The interactive page in a real browser: headless Chromium (Debian's `chromium` package) driven
by playwright (pip), every network request refused. Skipped, with the reason, where either is
missing: `.ci/run` installs them (apt-get install chromium; pip install playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import archspec
from archspec.render.html import plot_html, spec_lines

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("ARCHSPEC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM} (apt-get install chromium, or set ARCHSPEC_CHROMIUM)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def open_page(browser: Any, spec: str, tmp_path: Path, *sets: str) -> tuple[Any, Any, list[str]]:
    resolved = archspec.load(ROOT / spec, sets=list(sets))
    graph = archspec.analyze(resolved)
    path = plot_html(graph, tmp_path / "model.html", lines=spec_lines(resolved))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            problems.append("network request: " + r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready]", timeout=10_000)
    return page, graph, problems


@pytest.mark.parametrize(
    "spec", ["specs/seed/inception_two_modules.yaml", "specs/resnet50.yaml",
             "specs/examples/unet.yaml"],
)  # fmt: skip
def test_page_in_chromium(browser: Any, spec: str, tmp_path: Path) -> None:
    page, graph, problems = open_page(browser, spec, tmp_path)
    blocks = page.eval_on_selector_all("[data-block]", "es => es.map(e => e.dataset.block)")
    layers = page.eval_on_selector_all("[data-layer]", "es => es.map(e => e.dataset.layer)")
    assert sorted(blocks) == sorted(b.name for b in graph.blocks)
    assert sorted(layers) == sorted(graph.nodes)
    first = graph.blocks[0]
    block = page.locator(f'[data-block="{first.name}"]')
    layer = page.locator(f'[data-layer="{first.nodes[0]}"]')
    assert block.is_visible() and not layer.is_visible()
    block.click()
    assert layer.is_visible()
    block.locator(".hd").click()  # clicking again closes it
    assert not layer.is_visible()
    page.screenshot(path=str(tmp_path / "collapsed.png"))

    target = graph.blocks[-1].nodes[-1]  # a layer of the last block, closed
    found = page.locator(f'[data-layer="{target}"]')
    # typed and Enter in one task, before the typing pause searched: Enter searches the new text
    # (it used to step through the hits of the text typed before)
    page.fill("#q", target[:2])
    page.wait_for_function("document.getElementById('hits').textContent !== ''")
    page.eval_on_selector(
        "#q",
        """(q, text) => { q.value = text; q.dispatchEvent(new Event("input"));
          q.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter"})); }""",
        target,
    )
    found.wait_for(state="visible", timeout=3000)
    assert "cur" in (found.get_attribute("class") or "")  # the exact layer name comes first
    total = int(page.inner_text("#hits").split(" / ")[1])
    if total > 1:  # Enter on the same text steps to the next hit, Shift+Enter back
        page.wait_for_timeout(300)  # the typing pause's search changes nothing
        assert page.inner_text("#hits") == f"1 / {total}"
        page.press("#q", "Enter")
        assert page.inner_text("#hits") == f"2 / {total}"
        assert "cur" not in (found.get_attribute("class") or "")
        page.press("#q", "Shift+Enter")
        assert "cur" in (found.get_attribute("class") or "")
    box = found.bounding_box()
    assert box is not None and 0 <= box["y"] <= 900 and 0 <= box["x"] <= 1280  # panned into view
    assert target in page.inner_text("#info")
    page.screenshot(path=str(tmp_path / "found.png"))
    assert (tmp_path / "found.png").stat().st_size > 0
    assert problems == []
    page.close()


def test_resnet152_shows_its_blocks(browser: Any, tmp_path: Path) -> None:
    # how fast (target 3 s) is measured in benchmarks/bench_html.py: a shared machine's timing
    # is no test
    page, graph, problems = open_page(browser, "specs/resnet152.yaml", tmp_path)
    assert page.locator(f'[data-block="{graph.blocks[0].name}"]').is_visible()
    assert problems == []
    page.close()


def test_efficientnet_b7_works(browser: Any, tmp_path: Path) -> None:
    page, graph, problems = open_page(
        browser, "specs/families/efficientnet.yaml", tmp_path, "variant=b7"
    )
    page.click('button[data-act="open"]')
    last = graph.blocks[-1].nodes[-1]
    assert page.locator(f'[data-layer="{last}"]').is_visible()
    assert problems == []
    page.close()


def test_buttons_fit_the_model_and_collapse_all_undoes_expand_all(browser: Any, tmp_path: Path
                                                                  ) -> None:  # fmt: skip
    page, graph, problems = open_page(browser, "specs/examples/unet.yaml", tmp_path)
    groups = "es => es.filter(e => e.classList.contains('open')).map(e => e.dataset.group)"
    at_first = page.eval_on_selector_all("[data-group]", groups)
    page.click('button[data-act="open"]')
    assert len(page.eval_on_selector_all("[data-group]", groups)) > len(at_first)
    page.click('button[data-act="close"]')
    assert page.eval_on_selector_all("[data-group]", groups) == at_first
    assert not page.locator(f'[data-layer="{graph.blocks[0].nodes[0]}"]').is_visible()
    page.click('button[data-act="open"]')
    page.click('button[data-act="fit"]')  # the whole (tall, expanded) model fits the viewport
    box = page.locator("#cv").bounding_box()
    view = page.locator("#vp").bounding_box()
    assert box is not None and view is not None
    assert box["height"] <= view["height"] + 1 and box["width"] <= view["width"] + 1
    assert problems == []
    page.close()


def test_hovering_a_block_moves_nothing(browser: Any, tmp_path: Path) -> None:
    """Its share of params and MACs shows on hover without changing the layout: it made the box
    14 px taller, which moved every block below while the edges stayed where they were drawn."""
    page, graph, problems = open_page(browser, "specs/resnet50.yaml", tmp_path)
    names = [b.name for b in graph.blocks[4:7]]

    def tops() -> list[float]:
        return [page.locator(f'[data-block="{n}"]').bounding_box()["y"] for n in names]

    before = tops()
    page.locator(f'[data-block="{names[0]}"] > .hd').hover()
    share = page.locator(f'[data-block="{names[0]}"] .pct')
    assert share.is_visible() and "% params" in share.inner_text()
    assert tops() == before
    page.screenshot(path=str(tmp_path / "hover.png"))
    assert problems == []
    page.close()


def test_edge_labels_stay_inside_their_open_block(browser: Any, tmp_path: Path) -> None:
    """A label was drawn from Graphviz's label centre rightwards, so a label beside a block's
    right-hand branch (conv2_block1's shortcut) crossed the block's border."""
    page, _, problems = open_page(browser, "specs/resnet50.yaml", tmp_path)
    page.click('button[data-act="open"]')
    outside = page.eval_on_selector_all(
        "[data-block]",
        """bs => bs.flatMap(b => {
        const r = b.getBoundingClientRect();
        return [...b.querySelectorAll(".body text")].filter(t => {
          const q = t.getBoundingClientRect();
          return q.left < r.left || q.right > r.right || q.top < r.top || q.bottom > r.bottom;
        }).map(t => b.dataset.block + ": " + t.textContent);
      })""",
    )
    labels = page.eval_on_selector_all(".body text", "ts => ts.length")
    assert labels > 20 and outside == []
    assert problems == []
    page.close()


def test_the_first_block_in_an_open_instance_box_is_fed(browser: Any, tmp_path: Path) -> None:
    """The edge into an open instance box (a ResNet stage) stopped at its dashed border: the
    stage's first block seemed to have no input, and its last block no way out."""
    page, _, problems = open_page(browser, "specs/families/resnet.yaml", tmp_path)
    ends = page.evaluate(
        """names => {
        const cv = document.getElementById("cv"), c = cv.getBoundingClientRect();
        const k = c.width / cv.offsetWidth;
        const paths = [...document.querySelectorAll("#ov path")].map(p => p.getAttribute("d"));
        return names.map(n => {
          const r = document.querySelector(`[data-block="${n}"]`).getBoundingClientRect();
          const x = ((r.left + r.right) / 2 - c.left) / k;
          const top = (r.top - c.top) / k, bottom = (r.bottom - c.top) / k;
          const near = (a, b) => Math.abs(a - b) < 1.5;
          const segs = paths.flatMap(d => [...d.matchAll(/M([-\\d.]+) ([-\\d.]+)V([-\\d.]+)/g)]
            .map(m => m.slice(1).map(Number)));
          return [n, segs.some(([sx, , ey]) => near(sx, x) && near(ey, top - 1)),
                  segs.some(([sx, sy]) => near(sx, x) && near(sy, bottom))];
        });
      }""",
        ["conv3_block1", "conv2_block3"],
    )
    # conv3_block1: fed from under conv3's title; conv2_block3: leaves to conv2's border
    assert ends == [["conv3_block1", True, True], ["conv2_block3", True, True]]
    assert problems == []
    page.close()


@pytest.mark.parametrize("width", [500, 800])
def test_the_totals_wrap_in_a_narrow_window(browser: Any, tmp_path: Path, width: int) -> None:
    """A walkthrough: each total was `nowrap` and they were joined without a break between
    them, so at 800 px the FPN page's `inputs` ran off the header, out of reach."""
    page, _, problems = open_page(browser, "specs/examples/fpn.yaml", tmp_path)
    page.set_viewport_size({"width": width, "height": 800})
    right = page.evaluate(
        "Math.max(...[...document.querySelectorAll('[data-total]')]"
        ".map(e => e.getBoundingClientRect().right))"
    )
    assert right <= width
    # the page places the diagram under the header on the window's resize event, which may
    # come after set_viewport_size returns (a CI run under load read the old place)
    page.wait_for_function(
        "document.getElementById('vp').getBoundingClientRect().top >= "
        "document.querySelector('header').getBoundingClientRect().bottom - 1",
        timeout=5000,
    )
    assert problems == []
    page.close()


@pytest.mark.parametrize(("spec", "group", "want"), [
    # a walkthrough: dec1 showed only the input from dec2 (its skip from enc1 missing) and the
    # line of its first inner block in `define`; the backbone showed one output, its last
    ("specs/examples/unet.yaml", "dec1",
     ["dec2_conv_conv2_relu 196x196x128", "enc1_conv2_relu 568x568x64",
      "dec1_conv_conv2_relu 388x388x64", "unet.yaml:69"]),
    ("specs/examples/fpn.yaml", "backbone",
     ["backbone_conv3_block4_out 28x28x512", "backbone_conv4_block6_out 14x14x1024",
      "backbone_conv5_block3_out 7x7x2048", "fpn.yaml:14"]),
])  # fmt: skip
def test_an_instances_details_show_all_it_reads_and_hands_out(
    browser: Any, tmp_path: Path, spec: str, group: str, want: list[str]
) -> None:
    page, _, problems = open_page(browser, spec, tmp_path)
    page.locator(f'[data-group="{group}"] > .ghd').first.hover()
    text = page.inner_text("#info")
    assert all(w in text for w in want), text
    assert problems == []
    page.close()


def test_arcs_that_meet_at_a_block_keep_apart(browser: Any, tmp_path: Path) -> None:
    """A walkthrough: pooled -> joined and joined -> box ran in one lane, ending and starting
    at the same height of `joined`: one line from `pooled` down to `box`, as if it fed `box`."""
    page, _, problems = open_page(browser, "specs/examples/two_heads.yaml", tmp_path)
    arcs = page.evaluate(
        """() => [...document.querySelectorAll('#ov path.arc')].map(p => {
          const n = p.getAttribute('d').match(/[-\\d.]+/g).map(Number);
          // M right sy H x-6 Q x sy x sy+6 V dy-6 Q x dy x-6 dy H right
          return {x: n[3], from: n[1], to: n[11]};  // its lane, start and end heights
        })"""
    )
    assert len(arcs) >= 3, arcs
    for a in arcs:
        for b in arcs:
            if a is not b and abs(a["to"] - b["from"]) < 20:  # one ends where the other starts
                assert abs(a["x"] - b["x"]) >= 11, (a, b)
    assert problems == []
    page.close()


def test_an_open_blocks_layers_stand_under_where_its_edge_arrives(browser: Any, tmp_path: Path
                                                                   ) -> None:  # fmt: skip
    """A walkthrough: a one-layer block's layer sat at the block's left, with no edge into it;
    the edge between blocks arrives at the block's middle."""
    page, _, problems = open_page(browser, "specs/vgg16.yaml", tmp_path)
    page.click('button[data-act="open"]')
    block = page.locator('[data-block="predictions"]').bounding_box()
    layer = page.locator('[data-layer="predictions"]').bounding_box()
    assert abs((layer["x"] + layer["width"] / 2) - (block["x"] + block["width"] / 2)) < 2
    assert problems == []
    page.close()


def test_escape_unpins_the_details_and_fit_shows_a_tall_model(browser: Any, tmp_path: Path
                                                              ) -> None:  # fmt: skip
    """A walkthrough: a pinned details panel stayed (Escape and a click beside the model did
    nothing), and `fit` stopped at 3% with ResNet-152 open, 1,200 px of it out of view."""
    page, _, problems = open_page(browser, "specs/resnet152.yaml", tmp_path)
    page.fill("#q", "conv1_conv")
    page.press("#q", "Enter")  # the search pins its first match's details
    assert page.is_visible("#info")
    page.keyboard.press("Tab")  # out of the search box
    page.keyboard.press("Escape")
    assert not page.is_visible("#info")
    page.click('button[data-act="open"]')
    page.click('button[data-act="fit"]')
    box = page.locator("#cv").bounding_box()
    view = page.locator("#vp").bounding_box()
    assert box["y"] >= view["y"] - 1 and box["y"] + box["height"] <= view["y"] + view["height"] + 1
    assert problems == []
    page.close()


def test_the_keyboard_walks_opens_and_shows_blocks(browser: Any, tmp_path: Path) -> None:
    """A walkthrough: only the search reached blocks from the keyboard. Tab walks the blocks in
    order, pinning each one's details and panning it into view; Enter and Space open and close
    it as a click does, and an open block's layers are walked too."""
    page, graph, problems = open_page(browser, "specs/resnet50.yaml", tmp_path)

    def focused() -> str:
        return page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.dataset.layer || (e.parentElement.dataset.block) || ''; }"
        )

    def in_view() -> bool:
        return page.evaluate(
            "() => { const r = document.activeElement.getBoundingClientRect(),"
            " v = document.getElementById('vp').getBoundingClientRect();"
            " return r.top >= v.top && r.bottom <= v.bottom; }"
        )

    for _ in range(20):  # past the search box and the buttons
        page.keyboard.press("Tab")
        if page.evaluate("() => document.getElementById('cv').contains(document.activeElement)"):
            break
    first = graph.blocks[0]
    assert focused() == first.name
    assert page.is_visible("#info") and page.inner_text("#info h3") == first.name
    head = page.locator(f'[data-block="{first.name}"] > .hd')
    assert (head.get_attribute("role"), head.get_attribute("aria-expanded")) == ("button", "false")
    page.keyboard.press("Enter")
    assert (
        page.locator(f'[data-block="{first.name}"]').get_attribute("class").split().count("open")
        == 1
    )
    page.wait_for_function(  # and says so to a screen reader
        f"() => document.querySelector('[data-block=\"{first.name}\"] > .hd')"
        ".getAttribute('aria-expanded') === 'true'",
        timeout=5_000,
    )
    page.keyboard.press("Tab")
    assert focused() == first.nodes[0] and page.inner_text("#info h3") == first.nodes[0]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press(" ")
    assert "open" not in page.locator(f'[data-block="{first.name}"]').get_attribute("class")
    page.keyboard.press("Tab")
    assert focused() == graph.blocks[1].name  # the closed block's layers are skipped
    last = graph.blocks[-1].name
    for _ in range(len(graph.blocks) - 2):  # far below the first screen: panned into view
        page.keyboard.press("Tab")
    assert focused() == last and in_view() and page.inner_text("#info h3") == last
    page.keyboard.press("Escape")
    assert not page.is_visible("#info")
    assert problems == []
    page.close()
