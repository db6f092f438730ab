"""The LLM trainer hands the shared losses the bandit's tensors: same shapes, same meanings."""

import pytest
import torch

from ladbench.errors import UserError
from ladbench.llm.device import resolve_placement
from ladbench.llm.policy import PolicyState
from ladbench.llm.rollout import _mask_through_eos, sample
from ladbench.llm.tasks.base import ANSWER_ONLY
from ladbench.llm.train_step import advantages_from_rewards, build_batch, scored
from ladbench.losses import LossBatch, get_loss, group_advantages

QUESTIONS = ["1+1?", "What is 22+3?"]
REWARDS = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])


def independent_logp(model, rollout):
    """log pi of each completion token, scoring every row alone and unpadded."""
    rows = []
    for row in range(rollout.completion_ids.shape[0]):
        prompt = rollout.prompt_ids[row][rollout.prompt_mask[row].bool()]
        completion = rollout.completion_ids[row]
        logits = model(torch.cat([prompt, completion])[None]).logits[0, len(prompt) - 1 : -1]
        rows.append(logits.log_softmax(-1).gather(-1, completion[:, None]).squeeze(-1))
    return torch.stack(rows)


def test_trainer_path_lad_loss_equals_direct_call(tiny):
    model, tokenizer = tiny
    torch.manual_seed(1)
    rollout = sample(model, tokenizer, QUESTIONS, 3, 6, ANSWER_ONLY, behaviour_logp=True)
    loss = get_loss("lad", divergence="js", eta=0.25)
    policy = PolicyState(model, tokenizer, resolve_placement("cpu", "float32"))
    batch = build_batch(policy, scored(rollout, REWARDS, 3, "grpo"), loss)
    trainer_value, _ = loss(batch)
    trainer_grad = torch.autograd.grad(trainer_value, model.model.layers[-1].mlp.down_proj.weight)[0]

    logp = independent_logp(model, rollout)
    direct = LossBatch(
        logp=logp,
        old_logp=rollout.behaviour_logp,
        advantages=group_advantages(REWARDS.view(2, 3), "grpo").reshape(-1),
        mask=rollout.completion_mask,
    )
    direct_value, _ = get_loss("lad", divergence="js", eta=0.25)(direct)
    direct_grad = torch.autograd.grad(direct_value, model.model.layers[-1].mlp.down_proj.weight)[0]

    assert batch.logp.shape == batch.old_logp.shape == batch.mask.shape == (6, rollout.completion_ids.shape[1])
    assert batch.advantages.shape == (6,)
    assert torch.allclose(batch.logp, logp, atol=1e-5)  # left padding and position ids handled
    assert torch.allclose(batch.old_logp, batch.logp.detach(), atol=1e-5)  # pi_old = the sampler, same weights
    assert float(direct_value.detach()) != 0.0
    assert torch.allclose(trainer_value, direct_value, atol=1e-6)
    assert torch.allclose(trainer_grad, direct_grad, atol=1e-6)

    # Dr. GRPO divides each sequence's token sum by the sampler's budget (max_new_tokens = 6), not
    # by this batch's width: B = 6 sequences
    assert batch.max_length == 6
    dr_grpo, _ = get_loss("grpo", aggregation="seq_mean_token_sum_norm")(batch)
    per_token = -batch.advantages[:, None] * (batch.logp - batch.old_logp).exp() * batch.mask  # rho ~ 1: no clip
    assert torch.allclose(dr_grpo, per_token.sum() / (6 * 6), atol=1e-6)


def test_advantages_are_per_group_and_nan_rewards_refused():
    advantages = advantages_from_rewards(REWARDS, 3, "dr_grpo")
    assert torch.allclose(advantages, torch.tensor([2, -1, -1, 1, 1, -2]) / 3.0)
    with pytest.raises(UserError, match="NaN"):
        advantages_from_rewards(torch.tensor([1.0, float("nan")]), 2, "grpo")


def test_mask_runs_through_the_first_eos():
    ids = torch.tensor([[5, 2, 7, 2], [5, 6, 7, 8], [2, 3, 3, 3]])
    assert _mask_through_eos(ids, 2).tolist() == [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]]


def test_flowrl_and_entropy_fields(tiny):
    model, tokenizer = tiny
    from ladbench.llm.log_z import LogZHead

    torch.manual_seed(2)
    rollout = sample(model, tokenizer, QUESTIONS, 2, 4, ANSWER_ONLY, behaviour_logp=True)
    head = LogZHead(model.config.hidden_size)
    policy = PolicyState(model, tokenizer, resolve_placement("cpu", "float32"), reference=model, log_z_head=head)
    batch = build_batch(policy, scored(rollout, torch.ones(4), 2, "grpo"), get_loss("flowrl"))
    assert batch.log_z.shape == (4,) and batch.log_z.requires_grad
    assert batch.entropy.shape == batch.logp.shape and batch.entropy.requires_grad
    assert torch.allclose(batch.ref_logp, batch.logp.detach(), atol=1e-5)  # reference = same weights here
