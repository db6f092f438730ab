"""TRL 1.16's GRPO loss for one micro-batch, written out from ``GRPOTrainer._compute_loss``
(trl/trainer/grpo_trainer.py, importance_sampling_level="token", no vLLM, no entropy mask), as an
independent reference for ladbench's ``grpo`` loss and the TRL plug-in. It calls no ladbench code.

    coef_1 = exp(logp - old_logp)                           the per-token ratio
    coef_2 = clamp(coef_1, 1 - epsilon, 1 + epsilon_high)
    coef_1 = clamp(coef_1, max=delta)                       (two-sided clipping, when delta is set)
    per_token = -min(coef_1 A, coef_2 A)
              + beta * k3 * exp(logp - old_logp)             (use_bias_correction_kl=True)
              + beta * k3                                    (use_bias_correction_kl=False)
    k3 = exp(ref - logp) - (ref - logp) - 1

    grpo     mean_b( sum_t per_token m / max(sum_t m, 1) )
    bnpo     sum per_token m / max(sum m, 1)
    dr_grpo  sum per_token m / (B * max_completion_length)
    dapo     sum per_token m / normaliser,  normaliser = max(num_items_in_batch, 1) / num_processes
                                                         * (accumulation steps / steps_per_generation in training)

In training TRL divides grpo, bnpo and dr_grpo by the accumulation steps; dapo is not divided.
"""

from __future__ import annotations

import torch


def trl_grpo_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    loss_type: str,
    ref_logp: torch.Tensor | None = None,
    beta: float = 0.0,
    use_bias_correction_kl: bool = True,
    epsilon: float = 0.2,
    epsilon_high: float | None = None,
    delta: float | None = None,
    max_completion_length: int | None = None,
    dapo_normaliser: float | torch.Tensor | None = None,
) -> torch.Tensor:
    """The micro-batch loss TRL computes before dividing by the accumulation steps."""
    epsilon_high = epsilon if epsilon_high is None else epsilon_high
    mask = mask.to(logp.dtype)
    coef_1 = torch.exp(logp - old_logp)
    coef_2 = torch.clamp(coef_1, 1 - epsilon, 1 + epsilon_high)
    kl_weight = coef_1
    if delta is not None:
        coef_1 = torch.clamp(coef_1, max=delta)
    advantages = advantages[:, None]
    per_token = -torch.min(coef_1 * advantages, coef_2 * advantages)
    if beta != 0.0:
        k3 = torch.exp(ref_logp - logp) - (ref_logp - logp) - 1
        if use_bias_correction_kl:
            k3 = k3 * kl_weight
        per_token = per_token + beta * k3
    if loss_type == "grpo":
        return ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    if loss_type == "bnpo":
        return (per_token * mask).sum() / mask.sum().clamp(min=1.0)
    if loss_type == "dr_grpo":
        return (per_token * mask).sum() / (per_token.size(0) * max_completion_length)
    if loss_type == "dapo":
        return (per_token * mask).sum() / dapo_normaliser
    raise ValueError(loss_type)
