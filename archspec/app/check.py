"""`archspec check`: the static pipeline run over many files, plus `budget:` and `expect:`.

Each spec goes through loader, schema, resolution and lowering (never TensorFlow). A FileResult
keeps the diagnostics (errors and warnings) and, for a spec that lowered, its graph, so that
every renderer (text, JSON, GitHub, SARIF) reads the same data.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from archspec import app as api
from archspec.core.errors import ArchspecError, Diagnostic, KeyPath, UsageError, usage_error
from archspec.core.limits import Limits
from archspec.frontend.loader import Document
from archspec.frontend.schema import SpecModel, parse_count
from archspec.ir.graph import Graph
from archspec.ir.ops import Cost, Shape

SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass
class FileResult:
    """The outcome of checking one file."""

    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: the lowered graph, when the spec got that far (also when only budget/expect failed)
    graph: Graph | None = None
    #: output name (the block's name, as `outputs` and `expect` name it) -> shape without batch
    outputs: dict[str, Shape] = field(default_factory=dict)
    #: 2 for a usage or I/O problem (unreadable file, bad --set), 1 for an invalid spec, else 0
    exit_code: int = 0

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def find_specs(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given; folders searched recursively for *.yaml / *.yml (hidden folders and
    files skipped), sorted. A path that does not exist is a usage error (E001)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = [
                f
                for f in p.rglob("*")
                if f.suffix in SPEC_SUFFIXES
                and f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            ]
            out.extend(sorted(found))
        elif p.exists():
            out.append(p)
        else:
            raise usage_error("E001", f"no such file or folder: {raw}", file=str(raw))
    seen: set[Path] = set()
    unique = []
    for f in out:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return unique


def check_file(
    path: str | os.PathLike[str], sets: Sequence[str] = (), limits: Limits | None = None
) -> FileResult:
    """Load, validate, resolve and lower one spec, then apply its budget and expectations."""
    result = FileResult(file=os.fspath(path))
    try:
        spec = api.load(path, sets=sets, limits=limits)
        graph = api.analyze(spec)
    except ArchspecError as e:
        result.diagnostics = list(e.diagnostics)
        result.exit_code = 2 if isinstance(e, UsageError) else 1
        return result
    result.graph = graph
    result.outputs = dict(zip(spec.outputs, graph.output_shapes.values(), strict=True))
    result.diagnostics = [*graph.warnings, *evaluate(graph, spec.doc, spec.model, spec.outputs)]
    result.exit_code = 0 if result.ok else 1
    return result


def run(
    paths: Iterable[str | os.PathLike[str]],
    sets: Sequence[str] = (),
    limits: Limits | None = None,
) -> list[FileResult]:
    """Check every spec found under `paths` (`limits`: archspec/core/limits.py, default if None).
    Raises UsageError if a path does not exist or no spec is found."""
    files = find_specs(paths)
    if not files:
        raise usage_error(
            "E001", "no spec files found", hint="give files, or folders with *.yaml / *.yml"
        )
    return [check_file(f, sets, limits) for f in files]


def exit_code(results: Sequence[FileResult]) -> int:
    """2 if any file had a usage or I/O problem, else 1 if any is invalid, else 0."""
    return max((r.exit_code for r in results), default=0)


# -- budget and expect ----------------------------------------------------------------------

#: spec key -> (figure name in messages, how to read it from the graph)
_FIGURES = {
    "params": "params",
    "trainable_params": "trainable params",
    "macs": "MACs",
}


def _figure(cost: Cost, key: str) -> int | None:
    return {
        "params": cost.params,
        "trainable_params": cost.trainable,
        "macs": cost.macs,
    }[key]


def _block_figure(graph: Graph, key: str) -> dict[str, int]:
    """Per block as the summary shows it (a user-defined block's instance is one row)."""
    from archspec.render.text import block_rows

    return {name: _figure(cost, key) or 0 for name, _kind, _shape, cost in block_rows(graph)}


def _n(value: int) -> str:
    from archspec.render.text import human

    return f"{value:,}" if value < 1000 else f"{value:,} ({human(value)})"


def _top_blocks(graph: Graph, key: str, total: int, n: int = 3) -> str:
    ranked = sorted(_block_figure(graph, key).items(), key=lambda kv: -kv[1])[:n]
    from archspec.render.text import human

    parts = [
        f"`{name}` {human(v)} ({100 * v / total:.0f}%)" for name, v in ranked if v > 0 and total
    ]
    return "largest contributors: " + ", ".join(parts) if parts else ""


_SUFFIXED = re.compile(r"\s*(\d+)(?:\.(\d+))?\s*([KMGT])\s*")
_SCALE = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def matches(expected: int | str, actual: int) -> bool:
    """An int must equal `actual`; a string with a suffix matches at the precision it is
    written: `25.6M` matches 25,557,032 (25.56M rounds to 25.6M), `4G` matches 3.87G."""
    if isinstance(expected, int):
        return expected == actual
    m = _SUFFIXED.fullmatch(expected)
    if m is None:
        return parse_count(expected) == actual
    decimals = len(m.group(2) or "")
    scaled = actual / _SCALE[m.group(3)]
    return round(scaled, decimals) == round(parse_count(expected) / _SCALE[m.group(3)], decimals)


def evaluate(
    graph: Graph, doc: Document, spec: SpecModel, outputs: Sequence[str]
) -> list[Diagnostic]:
    """E601 for each budget the model exceeds, E602 for each `expect` figure that differs.

    `outputs` are the names of the output blocks (as the resolved spec has them)."""
    out: list[Diagnostic] = []
    if spec.budget is not None:
        for key in ("params", "trainable_params", "macs"):
            limit_raw = getattr(spec.budget, f"max_{key}")
            if limit_raw is None:
                continue
            limit, actual = parse_count(limit_raw), _figure(graph.cost, key)
            if actual is None:
                out.append(_unknown(doc, graph, ("budget", f"max_{key}")))
                continue
            if actual <= limit:
                continue
            over = actual - limit
            out.append(
                doc.diag(
                    "E601",
                    f"budget.max_{key}: {_FIGURES[key]} {_n(actual)} exceed the budget of "
                    f"{limit:,}{f' ({limit_raw})' if isinstance(limit_raw, str) else ''} "
                    f"by {over:,} ({100 * over / max(limit, 1):.1f}%)",
                    ("budget", f"max_{key}"),
                    hint=_top_blocks(graph, key, actual) or None,
                )
            )
    if spec.expect is not None:
        for key in ("params", "trainable_params", "macs"):
            expected = getattr(spec.expect, key)
            if expected is None:
                continue
            actual = _figure(graph.cost, key)
            if actual is None:
                out.append(_unknown(doc, graph, ("expect", key)))
            elif not matches(expected, actual):
                shown = f"{expected:,}" if isinstance(expected, int) else expected
                out.append(
                    doc.diag(
                        "E602",
                        f"expect.{key}: expected {shown} {_FIGURES[key]}, the model has "
                        f"{_n(actual)} (a difference of {actual - parse_count(expected):+,})",
                        ("expect", key),
                        hint=f"if the model is right, write `{key}: {actual}`",
                    )
                )
        if spec.expect.output_shape is not None:
            shapes = dict(zip(outputs, graph.output_shapes.values(), strict=True))
            out.extend(_check_output_shape(doc, shapes, spec.expect.output_shape))
    return out


def _unknown(doc: Document, graph: Graph, path: KeyPath) -> Diagnostic:
    """E603: a figure the spec cannot fix (MACs of an input of unknown height and width)."""
    inputs = " and ".join(f"`{n}` {_shape(s)}" for n, s in graph.inputs.items() if None in s)
    return doc.diag(
        "E603",
        f"{'.'.join(map(str, path))}: the MACs depend on the height and width of {inputs}, "
        "which are not fixed",
        path,
        hint=f"remove `{path[-1]}`, or give the input a fixed height and width",
    )


def _shape(shape: Sequence[int | None]) -> str:
    """A shape as a spec writes it: `[null, null, 64]`."""
    return "[" + ", ".join("null" if d is None else str(d) for d in shape) + "]"


def _check_output_shape(
    doc: Document,
    actual: dict[str, Shape],
    expected: list[int | None] | dict[str, list[int | None]],
) -> list[Diagnostic]:
    names = list(actual)
    path: KeyPath = ("expect", "output_shape")
    if isinstance(expected, list):
        if len(actual) != 1:
            return [
                doc.diag(
                    "E602",
                    f"expect.output_shape: the model has {len(actual)} outputs "
                    f"({', '.join(names)}); a single shape is ambiguous",
                    path,
                    hint="give a mapping output name -> shape: "
                    + ", ".join(f"{n}: {_shape(s)}" for n, s in actual.items()),
                )
            ]
        ((name, shape),) = actual.items()
        if tuple(expected) == tuple(shape):
            return []
        return [
            doc.diag(
                "E602",
                f"expect.output_shape: expected {_shape(expected)}, the output `{name}` has "
                f"shape {_shape(shape)} (without the batch dimension)",
                path,
                hint=f"if the model is right, write `output_shape: {_shape(shape)}`",
            )
        ]
    out: list[Diagnostic] = []
    for name, shape_expected in expected.items():
        where: KeyPath = (*path, name)
        if name not in actual:
            from archspec.core.errors import did_you_mean

            out.append(
                doc.diag(
                    "E602",
                    f"expect.output_shape.{name}: `{name}` is not an output of the model",
                    where,
                    hint=did_you_mean(name, actual) or "outputs: " + ", ".join(actual),
                    key=True,
                )
            )
        elif tuple(shape_expected) != tuple(actual[name]):
            out.append(
                doc.diag(
                    "E602",
                    f"expect.output_shape.{name}: expected {_shape(shape_expected)}, the output "
                    f"has shape {_shape(actual[name])} (without the batch dimension)",
                    where,
                    hint=f"if the model is right, write `{name}: {_shape(actual[name])}`",
                )
            )
    return out
