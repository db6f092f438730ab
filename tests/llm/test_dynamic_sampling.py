"""DAPO's dynamic sampling in the LLM trainer: groups with equal rewards are dropped before the
update, and a step with nothing left skips it."""

import json

import pytest
import torch
from safetensors.torch import load_file

from ladbench.errors import UserError
from ladbench.llm.config import TrainConfig
from ladbench.llm.dynamic_sampling import informative_rows, select_rows
from ladbench.llm.rollout import Rollout
from ladbench.llm.tasks import Grade
from ladbench.llm.tasks.multi_answer import BetweenTask
from ladbench.llm.tiny import tiny_model, tiny_tokenizer
from ladbench.llm.trainer import train


def config(**overrides):
    fields = {
        "model": "tiny",
        "task": "between",
        "method": "grpo",
        "steps": 2,
        "prompts_per_step": 3,
        "group_size": 4,
        "max_new_tokens": 6,
        "train_prompts": 16,
        "lr": 1e-2,
        "checkpoint_every": 1,
        "dynamic_sampling": True,
    }
    return TrainConfig.build(**{**fields, **overrides})


def test_informative_rows_and_row_selection():
    rewards = torch.tensor([1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 2.0, 2.0])
    rows = informative_rows(rewards, 2)
    assert rows.tolist() == [False, False, True, True, True, True, False, False]
    rollout = Rollout(
        torch.arange(16).view(8, 2),
        torch.ones(8, 2),
        torch.arange(24).view(8, 3),
        torch.ones(8, 3),
        [str(i) for i in range(8)],
        torch.zeros(8, 3),
    )
    kept = select_rows(rollout, rows)
    assert kept.texts == ["2", "3", "4", "5"] and kept.prompt_ids[:, 0].tolist() == [4, 6, 8, 10]
    assert kept.completion_ids.shape == (4, 3) and kept.behaviour_logp.shape == (4, 3)


def test_all_groups_equal_skips_the_update(tmp_path, monkeypatch):
    monkeypatch.setattr(BetweenTask, "grade_response", lambda self, problem, text: Grade(True, text[:3]))
    final = train(config(), tmp_path, progress=False)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(r["groups_dropped"], r["update_skipped"], "loss" in r) for r in records] == [(3, 1.0, False)] * 2
    trained = load_file(final / "model.safetensors")
    initial = tiny_model(tiny_tokenizer()).state_dict()
    assert all(torch.equal(value, initial[name]) for name, value in trained.items())


def test_mixed_groups_train_on_the_informative_ones(tmp_path, monkeypatch):
    """Reward 1 for even-length completions: some groups mixed, the rest dropped."""
    monkeypatch.setattr(BetweenTask, "grade_response", lambda self, problem, text: Grade(len(text) % 2 == 0, text[:3]))
    train(config(steps=3), tmp_path, progress=False)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    for record in records:
        assert record["groups_dropped"] == round(record["groups_all_equal"] * 3)
        assert record["update_skipped"] == float(record["groups_dropped"] == 3)
        assert ("loss" in record) == (record["update_skipped"] == 0.0)
    assert any(record["update_skipped"] == 0.0 for record in records)


def test_dynamic_sampling_needs_groups():
    with pytest.raises(UserError, match="dynamic_sampling needs group_size >= 2"):
        config(group_size=1, advantage="raw")
