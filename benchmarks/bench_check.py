"""Benchmarks of `archspec check` and `archspec build` against the alternatives a user would use.

Run with `make bench` (or `.venv/bin/python benchmarks/bench_check.py [--runs N]`). Every figure
is the median of several cold processes, measured in this run, with the peak resident memory of
the process (from wait4's rusage). Not a test: it prints figures and the issue's targets.

1. `archspec check` over the zoo (every spec under specs/) against a script that builds each of
   the same models with Keras and counts its parameters (the alternative CI script).
2. `archspec --help`.
3. `archspec check` of generated specs of 250, 500 and 1,000 blocks (linear growth).
4. `archspec build` against building the same model with keras.applications in its own process:
   ResNet-50, EfficientNet-B0 (issue 13), DenseNet-201 and ConvNeXt-Base (issue 14), each pair
   interleaved.
5. `archspec check` of every zoo spec and every family member (each family variant rendered to
   a file first, untimed) in one command, against the floor process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ARCHSPEC = str(BIN / "archspec")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def compile_bytecode() -> str:
    """Compile archspec's modules to bytecode, untimed, as installing its wheel does; what to
    print about it. An editable install has none until a run writes it, and none is written
    where PYTHONDONTWRITEBYTECODE is set (as on the project's machines): every timed run would
    then compile archspec from source (about 40 ms of start-up) that an installed copy never
    pays, while the floor's packages and Keras have their bytecode from pip."""
    import compileall

    compileall.compile_dir(ROOT / "archspec", quiet=1)
    note = "archspec's bytecode compiled first, as a wheel install has it"
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        note += " (PYTHONDONTWRITEBYTECODE is set here: without this, every run compiles it)"
    return note


def run_once(cmd: list[str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MiB, exit status of one cold
    process. CPU time is less disturbed than wall time when other work shares the machine."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, cwd=ROOT
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, proc.returncode


def measure(cmd: list[str], runs: int) -> tuple[float, float, float]:
    """Medians of wall seconds, CPU seconds and peak MiB over `runs` cold runs (after one
    warm-up run)."""
    return measure_interleaved([cmd], runs)[0]


def measure_interleaved(cmds: list[list[str]], runs: int) -> list[tuple[float, float, float]]:
    """`measure` for several commands, their runs interleaved (a, b, a, b, ...), so that the
    drift of a shared machine falls on all of them alike; one warm-up run each."""
    for cmd in cmds:
        _, _, _, code = run_once(cmd)
        if code != 0:
            out = subprocess.run(cmd, capture_output=True, text=True, env=ENV, cwd=ROOT)
            raise SystemExit(f"{' '.join(cmd)} exited {code}:\n{out.stdout}\n{out.stderr}")
    samples: list[list[tuple[float, float, float]]] = [[] for _ in cmds]
    for _ in range(runs):
        for k, cmd in enumerate(cmds):
            wall, cpu, mem, _ = run_once(cmd)
            samples[k].append((wall, cpu, mem))
    return [
        tuple(statistics.median(x[i] for x in sample) for i in range(3))  # type: ignore[misc]
        for sample in samples
    ]


#: The floor the targets are set against: REFERENCE.md's "`import typer, yaml` + pydantic
#: BaseModel", 0.118 s and 29 MiB on its machine; the 0.25 s target is 2.12x it. Its memory
#: matches Python with the three imported *and a model defined* (the first model definition
#: imports the rest of pydantic: schema generation, field types), not the imports alone.
FLOOR = "import typer, yaml, pydantic"
REFERENCE_FLOOR = 0.118
FLOOR_MODEL = FLOOR + "\nclass M(pydantic.BaseModel):\n    x: int\n"


def row(label: str, m: tuple[float, float, float], target: str = "") -> None:
    wall, cpu, mem = m
    print(f"  {label:<44} {wall * 1000:8.1f} ms wall {cpu * 1000:8.1f} ms CPU "
          f"{mem:7.1f} MiB  {target}")  # fmt: skip


def generated_spec(folder: Path, n: int) -> Path:
    """A valid spec of `n` blocks: conv / batch_norm / activation triples, with a residual add
    every third triple (so references are resolved too)."""
    lines = [f"name: generated_{n}", "input: [32, 32, 16]", "blocks:"]
    k = 0
    while k < n:
        lines.append(f"  - {{type: conv, name: c{k}, filters: 16, kernel: 3}}")
        k += 1
        if k < n:
            lines.append(f"  - {{type: batch_norm, name: b{k}}}")
            k += 1
        if k < n:
            lines.append(f"  - {{type: add, name: a{k}, inputs: [c{k - 2}, b{k - 1}]}}")
            k += 1
    path = folder / f"generated_{n}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def in_process_growth(runs: int) -> None:
    """CPU time of check_file alone for growing specs: linear growth keeps µs/block flat."""
    import gc

    from archspec.app import check

    check.run([ROOT / "specs" / "seed"])  # imports and first-use costs out of the way
    gc.freeze()  # as `archspec check` runs: see archspec/app/check.py
    gc.disable()
    with tempfile.TemporaryDirectory() as tmp:
        for n in (250, 500, 1000, 2000):
            path = generated_spec(Path(tmp), n)
            best = float("inf")
            for _ in range(max(runs, 5)):
                start = time.process_time()
                result = check.check_file(path)
                best = min(best, time.process_time() - start)
            assert result.ok, result.diagnostics
            per_block = best / n * 1e6
            print(f"    {n:>5} blocks: {best * 1000:7.1f} ms CPU, {per_block:5.0f} µs per block")


#: (zoo spec, --set, keras.applications model) for the build comparison
BUILDS = [
    ("resnet50.yaml", (), "ResNet50"),
    ("families/efficientnet.yaml", ("variant=b0",), "EfficientNetB0"),
    ("families/densenet.yaml", ("depth=201",), "DenseNet201"),
    ("families/convnext.yaml", ("variant=base",), "ConvNeXtBase"),
]

#: family spec -> (param, members) for the whole-zoo check
FAMILIES = {
    "resnet": ("depth", (18, 34, 50, 101, 152)),
    "efficientnet": ("variant", ("b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7")),
    "efficientnet_v2": ("variant", ("b0", "b1", "b2", "b3", "s", "m", "l")),
    "resnet_v2": ("depth", (50, 101, 152)),
    "densenet": ("depth", (121, 169, 201)),
    "convnext": ("variant", ("tiny", "small", "base", "large", "xlarge")),
}


def render_family_members(folder: Path) -> int:
    """Every member of every family spec, expanded by `archspec render --set` into `folder`
    (so that one `archspec check` command reads them all); the number written."""
    n = 0
    for stem, (param, members) in FAMILIES.items():
        spec = ROOT / "specs" / "families" / f"{stem}.yaml"
        if not spec.exists():
            continue
        for m in members:
            out = subprocess.run(
                [ARCHSPEC, "render", str(spec), "--set", f"{param}={m}"],
                capture_output=True, text=True, env=ENV, cwd=ROOT, check=True,
            )  # fmt: skip
            (folder / f"{stem}_{m}.yaml").write_text(out.stdout)
            n += 1
    return n


def keras_script(specs: list[Path]) -> str:
    """The alternative CI check: build every spec's model with Keras, count its params."""
    return (
        "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\n"
        "import archspec\n"
        f"for p in {[str(p) for p in specs]!r}:\n"
        "    model = archspec.compile(p)\n"
        "    model.count_params()\n"
    )


def section_zoo(args: argparse.Namespace, specs: list[Path]) -> None:
    """`archspec check specs/` against the floor, and against building every model with Keras."""
    print("\n1. check the zoo: archspec check specs/ vs building every model with Keras")
    chk, floor, floor_model = measure_interleaved(
        [[ARCHSPEC, "check", "specs"], [sys.executable, "-c", FLOOR],
         [sys.executable, "-c", FLOOR_MODEL]], args.runs,
    )  # fmt: skip
    row("archspec check specs/", chk, "(target <= 250 ms, <= 80 MiB)")
    row(f"python -c '{FLOOR}'", floor)
    row("  the same, and one pydantic model defined", floor_model,
        f"(REFERENCE.md: {REFERENCE_FLOOR * 1000:.0f} ms, 29 MiB)")  # fmt: skip
    speed = floor_model[0] / REFERENCE_FLOOR
    print(f"  this machine runs REFERENCE.md's floor {speed:.2f}x as long: the 250 ms target "
          f"scales to {250 * speed:.0f} ms. archspec check is {chk[0] / floor_model[0]:.2f}x the "
          f"floor (the target: {0.25 / REFERENCE_FLOOR:.2f}x), {chk[0] / floor[0]:.2f}x the "
          "imports alone")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "keras_check.py"
        script.write_text(keras_script(specs))
        ker = measure([sys.executable, str(script)], args.keras_runs)
    row("build every zoo model with Keras", ker)
    print(f"  ratio: archspec check is {ker[0] / chk[0]:.0f}x faster in wall time "
          f"({ker[1] / chk[1]:.0f}x in CPU time; target >= 50x) and uses "
          f"{ker[2] / chk[2]:.1f}x less memory")  # fmt: skip


def section_startup(args: argparse.Namespace, specs: list[Path]) -> None:
    """The CLI's start-up."""
    print("\n2. start-up")
    row("archspec --help", measure([ARCHSPEC, "--help"], args.runs), "(target <= 200 ms)")
    row("python -c pass", measure([sys.executable, "-c", "pass"], args.runs))


def section_growth(args: argparse.Namespace, specs: list[Path]) -> None:
    """Generated specs of growing size: the check grows linearly."""
    print("\n3. generated specs (linear growth)")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (250, 500, 1000):
            m = measure([ARCHSPEC, "check", str(generated_spec(Path(tmp), n))], args.runs)
            row(f"archspec check, {n} blocks", m, "(target <= 500 ms)" if n == 1000 else "")
    print("  the checking alone, in one process as the CLI runs it (start-up excluded; best of 5):")
    in_process_growth(args.runs)


def section_builds(args: argparse.Namespace, specs: list[Path]) -> None:
    """`archspec build` against keras.applications, whole process against whole process."""
    print("\n4. archspec build vs plain Keras, whole process against whole process")
    for rel, sets, factory in BUILDS:
        spec = ROOT / "specs" / rel
        if not spec.exists():
            print(f"  specs/{rel}: not in the zoo yet, skipped")
            continue
        code = f"import keras\nmodel = keras.applications.{factory}(weights=None)\n"
        flags = [a for s in sets for a in ("--set", s)]
        bld, plain = measure_interleaved(
            [
                [ARCHSPEC, "build", str(spec), *flags],
                [sys.executable, "-c", code + "model.count_params()\n"],
            ],
            args.build_runs,
        )
        row(f"archspec build {rel} {' '.join(sets)}".rstrip(), bld)
        row(f"keras.applications.{factory}", plain)
        print(f"  ratio: archspec build / keras.applications = {bld[0] / plain[0]:.2f} in wall "
              f"time, {bld[1] / plain[1]:.2f} in CPU time (target <= 1.10)")  # fmt: skip


def section_every(args: argparse.Namespace, specs: list[Path]) -> None:
    """Every zoo spec and every family member in one `archspec check`, against the floor."""
    print("\n5. check every zoo spec and every family member in one command")
    with tempfile.TemporaryDirectory() as tmp:
        members = render_family_members(Path(tmp))
        cmd = [ARCHSPEC, "check", "specs", tmp]
        every, floor_model = measure_interleaved(
            [cmd, [sys.executable, "-c", FLOOR_MODEL]], args.runs
        )
        row(f"archspec check specs/ + {members} family members", every)
        row("the floor: typer, yaml, pydantic and one model", floor_model)
        print(f"  ratio: {every[0] / floor_model[0]:.2f}x the floor in wall time, "
              f"{every[1] / floor_model[1]:.2f}x in CPU time (target <= 2)")  # fmt: skip


SECTIONS = [section_zoo, section_startup, section_growth, section_builds, section_every]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold runs per figure (median)")
    parser.add_argument("--keras-runs", type=int, default=3, help="runs of the Keras builds")
    parser.add_argument("--build-runs", type=int, default=7,
                        help="runs of archspec build and plain Keras (interleaved)")  # fmt: skip
    parser.add_argument("--sections", default="1,2,3,4,5",
                        help="the numbered sections to run, as 1,5 (default: all)")  # fmt: skip
    args = parser.parse_args()
    sections = {int(k) for k in args.sections.split(",")}
    specs = sorted((ROOT / "specs").rglob("*.yaml"))
    load = os.getloadavg()[0]
    print(f"archspec benchmarks: {len(specs)} zoo specs under specs/, medians of {args.runs} "
          f"cold runs (Keras: {args.keras_runs}), {os.cpu_count()} CPUs, "
          f"load average {load:.1f}")  # fmt: skip
    print(compile_bytecode())

    for k, section in enumerate(SECTIONS, 1):
        if k in sections:
            section(args, specs)


if __name__ == "__main__":
    main()
