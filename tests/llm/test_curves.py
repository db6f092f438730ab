"""Evaluations during training (``TrainConfig.curve``): where they go, that each is the evaluation
``ladbench llm eval`` makes of the model at that step, and that resume keeps and completes them."""

import json
from pathlib import Path

import pandas as pd
import pytest
from llm_helpers import tiny_config

from ladbench import layout, manifest
from ladbench.errors import UserError
from ladbench.llm import trainer
from ladbench.llm.config import EvalConfig
from ladbench.llm.evaluate import evaluate
from ladbench.results import load
from ladbench.sweep.spec import load_spec

CURVE = {"curve_k": 3, "curve_prompts": 2, "curve_max_new_tokens": 5}


def config(steps=3, curves=True, **overrides):
    curve_settings = {"curve_every": 2, **CURVE} if curves else {}
    return tiny_config(**{"method": "lad", "steps": steps, "checkpoint_every": 2} | curve_settings | overrides)


def per_prompt(run, step):
    return pd.read_csv(trainer.curve_dir(run, step) / "per_prompt.csv")


def test_evaluations_at_zero_every_n_steps_and_the_last(tmp_path, length_rewards):
    trainer.train(config(steps=5), tmp_path, progress=False)
    assert trainer.curve_steps(tmp_path) == [0, 2, 4, 5]
    record = manifest.verify(tmp_path)
    assert record["curves"] == [0, 2, 4, 5]
    assert {f"evals/step_{step}/manifest.json" for step in (0, 2, 4, 5)} <= set(record["files"])
    for step in (0, 2, 4, 5):
        evaluation = manifest.verify(trainer.curve_dir(tmp_path, step))
        assert evaluation["kind"] == "llm_eval" and evaluation["label"] == "LAD-JS"
        assert evaluation["train_step"] == step and evaluation["k"] == 3 and evaluation["task"] == "between"
        assert len(per_prompt(tmp_path, step)) == 2
    # the same sampling seed at every step, but the model changed: other responses
    responses = {step: (trainer.curve_dir(tmp_path, step) / "samples.jsonl").read_text() for step in (0, 5)}
    assert responses[0] != responses[5]


def test_no_evaluations_unless_asked(tmp_path, length_rewards):
    trainer.train(config(steps=2, curves=False), tmp_path, progress=False)
    assert not (tmp_path / layout.CURVES_DIR).exists() and manifest.read(tmp_path)["curves"] == []


def test_an_evaluation_during_training_is_the_evaluation_of_that_checkpoint(tmp_path, length_rewards):
    trainer.train(config(steps=2), tmp_path / "run", progress=False)
    alone = tmp_path / "alone"
    summary = evaluate(EvalConfig(model=str(tmp_path / "run"), task="between", k=3, prompts=2, max_new_tokens=5), alone)
    pd.testing.assert_frame_equal(per_prompt(tmp_path / "run", 2), pd.read_csv(alone / "per_prompt.csv"))
    during = json.loads((trainer.curve_dir(tmp_path / "run", 2) / "summary.json").read_text())
    assert during["metrics"] == summary["metrics"] and summary["train_step"] == during["train_step"] == 2


def test_resume_keeps_the_evaluations_up_to_the_checkpoint_and_redoes_the_rest(tmp_path, length_rewards, monkeypatch):
    straight = tmp_path / "straight"
    trainer.train(config(steps=4, curve_every=1), straight, progress=False)

    run = tmp_path / "run"
    save = trainer._save_checkpoint

    def killed_at_step_3(run_dir, step, *args):
        if step == 3:
            raise KeyboardInterrupt  # after the evaluation of step 3, before its checkpoint
        save(run_dir, step, *args)

    monkeypatch.setattr(trainer, "_save_checkpoint", killed_at_step_3)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(config(steps=4, curve_every=1, checkpoint_every=1), run, progress=False)
    assert trainer.curve_steps(run) == [0, 1, 2, 3]
    monkeypatch.setattr(trainer, "_save_checkpoint", save)
    evaluated = []
    real = trainer.evaluate
    monkeypatch.setattr(trainer, "evaluate", lambda *a, **k: evaluated.append(k["train_step"]) or real(*a, **k))
    trainer.train(config(steps=4, curve_every=1, checkpoint_every=1), run, progress=False)
    assert evaluated == [3, 4]  # 0..2 kept; 3 was after the checkpoint resumed from
    for step in range(5):
        pd.testing.assert_frame_equal(per_prompt(run, step), per_prompt(straight, step))
    assert manifest.verify(run)["curves"] == [0, 1, 2, 3, 4]


def test_results_load_the_training_curves_of_a_run(tmp_path, length_rewards):
    trainer.train(config(steps=2, curve_every=1), tmp_path, progress=False)
    curves = load(tmp_path).eval_curves
    assert curves["step"].tolist() == [0, 1, 2]
    summary = json.loads((trainer.curve_dir(tmp_path, 1) / "summary.json").read_text())
    assert curves.loc[1, "avg_at_k"] == summary["metrics"]["avg_at_k"] and (curves["label"] == "LAD-JS").all()
    (trainer.curve_dir(tmp_path, 1) / "per_prompt.csv").write_text("changed\n")
    with pytest.raises(UserError, match=r"per_prompt\.csv"):
        load(tmp_path)


def test_the_curve_table_and_the_old_flat_spelling_are_one_config():
    table, flat = tiny_config(curve={"every": 2, "k": 3}), tiny_config(curve_every=2, curve_k=3)
    assert table == flat and table.curve.every == 2 and table.resolved() == flat.resolved()
    resolved = table.resolved()  # what manifests hold and cell keys hash: the flat keys, as before the table
    assert "curve" not in resolved and (resolved["curve_every"], resolved["curve_k"]) == (2, 3)
    assert tiny_config().curve is None and tiny_config(curve_every=0).resolved() == tiny_config().resolved()
    assert tiny_config().resolved()["curve_every"] == 0
    assert table.curve_evaluation("run").k == 3 and table.curve_evaluation("run").task == table.task


def test_the_shipped_mini_lm_spec_in_the_curve_table_keeps_its_committed_cell_keys():
    root = Path(__file__).resolve().parents[2]
    spec = load_spec(root / "experiments" / "llm" / "minilm.toml")
    assert "curve = {" in spec.text and "curve_every" not in spec.text
    committed = json.loads((root / "results" / "llm_minilm" / "sweep.json").read_text())["cells"]
    assert [cell.key for cell in spec.cells] == [cell["key"] for cell in committed]


def test_bad_curve_settings_are_one_line_errors():
    with pytest.raises(UserError, match="unknown task 'nope'"):
        config(curve_task="nope")
    with pytest.raises(UserError, match=r"curve\.every: .*greater than or equal to 1 \(got -1\)"):
        config(curve_every=-1)
    with pytest.raises(
        UserError, match=r"curve\.k=3 does nothing with curve\.every = 0: no evaluations during training"
    ):
        config(curve_every=0)
    with pytest.raises(UserError, match=r"curve\.k=3 does nothing without curve\.every"):
        tiny_config(curve={"k": 3})
    with pytest.raises(UserError, match=r"curve_k=3 and curve\.k=4 both given"):
        tiny_config(curve_k=3, curve={"every": 1, "k": 4})
    with pytest.raises(UserError, match=r"unknown setting 'curve\.kk'; valid settings: every, k, prompts, task"):
        tiny_config(curve={"every": 1, "kk": 4})


SPEC = """name = "curves"
track = "llm"
seeds = 1
[fixed]
model = "tiny"
task = "between"
steps = 2
prompts_per_step = 2
group_size = 4
max_new_tokens = 6
train_prompts = 16
checkpoint_every = 1
curve_every = 1
curve_k = 3
curve_prompts = 2
curve_max_new_tokens = 5
[axes]
method = ["grpo"]
[eval]
k = {k}
prompts = 2
max_new_tokens = 5
"""


@pytest.mark.parametrize("k", [3, 4])
def test_a_cell_reuses_the_last_evaluation_during_training_when_its_settings_are_the_same(
    tmp_path, length_rewards, monkeypatch, k
):
    from ladbench.sweep import llm_cells, store
    from ladbench.sweep.runner import run_sweep

    (tmp_path / "curves.toml").write_text(SPEC.format(k=k))
    spec = load_spec(tmp_path / "curves.toml")
    final = []
    real = llm_cells.evaluate
    monkeypatch.setattr(
        llm_cells, "evaluate", lambda config, *a, **kw: final.append(config.k) or real(config, *a, **kw)
    )
    outcome = run_sweep(spec, tmp_path / "results", progress=False)
    directory = store.cell_dir(outcome.directory, spec.cells[0].key)
    assert final == ([] if k == 3 else [4])
    last = pd.read_csv(directory / layout.CELL_CURVES_DIR / "step_2" / "per_prompt.csv")
    final_eval = pd.read_csv(directory / layout.CELL_EVALUATION["per_prompt"])
    assert final_eval.equals(last) == (k == 3)
    assert manifest.verify(directory / layout.EVAL_DIR)["train_step"] == 2
    assert load(outcome.directory).summary.loc[0, "k"] == k
