"""`budget:` and `expect:` evaluated on a spec's static graph, and FileResult, what checking one
file gives every renderer (text, JSON, GitHub, SARIF)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from archspec.core.errors import Diagnostic, KeyPath, Related, SpecError, format_path
from archspec.core.units import Shape, count_precision, human, parse_count, shape_str
from archspec.frontend import expr
from archspec.frontend.loader import Document
from archspec.frontend.resolve.origins import evaluated, option, with_origin_notes
from archspec.frontend.resolve.params import last_sets, set_name, setting, substitute
from archspec.frontend.schema import NOT_THE_NETWORK, SpecModel
from archspec.frontend.translate import written_at
from archspec.ir.graph import Graph
from archspec.ir.op import Cost

# -- budget and expect ----------------------------------------------------------------------

#: spec key -> (figure name in messages, how to read it from the graph)
_FIGURES = {
    "params": "params",
    "trainable_params": "trainable params",
    "macs": "MACs",
}


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
    #: False for a path that does not exist (E001): reported, not counted as a spec checked
    found: bool = True

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def _figure(cost: Cost, key: str) -> int | None:
    return {
        "params": cost.params,
        "trainable_params": cost.trainable,
        "macs": cost.macs,
    }[key]


def _block_figure(graph: Graph, key: str) -> dict[str, int]:
    """Per block as the summary shows it (a user-defined block's instance is one row)."""
    return {row.name: _figure(row.cost, key) or 0 for row in graph.block_rows()}


def _n(value: int) -> str:
    return f"{value:,}" if value < 1000 else f"{value:,} ({human(value)})"


def _top_blocks(graph: Graph, key: str, total: int, n: int = 3) -> str:
    ranked = sorted(_block_figure(graph, key).items(), key=lambda kv: -kv[1])[:n]
    parts = [
        f"`{name}` {human(v)} ({100 * v / total:.0f}%)" for name, v in ranked if v > 0 and total
    ]
    return "largest contributors: " + ", ".join(parts) if parts else ""


def matches(expected: int | str, actual: int) -> bool:
    """An int must equal `actual`; a string with a suffix matches at the precision it is
    written: `25.6M` matches 25,557,032 (25.56M rounds to 25.6M), `4G` matches 3.87G."""
    if isinstance(expected, int):
        return expected == actual
    precision = count_precision(expected)
    if precision is None:
        return parse_count(expected) == actual
    decimals, unit = precision
    return round(actual / unit, decimals) == round(parse_count(expected) / unit, decimals)


def _as_written(expected: int | str, actual: int) -> int | str:
    """`actual` as `expect` wrote the figure: with a suffix (`4.71G`, as the summary shows it)
    where it was written with one (`macs: 3.2G`) and that form matches, else whole."""
    if isinstance(expected, str) and count_precision(expected) is not None:
        rounded = human(actual)
        if count_precision(rounded) is not None and matches(rounded, actual):
            return rounded
    return actual


def evaluate(
    graph: Graph, doc: Document, spec: SpecModel, outputs: Sequence[str],
    sets: Sequence[str] = (), params: dict[str, Any] | None = None,
) -> list[Diagnostic]:  # fmt: skip
    """E601 for each budget the model exceeds, E602 for each `expect` figure that differs.

    `outputs` are the names of the output blocks (as the resolved spec has them); `sets` and
    `params` the `--set` items it was resolved with and its params: each error at a key whose
    `${...}` read a value a `--set` gave notes it."""
    out = _figures(graph, doc, spec, outputs)
    if not sets:
        return out
    with setting(doc, sets):
        for name, value in (params or {}).items():  # `--set 'cap=${10 * 5}'` gave 50
            evaluated(doc, name, value)
        noted = [with_origin_notes(doc, d, params or {}) for d in out]
    return [_another_network(doc, d, sets, params or {}) if d.code == "E602" else d
            for d in noted]  # fmt: skip


def _another_network(doc: Document, d: Diagnostic, sets: Sequence[str], values: dict[str, Any]
                     ) -> Diagnostic:  # fmt: skip
    """E602 where a `--set` changed the network and the figure does not read it (`--set
    stem_filters=16` against the params `expect` gives EfficientNet-B0): noted so, and not
    hinted to write the figure into the spec, which describes the network as written.
    `values`: the params after the `--set` (one that gives a param the value it has without
    it, `--set alpha=1` for `alpha: 1.0`, changes nothing)."""
    data = doc.written if isinstance(doc.written, dict) else {}
    written = data.get("params")
    params: dict[str, Any] = written if isinstance(written, dict) else {}
    own = _own_params(doc, params)
    if own is None:  # the spec as written has no figures to check without the --set
        return d
    model = {k: v for k, v in data.items() if k not in NOT_THE_NETWORK}
    read = _written_near(data, d.path)
    named = {set_name(item) for item in last_sets(sets)}

    def behind(name: str) -> set[str]:
        """`name` and the params computed from it, but for those another --set gave."""
        return expr.reach({k: v for k, v in params.items() if k not in named - {name}}, {name})

    changed = [item for item in last_sets(sets)
               if not _equal(own.get(set_name(item), _NONE), values.get(set_name(item), _NONE))
               and expr.holds(model, behind(set_name(item)))
               and not expr.holds(read, behind(set_name(item)))]  # fmt: skip
    if not changed:
        return d
    given = " ".join(f"{option(item)} {item}" for item in changed)
    note = Related(f"{given} changes the network, and `{format_path(d.path)}` does not read "
                   "it: it is the figure of the spec as written")  # fmt: skip
    return dataclasses.replace(d, related=(*d.related, note), hint="`expect` holds for the "
                               f"spec's own params: check it without {given}, or hold this "
                               "network to its figures in a spec of your own (a `spec` block "
                               "with `set`, and an `expect`)")  # fmt: skip


_NONE = object()


def _own_params(doc: Document, params: dict[str, Any]) -> dict[str, Any] | None:
    """The params as the spec writes them (`params`), evaluated without `--set`; None where
    one fails without it (`inv: "${8 // n}"` with `n: 0`)."""
    own: dict[str, Any] = {}
    for name, value in params.items():
        try:
            own[name] = substitute(doc, value, ("params", name), own, None)
        except SpecError:
            return None
    return own


def _equal(a: Any, b: Any) -> bool:
    """Whether two param values make the same network: numbers by value (`1` and `1.0`), a
    boolean only as itself."""
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and bool not in (type(a), type(b)):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def _written_near(data: Any, path: KeyPath) -> Any:
    """The value at `path` as written, or where a `${...}` gave a key above it its whole value
    (`expect: "${figures}"`), that one."""
    for end in range(len(path), 0, -1):
        value = written_at(data, path[:end])
        if value is not None:
            return value
    return None


def _figures(
    graph: Graph, doc: Document, spec: SpecModel, outputs: Sequence[str]
) -> list[Diagnostic]:
    """`evaluate`'s errors, before the notes."""
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
                fix = _as_written(expected, actual)
                out.append(
                    doc.diag(
                        "E602",
                        f"expect.{key}: expected {shown} {_FIGURES[key]}, the model has "
                        f"{_n(actual)} (a difference of {actual - parse_count(expected):+,})",
                        ("expect", key),
                        hint=f"if the model is right, write `{key}: {fix}`",
                    )
                )
        if spec.expect.output_shape is not None:
            shapes = dict(zip(outputs, graph.output_shapes.values(), strict=True))
            # an output as `outputs` names it (`bb.out_relu`, of the block `bb_out_relu`)
            written = dict(zip(spec.outputs, outputs, strict=True)) if spec.outputs else {}
            out.extend(_check_output_shape(doc, shapes, spec.expect.output_shape, written))
    return out


def _unknown(doc: Document, graph: Graph, path: KeyPath) -> Diagnostic:
    """E603: a figure the spec cannot fix (MACs of an input of unknown height and width)."""
    inputs = " and ".join(f"`{n}` {_spec_shape(s)}" for n, s in graph.inputs.items() if None in s)
    return doc.diag(
        "E603",
        f"{'.'.join(map(str, path))}: the MACs depend on the height and width of {inputs}, "
        "which are not fixed",
        path,
        hint=f"remove `{path[-1]}`, or give the input a fixed height and width",
    )


def _spec_shape(shape: Sequence[int | None]) -> str:
    return shape_str(shape, "spec")


def _check_output_shape(
    doc: Document,
    actual: dict[str, Shape],
    expected: list[int | None] | dict[str, list[int | None]],
    written: dict[str, str],
) -> list[Diagnostic]:
    """E602 for each output shape that differs from `expected`; `written`: an output's name as
    the top-level `outputs` lists it -> its block's (a mapping's keys may be either)."""
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
                    + ", ".join(f"{n}: {_spec_shape(s)}" for n, s in actual.items()),
                )
            ]
        ((name, shape),) = actual.items()
        if tuple(expected) == tuple(shape):
            return []
        return [
            doc.diag(
                "E602",
                f"expect.output_shape: expected {_spec_shape(expected)}, the output `{name}` has "
                f"shape {_spec_shape(shape)} (without the batch dimension)",
                path,
                hint=f"if the model is right, write `output_shape: {_spec_shape(shape)}`",
            )
        ]
    out: list[Diagnostic] = []
    for name, shape_expected in expected.items():
        where: KeyPath = (*path, name)
        got = actual.get(written.get(name, name))
        if got is None:
            from archspec.core.errors import did_you_mean

            out.append(
                doc.diag(
                    "E602",
                    f"expect.output_shape.{name}: `{name}` is not an output of the model",
                    where,
                    hint=did_you_mean(name, [*written, *actual])
                    or "outputs: " + ", ".join(written or actual),
                    key=True,
                )
            )
        elif tuple(shape_expected) != tuple(got):
            out.append(
                doc.diag(
                    "E602",
                    f"expect.output_shape.{name}: expected {_spec_shape(shape_expected)}, the "
                    f"output has shape {_spec_shape(got)} (without the batch dimension)",
                    where,
                    hint=f"if the model is right, write `{name}: {_spec_shape(got)}`",
                )
            )
    return out
