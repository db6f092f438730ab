"""LAD: Learning Advantage Distribution (Li & Li, arXiv 2602.20132), the practical loss.

With u = A / eta, rho = pi_theta / pi_old and x = rho * exp(-u), the per-sample loss is

    l = exp(u) * f(x)                      (y ~ pi_old)

for a convex generator f with f(1) = 0 (see ``divergences``). Its gradient is

    d l / d log pi_theta = exp(u) f'(x) x = f'(x) * rho,

so for a strictly convex f the stationary point of E_{pi_old}[l] over a full softmax policy is
pi_theta proportional to pi_old * exp(A / eta): every action reaches the same x.

Computed from log rho and u, never by forming x or exp(u) times f(x) (``divergences``: each
generator's value and score weight f'(x) rho in closed forms that stay accurate in float32). The
gradient is that closed form, not autograd through the value: a custom autograd Function returns
the value forward and score weight times the incoming gradient backward (autograd through TV's
value, for one, is exactly 0 in float32 once u > 17). u is a constant (advantages and eta carry no
gradient) and is clamped to [-u_clip, u_clip] (default 30, exp(30) ~ 1e13); at the default the
clamp never binds for |A/eta| < 30.

Options: ``ratio_level='token'`` uses rho_t per token (default); ``'sequence'`` uses the
sequence likelihood ratio exp(sum_t log rho_t) for the whole response, its loss broadcast over
the response's tokens before aggregation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch, aggregation_weights
from ladbench.losses.checks import check_choice, check_positive, check_positive_integer
from ladbench.losses.divergences import DIVERGENCES, Generator, get_generator
from ladbench.losses.registry import Loss, register_loss

if TYPE_CHECKING:
    from torch import Tensor

RATIO_LEVELS = ("token", "sequence")


@functools.cache
def _lad_term():
    """The autograd Function (value, score weight) = LADTerm.apply(log_rho, u, generator); built on
    first use so that importing the losses does not import torch."""
    import torch

    class LADTerm(torch.autograd.Function):
        """exp(u) f(x) forward; d/d log rho = f'(x) rho (the closed form) backward."""

        @staticmethod
        def forward(ctx, log_rho: Tensor, u: Tensor, generator: Generator) -> tuple[Tensor, Tensor]:
            value, score_weight = generator.value(log_rho, u), generator.score_weight(log_rho, u)
            ctx.mark_non_differentiable(score_weight)
            ctx.save_for_backward(score_weight)
            return value, score_weight

        @staticmethod
        def backward(ctx, grad_value: Tensor, grad_score_weight: Tensor) -> tuple[Tensor, None, None]:
            (score_weight,) = ctx.saved_tensors
            return grad_value * score_weight, None, None

    return LADTerm


@register_loss
@dataclass(frozen=True)
class LADLoss(Loss):
    """exp(u) f(rho exp(-u)), u = clamp(A / eta, +-u_clip); eta may be a [B] tensor (one per sequence)."""

    name: ClassVar[str] = "lad"
    display_name: ClassVar[str] = "LAD"
    per_run_options: ClassVar[tuple[str, ...]] = ("eta",)
    temperature_option: ClassVar[str | None] = "eta"
    verl_config: ClassVar[dict[str, str] | None] = {}
    verl_variants: ClassVar[tuple[str, tuple[str, ...]] | None] = ("divergence", DIVERGENCES)
    divergence: str = "js"
    eta: float | Tensor = 1.0
    ratio_level: str = "token"
    aggregation: str = "token_mean"
    norm_length: int | None = None
    u_clip: float | None = 30.0

    def __post_init__(self) -> None:
        check_choice("divergence", self.divergence, DIVERGENCES)
        check_positive("eta", self.eta)
        check_choice("ratio_level", self.ratio_level, RATIO_LEVELS)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_positive_integer("norm_length", self.norm_length, allow_none=True)
        check_positive("u_clip", self.u_clip, allow_none=True)

    def label(self) -> str:
        return f"LAD-{self.divergence.upper()}"

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [
            *({"divergence": divergence, "eta": 0.8} for divergence in DIVERGENCES),
            {"divergence": "js", "ratio_level": "sequence"},
            {"divergence": "hd", "aggregation": "seq_mean_token_mean"},
            {"divergence": "jf", "aggregation": "seq_mean_token_sum_norm", "norm_length": 6},
            {"divergence": "kl", "eta": 0.5, "u_clip": 2.0},  # clips the batch's largest |A| / eta
            {"divergence": "js", "eta": (0.5, 1.0, 2.0, 4.0)},
        ]

    def stationary_at_target(self) -> bool:
        """Every generator, tv included: at the target every x_a is equal (while |A| / eta stays
        within ``u_clip``: the target is that of the unclipped u)."""
        return True

    def target_distribution(self, actions: ActionSet) -> Tensor:
        """pi_old exp(A / eta) / Z, the stationary point of every strictly convex generator. For
        sequences this is the optimum of the sequence-level ratio; the token-level ratio optimises
        a different objective, and the distance to this target measures how far that moves it."""
        return (actions.behaviour_probs.log() + actions.advantages / self.eta).softmax(dim=-1)

    def _u(self, batch: LossBatch) -> Tensor:
        """u = clamp(A / eta, +-u_clip), [B, 1]."""
        u = batch.advantages / self.eta
        if self.u_clip is not None:
            u = u.clamp(-self.u_clip, self.u_clip)
        return u[:, None]

    def _u_and_log_rho(self, batch: LossBatch) -> tuple[Tensor, Tensor]:
        """u [B, 1] and log rho, [B, T] per token or [B, 1] per sequence."""
        log_rho = batch.log_ratio()
        if self.ratio_level == "sequence":
            log_rho = log_rho.sum(dim=1, keepdim=True)
        return self._u(batch), log_rho

    def token_terms(self, batch: LossBatch) -> Tensor:
        """exp(u) f(x) per token (per sequence: the sequence's value at each of its tokens, the
        broadcast that the aggregation sums, as in ``loss_and_metrics``)."""
        u, log_rho = self._u_and_log_rho(batch)
        value, _ = _lad_term().apply(log_rho, u, get_generator(self.divergence))
        return value.expand_as(batch.logp)

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        u, log_rho = self._u_and_log_rho(batch)
        value, score_weight = _lad_term().apply(log_rho, u, get_generator(self.divergence))
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        loss = (coefficients * value.expand_as(batch.logp)).sum()
        with_tokens = coefficients > 0
        rho = log_rho.detach().exp().expand_as(batch.logp)[with_tokens]
        metrics = {
            "loss": loss.detach(),
            "ratio_mean": rho.mean(),
            "ratio_max": rho.max(),
            "score_weight_mean": score_weight.expand_as(batch.logp)[with_tokens].mean(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        """d loss / d logp = a * f'(x) rho per token (token ratio) or a_b. f'(x_b) rho_b m_bt (sequence)."""
        u, log_rho = self._u_and_log_rho(batch)
        score = get_generator(self.divergence).score_weight(log_rho.detach(), u)
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        if self.ratio_level == "sequence":
            return {"logp": coefficients.sum(dim=1, keepdim=True) * score * batch.token_mask}
        return {"logp": coefficients * score}

    def fixed_batch_grads(self, batch: LossBatch) -> Callable[[LossBatch], dict[str, Tensor]]:
        """``input_grads`` (token-level ratio) with u and the coefficients computed once."""
        if self.ratio_level == "sequence":
            return self.input_grads
        u, score_weight = self._u(batch), get_generator(self.divergence).score_weight
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        return lambda rows: {"logp": coefficients * score_weight(rows.log_ratio().detach(), u)}
