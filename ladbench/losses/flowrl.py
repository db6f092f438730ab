"""FlowRL's trajectory-balance loss (Zhu et al., arXiv 2509.15207), as in its released code.

Per sequence b, with n_b tokens, learned log Z of its context, and the group advantage A_b:

    delta_b = log Z_b + (1/n_b) sum_t log pi_theta - beta A_b - (1/n_b) sum_t log pi_ref
    w_b     = detach( min( exp( sum_t (log pi_theta - log pi_old) ), weight_clip ) )
    L       = sum_b c_b w_b delta_b^2,      c_b = weights_b / sum weights  (a mean over sequences)

Its optimum (delta = 0 for every response, log Z the log normaliser) is
pi_theta proportional to pi_ref * exp(beta A). The reference's beta = 15 and weight clip 10 are
the defaults. The residual is per sequence, so the token aggregation options do not apply; the
caller supplies ``log_z`` and ``ref_logp`` in the batch.

Gradients: d L / d logp_bt = c_b w_b 2 delta_b m_bt / n_b;  d L / d log Z_b = c_b w_b 2 delta_b.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.losses.batch import ActionSet, LossBatch
from ladbench.losses.checks import check_non_negative, check_positive
from ladbench.losses.registry import Loss, register_loss

if TYPE_CHECKING:
    from torch import Tensor


@register_loss
@dataclass(frozen=True)
class FlowRLLoss(Loss):
    """Importance-weighted squared trajectory-balance residual with length-normalised log-probs."""

    name: ClassVar[str] = "flowrl"
    display_name: ClassVar[str] = "FlowRL"
    beta: float = 15.0
    weight_clip: float = 10.0

    def __post_init__(self) -> None:
        check_non_negative("beta", self.beta)
        check_positive("weight_clip", self.weight_clip)

    def batch_fields(self) -> frozenset[str]:
        return frozenset({"ref_logp", "log_z"})

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [{}, {"beta": 1.0, "weight_clip": 1.05}]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        """pi_ref exp(T beta A) / Z, T the tokens per action: the residual uses the
        length-normalised (1/T) log pi, so delta = 0 for every y gives
        log pi(y) = T (beta A - log Z) + log pi_ref(y). A uniform pi_ref cancels."""
        log_ref = 0.0 if actions.ref_probs is None else actions.ref_probs.log()
        return (log_ref + actions.tokens * self.beta * actions.advantages).softmax(dim=-1)

    def _terms(self, batch: LossBatch) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """delta [B], detached weight w [B], sequence coefficients c [B], token counts n [B]."""
        mask = batch.token_mask
        tokens = mask.sum(dim=1).clamp_min(1.0)
        ref_logp = batch.require("ref_logp", self.name)
        log_z = batch.require("log_z", self.name)
        mean_logp = batch.masked(batch.logp).sum(dim=1) / tokens
        mean_ref_logp = batch.masked(ref_logp).sum(dim=1) / tokens
        delta = log_z + mean_logp - self.beta * batch.advantages - mean_ref_logp
        weight = batch.log_ratio().sum(dim=1).detach().exp().clamp(max=self.weight_clip)
        sample_weights = delta.new_ones(delta.shape) if batch.weights is None else batch.weights.to(delta.dtype)
        coefficients = sample_weights / sample_weights.sum()
        return delta, weight, coefficients, tokens

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        delta, weight, coefficients, _ = self._terms(batch)
        loss = (coefficients * weight * delta.square()).sum()
        metrics = {
            "loss": loss.detach(),
            "delta_mean": delta.detach().mean(),
            "delta_abs_mean": delta.detach().abs().mean(),
            "weight_mean": weight.mean(),
            "log_z_mean": batch.log_z.detach().mean(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        delta, weight, coefficients, tokens = self._terms(batch)
        d_delta = 2.0 * coefficients * weight * delta
        return {"logp": (d_delta / tokens)[:, None] * batch.token_mask, "log_z": d_delta}
