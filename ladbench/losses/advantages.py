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

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ladbench.errors import UserError, choices_error

if TYPE_CHECKING:
    from torch import Tensor


def _centred(rewards: Tensor) -> Tensor:
    return rewards - rewards.mean(dim=-1, keepdim=True)


def _grpo(rewards: Tensor, eps: float) -> Tensor:
    return _centred(rewards) / (rewards.std(dim=-1, keepdim=True) + eps)


def _rloo(rewards: Tensor, eps: float) -> Tensor:
    # r_i - (sum_j r_j - r_i)/(G-1) = G/(G-1) * (r_i - mean(r))
    group_size = rewards.shape[-1]
    return _centred(rewards) * (group_size / (group_size - 1))


def _expected_centred(rewards: Tensor, behaviour_probs: Tensor, eps: float) -> Tensor:
    return rewards - (behaviour_probs * rewards).sum(dim=-1, keepdim=True)


def _expected_grpo(rewards: Tensor, behaviour_probs: Tensor, eps: float) -> Tensor:
    centred = _expected_centred(rewards, behaviour_probs, eps)
    std = (behaviour_probs * centred.square()).sum(dim=-1, keepdim=True).sqrt()
    return centred / (std + eps)


@dataclass(frozen=True)
class Estimator:
    """An advantage estimator: its formula in words (help texts), its sampled-group form
    (rewards [..., G], eps), its exact form (rewards and pi_old [..., K], eps) and whether it
    needs at least two samples per group."""

    name: str
    formula: str
    group: Callable[[Tensor, float], Tensor]
    expected: Callable[[Tensor, Tensor, float], Tensor]
    needs_group: bool = True


# The one table of estimators: help texts, the choices of ``advantage`` and its errors read it.
ESTIMATORS: dict[str, Estimator] = {
    estimator.name: estimator
    for estimator in (
        Estimator("grpo", "(r - mean) / std", _grpo, _expected_grpo),
        Estimator("dr_grpo", "r - mean", lambda rewards, eps: _centred(rewards), _expected_centred),
        Estimator("rloo", "r - mean of the others", _rloo, _expected_centred),
        Estimator(
            "raw",
            "r",
            lambda rewards, eps: rewards.clone(),
            lambda rewards, behaviour_probs, eps: rewards.clone(),
            needs_group=False,
        ),
    )
}
ADVANTAGE_ESTIMATORS = tuple(ESTIMATORS)
GROUP_ESTIMATORS = tuple(name for name, estimator in ESTIMATORS.items() if estimator.needs_group)


def estimators_help() -> str:
    """The estimators with their formulas, for help texts: ``grpo ((r - mean) / std), ...``."""
    return ", ".join(f"{name} ({estimator.formula})" for name, estimator in ESTIMATORS.items())


def check_estimator(estimator: str) -> None:
    if estimator not in ESTIMATORS:
        raise choices_error("advantage estimator", estimator, ADVANTAGE_ESTIMATORS)


def group_advantages(rewards: Tensor, estimator: str = "grpo", eps: float = 1e-6) -> Tensor:
    """Advantages of G sampled responses per context; rewards has shape [..., G]."""
    check_estimator(estimator)
    group_size = rewards.shape[-1]
    if ESTIMATORS[estimator].needs_group and group_size < 2:
        raise UserError(f"group size {group_size} is too small for the {estimator!r} advantage; it needs at least 2")
    return ESTIMATORS[estimator].group(rewards, eps)


def expected_advantages(
    rewards: Tensor, behaviour_probs: Tensor, estimator: str = "dr_grpo", eps: float = 1e-6
) -> Tensor:
    """Advantages of every action under an exact expectation over pi_old; shapes [..., K]."""
    check_estimator(estimator)
    return ESTIMATORS[estimator].expected(rewards.expand_as(behaviour_probs), behaviour_probs, eps)
