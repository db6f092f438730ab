"""One GRPO-style update of a policy's state (``PolicyState``) on a scored rollout (its rewards and
their group advantages): LossBatch -> ``get_loss`` -> backward -> optimizer step.

The batch has the bandit's meanings (see ``ladbench.losses.LossBatch``):

    logp       [B, T]  log pi_theta of each completion token (differentiable)
    old_logp   [B, T]  log pi_old of the same tokens, from the sampling policy's logits
    advantages [B]     the rollout's: group_advantages(rewards [P, G], estimator).flatten()
    mask       [B, T]  completion tokens through the first EOS
    ref_logp   [B, T]  log pi_ref from the frozen initial model (when the loss uses it)
    log_z      [B]     FlowRL's LogZHead on the mean prompt hidden state (flowrl only)
    entropy    [B, T]  per-token entropy of pi_theta (differentiable)
    rewards    [B]     the rollout's graded rewards (when the loss reads them)
    uniforms   [B, T]  U(0, 1) from torch's generator, seeded per step by the trainer (when the loss reads them)
    group_size G       rows p * G .. p * G + G - 1 are prompt p's completions
    max_length         the sampler's max_new_tokens (Dr. GRPO's constant length)

Every tensor is float32 (mask: integer) on the policy's device, whatever ``dtype`` the forward
passes run in; the backward pass and the optimizer step run outside autocast.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor

from ladbench.errors import UserError
from ladbench.llm.config import TrainConfig
from ladbench.llm.policy import PolicyState
from ladbench.llm.rollout import Rollout, token_logp_and_entropy
from ladbench.losses import Loss, LossBatch, group_advantages


def needs_reference(loss: Loss) -> bool:
    """Whether the loss reads ref_logp (FlowRL always, GRPO when its KL penalty is on)."""
    return "ref_logp" in loss.batch_fields()


def advantages_from_rewards(rewards: Tensor, group_size: int, estimator: str) -> Tensor:
    """[B] advantages of rewards [B] laid out as consecutive groups of ``group_size``."""
    if not torch.isfinite(rewards).all():
        raise UserError("rewards contain NaN or infinity; a reward function must return finite numbers")
    return group_advantages(rewards.view(-1, group_size), estimator).reshape(-1)


def scored(rollout: Rollout, rewards: Tensor, group_size: int, estimator: str) -> Rollout:
    """The rollout with its rewards [B] and their group advantages (``estimator``) set."""
    advantages = advantages_from_rewards(rewards, group_size, estimator)
    return dataclasses.replace(rollout, rewards=rewards, advantages=advantages)


def build_batch(policy: PolicyState, rollout: Rollout, loss: Loss, group_size: int | None = None) -> LossBatch:
    """The LossBatch of a scored rollout (its rewards and advantages set) under the current policy
    (see module docstring); ``group_size``: the rollout's groups, for the losses that read them."""
    fields = loss.batch_fields()
    use_log_z = policy.log_z_head is not None
    logp, entropy, hidden = token_logp_and_entropy(policy.model, rollout, hidden=use_log_z, dtype=policy.dtype)
    ref_logp = None
    if needs_reference(loss):
        with torch.no_grad():
            ref_logp, _, _ = token_logp_and_entropy(policy.reference, rollout, dtype=policy.dtype)
    old_logp = rollout.behaviour_logp if rollout.behaviour_logp is not None else logp.detach()
    rewards = rollout.rewards
    return LossBatch(
        logp=logp,
        old_logp=old_logp,
        advantages=rollout.advantages,
        mask=rollout.completion_mask,
        ref_logp=ref_logp,
        log_z=policy.log_z_head(hidden, rollout.prompt_mask) if use_log_z else None,
        entropy=entropy,
        rewards=rewards.to(logp.dtype) if "rewards" in fields and rewards is not None else None,
        uniforms=torch.rand(logp.shape, dtype=logp.dtype, device=logp.device) if "uniforms" in fields else None,
        group_size=group_size,
        max_length=rollout.max_new_tokens,
    )


def update(policy: PolicyState, rollout: Rollout, loss: Loss, config: TrainConfig) -> dict[str, float]:
    """One optimizer step of ``policy`` on a scored rollout (``config``: its ``grad_clip`` and
    ``group_size``); returns the loss's metrics plus entropy, grad norm and the largest |log ratio|."""
    batch = build_batch(policy, rollout, loss, config.group_size)
    value, metrics = loss(batch)
    if not math.isfinite(float(value.detach())):
        raise UserError(
            f"loss {loss.name!r} became {float(value.detach())}; lower the learning rate or check the options"
        )
    policy.optimizer.zero_grad(set_to_none=True)
    value.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(policy.trainable_parameters(), config.grad_clip)
    policy.optimizer.step()
    mask = batch.token_mask
    log_ratio = batch.log_ratio().detach()
    metrics.update(
        entropy=float((batch.entropy.detach() * mask).sum() / mask.sum().clamp_min(1.0)),
        grad_norm=float(grad_norm),
        log_ratio_abs_max=float((log_ratio.abs() * mask).max()),
    )
    return metrics
