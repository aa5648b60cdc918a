"""Packaging (issue 16): the zoo shipped as package data and named on the command line, the
`archspec zoo` listing, `build` on a core install (no Keras), the package list and the version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

import archspec
from archspec.core.errors import UsageError
from archspec.frontend import zoo
from tests.conftest import ROOT, run_cli, write

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ZOO_FILES = sorted(
    [*(ROOT / "specs").glob("*.yaml"), *(ROOT / "specs" / "families").glob("*.yaml")]
)


# --- the zoo as package data ---------------------------------------------------------------


def test_package_data_holds_the_zoo() -> None:
    shipped = resources.files("archspec.zoo")
    names = {p.name for p in shipped.iterdir() if p.name.endswith(".yaml")}
    assert names == {p.name for p in (ROOT / "specs").glob("*.yaml")}
    families = {p.name for p in shipped.joinpath("families").iterdir()}
    assert {p.name for p in (ROOT / "specs" / "families").glob("*.yaml")} <= families
    assert zoo.root().joinpath("resnet50.yaml").is_file()


def test_pyproject_lists_every_package_and_zoo_folder() -> None:
    """The packages are listed by hand (archspec.zoo is mapped): none may be forgotten."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    code = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "archspec").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    folders = {
        ".".join(("archspec.zoo", *p.relative_to(ROOT / "specs").parts))
        for p in (ROOT / "specs").iterdir()
        if p.is_dir() and any(p.glob("*.yaml"))
    }
    data = {  # folders of data files (the page's script and style), packages to setuptools
        ".".join(p.relative_to(ROOT).parts)
        for p in (ROOT / "archspec").rglob("*")
        if p.is_dir() and "__pycache__" not in p.parts and not (p / "__init__.py").exists()
    }
    assert data == {"archspec.render.html_assets"}
    assert set(setuptools["packages"]) == code | data | {"archspec.zoo"} | folders
    assert setuptools["package-dir"] == {"archspec.zoo": "specs"}
    assert set(folders) | data <= set(setuptools["package-data"])


def test_zoo_names_are_unique_and_cover_the_zoo() -> None:
    files = zoo.files()
    assert len(files) == len(ZOO_FILES)
    assert sorted(p.resolve() for p in files.values()) == sorted(p.resolve() for p in ZOO_FILES)


def test_version_written_once() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "archspec.__version__"
    assert archspec.__version__.count(".") == 2


def test_distribution_is_not_pypis_archspec() -> None:
    assert PYPROJECT["project"]["name"] == "archspec-cnn"
    assert PYPROJECT["project"]["scripts"]["archspec"] == "archspec.cli:main"
    core = " ".join(PYPROJECT["project"]["dependencies"])
    assert "tensorflow" not in core and "keras" not in core
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


# --- names on the command line -------------------------------------------------------------

SMALL = "name: small\ninput: [8, 8, 3]\nblocks:\n  - {type: global_avg_pool}\n  - {type: dense, units: 3}\n"


def test_a_name_is_its_zoo_file() -> None:
    assert zoo.resolve_spec("resnet50")[0] == zoo.root() / "resnet50.yaml"
    assert zoo.resolve_spec("efficientnet")[0] == zoo.root() / "families" / "efficientnet.yaml"
    graph = archspec.analyze("resnet50")
    assert graph.params == archspec.analyze(ROOT / "specs" / "resnet50.yaml").params


def test_a_family_members_name_is_its_family_with_the_set_that_picks_it() -> None:
    # `efficientnet_b3` (and Keras's `EfficientNetB3`) was E001 with a hint to write
    # `efficientnet --set variant=b3`
    family = zoo.root() / "families" / "efficientnet.yaml"
    assert zoo.resolve_spec("efficientnet_b3") == (family, "variant=b3")
    assert zoo.resolve_spec("EfficientNetB3") == (family, "variant=b3")
    assert zoo.resolve_spec("resnet50v2") == (
        zoo.root() / "families" / "resnet_v2.yaml",
        "depth=50",
    )
    member = archspec.analyze("efficientnet_b3")
    picked = archspec.analyze("efficientnet", sets=["variant=b3"])
    assert (member.name, member.cost) == (picked.name, picked.cost)
    # a --set that would pick another member is refused, not quietly taken
    with pytest.raises(UsageError) as e:
        archspec.analyze("efficientnet_b3", sets=["width=1.0", "variant=b0"])
    d = e.value.diagnostics[0]
    assert d.code == "E503" and d.message == (
        "--set variant=b0: `efficientnet_b3` is the member variant=b3 of the zoo family "
        "`efficientnet`")  # fmt: skip
    assert d.hint == "name the family: `efficientnet --set variant=b0`, or the member alone"
    # its own value is no other member; spaces are the item's, not the hint's
    assert archspec.analyze("efficientnet_b3", sets=[" variant = b3"]).name == "efficientnet_b3"
    with pytest.raises(UsageError) as e:
        archspec.analyze("efficientnet_b3", sets=[" variant = b0"])
    assert e.value.diagnostics[0].hint.startswith(
        "name the family: `efficientnet --set variant=b0`"
    )


def test_a_set_of_its_familys_param_on_a_zoo_network_names_the_family() -> None:
    # `resnet50 --set depth=101` was told only "the spec has no params"
    for spec in ("resnet50", "ResNet50", zoo.root() / "resnet50.yaml"):
        with pytest.raises(UsageError) as e:
            archspec.analyze(spec, sets=["depth= 101"])
        d = e.value.diagnostics[0]
        assert (d.code, d.message) == ("E503", "--set depth: the spec has no param `depth`")
        assert d.hint == ("`resnet50` is the zoo family `resnet` at depth=50; for another, "
                          "name the family: `resnet --set depth=101`")  # fmt: skip
    # another param, or a network that is no family's member, keeps the plain hint
    for spec, item in (("resnet50", "width=2"), ("vgg16", "depth=101")):
        with pytest.raises(UsageError) as e:
            archspec.analyze(spec, sets=[item])
        assert e.value.diagnostics[0].hint == "the spec has no params"


@pytest.mark.parametrize(("name", "stem"), [
    ("ResNet50", "resnet50"), ("MobileNetV2", "mobilenet_v2"), ("VGG16", "vgg16"),
    ("InceptionResNetV2", "inception_resnet_v2"), ("mobilenet-v3-small", "mobilenet_v3_small"),
])  # fmt: skip
def test_a_zoo_name_in_kerass_spelling_is_that_network(name: str, stem: str) -> None:
    # members took Keras's spelling (`EfficientNetB3`) but networks did not (`ResNet50`: E001)
    assert zoo.resolve_spec(name) == (zoo.root() / f"{stem}.yaml", None)


def test_a_folder_named_as_a_member_does_not_hide_it(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # `build efficientnet_b3 -o efficientnet_b3` writes a SavedModel folder (a review found
    # `render efficientnet_b3` then said "is a directory")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "efficientnet_b3").mkdir()
    family = zoo.root() / "families" / "efficientnet.yaml"
    assert zoo.resolve_spec("efficientnet_b3") == (family, "variant=b3")
    assert zoo.resolve_spec("efficientnet_b3", folders=True) == (Path("efficientnet_b3"), None)
    r = run_cli("check", "efficientnet_b3", cwd=tmp_path)  # a folder without specs: the member
    assert r.returncode == 0 and r.stdout.startswith("ok    efficientnet_b3: efficientnet_b3: ")
    # but not a folder whose spec the search skipped (a link): that passed as the member
    write(tmp_path, "name: x\n", "mine.yaml")
    (tmp_path / "efficientnet_b3" / "m.yaml").symlink_to("../mine.yaml")
    r = run_cli("check", "efficientnet_b3", cwd=tmp_path)
    assert r.returncode == 2 and "no spec files found in efficientnet_b3" in r.stderr, r.stdout


def test_a_family_members_name_on_the_command_line(tmp_path: Path) -> None:
    r = run_cli("check", "densenet121", "convnext_tiny", "ConvNeXtTiny", "convnext-tiny")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok    densenet121: densenet121: 8,062,504 params")
    assert "ok    convnext_tiny: convnext_tiny: 28,589,128 params" in r.stdout
    assert "2 specs checked" in r.stdout  # one member in three spellings is checked once
    # a network's name is labelled as typed too (it was the zoo file's absolute path), and
    # checked once in two spellings
    r = run_cli("check", "resnet50", "ResNet50", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert [f["file"] for f in json.loads(r.stdout)["files"]] == ["resnet50"]
    r = run_cli("diff", "efficientnet_b0", "efficientnet_b1", "-f", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["old"]["name"], out["new"]["name"]) == ("efficientnet_b0", "efficientnet_b1")
    r = run_cli("plot", "efficientnet_b1", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "efficientnet_b1.svg").is_file(), r.stderr
    r = run_cli("render", "convnext_tiny")
    assert r.returncode == 0 and r.stdout.startswith("# Rendered by archspec from convnext_tiny:")
    assert "\nname: convnext_tiny\n" in r.stdout


def test_a_file_wins_over_a_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, SMALL, name="resnet50")
    assert zoo.resolve_spec("resnet50")[0] == Path("resnet50")
    assert archspec.analyze("resnet50").params == 3 * 3 + 3
    r = run_cli("check", "resnet50", cwd=tmp_path)
    assert r.returncode == 0 and "12 params" in r.stdout, r.stdout + r.stderr


def test_a_folder_does_not_hide_a_name_but_for_check(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # `build resnet50 -o resnet50` writes a SavedModel folder: `render resnet50` still works
    monkeypatch.chdir(tmp_path)
    (tmp_path / "resnet50").mkdir()
    assert zoo.resolve_spec("resnet50")[0] == zoo.root() / "resnet50.yaml"
    assert zoo.resolve_spec("resnet50", folders=True)[0] == Path("resnet50")  # check's
    r = run_cli("render", "resnet50", cwd=tmp_path)
    assert r.returncode == 0 and "name: resnet50" in r.stdout, r.stderr
    r = run_cli("check", "resnet50", cwd=tmp_path)  # a folder without specs: the network
    assert r.returncode == 0 and "25,636,712 params" in r.stdout, r.stdout + r.stderr
    write(tmp_path / "resnet50", SMALL, name="small.yaml")  # a folder of specs: the folder
    r = run_cli("check", "resnet50", cwd=tmp_path)
    assert r.returncode == 0 and "12 params" in r.stdout and "25,636,712" not in r.stdout
    (tmp_path / "mine").mkdir()
    r = run_cli("render", "mine", cwd=tmp_path)
    assert r.returncode == 2 and "is a directory, not a spec file: mine" in r.stderr


def test_family_member_by_set() -> None:
    b3 = archspec.analyze("efficientnet", sets=["variant=b3"])
    assert b3.params == 12_320_535  # keras.applications.EfficientNetB3
    assert zoo.members({"params": {"variant": "b0", "scaling": {"b0": 1, "b7": 2}}}) == (
        "variant",
        "b0",
        ["b0", "b7"],
    )


@pytest.mark.parametrize(
    ("given", "message", "hint"),
    [
        ("resnt50", "no such file or zoo network: resnt50", "`resnet50`"),
        ("ResNet5", "no such file or zoo network: ResNet5", "`resnet50`"),
        ("resnt50.yaml", "no such file: resnt50.yaml", "`resnet50`"),
        ("qqqqqq", "no such file or zoo network: qqqqqq", "archspec zoo"),
    ],
)
def test_neither_file_nor_name_is_e001_with_did_you_mean(
    given: str, message: str, hint: str
) -> None:
    with pytest.raises(UsageError) as e:
        archspec.load(given)
    d = e.value.diagnostics[0]
    assert d.code == "E001" and d.message == message
    assert hint in (d.hint or "")


def test_cli_commands_take_zoo_names(tmp_path: Path) -> None:
    r = run_cli("check", "resnet50", "googlenet")
    assert r.returncode == 0, r.stderr
    assert "resnet50: 25,636,712 params" in r.stdout and "googlenet: 6,998,552" in r.stdout
    r = run_cli("render", "efficientnet", "--set", "variant=b3")
    assert r.returncode == 0 and "from efficientnet" in r.stdout, r.stderr
    r = run_cli("plot", "efficientnet", "--set", "variant=b1", "-o", str(tmp_path / "e.svg"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "e.svg").stat().st_size > 0
    r = run_cli("check", "resnt50")
    assert r.returncode == 2
    assert "error[E001]" in r.stderr and "did you mean the zoo network `resnet50`" in r.stderr


# --- archspec zoo --------------------------------------------------------------------------


def test_zoo_lists_every_network_with_its_static_figures() -> None:
    code = (
        "import sys\nfrom archspec.cli import main\n"
        "try:\n    main(['zoo'])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines()[1:] if line[:1].isalnum()}
    for path in ZOO_FILES:
        graph = archspec.analyze(path)
        line = rows[path.stem]
        assert f"{graph.params:,}" in line.split(), (path.stem, line)
        assert "x".join(str(d) for d in next(iter(graph.inputs.values()))) in line
    assert "--set variant=b0|b1|b2|b3|b4|b5|b6|b7 (the figures: b0)" in r.stdout
    assert "--set depth=18|34|50|101|152" in r.stdout


# --- build on a core install ---------------------------------------------------------------

BLOCK_KERAS = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('keras', 'tensorflow', 'numpy', 'h5py', 'ml_dtypes'):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, Blocker())
from archspec.cli import main
main()
"""


def test_build_without_keras_exits_2_with_the_pip_command(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-c", BLOCK_KERAS, "build", "resnet18"]
    r = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 2, r.stderr
    assert "error[E005]" in r.stderr
    assert "pip install 'archspec-cnn[keras]'" in r.stderr
    # a broken spec is still reported as such (exit 1) on a core install
    bad = write(tmp_path, SMALL.replace("units", "unit"))
    r = subprocess.run([*run[:-1], str(bad)], capture_output=True, text=True, env=env)
    assert r.returncode == 1 and "E201" in r.stderr
    # --weights and --verify: a missing file is E001, the rest E005 (both were an internal
    # error: reading weights and verifying imported numpy, which a core install lacks)
    (tmp_path / "w.h5").write_bytes(b"not read")
    for extra, code in ((["--weights", "nosuch.h5"], "E001"), (["--weights", "w.h5"], "E005"),
                        (["-o", "m.keras", "--verify"], "E005")):  # fmt: skip
        r = subprocess.run([*run, *extra], capture_output=True, text=True, cwd=tmp_path, env=env)
        assert r.returncode == 2 and f"error[{code}]" in r.stderr, (extra, r.stderr)
    assert not (tmp_path / "m.keras").exists()


def test_a_network_in_two_spellings_beside_its_savedmodel_folder_is_checked_once(
    tmp_path: Path,
) -> None:
    # a review: with `./resnet50/` (a SavedModel, no specs) it was checked twice
    (tmp_path / "resnet50").mkdir()
    r = run_cli("check", "resnet50", "ResNet50", "-f", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [f["file"] for f in json.loads(r.stdout)["files"]] == ["resnet50"]
