"""Benchmark of `archspec plot` against the alternative a user has: keras.utils.plot_model.

Run with `.venv/bin/python benchmarks/bench_plot.py [--runs N]` (or `make bench`). Every figure
is the median of several cold processes measured in this run. Not a test: it prints figures,
ratios and the issue's target (ResNet-152 expanded drawn in <= 3 s).

1. `archspec plot` of ResNet-152 (specs/resnet152.yaml): expanded to .svg (the default format)
   and .png, and collapsed to .png.
2. The same in-process, split into analysis, building the DOT graph and rendering.
3. `archspec plot` of EfficientNet-B7 expanded (specs/families/efficientnet.yaml --set
   variant=b7; 756 layers; target <= 5 s).
4. keras.utils.plot_model(keras.applications.ResNet152(weights=None)) in its own process, as a
   user would run it: it must import Keras and build the model first, and without a system
   Graphviz it fails ("You must install graphviz"); its time to that point is still shown.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
TARGET_S = 3.0

PLOT_MODEL = """
import keras
model = keras.applications.ResNet152(weights=None)
keras.utils.plot_model(model, to_file={out!r}, show_shapes=True)
"""


def run_once(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, cwd=cwd)
    return time.perf_counter() - start, proc.returncode, proc.stderr


def measure(cmd: list[str], runs: int, cwd: Path) -> tuple[float, int, str]:
    """Median wall seconds over `runs` cold processes (after one warm-up); the last exit code
    and stderr."""
    run_once(cmd, cwd)
    results = [run_once(cmd, cwd) for _ in range(runs)]
    return statistics.median(r[0] for r in results), results[-1][1], results[-1][2]


def png_size(path: Path) -> str:
    data = path.read_bytes()[:24]
    return f"{int.from_bytes(data[16:20], 'big')} x {int.from_bytes(data[20:24], 'big')} px"


def in_process(spec: Path, runs: int) -> None:
    sys.path.insert(0, str(ROOT))
    from archspec import app as api
    from archspec.render import dot

    for label, collapse, fmt in (
        ("expanded svg", False, "svg"),
        ("expanded png", False, "png"),
        ("collapsed png", True, "png"),
    ):
        phases: dict[str, list[float]] = {"analyze": [], "DOT graph": [], "render": []}
        for _ in range(runs):
            t0 = time.perf_counter()
            graph = api.analyze(spec)
            t1 = time.perf_counter()
            g = dot.to_pydot(graph, collapse=collapse)
            t2 = time.perf_counter()
            dot.render(g, fmt)
            t3 = time.perf_counter()
            for k, v in zip(phases, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                phases[k].append(v)
        text = ", ".join(f"{k} {statistics.median(v) * 1000:.0f} ms" for k, v in phases.items())
        print(f"  {label:<16} {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-keras", action="store_true", help="skip plot_model")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        spec = ROOT / "specs" / "resnet152.yaml"
        print(f"archspec plot, ResNet-152 (specs/resnet152.yaml), median of {args.runs} cold "
              f"processes; renderer: {_renderer()}")  # fmt: skip
        # --force: every run after the first finds the file (without it, E002 and exit 2)
        cli = [sys.executable, "-m", "archspec", "plot", str(spec), "--force"]
        results = {}
        for label, extra, out in (
            ("expanded .svg (default)", [], "e.svg"),
            ("expanded .png", [], "e.png"),
            ("collapsed .png", ["--collapse"], "c.png"),
        ):
            wall, code, _ = measure([*cli, "-o", out, *extra], args.runs, tmp)
            size = png_size(tmp / out) if out.endswith(".png") and code == 0 else ""
            results[label] = wall if code == 0 else float("inf")  # a failed run meets nothing
            print(f"  {label:<26} {wall:7.2f} s   exit {code}  {size}")
        print("\nin-process phases (median):")
        in_process(spec, args.runs)
        target = results["expanded .svg (default)"]
        verdict = "met" if target <= TARGET_S else "MISSED"
        print(f"\ntarget: ResNet-152 expanded <= {TARGET_S:.0f} s: {target:.2f} s ({verdict})")
        b7 = ROOT / "specs" / "families" / "efficientnet.yaml"
        if b7.exists():
            cmd = [sys.executable, "-m", "archspec", "plot", str(b7), "--set", "variant=b7",
                   "--force"]  # fmt: skip
            wall, code, _ = measure([*cmd, "-o", "b7.svg"], args.runs, tmp)
            verdict = "met" if wall <= 5.0 and code == 0 else "MISSED"
            print(f"target: EfficientNet-B7 expanded <= 5 s: {wall:.2f} s, exit {code} ({verdict})")
        if args.skip_keras:
            return
        code = PLOT_MODEL.format(out=str(tmp / "keras.png"))
        wall, exit_code, stderr = measure([sys.executable, "-c", code], max(1, args.runs // 2), tmp)
        err = (stderr.strip().splitlines() or [""])[-1][:120]
        outcome = "drew it" if exit_code == 0 else f"failed: {err}"
        print(f"\nalternative: keras.utils.plot_model(ResNet152) in its own process: "
              f"{wall:.2f} s, {outcome}")  # fmt: skip
        print(
            f"ratio: archspec plot (expanded svg) is {wall / target:.1f}x faster than "
            f"plot_model takes to {'finish' if exit_code == 0 else 'fail'}"
        )


def _renderer() -> str:
    sys.path.insert(0, str(ROOT))
    from archspec.render.dot import find_renderer

    prog = find_renderer()
    return "none" if prog is None else (shutil.which("dot") and "system dot") or prog


if __name__ == "__main__":
    main()
