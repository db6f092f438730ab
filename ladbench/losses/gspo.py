"""GSPO: Group Sequence Policy Optimization (Zheng et al. 2025, arXiv 2507.18071), as TRL
computes it (``GRPOTrainer`` with ``importance_sampling_level="sequence"``, ``loss_type="grpo"``,
the setting TRL documents as reproducing the paper).

The clipped surrogate on the length-normalised sequence ratio, one term per sequence:

    s_b = exp( (1/n_b) sum_t log rho_bt )                n_b the sequence's real tokens
    l_b = -min(s_b A_b, clip(s_b, 1 - eps_low, 1 + eps_high) A_b)
    L   = sum_b c_b l_b,          c_b = w_b / sum_b w_b   (a mean over sequences)

A row with no real token (all padding) adds 0, as in TRL (its masked token sum is 0), and still
counts in the mean over sequences, as TRL's ``.mean()`` counts it.

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
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.losses.batch import ActionSet, LossBatch
from ladbench.losses.checks import check_non_negative
from ladbench.losses.groups import sequence_coefficients, sequence_sum, spread_sequence_terms
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
    verl_config: ClassVar[dict[str, str] | None] = {"eps_low": "clip_ratio_low", "eps_high": "clip_ratio_high"}
    trl_importance_sampling_level: ClassVar[str] = "sequence"
    eps_low: float = 3e-4
    eps_high: float = 4e-4

    def __post_init__(self) -> None:
        check_non_negative("eps_low", self.eps_low)
        check_non_negative("eps_high", self.eps_high)

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [{}, {"eps_low": 0.1, "eps_high": 0.2}]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        return best_actions(actions)

    def _terms(self, batch: LossBatch) -> tuple[Tensor, Tensor, Tensor]:
        """s [B], the token counts n [B] (at least 1) and the advantages, 0 on rows without tokens."""
        import torch

        tokens = batch.token_mask.sum(dim=1)
        advantages = torch.where(tokens > 0, batch.advantages, torch.zeros_like(batch.advantages))
        tokens = tokens.clamp_min(1.0)
        return (sequence_sum(batch, batch.log_ratio()) / tokens).exp(), tokens, advantages

    def token_terms(self, batch: LossBatch) -> Tensor:
        ratio, _, advantages = self._terms(batch)
        ratio = ratio.detach()
        values = clipped_surrogate(ratio, advantages, self.eps_low, self.eps_high)
        score = clipped_score(ratio, advantages, self.eps_low, self.eps_high)
        return spread_sequence_terms(batch, values, score[:, None].expand_as(batch.logp))

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        ratio, _, advantages = self._terms(batch)
        coefficients = sequence_coefficients(batch)
        loss = (coefficients * clipped_surrogate(ratio, advantages, self.eps_low, self.eps_high)).sum()
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
        ratio, tokens, advantages = self._terms(batch)
        score = clipped_score(ratio.detach(), advantages, self.eps_low, self.eps_high)
        return {"logp": (sequence_coefficients(batch) * score / tokens)[:, None] * batch.token_mask}
