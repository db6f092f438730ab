"""The LLM trainer fills exactly the optional batch fields a loss declares (rewards, uniforms) and
tells every loss its group structure."""

import dataclasses

import torch

from ladbench.llm.device import resolve_placement
from ladbench.llm.policy import PolicyState
from ladbench.llm.rollout import sample
from ladbench.llm.tasks.base import ANSWER_ONLY
from ladbench.llm.train_step import build_batch
from ladbench.losses import get_loss


def test_rewards_uniforms_and_groups_reach_the_losses_that_read_them(tiny):
    model, tokenizer = tiny
    torch.manual_seed(3)
    rollout = sample(model, tokenizer, ["1+1?", "2+2?"], 3, 5, ANSWER_ONLY, behaviour_logp=True)
    rewards = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    rollout = dataclasses.replace(rollout, rewards=rewards, advantages=torch.zeros(6))
    policy = PolicyState(model, tokenizer, resolve_placement("cpu", "float32"), reference=model)
    for name, fields in (("alpha_dpg", {"rewards", "ref_logp"}), ("clip_cov", {"uniforms"}), ("grpo", set())):
        loss = get_loss(name)
        batch = build_batch(policy, rollout, loss, group_size=3)
        assert batch.group_size == 3
        assert (batch.rewards is not None) == ("rewards" in fields)
        assert (batch.uniforms is not None) == ("uniforms" in fields)
        if batch.rewards is not None:
            assert torch.equal(batch.rewards, rewards)
        if batch.uniforms is not None:
            assert batch.uniforms.shape == batch.logp.shape and 0 <= batch.uniforms.min() < batch.uniforms.max() < 1
        value, _ = loss(batch)
        assert torch.isfinite(value)
