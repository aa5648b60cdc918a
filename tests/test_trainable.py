"""`trainable: false` freezes a block's layers, or every layer within a user-defined or `spec`
block (a backbone frozen to fine-tune a new head: a walkthrough had to walk `graph.blocks` and
set Keras's `trainable` by hand). The static counts are compared with Keras's own."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import archspec
from archspec.core.errors import SpecError
from tests.conftest import run_cli, write

BACKBONE = """\
name: bb
input: [32, 32, 3]
blocks:
  - {type: conv, name: stem, filters: 8, kernel: 3, batch_norm: true, activation: relu}
  - {type: conv, name: body, filters: 16, kernel: 3, strides: 2, batch_norm: true}
  - {type: global_avg_pool, name: pool}
  - {type: dense, name: predictions, units: 10, activation: softmax}
"""

HEAD = """\
name: head
input: [32, 32, 3]
define:
  unit:
    params: {f: 8}
    blocks:
      - {type: conv, name: a, filters: "${f}", kernel: 3, batch_norm: true}
      - {type: conv, name: b, filters: "${f}", kernel: 1}
blocks:
  - {type: spec, name: backbone, path: bb.yaml, outputs: [body], trainable: false}
  - {type: unit, name: frozen, f: 16, trainable: false, repeat: 2}
  - {type: unit, name: live, f: 8}
  - {type: conv, name: c, filters: 4, kernel: 1, batch_norm: true, trainable: false}
  - {type: global_avg_pool, name: gap}
  - {type: dense, name: out, units: 4}
"""

#: the blocks whose layers are frozen, as the spec says
FROZEN = ("backbone_", "frozen_1_", "frozen_2_", "c_")


def specs(tmp_path: Path) -> Path:
    write(tmp_path, BACKBONE, "bb.yaml")
    return write(tmp_path, HEAD, "head.yaml")


def keras_counts(model: Any) -> tuple[int, int]:
    return (sum(int(np.prod(w.shape)) for w in model.trainable_weights),
            sum(int(np.prod(w.shape)) for w in model.non_trainable_weights))  # fmt: skip


@pytest.mark.keras
def test_frozen_blocks_count_as_keras_counts_them(tmp_path: Path) -> None:
    graph = archspec.analyze(specs(tmp_path))
    model = archspec.compile(graph)
    assert keras_counts(model) == (graph.cost.trainable, graph.cost.non_trainable)
    assert model.count_params() == graph.params
    frozen = {layer.name for layer in model.layers if not layer.trainable}
    assert frozen == {layer.name for layer in model.layers if layer.name.startswith(FROZEN)}
    # the weights keep their order: an unfrozen build's weights give the same outputs
    plain = archspec.compile(archspec.load(text=HEAD.replace(", trainable: false", ""),
                                           path=tmp_path / "plain.yaml"))  # fmt: skip
    assert keras_counts(plain)[0] > keras_counts(model)[0]
    model.set_weights(plain.get_weights())
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    assert np.abs(np.asarray(model(x)) - np.asarray(plain(x))).max() == 0


def test_render_keeps_what_is_frozen(tmp_path: Path) -> None:
    """`render` expands user-defined and `spec` blocks: each of their blocks says it."""
    head = specs(tmp_path)
    rendered = run_cli("render", str(head))
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout.count("trainable: false") == 2 + 4 + 1  # backbone, 2 x 2 units, c
    again = archspec.analyze(archspec.load(text=rendered.stdout))
    graph = archspec.analyze(head)
    assert (again.cost.trainable, again.cost.non_trainable) == (
        graph.cost.trainable, graph.cost.non_trainable)  # fmt: skip
    assert graph.cost.trainable < graph.params  # (it froze something)


def test_diff_shows_a_backbone_frozen(tmp_path: Path) -> None:
    head = specs(tmp_path)
    before = write(tmp_path, HEAD.replace("outputs: [body], trainable: false", "outputs: [body]"),
                   "before.yaml")  # fmt: skip
    r = run_cli("diff", str(before), str(head))
    assert "backbone (spec): trainable: true -> false" in r.stdout, r.stdout
    assert "trainable  " in r.stdout and "->" in r.stdout.split("trainable  ")[1].splitlines()[0]


def test_trainable_is_a_common_key() -> None:
    """A definition's param may not be named `trainable` (the use's own key would take it),
    and `trainable` takes a boolean."""
    with pytest.raises(SpecError) as e:
        archspec.load(text="name: m\ninput: [8, 8, 3]\ndefine:\n  u:\n    params: "
                      "{trainable: true}\n    blocks:\n      - {type: flatten}\n"
                      "blocks:\n  - {type: u}\n")  # fmt: skip
    assert e.value.diagnostics[0].code == "E501"
    with pytest.raises(SpecError) as e:
        archspec.load(text="name: m\ninput: [8, 8, 3]\nblocks:\n  - {type: flatten, "
                      "trainable: 0}\n")  # fmt: skip
    assert [(d.code, d.path) for d in e.value.diagnostics] == [("E202", ("blocks", 0, "trainable"))]


def test_a_param_freezes_or_unfreezes_the_backbone(tmp_path: Path) -> None:
    """The README's second stage: `trainable: "${train_backbone}"`, unfrozen with --set."""
    specs(tmp_path)
    text = HEAD.replace("trainable: false}", 'trainable: "${train_backbone}"}', 1).replace(
        "input:", "params: {train_backbone: false}\ninput:", 1)  # fmt: skip
    head = write(tmp_path, text, "staged.yaml")
    frozen = archspec.analyze(head)
    unfrozen = archspec.analyze(head, sets=["train_backbone=true"])
    assert frozen.params == unfrozen.params and frozen.cost.trainable < unfrozen.cost.trainable
    assert frozen.cost == archspec.analyze(specs(tmp_path)).cost


def test_the_mistakes_of_a_fine_tuning_walkthrough_are_told_what_to_write(tmp_path: Path) -> None:
    """A walkthrough's mistakes, each told the fix: `trainable: "false"` (quoted), `set:
    {trainable: false}` (the block's own key), a `--set` value the key refuses (its origin),
    `sets="NAME=VALUE"` and `weights="backbone=FILE"` from Python (the command line's forms)."""
    head = specs(tmp_path)
    with pytest.raises(SpecError) as e:
        archspec.load(text=HEAD.replace("trainable: false}", 'trainable: "false"}', 1),
                      path=tmp_path / "q.yaml")  # fmt: skip
    assert e.value.diagnostics[0].hint == "write it without quotes: `trainable: false`"
    with pytest.raises(SpecError) as e:
        archspec.load(text=HEAD.replace("trainable: false}", "set: {trainable: false}}", 1),
                      path=tmp_path / "s.yaml")  # fmt: skip
    assert e.value.diagnostics[0].hint == (
        "`trainable` is the `spec` block's own key: write it beside `path`, not in `set`"
    )
    staged = write(tmp_path, HEAD.replace("trainable: false}", 'trainable: "${t}"}', 1).replace(
        "input:", "params: {t: false}\ninput:", 1), "staged.yaml")  # fmt: skip
    with pytest.raises(SpecError) as e:
        archspec.load(staged, sets=["t=flase"])
    assert [r.message for r in e.value.diagnostics[0].related] == ["`t` comes from --set t=flase"]
    with pytest.raises(TypeError, match=r"sets=\['depth=101'\], not 'depth=101'"):
        archspec.load("resnet", sets="depth=101")  # type: ignore[arg-type]
    weights = write(tmp_path, "", "bb.weights.h5")
    with pytest.raises(archspec.ArchspecError) as e:
        archspec.build(head, weights=f"backbone={weights}")
    assert e.value.diagnostics[0].hint == (
        f"for the `spec` block `backbone`, pass weights={{'backbone': '{weights}'}} (the "
        "command line's `--weights backbone=FILE`)"
    )


def test_a_frozen_spec_block_is_said_once(tmp_path: Path) -> None:
    """A walkthrough: `diff` of a backbone frozen and not listed 153 rows of `trainable: false ->
    true` under the one line that says it, and diagrams repeated `trainable=false` on every
    block: a `spec` block says it (diff's key line; `frozen` on its box), its blocks do not. A
    user-defined block's use has no line of its own in `diff`: its blocks keep theirs."""
    head = specs(tmp_path)
    before = write(tmp_path, HEAD.replace(", trainable: false", ""), "before.yaml")
    r = run_cli("diff", str(before), str(head))
    assert "backbone (spec): trainable: true -> false" in r.stdout
    changed = [line.split()[1] for line in r.stdout.splitlines() if line.startswith("~  ")]
    assert changed == ["backbone", "frozen_1_a", "frozen_1_b", "frozen_2_a", "frozen_2_b", "c"]
    expanded = run_cli("plot", str(head), "-o", str(tmp_path / "e.dot"))
    collapsed = run_cli("plot", str(head), "--collapse", "-o", str(tmp_path / "c.dot"))
    assert expanded.returncode == collapsed.returncode == 0, expanded.stderr + collapsed.stderr
    dot = (tmp_path / "e.dot").read_text()
    assert "spec, frozen" in dot and "unit, frozen" in dot
    assert dot.count("trainable=false") == 5  # the units' four blocks and `c`, not the backbone's
    assert "frozen" in (tmp_path / "c.dot").read_text()


def test_a_block_the_included_spec_freezes_itself_keeps_its_own_flag(tmp_path: Path) -> None:
    """A review: freezing the `spec` block took `trainable=false` off every block inside it,
    also off one the included spec froze itself; `diff` then said that block was unfrozen."""
    write(tmp_path, "name: inner\ninput: [16, 16, 3]\nblocks:\n  - {type: conv, name: c1, "
          "filters: 4, kernel: 3, trainable: false}\n  - {type: conv, name: c2, filters: 4, "
          "kernel: 3}\n", "inner.yaml")  # fmt: skip
    text = "name: t\ninput: [16, 16, 3]\nblocks:\n  - {type: spec, name: bb, path: inner.yaml%s}\n"
    one = write(tmp_path, text % "", "t1.yaml")
    two = write(tmp_path, text % ", trainable: false", "t2.yaml")
    r = run_cli("diff", str(one), str(two))
    rows = [line for line in r.stdout.splitlines() if line.startswith("~  ")]
    assert rows == ["~  bb (spec): trainable: true -> false"], r.stdout


def test_check_table_marks_the_frozen_rows(tmp_path: Path) -> None:
    """`check --table` says which rows are frozen (the walkthrough saw only the totals): in the
    text table's type column, and in JSON with each row's trainable params."""
    head = specs(tmp_path)
    r = run_cli("check", str(head), "--table", "-f", "json")
    assert r.returncode == 0, r.stderr
    rows = {row["name"]: row for row in json.loads(r.stdout)["files"][0]["blocks"]}
    frozen = {name for name, row in rows.items() if row["frozen"]}
    assert frozen == {"backbone", "frozen_1", "frozen_2", "c"}
    plain = write(tmp_path, HEAD.replace(", trainable: false", ""), "plain.yaml")
    unfrozen = json.loads(run_cli("check", str(plain), "--table", "-f", "json").stdout)
    for row in unfrozen["files"][0]["blocks"]:
        assert not row["frozen"] and row["params"] == rows[row["name"]]["params"]
        expected = 0 if row["name"] in frozen else row["trainable_params"]
        assert rows[row["name"]]["trainable_params"] == expected, row["name"]
    assert sum(row["params"] for row in rows.values()) == archspec.analyze(head).params
    text = run_cli("check", str(head), "--table").stdout
    cells = [re.split(r"\s{2,}", line) for line in text.splitlines()]
    types: dict[str, str] = {}
    for c in cells:  # the block table's rows (before the outputs' table, which has `out` too)
        if c[0] in rows:
            types.setdefault(c[0], c[1])
    assert types["backbone"] == "spec, frozen" and types["frozen_2"] == "unit, frozen"
    assert types["live"] == "unit" and types["c"] == "conv, frozen" and types["out"] == "dense"
