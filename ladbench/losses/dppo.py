"""DPPO: Divergence Proximal Policy Optimization (Qi et al. 2026, "Rethinking the Trust Region in
LLM Reinforcement Learning", arXiv 2602.04879), as the authors' code implements it
(github.com/sail-sg/Stable-RL, ``verl/trainer/ppo/core_algos.py``: ``compute_policy_loss_with_mask``
with ``loss_mode="dppo_binary_tv"`` / ``"dppo_binary_kl"``).

PPO's ratio clip is replaced by a mask from a divergence between pi_theta and pi_old at each
token, estimated from the sampled token alone (the "binary" approximation: the distribution
{sampled token, everything else}). With p_t = pi_theta(y_t), q_t = pi_old(y_t):

    binary_tv:  D_t = p_t - q_t                       (signed)
    binary_kl:  D_t = q log(q/p) + (1 - q) log((1 - q)/(1 - p))
    m_t = 0 where A > 0 and the update moved past the trust region upward
            (tv: D_t > delta_high; kl: D_t > delta_high and p > q),
          or A < 0 and it moved past it downward (tv: D_t < -delta_low; kl: D_t > delta_low and p < q);
          m_t = 1 otherwise.
    l_t = -A min(rho_t, cap) m_t        with the gradient of sg(min(rho, cap)) log pi_t

The value is the capped surrogate; its gradient, -A min(rho_t, cap) m_t per unit of log pi_t,
is the reference's ``-A * sg(clamp(rho, max=cap)) * mask * log_prob``: unlike PPO's clip, a
token past the cap keeps a bounded gradient, and only the divergence mask stops a token.
Defaults: delta = 0.2 for binary_tv (the references' ``clip_ratio``), and 0.05 for binary_kl (the
threshold recommended for KL, e.g. by SkyRL's DPPO config); ``delta_low`` / ``delta_high`` None
take the default of the ``trust_region`` divergence. The cap's default, 10, is ladbench's own, not
the references': verl 0.9.1 (``dppo_tv`` / ``dppo_kl``) and Stable-RL read ``clip_ratio_c`` from
the actor config, whose default is 3.0 (the functions' fallback of 20 applies only to a config
without the key). Through ladbench's verl plug-in the run's ``clip_ratio_c`` is the cap and
``clip_ratio_low`` / ``clip_ratio_high`` are delta_low / delta_high, as verl's own DPPO reads them.
(The option is not called ``divergence``, which the ``--divergence`` shorthand sets for LAD and f-TB.)

Fixed point: the mask stops a token at the edge of its trust region around pi_old, a point that
depends on the path, so under a fixed pi_old there is no closed form; with pi_old refreshed every
step it is a policy gradient and ends on the best arms (``surrogate.best_actions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch, aggregation_weights
from ladbench.losses.checks import check_choice, check_positive
from ladbench.losses.registry import Loss, register_loss
from ladbench.losses.surrogate import best_actions, detached_gradient

if TYPE_CHECKING:
    from torch import Tensor

TRUST_REGIONS = ("binary_tv", "binary_kl")
DEFAULT_DELTA = {"binary_tv": 0.2, "binary_kl": 0.05}


@register_loss
@dataclass(frozen=True)
class DPPOLoss(Loss):
    """Policy gradient with a detached, capped ratio, masked where the binary TV or KL between
    pi_theta and pi_old at the token exceeds its threshold in the advantage's direction."""

    name: ClassVar[str] = "dppo"
    display_name: ClassVar[str] = "DPPO"
    verl_config: ClassVar[dict[str, str] | None] = {
        "delta_low": "clip_ratio_low",
        "delta_high": "clip_ratio_high",
        "cap": "clip_ratio_c",
    }
    verl_variants: ClassVar[tuple[str, tuple[str, ...]] | None] = ("trust_region", TRUST_REGIONS)
    trust_region: str = "binary_tv"
    delta_low: float | None = None
    delta_high: float | None = None
    cap: float = 10.0
    aggregation: str = "token_mean"
    norm_length: int | None = None

    def __post_init__(self) -> None:
        check_choice("trust_region", self.trust_region, TRUST_REGIONS)
        check_positive("delta_low", self.delta_low, allow_none=True)
        check_positive("delta_high", self.delta_high, allow_none=True)
        check_positive("cap", self.cap)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_positive("norm_length", self.norm_length, allow_none=True)

    def label(self) -> str:
        return f"DPPO-{self.trust_region.removeprefix('binary_').upper()}"

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [{}, {"trust_region": "binary_kl", "delta_low": 0.01, "delta_high": 0.02, "cap": 1.5}]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        return best_actions(actions)

    def thresholds(self) -> tuple[float, float]:
        """(delta_low, delta_high), the trust region's default where None."""
        default = DEFAULT_DELTA[self.trust_region]
        return (
            default if self.delta_low is None else self.delta_low,
            default if self.delta_high is None else self.delta_high,
        )

    def trust_mask(self, batch: LossBatch) -> Tensor:
        """[B, T] m_t (1 inside the trust region, 0 past it in the advantage's direction; detached)."""
        import torch

        logp = batch.logp.detach()
        old_logp = batch.old_logp.detach()
        p, q = logp.exp(), old_logp.exp()
        low, high = self.thresholds()
        if self.trust_region == "binary_tv":
            past_up, past_down = p - q > high, p - q < -low
        else:
            kl = q * (old_logp - logp) + (1.0 - q) * ((-q).log1p() - (-p).log1p())
            past_up, past_down = (kl > high) & (p > q), (kl > low) & (p < q)
        advantages = batch.advantages[:, None].expand_as(logp)
        past = torch.where(advantages > 0, past_up, past_down)
        return (~past).to(logp.dtype)

    def _score(self, batch: LossBatch) -> tuple[Tensor, Tensor, Tensor]:
        """log rho [B, T] (differentiable), the mask and -A min(rho, cap) m (detached)."""
        log_rho = batch.log_ratio()
        mask = self.trust_mask(batch)
        return log_rho, mask, -batch.advantages[:, None] * log_rho.detach().exp().clamp(max=self.cap) * mask

    def token_terms(self, batch: LossBatch) -> Tensor:
        log_rho, _, score = self._score(batch)
        return detached_gradient(log_rho, score)  # the value -A min(rho, cap) m, the gradient score per unit of log pi

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        log_rho, mask, score = self._score(batch)
        per_token = detached_gradient(log_rho, score)
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        loss = (coefficients * per_token).sum()
        with_tokens = coefficients > 0
        metrics = {
            "loss": loss.detach(),
            "ratio_mean": log_rho.detach().exp()[with_tokens].mean(),
            "mask_frac": (1.0 - mask)[with_tokens].mean(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        _, _, score = self._score(batch)
        return {"logp": aggregation_weights(batch, self.aggregation, self.norm_length) * score}
