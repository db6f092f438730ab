"""CISPO: Clipped IS-weight Policy Optimization (MiniMax-M1, arXiv 2506.13585), as verl 0.9.1's
policy-loss registry implements it (``compute_policy_loss_cispo``).

PPO's clip drops the gradient of a token whose ratio left the trust region; CISPO clips the
importance-sampling weight instead and detaches it, so every token keeps a gradient:

    w_t = sg(clip(rho_t, 1 - eps_low, 1 + eps_high))
    objective J = w_t A log pi_t                 (the paper's eq. 4, a token mean over the batch)
    d l_t / d log pi_t = -A w_t

ladbench's value is the weighted ratio -A w_t rho_t / sg(rho_t) = -A w_t (the gradient above,
and a value that does not depend on log pi itself); verl's value is the surrogate -A w_t log pi_t,
whose gradient alone is the method, so the two agree in gradient, not in value.

Defaults: eps_low = 1 (no lower bound: the paper clips only from above, and clip at 0 is no clip),
eps_high = 0.2 (verl's ``clip_ratio_high`` default; the paper tunes it and reports no single value).
Through verl, both come from the actor config (``clip_ratio_low`` / ``clip_ratio_high``).

Fixed point: with pi_old refreshed every step, w = 1 and this is the plain policy gradient, which
ends on the best arms (``surrogate.best_actions``); under a fixed pi_old the clipped weights make
the stationary point depend on the path, with no closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch, aggregation_weights
from ladbench.losses.checks import check_choice, check_non_negative, check_positive_integer
from ladbench.losses.registry import Loss, register_loss
from ladbench.losses.surrogate import best_actions, detached_gradient

if TYPE_CHECKING:
    from torch import Tensor


@register_loss
@dataclass(frozen=True)
class CISPOLoss(Loss):
    """Policy gradient with a clipped, detached importance weight (module docstring)."""

    name: ClassVar[str] = "cispo"
    display_name: ClassVar[str] = "CISPO"
    verl_config: ClassVar[dict[str, str] | None] = {"eps_low": "clip_ratio_low", "eps_high": "clip_ratio_high"}
    eps_low: float = 1.0
    eps_high: float = 0.2
    aggregation: str = "token_mean"
    norm_length: int | None = None

    def __post_init__(self) -> None:
        check_non_negative("eps_low", self.eps_low)
        check_non_negative("eps_high", self.eps_high)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_positive_integer("norm_length", self.norm_length, allow_none=True)

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [
            {},
            {"eps_low": 0.1, "eps_high": 0.05, "aggregation": "seq_mean_token_mean"},
            {"aggregation": "seq_mean_token_sum_norm"},
        ]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        return best_actions(actions)

    def _score(self, batch: LossBatch) -> tuple[Tensor, Tensor, Tensor]:
        """log rho [B, T] (differentiable), rho (detached) and -A w [B, T] (detached)."""
        log_rho = batch.log_ratio()
        rho = log_rho.detach().exp()
        weight = rho.clamp(1.0 - self.eps_low, 1.0 + self.eps_high)
        return log_rho, rho, -batch.advantages[:, None].detach() * weight

    def token_terms(self, batch: LossBatch) -> Tensor:
        log_rho, _, score = self._score(batch)
        return detached_gradient(log_rho, score)

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        log_rho, rho, score = self._score(batch)
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        loss = (coefficients * detached_gradient(log_rho, score)).sum()
        with_tokens = coefficients > 0
        clipped = (rho < 1.0 - self.eps_low) | (rho > 1.0 + self.eps_high)
        metrics = {
            "loss": loss.detach(),
            "ratio_mean": rho[with_tokens].mean(),
            "clip_frac": clipped[with_tokens].float().mean(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        _, _, score = self._score(batch)
        return {"logp": aggregation_weights(batch, self.aggregation, self.norm_length) * score}
