"""Two training steps with every registered loss on the tiny model, resume, then one evaluation."""

import json
import math

import pandas as pd
import pytest
import torch
from llm_helpers import tiny_config
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ladbench import metric_catalogue
from ladbench.errors import UserError
from ladbench.llm.config import EvalConfig
from ladbench.llm.evaluate import evaluate
from ladbench.llm.tasks import get_task
from ladbench.llm.tiny import tiny_model, tiny_tokenizer
from ladbench.llm.trainer import train
from ladbench.losses import available_losses, get_loss
from ladbench.results import load


def small_config(method, steps=2, **overrides):
    return tiny_config(method=method, steps=steps, **overrides)


@pytest.mark.parametrize("method", sorted(available_losses()))
def test_two_steps_change_the_model(method, tmp_path, length_rewards):
    final = train(small_config(method), tmp_path, progress=False)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2]
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in records)
    assert {"reward_mean", "entropy", "grad_norm", "generate_s", "grade_s", "update_s"} <= set(records[0])
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert {"reward_mean", "loss", "entropy"} <= set(events.Tags()["scalars"])
    logged = events.Scalars("loss")
    assert [event.step for event in logged] == [1, 2]
    assert [event.value for event in logged] == pytest.approx([r["loss"] for r in records], rel=1e-6)
    trained = load_file(final / "model.safetensors")
    initial = tiny_model(tiny_tokenizer()).state_dict()
    changed = [name for name, value in trained.items() if not torch.equal(value, initial[name])]
    assert changed and all("embed" not in name for name in changed)  # embeddings stay frozen
    saved = json.loads((tmp_path / "manifest.json").read_text())
    assert saved["kind"] == "llm_train" and saved["label"] == get_loss(method).label() and saved["step"] == 2
    assert saved["config"]["loss"]["name"] == method and saved["provenance"]["versions"]["transformers"]
    assert saved["files"]["metrics.jsonl"]["rows"] == 2 and "checkpoint/model/model.safetensors" in saved["files"]
    assert load(tmp_path).curves["reward_mean"].tolist() == [r["reward_mean"] for r in records]


def test_resume_continues_where_it_stopped(tmp_path, length_rewards):
    train(small_config("lad", steps=2), tmp_path, progress=False)
    first = (tmp_path / "metrics.jsonl").read_text().splitlines()
    train(small_config("lad", steps=3), tmp_path, progress=False)
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert lines[:2] == first and json.loads(lines[2])["step"] == 3
    assert json.loads((tmp_path / "checkpoint" / "state.json").read_text())["step"] == 3
    uninterrupted = tmp_path / "straight"
    train(small_config("lad", steps=3), uninterrupted, progress=False)
    straight = [json.loads(line)["reward_mean"] for line in (uninterrupted / "metrics.jsonl").read_text().splitlines()]
    assert straight == [json.loads(line)["reward_mean"] for line in lines]


def test_resume_refuses_other_settings(tmp_path, length_rewards):
    train(small_config("lad", steps=1), tmp_path, progress=False)
    with pytest.raises(UserError, match="different settings"):
        train(small_config("grpo", steps=1), tmp_path, progress=False)


def test_evaluation_of_a_run(tmp_path, length_rewards):
    train(small_config("grpo", steps=1), tmp_path / "run", progress=False)
    summary = evaluate(
        EvalConfig(model=str(tmp_path / "run"), task="between", k=4, prompts=3, max_new_tokens=6), tmp_path / "eval"
    )
    rows = (tmp_path / "eval" / "per_prompt.csv").read_text().splitlines()
    assert len(rows) == 4 and rows[0].startswith("uid,question,answer,n,correct,avg_at_k")
    assert summary["train_config"]["loss"]["name"] == "grpo"
    assert 0.0 <= summary["metrics"]["avg_at_k"] <= summary["metrics"]["pass_at_k"] <= 1.0
    assert len((tmp_path / "eval" / "samples.jsonl").read_text().splitlines()) == 12
    results = load(tmp_path / "eval")  # verified against its manifest
    assert results.kind == "llm_eval" and results.manifests["eval"]["label"] == "GRPO"
    assert len(results.per_prompt) == 3 and (results.per_prompt["label"] == "GRPO").all()
    assert results.summary.loc[0, "avg_at_k"] == summary["metrics"]["avg_at_k"]
    assert results.summary.loc[0, "train_seed"] == 0 and results.summary.loc[0, "task"] == "between"


def test_answer_set_metrics_and_pass_at_k_curve_of_an_evaluation(tmp_path, length_rewards):
    base = tmp_path / "base"
    evaluate(EvalConfig(model="tiny", task="between", k=8, prompts=3, max_new_tokens=6), base)
    frame = pd.read_csv(base / "per_prompt.csv")
    assert set(metric_catalogue.names(metric_catalogue.LLM_EVAL)) <= set(frame.columns)
    task = get_task("between")
    for problem, row in zip(task.problems("eval", 3), frame.itertuples(), strict=True):
        valid = task.valid_answers(problem)
        assert row.valid_answers == len(valid)
        assert row.correct == 0 or 0 < row.coverage <= min(row.correct, len(valid)) / len(valid)
        assert math.isnan(row.tv_base_correct)  # no base evaluation given
    curve = pd.read_csv(base / "pass_at_k.csv")
    assert list(curve["k"]) == list(range(1, 9))
    assert curve["pass_at_k"].iloc[0] == pytest.approx(frame["avg_at_k"].mean())
    assert curve["pass_at_k"].iloc[-1] == pytest.approx(frame["pass_at_k"].mean())

    # the same model and seed against its own samples: identical answers, so TV 0 wherever defined
    again = evaluate(
        EvalConfig(model="tiny", task="between", k=8, prompts=3, max_new_tokens=6, base_eval=str(base)),
        tmp_path / "again",
    )
    rows = pd.read_csv(tmp_path / "again" / "per_prompt.csv")
    solved = rows["correct"] > 0
    assert solved.any()
    assert (rows.loc[solved, "tv_base_correct"] == 0).all() and rows.loc[~solved, "tv_base_correct"].isna().all()
    assert again["metric_prompts"]["tv_base_correct"] == solved.sum()
    assert again["metric_prompts"]["avg_at_k"] == 3
    assert again["base_eval"] == str(base)


def test_base_evaluation_of_other_prompts_is_refused(tmp_path, length_rewards):
    evaluate(
        EvalConfig(model="tiny", task="between", k=2, prompts=3, max_new_tokens=4, split_seed=1), tmp_path / "base"
    )
    with pytest.raises(UserError, match="prompt eval-0 differs"):
        evaluate(
            EvalConfig(
                model="tiny", task="between", k=2, prompts=3, max_new_tokens=4, base_eval=str(tmp_path / "base")
            ),
            tmp_path / "e",
        )
    with pytest.raises(UserError, match="--base-eval"):
        evaluate(
            EvalConfig(
                model="tiny", task="between", k=2, prompts=3, max_new_tokens=4, base_eval=str(tmp_path / "none")
            ),
            tmp_path / "e",
        )
