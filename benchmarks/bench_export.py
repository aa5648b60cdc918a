"""Benchmark of `archspec build -o` for a ResNet50-sized model: each format written by archspec
(temporary path, fsync, rename, leftover clean-up) beside the plain Keras / TensorFlow call a
user would write, measured in the same process and run, alternating the two; then the cost of
`--verify` (reload + one batch of 2 through both) per format.

Run with `.venv/bin/python benchmarks/bench_export.py [--runs N]` (about 3 minutes for N=3 on
2 idle cores). Figures are medians of N runs: wall seconds and the process's CPU seconds (less
disturbed than wall time when other work shares the machine). Not a test.

The model is the zoo's resnet50 spec when specs/ has one, else keras.applications.ResNet50
(weights=None): the same architecture, 25,636,712 parameters.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archspec import app as api  # noqa: E402
from archspec.backends.keras import verify  # noqa: E402
from archspec.backends.keras.emit import import_keras  # noqa: E402
from archspec.backends.keras.save import Target, export  # noqa: E402

Measure = tuple[float, float]


def timed(fn: Callable[..., object], *args: object, **kwargs: object) -> Measure:
    """Wall and process CPU seconds of fn(*args, **kwargs)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu


def median(ms: list[Measure]) -> Measure:
    return statistics.median(m[0] for m in ms), statistics.median(m[1] for m in ms)


def size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="formats to measure (default: all)")
    args = parser.parse_args()
    runs = args.runs
    keras = import_keras()
    import tensorflow as tf

    spec = next((ROOT / "specs").rglob("resnet50.yaml"), None)
    model = api.compile(spec) if spec else keras.applications.ResNet50(weights=None)
    source = str(spec.relative_to(ROOT)) if spec else "keras.applications.ResNet50(weights=None)"
    print(f"model: {source}, {model.count_params():,} params; medians of {runs} runs")
    verify.run_keras(
        model, verify.random_batch(model, 1, 0)
    )  # called: Keras's ONNX export needs it

    def plain_tflite(path: Path) -> None:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # and its listing of the SavedModel's endpoints
            path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())

    def plain_onnx(path: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.export(str(path), format="onnx", verbose=False)

    plain: dict[str, tuple[str, Callable[[Path], object]]] = {
        "keras": ("model.save", lambda p: model.save(str(p))),
        "savedmodel": (
            "model.export(tf_saved_model)",
            lambda p: model.export(str(p), format="tf_saved_model", verbose=False),
        ),
        "tflite": ("TFLiteConverter.from_keras_model", plain_tflite),
        "onnx": ("model.export(onnx)", plain_onnx),
    }
    names = {"keras": "m.keras", "savedmodel": "m", "tflite": "m.tflite", "onnx": "m.onnx"}
    ref = verify.reference(model, batch=2)
    rows = []
    for fmt, (plain_label, plain_fn) in plain.items():
        if args.only and fmt not in args.only:
            continue
        ours: list[Measure] = []
        theirs: list[Measure] = []
        checks: list[Measure] = []
        nbytes = 0
        for _ in range(runs):
            with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
                folder = Path(tmp)
                theirs.append(timed(plain_fn, folder / ("plain_" + names[fmt])))
                target = Target(folder / names[fmt], fmt)
                ours.append(timed(export, model, target))
                nbytes = size(target.path)
                checks.append(timed(verify.compare, model, target.path, fmt, ref=ref))
                shutil.rmtree(folder / names[fmt], ignore_errors=True)
        rows.append((fmt, plain_label, median(theirs), median(ours), median(checks), nbytes))
        a, b = median(theirs), median(ours)
        print(
            f"  {fmt:<10} plain {a[0]:6.2f}s wall {a[1]:6.2f}s cpu | archspec {b[0]:6.2f}s wall"
            f" {b[1]:6.2f}s cpu | x{b[0] / a[0]:.2f} wall | verify {median(checks)[0]:5.2f}s"
            f" | {nbytes / 1e6:.1f} MB",
            flush=True,
        )
    print()
    print("| format | plain call | plain wall / CPU s | archspec wall / CPU s | ratio (wall) "
          "| --verify wall s | size |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for fmt, label, a, b, c, nbytes in rows:
        print(
            f"| {fmt} | `{label}` | {a[0]:.2f} / {a[1]:.2f} | {b[0]:.2f} / {b[1]:.2f} "
            f"| {b[0] / a[0]:.2f} | {c[0]:.2f} | {nbytes / 1e6:.1f} MB |"
        )
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
