"""The tiny LLM training run the LLM tests share: small enough for about a second a step on a CPU."""

from __future__ import annotations

from ladbench.llm.config import TrainConfig

TINY_RUN = {
    "model": "tiny",
    "task": "between",
    "prompts_per_step": 2,
    "group_size": 4,
    "max_new_tokens": 6,
    "train_prompts": 16,
    "lr": 1e-2,
    "checkpoint_every": 1,
}


def tiny_config(**settings) -> TrainConfig:
    """TINY_RUN with ``settings`` added or overriding."""
    return TrainConfig.build(**TINY_RUN | settings)
