"""Benchmark of `archspec build resnet50` on each Keras backend against building the same model
with plain Keras on that backend (`keras.applications.ResNet50(weights=None)` in a process with
KERAS_BACKEND set), as whole cold processes, the two interleaved (a, b, a, b, ...) so that the
drift of a shared machine falls on both. The issue's target (19): on JAX, archspec <= 1.1x.

Run with `make bench` (or `.venv/bin/python benchmarks/bench_backends.py [--runs N]
[--backends jax tensorflow torch]`; default: JAX, and PyTorch where it is installed). Figures are
medians of N runs (after one warm-up each): wall seconds, CPU seconds (user + system, from
wait4's rusage: steadier on a busy machine) and peak resident memory. Not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHSPEC = str(Path(sys.executable).parent / "archspec")
PLAIN = "import keras\nkeras.applications.ResNet50(weights=None).count_params()\n"
TARGET = 1.10

Sample = tuple[float, float, float]


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[Sample, int]:
    """(wall s, CPU s, peak MiB) of one cold process, and its exit status."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            cwd=ROOT)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    sample = (wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
    return sample, os.waitstatus_to_exitcode(status)


def interleaved(cmds: list[list[str]], env: dict[str, str], runs: int) -> list[Sample]:
    """Medians of `runs` runs of each command, interleaved; one warm-up run each first."""
    for cmd in cmds:
        if run_once(cmd, env)[1] != 0:
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
            raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    samples: list[list[Sample]] = [[] for _ in cmds]
    for _ in range(runs):
        for k, cmd in enumerate(cmds):
            samples[k].append(run_once(cmd, env)[0])
    return [
        (
            statistics.median(s[0] for s in sample),
            statistics.median(s[1] for s in sample),
            statistics.median(s[2] for s in sample),
        )
        for sample in samples
    ]


def row(label: str, m: Sample) -> None:
    print(f"  {label:<58} {m[0]:6.2f} s wall  {m[1]:6.2f} s CPU  {m[2]:7.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    default = ["jax"] + (["torch"] if importlib.util.find_spec("torch") else [])
    parser.add_argument("--backends", nargs="*", default=default)
    args = parser.parse_args()
    print(f"archspec build resnet50 against plain Keras, per backend ({args.runs} runs each)")
    for backend in args.backends:
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        ours, plain = interleaved(
            [[ARCHSPEC, "build", "resnet50", "--backend", backend], [sys.executable, "-c", PLAIN]],
            env,
            args.runs,
        )
        print(f"\n{backend}:")
        row(f"archspec build resnet50 --backend {backend}", ours)
        row(f"keras.applications.ResNet50(weights=None), KERAS_BACKEND={backend}", plain)
        wall, cpu = ours[0] / plain[0], ours[1] / plain[1]
        verdict = "" if backend != "jax" else ("  ok" if wall <= TARGET else "  OVER")
        print(f"  ratio archspec / plain Keras: {wall:.2f} wall, {cpu:.2f} CPU "
              f"(target on JAX <= {TARGET:.2f}){verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
