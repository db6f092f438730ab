"""SAPO: Soft Adaptive Policy Optimization (Gao et al. 2025, arXiv 2511.20347), as verl 0.9.1's
policy-loss registry implements it (``compute_policy_loss_sapo``).

PPO's hard clip is replaced by a smooth gate on the ratio, with a temperature per advantage sign:

    tau_t = tau_pos if A > 0 else tau_neg
    f(rho) = (4 / tau) sigmoid(tau (rho - 1))
    l_t = -A f(rho_t)
    d l_t / d log pi_t = -A 4 s (1 - s) rho_t,    s = sigmoid(tau (rho_t - 1))

At rho = 1 the gradient is the policy gradient's -A (4 s (1 - s) = 1); as rho leaves 1 the weight
4 s (1 - s) rho decays smoothly instead of dropping to 0 at a clip edge, faster for the larger
temperature. Defaults are the paper's and verl's: tau_pos = 1, tau_neg = 1.05. The aggregation is
the paper's sequence mean of token means (``seq_mean_token_mean``), which verl's ``sapo`` uses
whatever the run's ``loss_agg_mode``; through ladbench's verl plug-in the run's mode applies.

Fixed point: with pi_old refreshed every step this is the policy gradient (rho = 1) and ends on
the best arms (``surrogate.best_actions``); under a fixed pi_old the gate bounds how far each arm
moves, a point that depends on the path, with no closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch, aggregation_weights
from ladbench.losses.checks import check_choice, check_positive, check_positive_integer
from ladbench.losses.registry import Loss, register_loss
from ladbench.losses.surrogate import best_actions

if TYPE_CHECKING:
    from torch import Tensor


@register_loss
@dataclass(frozen=True)
class SAPOLoss(Loss):
    """-A (4 / tau) sigmoid(tau (rho - 1)), tau by the advantage's sign (module docstring)."""

    name: ClassVar[str] = "sapo"
    display_name: ClassVar[str] = "SAPO"
    verl_config: ClassVar[dict[str, str] | None] = {"tau_pos": "tau_pos", "tau_neg": "tau_neg"}
    tau_pos: float = 1.0
    tau_neg: float = 1.05
    aggregation: str = "seq_mean_token_mean"
    norm_length: int | None = None

    def __post_init__(self) -> None:
        check_positive("tau_pos", self.tau_pos)
        check_positive("tau_neg", self.tau_neg)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_positive_integer("norm_length", self.norm_length, allow_none=True)

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [
            {},
            {"tau_pos": 3.0, "tau_neg": 5.0, "aggregation": "token_mean"},
            {"aggregation": "seq_mean_token_sum_norm"},
        ]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        return best_actions(actions)

    def _terms(self, batch: LossBatch) -> tuple[Tensor, Tensor, Tensor]:
        """rho [B, T] (differentiable), A [B, 1] and tau [B, 1]."""
        import torch

        advantages = batch.advantages[:, None].detach()
        tau = torch.where(
            advantages > 0, torch.full_like(advantages, self.tau_pos), torch.full_like(advantages, self.tau_neg)
        )
        return batch.log_ratio().exp(), advantages, tau

    def token_terms(self, batch: LossBatch) -> Tensor:
        rho, advantages, tau = self._terms(batch)
        return -advantages * (tau * (rho - 1.0)).sigmoid() * (4.0 / tau)

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        rho, _, tau = self._terms(batch)
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        loss = (coefficients * self.token_terms(batch)).sum()
        gate = (tau * (rho.detach() - 1.0)).sigmoid()
        with_tokens = coefficients > 0
        metrics = {
            "loss": loss.detach(),
            "ratio_mean": rho.detach()[with_tokens].mean(),
            "gate_weight_mean": (4.0 * gate * (1.0 - gate) * rho.detach())[with_tokens].mean(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        rho, advantages, tau = self._terms(batch)
        rho = rho.detach()
        gate = (tau * (rho - 1.0)).sigmoid()
        score = -advantages * 4.0 * gate * (1.0 - gate) * rho
        return {"logp": aggregation_weights(batch, self.aggregation, self.norm_length) * score}
