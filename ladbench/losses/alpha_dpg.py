"""alpha-DPG: distributional policy gradient towards the filtered base model (Kruszewski et al.
2025, "Whatever Remains Must Be True: Filtering Drives Reasoning in LLMs, Shaping Diversity",
arXiv 2512.05962), built on f-DPG (Go et al. 2023, arXiv 2302.08215; NAVER's ``disco`` library,
``disco/tuners/losses/f_divergence.py``).

The target keeps the base model's correct answers in their base proportions:

    p(y) = pi_base(y) 1[y correct] / Z,        Z = P_base(correct)

and pi_theta minimises the alpha-divergence (Amari's parametrisation)
D_alpha(pi || p) = (1 - sum_y p^(1 - alpha) pi^alpha) / (alpha (1 - alpha)): the forward KL(p || pi)
(mass-covering) as alpha -> 0, the reverse KL(pi || p) (mode-seeking, what KL-regularised RL
minimises) as alpha -> 1. Its gradient is -E_pi[R grad log pi] with the pseudo-reward

    R(y) = ((p(y) / pi(y))^(1 - alpha) - 1) / (1 - alpha)          (-> log(p / pi) as alpha -> 1)

so the loss is a policy gradient on R, importance-weighted from pi_old as in f-DPG:

    R_b  = min( (p_b / pi_b)^(1 - alpha) - 1, clip ) / (1 - alpha)       pi_b = sg(pi_theta(y_b))
    Ahat = R_b - (weighted mean of R over b's group)
    L    = -sum_b c_b rho_b Ahat_b,     rho_b = exp(sum_t log rho_bt),  c_b = w_b / sum_b w_b

Pinned where the summary we could consult does not say:

- Correctness: reward >= ``threshold`` (1: the full reward of the LLM tasks' binary grading).
  The bandit reads the arm's expected reward.
- Z: estimated per group from the batch by importance sampling, Zhat = sum_b cbar_b
  (pi_base / pi_old)(y_b) 1[y_b correct], cbar the group's normalised weights; under the bandit's
  exact estimator (weights pi_old) this is Z exactly. Zhat is clamped at 1 (Z is a probability), as
  the authors' code (naver/alpha-dpg) clamps its estimate: a sampled estimate above 1 would
  shrink p below any base proportion. A group with no correct sample has Zhat = 0: every R is then
  -1/(1 - alpha) and Ahat = 0, no update.
- Scale: R carries the 1/(1 - alpha) that makes alpha -> 1 the reverse KL's log(p / pi) (a
  constant factor for a fixed alpha, which Adam does not see).
- Clip: the pseudo-reward is clipped above at ``clip`` before the 1/(1 - alpha) scale, as in the
  paper (default 10, as FlowRL's importance weight; None: no clip), so R <= clip / (1 - alpha);
  below it is bounded by -1/(1 - alpha) (incorrect answers), so alpha < 1 is required.
- Baseline: the group's weighted mean of R. For G equally weighted samples the paper's
  leave-one-out baseline gives G/(G-1) times the same Ahat (a constant factor); under the exact
  estimator a row-dependent leave-one-out mean would bias the expectation, the mean does not.

pi_base is ``batch.ref_logp`` (the LLM track's frozen initial model; the bandit family's base
policy), correctness comes from ``batch.rewards``.

Gradient: d L / d log pi_bt = -c_b rho_b Ahat_b m_bt (R, Zhat and the baseline are constants).

Fixed point: R is constant (0) on the correct answers exactly at pi = p, where the incorrect
ones have pi = 0: over a full action set the loss drives pi to p = pi_base 1[correct] / Z (a
softmax approaches it as the incorrect logits go to -inf). Under the exact estimator the
gradient -sum_y pi(y) Ahat(y) grad log pi(y) does not involve pi_old, so the target is the same
whether pi_old is fixed or follows the policy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.errors import UserError
from ladbench.losses.batch import ActionSet, LossBatch
from ladbench.losses.checks import check_non_negative, check_positive
from ladbench.losses.groups import group_mean, group_size, sample_weights, sequence_coefficients, sequence_sum
from ladbench.losses.registry import Loss, register_loss

if TYPE_CHECKING:
    from torch import Tensor


@register_loss
@dataclass(frozen=True)
class AlphaDPGLoss(Loss):
    """Importance-weighted policy gradient on alpha-DPG's pseudo-reward towards pi_base 1[correct] / Z."""

    name: ClassVar[str] = "alpha_dpg"
    display_name: ClassVar[str] = "alpha-DPG"
    alpha: float = 0.5
    threshold: float = 1.0
    clip: float | None = 10.0

    def __post_init__(self) -> None:
        check_non_negative("alpha", self.alpha)
        if not self.alpha < 1:
            raise UserError(
                f"alpha must be in [0, 1) (alpha -> 1 is the reverse KL, infinite on incorrect answers), "
                f"got {self.alpha!r}"
            )
        if (
            not isinstance(self.threshold, (int, float))
            or isinstance(self.threshold, bool)
            or not math.isfinite(self.threshold)
        ):
            raise UserError(f"threshold must be a finite number, got {self.threshold!r}")
        check_positive("clip", self.clip, allow_none=True)

    def label(self) -> str:
        return f"alpha-DPG-{self.alpha:g}"

    def batch_fields(self) -> frozenset[str]:
        return frozenset({"ref_logp", "rewards"})

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [{}, {"alpha": 0.0, "clip": None}, {"alpha": 0.9, "clip": 0.5, "threshold": 0.5}]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        """pi_ref 1[reward >= threshold] / Z per context (uniform pi_ref when the action set has
        none); NaN for a context without a correct action."""
        correct = (
            (actions.rewards >= self.threshold).to(actions.behaviour_probs.dtype).expand_as(actions.behaviour_probs)
        )
        ref = 1.0 if actions.ref_probs is None else actions.ref_probs
        unnormalised = ref * correct
        return unnormalised / unnormalised.sum(dim=-1, keepdim=True)

    def pseudo_rewards(self, batch: LossBatch) -> tuple[Tensor, Tensor, Tensor]:
        """R [B], the correct rows [B] (bool) and each row's group's log Zhat [B] (all detached)."""
        import torch

        correct = batch.require("rewards", self.name) >= self.threshold
        log_base = sequence_sum(batch, batch.require("ref_logp", self.name)).detach()
        log_pi = sequence_sum(batch, batch.logp.detach())
        log_old = sequence_sum(batch, batch.old_logp.detach())
        weights = sample_weights(batch)
        size = group_size(batch)
        share = (
            weights.reshape(-1, size)
            / weights.reshape(-1, size).sum(dim=1, keepdim=True).clamp_min(torch.finfo(weights.dtype).tiny)
        ).reshape(-1)
        importance = torch.where(
            correct & (share > 0), share.log() + log_base - log_old, torch.full_like(log_base, -math.inf)
        )
        log_z = importance.reshape(-1, size).logsumexp(dim=1, keepdim=True).expand(-1, size).reshape(-1)
        log_z = log_z.clamp(max=0.0)  # Zhat <= 1, as the authors' code clamps it
        scale = 1.0 - self.alpha
        exponent = scale * (log_base - log_z - log_pi)
        if self.clip is not None:
            exponent = exponent.clamp(max=math.log1p(self.clip))
        live = correct & torch.isfinite(log_z)
        rewards = torch.where(
            live,
            torch.where(live, exponent, torch.zeros_like(exponent)).expm1() / scale,
            torch.full_like(exponent, -1.0 / scale),
        )
        return rewards, correct, log_z

    def _terms(self, batch: LossBatch) -> tuple[Tensor, Tensor, Tensor]:
        """rho [B] (differentiable), Ahat [B] and c [B]."""
        rewards, _, _ = self.pseudo_rewards(batch)
        advantages = rewards - group_mean(batch, rewards)
        return sequence_sum(batch, batch.log_ratio()).exp(), advantages, sequence_coefficients(batch)

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        rho, advantages, coefficients = self._terms(batch)
        loss = -(coefficients * rho * advantages).sum()
        rewards, correct, log_z = self.pseudo_rewards(batch)
        metrics = {
            "loss": loss.detach(),
            "ratio_mean": (coefficients * rho.detach()).sum(),
            "pseudo_reward_mean": (coefficients * rewards).sum(),
            "correct_frac": (coefficients * correct.to(coefficients.dtype)).sum(),
            "z_hat_mean": (coefficients * log_z.exp()).sum(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        rho, advantages, coefficients = self._terms(batch)
        return {"logp": (-coefficients * rho.detach() * advantages)[:, None] * batch.token_mask}
