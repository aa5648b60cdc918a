"""The interactive page (`archspec plot -o model.html`): time from navigation to the blocks
shown for ResNet-152 in headless Chromium (median of runs, target <= 3 s), and file sizes
(ResNet-152, EfficientNet-B7; target < 5 MiB). Needs Debian's `chromium` and playwright (pip);
prints why and exits 0 where either is missing."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import archspec  # noqa: E402
from archspec.render.html import plot_html, spec_lines  # noqa: E402

RUNS = 7
TARGET_S = 3.0
MAX_BYTES = 5 * 1024 * 1024
CHROMIUM = os.environ.get("ARCHSPEC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def write(spec: str, out: Path, *sets: str) -> tuple[Path, float]:
    resolved = archspec.load(ROOT / spec, sets=list(sets))
    graph = archspec.analyze(resolved)
    t = time.perf_counter()
    plot_html(graph, out, lines=spec_lines(resolved))
    return out, time.perf_counter() - t


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    r152, t152 = write("specs/resnet152.yaml", folder / "resnet152.html")
    b7, tb7 = write("specs/families/efficientnet.yaml", folder / "b7.html", "variant=b7")
    for name, path, secs in (("resnet152", r152, t152), ("efficientnet b7", b7, tb7)):
        size = path.stat().st_size
        ok = "ok" if size < MAX_BYTES else "OVER"
        print(f"{name:16} {size / 1024:8.0f} KiB (< 5 MiB: {ok}), written in {secs:.2f} s")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("skipped the browser timing: playwright is not installed (pip install playwright)")
        return
    if not Path(CHROMIUM).exists():
        print(f"skipped the browser timing: no Chromium at {CHROMIUM} (apt-get install chromium)")
        return
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for _ in range(RUNS):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
                       else r.abort())  # fmt: skip
            t = time.perf_counter()
            page.goto(r152.as_uri())
            page.wait_for_selector('[data-block="conv1"]', state="visible")
            page.wait_for_selector("body[data-ready]")
            times.append(time.perf_counter() - t)
            page.close()
        browser.close()
    med = statistics.median(times)
    verdict = "ok" if med <= TARGET_S else "OVER"
    spread = f"{min(times):.3f}-{max(times):.3f}"
    print(f"resnet152 page: navigation -> blocks shown, median of {RUNS}: {med:.3f} s "
          f"(range {spread}; target <= {TARGET_S} s: {verdict})")  # fmt: skip


if __name__ == "__main__":
    main()
