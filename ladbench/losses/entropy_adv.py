"""Entropy-based advantage shaping (Cheng et al. 2025, "Reasoning with Exploration: An Entropy
Perspective on Reinforcement Learning for LLMs", arXiv 2506.14758).

A detached, clipped entropy term is added to each token's advantage, inside GRPO's clipped
surrogate (the paper's "one line of code"):

    psi_t = min(alpha * sg(H_t), |A| / kappa)         H_t the policy's entropy at token t
    A'_t  = A + psi_t
    l_t   = -min(rho_t A'_t, clip(rho_t, 1 - eps_low, 1 + eps_high) A'_t)

psi_t >= 0, and the clip at |A| / kappa with kappa > 1 keeps A'_t of A's sign (a negative
advantage is at most halved at the default kappa = 2), so the bonus sharpens rather than
reverses the signal. Defaults are the paper's: alpha = 0.4, kappa = 2, and GRPO's eps = 0.2.
H_t comes from ``batch.entropy``: per-token entropies for an LLM ([B, T]), the exact entropy of
the row's policy for a bandit ([B]); it is read, never differentiated (psi is detached).

Gradient: d l_t / d log pi_t = -A'_t rho_t where the ratio clip does not bind, else 0.

Fixed point: A'_t is a monotone, sign-preserving transform of A, so with pi_old refreshed every
step the policy gradient still ends on the best arms (``surrogate.best_actions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.errors import UserError
from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch, aggregation_weights
from ladbench.losses.checks import check_choice, check_non_negative, check_positive
from ladbench.losses.registry import Loss, register_loss
from ladbench.losses.surrogate import best_actions, clip_active, clipped_score, clipped_surrogate

if TYPE_CHECKING:
    from torch import Tensor


@register_loss
@dataclass(frozen=True)
class EntropyAdvantageLoss(Loss):
    """GRPO's clipped surrogate on the entropy-shaped advantage A + min(alpha H, |A| / kappa)."""

    name: ClassVar[str] = "entropy_adv"
    display_name: ClassVar[str] = "Entropy-Adv"
    alpha: float = 0.4
    kappa: float = 2.0
    eps_low: float = 0.2
    eps_high: float = 0.2
    aggregation: str = "token_mean"
    norm_length: int | None = None

    def __post_init__(self) -> None:
        check_non_negative("alpha", self.alpha)
        check_positive("kappa", self.kappa)
        if not self.kappa > 1:
            raise UserError(
                f"kappa must be > 1 (so the bonus cannot flip a negative advantage's sign), got {self.kappa!r}"
            )
        check_non_negative("eps_low", self.eps_low)
        check_non_negative("eps_high", self.eps_high)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_positive("norm_length", self.norm_length, allow_none=True)

    def batch_fields(self) -> frozenset[str]:
        return frozenset({"entropy"})

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [{}, {"alpha": 2.0, "kappa": 1.5, "eps_low": 0.1}]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        return best_actions(actions)

    def shaped_advantages(self, batch: LossBatch) -> Tensor:
        """[B, T] A'_t = A + min(alpha sg(H_t), |A| / kappa)."""
        entropy = batch.require("entropy", self.name).detach()
        entropy = entropy[:, None] if entropy.dim() == 1 else entropy
        advantages = batch.advantages[:, None]
        bonus = (self.alpha * entropy).minimum(advantages.abs() / self.kappa)
        return (advantages + bonus).expand_as(batch.logp)

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        rho = batch.log_ratio().exp()
        advantages = self.shaped_advantages(batch)
        per_token = clipped_surrogate(rho, advantages, self.eps_low, self.eps_high)
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        loss = (coefficients * per_token).sum()
        with_tokens = coefficients > 0
        bonus = advantages - batch.advantages[:, None]
        metrics = {
            "loss": loss.detach(),
            "ratio_mean": rho.detach()[with_tokens].mean(),
            "clip_frac": clip_active(rho.detach(), advantages, self.eps_low, self.eps_high)[with_tokens].float().mean(),
            "entropy_bonus_mean": bonus[with_tokens].mean(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        rho = batch.log_ratio().detach().exp()
        score = clipped_score(rho, self.shaped_advantages(batch), self.eps_low, self.eps_high)
        return {"logp": aggregation_weights(batch, self.aggregation, self.norm_length) * score}
