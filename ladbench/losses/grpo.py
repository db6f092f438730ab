"""GRPO's clipped surrogate (Shao et al. 2024) with DAPO's asymmetric clip (Yu et al. 2025).

Per token, with rho_t = pi_theta / pi_old and the sequence advantage A:

    l_t = -min(rho_t A, clip(rho_t, 1 - eps_low, 1 + eps_high) A) + beta * k3_t,
    k3_t = exp(ref_t - logp_t) - (ref_t - logp_t) - 1                (Schulman's k3 estimator)

Gradient: d l_t / d logp_t = -A rho_t where the unclipped branch is the minimum (zero where the
clip binds: A > 0 and rho_t > 1 + eps_high, or A < 0 and rho_t < 1 - eps_low), plus
beta * (1 - exp(ref_t - logp_t)). ``ref_logp`` is required when beta > 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import Tensor

from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch, aggregation_weights
from ladbench.losses.checks import check_choice, check_non_negative
from ladbench.losses.registry import Loss, register_loss


@register_loss
@dataclass(frozen=True)
class GRPOLoss(Loss):
    """Clipped surrogate plus an optional k3 KL penalty to the reference policy."""

    name: ClassVar[str] = "grpo"
    display_name: ClassVar[str] = "GRPO"
    eps_low: float = 0.2
    eps_high: float = 0.2
    beta: float = 0.0
    aggregation: str = "token_mean"
    norm_length: int | None = None

    def __post_init__(self) -> None:
        check_non_negative("eps_low", self.eps_low)
        check_non_negative("eps_high", self.eps_high)
        check_non_negative("beta", self.beta)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)

    def batch_fields(self) -> frozenset[str]:
        return frozenset({"ref_logp"}) if self.beta > 0 else frozenset()

    def target_distribution(self, actions: ActionSet) -> Tensor:
        """Uniform over the best actions of each context: advantage maximisation. With beta > 0
        this is the beta -> 0 limit, since the k3 penalty's fixed point has no closed form here."""
        rewards = actions.rewards
        best = (rewards == rewards.max(dim=-1, keepdim=True).values).to(rewards.dtype).expand_as(actions.behaviour_probs)
        return best / best.sum(dim=-1, keepdim=True)

    def _clip_active(self, rho: Tensor, advantages: Tensor) -> Tensor:
        return ((advantages > 0) & (rho > 1.0 + self.eps_high)) | ((advantages < 0) & (rho < 1.0 - self.eps_low))

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        rho = batch.log_ratio().exp()
        advantages = batch.advantages[:, None]
        clipped = rho.clamp(1.0 - self.eps_low, 1.0 + self.eps_high)
        per_token = -(rho * advantages).minimum(clipped * advantages)
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        with_tokens = coefficients > 0
        metrics = {
            "ratio_mean": rho.detach()[with_tokens].mean(),
            "clip_frac": self._clip_active(rho.detach(), advantages)[with_tokens].float().mean(),
        }
        if self.beta > 0:
            log_ref_ratio = batch.require("ref_logp", self.name) - batch.logp
            kl = log_ref_ratio.exp() - log_ref_ratio - 1.0
            per_token = per_token + self.beta * kl
            metrics["kl"] = kl.detach()[with_tokens].mean()
        loss = (coefficients * per_token).sum()
        metrics["loss"] = loss.detach()
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        rho = batch.log_ratio().exp()
        advantages = batch.advantages[:, None]
        score = -advantages * rho * (~self._clip_active(rho, advantages))
        if self.beta > 0:
            score = score - self.beta * (batch.require("ref_logp", self.name) - batch.logp).expm1()
        return {"logp": aggregation_weights(batch, self.aggregation, self.norm_length) * score}
