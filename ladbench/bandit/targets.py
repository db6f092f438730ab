"""Each run's exact target distribution on a bandit, the yardstick of the *_target metrics.

The target is the loss's own fixed point on the enumerated action set
(``Loss.target_distribution``), computed from the initial behaviour policy pi_old and the exact
advantages under it. Under the refresh protocol the fixed-protocol target is still reported: it
is the distribution the objective claims to match. A loss without a closed-form target gets NaN
targets (its *_target metrics are NaN).

Shapes: the actions are the last axis, [R, K] for tabular families and [R, C, N] with contexts.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ladbench.losses import ActionSet, Loss, expected_advantages


def method_target(
    loss: Loss,
    advantage: str,
    rewards: Tensor,
    behaviour_probs: Tensor,
    ref_probs: Tensor | None = None,
    tokens: int = 1,
) -> Tensor:
    """Target of each run, shaped like behaviour_probs ([R, K] or [R, C, N]); rewards [K] or
    [C, N]; ``loss`` with its per-run options broadcastable against [R, ...] (``per_run_loss``);
    ref_probs: pi_ref over the actions (None: uniform); tokens: log-probabilities per action."""
    advantages = expected_advantages(rewards, behaviour_probs, advantage)
    actions = ActionSet(
        rewards=rewards, advantages=advantages, behaviour_probs=behaviour_probs, ref_probs=ref_probs, tokens=tokens
    )
    target = loss.target_distribution(actions)
    return torch.full_like(behaviour_probs, float("nan")) if target is None else target
