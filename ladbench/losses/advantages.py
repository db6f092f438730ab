"""Advantage estimators, in one place for both tracks.

Sampled groups (``group_advantages``), rewards r of shape [..., G] for G samples of one context:

- ``grpo``     A_i = (r_i - mean(r)) / (std(r) + eps)       (Shao et al. 2024; std with Bessel's
                                                              correction, as TRL and verl compute it)
- ``dr_grpo``  A_i = r_i - mean(r)                          (Dr. GRPO, Liu et al. 2025: no std)
- ``rloo``     A_i = r_i - mean_{j != i} r_j                (Ahmadian et al. 2024)
- ``raw``      A_i = r_i

Exact expectations (``expected_advantages``), rewards of every action [..., K] and the behaviour
policy's probabilities pi_old [..., K]: the same estimators with the group replaced by the whole
action distribution, i.e. mean -> E_{pi_old}[r] and std -> the pi_old-weighted standard
deviation. RLOO's leave-one-out baseline has expectation E_{pi_old}[r], so it coincides with
``dr_grpo`` there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ladbench.errors import UserError, choices_error

if TYPE_CHECKING:
    from torch import Tensor

ADVANTAGE_ESTIMATORS = ("grpo", "dr_grpo", "rloo", "raw")
GROUP_ESTIMATORS = ("grpo", "dr_grpo", "rloo")  # need at least two samples per group


def check_estimator(estimator: str) -> None:
    if estimator not in ADVANTAGE_ESTIMATORS:
        raise choices_error("advantage estimator", estimator, ADVANTAGE_ESTIMATORS)


def group_advantages(rewards: Tensor, estimator: str = "grpo", eps: float = 1e-6) -> Tensor:
    """Advantages of G sampled responses per context; rewards has shape [..., G]."""
    check_estimator(estimator)
    group_size = rewards.shape[-1]
    if estimator in GROUP_ESTIMATORS and group_size < 2:
        raise UserError(f"group size {group_size} is too small for the {estimator!r} advantage; it needs at least 2")
    if estimator == "raw":
        return rewards.clone()
    centred = rewards - rewards.mean(dim=-1, keepdim=True)
    if estimator == "dr_grpo":
        return centred
    if estimator == "rloo":
        # r_i - (sum_j r_j - r_i)/(G-1) = G/(G-1) * (r_i - mean(r))
        return centred * (group_size / (group_size - 1))
    return centred / (rewards.std(dim=-1, keepdim=True) + eps)


def expected_advantages(
    rewards: Tensor, behaviour_probs: Tensor, estimator: str = "dr_grpo", eps: float = 1e-6
) -> Tensor:
    """Advantages of every action under an exact expectation over pi_old; shapes [..., K]."""
    check_estimator(estimator)
    rewards = rewards.expand_as(behaviour_probs)
    if estimator == "raw":
        return rewards.clone()
    mean = (behaviour_probs * rewards).sum(dim=-1, keepdim=True)
    centred = rewards - mean
    if estimator in ("dr_grpo", "rloo"):
        return centred
    std = (behaviour_probs * centred.square()).sum(dim=-1, keepdim=True).sqrt()
    return centred / (std + eps)
