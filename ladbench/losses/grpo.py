"""GRPO's clipped surrogate (Shao et al. 2024) with DAPO's asymmetric clip (Yu et al. 2025), as TRL
computes it (``GRPOTrainer._compute_loss``, trl 1.16).

Per token, with rho_t = pi_theta / pi_old and the sequence advantage A:

    l_t  = -min(r1_t A, r2_t A) + beta * kl_t
    r1_t = min(rho_t, delta)                  (delta: INTELLECT-2's two-sided clip; None: r1 = rho)
    r2_t = clip(rho_t, 1 - eps_low, 1 + eps_high)
    k3_t = exp(ref_t - logp_t) - (ref_t - logp_t) - 1                 (Schulman's k3 estimator)
    kl_t = rho_t * k3_t   if kl_bias_correction (default, as TRL's use_bias_correction_kl)
           k3_t           otherwise

The ratio rho_t multiplying k3 makes the estimate and its gradient those of KL(pi_theta || pi_ref)
under samples from pi_old (DeepSeek-V3.2, arXiv 2512.02556): d (rho k3) / d logp = rho (logp - ref),
whereas d k3 / d logp = 1 - exp(ref - logp) differs even on-policy (rho = 1), since rho's own
gradient is not zero there.

Gradient of the surrogate: -A rho_t through whichever of r1 A and r2 A is the minimum, where that
branch still depends on rho (r1: rho < delta; r2: inside the clip range), else 0. Without delta
this is -A rho_t except where the clip binds (A > 0 and rho_t > 1 + eps_high, or A < 0 and
rho_t < 1 - eps_low). ``ref_logp`` is required when beta > 0; padding is masked before the KL
term is formed, so whatever logp holds there (an -inf) cannot reach the loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch, aggregation_weights
from ladbench.losses.checks import check_bool, check_choice, check_non_negative, check_positive, check_positive_integer
from ladbench.losses.registry import Loss, register_loss
from ladbench.losses.surrogate import best_actions, clip_active

if TYPE_CHECKING:
    from torch import Tensor


@register_loss
@dataclass(frozen=True)
class GRPOLoss(Loss):
    """Clipped surrogate plus an optional k3 KL penalty to the reference policy."""

    name: ClassVar[str] = "grpo"
    display_name: ClassVar[str] = "GRPO"
    # verl's vanilla loss: its dual-clip bound clip_ratio_c acts as delta (equal losses when
    # clip_ratio_c >= 1 + clip_ratio_high, verl's default; docs/methods.md)
    verl_config: ClassVar[dict[str, str] | None] = {
        "eps_low": "clip_ratio_low",
        "eps_high": "clip_ratio_high",
        "delta": "clip_ratio_c",
    }
    eps_low: float = 0.2
    eps_high: float = 0.2
    beta: float = 0.0
    kl_bias_correction: bool = True
    delta: float | None = None
    aggregation: str = "token_mean"
    norm_length: int | None = None

    def __post_init__(self) -> None:
        check_non_negative("eps_low", self.eps_low)
        check_non_negative("eps_high", self.eps_high)
        check_non_negative("beta", self.beta)
        check_bool("kl_bias_correction", self.kl_bias_correction)
        check_positive("delta", self.delta, allow_none=True)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_positive_integer("norm_length", self.norm_length, allow_none=True)

    def batch_fields(self) -> frozenset[str]:
        return frozenset({"ref_logp"}) if self.beta > 0 else frozenset()

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [
            {},
            {"beta": 0.1, "eps_high": 0.28},
            {"beta": 0.1, "kl_bias_correction": False},
            {"delta": 1.1, "eps_high": 0.05, "beta": 0.2, "aggregation": "seq_mean_token_sum_norm"},
            {"aggregation": "seq_mean_token_mean"},
        ]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        """Uniform over the best actions of each context: advantage maximisation. With beta > 0
        this is the beta -> 0 limit, since the k3 penalty's fixed point has no closed form here."""
        return best_actions(actions)

    def _ratios(self, rho: Tensor) -> tuple[Tensor, Tensor]:
        """r1 = min(rho, delta) and r2 = clip(rho, 1 - eps_low, 1 + eps_high)."""
        capped = rho if self.delta is None else rho.clamp(max=self.delta)
        return capped, rho.clamp(1.0 - self.eps_low, 1.0 + self.eps_high)

    def _log_ref_ratio(self, batch: LossBatch) -> Tensor:
        """ref - logp per token, 0 on padding (masked before exp: 0 * inf would be NaN)."""
        return batch.masked(batch.require("ref_logp", self.name) - batch.logp)

    def _token_terms_and_kl(self, batch: LossBatch) -> tuple[Tensor, Tensor, Tensor | None]:
        """l_t [B, T], rho [B, T] and kl_t (None when beta = 0)."""
        rho = batch.log_ratio().exp()
        advantages = batch.advantages[:, None]
        capped, clipped = self._ratios(rho)
        per_token = -(capped * advantages).minimum(clipped * advantages)
        kl = None
        if self.beta > 0:
            log_ref_ratio = self._log_ref_ratio(batch)
            kl = log_ref_ratio.exp() - log_ref_ratio - 1.0
            if self.kl_bias_correction:
                kl = rho * kl
            per_token = per_token + self.beta * kl
        return per_token, rho, kl

    def token_terms(self, batch: LossBatch) -> Tensor:
        return self._token_terms_and_kl(batch)[0]

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        per_token, rho, kl = self._token_terms_and_kl(batch)
        advantages = batch.advantages[:, None]
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        with_tokens = coefficients > 0
        metrics = {
            "ratio_mean": rho.detach()[with_tokens].mean(),
            "clip_frac": clip_active(rho.detach(), advantages, self.eps_low, self.eps_high)[with_tokens].float().mean(),
        }
        if kl is not None:
            metrics["kl"] = kl.detach()[with_tokens].mean()
        loss = (coefficients * per_token).sum()
        metrics["loss"] = loss.detach()
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        import torch

        rho = batch.log_ratio().detach().exp()
        advantages = batch.advantages[:, None]
        capped, clipped = self._ratios(rho)
        capped_live = rho if self.delta is None else rho * (rho <= self.delta)
        clipped_live = rho * ((rho >= 1.0 - self.eps_low) & (rho <= 1.0 + self.eps_high))
        live = torch.where(capped * advantages <= clipped * advantages, capped_live, clipped_live)
        score = -advantages * live
        if self.beta > 0:
            log_ref_ratio = self._log_ref_ratio(batch).detach()
            if self.kl_bias_correction:
                score = score - self.beta * rho * log_ref_ratio
            else:
                score = score - self.beta * log_ref_ratio.expm1()
        return {"logp": aggregation_weights(batch, self.aggregation, self.norm_length) * score}
