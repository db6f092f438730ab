"""The result layout has one owner (ladbench/layout.py): the committed results' cell keys are its
``config_hash``, and the reader finds each kind's files where the producers put them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ladbench import layout, manifest
from ladbench.sweep import store

ROOT = Path(__file__).resolve().parents[1]


def test_every_committed_llm_cell_key_is_the_layout_hash_of_its_manifest():
    directory = ROOT / "results" / "llm_minilm"
    cells = json.loads((directory / layout.SWEEP_FILE).read_text())["cells"]
    assert cells
    for listed in cells[:20]:
        record = manifest.read(store.cell_dir(directory, listed["key"]))
        assert layout.config_hash(record["config"], record["seeds"], record["evaluation"]) == listed["key"]
        assert layout.llm_setting(record["config"], record["evaluation"]) == listed["setting"]


def test_the_seed_and_the_evaluation_change_the_cell_hash():
    config = {"loss": {"name": "grpo"}, "steps": 3}
    assert layout.config_hash(config, [0]) != layout.config_hash(config, [1])
    assert layout.config_hash(config, [0]) != layout.config_hash(config, [0], {"k": 4})


@pytest.mark.parametrize(
    ("record", "kind", "train", "evaluation"),
    [
        ({"kind": "bandit_run"}, "bandit_run", None, None),
        ({"kind": "sweep_cell"}, "bandit_cell", None, None),
        ({"kind": "sweep_cell", "evaluation": {"k": 4}}, "llm_cell", layout.TRAIN_DIR, layout.EVAL_DIR),
        ({"kind": "llm_train"}, "llm_train", "", None),
        ({"kind": "llm_eval"}, "llm_eval", None, ""),
    ],
)
def test_where_each_kind_keeps_its_run_and_evaluation(record, kind, train, evaluation):
    where = layout.where(record)
    assert (where.kind, where.train, where.evaluation) == (kind, train, evaluation)
    assert bool(where.tables) == (where.track == "bandit")


def test_an_llm_cells_evaluations_during_training_are_found_by_step():
    listed = [
        layout.TRAIN_LOG,
        f"{layout.CELL_CURVES_DIR}/step_2/{layout.EVAL_SUMMARY}",
        f"{layout.CELL_CURVES_DIR}/step_10/{layout.EVAL_SUMMARY}",
        f"{layout.CELL_CURVES_DIR}/step_10/{layout.PER_PROMPT}",
        f"{layout.EVAL_DIR}/{layout.EVAL_SUMMARY}",
    ]
    assert store.curve_files(listed) == {2: listed[1], 10: listed[2]}
