"""Stage 3, resolution: params, `${...}`, `--set`, `defaults`, `define` and `repeat` resolved
into a flat list of built-in blocks, each validated, with its final name and explicit inputs.

Order: `--set` replaces params; params are evaluated in order (a param may use earlier ones);
every `${...}` outside `params` and `define` is substituted (in blocks, for their first copy); the
top level is validated; then the blocks are expanded. The other copies of a repeated block whose
keys hold `${...}` are substituted again, with `copy` bound to their index, as they are expanded
(after the limit on the number of blocks is checked). `${...}` that read `in_shape` or
`in_channels` are left until the walk knows the block's (or, inside a definition, the
instance's) first input: then `Shapes` lowers the blocks expanded so far to give its shape
(shapes.py), and the block is substituted, validated and expanded as any other. Defaults: a
block's own value wins, then `defaults` for its type, then the type's built-in default; they
apply inside user-defined blocks too. A user-defined block's inner names are local, and its
layers are named `<instance name>_<inner name>_...`.

The stage by concern:

- params.py    `params`, `--set` (parse_sets) and `${...}` substitution
- defaults.py  the `defaults` section: checking it, filling a block in from it
- define.py    user-defined blocks: checking a use, its params, the scope it opens
- scope.py     scopes and references: `inputs`, `outputs`, binding a block's name
- shapes.py    `in_shape` and `in_channels`: the shapes of the blocks expanded so far
- naming.py    final names (repeat copies, `<type>_<k>`), the limit on the number of blocks
- errors.py    the error policy: positions, notes at the use site and at `defaults`
- include.py   `type: spec`: another spec file included as a block (its blocks join these)
- result.py    what it gives: `Item`, `Resolved`
- here         the public entry (`resolve`) and the walk over the blocks that uses them all
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from functools import partial
from typing import Any

from pydantic import ValidationError

from archspec.blocks import Block
from archspec.core.errors import (
    ArchspecError,
    Diagnostic,
    KeyPath,
    SpecError,
    a_block,
    format_path,
)
from archspec.frontend.loader import Document
from archspec.frontend.lowering import layout_warnings
from archspec.frontend.resolve import include
from archspec.frontend.resolve.defaults import check_defaults, with_defaults
from archspec.frontend.resolve.define import (
    COMMON,
    Use,
    check_names,
    check_unused,
    check_use,
    inner_scope,
    origins,
    use_env,
)
from archspec.frontend.resolve.errors import (
    at_default,
    by_position,
    fail,
    in_copies,
    placed,
    with_copy,
    with_use,
    with_warnings,
)
from archspec.frontend.resolve.naming import Names, check_count, check_letters
from archspec.frontend.resolve.origins import (
    LoweringFailure,
    given,
    included_set,
    lowering_error,
    seen,
    with_origin_notes,
    written_as,
)
from archspec.frontend.resolve.params import (
    apply_params,
    deferred,
    has_expr,
    last_sets,
    parse_sets,
    setting,
    substitute_block,
    validated,
)
from archspec.frontend.resolve.result import Included, Item, Resized, Resolved
from archspec.frontend.resolve.scope import (
    Scope,
    bind,
    read_inputs,
    read_outputs,
    readable,
    top_scope,
)
from archspec.frontend.resolve.shapes import SHAPE, Shapes
from archspec.frontend.schema import SpecModel, validate_block
from archspec.frontend.translate import translate

__all__ = ["Item", "Resolved", "lowering_error", "parse_sets", "placed", "resolve", "with_use",
           "with_warnings"]  # fmt: skip

#: the keys of a batch norm's momentum (W306 below 0.5)
MOMENTUM = ("momentum", "bn_momentum")


def resolve(doc: Document, sets: Sequence[str] = ()) -> Resolved:
    """Everything between loading and lowering. Raises SpecError with all diagnostics found."""
    source = doc.data.get("blocks")
    with setting(doc, sets):
        doc, params, failed = apply_params(doc, sets, partial(include.included_param, doc))
        model = validated(doc, failed, params)
        expansion = _Expansion(doc, model, params, source if isinstance(source, list) else None,
                               failed=failed)  # fmt: skip
        try:
            outputs = expansion.run()
        except ArchspecError as e:  # the warnings found so far are reported with it, after it
            found = [
                *expansion.warnings,
                *layout_warnings(doc, model.input_shapes, model.inputs is not None),
            ]  # W305
            raise with_warnings(e, found) from None
    return Resolved(doc, model, expansion.items, outputs, params, expansion.warnings,
                    expansion.includes, tuple(last_sets(sets)), expansion.frozen,
                    expansion.resized)  # fmt: skip


def _unreached_hint(kind: str, model: SpecModel) -> str:
    """The hint of W302 for a `defaults` entry or key that no block takes."""
    if kind in model.define:
        return f"every use of `{kind}` sets it, or no block uses `{kind}`"
    if kind == "batch_norm":
        return ("it reaches `batch_norm` blocks, and the `bn_*` keys of blocks with "
                "`batch_norm: true` that have that key (`bottleneck`, `residual` and the dense "
                "blocks have `bn_epsilon` only)")  # fmt: skip
    return (
        f"it reaches the `{kind}` blocks that do not set it themselves (not the layers "
        "a composite block makes: a `vgg` block's convs take that block's own keys)"
    )


class _Expansion:
    """The walk over the blocks, in order: a built-in block becomes `Item`s (one per copy), a use
    of a user-defined block is expanded in place. Errors in a block's own keys are collected
    (all of them are reported); errors that depend on earlier blocks (references, names, limits)
    are raised at once."""

    def __init__(
        self, doc: Document, model: SpecModel, params: dict[str, Any], source: list[Any] | None,
        chain: tuple[str, ...] = (), tree: include.Tree | None = None, base: int = 0,
        failed: dict[int, list[Diagnostic]] | None = None,
    ) -> None:  # fmt: skip
        self.doc = doc
        #: the top-level blocks whose `${...}` failed (apply_params), with their errors
        self.failed = failed or {}
        #: the files including this one, outermost first, and this one (include cycles)
        self.chain = chain
        #: what this spec's includes share with the including specs' (include.py)
        self.tree = tree or include.Tree(doc.events)
        #: the blocks the including specs expanded before this one (the limit is on the sum)
        self.base = base
        #: the top-level blocks as written (None if `blocks` itself was an expression)
        self.source = source
        self.model = model
        self.params = params
        self.items: list[Item] = []
        self.diags: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        #: the top-level `spec` blocks, by the name of their group (result.Included)
        self.includes: dict[str, Included] = {}
        self.names = Names(doc, list(model.input_shapes))
        #: the user-defined blocks being expanded, outermost first (to catch recursion)
        self.stack: list[str] = []
        #: the defaults of user-defined blocks' params evaluated so far (define.use_env)
        self.defaults: dict[tuple[str, str], Any] = {}
        #: after a block fails validation, later ones are only validated (no cascade)
        self.broken = False
        #: the shapes `in_shape` and `in_channels` read, lowered on demand
        self.shapes = Shapes(doc, model, self.items)
        #: the `defaults` keys (block type, key) some block took a value from
        self.reached: set[tuple[str, str]] = set()
        #: the blocks a top-level `spec` block's `trainable: false` froze (whose own was true)
        self.frozen: set[str] = set()
        #: the `spec` blocks that `any_size` resized, here and in the specs included (W308)
        self.resized: list[Resized] = []

    @property
    def count(self) -> int:
        """The blocks expanded so far, by the including specs too."""
        return self.base + len(self.items)

    def run(self) -> list[str]:
        """Expand the top-level blocks; the final names of the outputs. An error raised while a
        block is expanded is its own (`reject`): the blocks after it are only validated."""
        try:
            check_names(self.doc, self.model)
            check_defaults(self.doc, self.model)
            check_unused(self.doc, self.model, self.source, self.diags, self.warnings)
            self.scope = scope = top_scope(self.model)
            for k, raw in enumerate(self.model.blocks):
                if k in self.failed:
                    self.reject(self.failed.pop(k))
                    continue
                try:
                    self.block(raw, ("blocks", k), scope,
                               self.source[k] if self.source else None, self.params)  # fmt: skip
                except SpecError as e:  # as a block's own keys: the blocks after it validated
                    self.reject(list(e.diagnostics))
        except ArchspecError as e:  # with what was found before it, and in the blocks after
            if not self.failed and not self.diags:
                raise
            later = [d for diags in self.failed.values() for d in diags]
            raise type(e)(
                by_position([*self.diags, *e.diagnostics, *later], self.doc.file).diagnostics
            ) from None
        if self.diags:
            raise by_position(self.diags, self.doc.file)
        if not self.chain:  # an included spec's `defaults` may serve another `set` of it
            self.unreached()
        try:
            return read_outputs(self.doc, self.model, scope)
        except SpecError as e:  # `outputs: ["${cut}"]`: where the value it read came from
            raise SpecError([with_origin_notes(self.doc, d, self.params)
                             for d in e.diagnostics]) from None  # fmt: skip

    def reject(self, diags: list[Diagnostic], scope: Scope | None = None) -> None:
        """Record what is wrong with a block's own keys (in `scope`: noting the copies of the
        repeated uses it is in); later blocks are only validated."""
        repeats = scope.repeats if scope else ()
        self.diags.extend(in_copies(self.doc, d, repeats) for d in diags)
        self.broken = True

    def block(self, raw: Any, path: KeyPath, scope: Scope, source: Any, env: dict[str, Any]
              ) -> None:  # fmt: skip
        """Expand one block: `raw` is substituted for its first copy; `source` is as written, and
        `env` the names its `${...}` see (to substitute the other copies)."""
        kind = raw.get("type") if isinstance(raw, dict) else None
        defaulted: set[str] = set()
        if kind == include.KIND:  # its `set` may read in_shape / in_channels (of its input)
            raw = self.first(raw, path, scope, kind, env, defaulted) if deferred(raw) else raw
            if raw is not None:
                self.include(raw, path, scope)
            return
        if isinstance(kind, str):
            raw, defaulted = self.with_defaults(raw, kind)
            if kind in self.model.define:
                self.instance(raw, path, scope, kind, source, env, defaulted)
                return
        #: as written but for `in_shape` and `in_channels` (substituted per copy)
        pending = raw if deferred(raw) else None
        varies = has_expr(source)
        # the first of several copies that differ: its errors name it (as the others' do)
        n = raw.get("repeat") if isinstance(raw, dict) else None
        first = (0, n) if isinstance(n, int) and n > 1 and (varies or pending) else None
        if pending is not None:
            raw = self.first(pending, path, scope, str(kind), env, defaulted, first)
            if raw is None:
                return
        block = self.validate(raw, path, scope, str(kind), defaulted, first, env)
        if block is None or self.broken:
            return
        check_count(self.doc, self.count, block.repeat, path, scope.use, self.items)
        refs = read_inputs(self.doc, block, path, scope)
        if block.n_inputs is None and block.repeat > 1:  # add, concat, multiply
            raise fail(self.doc, "E303", f"{format_path((*path, 'repeat'))}: `{block.type}` "
                       "merges its inputs, and a copy after the first would read one "
                       "input (the copy before it): there is nothing to merge",
                       (*path, "repeat"), use=scope.use, hint="repeat a user-defined block "
                       "that holds the merge, or write the merges out")  # fmt: skip
        for copy in range(block.repeat):
            this: Block | None = block
            if copy and (varies or pending is not None):
                shaped, where = self.bound(env, refs), (copy, block.repeat)
                if varies:
                    value, defaulted = self.again(source, shaped, path, scope, block.type, copy,
                                                  block.repeat)  # fmt: skip
                else:
                    value = self.finish(pending, path, shaped, scope, block.type, defaulted,
                                        where)  # fmt: skip
                this = self.validate(value, path, scope, block.type, defaulted, where, shaped)
                if this is None:
                    return
            assert this is not None
            name = self.names.name(block.name, block.type, block.repeat, copy, path, scope,
                                   names=block.repeat_names,
                                   repeated="repeat" in block.model_fields_set)  # fmt: skip
            final = this.model_copy(
                update={"name": name, "inputs": refs, "repeat": 1, "repeat_names": "number"}
                | ({"trainable": False} if scope.frozen else {})  # within a frozen use
            )
            copies = (*scope.repeats, (path, copy, block.repeat)) if block.repeat > 1 else \
                scope.repeats  # fmt: skip
            self.items.append(Item(final, path, scope.groups, scope.use, seen=seen(env),
                                   at=scope.at, written=tuple(block.inputs)  # a list:
                                   if isinstance(block.inputs, list) else (),
                                   copies=copies))  # fmt: skip
            refs = [name]
        if not block.repeat:
            self.names.drop(block, refs, path, scope)
        bind(scope, block.name, refs[0])

    def validate(self, raw: Any, path: KeyPath, scope: Scope, kind: str, defaulted: set[str],
                 copy: tuple[int, int] | None = None, env: dict[str, Any] | None = None
                 ) -> Block | None:  # fmt: skip
        """The built-in block `raw` validated, or None (its errors recorded). `copy`: which copy
        of how many, for a note; `env`: the names its `${...}` saw, for the --set notes."""
        top = self.broken and len(path) == 2  # a top-level block the walk no longer binds
        names = readable(scope, self.model.blocks[: int(path[1])]) if top else scope.names
        result = validate_block(raw, self.doc, path, names)
        if not isinstance(result, list):
            letters = check_letters(self.doc, result, path)
            if letters is None:
                if copy is None or copy[0] == 0:  # the first copy
                    self.inert(result, path, scope, defaulted)
                    self.momentum(result, path, scope, defaulted)
                return result
            result = [letters]
        doc = self.doc
        found = [at_default(doc, d, path, kind, defaulted) for d in result]
        if env is not None:  # (a value from `defaults`: its `${...}` there)
            found = [with_origin_notes(doc, d, env) for d in found]
        self.reject([with_copy(doc, with_use(doc, d, scope.use), path, copy) for d in found], scope)
        return None

    def inert(self, block: Block, path: KeyPath, scope: Scope, defaulted: set[str]) -> None:
        """W302 for each key the block itself gives that changes nothing (not for one from
        `defaults`, which serve blocks with and without batch norm alike)."""
        inert = block.inert()
        for key in sorted(inert, key=lambda k: self.doc.locate((*path, k)) or (0, 0)):
            where: KeyPath = (*path, key)
            # once per place: a user-defined block's uses, or repeated copies, share it
            if key not in defaulted and (self.doc.file, where) not in self.warned():
                lacks, hint = inert[key]
                self.warnings.append(with_use(self.doc, self.doc.diag(
                    "W302", f"{format_path(where)}: `{key}` changes nothing {lacks}", where,
                    hint=hint, key=True, severity="warning"), scope.use))  # fmt: skip

    def with_defaults(self, raw: dict[str, Any], kind: str) -> tuple[dict[str, Any], set[str]]:
        """defaults.with_defaults, noting which entries of `defaults` it took values from."""
        raw, defaulted = with_defaults(raw, kind, self.model)
        if defaulted:
            own = self.model.defaults.get(kind, {})
            self.reached.update(
                (kind, k) if k in own else ("batch_norm", k.removeprefix("bn_")) for k in defaulted
            )  # (`bn_*`: from `defaults.batch_norm`)
        return raw, defaulted

    def unreached(self) -> None:
        """W302 for each `defaults` entry, or key of one, that no block took a value from: it
        changes nothing (a walkthrough's `defaults.batch_norm` for `vgg` blocks, which had no
        `bn_*` keys; its `momentum` for `bottleneck` blocks, which have `bn_epsilon` only)."""
        for kind, values in self.model.defaults.items():
            missed = [k for k in values if (kind, k) not in self.reached]
            whole = len(missed) == len(values)
            for key in [""] if whole else missed:
                where: KeyPath = ("defaults", kind, key) if key else ("defaults", kind)
                what = "no block takes a value from it" if whole else "no block takes it"
                self.warnings.append(self.doc.diag(
                    "W302", f"{format_path(where)}: changes nothing: {what}", where, key=True,
                    severity="warning", hint=_unreached_hint(kind, self.model)))  # fmt: skip

    def warned(self) -> set[tuple[str | None, KeyPath]]:
        """The places warned about so far (an included spec's are in its own file)."""
        return {(w.file, w.path) for w in self.warnings}

    def momentum(self, block: Block, path: KeyPath, scope: Scope, defaulted: set[str]) -> None:
        """W306 for a batch norm's momentum below 0.5, PyTorch's convention (the weight of the
        new batch: its 0.1 is Keras's 0.9, the weight of the running statistics), at the key
        that gives it: the block's own, or the `defaults` entry it came from."""
        for key in MOMENTUM:
            value = getattr(block, key, None)
            if not isinstance(value, float | int) or value >= 0.5:
                continue
            where: KeyPath = (*path, key)
            if key in defaulted:
                kinds = ((block.type, key), ("batch_norm", "momentum"))
                where = next((("defaults", *k) for k in kinds
                              if ("defaults", *k) in self.doc.positions), where)  # fmt: skip
            if (self.doc.file, where) not in self.warned():  # once per place
                self.warnings.append(with_use(self.doc, self.doc.diag(
                    "W306", f"{format_path(where)}: a batch-norm momentum of {value:g} keeps "
                    f"{value:.0%} of the running statistics per batch: PyTorch writes momentum "
                    "the other way round (its 0.1 is Keras's 0.9)", where,
                    hint=f"if this is PyTorch's momentum, write {1 - value:g}", key=True,
                    severity="warning"), scope.use))  # fmt: skip

    def again(self, source: Any, env: dict[str, Any], path: KeyPath, scope: Scope, kind: str,
              copy: int, repeat: int) -> tuple[Any, set[str]]:  # fmt: skip
        """The block written as `source` substituted for copy `copy` (of `repeat`), with the
        defaults for its type, and the keys that came from `defaults`."""
        try:
            raw = substitute_block(self.doc, source, path, env, scope.use, copy)
        except LoweringFailure:  # in the copy before, whose shape it read: noted there
            raise
        except SpecError as e:
            raise SpecError([with_copy(self.doc, d, path, (copy, repeat))
                             for d in e.diagnostics]) from None  # fmt: skip
        raw, defaulted = self.with_defaults(raw, kind)
        if deferred(raw):  # from `defaults`
            raw = self.finish(raw, path, env, scope, kind, defaulted, (copy, repeat))
        return raw, defaulted

    def bound(self, env: dict[str, Any], refs: list[str]) -> dict[str, Any]:
        """`env` with `in_shape` and `in_channels` of the first of `refs`, unless it has them
        (inside a definition: the instance's input)."""
        return env if SHAPE in env else {**env, SHAPE: self.shapes.of(refs[0])}

    def first(self, raw: dict[str, Any], path: KeyPath, scope: Scope, kind: str,
              env: dict[str, Any], defaulted: set[str], copy: tuple[int, int] | None = None
              ) -> Any:  # fmt: skip
        """The first copy of the built-in block `raw` with its `${...}` that read `in_shape`
        or `in_channels` substituted (its inputs are read first, so they must be valid), or
        None if that cannot be done (its errors recorded). `copy`: (0, how many) where it is
        the first of several copies that differ, for the note."""
        if SHAPE not in env:
            if self.broken:  # the blocks before are not all expanded: no shapes
                return None
            try:
                common = Use.model_validate({k: raw[k] for k in COMMON if k in raw})
            except ValidationError as e:
                what = a_block(kind)
                diags = translate(e, raw, self.doc, path, what, [*COMMON])
                self.reject([with_use(self.doc, d, scope.use) for d in diags], scope)
                return None
            env = self.bound(env, read_inputs(self.doc, common, path, scope))
        return self.finish(raw, path, env, scope, kind, defaulted, copy)

    def finish(self, raw: Any, path: KeyPath, env: dict[str, Any], scope: Scope, kind: str,
               defaulted: set[str], copy: tuple[int, int] | None) -> Any:  # fmt: skip
        """`raw` with the `${...}` left for `in_shape` and `in_channels` (`env` binds them)
        substituted; an error in a value from `defaults` points there."""
        try:
            return substitute_block(self.doc, raw, path, env, scope.use, copy[0] if copy else 0)
        except LoweringFailure:  # in a block before, whose shape it read: noted there
            raise
        except SpecError as e:
            doc = self.doc
            raise SpecError([with_copy(doc, at_default(doc, d, path, kind, defaulted), path,
                                       copy) for d in e.diagnostics]) from None  # fmt: skip

    def instance(self, raw: dict[str, Any], path: KeyPath, scope: Scope, kind: str, source: Any,
                 env: dict[str, Any], defaulted: set[str]) -> None:  # fmt: skip
        """Expand one use of a user-defined block (`raw`, `source` and `env` as in `block`;
        `defaulted` its params from `defaults`). Inside it, `in_shape` and `in_channels` are
        its first input's, as in its params."""
        definition = self.model.define[kind]
        common = check_use(self.doc, raw, path, kind, definition, self.stack, scope.use)
        if not isinstance(common, list):
            letters = check_letters(self.doc, common, path)
            common = common if letters is None else [with_use(self.doc, letters, scope.use)]
        if isinstance(common, list):
            self.reject([with_origin_notes(self.doc, d, env) for d in common], scope)
            return
        if self.broken:
            return
        check_count(self.doc, self.count, common.repeat * len(definition.blocks), path,
                    scope.use, self.items)  # fmt: skip
        refs = read_inputs(self.doc, common, path, scope)
        varies = has_expr(source)
        pending = raw if deferred(raw) else None
        self.stack.append(kind)
        try:  # (a raised error leaves the walk to go on: run)
            for copy in range(common.repeat):
                shaped = self.bound(env, refs)
                if copy and varies:
                    raw = self.again(source, shaped, path, scope, kind, copy, common.repeat)[0]
                elif pending is not None:
                    where = (copy, common.repeat) if common.repeat > 1 else None
                    raw = self.finish(pending, path, shaped, scope, kind, defaulted, where)
                try:
                    name, inner = self.expand(raw, path, scope, kind, common, source, env,
                                              defaulted, refs, copy)  # fmt: skip
                except LoweringFailure:  # noted where it failed
                    raise
                except SpecError as e:  # found inside this copy
                    where = (copy, common.repeat) if common.repeat > 1 else None
                    raise SpecError([with_copy(self.doc, d, path, where)
                                     for d in e.diagnostics]) from None  # fmt: skip
                if self.broken:
                    break
                assert inner.previous is not None
                refs = [inner.previous]
                # the copy's own name (`st_1`, `stb`) means its output, as `name` means the last
                local = name[len(scope.prefix) :]
                scope.inside[local] = (kind, inner.names)  # for E301's hint on `st_1_conv`
                if scope.names.get(local) == name:
                    scope.names[local] = inner.previous
        finally:
            self.stack.pop()
        if not common.repeat:
            self.names.drop(common, refs, path, scope)
        bind(scope, common.name, refs[0])

    def expand(self, raw: dict[str, Any], path: KeyPath, scope: Scope, kind: str, common: Use,
               source: Any, env: dict[str, Any], defaulted: set[str], refs: list[str], copy: int
               ) -> tuple[str, Scope]:  # fmt: skip
        """Expand copy `copy` of the use `raw` of `kind` (`common`: its common keys) reading
        `refs`: its params evaluated, then its blocks; the copy's final name and the scope its
        blocks were expanded in."""
        definition = self.model.define[kind]
        inner_env = use_env(self.doc, raw, kind, definition, self.params,
                            self.shapes.of(refs[0]), self.defaults, path, defaulted)  # fmt: skip
        name = self.names.name(common.name, kind, common.repeat, copy, path, scope,
                               names=common.repeat_names)  # fmt: skip
        inner = inner_scope(name, kind, refs, definition, scope, path, not common.trainable,
                            (copy, common.repeat))  # fmt: skip
        where = origins(self.doc, raw, source, defaulted, path, kind, definition, inner_env,
                        copy)  # fmt: skip
        with written_as(self.doc, where):
            for k, inner_raw in enumerate(definition.blocks):
                inner_path: KeyPath = ("define", kind, "blocks", k)
                value = substitute_block(self.doc, inner_raw, inner_path, inner_env,
                                         inner.use)  # fmt: skip
                self.block(value, inner_path, inner, inner_raw, inner_env)
        return name, inner

    def include(self, raw: Any, path: KeyPath, scope: Scope) -> None:
        """Expand a `spec` block (include.py): the included spec resolved on its own, its blocks
        renamed `<name>_<inner name>` and added, its exposed outputs bound in `scope`."""
        use = include.check(self.doc, raw, path, scope)
        if isinstance(use, list):  # (a value from --set: noted, as a built-in block's are)
            self.reject([with_origin_notes(self.doc, d, self.params) for d in use])
            return
        if self.broken:
            return
        refs = read_inputs(self.doc, use, path, scope)
        chain = self.chain or (os.path.realpath(self.doc.file),)
        inner_doc, chain, member = include.open_spec(self.doc, use, path, chain, self.tree)
        inner_doc, own = include.with_set(self.doc, use, path, inner_doc, member)
        note = include.including(self.doc, path)
        shape = self.shapes.shape(refs[0])
        values = included_set(self.doc, path, use.set)  # the notes of errors its values cause
        with include.noting(note), given(inner_doc.file, values):
            source = inner_doc.data.get("blocks")
            inner_doc, params, failed = apply_params(inner_doc, ())
            model = validated(inner_doc, failed, params)
        own_input = next(iter(model.input_shapes.values()), None)
        model = include.take_input(self.doc, path, model, shape, use.any_size, inner_doc.written)
        taken = next(iter(model.input_shapes.values()))
        with include.noting(note), given(inner_doc.file, values):
            inner = _Expansion(inner_doc, model, params, source if isinstance(source, list)
                               else None, chain, self.tree, self.count, failed)  # fmt: skip
            try:
                outputs = inner.run()
            finally:  # its warnings, also where it fails
                seen = {(w.file, w.path, w.code) for w in self.warnings}  # once per place: a
                self.warnings.extend(w for w in inner.warnings  # spec included twice warns once
                                     if (w.file, w.path, w.code) not in seen)  # fmt: skip
        nested = {str(i.block.name): i.groups[0] for i in inner.items if i.groups}
        shown = include.exposed(self.doc, use, path, model, inner.scope.names, outputs, nested)
        check_count(self.doc, self.count, len(inner.items), path, None, self.items)
        name = self.names.name(use.name, include.KIND, 1, 0, path, scope)

        def groups(inside: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
            """The groups of an included block or `spec` block, within it at `inside`."""
            return (*scope.groups, (name, include.KIND), *((f"{name}_{g}", k) for g, k in inside))

        final = {str(i.block.name): f"{name}_{i.block.name}" for i in inner.items}
        final.update({n: refs[0] for n in model.input_shapes})
        hidden = Scope(prefix="", names={}, previous=None, declared=set())  # names are final
        for item in inner.items:
            b = item.block
            assert b.name is not None and isinstance(b.inputs, list)
            renamed = self.names.name(final[b.name], b.type, 1, 0, path, hidden)
            block = b.model_copy(update={"name": renamed, "inputs": [final[r] for r in b.inputs]}
                                 | ({} if use.trainable else {"trainable": False}))  # fmt: skip
            if b.trainable and not use.trainable:
                self.frozen.add(renamed)
            self.items.append(Item(block, item.path, groups(item.groups), item.use,
                                   item.doc or inner_doc, (*item.notes, note), item.seen,
                                   written=item.written, copies=item.copies))  # fmt: skip
        local = use.name or name
        scope.exposed[local] = list(shown)
        scope.listable[local] = (path, [n for n in inner.scope.names
                                        if n not in model.input_shapes])  # fmt: skip
        for key, inner_name in shown.items():
            scope.names[f"{local}.{key}"] = final[inner_name]
        scope.names[local] = final[next(iter(shown.values()))]
        taps = {final[shown[r]]: ((*path, "outputs", k), f"{local}.{r}")
                for k, r in enumerate(use.outputs or ())}  # fmt: skip
        keys = use.model_dump(
            exclude_defaults=True, include={"path", "set", "outputs", "any_size", "trainable"}
        )
        keys["set"] = {k: v for k, v in use.set.items() if k not in own or own[k] != v}
        self.includes[name] = Included(path, taps, {k: v for k, v in keys.items() if v != {}})
        if own_input is not None and any(
            a is not None and a != b for a, b in zip(own_input, taken, strict=True)
        ):
            self.resized.append(Resized(self.doc, path, groups(()), own_input))
        self.resized += [dataclasses.replace(r, groups=groups(r.groups)) for r in inner.resized]
        scope.previous = scope.names[local]
