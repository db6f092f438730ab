"""PPO's clipped surrogate (Schulman et al. 2017) with an asymmetric clip (DAPO), for the losses
built on it (``grpo``, ``clip_cov``, ``entropy_adv``, ``gspo``), and the fixed point they share
(with ``dppo``).

With a ratio rho (per token or per sequence) and an advantage A of the same shape:

    l = -min(rho A, clip(rho, 1 - eps_low, 1 + eps_high) A)
    d l / d log rho = -A rho   where the unclipped branch is the minimum, 0 where the clip binds
                               (A > 0 and rho > 1 + eps_high, or A < 0 and rho < 1 - eps_low).

GRPO (``grpo.py``) computes the same surrogate with an option of its own (INTELLECT-2's delta cap
on the unclipped ratio) and shares ``clip_active`` and ``best_actions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor

    from ladbench.losses.batch import ActionSet


def clip_active(rho: Tensor, advantages: Tensor, eps_low: float, eps_high: float) -> Tensor:
    """Where the clipped branch is the minimum and flat in rho (no gradient)."""
    return ((advantages > 0) & (rho > 1.0 + eps_high)) | ((advantages < 0) & (rho < 1.0 - eps_low))


def clipped_surrogate(rho: Tensor, advantages: Tensor, eps_low: float, eps_high: float) -> Tensor:
    """-min(rho A, clip(rho, 1 - eps_low, 1 + eps_high) A), elementwise."""
    return -(rho * advantages).minimum(rho.clamp(1.0 - eps_low, 1.0 + eps_high) * advantages)


def clipped_score(rho: Tensor, advantages: Tensor, eps_low: float, eps_high: float) -> Tensor:
    """d clipped_surrogate / d log rho, elementwise."""
    return -advantages * rho * (~clip_active(rho, advantages, eps_low, eps_high))


def detached_gradient(log_rho: Tensor, score: Tensor) -> Tensor:
    """score * exp(log rho - sg(log rho)): the value ``score`` and the gradient ``score`` per unit
    of log rho (``score`` detached). The per-token term of a loss defined by its gradient (``cispo``,
    ``dppo``), whose value does not depend on log pi itself."""
    return score * (log_rho - log_rho.detach()).exp()


def best_actions(actions: ActionSet) -> Tensor:
    """Uniform over the best actions of each context: the maximiser of E_pi[A], where a policy
    gradient with pi_old refreshed every step ends (the clip or trust region only stops a run
    under a fixed pi_old at its edge, a point that depends on the path)."""
    rewards = actions.rewards
    best = (rewards == rewards.max(dim=-1, keepdim=True).values).to(rewards.dtype).expand_as(actions.behaviour_probs)
    return best / best.sum(dim=-1, keepdim=True)
