"""`archspec build` of every zoo network that keras.applications has, against its factory.

Run with `make bench-zoo` (or `.venv/bin/python benchmarks/bench_zoo_builds.py [--runs N]
[--only NAME,...]`); about 40 minutes at 3 runs. Each row builds the spec with `archspec build`
and the same network with `keras.applications.<Factory>(weights=None)` as whole processes, their
runs interleaved (bench_check.py's `measure_interleaved`), and prints the medians and the ratio.
Not a test, and not one of the issues' targets (those are `make bench`): it gives the build-time
column of the zoo table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys

from bench_check import ARCHSPEC, ROOT, compile_bytecode, measure_interleaved

# fmt: off
#: (row name, zoo spec under specs/, --set values, keras.applications factory)
ROWS: list[tuple[str, str, tuple[str, ...], str]] = [
    ("vgg16", "vgg16.yaml", (), "VGG16"),
    ("vgg19", "vgg19.yaml", (), "VGG19"),
    *((f"resnet{d}", f"resnet{d}.yaml", (), f"ResNet{d}") for d in (50, 101, 152)),
    *((f"resnet{d}v2", "families/resnet_v2.yaml", (f"depth={d}",), f"ResNet{d}V2")
      for d in (50, 101, 152)),
    ("inception_v3", "inception_v3.yaml", (), "InceptionV3"),
    ("inception_resnet_v2", "inception_resnet_v2.yaml", (), "InceptionResNetV2"),
    ("xception", "xception.yaml", (), "Xception"),
    ("mobilenet", "mobilenet.yaml", (), "MobileNet"),
    ("mobilenet_v2", "mobilenet_v2.yaml", (), "MobileNetV2"),
    ("mobilenet_v3_small", "mobilenet_v3_small.yaml", (), "MobileNetV3Small"),
    ("mobilenet_v3_large", "mobilenet_v3_large.yaml", (), "MobileNetV3Large"),
    *((f"densenet{d}", "families/densenet.yaml", (f"depth={d}",), f"DenseNet{d}")
      for d in (121, 169, 201)),
    *((f"efficientnet_{v}", "families/efficientnet.yaml", (f"variant={v}",),
       f"EfficientNet{v.upper()}") for v in ("b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7")),
    *((f"efficientnet_v2_{v}", "families/efficientnet_v2.yaml", (f"variant={v}",),
       f"EfficientNetV2{v.upper()}") for v in ("b0", "b1", "b2", "b3", "s", "m", "l")),
    *((f"convnext_{v}", "families/convnext.yaml", (f"variant={v}",), f"ConvNeXt{k}")
      for v, k in (("tiny", "Tiny"), ("small", "Small"), ("base", "Base"), ("large", "Large"),
                   ("xlarge", "XLarge"))),
]
# fmt: on


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs per row (median)")
    parser.add_argument("--only", default="", help="row names, comma-separated (default: all)")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    rows = [r for r in ROWS if not only or r[0] in only]
    if only - {r[0] for r in ROWS}:
        raise SystemExit(f"unknown rows: {', '.join(sorted(only - {r[0] for r in ROWS}))}")
    print(f"archspec build vs keras.applications, {len(rows)} networks, medians of {args.runs} "
          f"interleaved whole-process runs, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    print(compile_bytecode() + "\n")
    print(f"  {'network':<22} {'archspec s':>10} {'keras s':>8} {'wall':>6} {'CPU':>6}")
    ratios: list[float] = []
    for name, spec, sets, factory in rows:
        flags = [a for s in sets for a in ("--set", s)]
        code = f"import keras\nkeras.applications.{factory}(weights=None).count_params()\n"
        ours, theirs = measure_interleaved(
            [[ARCHSPEC, "build", str(ROOT / "specs" / spec), *flags],
             [sys.executable, "-c", code]], args.runs,
        )  # fmt: skip
        ratios.append(ours[1] / theirs[1])
        print(f"  {name:<22} {ours[0]:>10.2f} {theirs[0]:>8.2f} {ours[0] / theirs[0]:>5.2f}x "
              f"{ours[1] / theirs[1]:>5.2f}x", flush=True)  # fmt: skip
    ratios.sort()
    print(f"\n  CPU ratio over the rows: median {ratios[len(ratios) // 2]:.2f}x, "
          f"range {ratios[0]:.2f}-{ratios[-1]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
