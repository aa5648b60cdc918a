"""The model zoo, shipped inside the package, and SPEC names.

The zoo is the repository's top-level specs/ folder, installed as the package `archspec.zoo`
(pyproject.toml maps it; a regular and an editable install alike) and read with
importlib.resources; run from a checkout without installing, it is that checkout's specs/. Its
networks are specs/*.yaml and the families specs/families/*.yaml (one file, its members picked
with `--set`, e.g. `efficientnet --set variant=b3`); the tutorial's specs/seed/ and
specs/examples/ ship too but are not named.

`resolve_spec` is where a SPEC argument becomes a file: a path that exists wins; otherwise a
bare zoo name (`resnet50`, `efficientnet`) is that zoo file, and a family member's name
(`efficientnet_b3`) its family's file with the `--set` that picks it; otherwise E001, with a
did-you-mean over the zoo's names. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from archspec.core.errors import ArchspecError, folded, usage_error

#: the package the zoo is installed as
PACKAGE = "archspec.zoo"
#: the zoo's folder of families, inside it
FAMILIES = "families"


@cache
def root() -> Path:
    """The zoo's folder: the installed package data, else the checkout's specs/ folder."""
    try:
        found: Any = resources.files(PACKAGE)
    except ModuleNotFoundError:  # archspec imported from a checkout that is not installed
        found = None
    # A namespace package's files() is a MultiplexedPath, whose children are plain Paths
    probe = found.joinpath("resnet50.yaml") if found is not None else None
    if isinstance(probe, Path) and probe.parent.is_dir():
        return probe.parent
    checkout = Path(__file__).resolve().parents[2] / "specs"
    if checkout.is_dir():
        return checkout
    raise usage_error("E001", "the model zoo is not installed with archspec",
                      hint="reinstall it: pip install --force-reinstall archspec-cnn")  # fmt: skip


def _natural(path: Path) -> list[int | str]:
    """Sort key: resnet18 before resnet101."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.stem)]


def files() -> dict[str, Path]:
    """Zoo name -> spec file: the networks in natural order, then the families."""
    return dict(_found())


@cache
def _found() -> tuple[tuple[str, Path], ...]:
    """The zoo's files, looked for once per process: a SPEC that names the zoo is looked up
    by the folder search, `check`'s dedupe and loading."""
    top, families = root(), root() / FAMILIES
    found = sorted(top.glob("*.yaml"), key=_natural)
    found += sorted(families.glob("*.yaml"), key=_natural)
    return tuple((p.stem, p) for p in found)


def is_family(path: Path) -> bool:
    """Whether the zoo file at `path` is a family (members picked with --set)."""
    return path.parent.name == FAMILIES


def members(data: Any) -> tuple[str, str, list[str]] | None:
    """A family's `--set` choices, read from its params: the first param whose value is a key of
    a later mapping param (`variant: b0` and `scaling: {b0: ..., b7: ...}`), its default value
    and those keys."""
    params = data.get("params") if isinstance(data, dict) else None
    if not isinstance(params, dict):
        return None
    items = list(params.items())
    for i, (name, value) in enumerate(items):
        if isinstance(value, (dict, list)):
            continue
        for _, table in items[i + 1 :]:
            if isinstance(table, dict) and str(value) in {str(k) for k in table}:
                return str(name), str(value), [str(k) for k in table]
    return None


def resolve_spec(spec: str | os.PathLike[str], folders: bool = False) -> tuple[Path, str | None]:
    """The file a SPEC argument names, and the `--set` item that picks a family's member: the
    path itself where it exists (a file wins over a name; a folder only where the caller takes
    folders: `folders`, as `check` does), else the zoo's spec that the bare name names (`named`).
    Neither: E001, with a did-you-mean over the zoo's names."""
    text = os.fspath(spec)
    path = Path(text)
    bare = bool(text) and "/" not in text and os.sep not in text and path.suffix == ""
    exists = text == "-" or os.path.lexists(path)
    # a folder `resnet50` (`build -o resnet50` wrote one) does not hide the zoo's network
    if exists and (folders or not bare or not path.is_dir()):
        return path, None
    found = named(text) if bare else None
    if found is not None:
        return found
    if exists:
        return path, None
    zoo = files()
    what = ", ".join(["file", *(["folder"] if folders else []), *(["zoo network"] if bare else [])])
    what = " or ".join(what.rsplit(", ", 1))
    word = path.stem if path.suffix in (".yaml", ".yml") else text
    # a file beside it first, unless the stem is a zoo network's own name (`resnet50.yaml`)
    hint = (None if bare or word in zoo else sibling(path)) or suggest(word, zoo, bare)
    raise usage_error("E001", f"no such {what}: {text}", hint=hint, file=text)


def named(name: str) -> tuple[Path, str | None] | None:
    """The zoo spec a bare name names, and the `--set` item that picks a family's member: the
    zoo's name (`resnet50`), Keras's spelling of it in any case (`ResNet50`, `MobileNetV2`), or
    a family member's name (`efficientnet_b3`, `EfficientNetB3`: `family_member`) as its
    family with `variant=b3`. None where it names none."""
    zoo = files()
    if name in zoo:
        return zoo[name], None
    same = [n for n in zoo if folded(n) == folded(name)]
    if len(same) == 1:
        return zoo[same[0]], None
    member = family_member(name, zoo)
    if member is None:
        return None
    family, param, value = member
    return zoo[family], f"{param}={value}"


def sibling(path: Path, base: Path | None = None, other: str | None = None) -> str | None:
    """A did-you-mean over the spec files beside a path that does not exist (`fam2.yaml` ->
    `fam.yaml`): a path names a file sooner than a zoo network. The first 2,000 entries.
    `base`: the folder a relative `path` is in (an included spec's), else the current one;
    `other`: a file not to name (the including spec: an include cycle)."""
    import difflib
    import itertools

    try:
        skip = os.path.realpath(other) if other else None
        with os.scandir((base or Path()) / path.parent) as it:  # by stem: `.yaml` says nothing
            stems = {Path(e.name).stem: e.name for e in itertools.islice(it, 2000)
                     if Path(e.name).suffix in (".yaml", ".yml") and e.name[0] != "."
                     and os.path.realpath(e.path) != skip}  # fmt: skip
    except OSError:
        return None
    lowered = {stem.lower(): stem for stem in stems}  # `MNV3.yaml` beside `mnv3.yaml`
    close = difflib.get_close_matches(path.stem.lower(), list(lowered), n=1, cutoff=0.75)
    return f"did you mean `{path.with_name(stems[lowered[close[0]]])}`?" if close else None


def suggest(word: str, zoo: dict[str, Path], bare: bool) -> str | None:
    """The did-you-mean hint over the zoo's names, for a SPEC that is neither file nor name
    (a path, not bare, is held to a closer match: `nonexist.yaml` is not `convnext`)."""
    import difflib

    name = Path(word).name  # `efficientnet_b3`, or a path to a file of that name
    member = family_member(name, zoo)
    if member is not None:
        family, param, value = member
        return (f"`{name}` is a member of the zoo family `{family}`: give its name alone, "
                f"`{name}`, or `{family} --set {param}={value}`")  # fmt: skip
    other = not_a_member(name, zoo) if bare else None  # a path is the user's own file
    if other is not None:
        return other
    lowered = {name.lower(): name for name in zoo}
    # 0.65, not difflib's 0.6: `alexnet` met `mobilenet` and `googlenet` by their `net` alone
    cutoff = 0.65 if bare else 0.8
    close = difflib.get_close_matches(word.lower(), list(lowered), n=3, cutoff=cutoff)
    if close:
        names = " or ".join(f"`{lowered[c]}`" for c in close)
        return f"did you mean the zoo network {names}? (`archspec zoo` lists them)"
    return "a SPEC is a file or a zoo network's name: `archspec zoo` lists them" if bare else None


def not_a_member(word: str, zoo: dict[str, Path]) -> str | None:
    """The hint for a name that starts as a zoo family's but names none of its members
    (`efficientnet_b9`, which did_you_mean took for `efficientnet`): the members to write."""
    import difflib

    wanted = folded(word)
    if any(folded(name) == wanted for name in zoo):
        return None
    families = [n for n, path in zoo.items() if is_family(path)
                and wanted.startswith(folded(n)) and wanted != folded(n)]  # fmt: skip
    found = members_of(zoo[max(families, key=len)]) if families else None
    if not families or found is None:
        return None
    family, (param, _, values) = max(families, key=len), found
    # only a name of the members' form (`efficientnet_b9`, `resnet19`): `resnet_mine` is the
    # user's own, `efficientnet_v3` nearer another family (did_you_mean's)
    rest = wanted[len(folded(family)) :].lstrip("_")
    forms = {re.sub(r"\d+", r"\\d+", folded(v)) if len(v) > 1 else "[a-z]" for v in values}
    if not any(re.fullmatch(form, rest) for form in forms):
        return None
    glue = "" if family[-1].isalpha() and values[0][:1].isdigit() else "_"
    listed = [f"{family}{glue}{v}" for v in values]
    names = ", ".join(f"`{n}`" for n in listed)
    # the one member nearest, where one is (`resnet19`: resnet18; `efficientnet_b9`: none)
    near = sorted(((difflib.SequenceMatcher(None, wanted, folded(n)).ratio(), n) for n in listed),
                  reverse=True)  # fmt: skip
    first = (f"did you mean `{near[0][1]}`? " if near[0][0] >= 0.8
             and (len(near) == 1 or near[0][0] > near[1][0]) else "")  # fmt: skip
    return (f"{first}`{word}` is no member of the zoo family `{family}`; its members are {names} "
            f"(or `{family} --set {param}={'|'.join(values)}`)")  # fmt: skip


def family_member(word: str, zoo: dict[str, Path]) -> tuple[str, str, str] | None:
    """The zoo family, param and value that `word` names a member of, as Keras or the zoo
    spells it: the family's name with the value put in at the end or at a `_` (`resnet18`,
    `efficientnet_b3`, `efficientnetv2-s`, `resnet50v2`), compared without case, `_` or `-`."""
    wanted = folded(word)
    if any(folded(name) == wanted for name in zoo):  # `ResNet50`: the network, not a member
        return None
    return _member(wanted, zoo)


def network_family(path: str | os.PathLike[str], param: str) -> tuple[str, str] | None:
    """The zoo family, with `param`, of which the zoo network at `path` is a member under the
    same name, and what says so (`resnet50`: `resnet`, and "`resnet50` is the zoo family
    `resnet` at depth=50"); None where it is none (a `--set depth=101` on `resnet50` means the
    family: the hints of params.py and include.py go on from there)."""
    file = Path(path)
    zoo = files()
    own = zoo.get(file.stem)
    if own is None or is_family(own) or os.path.realpath(own) != os.path.realpath(file):
        return None
    found = _member(folded(file.stem), zoo)
    if found is None or found[1] != param:
        return None
    return found[0], f"`{file.stem}` is the zoo family `{found[0]}` at {param}={found[2]}"


def _member(wanted: str, zoo: dict[str, Path]) -> tuple[str, str, str] | None:
    for name, path in zoo.items():
        parts = name.split("_")
        if not is_family(path) or not wanted.startswith(folded(parts[0])):
            continue
        found = members_of(path)
        if found is None:
            continue
        param, _, values = found
        for value in values:
            for k in range(1, len(parts) + 1):
                if folded("".join([*parts[:k], value, *parts[k:]])) == wanted:
                    return name, param, value
    return None


@cache
def members_of(path: Path) -> tuple[str, str, list[str]] | None:
    """The `--set` choices of the family file at `path` (`members`), read once per process:
    a SPEC is looked up several times (the folder search, loading, the plot's file name)."""
    from archspec.frontend.loader import read_file

    try:
        return members(read_file(path).data)
    except ArchspecError:
        return None


@dataclass(frozen=True)
class Entry:
    """One zoo network as `archspec zoo` lists it (a family at its default params)."""

    name: str
    path: Path
    description: str
    #: a family's `--set` param, its default and its values; None for a single network
    members: tuple[str, str, list[str]] | None


def entries() -> list[Entry]:
    """Every zoo network, as `archspec zoo` lists them (read, not analyzed)."""
    from archspec.frontend.loader import read_file

    out = []
    for name, path in files().items():
        data = read_file(path).data
        described = data.get("description") if isinstance(data, dict) else None
        found = members(data) if is_family(path) else None
        out.append(Entry(name, path, str(described or ""), found))
    return out
