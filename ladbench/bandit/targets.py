"""Each method's exact target distribution on a bandit, the yardstick of the *_target metrics.

All are computed from the initial behaviour policy pi_old (under the refresh protocol the
fixed-protocol target is still reported: it is the distribution the objective claims to match).

- lad:        pi_old exp(A / eta) / Z, A the exact advantage under pi_old. For sequences this
              is the optimum of the sequence-level ratio; the token-level ratio (the default
              ``ratio_level``) optimises a different objective, and the distance to this target
              measures how far that moves it.
- entropy_pg: exp(A / (coef T)) / Z, the maximiser of E_pi[A] / T + coef H(pi), H the exact
              entropy of the whole action distribution (per context), T the tokens per action.
              For sequences every aggregation weighs a sequence's T per-token policy-gradient
              terms against one broadcast entropy term, hence the 1/T. With per-token ratios the
              policy-gradient term is the gradient of E_pi[A] / T only at pi = pi_old, so for
              T > 1 this is the optimum under refresh every step (a fixed pi_old stops elsewhere).
- flowrl:     pi_ref exp(T beta A) / Z with pi_ref the family's base policy (uniform, or
              multi_correct's base model) and T the tokens per action: FlowRL's residual uses
              the length-normalised (1/T) log pi, so delta = 0 for all y gives log pi(y) =
              T (beta A - log Z) + log pi_ref(y). T = 1 except for sequences.
- grpo:       uniform over the best actions of each context (advantage maximisation; with
              beta > 0 this is the beta -> 0 limit, since the k3 penalty's fixed point has no
              closed form here).

Shapes: the actions are the last axis, [R, K] for tabular families and [R, C, N] with contexts.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ladbench.bandit.config import BanditConfig
from ladbench.losses import expected_advantages


def method_target(config: BanditConfig, rewards: Tensor, behaviour_probs: Tensor, eta: Tensor,
                  ref_probs: Tensor | None = None, tokens: int = 1) -> Tensor:
    """Target of each run, shaped like behaviour_probs ([R, K] or [R, C, N]); rewards [K] or
    [C, N]; eta [R, 1] or [R, 1, 1] (per-run temperature); ref_probs: FlowRL's pi_ref over the
    actions (None: uniform); tokens: log-probabilities per action (FlowRL's length T)."""
    advantages = expected_advantages(rewards, behaviour_probs, config.advantage)
    options = config.loss_options_resolved()
    if config.method == "lad":
        return torch.softmax(behaviour_probs.log() + advantages / eta, dim=-1)
    if config.method == "entropy_pg":
        coef = eta if "coef" not in config.loss_options else torch.as_tensor(options["coef"], dtype=rewards.dtype)
        return torch.softmax(advantages / (coef * tokens), dim=-1)
    if config.method == "flowrl":
        beta = options.get("beta", 15.0)
        log_ref = 0.0 if ref_probs is None else ref_probs.log()  # a uniform pi_ref cancels
        return torch.softmax(log_ref + tokens * beta * advantages, dim=-1)
    best = (rewards == rewards.max(dim=-1, keepdim=True).values).to(rewards.dtype).expand_as(behaviour_probs)
    return best / best.sum(dim=-1, keepdim=True)

