"""Each method's exact target distribution on a bandit, the yardstick of the *_target metrics.

All are computed from the initial behaviour policy pi_old (under the refresh protocol the
fixed-protocol target is still reported: it is the distribution the objective claims to match).

- lad:        pi_old exp(A / eta) / Z, A the exact advantage under pi_old.
- entropy_pg: exp(A / coef) / Z (maximiser of E_pi[A] + coef H(pi)).
- flowrl:     pi_ref exp(beta A) / Z with pi_ref the uniform initial policy.
- grpo:       uniform over the best arms (advantage maximisation; with beta > 0 this is the
              beta -> 0 limit, since the k3 penalty's fixed point has no closed form here).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ladbench.bandit.config import BanditConfig
from ladbench.losses import expected_advantages


def method_target(config: BanditConfig, rewards: Tensor, behaviour_probs: Tensor, eta: Tensor) -> Tensor:
    """[R, K] target of each run; behaviour_probs [R, K], eta [R, 1] (per-run temperature)."""
    advantages = expected_advantages(rewards, behaviour_probs, config.advantage)
    options = config.loss_options_resolved()
    if config.method == "lad":
        return torch.softmax(behaviour_probs.log() + advantages / eta, dim=-1)
    if config.method == "entropy_pg":
        coef = eta if "coef" not in config.loss_options else torch.as_tensor(options["coef"], dtype=rewards.dtype)
        return torch.softmax(advantages / coef, dim=-1)
    if config.method == "flowrl":
        beta = options.get("beta", 15.0)
        return torch.softmax(beta * advantages, dim=-1)  # uniform pi_ref cancels
    best = (rewards == rewards.max()).to(rewards.dtype).expand_as(behaviour_probs)
    return best / best.sum(dim=-1, keepdim=True)
