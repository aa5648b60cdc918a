"""Stage 3, resolution: params, `${...}`, `--set`, `defaults`, `define` and `repeat` resolved
into a flat list of built-in blocks, each validated, with its final name and explicit inputs.

Order: `--set` replaces params; params are evaluated in order (a param may use earlier ones);
every `${...}` outside `params` and `define` is substituted; the top level is validated; then the
blocks are expanded. Defaults: a block's own value wins, then `defaults` for its type, then the
type's built-in default; they apply inside user-defined blocks too. A user-defined block's inner
names are local, and its layers are named `<instance name>_<inner name>_...`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import ConfigDict, ValidationError

from archspec.blocks import REGISTRY, Block
from archspec.core.errors import (
    Diagnostic,
    KeyPath,
    Related,
    SpecError,
    UsageError,
    did_you_mean,
    format_path,
)
from archspec.frontend import expr
from archspec.frontend.loader import Document, load_text
from archspec.frontend.schema import Define, SpecModel, translate, validate_block, validate_spec

_COMMON = ("type", "name", "inputs", "repeat")


@dataclass(frozen=True)
class Item:
    """One built-in block of the expanded spec: validated, named, with explicit inputs."""

    block: Block
    #: where the block stands in the file (inside a definition: in `define`)
    path: KeyPath
    #: the outermost user-defined block instance it came from (name, type), and where it is used
    group: tuple[str, str] | None = None
    use: KeyPath | None = None


@dataclass
class Resolved:
    doc: Document
    model: SpecModel
    items: list[Item]
    #: final names of the output blocks
    outputs: list[str]
    #: the params after --set and evaluation
    params: dict[str, Any] = field(default_factory=dict)


def parse_sets(
    sets: Sequence[str], params: dict[str, Any], file: str | None = None
) -> dict[str, Any]:
    """`["width=32", "stages=[2, 2]"]` -> {"width": 32, "stages": [2, 2]}: each value is read as
    a strict YAML scalar or flow value; the name must be one of the spec's params."""
    out: dict[str, Any] = {}
    for item in sets:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(Diagnostic("E503", f"--set {item!r}: expected NAME=VALUE", file=file))
        if name not in params:
            raise UsageError(
                Diagnostic(
                    "E503",
                    f"--set {name}: the spec has no param `{name}`",
                    file=file,
                    hint=did_you_mean(name, params)
                    or ("its params: " + ", ".join(params) if params else "the spec has no params"),
                )
            )
        try:
            doc = load_text(f"v: {value}", f"--set {name}")
        except SpecError as e:
            d = e.diagnostics[0]
            raise UsageError(
                Diagnostic("E503", f"--set {name}={value}: {d.message}", file=file)
            ) from None
        out[name] = doc.data["v"]
    return out


def resolve(doc: Document, sets: Sequence[str] = ()) -> Resolved:
    """Everything between loading and lowering. Raises SpecError with all diagnostics found."""
    data = doc.data
    raw_params = data.get("params", {})
    params: dict[str, Any] = {}
    if isinstance(raw_params, dict):
        raw_params = {**raw_params, **parse_sets(sets, raw_params, doc.file)}
        for name, value in raw_params.items():
            params[name] = _substitute(doc, value, ("params", name), params, None)
    elif sets:
        parse_sets(sets, {}, doc.file)
    top = {
        k: v if k in ("params", "define") else _substitute(doc, v, (k,), params, None)
        for k, v in data.items()
    }
    doc = dataclasses.replace(doc, data=top)
    model = validate_spec(doc)
    expander = _Expander(doc, model, params)
    outputs = expander.run()
    return Resolved(doc, model, expander.items, outputs, params)


def _substitute(
    doc: Document, value: Any, path: KeyPath, env: dict[str, Any], use: KeyPath | None
) -> Any:
    """`value` with every `${...}` string replaced by its value."""
    if isinstance(value, str):
        m = expr.PATTERN.match(value)
        if m is None:
            return value
        try:
            return expr.evaluate(m.group(1), env)
        except expr.ExprError as e:
            d = doc.diag(e.code, f"{format_path(path)}: in `{value}`: {e}", path, hint=e.hint)
            raise SpecError(_with_use(doc, d, use)) from None
    if isinstance(value, list):
        return [_substitute(doc, v, (*path, k), env, use) for k, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _substitute(doc, v, (*path, k), env, use) for k, v in value.items()}
    return value


def _with_use(doc: Document, d: Diagnostic, use: KeyPath | None) -> Diagnostic:
    """Add a note pointing at the use site of the user-defined block `d` happened in."""
    if use is None:
        return d
    pos = doc.locate(use)
    note = Related(f"in the block used at {format_path(use)}", doc.file, *(pos or (None, None)))
    return dataclasses.replace(d, related=(*d.related, note))


@dataclass
class _Scope:
    """Names visible to a list of blocks: the top level, or one user-defined block instance."""

    prefix: str
    #: local name -> final name
    names: dict[str, str]
    previous: str | None
    #: local names declared anywhere in this block list (to tell "later" from "unknown")
    declared: set[str]
    counters: Counter[str] = field(default_factory=Counter)
    group: tuple[str, str] | None = None
    use: KeyPath | None = None


class _Instance(Block):
    """The common keys of a user-defined block's use; its params are checked separately."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    #: a definition reads as many inputs as it is given (`input_1`, `input_2`, ...)
    n_inputs: ClassVar[int | None] = None


class _Expander:
    def __init__(self, doc: Document, model: SpecModel, params: dict[str, Any]) -> None:
        self.doc = doc
        self.model = model
        self.params = params
        self.items: list[Item] = []
        self.diags: list[Diagnostic] = []
        self.final: set[str] = set(model.input_shapes)
        self.stack: list[str] = []
        #: after a block fails validation, later ones are only validated (no cascade)
        self.broken = False

    def fail(self, code: str, message: str, path: KeyPath, hint: str | None = None,
             use: KeyPath | None = None, key: bool = False) -> SpecError:  # fmt: skip
        return SpecError(_with_use(self.doc, self.doc.diag(code, message, path, hint, key), use))

    def run(self) -> list[str]:
        for name in self.model.define:
            if name in REGISTRY:
                raise self.fail("E504", f"define.{name}: `{name}` is a built-in block type",
                                ("define", name), hint="choose another name", key=True)  # fmt: skip
        self.check_defaults()
        inputs = list(self.model.input_shapes)
        scope = _Scope(
            prefix="",
            names={n: n for n in inputs},
            previous=inputs[0] if len(inputs) == 1 else None,
            declared=_declared(self.model.blocks),
        )
        for k, raw in enumerate(self.model.blocks):
            self.block(raw, ("blocks", k), scope)
        if self.diags:
            raise SpecError(sorted(self.diags, key=lambda d: (d.line or 0, d.col or 0)))
        if self.model.outputs is None:
            assert scope.previous is not None
            return [scope.previous]
        outs = []
        for k, ref in enumerate(self.model.outputs):
            if ref not in scope.names or ref in self.model.input_shapes:
                blocks = [n for n in scope.names if n not in self.model.input_shapes]
                raise self.fail("E301", f"outputs[{k}]: `{ref}` is not a block", ("outputs", k),
                                hint=did_you_mean(ref, blocks))  # fmt: skip
            outs.append(scope.names[ref])
        if len(set(outs)) != len(outs):
            raise self.fail("E302", "`outputs` names the same block twice", ("outputs",))
        return outs

    def check_defaults(self) -> None:
        """`defaults` names block types and their parameters; a typo is an error there."""
        for kind, values in self.model.defaults.items():
            if kind in REGISTRY:
                allowed = [k for k in REGISTRY[kind].model_fields if k not in _COMMON]
            elif kind in self.model.define:
                allowed = list(self.model.define[kind].params)
            else:
                self.diags.append(self.doc.diag(
                    "E205", f"defaults.{kind}: unknown block type `{kind}`", ("defaults", kind),
                    hint=did_you_mean(kind, [*REGISTRY, *self.model.define]),
                    key=True))  # fmt: skip
                continue
            for key in values:
                if key not in allowed:
                    common = key in _COMMON
                    self.diags.append(self.doc.diag(
                        "E204" if common else "E201",
                        f"defaults.{kind}.{key}: "
                        + (f"`{key}` cannot have a default" if common
                           else f"`{kind}` has no parameter `{key}`"),
                        ("defaults", kind, key), key=True,
                        hint=None if common else did_you_mean(key, allowed)
                        or "its parameters: " + ", ".join(allowed)))  # fmt: skip
        if self.diags:
            raise SpecError(self.diags)

    def block(self, raw: Any, path: KeyPath, scope: _Scope) -> None:
        kind = raw.get("type") if isinstance(raw, dict) else None
        defaulted: set[str] = set()
        if isinstance(kind, str):
            defaults = self.model.defaults.get(kind, {})
            defaulted = set(defaults) - set(raw)
            raw = {**defaults, **raw}
            if kind in self.model.define:
                self.instance(raw, path, scope, kind)
                return
        result = validate_block(raw, self.doc, path)
        if isinstance(result, list):
            result = [self._at_default(d, path, defaulted) for d in result]
            self.diags.extend(_with_use(self.doc, d, scope.use) for d in result)
            self.broken = True
            return
        if self.broken:
            return
        block: Block = result
        self._check_count(block.repeat, path, scope.use)
        refs = self.refs(block, path, scope)
        for copy in range(1, block.repeat + 1):
            name = self.name(block.name, block.type, block.repeat, copy, path, scope)
            final = block.model_copy(update={"name": name, "inputs": refs, "repeat": 1})
            self.items.append(Item(final, path, scope.group, scope.use))
            refs = [name]
        self.bind(block.name, refs[0], path, scope)

    def _at_default(self, d: Diagnostic, path: KeyPath, defaulted: set[str]) -> Diagnostic:
        """A diagnostic about a value that came from `defaults` points there, noting the block."""
        key = d.path[len(path)] if len(d.path) > len(path) else None
        if key not in defaulted or not isinstance(key, str):
            return d
        kind = self.doc.data["blocks"][path[1]]["type"] if path[0] == "blocks" else None
        where: KeyPath = ("defaults", str(kind), key, *d.path[len(path) + 1 :])
        pos = self.doc.locate(where)
        used = self.doc.locate(path)
        note = Related(f"the default is used by {format_path(path)}", self.doc.file,
                       *(used or (None, None)))  # fmt: skip
        return dataclasses.replace(
            d, path=where, line=pos[0] if pos else None, col=pos[1] if pos else None,
            message=d.message.replace(format_path(d.path), format_path(where), 1),
            related=(*d.related, note),
        )  # fmt: skip

    def instance(self, raw: dict[str, Any], path: KeyPath, scope: _Scope, kind: str) -> None:
        """Expand one use of a user-defined block."""
        definition: Define = self.model.define[kind]
        def_path: KeyPath = ("define", kind)
        note = Related(f"`{kind}` is defined here", self.doc.file,
                       *(self.doc.locate(def_path, key=True) or (None, None)))  # fmt: skip
        if kind in self.stack:
            chain = " -> ".join([*self.stack, kind])
            raise SpecError(dataclasses.replace(
                self.doc.diag("E504", f"recursive user-defined block: {chain}", (*path, "type")),
                related=(note,)))  # fmt: skip
        try:
            common = _Instance.model_validate({k: raw[k] for k in _COMMON if k in raw})
        except ValidationError as e:
            self.diags.extend(translate(e, raw, self.doc, path, f"a `{kind}` block", [*_COMMON]))
            self.broken = True
            return
        allowed = [*_COMMON, *definition.params]
        problems = [
            dataclasses.replace(
                self.doc.diag("E504", f"{format_path((*path, key))}: `{kind}` has no param `{key}`",
                              (*path, key), hint=did_you_mean(str(key), allowed)
                              or "its params: " + ", ".join(definition.params), key=True),
                related=(note,))
            for key in raw if key not in allowed
        ] + [
            dataclasses.replace(
                self.doc.diag("E504", f"{format_path(path)}: `{kind}` needs param `{p}`", path,
                              hint=f"add `{p}: ...`"),
                related=(note,))
            for p, default in definition.params.items() if default is None and p not in raw
        ]  # fmt: skip
        if problems:
            self.diags.extend(_with_use(self.doc, d, scope.use) for d in problems)
            self.broken = True
            return
        if self.broken:
            return
        self._check_count(common.repeat * len(definition.blocks), path, scope.use)
        refs = self.refs(common, path, scope)
        env = dict(self.params)
        for p, default in definition.params.items():
            value = raw.get(p, default)
            env[p] = _substitute(self.doc, value, (*def_path, "params", p), self.params, None)
        self.stack.append(kind)
        for copy in range(1, common.repeat + 1):
            name = self.name(common.name, kind, common.repeat, copy, path, scope)
            inner_names = {"input": refs[0]} if len(refs) == 1 else {
                f"input_{k}": r for k, r in enumerate(refs, 1)}  # fmt: skip
            inner = _Scope(
                prefix=name + "_",
                names=inner_names,
                previous=refs[0] if len(refs) == 1 else None,
                declared=_declared(definition.blocks),
                group=scope.group or (name, kind),
                use=scope.use or path,
            )
            for k, inner_raw in enumerate(definition.blocks):
                inner_path: KeyPath = (*def_path, "blocks", k)
                value = _substitute(self.doc, inner_raw, inner_path, env, inner.use)
                self.block(value, inner_path, inner)
            if self.broken:
                break
            assert inner.previous is not None
            refs = [inner.previous]
        self.stack.pop()
        self.bind(common.name, refs[0], path, scope)

    def refs(self, block: Block, path: KeyPath, scope: _Scope) -> list[str]:
        """The final names a block reads."""
        if block.inputs is None:
            if scope.previous is None:
                raise self.fail(
                    "E301", f"{format_path(path)}: with several inputs, the first block "
                    "needs `inputs`",
                    path, hint="name one of: " + ", ".join(scope.names), use=scope.use,
                )  # fmt: skip
            return [scope.previous]
        refs = [block.inputs] if isinstance(block.inputs, str) else list(block.inputs)
        out = []
        for k, ref in enumerate(refs):
            where: KeyPath = (
                (*path, "inputs") if isinstance(block.inputs, str) else (*path, "inputs", k)
            )
            if ref not in scope.names:
                later = ref in scope.declared
                raise self.fail(
                    "E301",
                    f"{format_path(where)}: `{ref}` "
                    + ("is this block itself; a block can only read earlier ones"
                       if ref == block.name else
                       "is a later block; a block can only read earlier ones" if later
                       else "is not an input or an earlier block"),
                    where, hint=None if later else did_you_mean(ref, scope.names), use=scope.use,
                )  # fmt: skip
            out.append(scope.names[ref])
        if block.n_inputs is not None and len(out) != block.n_inputs:
            raise self.fail(
                "E303", f"{format_path(path)}: a `{block.type}` block reads one input, "
                f"received {len(out)}", (*path, "inputs"),
                hint="merge several inputs with an `add` or `concat` block first", use=scope.use,
            )  # fmt: skip
        return out

    def name(self, given: str | None, kind: str, repeat: int, copy: int, path: KeyPath,
             scope: _Scope) -> str:  # fmt: skip
        """The final name of one copy of a block: `<prefix><name>[_<copy>]` or a default."""
        if given is None:
            while True:
                scope.counters[kind] += 1
                local = f"{kind}_{scope.counters[kind]}"
                if local not in scope.declared and scope.prefix + local not in self.final:
                    break
        else:
            local = given if repeat == 1 else f"{given}_{copy}"
        final = scope.prefix + local
        if final in self.final:
            raise self.fail("E302", f"{format_path(path)}: block name `{final}` is already used",
                            (*path, "name"), hint="give one of the blocks another `name`",
                            use=scope.use)  # fmt: skip
        self.final.add(final)
        scope.names.setdefault(local, final)
        return final

    def bind(self, given: str | None, output: str, path: KeyPath, scope: _Scope) -> None:
        if given is not None:
            scope.names[given] = output
        scope.previous = output

    def _check_count(self, more: int, path: KeyPath, use: KeyPath | None) -> None:
        limit = self.doc.limits.blocks  # archspec/core/limits.py; --max-blocks raises it
        if more > limit:  # one block's `repeat` alone (E706, at `repeat`)
            raise self.fail("E706", f"{format_path(path)}.repeat: makes {more:,} blocks, more "
                            f"than the limit of {limit:,}", (*path, "repeat"), use=use,
                            hint="lower `repeat`, or raise it with --max-blocks")  # fmt: skip
        if len(self.items) + more > limit:
            raise self.fail("E705", f"{format_path(path)}: the spec expands to more than "
                            f"{limit:,} blocks", path, use=use,
                            hint="lower `repeat`, or split the model")  # fmt: skip


def _declared(blocks: list[Any]) -> set[str]:
    return {b["name"] for b in blocks if isinstance(b, dict) and isinstance(b.get("name"), str)}
