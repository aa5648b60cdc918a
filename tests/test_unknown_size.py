"""Inputs of unknown height and width (`input: [null, null, 3]`, Keras's Input((None, None, 3))):
static shapes and params equal Keras's for every block type, MACs are unknown where they depend
on the size, and what needs a known size is an error at the block (E404, E603)."""

from __future__ import annotations

import pytest

import archspec
from archspec.app import check
from archspec.blocks import REGISTRY
from archspec.core.errors import SpecError
from tests.conftest import ROOT, run_cli, write
from tests.test_static_vs_keras import assert_static_equals_keras, example_spec


def unknown(text: str) -> str:
    return text.replace("input: [16, 16, 3]", "input: [null, null, 3]", 1)


@pytest.mark.parametrize("kind", [k for k in REGISTRY if k != "flatten"])
def test_every_block_type_on_an_unknown_size_equals_keras(keras, kind):
    graph = archspec.analyze(archspec.load(text=unknown(example_spec(kind))))
    assert graph.inputs == {"input": (None, None, 3)}
    assert_static_equals_keras(keras, graph, archspec.compile(graph))
    # the leading conv's MACs depend on the size; a global pool's output does not
    assert graph.cost.macs is None
    assert graph.nodes["a"].cost.macs is None


def test_flatten_on_an_unknown_size_is_e404_and_keras_agrees_it_is_unknown(keras):
    text = unknown(example_spec("flatten"))
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=text))
    (d,) = e.value.diagnostics
    assert (d.code, d.line) == ("E404", 5)
    assert "flatten needs a known size" in d.message
    assert "global_avg_pool" in (d.hint or "")
    inp = keras.Input((None, None, 4))
    assert tuple(keras.layers.Flatten()(inp).shape) == (None, None)


def test_merges_of_known_and_unknown_sizes_follow_keras(keras):
    for kind in ("add", "concat", "multiply"):
        for order in ("[a, b]", "[b, a]"):
            text = (
                "name: m\ninputs: {a: [null, null, 4], b: [8, 8, 4]}\nblocks:\n"
                f"  - {{type: {kind}, inputs: {order}}}\n"
            )
            graph = archspec.analyze(archspec.load(text=text))
            assert_static_equals_keras(keras, graph, archspec.compile(graph))


def test_known_sizes_must_still_agree():
    text = (
        "name: m\ninputs: {a: [null, 8, 4], b: [8, 6, 4]}\nblocks:\n"
        "  - {type: add, inputs: [a, b]}\n"
    )
    with pytest.raises(SpecError) as e:
        archspec.analyze(archspec.load(text=text))
    assert [d.code for d in e.value.diagnostics] == ["E401"]


def test_fixing_the_size_gives_the_figures_of_the_literal_spec():
    """`--set size=...` on the zoo's any-size example equals the same spec written with that
    size: params never depend on the size, MACs do."""
    path = ROOT / "specs" / "examples" / "any_size.yaml"
    free = archspec.analyze(path)
    fixed = archspec.analyze(path, sets=["size=96"])
    literal = archspec.analyze(
        archspec.load(text=path.read_text().replace('["${size}", "${size}", 3]', "[96, 96, 3]"))
    )
    assert free.cost.macs is None
    assert fixed.cost == literal.cost
    assert isinstance(fixed.cost.macs, int) and fixed.cost.macs > 0
    assert free.params == fixed.params
    assert [n.shape for n in fixed.nodes.values()] == [n.shape for n in literal.nodes.values()]


def test_macs_budget_and_expect_on_an_unknown_size_are_e603(tmp_path):
    spec = write(
        tmp_path,
        "name: x\ninput: [null, null, 3]\nblocks:\n  - {type: conv, filters: 3, kernel: 3}\n"
        "budget: {max_macs: 1G, max_params: 1M}\nexpect: {macs: 5, params: 84}\n",
    )
    result = check.check_file(spec)
    assert [(d.code, d.path) for d in result.errors] == [
        ("E603", ("budget", "max_macs")),
        ("E603", ("expect", "macs")),
    ]
    assert "not fixed" in result.errors[0].message


@pytest.mark.parametrize(
    ("shape", "ok"),
    [("[null, null, 3]", True), ("[null, 32, 3]", True), ("[32, 32, null]", False),
     ("[null]", False), ("[null, 4]", False), ("[0, null, 3]", False)],
)  # fmt: skip
def test_only_height_and_width_may_be_null(shape, ok):
    text = f"name: x\ninput: {shape}\nblocks:\n  - {{type: global_avg_pool}}\n"
    if ok:
        archspec.load(text=text)
        return
    with pytest.raises(SpecError) as e:
        archspec.load(text=text)
    assert [d.code for d in e.value.diagnostics] == ["E204"]


def test_cli_shows_unknown_macs_and_none_dimensions(tmp_path):
    r = run_cli("check", "--table", str(ROOT / "specs" / "examples" / "any_size.yaml"))
    assert r.returncode == 0, r.stderr
    assert "? MACs" in r.stdout
    assert "(None, None, None, 32)" in r.stdout
    r = run_cli("check", "--format", "json", str(ROOT / "specs" / "examples" / "any_size.yaml"))
    assert '"macs": null' in r.stdout


# --- running such a model: --verify and ONNX export pick a size at which it runs -----------


def run_shapes_of(text: str) -> dict:
    from archspec.backends.keras import verify

    return verify.run_shapes(archspec.analyze(archspec.load(text=text)))


def test_run_shapes_prefer_224_and_keep_known_sizes():
    assert run_shapes_of(
        "name: m\ninput: [null, 32, 3]\nblocks:\n  - {type: global_avg_pool}\n"
    ) == {"input": (224, 32, 3)}


def test_run_shapes_grow_past_a_collapse():
    """Eight 2x2 poolings collapse 224 (E402 at that size); 256 is the first size that runs."""
    text = ("name: m\ninput: [null, null, 4]\nblocks:\n  - {type: max_pool, pool: 2, repeat: 8}\n"
            "  - {type: global_avg_pool}\n")  # fmt: skip
    assert run_shapes_of(text) == {"input": (256, 256, 4)}


def test_run_shapes_match_the_known_size_an_unknown_one_is_merged_with():
    text = ("name: m\ninputs: {a: [null, null, 4], b: [8, 8, 4]}\nblocks:\n"
            "  - {type: concat, inputs: [b, a]}\n")  # fmt: skip
    assert run_shapes_of(text) == {"a": (8, 8, 4), "b": (8, 8, 4)}


def test_a_model_that_runs_at_no_size_is_e802_before_keras(tmp_path):
    """A valid conv shrinks by 2, so adding its input never fits: `check` accepts the spec (Keras
    builds it), but it cannot be run, so --verify and ONNX export stop at the input, exit 1,
    without building the model and without writing anything."""
    spec = write(tmp_path, "name: never\ninput: [null, null, 4]\nblocks:\n"
                 "  - {type: conv, filters: 4, kernel: 3, padding: valid, name: c}\n"
                 "  - {type: add, inputs: [input, c]}\n")  # fmt: skip
    assert run_cli("check", str(spec)).returncode == 0
    for args in (["-o", str(tmp_path / "m.keras"), "--verify"], ["-o", str(tmp_path / "m.onnx")]):
        r = run_cli("build", str(spec), *args)
        assert r.returncode == 1, r.stderr
        assert f"{spec}:2:8: error[E802]" in r.stderr
        assert "Traceback" not in r.stderr and "Model:" not in r.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_a_nan_output_never_verifies(monkeypatch):
    import numpy as np

    from archspec.backends.keras import verify

    # a NaN in the first of two outputs, the second one equal: the NaN must not be lost
    outputs = [np.array([1.0, np.nan]), np.array([2.0])]
    ref = ({"input": np.zeros((1, 2), np.float32)}, outputs)
    monkeypatch.setitem(verify.RUNNERS, "keras", lambda *_: [o.copy() for o in outputs])
    diff = verify.measure(None, ROOT, "keras", ref=ref)[0]
    assert not diff <= 1e-4
