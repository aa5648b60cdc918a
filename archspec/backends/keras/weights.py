"""Pretrained weights (`archspec build --weights FILE`): a weights file read with h5py and loaded
into a compiled model, layer by layer, every shape checked before anything is assigned.

Two layouts are read:

- keras.applications' HDF5 (`resnet50_weights_tf_dim_ordering_tf_kernels.h5`, what
  `keras.utils.get_file` caches under ~/.keras/models/, and Keras 2's `save_weights("x.h5")`):
  the root (or its `model_weights` group) lists `layer_names`; one group per layer lists its
  `weight_names`, in the layer's order (trainable, then non-trainable);
- Keras 3's `.weights.h5` (`model.save_weights`; also inside a `.keras` archive):
  `layers/<class>_<n>/vars/0..k`, the layer's name an attribute of `vars` (Keras >= 3.10; older
  files name layers only by class and counter). A layer whose weights live in sublayers (a
  plugin's layer holding two Dense layers as `self.fc1`, `self.fc2`) keeps them under the
  attribute's name, as Keras's `save_weights` walks it: `layers/shared_mlp/fc1/vars/0..k`
  (sublayers in a list or dict: `<attribute>/<class>`, `<class>_1`, ...); such a layer's
  variables are its own, then each sublayer's by path (Keras's order: private attributes last),
  and the paths must match as the shapes do.

Only layers with weights take part (Dropout, ZeroPadding2D, Reshape, ... are ignored on both
sides). Layers are paired by name where the names match; the others in order: the i-th unpaired
weighted layer of the model with the i-th unpaired one of the file (in a Keras 3 file, whose
`layers/` keeps no global order, the i-th of the same class, as Keras's own `load_weights`
pairs them). Any difference (a layer missing on either side, a shape that differs) is E803
(exit 1) naming the first layers that differ, and nothing is assigned.

A file can also go into one `spec` block (`--weights backbone=resnet50_notop.h5`): its layers,
named `<block>_<name in the file>` (or as they are, in a file saved from the same spec), are
paired by name and the others in order as above; the file's layers left over (a backbone cut
before its end) go unused, and the layers outside the block keep their initial weights.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archspec.core.errors import ArchspecError, Diagnostic, usage_error

if TYPE_CHECKING:
    import numpy as np

#: the layouts, as messages name them
LEGACY = "keras.applications HDF5"
KERAS3 = "Keras 3 .weights.h5"
ARCHIVE = "Keras 3 .keras archive"
#: how many differing pairs an error names
SHOWN = 3

Shapes = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class FileLayer:
    """One weighted layer of a weights file: its name (a Keras 3 file without names: its key,
    `conv2d_3`), its group for pairing by order (the class key in a Keras 3 file, else ""), and
    its arrays in the layer's order."""

    name: str
    group: str
    arrays: tuple[np.ndarray, ...]
    #: the sublayer each array belongs to (`fc1`; "" for the layer's own), where the layer
    #: keeps weights in sublayers (a Keras 3 file); empty for a layer whose weights are its own
    paths: tuple[str, ...] = ()

    @property
    def shapes(self) -> Shapes:
        return tuple(tuple(a.shape) for a in self.arrays)

    @property
    def nested(self) -> bool:
        return any(self.paths)


@dataclass(frozen=True)
class WeightsFile:
    """A weights file read into memory: its layout and its weighted layers in file order."""

    path: Path
    layout: str
    layers: tuple[FileLayer, ...]


@dataclass(frozen=True)
class Part:
    """A `spec` block a weights file goes into: its name and its Keras layers' names."""

    name: str
    layers: frozenset[str]

    def inner(self, layer: str) -> str:
        """Our layer's name in the included spec: `backbone_conv1_conv` -> `conv1_conv`."""
        return layer[len(self.name) + 1 :]


@dataclass(frozen=True)
class Loaded:
    """What `load` did: the file, its layout, how many layers were paired by name and by order,
    the `spec` block it went into (None: the whole model), how many of the file's layers that
    block has none for, and our layers that took its weights."""

    path: Path
    layout: str
    by_name: int
    by_order: int
    part: str | None = None
    unused: int = 0
    layers: frozenset[str] = frozenset()

    def describe(self) -> str:
        """`resnet50.h5 (keras.applications HDF5): 107 layers, 107 by name`; into a part:
        `... into `backbone`: 86 layers, 86 by name; 20 of the file's are not in `backbone``."""
        how = [f"{n} by {w}" for n, w in ((self.by_name, "name"), (self.by_order, "order")) if n]
        total = self.by_name + self.by_order
        into = f" into `{self.part}`" if self.part else ""
        text = f"{self.path} ({self.layout}){into}: {total} layers, " + " and ".join(
            how or ["none"]
        )
        if self.unused:
            verb = "is" if self.unused == 1 else "are"
            text += f"; {self.unused} of the file's {verb} not in `{self.part}` (not loaded)"
        return text


def check_file(path: str | os.PathLike[str]) -> Path:
    """`path` if it is a readable file; else E001 (exit 2). Cheap: nothing is imported."""
    p = Path(path)
    if not p.is_file():
        what = "is a folder" if p.is_dir() else "not found"
        part, sep, rest = str(path).partition("=")
        hint = (f"for the `spec` block `{part}`, pass weights={{{part!r}: {rest!r}}} (the "
                f"command line's `--weights {part}=FILE`)"
                if sep and part.isidentifier() and Path(rest).is_file() else None)  # fmt: skip
        raise usage_error("E001", f"weights file {p}: {what}", hint=hint, file=str(p))
    if not os.access(p, os.R_OK):
        raise usage_error("E001", f"weights file {p}: not readable", file=str(p))
    return p


def read(path: str | os.PathLike[str]) -> WeightsFile:
    """Read a weights file of either layout (or a `.keras` archive) without TensorFlow.
    Not HDF5: E001 (exit 2); HDF5 of neither layout: E803 (exit 1)."""
    p = check_file(path)
    with _open(p) as (root, archive):
        try:
            group = root.get("model_weights", root)
            if "layer_names" in group.attrs:
                return WeightsFile(p, LEGACY, tuple(_legacy_layers(group)))
            if isinstance(root.get("layers"), _h5py().Group):
                layout = ARCHIVE if archive else KERAS3
                return WeightsFile(p, layout, tuple(_keras3_layers(root["layers"])))
        except (TypeError, KeyError, AttributeError, ValueError, IndexError) as e:
            # a structure of neither layout: names that are not strings or name nothing, a
            # dataset where a group belongs, ...
            raise _error(
                p,
                f"weights file {p} is HDF5 but its structure is not a weights layout: "
                f"{type(e).__name__}: {str(e)[:200]}",
                "expected keras.applications' layout (`layer_names` at the root) or Keras "
                "3's (`layers/.../vars`)",
            ) from None
    raise _error(
        p,
        f"weights file {p} is HDF5 but holds no weights in a layout archspec reads",
        "expected keras.applications' layout (`layer_names` at the root) or Keras 3's "
        "(`layers/.../vars`)",
    )


def load(model: Any, files: Sequence[tuple[WeightsFile, Part | None]]) -> tuple[Loaded, ...]:
    """Assign each weights file to `model`'s layers, or to those of the `spec` block with it
    (see the module's docstring for the pairing). Checks every pair of every file first: on
    any difference, E803 and the model is left as it was."""
    weighted = [layer for layer in model.layers if layer.weights]
    matched = []
    for weights, part in files:
        by_class = weights.layout in (KERAS3, ARCHIVE) and all(f.group for f in weights.layers)
        if part is None:
            ours = weighted
            pairs = _pair(ours, list(weights.layers), by_class)
        else:  # a layer's name in the included spec, or as it is (a file saved from this spec)
            names = {f.name for f in weights.layers}
            ours = [layer for layer in weighted if layer.name in part.layers]
            within = {a.name: a.name if a.name in names else part.inner(a.name) for a in ours}
            pairs = _pair(ours, list(weights.layers), by_class, within)
            # the file's layers past the part's (a backbone cut before its end) go unused
            pairs = [(a, b, named) for a, b, named in pairs if a is not None]
        differences = [(a, b) for a, b, _ in pairs if a is None or b is None or not _fits(a, b)]
        if differences:
            raise _mismatch(model, weights, len(ours), differences, part)
        matched.append((weights, part, pairs))
    done = []
    for weights, part, pairs in matched:
        for layer, file_layer, _ in pairs:
            assert layer is not None and file_layer is not None
            variables = _variables(layer, file_layer.nested)
            for (_, variable), array in zip(variables, file_layer.arrays, strict=True):
                variable.assign(array.astype(variable.dtype, copy=False))
            if hasattr(layer, "finalize_state"):  # Normalization: its mean and variance tensors
                layer.finalize_state()
        by_name = sum(named for _, _, named in pairs)
        done.append(Loaded(
            weights.path, weights.layout, by_name, len(pairs) - by_name,
            part.name if part else None, len(weights.layers) - len(pairs),
            frozenset(a.name for a, _, _ in pairs),
        ))  # fmt: skip
    return tuple(done)


# --- pairing --------------------------------------------------------------------------------


def _pair(
    ours: list[Any],
    theirs: list[FileLayer],
    by_class: bool,
    within: Mapping[str, str] = {},
) -> list[tuple[Any, FileLayer | None, bool]]:
    """(our layer or None, the file's or None, paired by name) in our layer order; the file's
    layers that nothing pairs with come last. `within`: our layer's name in the file, where it
    is another."""
    names = {f.name: f for f in theirs}
    key = {id(layer): within.get(layer.name, layer.name) for layer in ours}
    named = {id(layer): names[key[id(layer)]] for layer in ours if key[id(layer)] in names}
    used = {id(f) for f in named.values()}
    queues: dict[str, list[FileLayer]] = {}
    for f in theirs:
        if id(f) not in used:
            queues.setdefault(f.group if by_class else "", []).append(f)
    out: list[tuple[Any, FileLayer | None, bool]] = []
    for layer in ours:
        if id(layer) in named:
            out.append((layer, named[id(layer)], True))
            continue
        queue = queues.get(_class_key(layer) if by_class else "", [])
        out.append((layer, queue.pop(0) if queue else None, False))
    rest = [f for queue in queues.values() for f in queue]
    return out + [(None, f, False) for f in sorted(rest, key=theirs.index)]


def _variables(layer: Any, nested: bool = False) -> list[tuple[str, Any]]:
    """A layer's variables in the order both layouts store them: trainable, then not; with
    `nested` (the file keeps the layer's weights in its sublayers), its own then each weighted
    sublayer's, by path as Keras's `save_weights` walks them (_sublayers). Each with its
    sublayer's path ("" for the layer's own)."""
    if not nested:
        return [("", v) for v in (*layer.trainable_weights, *layer.non_trainable_weights)]
    return [(path, v) for path, own in _sublayers(layer) for v in own]


def _sublayers(layer: Any) -> list[tuple[str, list[Any]]]:
    """(path, the variables Keras saves as its own) of `layer` ("") and of every sublayer with
    variables, in Keras's order: a sublayer under the attribute that holds it (`fc1`), those of
    a list or dict under `<attribute>/<snake_case class>[_n]`; attributes by name, private ones
    last; a sublayer reached twice is saved once, where first reached (Keras's saving_lib)."""
    seen: set[int] = set()
    out: list[tuple[str, list[Any]]] = []

    def own(obj: Any) -> list[Any]:
        return [*obj._trainable_variables, *obj._non_trainable_variables]

    def visit(obj: Any, path: str) -> None:
        if hasattr(obj, "_trainable_variables") and hasattr(obj, "_non_trainable_variables"):
            if id(obj) in seen:
                return
            seen.add(id(obj))
            if own(obj) or not path:
                out.append((path, own(obj)))
            for attr in sorted(vars(obj), key=_attribute_key):
                if attr != "_layers":  # Keras's own list of the same sublayers: not walked
                    visit(vars(obj)[attr], _join(path, attr))
        elif isinstance(obj, (list, tuple, dict)):
            used: dict[str, int] = {}
            for item in obj.values() if isinstance(obj, dict) else obj:
                layer_like = hasattr(item, "_trainable_variables")
                if layer_like or isinstance(item, (list, tuple, dict)):
                    base = _class_key(item) if layer_like else "container"
                    used[base] = used.get(base, -1) + 1
                    visit(item, _join(path, base + (f"_{used[base]}" if used[base] else "")))

    visit(layer, "")
    return out


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _attribute_key(name: str) -> str:
    """Keras's order of a saveable's attributes: by name, private ones last."""
    return f"~{name}" if name.startswith("_") else name


def _fits(layer: Any, file_layer: FileLayer) -> bool:
    """Whether the file's layer fits ours: the same shapes, and the same sublayers where the
    file keeps the weights in sublayers."""
    ours = _variables(layer, file_layer.nested)  # (worked out once: Keras's walk)
    if tuple(tuple(int(d) for d in v.shape) for _, v in ours) != file_layer.shapes:
        return False
    return not file_layer.nested or tuple(p for p, _ in ours) == file_layer.paths


def _shapes(layer: Any, nested: bool = False) -> Shapes:
    return tuple(tuple(int(d) for d in v.shape) for _, v in _variables(layer, nested))


def _class_key(layer: Any) -> str:
    """Keras's key for a layer's class in a .weights.h5 (naming.to_snake_case)."""
    name = re.sub(r"\W+", "", type(layer).__name__)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# --- errors ---------------------------------------------------------------------------------


def _mismatch(
    model: Any,
    weights: WeightsFile,
    count: int,
    differences: Sequence[tuple[Any, FileLayer | None]],
    part: Part | None = None,
) -> ArchspecError:
    def ours(layer: Any, f: FileLayer | None) -> str:
        if layer is None:
            return "no layer"
        nested = f is not None and f.nested
        paths = tuple(p for p, _ in _variables(layer, nested)) if nested else ()
        return f"`{layer.name}` {_show(_shapes(layer, nested), paths)}"

    def theirs(a: Any, f: FileLayer | None) -> str:
        if f is not None:
            return f"the file's `{f.name}` {_show(f.shapes, f.paths)}"
        if part is None:
            return "nothing in the file"
        return f"nothing in the file named `{part.inner(a.name)}` (nor left to pair in order)"

    shown = "; ".join(f"{ours(a, b)} vs {theirs(a, b)}" for a, b in differences[:SHOWN])
    more = len(differences) - SHOWN
    if part is None:
        what, here = f"`{model.name}`", "here"
        hint = _classifier_hint(model, differences) or (
            "pass the weights of the network this spec builds (the zoo's layer names are "
            "keras.applications', e.g. specs/resnet50.yaml takes ResNet50's)")  # fmt: skip
    elif all(b is None for _, b in differences):  # the file ends before the part does
        what, here = f"the `spec` block `{part.name}`", "there"
        hint = (f"if the file is a backbone's without its classifier (`_notop`), cut "
                f"`{part.name}` before the classifier: list the block its head reads in its "
                "`outputs`")  # fmt: skip
    else:
        what, here = f"the `spec` block `{part.name}`", "there"
        hint = (f"pass the weights of the spec `{part.name}` includes (by layer name, the others "
                "in order; a backbone without its classifier takes keras.applications' "
                "`_notop` file)")  # fmt: skip
    return _error(
        weights.path,
        f"weights file {weights.path} ({weights.layout}) does not fit {what}: "
        f"{count} weighted layers {here}, {len(weights.layers)} in the file; "
        f"{len(differences)} mismatch{'' if len(differences) == 1 else 'es'} (a pair of "
        f"layers whose shapes differ, or a layer with no partner), first: {shown}"
        + (f" (and {more} more)" if more > 0 else "")
        + "; nothing was loaded or written",
        hint,
    )  # fmt: skip


#: how to train a new head on a file's features (README: Pretrained weights)
_NEW_HEAD = ("to train a new head on the file's features, include the network as a `spec` block "
             "cut before its classifier (its `outputs`) and load the file into that block "
             "alone: --weights NAME=FILE (in Python: weights={NAME: FILE})")  # fmt: skip


def _classifier_hint(model: Any, differences: Sequence[tuple[Any, FileLayer | None]]
                     ) -> str | None:  # fmt: skip
    """E803's hint where the whole model differs from the file in its classifier alone (its
    last weighted layer, a Dense): the file's has other classes (ImageNet's 1000 into a
    10-class copy of the network), or the file has none (a `_notop` file)."""
    weighted = [layer for layer in model.layers if layer.weights]
    last = weighted[-1] if weighted else None
    if last is None or type(last).__name__ != "Dense" or not differences:
        return None
    if len(differences) == 1 and differences[0][0] is last and differences[0][1] is not None:
        theirs, ours = differences[0][1].shapes, _shapes(last)
        classes = theirs[0][-1] if theirs and len(theirs[0]) == 2 else None
        if (classes is None or len(theirs) != len(ours) or theirs[0][:-1] != ours[0][:-1]
                or any(t != (classes,) for t in theirs[1:])):  # fmt: skip
            return None  # not a dense of other units
        return (f"the file's classifier `{differences[0][1].name}` has {classes:,} classes, "
                f"this spec's `{last.name}` {ours[0][-1]:,}: to use the file's, set its `units` "
                f"to {classes}; or, {_NEW_HEAD}")  # fmt: skip
    # the trailing layers alone, all dense (VGG's top has three): a `_notop` file; a file
    # that lacks a conv too is not one (cutting before the classifier would not fit it)
    if all(b is None and type(a).__name__ == "Dense" for a, b in differences) and [
            a for a, _ in differences] == weighted[-len(differences):]:  # fmt: skip
        return (
            f"the file has no classifier (a `_notop` file, include_top=False): nothing in "
            f"it for `{last.name}`; pass the file with the classifier, or, {_NEW_HEAD}"
        )
    return None


def _show(shapes: Shapes, paths: tuple[str, ...] = ()) -> str:
    """`[32x4, 4]`; with the sublayers' paths, `[fc1: 32x4, 4; fc2: 4x32, 32]`."""
    if not any(paths):
        return "[" + ", ".join("x".join(map(str, s)) or "scalar" for s in shapes) + "]"
    parts: dict[str, list[str]] = {}
    for path, s in zip(paths, shapes, strict=True):
        parts.setdefault(path or "own", []).append("x".join(map(str, s)) or "scalar")
    return "[" + "; ".join(f"{p}: {', '.join(v)}" for p, v in parts.items()) + "]"


def _error(path: Path, message: str, hint: str) -> ArchspecError:
    return ArchspecError(Diagnostic(code="E803", message=message, file=str(path), hint=hint))


# --- reading the layouts --------------------------------------------------------------------


def _h5py() -> Any:
    import h5py  # type: ignore[import-untyped]

    return h5py


@contextmanager
def _open(path: Path) -> Iterator[tuple[Any, bool]]:
    """The HDF5 root of `path` (of the weights in a `.keras` archive), and whether it was an
    archive; E001 if it is neither."""
    h5py = _h5py()
    source: Any = path
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if "model.weights.h5" not in archive.namelist():
                raise usage_error("E001", f"weights file {path}: a zip without model.weights.h5",
                                  file=str(path))  # fmt: skip
            info = archive.getinfo("model.weights.h5")
            # read into memory only what the machine can hold and what a zip can honestly hold:
            # a member far larger than the archive (a zip bomb) is refused
            if info.file_size > max(64 * info.compress_size, 1 << 30):
                raise usage_error(
                    "E001",
                    f"weights file {path}: model.weights.h5 unpacks to {info.file_size:,} "
                    f"bytes from {info.compress_size:,}",
                    hint="a .keras archive stores its weights uncompressed",
                    file=str(path),
                )
            source = io.BytesIO(archive.read("model.weights.h5"))
    elif not h5py.is_hdf5(path):
        keras = Path(path).suffix.lower() == ".keras"
        raise usage_error(
            "E001",
            f"weights file {path}: " + ("not a .keras archive (a zip)" if keras
                                        else "not an HDF5 file"),
            hint="the file may be truncated or damaged: copy it again" if keras else
            "pass a keras.applications .h5 file, a Keras 3 .weights.h5 or a .keras archive",
            file=str(path),
        )  # fmt: skip
    try:
        root = h5py.File(source, "r")
    except OSError as e:
        raise usage_error("E001", f"weights file {path}: cannot read it: {e}",
                          hint="the file may be truncated or damaged: copy it again",
                          file=str(path)) from e  # fmt: skip
    with root:
        yield root, source is not path


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _legacy_layers(group: Any) -> Iterator[FileLayer]:
    """The weighted layers, in the file's order; a nested model's (ConvNeXt's stem, a
    Sequential whose weights are `stem/stem_conv/kernel`, ...) as its own layers, which is how
    archspec emits them."""
    import numpy as np  # here: check_file runs on a core install, which has no numpy

    for name in map(_text, group.attrs["layer_names"]):
        layer = group[name]
        weights = [_text(w) for w in layer.attrs.get("weight_names", [])]
        # after the layer's own name (Keras 2's DenseNet names layers `conv1/conv`), `kernel`
        # is its own weight, `inner/kernel` one of a nested model's layer `inner`
        rest = [w.removeprefix(name + "/") for w in weights]
        nested = all(
            w.startswith(name + "/") and "/" in r for w, r in zip(weights, rest, strict=True)
        )
        inner = [r.split("/")[0] if nested else name for r in rest]
        for sub in dict.fromkeys(inner):
            arrays = tuple(np.asarray(layer[w]) for w, i in zip(weights, inner, strict=True)
                           if i == sub)  # fmt: skip
            yield FileLayer(sub, "", arrays)


def _keras3_layers(layers: Any) -> Iterator[FileLayer]:
    """The weighted layers under `layers/`, a class's layers in their counter order (the
    model's order within a class; across classes h5py lists the keys alphabetically)."""

    def order(key: str) -> tuple[str, int]:
        m = re.fullmatch(r"(.*?)(?:_(\d+))?", key)
        assert m is not None
        return (m.group(1), int(m.group(2) or -1) + 1)

    for key in sorted(layers, key=order):
        nested = layers[key].get("layers")
        if nested is not None:  # a nested model (ConvNeXt's stem): its layers, as archspec's
            yield from _keras3_layers(nested)
        variables = layers[key].get("vars")
        if variables is None:
            continue
        own = _arrays(variables)
        subs = list(_nested_vars(layers[key], ""))
        if not own and not subs:
            continue
        name = _text(variables.attrs.get("name", key))
        paths = tuple(p for p, arrays in [("", own), *subs] for _ in arrays) if subs else ()
        arrays = (*own, *(a for _, group in subs for a in group))
        yield FileLayer(name, order(key)[0], arrays, paths)


def _arrays(variables: Any) -> tuple[np.ndarray, ...]:
    import numpy as np

    return tuple(np.asarray(variables[k]) for k in sorted(variables, key=int))


def _nested_vars(group: Any, path: str) -> Iterator[tuple[str, tuple[np.ndarray, ...]]]:
    """The variables a layer's sublayers keep under its group (`fc1/vars/0..k`), each with its
    path, in Keras's order (_attribute_key); a SeedGenerator's state (`seed_generator/vars`,
    a Dropout's) is no weight and is left out, as Keras's `layer.weights` leaves it out."""
    h5py = _h5py()
    if path.count("/") >= MAX_NESTING:  # a file of groups linked in a loop, or a hostile one
        raise ValueError(f"sublayers nested more than {MAX_NESTING} deep at {path}")
    for key in sorted(group, key=_attribute_key):
        child = group[key]
        if key in ("vars", "layers") or key.startswith("seed_generator"):
            continue
        if not isinstance(child, h5py.Group):
            continue
        inner = _join(path, key)
        variables = child.get("vars")
        if isinstance(variables, h5py.Group) and len(variables):
            yield inner, _arrays(variables)
        yield from _nested_vars(child, inner)


#: how deep sublayers are read (E803 beyond: a file's groups may link in a loop)
MAX_NESTING = 32
