"""GSPO: Group Sequence Policy Optimization (Zheng et al. 2025, arXiv 2507.18071), as TRL
computes it (``GRPOTrainer`` with ``importance_sampling_level="sequence"``, ``loss_type="grpo"``,
the setting TRL documents as reproducing the paper).

The clipped surrogate on the length-normalised sequence ratio, one term per sequence:

    s_b = exp( (1/n_b) sum_t log rho_bt )                n_b the sequence's real tokens
    l_b = -min(s_b A_b, clip(s_b, 1 - eps_low, 1 + eps_high) A_b)
    L   = sum_b c_b l_b,          c_b = w_b / sum_b w_b   (a mean over sequences)

The paper's clip range is tiny because s_b is a geometric mean over tokens: eps_low = 3e-4 and
eps_high = 4e-4 are its defaults (TRL's recommendation too). A per-sequence term has no token
aggregation option; summing it over tokens would weight sequences by length, which TRL warns
does not optimise GSPO's objective.

Gradient: d L / d log pi_bt = -c_b A_b s_b m_bt / n_b where the clip does not bind, else 0
(GSPO-token, with per-token advantages, has the same gradient when A is per sequence).

Fixed point: advantage maximisation, the best arms (``surrogate.best_actions``); for a bandit
(T = 1) s is the arm's ratio and GSPO is GRPO with GSPO's clip range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ladbench.losses.batch import ActionSet, LossBatch
from ladbench.losses.checks import check_non_negative
from ladbench.losses.groups import sequence_coefficients, sequence_sum
from ladbench.losses.registry import Loss, register_loss
from ladbench.losses.surrogate import best_actions, clip_active, clipped_score, clipped_surrogate

if TYPE_CHECKING:
    from torch import Tensor


@register_loss
@dataclass(frozen=True)
class GSPOLoss(Loss):
    """Clipped surrogate on s = exp(mean_t log rho_t), averaged over sequences."""

    name: ClassVar[str] = "gspo"
    display_name: ClassVar[str] = "GSPO"
    eps_low: float = 3e-4
    eps_high: float = 4e-4

    def __post_init__(self) -> None:
        check_non_negative("eps_low", self.eps_low)
        check_non_negative("eps_high", self.eps_high)

    def target_distribution(self, actions: ActionSet) -> Tensor:
        return best_actions(actions)

    def _terms(self, batch: LossBatch) -> tuple[Tensor, Tensor]:
        """s [B] and the token counts n [B]."""
        tokens = batch.token_mask.sum(dim=1).clamp_min(1.0)
        return (sequence_sum(batch, batch.log_ratio()) / tokens).exp(), tokens

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        ratio, _ = self._terms(batch)
        coefficients = sequence_coefficients(batch)
        loss = (coefficients * clipped_surrogate(ratio, batch.advantages, self.eps_low, self.eps_high)).sum()
        with_weight = coefficients > 0
        metrics = {
            "loss": loss.detach(),
            "ratio_mean": ratio.detach()[with_weight].mean(),
            "clip_frac": clip_active(ratio.detach(), batch.advantages, self.eps_low, self.eps_high)[with_weight]
            .float()
            .mean(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        ratio, tokens = self._terms(batch)
        score = clipped_score(ratio.detach(), batch.advantages, self.eps_low, self.eps_high)
        return {"logp": (sequence_coefficients(batch) * score / tokens)[:, None] * batch.token_mask}
