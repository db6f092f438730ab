"""Entropy-regularised policy gradient (Williams & Peng 1991; Mnih et al. 2016).

    L = agg_t( -rho_t A ) - coef * agg( H )

rho_t = pi_theta / pi_old (so the gradient at pi_theta = pi_old is REINFORCE's), and H is the
entropy estimate the caller supplies in ``batch.entropy``: the exact entropy of a tabular policy
([B], one value per row), or per-token entropies of an LLM ([B, T]). Both terms share one
aggregation. With exact expectations under a fixed pi_old and the exact entropy, L is
-(E_pi[A] + coef H(pi)), whose maximiser is pi proportional to exp(A / coef): the same
distribution as LAD's target under a uniform pi_old when coef = eta.

Gradients: d L / d logp_bt = -a_bt A_b rho_bt;  d L / d H = -coef * a (summed over tokens for [B]).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch, aggregation_weights
from ladbench.losses.checks import check_choice, check_non_negative, check_positive_integer, is_tensor
from ladbench.losses.registry import Loss, register_loss

if TYPE_CHECKING:
    from torch import Tensor


@register_loss
@dataclass(frozen=True)
class EntropyPGLoss(Loss):
    """Unclipped importance-weighted policy gradient minus coef times the supplied entropy.

    coef may be a [B] tensor (one coefficient per sequence)."""

    name: ClassVar[str] = "entropy_pg"
    display_name: ClassVar[str] = "entropy-PG"
    per_run_options: ClassVar[tuple[str, ...]] = ("coef",)
    temperature_option: ClassVar[str | None] = "coef"
    coef: float | Tensor = 0.01
    aggregation: str = "token_mean"
    norm_length: int | None = None

    def __post_init__(self) -> None:
        check_non_negative("coef", self.coef)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_positive_integer("norm_length", self.norm_length, allow_none=True)

    def batch_fields(self) -> frozenset[str]:
        return frozenset({"entropy"})

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [{"coef": 0.2}, {"coef": (0.1, 0.2, 0.3, 0.4), "aggregation": "seq_mean_token_mean"}]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        """exp(A / (coef T)) / Z, the maximiser of E_pi[A] / T + coef H(pi), H the exact entropy
        of the whole action distribution, T the tokens per action. For sequences every
        aggregation weighs a sequence's T per-token policy-gradient terms against one broadcast
        entropy term, hence the 1/T. With per-token ratios the policy-gradient term is the
        gradient of E_pi[A] / T only at pi = pi_old, so for T > 1 this is the optimum under
        refresh every step (a fixed pi_old stops elsewhere)."""
        return (actions.advantages / (self.coef * actions.tokens)).softmax(dim=-1)

    def _entropy_coefficients(self, batch: LossBatch, coefficients: Tensor) -> Tensor:
        """d agg(H) / d H, shaped like batch.entropy."""
        entropy = batch.require("entropy", self.name)
        return coefficients.sum(dim=1) if entropy.dim() == 1 else coefficients

    def _coef(self, batch: LossBatch) -> Tensor | float:
        """coef broadcastable against batch.entropy."""
        if is_tensor(self.coef) and batch.entropy.dim() == 2:
            return self.coef[:, None]
        return self.coef

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        rho = batch.log_ratio().exp()
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        policy_gradient = (coefficients * -(rho * batch.advantages[:, None])).sum()
        entropy_weights = self._entropy_coefficients(batch, coefficients)
        loss = policy_gradient - (self._coef(batch) * entropy_weights * batch.entropy).sum()
        metrics = {
            "loss": loss.detach(),
            "pg_loss": policy_gradient.detach(),
            "entropy": (entropy_weights * batch.entropy).sum().detach(),
            "ratio_mean": rho.detach()[coefficients > 0].mean(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        rho = batch.log_ratio().exp()
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        return {
            "logp": -coefficients * batch.advantages[:, None] * rho,
            "entropy": -self._coef(batch) * self._entropy_coefficients(batch, coefficients),
        }
