"""`type: spec`: another spec included as a block (a backbone under a head).

`{type: spec, name: backbone, path: resnet50.yaml, set: {width: 32}, outputs: [conv4_block6]}`:

- `path` is a spec file relative to the including file's folder (the working folder for a spec
  given as text); where no such file exists, a bare name is a zoo spec: `specs/<name>.yaml`,
  then `specs/families/<name>.yaml` (the zoo shipped with the package: frontend/zoo.py), in
  Keras's spelling too, or a family's member (`efficientnet_b3`: the family, `variant: b3` set
  first).
- `set` replaces params of the included spec, as `--set` does (its keys must be its params).
- The included spec is resolved on its own (its params, defaults, define) with its one input
  taking this block's input: their shapes must agree where both are known (the included input's
  unknown sizes take this block's; this block's shape is what the included blocks see).
- Its blocks join this spec's, renamed `<name>_<inner name>` (so its layers are
  `<name>_<inner layer name>`), grouped under this block (dot.py draws a cluster); those no
  output needs are pruned by lower without a warning.
- `outputs` (default: the included spec's outputs) are exposed: later blocks read one as
  `<name>.<inner name>`, and `<name>` alone is the first. One listed that nothing outside the
  included spec reads, and a `spec` block that feeds no output, are pruned with a warning (W301,
  lower.py).
- A `spec` block stands in the top-level `blocks` only (not inside `define`), and is not
  repeated.
- Errors inside the included file point into it, with a note at the including block (`noting`,
  and `Item.notes` for the errors found when lowering). A missing or unreadable file, an include
  cycle and includes nested deeper than MAX_DEPTH are errors at `path`. The included blocks
  count toward the limit on blocks (and layers); the included file's size is limited as any.
- One spec's includes share a `Tree`: each file is read once, however often it is included,
  and every inclusion counts its file's YAML events against the limit on events (E703), so a
  chain of includes of a large file cannot multiply the work past the limits.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError, model_validator

from archspec.blocks import Block
from archspec.blocks.base import Identifier
from archspec.core.errors import (
    ArchspecError,
    Diagnostic,
    KeyPath,
    KeyValueError,
    Related,
    SpecError,
    closest,
    did_you_mean,
    format_path,
)
from archspec.core.units import Shape, shape_str
from archspec.frontend import expr, zoo
from archspec.frontend.loader import Document, read_file
from archspec.frontend.lowering import layout_text
from archspec.frontend.resolve.errors import fail
from archspec.frontend.resolve.params import parse_sets, split_set
from archspec.frontend.resolve.scope import Scope, listed
from archspec.frontend.schema import NOT_THE_NETWORK, SpecModel
from archspec.frontend.translate import translate

KIND = "spec"
#: the zoo: the repository's specs/ folder (another issue ships it inside the package)
#: how deep includes may nest (a includes b includes c ...)
MAX_DEPTH = 16


class SpecUse(Block):
    """A `spec` block: another spec file included as a block, once (no `repeat` or
    `repeat_names`)."""

    repeatable: ClassVar[bool] = False

    type: Literal["spec"] = Field(default="spec", description="The block type.")
    path: Annotated[str, Field(min_length=1, max_length=4096)] = Field(
        description="A spec file relative to this one, or the name of a zoo spec (`resnet50`)."
    )
    set: dict[Identifier, Any] = Field(
        default_factory=dict, description="Values of the included spec's params, as `--set`."
    )
    outputs: Annotated[list[Identifier], Field(min_length=1)] | None = Field(
        default=None,
        description="Names of its blocks to expose (read as `<name>.<block>`): top-level ones, "
        "or one within a user-defined block (`block_13_expand_relu`); default: its outputs.",
    )
    any_size: bool = Field(
        default=False,
        description="Take this block's input whatever its height and width, where the channels "
        "agree (as keras.applications' `input_shape`): a zoo backbone at 512 x 512; default: "
        "the shapes must agree.",
    )

    @model_validator(mode="after")
    def _once(self) -> SpecUse:
        if self.repeat != 1 or self.repeat_names != "number":  # at the key
            raise KeyValueError(
                "a `spec` block is included once: no `repeat` or `repeat_names`",
                "repeat" if self.repeat != 1 else "repeat_names",
            )
        return self


def check(doc: Document, raw: Any, path: KeyPath, scope: Scope) -> SpecUse | list[Diagnostic]:
    """The `spec` block `raw` at `path` validated, or what is wrong with it."""
    if scope.use is not None:
        raise fail(doc, "E505", f"{format_path(path)}: a `spec` block can only stand in the "
                   "top-level `blocks`, not inside a user-defined block", (*path, "type"),
                   use=scope.use, hint="include the spec at the top level and read its "
                   "outputs with `inputs`")  # fmt: skip
    try:
        return SpecUse.model_validate(raw)
    except ValidationError as e:
        keys = [k for k in SpecUse.model_fields if k not in ("repeat", "repeat_names")]  # E505
        return translate(e, raw, doc, path, "a `spec` block", keys, SpecUse)


def including(doc: Document, path: KeyPath) -> Related:
    """The note at the `spec` block at `path` that includes a file."""
    pos = doc.locate(path)
    return Related(f"in the spec included by {format_path(path)}", doc.file,
                   *(pos or (None, None)))  # fmt: skip


@contextmanager
def noting(note: Related) -> Iterator[None]:
    """Errors raised inside (in an included file) gain `note` (at the including block)."""
    try:
        yield
    except SpecError as e:
        raise SpecError([dataclasses.replace(d, related=(*d.related, note))
                         for d in e.diagnostics]) from None  # fmt: skip


def zoo_names() -> list[str]:
    """The names of the zoo's specs."""
    return sorted(zoo.files())


def find(doc: Document, text: str, path: KeyPath) -> tuple[Path, str | None]:
    """The file that the `path` key (at `path`) names, `text`: relative to `doc`'s folder, else a
    zoo spec (zoo.named: a family member's name is its family, with the `--set` item that
    picks the member)."""
    folder = Path(doc.file).parent if not doc.file.startswith("<") else Path.cwd()
    where: KeyPath = (*path, "path")
    try:
        candidate = folder / text
        if candidate.is_file():
            # only a spec is read: the file itself (through any symlink) must be a regular
            # .yaml / .yml file, so that no other file's text (/proc/self/environ, a key)
            # can reach an error excerpt
            real = Path(os.path.realpath(candidate))
            if real.suffix.lower() not in (".yaml", ".yml") or not stat.S_ISREG(
                os.stat(real).st_mode
            ):
                # a link's target (a link in a folder above it is not the path's own doing)
                link = f"; it links to `{real.name}`" if candidate.is_symlink() else ""
                raise fail(doc, "E505", f"{format_path(where)}: `{text}` is not a spec file "
                           f"(a .yaml or .yml file){link}", where,
                           hint="include spec files only")  # fmt: skip
            return candidate, None
        stem = re.sub(r"\.ya?ml$", "", text)  # `resnet50.yaml`: the zoo's, as `resnet50`
        named = zoo.named(stem) if re.fullmatch(r"[\w-]+", stem) else None
        if os.path.lexists(candidate) and named is None:  # a folder, a device
            kind = "a folder" if candidate.is_dir() else "a special file (a device, FIFO or socket)"
            raise fail(doc, "E505", f"{format_path(where)}: `{text}` is {kind}, not a spec "
                       "file", where, hint="include a .yaml or .yml spec file")  # fmt: skip
        if named is not None:
            return named
    except (OSError, ValueError):  # a NUL byte, a name too long
        pass
    word = re.sub(r"\.ya?ml$", "", text)
    hint: str | None
    if "/" in text or text.endswith((".yaml", ".yml")):  # a file beside it first
        name = Path(word).name  # `x/efficientnet_b3.yaml`: a zoo name has no folder
        hint = zoo.sibling(Path(text), folder, doc.file) or (
            f"`{name}` is a zoo network: write `path: {name}`, without a folder"
            if re.fullmatch(r"[\w-]+", name) and zoo.named(name) is not None
            else did_you_mean(word, zoo_names()))  # fmt: skip
    else:  # `bb` beside `bb.yaml`: a path names a file with its suffix
        beside = [f"{text}{x}" for x in (".yaml", ".yml") if (folder / f"{text}{x}").is_file()]
        hint = (f"did you mean `{beside[0]}`?" if beside else  # or the family's members
                zoo.not_a_member(word, zoo.files()) or did_you_mean(word, zoo_names()))  # fmt: skip
    place = "the current folder" if str(folder) == "." else folder  # not `in .`
    spec = "the current folder" if doc.file.startswith("<") else "this spec"  # `check -`
    raise fail(doc, "E505", f"{format_path(where)}: no spec file `{text}` in {place}, "
               "nor a zoo spec of that name", where,
               hint=hint or f"give a path relative to {spec}, or a zoo name: "
               + ", ".join(zoo_names()))  # fmt: skip


def included_param(doc: Document, item: str) -> str | None:
    """The hint for a `--set` of a param that `doc` lacks (`fpn.yaml --set depth=101`) where a
    spec it includes has it, or is a zoo network of a family that has it: what to give the
    `spec` block instead."""
    name, value = split_set(item)
    blocks = doc.data.get("blocks") if isinstance(doc.data, dict) else None
    for k, raw in enumerate(blocks if isinstance(blocks, list) else []):
        if (
            not isinstance(raw, dict)
            or raw.get("type") != KIND
            or not isinstance(raw.get("path"), str)
        ):
            continue
        at = f"blocks[{k}]" + (f" (`{raw['name']}`)" if isinstance(raw.get("name"), str) else "")
        try:
            file, _ = find(doc, raw["path"], ("blocks", k))
            params = read_file(file).data.get("params")
        except ArchspecError:
            continue
        if isinstance(params, dict) and name in params:
            return (f"`{name}` is a param of the spec that {at} includes: give it in that "
                    f"block's `set` (`set: {{{name}: {value.strip()}}}`)")  # fmt: skip
        found = zoo.network_family(file, name)
        if found is not None:
            return (f"in the spec that {at} includes, {found[1]}: give `path: {found[0]}` and "
                    f"`set: {{{name}: {value.strip()}}}` there")  # fmt: skip
    return None


@dataclass
class Tree:
    """What the specs included by one top-level spec share: the files read so far (by real
    path), and the YAML events of every inclusion so far, the top-level file's included."""

    events: int
    read: dict[str, Document] = field(default_factory=dict)


def open_spec(doc: Document, use: SpecUse, path: KeyPath, chain: tuple[str, ...], tree: Tree
              ) -> tuple[Document, tuple[str, ...], str | None]:  # fmt: skip
    """The included file read (with `doc`'s limits; once per `tree`), the chain of files
    including it, and the `--set` item of a family member named (`find`). `chain`: the files
    that include `doc`, outermost first, then `doc` itself."""
    file, member = find(doc, use.path, path)
    key = os.path.realpath(file)
    where: KeyPath = (*path, "path")
    if key in chain:
        names = " -> ".join(os.path.basename(f) for f in (*chain, key))
        raise fail(doc, "E505", f"{format_path(where)}: include cycle: {names}", where,
                   hint="a spec cannot include itself, even through others")  # fmt: skip
    if len(chain) > MAX_DEPTH:
        raise fail(doc, "E505", f"{format_path(where)}: specs included more than {MAX_DEPTH} "
                   "deep", where, hint="flatten the includes")  # fmt: skip
    inner = tree.read.get(key)
    if inner is None:
        try:
            with noting(including(doc, path)):
                inner = tree.read[key] = read_file(file, doc.limits)
        except SpecError:
            raise
        except ArchspecError as e:  # unreadable: at `path`
            raise fail(doc, "E505", f"{format_path(where)}: {e.diagnostics[0].message}",
                       where) from None  # fmt: skip
    tree.events += inner.events
    if tree.events > doc.limits.events:
        raise fail(doc, "E703", f"{format_path(where)}: with this include, the spec and the "
                   f"specs it includes hold more than {doc.limits.events:,} YAML nodes (parser "
                   "events; a file counts each time it is included)", where,
                   hint="include fewer or smaller specs")  # fmt: skip
    return inner, (*chain, key), member


def with_set(doc: Document, use: SpecUse, path: KeyPath, inner: Document,
             member: str | None = None) -> tuple[Document, dict[str, Any]]:  # fmt: skip
    """The included document with `use.set` replacing its params (each must be one), after the
    `--set` item `member` of a family member named by `path` (`efficientnet_b3`: variant=b3);
    and its params before `use.set` (the member's own values: a `set` that repeats one changes
    nothing)."""
    params = inner.data.get("params", {})
    params = own = params if isinstance(params, dict) else {}
    if member is not None:
        # the value read as a --set value is (`depth=50`: 50, as the family's table keys are)
        ((param, typed),) = parse_sets([member], params, inner.file).items()
        if param in use.set and use.set[param] != typed:
            at: KeyPath = (*path, "set", param)
            family = Path(inner.file).stem
            raise fail(doc, "E503", f"{format_path(at)}: `{use.path}` is the member {member} of "
                       f"the zoo family `{family}`; `set` would pick another", at, key=True,
                       hint=f"name the family: `path: {family}`")  # fmt: skip
        own = {**params, param: typed}
        use = use.model_copy(update={"set": {param: typed, **use.set}})
    for key in use.set:
        if key not in params:
            raise fail(doc, "E503", f"{format_path((*path, 'set', key))}: the included spec "
                       f"has no param `{key}`", (*path, "set", key), key=True,
                       hint=did_you_mean(key, params) or _family(inner.file, key)
                       or _own_key(key)
                       or ("its params: " + ", ".join(params) if params
                           else "it has no params"))  # fmt: skip
    if not use.set:
        return inner, own
    return dataclasses.replace(inner, data={**inner.data, "params": {**params, **use.set}}), own


def _own_key(key: str) -> str | None:
    """The hint for a `set` entry that is one of the `spec` block's own keys (`set: {trainable:
    false}`), which `set` does not give."""
    if key in SpecUse.model_fields:
        return f"`{key}` is the `spec` block's own key: write it beside `path`, not in `set`"
    return None


def _family(file: str, key: str) -> str | None:
    """Where the included spec is a zoo network that a zoo family has as a member, and `set`
    gives that family's param (`path: resnet50` with `depth`): the family to name."""
    found = zoo.network_family(file, key)
    return (
        None
        if found is None
        else f"{found[1]}; for another, include the family: `path: {found[0]}`"
    )


def take_input(doc: Document, path: KeyPath, model: SpecModel, shape: Shape,
               any_size: bool = False, written: Any = None) -> SpecModel:  # fmt: skip
    """The included spec's model with its one input (named or not) taking this block's (of
    `shape`): where their sizes agree, or, with `any_size`, their channels (the last size).
    `written`: its data as written (an input computed from params that its blocks read is
    refused)."""
    inputs = model.input_shapes
    if len(inputs) != 1:
        raise fail(
            doc,
            "E505",
            f"{format_path(path)}: the included spec has {len(inputs)} "
            "inputs; a `spec` block includes a spec with one input",
            (*path, "path"),
        )
    (own,) = inputs.values()
    differ = [k for k, (a, b) in enumerate(zip(own, shape, strict=False))
              if a is not None and b is not None and a != b]  # fmt: skip
    spatial = len(own) == len(shape) > 1 and differ and differ[-1] < len(own) - 1
    if len(own) != len(shape) or (differ and not (any_size and spatial)):
        hint = ("the shapes must agree where both are known (a size of the included input "
                "left null takes this one's)")  # fmt: skip
        if spatial:
            hint += "; `any_size: true` takes this block's height and width"
        channels = len(own) == len(shape) and differ and differ[-1] == len(own) - 1
        layout = layout_text(shape)
        if layout is not None and (own[-1] is None or own[-1] == shape[0]):  # [3, 160, 160]
            hint = f"this block's input {layout[0]}: it looks channels first; {layout[1]}"
        elif channels:  # `any_size` or not, the channels must agree: say which differ
            hint = (f"the channels differ ({own[-1]} against {shape[-1]}): `any_size` lets the "
                    "height and width differ, never the channels; give this spec an input "
                    f"of {own[-1]} channels, or a 1x1 `conv` to {own[-1]} before this "
                    "block")  # fmt: skip
        raise fail(doc, "E401", f"{format_path(path)}: the included spec's input is "
                   f"{shape_str(own, 'spec')}, this block's input is {shape_str(shape, 'spec')}",
                   path, hint=hint)  # fmt: skip
    read = _input_params(written) if differ else []
    if read:  # its blocks would still read `size` at the value of its input's
        at: KeyPath = (*path, "any_size")
        raise fail(doc, "E505", f"{format_path(at)}: the included spec computes its input "
                   f"from its params ({', '.join(read)}), which its other keys read too", at,
                   key=True, hint="give the params their values in `set` instead")  # fmt: skip
    if model.inputs is not None:  # its one input named (`inputs: {image: ...}`): the name kept
        return model.model_copy(update={"inputs": {next(iter(inputs)): list(shape)}})
    return model.model_copy(update={"input": list(shape), "inputs": None})


def _input_params(written: Any) -> list[str]:
    """The params that the included spec's input (`written`: its data as written) is computed
    from, where anything but the input reads them, or a param computed from them (its blocks
    would keep the old size); [] where nothing does (EfficientNet's `resolution`)."""
    data = written if isinstance(written, dict) else {}
    params = data.get("params")
    params = params if isinstance(params, dict) else {}
    named = data.get("inputs")  # `inputs: {image: [...]}`: its one shape
    shapes = [data.get("input"), *(named.values() if isinstance(named, dict) else ())]

    def sizes(shape: Any) -> list[Any]:
        """The sizes as written: a list, or the list of the param the whole shape names
        (`input: "${shape}"`), else the one expression."""
        source = (expr.source_of(shape) or "").strip()
        alias = params.get(source) if source.isidentifier() else None
        return shape if isinstance(shape, list) else alias if isinstance(alias, list) else [shape]

    tainted = {n for shape in shapes for d in sizes(shape)
               for n in expr.names(expr.source_of(d) or "")}  # fmt: skip
    # (an included spec's `budget` and `expect` are not checked; its `require` is, at the
    # params' old values: refused as its blocks are)
    skip = (NOT_THE_NETWORK - {"require"}) | {"input", "inputs"}
    rest = {k: v for k, v in data.items() if k not in skip}
    return sorted(tainted) if expr.holds(rest, expr.reach(params, tainted)) else []


def _tap_hint(ref: str, close: str | None, blocks: list[str],
              inside: dict[str, tuple[str, str]]) -> str | None:  # fmt: skip
    """The hint for an output that names no block, where it is named as a layer within one
    (`block3a_expand_activation`: a walkthrough got "did you mean `top_activation`?")
    and the closest name (`close`) is not a block's of that one (`conv3_blok4`: `conv3_block4`),
    or where it begins the names of several (`conv4`: `conv4_block1` ... `conv4_block6`)."""
    owner = max((b for b in [*blocks, *inside] if ref.startswith(b + "_")), key=len, default=None)
    if owner is not None and not (close or "").startswith(owner + "_"):
        outer = f" (inside `{inside[owner][0]}`)" if owner not in blocks else ""
        return (
            f"`{ref}` is named as a layer of the block `{owner}`{outer}: a `spec` block "
            "exposes whole blocks' outputs (after their last layer), not a layer within one"
        )
    stage = [b for b in blocks if b.startswith(ref + "_")]
    if len(stage) > 1:
        return (
            f"no block is named `{ref}`; {len(stage)} begin with it, `{stage[0]}` ... "
            f"`{stage[-1]}`: where they run one after another, the last gives their output"
        )
    return None


def exposed(doc: Document, use: SpecUse, path: KeyPath, model: SpecModel, names: dict[str, str],
            outputs: list[str], inside: dict[str, tuple[str, str]]) -> dict[str, str]:  # fmt: skip
    """Exposed name -> final inner name: `use.outputs` (names of its top-level blocks, `names`
    mapping them, or the final names of blocks within a user-defined block, `inside`: each ->
    that instance (name, type)), or the included spec's `outputs` (`outputs`: final names)."""
    blocks = [n for n in names if n not in model.input_shapes]
    if use.outputs is None:
        written = model.outputs or outputs
        return {(w if "." not in w else o): o for w, o in zip(written, outputs, strict=True)}
    out: dict[str, str] = {}
    for k, ref in enumerate(use.outputs):
        where: KeyPath = (*path, "outputs", k)
        if ref not in blocks and ref not in inside:
            close = closest(ref, [*blocks, *inside])
            hint = (
                _tap_hint(ref, close, blocks, inside)
                or (None if close is None else f"did you mean `{close}`?")
                or listed(blocks)
            )
            raise fail(doc, "E301", f"{format_path(where)}: the included spec has no block "
                       f"`{ref}`", where, hint=hint)  # fmt: skip
        final = names[ref] if ref in blocks else ref  # ResNet's conv3_block4, in the stage conv3
        if final in model.input_shapes:
            raise fail(doc, "E301", f"{format_path(where)}: `{ref}` has `repeat: 0` and "
                       "passes on the included spec's input", where)  # fmt: skip
        if final in out.values():  # as the top-level `outputs` (scope.read_outputs)
            first = next(r for r in out if out[r] == final)
            j = use.outputs.index(first)
            raise fail(doc, "E302", f"{format_path(where)} `{ref}` and "
                       f"{format_path((*path, 'outputs', j))} `{first}` both name the block "
                       f"`{final}`", where, hint="name each output once")  # fmt: skip
        out[ref] = final
    return out
