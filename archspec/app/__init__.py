"""The public API: load -> analyze (static, no TensorFlow) -> compile (Keras); build and export
as `archspec build` runs them. Importing it never imports TensorFlow or Keras."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archspec.core.errors import ArchspecError, usage_error
from archspec.core.files import FORCE_HINT
from archspec.core.limits import DEFAULT, TOLERANCE, Limits, raise_hint
from archspec.frontend.loader import Document, load_bytes, load_text, read_file
from archspec.frontend.lower import lower
from archspec.frontend.resolve import Resolved, resolve
from archspec.frontend.resolve.origins import SetItem, option
from archspec.frontend.resolve.params import last_sets, set_name
from archspec.frontend.zoo import is_family, members_of, resolve_spec
from archspec.ir.graph import Graph

if TYPE_CHECKING:
    from archspec.backends.keras.save import Saved, Status, Target
    from archspec.backends.keras.weights import Loaded, Part
    from archspec.core.errors import Diagnostic
    from archspec.core.units import Shape
    from archspec.frontend.zoo import Entry as ZooEntry
    from archspec.render.diff import Checks

#: A loaded spec: the document, its validated top level, its expanded blocks and outputs.
Spec = Resolved


def load(
    path: str | os.PathLike[str] | None = None,
    *,
    text: str | None = None,
    sets: Sequence[str] = (),
    limits: Limits | None = None,
) -> Spec:
    """Load, validate and resolve a spec from a file, or from `text`. Raises ArchspecError.

    `path` is a file, or the name of a zoo network (`resnet50`, `efficientnet`; `archspec zoo`)
    or of a family's member (`efficientnet_b3`, as `efficientnet` with `variant=b3` before
    `sets`) where no such file exists: a file wins over a name. `-` is standard input (`<stdin>` in
    messages; the size limit applies while it is read).

    `sets` are `name=value` overrides of the spec's `params` (the CLI's `--set`); `limits`
    replaces the default limits (archspec/core/limits.py); the document keeps them for the later
    stages."""
    if isinstance(sets, str | Mapping):  # a str would be read character by character
        raise TypeError(f"sets= takes a list of 'NAME=VALUE' strings, as --set: "
                        f"sets=['depth=101'], not {sets!r}")  # fmt: skip
    lim = limits or DEFAULT
    if text is not None:
        doc = load_text(text, os.fspath(path) if path is not None else "<spec>", lim)
    elif path is not None and os.fspath(path) == STDIN_ARG:
        doc = read_stdin(lim)
    elif path is not None:
        file, member = resolve_spec(path)
        doc = read_file(file, lim)
        if member is not None:  # `efficientnet_b3`: the family, and a --set before the user's
            others = _other(path, file.stem, member, sets)
            sets = [SetItem(member, f"{os.fspath(path)}, as --set"), *others]
    else:
        raise TypeError("load() needs a path or text=")
    return resolve(doc, sets)


#: the SPEC that means standard input, and the file name its messages give
STDIN_ARG, STDIN_NAME = "-", "<stdin>"


def read_stdin(limits: Limits = DEFAULT) -> Document:
    """Load a spec from standard input, reading at most the size limit plus one byte."""
    import sys

    from archspec.core.errors import Diagnostic, SpecError

    raw = sys.stdin.buffer.read(limits.file_bytes + 1)
    if len(raw) > limits.file_bytes:
        hint = "specs are small; " + raise_hint("--max-file-size", "if this one is real")
        raise SpecError(Diagnostic("E701", f"file is larger than the limit of "
                                   f"{limits.file_bytes:,} bytes", file=STDIN_NAME,
                                   hint=hint))  # fmt: skip
    return load_bytes(raw, STDIN_NAME, limits)


def _other(name: str | os.PathLike[str], family: str, member: str, sets: Sequence[str]
           ) -> Sequence[str]:  # fmt: skip
    """`sets`, where none picks another member of `family` than the name does (`efficientnet_b3
    --set variant=b4`: E503, exit 2; `variant=b3` is allowed)."""
    param, _, value = member.partition("=")
    for item in sets:
        other = item.partition("=")[2].strip()
        if set_name(item) == param and other != value:
            given = f"{param}={other}"
            raise usage_error("E503", f"{option(item)} {given}: `{os.fspath(name)}` is the "
                              f"member {member} of the zoo family `{family}`",
                              hint=f"name the family: `{family} {option(item)} {given}`, or the "
                              "member alone")  # fmt: skip
    return sets


def analyze(
    spec: Spec | str | os.PathLike[str], sets: Sequence[str] = (), limits: Limits | None = None
) -> Graph:
    """The graph IR with static shapes, parameters and MACs. Never imports TensorFlow.

    The limits are those `spec` was loaded with, unless `limits` is given."""
    loaded_already(spec, sets)
    s = spec if isinstance(spec, Resolved) else load(spec, sets=sets, limits=limits)
    return lower(s, limits)


def loaded_already(spec: object, sets: Sequence[str]) -> None:
    """ValueError where `sets` come with a Spec or Graph: they apply when a spec is loaded, and
    would be ignored."""
    if sets and isinstance(spec, Resolved | Graph):
        raise ValueError(
            f"sets={list(sets)!r} apply when a spec is loaded, and this one is: give them to "
            "archspec.load(path, sets=...), or pass the path"
        )


#: the one command that installs what `build` and `compile` need (the README says the same)
KERAS_INSTALL = "pip install 'archspec-cnn[keras]'"


def require_keras(backend: str = "tensorflow") -> None:
    """Raise E005 (exit 2), naming the pip command, where Keras or the `backend` (TensorFlow,
    JAX, PyTorch) is not installed: the core install serves every command but `build`. Looks,
    does not import (backends/keras/backend.py)."""
    from archspec.backends.keras.backend import require

    require(backend)


def compile(
    spec: Spec | Graph | str | os.PathLike[str],
    sets: Sequence[str] = (),
    backend: str | None = None,
) -> Any:
    """Build the keras.Model on `backend` (tensorflow, jax, torch; default: KERAS_BACKEND where
    set, else tensorflow). Works inside a tf.distribute strategy scope (and under a
    keras.distribution on JAX)."""
    from archspec.backends.keras.backend import check_loaded, choose

    loaded_already(spec, sets)
    name = choose(backend)
    check_loaded(name)
    require_keras(name)
    from archspec.backends.keras.emit import to_keras

    return to_keras(spec if isinstance(spec, Graph) else analyze(spec, sets), name)


@dataclass
class Build:
    """A spec compiled to Keras by `build`, with where `export` will save it."""

    spec: Spec
    graph: Graph
    #: the keras.Model
    model: Any
    #: where to save it (checked writable before the model was built), None without an output
    target: Target | None = None
    #: input shapes to run the model at (verify, ONNX) where its inputs have an unknown size
    shapes: dict[str, Shape] | None = None
    force: bool = False
    verify: bool = False
    tolerance: float = TOLERANCE
    #: the weights files loaded into the model (`weights=`), in the order given
    weights: tuple[Loaded, ...] = ()
    #: the weighted layers that no file loaded, where files went into `spec` blocks (a new
    #: head on a pretrained backbone: the head's), in layer order
    unloaded: tuple[str, ...] = ()
    #: the Keras backend that built the model: tensorflow, jax or torch
    backend: str = "tensorflow"


def build(
    spec: Spec | str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    sets: Sequence[str] = (),
    limits: Limits | None = None,
    force: bool = False,
    format: str | None = None,
    verify: bool = False,
    tolerance: float | None = None,
    weights: str | os.PathLike[str] | Mapping[str, str | os.PathLike[str]] | None = None,
    status: Status | None = None,
    backend: str | None = None,
) -> Build:
    """Load, analyze and compile `spec`, as `archspec build` does; then `export(...)` saves it.

    With `output`, first check that it can be written (exit 2 before the slow part: the folder,
    an existing target without `force`, the format's extras); `format` (keras, savedmodel, tflite,
    onnx; default from the suffix), `verify` and `tolerance` are for the export. `weights`: a
    keras.applications .h5 or Keras 3 .weights.h5 file loaded into the model, by layer name
    where the names match and in order otherwise, every shape checked (a missing file is exit 2
    before Keras is imported; a file that does not fit is E803); or {`spec` block: file}, each
    file loaded into that block's layers by name (a block the spec has not is E003, exit 2,
    before Keras is imported), the others keeping their initial weights. `status(message)` is
    a context manager shown around slow work. The spec's `budget` and `expect` hold as
    `archspec check` has them: E601/E602/E603 (exit 1) before Keras is imported. Raises
    ArchspecError (E005 where TensorFlow and Keras are not installed, once the spec and the
    options are found valid).
    `backend`: tensorflow, jax or torch (default: KERAS_BACKEND where set, else tensorflow); an
    unknown one is E003, one Keras cannot switch to in this process E003, an export it cannot
    write E004, one not installed E005, all before Keras is imported."""
    from archspec.core.errors import SpecError, usage_error
    from archspec.frontend.expect import evaluate

    if output is None and (format is not None or verify):
        given = [o for o, on in (("--format", format is not None), ("--verify", verify)) if on]
        verb = "needs" if len(given) == 1 else "need"
        raise usage_error("E003", f"{' and '.join(given)} {verb} an output: -o PATH")
    if tolerance is not None and not tolerance >= 0:
        raise usage_error("E003", f"--tolerance must be >= 0. Received: {tolerance}")
    if tolerance is not None and not verify:  # not ignored without a word
        raise usage_error("E003", "--tolerance is what --verify accepts: it needs --verify",
                          hint="add --verify (with -o PATH), or leave --tolerance out")  # fmt: skip
    tolerance = TOLERANCE if tolerance is None else tolerance
    from archspec.backends.keras.backend import check_loaded, choose
    from archspec.backends.keras.save import check_onnx, check_target

    backend = choose(backend)
    check_loaded(backend)
    stage = status or (lambda _message: nullcontext())
    loaded_already(spec, sets)
    resolved = spec if isinstance(spec, Resolved) else load(spec, sets=sets, limits=limits)
    graph = analyze(resolved)
    failed = evaluate(
        graph, resolved.doc, resolved.model, resolved.outputs, resolved.sets, resolved.params
    )
    if any(d.severity == "error" for d in failed):
        raise SpecError(failed)
    format = format.lower() if format is not None else None  # the case of check's and diff's
    target = check_target(output, force, format, verify, backend) if output is not None else None
    if target is not None and target.format == "onnx" and backend == "tensorflow":
        check_onnx(graph, target.path)
    files = _weights(weights, graph)  # E003 and E001 before Keras is looked for
    shapes = None
    if target is not None and (verify or target.format == "onnx"):
        from archspec.backends.keras.verify import run_shapes

        shapes = run_shapes(graph, resolved.doc)
    require_keras(backend)  # after the spec's and options' own errors: a core install checks them
    read = []
    if files:  # HDF5, read with h5py: a Keras install's (E803 where it is no weights)
        from archspec.backends.keras import weights as pretrained

        for path, part in files:
            with stage(f"reading {path}"):
                read.append((pretrained.read(path), part))
    with stage(f"building the Keras model ({backend})"):
        model = compile(graph, backend=backend)
    loaded: tuple[Loaded, ...] = ()
    unloaded: tuple[str, ...] = ()
    if read:
        with stage("loading " + ", ".join(os.fspath(p) for p, _ in files)):
            try:
                loaded = pretrained.load(model, read)
            except ArchspecError as e:
                blocks = list(_spec_blocks(graph))
                if blocks and read[0][1] is None:  # a backbone's file, given for the whole model
                    e.diagnostics[0] = dataclasses.replace(e.diagnostics[0], hint=(
                        f"to load it into the `spec` block `{blocks[0]}` alone (its layers "
                        f"by name), give --weights {blocks[0]}=FILE"))  # fmt: skip
                raise
        if any(part is not None for _, part in read):
            took = set().union(*(done.layers for done in loaded))
            unloaded = tuple(layer.name for layer in model.layers
                             if layer.weights and layer.name not in took)  # fmt: skip
    return Build(resolved, graph, model, target, shapes, force, verify, tolerance, loaded,
                 unloaded, backend)  # fmt: skip


def _spec_blocks(graph: Graph) -> dict[str, set[str]]:
    """The graph's `spec` blocks (included specs), each with its layers' names."""
    parts: dict[str, set[str]] = {}
    for block in graph.blocks:
        if block.group is not None and block.group[1] == "spec":
            parts.setdefault(block.group[0], set()).update(block.nodes)
    return parts


def _weights(
    weights: str | os.PathLike[str] | Mapping[str, str | os.PathLike[str]] | None, graph: Graph
) -> list[tuple[Path, Part | None]]:
    """`build`'s `weights`, each file checked readable (E001): the file for the whole model, or
    each file with the `spec` block it goes into (a name that is none: E003)."""
    from archspec.backends.keras.weights import Part, check_file
    from archspec.core.errors import did_you_mean

    if weights is None:
        return []
    if not isinstance(weights, Mapping):
        return [(check_file(weights), None)]
    parts = _spec_blocks(graph)
    out: list[tuple[Path, Part | None]] = []
    for name, path in weights.items():
        if name in graph.includes and name not in parts:
            raise usage_error("E003", f"--weights {name}=...: the `spec` block `{name}` feeds no "
                              "output, so its layers were left out (W301): nothing takes the "
                              "file", hint="read it from a later block (`inputs`)")  # fmt: skip
        if name not in parts:
            listed = ", ".join(f"`{p}`" for p in parts)
            raise usage_error(
                "E003",
                f"--weights {name}=...: `{name}` is not a `spec` block of `{graph.name}`",
                hint=(did_you_mean(name, parts) or f"its `spec` blocks: {listed}") if parts
                else "NAME=FILE loads a file into an included spec (`type: spec`), and this "
                "spec includes none: give the file alone to load the whole model (a spec "
                "`render` wrote has an include's blocks written out: load the file into the "
                "spec that includes it)",
            )  # fmt: skip
        out.append((check_file(path), Part(name, frozenset(parts[name]))))
    return out


def export(built: Build, status: Status | None = None, *, force: bool | None = None) -> Saved:
    """Save the model of `build(spec, output, ...)` to its output atomically (with `verify`,
    reloaded and compared with Keras first; nothing is written if it differs).

    `force`: replace an existing target (default: what `build` was given). A target that
    appeared since `build`, a second export of one build, is E002 whose hint says
    `force=True`; given here, the target is checked again as `build(force=True)` checks it (a
    folder is still replaced only by a SavedModel)."""
    from archspec.backends.keras.save import check_target
    from archspec.backends.keras.save import export as save

    if built.target is None:
        raise ValueError("export() needs a model built with an output: build(spec, output)")
    target = built.target
    if force is None:
        force = built.force
    elif force and not built.force:
        again = check_target(target.path, True, target.format, built.verify, built.backend)
        target = dataclasses.replace(again, cleaned=target.cleaned + again.cleaned)
    return save(built.model, target, force=force, verify=built.verify,
                tolerance=built.tolerance, status=status, shapes=built.shapes)  # fmt: skip


def expand(
    spec: str | os.PathLike[str], sets: Sequence[str] = (), limits: Limits | None = None
) -> str:
    """`spec` fully expanded (params, defaults, repeats and user-defined blocks resolved) as
    YAML that is itself a valid spec building the same model (`archspec render`)."""
    from archspec.render.spec import render_spec

    resolved = load(spec, sets=sets, limits=limits)
    analyze(resolved)  # shape errors too: what is rendered must build
    name = os.fspath(spec)
    source = " ".join([STDIN_NAME if name == STDIN_ARG else name, *(f"--set {s}" for s in sets)])
    return render_spec(resolved, source=source)  # the header says which family member


def member(name: str, sets: Sequence[str]) -> str:
    """A model's name with the `--set` values that made it (`efficientnet variant=b3`), for
    titles: which member of a family a diagram or a diff shows. A name set twice shows its
    last value, which is the one used."""
    return " ".join([name, *last_sets(sets)])


def _side(spec: str | os.PathLike[str], sets: Sequence[str], own: Sequence[str], side: str,
          limits: Limits | None) -> tuple[Graph, Checks]:  # fmt: skip
    """One side of `diff`, analyzed, with its `budget` and `expect` evaluated as `check` does:
    its errors note the side (both may be one family file), and a bad `--old-set` /
    `--new-set` is named as such, not as `--set`."""
    from archspec.core.errors import ArchspecError, Related
    from archspec.frontend.resolve.origins import SetItem
    from archspec.render.diff import Checks

    option = f"--{side.lower()}-set"
    try:
        resolved = load(spec, sets=[*sets, *(SetItem(s, option) for s in own)], limits=limits)
        graph = analyze(resolved)
        return graph, Checks.of(resolved, graph)
    except ArchspecError as e:
        words = [os.fspath(spec), *(f"--set {s}" for s in sets), *(f"{option} {s}" for s in own)]
        note = Related(f"in {side} ({' '.join(words)})")
        for k, d in enumerate(e.diagnostics):
            e.diagnostics[k] = dataclasses.replace(d, related=(*d.related, note))
        raise


def default_plot(spec: str | os.PathLike[str], sets: Sequence[str]) -> Path:
    """`plot`'s file without `-o`: `<spec file stem>.svg`, with each `--set` value after it
    (`efficientnet_b7.svg`), so that two members of a family do not claim one file, in the
    order of the params' names, a zoo family's member first (`--set width=2 --set depth=1` and
    the same the other way round are one model, and one file). A zoo name is its file's
    (`ResNet50` is `resnet50.svg`; `EfficientNetB3`, `efficientnet_b3.svg`)."""
    from archspec.core.errors import ArchspecError

    try:
        file, member = resolve_spec(spec)
    except ArchspecError:  # reported when the spec is loaded
        file, member = Path(spec), None
    # a family's member first (`efficientnet_b3_192`), then the others by name
    chooser = (members_of(file) or ("",))[0] if is_family(file) else ""
    items = sorted(last_sets([*([member] if member else []), *sets]),
                   key=lambda s: (set_name(s) != chooser, set_name(s)))  # fmt: skip
    values = [re.sub(r"[^\w.+-]+", "_", s.partition("=")[2]).strip("_.") for s in items]
    name = "_".join([file.stem, *filter(None, values)])
    data = os.fsencode(name)
    if len(data) > 100:  # a long list given by --set: cut (bytes: CJK are 3), told apart by a
        cut = data[:90].decode("utf-8", "ignore")  # digest; ends on a whole character
        name = f"{cut}_{hashlib.sha256(data).hexdigest()[:8]}"
    return Path(name + ".svg")


@dataclass(frozen=True)
class Compared:
    """What `archspec diff` prints, and NEW's failures of its own `budget` and `expect`
    (E601-E603, as `check` finds them), which make its exit code 1; OLD's are only shown."""

    text: str
    failures: tuple[Diagnostic, ...] = ()

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


def diff(
    old: str | os.PathLike[str],
    new: str | os.PathLike[str],
    format: str = "text",
    sets: Sequence[str] = (),
    limits: Limits | None = None,
    *,
    old_sets: Sequence[str] = (),
    new_sets: Sequence[str] = (),
) -> str:
    """Two specs compared (`archspec diff`) as `format`: text, json, or markdown (a PR comment),
    in any case: blocks added, removed and changed; params and MACs before and after; `budget`
    and `expect` keys, and each side's failures of them. `sets` apply to both specs, then
    `old_sets` to the old one and `new_sets` to the new one. `compare` says the exit code too."""
    return compare(old, new, format, sets, limits, old_sets=old_sets, new_sets=new_sets).text


def compare(
    old: str | os.PathLike[str],
    new: str | os.PathLike[str],
    format: str = "text",
    sets: Sequence[str] = (),
    limits: Limits | None = None,
    *,
    old_sets: Sequence[str] = (),
    new_sets: Sequence[str] = (),
) -> Compared:
    """`diff`, with NEW's budget and expect failures apart (the CLI's exit code 1)."""
    import json

    from archspec.core.errors import ArchspecError, usage_error
    from archspec.render import diff as diffing

    if format.lower() not in diffing.FORMATS:
        raise usage_error(
            "E003", f"--format must be one of {', '.join(diffing.FORMATS)}; received {format!r}"
        )
    format = format.lower()
    if os.fspath(old) == os.fspath(new) == STDIN_ARG:
        raise usage_error("E003", "standard input (`-`) can be read once: OLD or NEW, not both")
    from archspec.frontend.resolve.origins import SetItem
    from archspec.frontend.resolve.params import split_set

    for item in [*sets, *(SetItem(s, "--old-set") for s in old_sets),
                 *(SetItem(s, "--new-set") for s in new_sets)]:  # fmt: skip
        split_set(item)  # not NAME=VALUE: the command's mistake, once (not once per side)
    graphs, errors = [], []
    for spec, own, side in ((old, old_sets, "OLD"), (new, new_sets, "NEW")):
        try:
            graphs.append(_side(spec, sets, own, side, limits))
        except ArchspecError as e:  # both sides' errors are reported, OLD's first
            errors.append(e)
    if errors:
        worst = max(errors, key=lambda e: e.exit_code)  # a usage error (2) over a spec's (1)
        raise type(worst)([d for e in errors for d in e.diagnostics])
    (old_graph, old_checks), (new_graph, new_checks) = graphs
    result = diffing.diff(old_graph, new_graph, old_checks, new_checks)
    failures = new_checks.failures
    side_sets = last_sets([*sets, *old_sets]), last_sets([*sets, *new_sets])
    if format == "json":  # the names stay the models'; each side's --set values beside them
        out = diffing.to_json(result)
        out["old"]["sets"], out["new"]["sets"] = side_sets
        return Compared(json.dumps(out, indent=2), failures)
    if sets or old_sets or new_sets:  # one family's two members: the names say which
        old_name = " ".join([result.old_name, *side_sets[0]])  # member(): already the last
        new_name = " ".join([result.new_name, *side_sets[1]])  # values of each name
        result = dataclasses.replace(result, old_name=old_name, new_name=new_name)
    render = diffing.format_markdown if format == "markdown" else diffing.format_text
    return Compared(render(result), failures)


def plot(
    spec: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    sets: Sequence[str] = (),
    limits: Limits | None = None,
    collapse: bool = False,
    rankdir: str = "TB",
    force: bool = False,
    status: Status | None = None,
) -> Path:
    """Draw `spec`'s architecture to `output` (.svg, .png, .dot; .pdf with a system Graphviz;
    .html: the interactive page; default: `default_plot`, here), atomically, and return
    where. A bad suffix, or an existing file without `force` (E002; a folder is always refused),
    fails before the spec is read. Never imports TensorFlow."""
    from archspec.core.errors import usage_error
    from archspec.core.files import names_a_file, not_a_folder
    from archspec.render import dot, html

    if output is None and os.fspath(spec) == STDIN_ARG:
        raise usage_error("E003", "a spec read from standard input has no file name to plot "
                          "to", hint="give the diagram's file: -o FILE")  # fmt: skip
    if output is not None:
        names_a_file(output, "a diagram")
    target = Path(output) if output is not None else default_plot(spec, sets)
    page = target.suffix.lower() == ".html"
    if not page:
        dot.output_format(target)
    elif rankdir.upper() == "LR":  # not taken quietly: the page's layout runs top to bottom
        raise usage_error("E003", "--rankdir LR: an .html page is laid out top to bottom",
                          hint="leave --rankdir out, or draw an .svg or .png")  # fmt: skip
    not_a_folder(target, "model.html" if page else "diagram.svg")
    if os.path.lexists(target) and not force:
        raise usage_error("E002", f"{target} exists", hint=FORCE_HINT)
    resolved = load(spec, sets=sets, limits=limits)
    graph = analyze(resolved)
    if sets:  # the title says which member of a family this is
        graph.name = member(graph.name, sets)
    with (status or (lambda _message: nullcontext()))(f"drawing {target}"):
        if page:
            html.plot_html(graph, target, collapse, rankdir.upper(), html.spec_lines(resolved))
        else:
            dot.plot(graph, target, collapse=collapse, rankdir=rankdir.upper())
    return target


def zoo() -> list[tuple[ZooEntry, Graph]]:
    """Every network of the model zoo (`archspec zoo`) with its static figures; a family at its
    default params. Never imports TensorFlow."""
    from archspec.frontend.zoo import entries

    return [(entry, analyze(entry.path)) for entry in entries()]
