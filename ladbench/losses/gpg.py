"""GPG: Group Policy Gradient (Chu et al. 2025, "GPG: A Simple and Strong Reinforcement Learning
Baseline for Model Reasoning", arXiv 2504.02546), as verl 0.9.1's policy-loss registry implements
it (``compute_policy_loss_gpg``, adapted from the authors' AMAP-ML/GPG code).

The plain policy gradient: no importance ratio, no clip, no critic, no KL:

    l_t = -A log pi_t,        d l_t / d log pi_t = -A

The value is the paper's and verl's, -A log pi_t summed with the aggregation's coefficients
(a token mean by default, as both). Padding may hold anything (it is masked before use).

The paper's other ingredient, scaling the group advantages by B / (B - M) where M samples sit in
groups whose rewards are all equal (the bias of those zero-gradient groups), is an advantage
estimator, not part of the loss: verl has it as ``algorithm.adv_estimator=gpg``; here the loss
takes the advantages it is given.

Fixed point: a policy gradient on whatever samples it is given; with pi_old refreshed every step
it ends on the best arms (``surrogate.best_actions``). Under a fixed pi_old and the exact estimator
the gradient in the logits is the constant pi_old(y) A(y) (nothing reweights it as pi moves), so
the policy keeps moving towards the arms of largest pi_old A: there is no stationary point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch, aggregation_weights
from ladbench.losses.checks import check_choice, check_positive_integer
from ladbench.losses.registry import Loss, register_loss
from ladbench.losses.surrogate import best_actions

if TYPE_CHECKING:
    from torch import Tensor


@register_loss
@dataclass(frozen=True)
class GPGLoss(Loss):
    """-A log pi per token (module docstring)."""

    name: ClassVar[str] = "gpg"
    display_name: ClassVar[str] = "GPG"
    verl_config: ClassVar[dict[str, str] | None] = {}
    aggregation: str = "token_mean"
    norm_length: int | None = None

    def __post_init__(self) -> None:
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_positive_integer("norm_length", self.norm_length, allow_none=True)

    def target_distribution(self, actions: ActionSet) -> Tensor:
        return best_actions(actions)

    def token_terms(self, batch: LossBatch) -> Tensor:
        return -batch.advantages[:, None].detach() * batch.masked(batch.logp)

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        loss = (coefficients * self.token_terms(batch)).sum()
        with_tokens = coefficients > 0
        metrics = {"loss": loss.detach(), "ratio_mean": batch.log_ratio().detach().exp()[with_tokens].mean()}
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        return {"logp": -coefficients * batch.advantages[:, None].detach()}
