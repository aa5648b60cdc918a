"""Plugin blocks that go wrong: an exception raised by a plugin's block or op is the plugin's
error at the block (E901), not an internal error of archspec's. In process, a plugin is a block
type of this module put in REGISTRY; a plugin as installed (an entry point) is a package and
its .dist-info in a temporary folder on PYTHONPATH, run in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from typer.testing import CliRunner

import archspec
from archspec.blocks import REGISTRY, Block, register
from archspec.blocks.base import PLUGINS
from archspec.blocks.vgg import VGG
from archspec.cli import app
from archspec.core.errors import STATE, SpecError
from archspec.frontend.jsonschema import generate
from archspec.ir.graph import Builder
from archspec.ir.op import Cost, Op, Shape
from tests.conftest import ROOT, write

SPEC = (
    "name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: conv, filters: 4, kernel: 1}\n  - {type: %s}\n"
)


class Explode(Block):
    """A plugin's block that raises in `expand` (defined here: its module is not archspec's)."""

    type: Literal["explode"] = "explode"
    example: ClassVar[str] = "{type: explode}"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        if b.shape(inputs[0])[-1] < 8:
            raise ValueError("explode needs at least 8 channels")
        return inputs[0]


@dataclass(frozen=True)
class Costly(Op):
    """A plugin's op whose `cost` returns `value`, not a Cost."""

    value: Any = 0

    def infer(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def cost(self, shapes: list[Shape], out: Shape) -> Any:
        return self.value


class CostlyBlock(Block):
    type: Literal["costly"] = "costly"
    example: ClassVar[str] = "{type: costly}"
    value: Any = 0

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", Costly(self.value), inputs[0])


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(REGISTRY, "explode", Explode)
    monkeypatch.setitem(REGISTRY, "costly", CostlyBlock)


def error_of(text: str) -> Any:
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=text))
    (d,) = e.value.diagnostics
    return d


def test_a_plugin_block_that_raises_is_its_error_at_the_block(plugins: None):
    d = error_of(SPEC % "explode")
    assert (d.code, d.line, d.col, d.path) == ("E901", 5, 5, ("blocks", 1))
    assert d.message == (
        f"blocks[1]: block `explode_1` (type `explode`, from plugin module `{__name__}`) "
        "raised ValueError: explode needs at least 8 channels"
    )
    assert d.hint is not None and "the plugin's" in d.hint and "--debug" in d.hint


def test_with_debug_the_plugin_error_propagates_for_its_traceback(
    plugins: None, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(STATE, "debug", True)
    with pytest.raises(ValueError, match="at least 8 channels"):
        archspec.analyze(archspec.load(text=SPEC % "explode"))


@pytest.mark.parametrize(
    ("value", "shown"), [("0", "0 (int)"), ("[1, 2]", "[1, 2] (list)"), ("null", "None (NoneType)")]
)
def test_an_op_cost_that_is_no_cost_is_the_plugin_error(plugins: None, value: str, shown: str):
    d = error_of(SPEC % f"costly, value: {value}")
    assert d.code == "E901" and d.path == ("blocks", 1)
    assert d.message == (
        f"blocks[1]: block `costly_1` (type `costly`, from plugin module `{__name__}`): "
        f"`Costly.cost` (module `{__name__}`) returned {shown}, not an "
        "`archspec.ir.op.Cost`"
    )


def test_a_builtin_block_that_raises_is_still_a_bug(monkeypatch: pytest.MonkeyPatch):
    def expand(self: Block, b: Builder, inputs: list[str]) -> str:
        raise ValueError("oops")

    monkeypatch.setattr(VGG, "expand", expand)
    with pytest.raises(ValueError, match="oops"):
        archspec.analyze(archspec.load(text=SPEC % "vgg, n_filters: 4, n_conv: 1"))


def test_the_cli_reports_it_as_the_spec_error(plugins: None, tmp_path: Path):
    r = CliRunner().invoke(app, ["check", str(write(tmp_path, SPEC % "explode"))])
    assert r.exit_code == 1, r.output
    assert "error[E901]" in r.output and "internal error" not in r.output


def install(site: Path, dist: str, entry_points: dict[str, str], files: dict[str, str]) -> None:
    """A distribution as pip installs it into `site`: its files, and a .dist-info whose
    entry_points.txt lists `entry_points` in the group `archspec.blocks`."""
    for name, text in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(textwrap.dedent(text), encoding="utf-8")
    info = site / f"{dist}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    eps = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text("[archspec.blocks]\n" + eps)


def archspec_with(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a process that has the plugins installed in `site`."""
    env = {"PYTHONPATH": f"{site}:{ROOT}", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "archspec", *args],
                          capture_output=True, text=True, env=env)  # fmt: skip


EXPLODE = """\
    from typing import ClassVar, Literal
    from archspec.blocks import Block, register

    @register
    class Explode(Block):
        type: Literal["explode"] = "explode"
        example: ClassVar[str] = "{type: explode}"

        def expand(self, b, inputs):
            raise ValueError("explode needs at least 8 channels")
"""


def test_an_installed_plugin_is_named_by_its_entry_point_and_distribution(tmp_path: Path):
    site = tmp_path / "site"
    files = {"brokenplug/__init__.py": "", "brokenplug/raises.py": EXPLODE}
    install(site, "brokenplug", {"raises": "brokenplug.raises"}, files)
    r = archspec_with(site, "check", str(write(tmp_path, SPEC % "explode")))
    assert r.returncode == 1, r.stderr
    assert (
        "spec.yaml:5:5: error[E901]: blocks[1]: block `explode_1` (type `explode`, from plugin "
        "`raises` (module `brokenplug.raises`, distribution `brokenplug`)) raised ValueError: "
        "explode needs at least 8 channels"
    ) in r.stderr


CLASH = """\
    from typing import ClassVar, Literal
    from archspec.blocks import Block, register

    @register
    class MyIdentity(Block):
        type: Literal["my_identity"] = "my_identity"
        example: ClassVar[str] = "{type: my_identity}"

        def expand(self, b, inputs):
            return inputs[0]

    @register
    class Squeeze(Block):
        type: Literal["se"] = "se"
        example: ClassVar[str] = "{type: se}"
"""


def test_a_plugin_that_fails_part_way_registers_nothing(tmp_path: Path):
    site = tmp_path / "site"
    install(site, "clashplug", {"clash": "clashplug"}, {"clashplug/__init__.py": CLASH})
    r = archspec_with(site, "blocks")
    assert r.returncode == 0, r.stderr
    assert "archspec: plugin `clash` failed to load: " in r.stderr
    assert "my_identity" not in r.stdout and "Plugins that failed to load:" in r.stdout
    text = SPEC.replace("{type: %s}", "{type: my_identity}")
    r = archspec_with(site, "check", str(write(tmp_path, text)))
    assert r.returncode == 1 and "error[E205]" in r.stderr


class Swish(Block):
    """A second `se`, or a second plugin's `swish2`."""

    type: Literal["swish2"] = "swish2"
    example: ClassVar[str] = "{type: swish2}"


def test_a_clash_names_the_type_it_clashes_with(monkeypatch: pytest.MonkeyPatch):
    class Squeeze(Block):
        type: Literal["se"] = "se"

    with pytest.raises(TypeError) as e:
        register(Squeeze)
    assert str(e.value) == (
        f"block type `se` of `{__name__}.{Squeeze.__qualname__}` clashes with a built-in block "
        "type; choose another type name"
    )
    # another plugin's, named by its entry point
    monkeypatch.setitem(REGISTRY, "swish2", Swish)
    monkeypatch.setitem(PLUGINS, "swish2", ("swish", "archspec-swish"))
    with pytest.raises(TypeError, match="clashes with the block type of plugin `swish` "
                       rf"\(module `{__name__}`, distribution `archspec-swish`\)"):  # fmt: skip
        register(type("Again", (Swish,), {}))
    assert REGISTRY["swish2"] is Swish


def test_a_definition_named_as_a_plugin_type_names_the_plugin(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(REGISTRY, "swish2", Swish)
    monkeypatch.setitem(PLUGINS, "swish2", ("swish", "archspec-swish"))
    text = SPEC % "swish2" + "define:\n  swish2:\n    blocks:\n      - {type: batch_norm}\n"
    with pytest.raises(SpecError) as e:
        archspec.load(text=text)
    (d,) = e.value.diagnostics
    assert (d.code, d.message) == (
        "E504",
        "define.swish2: `swish2` is the block type of plugin `swish` (module "
        f"`{__name__}`, distribution `archspec-swish`)",
    )


def test_the_schema_lists_the_plugins_types_apart(plugins: None):
    text = generate()["$defs"]["Block"]["properties"]["type"]["description"]
    builtin, theirs = text.split("; from plugins: ")
    assert builtin.startswith("Built-in: ") and "conv" in builtin and "spec" in builtin
    assert "explode" not in builtin and "costly" not in builtin
    assert theirs == "costly, explode; or a type from `define`."


def test_a_plugin_that_imports_keras_is_warned_about(tmp_path: Path):
    site = tmp_path / "site"
    files = {"heavyplug/__init__.py": "    import keras\n" + EXPLODE, "keras/__init__.py": ""}
    install(site, "heavyplug", {"heavy": "heavyplug"}, files)  # (a stand-in keras: fast)
    r = archspec_with(site, "check", str(write(tmp_path, SPEC % "conv, filters: 2, kernel: 1")))
    assert r.returncode == 0, r.stderr
    assert (
        "archspec: warning: plugin `heavy` imports keras when it is imported, so every archspec "
        "command does"
    ) in r.stderr


def test_plugins_that_registered_nothing_or_failed_are_noted_on_an_unknown_type(tmp_path: Path):
    site = tmp_path / "site"
    install(site, "mishplug", {"mish": "mishplug"}, {"mishplug/__init__.py": "class Mish: ...\n"})
    install(site, "clashplug", {"clash": "clashplug"}, {"clashplug/__init__.py": CLASH})
    r = archspec_with(site, "check", "-f", "json", str(write(tmp_path, SPEC % "mish2")))
    assert r.returncode == 1
    assert (
        "archspec: warning: plugin `mish` (`mishplug`) registered no block type: its module "
        "must define Block subclasses with `@archspec.blocks.register`"
    ) in r.stderr
    (d,) = json.loads(r.stdout)["files"][0]["errors"]
    notes = sorted(n["message"] for n in d["notes"])
    assert d["code"] == "E205" and len(notes) == 2, d
    assert notes[0].startswith("plugin `clash` failed to load: TypeError: block type `se`")
    assert notes[1] == "plugin `mish` (`mishplug`) registered no block type"


@dataclass(frozen=True)
class Silent(Costly):
    """A plugin's op whose `emit` returns None, not a layer."""

    def cost(self, shapes: list[Shape], out: Shape) -> Any:
        return Cost()

    def emit(self, keras: Any, name: str) -> Any:
        return None


class SilentBlock(Block):
    type: Literal["silent"] = "silent"
    example: ClassVar[str] = "{type: silent}"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", Silent(), inputs[0])


def test_an_emit_that_returns_no_layer_is_the_plugin_error(
    keras: Any, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(REGISTRY, "silent", SilentBlock)
    graph = archspec.analyze(archspec.load(text=SPEC % "silent"))
    with pytest.raises(SpecError) as e:
        archspec.compile(graph)
    (d,) = e.value.diagnostics
    assert (d.code, d.path) == ("E901", ("blocks", 1))
    assert d.message == (
        f"blocks[1]: block `silent_1` (type `silent`, from plugin module `{__name__}`): "
        f"`Silent.emit` (module `{__name__}`) for layer `silent_1` returned None (NoneType), "
        "not a Keras layer"
    )


@dataclass(frozen=True)
class Loud(Silent):
    """A plugin's op whose `emit` raises (an audit: an internal error, exit 3)."""

    def emit(self, keras: Any, name: str) -> Any:
        raise ValueError("emit exploded")


class LoudBlock(SilentBlock):
    type: Literal["loud"] = "loud"  # type: ignore[assignment]
    example: ClassVar[str] = "{type: loud}"

    def expand(self, b: Builder, inputs: list[str]) -> str:
        return b.add("", Loud(), inputs[0])


def test_an_emit_that_raises_is_the_plugin_error(keras: Any, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(REGISTRY, "loud", LoudBlock)
    graph = archspec.analyze(archspec.load(text=SPEC % "loud"))
    with pytest.raises(SpecError) as e:
        archspec.compile(graph)
    (d,) = e.value.diagnostics
    assert (d.code, d.path) == ("E901", ("blocks", 1))
    assert d.message.endswith("for layer `loud_1` raised ValueError: emit exploded"), d.message
