"""Benchmark of `archspec plot` against the alternative a user has: keras.utils.plot_model.

Run with `.venv/bin/python benchmarks/bench_plot.py [--runs N]` (or `make bench`). Every figure
is the median of several cold processes measured in this run. Not a test: it prints figures,
ratios and the issue's target (ResNet-152 expanded drawn in <= 3 s).

1. `archspec plot` of ResNet-152 (the zoo spec, or the same bottleneck stack generated here):
   expanded to .svg (the default format) and .png, and collapsed to .png.
2. The same in-process, split into analysis, building the DOT graph and rendering.
3. keras.utils.plot_model(keras.applications.ResNet152(weights=None)) in its own process, as a
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


def resnet_spec(folder: Path, name: str, stacks: tuple[int, ...]) -> Path:
    """The zoo spec if present, else keras.applications' ResNet v1 layout written here."""
    zoo = ROOT / "specs" / f"{name}.yaml"
    if zoo.exists():
        return zoo
    lines = [
        f"name: {name}", "input: [224, 224, 3]", "blocks:",
        "  - {type: zero_pad, name: conv1_pad, padding: 3}",
        "  - {type: conv, name: conv1, filters: 64, kernel: 7, strides: 2, padding: valid,"
        " batch_norm: true, bn_epsilon: 1.001e-5, activation: relu}",
        "  - {type: zero_pad, name: pool1_pad, padding: 1}",
        "  - {type: max_pool, name: pool1_pool, pool: 3, strides: 2}",
    ]  # fmt: skip
    for stage, (n, f) in enumerate(zip(stacks, (64, 128, 256, 512), strict=True), 2):
        for k in range(1, n + 1):
            s = 2 if k == 1 and stage > 2 else 1
            lines.append(
                f"  - {{type: bottleneck, name: conv{stage}_block{k}, n_filters: {f},"
                f" strides: {s}, bn_epsilon: 1.001e-5}}"
            )
    lines += [
        "  - {type: global_avg_pool, name: avg_pool}",
        "  - {type: dense, name: predictions, units: 1000, activation: softmax}",
    ]
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_once(cmd: list[str], cwd: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=ENV, cwd=cwd)
    return time.perf_counter() - start, proc.returncode


def measure(cmd: list[str], runs: int, cwd: Path) -> tuple[float, int]:
    """Median wall seconds over `runs` cold processes (after one warm-up), and the exit code."""
    run_once(cmd, cwd)
    results = [run_once(cmd, cwd) for _ in range(runs)]
    return statistics.median(w for w, _ in results), results[-1][1]


def png_size(path: Path) -> str:
    data = path.read_bytes()[:24]
    return f"{int.from_bytes(data[16:20], 'big')} x {int.from_bytes(data[20:24], 'big')} px"


def in_process(spec: Path, runs: int, tmp: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from archspec import api
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
        spec = resnet_spec(tmp, "resnet152", (3, 8, 36, 3))
        from_zoo = spec.is_relative_to(ROOT)
        print(f"archspec plot, ResNet-152 ({'zoo spec' if from_zoo else 'generated spec'}), "
              f"median of {args.runs} cold processes; renderer: {_renderer()}")  # fmt: skip
        cli = [sys.executable, "-m", "archspec", "plot", str(spec)]
        results = {}
        for label, extra, out in (
            ("expanded .svg (default)", [], "e.svg"),
            ("expanded .png", [], "e.png"),
            ("collapsed .png", ["--collapse"], "c.png"),
        ):
            wall, code = measure([*cli, "-o", out, *extra], args.runs, tmp)
            size = png_size(tmp / out) if out.endswith(".png") and code == 0 else ""
            results[label] = wall
            print(f"  {label:<26} {wall:7.2f} s   exit {code}  {size}")
        print("\nin-process phases (median):")
        in_process(spec, args.runs, tmp)
        target = results["expanded .svg (default)"]
        verdict = "met" if target <= TARGET_S else "MISSED"
        print(f"\ntarget: ResNet-152 expanded <= {TARGET_S:.0f} s: {target:.2f} s ({verdict})")
        if args.skip_keras:
            return
        code = PLOT_MODEL.format(out=str(tmp / "keras.png"))
        wall, exit_code = measure([sys.executable, "-c", code], max(1, args.runs // 2), tmp)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=ENV, cwd=tmp)  # fmt: skip
        err = (proc.stderr.strip().splitlines() or [""])[-1][:120]
        outcome = "drew it" if exit_code == 0 else f"failed: {err}"
        print(f"\nalternative: keras.utils.plot_model(ResNet152) in its own process: "
              f"{wall:.2f} s, {outcome}")  # fmt: skip
        print(f"ratio: archspec plot (expanded svg) is {wall / target:.1f}x faster than "
              f"plot_model takes to {'finish' if exit_code == 0 else 'fail'}")


def _renderer() -> str:
    sys.path.insert(0, str(ROOT))
    from archspec.render.dot import find_renderer

    prog = find_renderer()
    return "none" if prog is None else (shutil.which("dot") and "system dot") or prog


if __name__ == "__main__":
    main()
