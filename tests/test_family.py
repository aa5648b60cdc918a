"""specs/families/resnet.yaml: one file, five depths, each equal to its zoo spec; and render of
the family at each depth builds the same figures."""

from __future__ import annotations

import pytest

import archspec
from tests.conftest import ROOT, run_cli

FAMILY = ROOT / "specs" / "families" / "resnet.yaml"
DEPTHS = [18, 34, 50, 101, 152]


def figures(graph):
    # the model's name (resnet101: the zoo's) and the layer names too: the zoo's are
    # keras.applications' (weights load by name)
    return (graph.name, graph.cost, list(graph.output_shapes.values()),
            [(name, n.shape) for name, n in graph.nodes.items()])  # fmt: skip


@pytest.mark.parametrize("depth", DEPTHS)
def test_family_depth_equals_zoo_spec(depth):
    family = archspec.analyze(FAMILY, sets=[f"depth={depth}"])
    zoo = archspec.analyze(ROOT / "specs" / f"resnet{depth}.yaml")
    assert figures(family) == figures(zoo)


@pytest.mark.parametrize("depth", DEPTHS)
def test_family_render_round_trips(tmp_path, depth):
    r = run_cli("render", str(FAMILY), "--set", f"depth={depth}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"# Rendered by archspec from {FAMILY} --set depth={depth}: ")
    rendered = archspec.analyze(archspec.load(tmp_path / "r.yaml", text=r.stdout))
    assert figures(rendered) == figures(archspec.analyze(FAMILY, sets=[f"depth={depth}"]))


def test_unknown_depth_names_the_choices():
    r = run_cli("render", str(FAMILY), "--set", "depth=42")
    assert r.returncode == 1
    assert "key 42 (an integer) is not in the mapping; its keys: 18, 34, 50, 101, 152" in r.stderr


def test_a_param_that_reads_a_set_value_notes_the_set():
    r = run_cli("check", str(FAMILY), "--set", "depth=42")
    assert r.returncode == 1 and "note: `depth` comes from --set depth=42" in r.stderr


def test_a_member_the_family_lacks_is_one_error_naming_the_keys():
    """`--set depth=19`: seven near-identical errors, one per table that lacks 19."""
    r = run_cli("check", str(FAMILY), "--set", "depth=19")
    assert r.returncode == 1
    assert r.stderr.count("error[E501]") == 1
    assert "name: in `${model_name[depth]}`: key 19 (an integer) is not in the mapping" in r.stderr
    assert "note: `depth` comes from --set depth=19" in r.stderr
    assert (
        "note: the same error at 6 more keys of resnet.yaml: blocks[1].use_bias, blocks[1].bn_epsilon, "
        "blocks[4].blocks, blocks[5].blocks, blocks[6].blocks, blocks[7].blocks"
    ) in r.stderr


@pytest.mark.parametrize(("spec", "sets"), [
    ("efficientnet", ["resolution=192"]),  # a smaller input for a device: the same params
    ("efficientnet", ["width=0.5"]),
    ("efficientnet", ["variant=b3", "resolution=224"]),
    ("efficientnet_v2", ["variant=s", "depth=0.5"]),
    ("densenet", ["growth_rate=12"]),
])  # fmt: skip
def test_a_family_scaled_by_its_own_params_is_not_held_to_keras_figures(spec, sets):
    """A deployment walkthrough: `check efficientnet_b0 --set resolution=192` failed the
    family's own `expect` (E602, 0.39G MACs) with the hint to edit the zoo's file."""
    result = archspec.check(spec, sets=sets)
    assert result.ok, [d.message for d in result.errors]


def test_a_family_at_its_own_scaling_keeps_its_expect_checked():
    """Only what the --set changes is let go: at another resolution the params are still held
    to keras.applications' (a wrong figure fails), the MACs no longer."""
    wrong = archspec.check("efficientnet", sets=["keras_params={b0: 1, b1: 1}", "resolution=192"])
    assert [(d.code, d.path) for d in wrong.errors] == [("E602", ("expect", "params"))]
    macs = archspec.check("efficientnet", sets=["published_macs={b0: 1M}"])
    assert [(d.code, d.path) for d in macs.errors] == [("E602", ("expect", "macs"))]
    assert archspec.check("efficientnet", sets=["published_macs={b0: 1M}", "resolution=192"]).ok
