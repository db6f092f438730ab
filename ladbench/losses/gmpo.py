"""GMPO: Geometric-Mean Policy Optimization (Zhao et al. 2025, arXiv 2507.20673), as verl 0.9.1's
policy-loss registry implements it (``compute_policy_loss_geo_mean``, adapted from the authors'
callsys/GMPO code).

GRPO maximises the arithmetic mean of the token terms rho_t A; GMPO maximises their geometric
mean, which an outlier ratio moves far less. Per token the log-ratio is clipped, in the direction
that the advantage would push it, and in log space:

    x_t  = log rho_t
    xc_t = min(x_t, eps_high) if A > 0;  max(x_t, -eps_low) if A < 0;  0 if A = 0
           (the authors' sgn(A) min(sgn(A) x, sgn(A) clip(x, -eps_low, eps_high)))
    s_b  = exp( (1/n_b) sum_t xc_bt )                          n_b the sequence's real tokens
    l_b  = -A_b s_b,      L = sum_b c_b l_b,   c_b = w_b / sum_b w_b   (a mean over sequences)

A row with no real token adds 0. Gradient: d L / d log pi_bt = -c_b A_b s_b k_bt / n_b with
k_bt = 1 where the clip does not bind (A > 0: x <= eps_high; A < 0: x >= -eps_low), else 0: at the
edge itself the gradient flows, as autograd's clamp and verl's min pass it (and as PPO's clip,
``surrogate.clip_active``), so eps = 0 on-policy (x = 0) is the policy gradient, not a standstill.

Defaults: eps_low = eps_high = 0.4, the paper's range (e^-0.4, e^0.4) (through verl they come from
``clip_ratio_low`` / ``clip_ratio_high``). verl's ``geo_mean`` takes a plain mean over the rows of
its batch whatever ``loss_agg_mode`` is, rows that are all padding included; through ladbench's
verl plug-in the run's mode applies (``seq-mean-token-mean`` gives the same loss whenever no row
is all padding, or when verl passes the global batch size).

Fixed point: for a bandit (T = 1) s is the arm's clipped ratio and GMPO is GRPO with a clip in
log space; with pi_old refreshed every step it ends on the best arms (``surrogate.best_actions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.losses.batch import ActionSet, LossBatch
from ladbench.losses.checks import check_non_negative
from ladbench.losses.groups import sequence_coefficients, sequence_sum, spread_sequence_terms
from ladbench.losses.registry import Loss, register_loss
from ladbench.losses.surrogate import best_actions

if TYPE_CHECKING:
    from torch import Tensor


@register_loss
@dataclass(frozen=True)
class GMPOLoss(Loss):
    """-A exp(mean_t clipped log rho_t), averaged over sequences (module docstring)."""

    name: ClassVar[str] = "gmpo"
    display_name: ClassVar[str] = "GMPO"
    verl_config: ClassVar[dict[str, str] | None] = {"eps_low": "clip_ratio_low", "eps_high": "clip_ratio_high"}
    trl_importance_sampling_level: ClassVar[str] = "sequence"
    eps_low: float = 0.4
    eps_high: float = 0.4

    def __post_init__(self) -> None:
        check_non_negative("eps_low", self.eps_low)
        check_non_negative("eps_high", self.eps_high)

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [{}, {"eps_low": 0.05, "eps_high": 0.1}, {"eps_low": 0.0, "eps_high": 0.0}]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        return best_actions(actions)

    def _terms(self, batch: LossBatch) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """s [B] (differentiable), A [B] (0 on rows without tokens), k [B, T] and n [B]."""
        import torch

        log_rho = batch.log_ratio()
        advantages = batch.advantages.detach()[:, None]
        clipped = torch.where(
            advantages > 0,
            log_rho.clamp(max=self.eps_high),
            torch.where(advantages < 0, log_rho.clamp(min=-self.eps_low), torch.zeros_like(log_rho)),
        )
        live = torch.where(advantages > 0, log_rho <= self.eps_high, log_rho >= -self.eps_low) & (advantages != 0)
        tokens = batch.token_mask.sum(dim=1)
        ratio = (sequence_sum(batch, clipped) / tokens.clamp_min(1.0)).exp()
        advantages = torch.where(tokens > 0, batch.advantages.detach(), torch.zeros_like(batch.advantages))
        return ratio, advantages, live * batch.token_mask, tokens

    def token_terms(self, batch: LossBatch) -> Tensor:
        ratio, advantages, live, _ = self._terms(batch)
        ratio = ratio.detach()
        return spread_sequence_terms(batch, -advantages * ratio, -(advantages * ratio)[:, None] * live)

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        ratio, advantages, live, _ = self._terms(batch)
        coefficients = sequence_coefficients(batch)
        loss = -(coefficients * advantages * ratio).sum()
        counted = batch.token_mask * (batch.advantages[:, None] != 0)
        metrics = {
            "loss": loss.detach(),
            "ratio_mean": ratio.detach()[coefficients > 0].mean(),
            "clip_frac": ((1.0 - live) * counted).sum() / counted.sum().clamp_min(1.0),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        ratio, advantages, live, tokens = self._terms(batch)
        per_sequence = -sequence_coefficients(batch) * advantages * ratio.detach() / tokens.clamp_min(1.0)
        return {"logp": per_sequence[:, None] * live}
