"""Clip-Cov and KL-Cov (Cui et al. 2025, "The Entropy Mechanism of Reinforcement Learning for
Reasoning Language Models", arXiv 2505.22617), as verl's policy-loss registry implements them
(``compute_policy_loss_clip_cov`` / ``compute_policy_loss_kl_cov``, adapted from the authors'
PRIME-RL/Entropy-Mechanism-of-RL code).

Both act on the tokens whose log-probability covaries most with their advantage, the ones that
drive the entropy down. Per token t of the batch, with A_t the advantage of its sequence,

    c_t = (A_t - mean A) (log pi_t - mean log pi)         means over the batch's real tokens

- ``clip_cov``: GRPO's clipped surrogate, except that a random subset of the tokens with
  w_low < c_t < w_high (and not already clipped by the ratio clip) loses its term entirely:
  l_t = -min(rho_t A_t, clip(rho_t) A_t) * (1 - s_t). The subset has max(1, floor(r N)) tokens
  (r = ``ratio``, N the batch's real tokens), drawn uniformly among the candidates.
- ``kl_cov``: the unclipped surrogate -rho_t A_t, plus coef |log rho_t| on the max(1, floor(r N))
  tokens of largest c_t (verl applies no ratio clip here).

Defaults: r = 2e-4 and (w_low, w_high) = (1, 5) are verl's (``policy_loss.clip_cov_ratio``,
``clip_cov_lb`` / ``clip_cov_ub``, ``kl_cov_ratio``; the paper's 7B KL-Cov run used r = 2e-3).
KL-Cov's coef = 1 is the authors' recipes' ``ppo_kl_coef``; verl's ``PolicyLossConfig`` default is
0.1 (its function's own fallback, 1, applies only to a config without the key). Clip-Cov's
eps = 0.2 is verl's default ``clip_ratio``; the authors' Clip-Cov recipes set
``clip_ratio_low = clip_ratio_high = 1``, which turns the ratio clip off for ratios in (0, 2).
Through ladbench's verl plug-in all of these come from the run's actor config.

Choices pinned here, where the batch is not a plain list of samples:

- Runs. "The batch" is one run (``LossBatch.runs``): the bandit engine stacks independent runs
  in one batch, and a run's selection must not depend on its batch-mates.
- Weights. The means are weighted by the token weights w_b m_bt, and the budget is a share r of
  the run's total token weight: tokens are taken in order (largest c_t; Clip-Cov: random order)
  while the weight taken, this token included, is at most r times the total, and always the
  first. With equal weights this is verl's max(1, floor(r N)); under the bandit's exact
  estimator (weights pi_old) the covariance is the covariance under pi_old.
- Randomness. Clip-Cov's random order comes from ``batch.uniforms`` (U(0, 1) per token, drawn
  by the caller from its seeded generators), so the loss is a pure function of its batch.

Gradients: clip_cov: d l_t / d log pi_t = -A_t rho_t (1 - s_t) where the ratio clip does not
bind, else 0; kl_cov: -A_t rho_t + coef sign(log rho_t) k_t, k_t = 1 on the selected tokens.
The selections are constants (they are chosen, not differentiated).

Fixed point: both maximise E[A] outside the few selected tokens; the selection depends on the
policy, so there is no closed form. The bandit target is the best arms, as for GRPO
(``surrogate.best_actions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.errors import UserError
from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch, aggregation_weights
from ladbench.losses.checks import check_choice, check_non_negative, check_number, check_positive
from ladbench.losses.groups import per_run, sample_weights
from ladbench.losses.registry import Loss, register_loss
from ladbench.losses.surrogate import best_actions, clip_active, clipped_score, clipped_surrogate

if TYPE_CHECKING:
    from torch import Tensor


def token_weights(batch: LossBatch) -> Tensor:
    """[B, T] w_b m_bt: each real token's sample weight, 0 on padding."""
    return sample_weights(batch)[:, None] * batch.token_mask


def covariance(batch: LossBatch) -> Tensor:
    """[B, T] c_t = (A_t - mean A)(log pi_t - mean log pi), means weighted by the token weights
    over each run's real tokens (log pi detached; padding may hold anything)."""
    import torch

    weights = per_run(batch, token_weights(batch))
    total = weights.sum(dim=1, keepdim=True).clamp_min(torch.finfo(weights.dtype).tiny)
    advantages = per_run(batch, batch.advantages[:, None].expand_as(batch.logp))
    logp = per_run(batch, batch.masked(batch.logp.detach()))
    centred_advantages = advantages - (weights * advantages).sum(dim=1, keepdim=True) / total
    centred_logp = logp - (weights * logp).sum(dim=1, keepdim=True) / total
    return (centred_advantages * centred_logp).reshape(batch.logp.shape)


def budgeted_selection(batch: LossBatch, order: Tensor, eligible: Tensor, ratio: float) -> Tensor:
    """[B, T] bool: per run, eligible tokens taken in increasing ``order`` while the token weight
    taken (this token included) is at most ``ratio`` times the run's total, and always the first."""
    import torch

    weights = per_run(batch, token_weights(batch))
    eligible = per_run(batch, eligible) & (weights > 0)
    keys = torch.where(eligible, per_run(batch, order), torch.full_like(weights, float("inf")))
    _, indices = keys.sort(dim=1, stable=True)
    sorted_eligible = eligible.gather(1, indices)
    taken = (weights.gather(1, indices) * sorted_eligible).cumsum(dim=1)
    budget = ratio * weights.sum(dim=1, keepdim=True)
    first = torch.zeros_like(sorted_eligible)
    first[:, 0] = True
    chosen = sorted_eligible & ((taken <= budget) | first)
    return torch.zeros_like(eligible).scatter(1, indices, chosen).reshape(batch.logp.shape)


def _check_ratio(ratio: float) -> None:
    check_positive("ratio", ratio)
    if ratio > 1:
        raise UserError(f"ratio must be a fraction of the tokens in (0, 1], got {ratio!r}")


@register_loss
@dataclass(frozen=True)
class ClipCovLoss(Loss):
    """GRPO's clipped surrogate with a random few high-covariance tokens detached (module docstring)."""

    name: ClassVar[str] = "clip_cov"
    display_name: ClassVar[str] = "Clip-Cov"
    verl_config: ClassVar[dict[str, str] | None] = {
        "ratio": "policy_loss.clip_cov_ratio",
        "cov_low": "policy_loss.clip_cov_lb",
        "cov_high": "policy_loss.clip_cov_ub",
        "eps_low": "clip_ratio_low",
        "eps_high": "clip_ratio_high",
    }
    ratio: float = 2e-4
    cov_low: float = 1.0
    cov_high: float = 5.0
    eps_low: float = 0.2
    eps_high: float = 0.2
    aggregation: str = "token_mean"
    norm_length: int | None = None

    def __post_init__(self) -> None:
        _check_ratio(self.ratio)
        check_number("cov_low", self.cov_low)
        check_number("cov_high", self.cov_high)
        if not self.cov_low < self.cov_high:
            raise UserError(f"cov_low must be below cov_high, got cov_low={self.cov_low!r}, cov_high={self.cov_high!r}")
        check_non_negative("eps_low", self.eps_low)
        check_non_negative("eps_high", self.eps_high)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_positive("norm_length", self.norm_length, allow_none=True)

    def batch_fields(self) -> frozenset[str]:
        return frozenset({"uniforms"})

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [  # ratio = 0.3 makes the covariance budget select a few tokens
            {"ratio": 0.3, "cov_low": -1.0, "cov_high": 1.0},
            {"ratio": 0.1, "cov_low": 0.0, "cov_high": 0.5, "eps_high": 0.28, "aggregation": "seq_mean_token_mean"},
        ]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        return best_actions(actions)

    def candidates(self, batch: LossBatch) -> Tensor:
        """[B, T] bool: the real tokens with w_low < c_t < w_high that the ratio clip leaves alone."""
        rho = batch.log_ratio().detach().exp()
        cov = covariance(batch)
        candidates = (cov > self.cov_low) & (cov < self.cov_high) & (batch.token_mask > 0)
        return candidates & ~clip_active(rho, batch.advantages[:, None].expand_as(rho), self.eps_low, self.eps_high)

    def draw_uniforms(self, batch: LossBatch) -> Tensor:
        """Uniforms that order the candidates as verl's ``clip_cov`` does: one ``torch.randperm``
        over the candidates in row-major order, the first of the permutation taken first; so under
        the same torch seed the same tokens are detached."""
        import torch

        uniforms = torch.ones_like(batch.logp, dtype=batch.logp.dtype).detach()
        positions = self.candidates(batch).reshape(-1).nonzero().squeeze(1)
        if len(positions):
            order = torch.randperm(len(positions))
            ranks = (torch.arange(len(positions), dtype=uniforms.dtype) + 0.5) / len(positions)
            uniforms.reshape(-1)[positions[order.to(positions.device)]] = ranks.to(uniforms.device)
        return uniforms

    def _terms(self, batch: LossBatch) -> tuple[Tensor, Tensor, Tensor]:
        """rho [B, T], A [B, 1], and the detached tokens s [B, T] (bool)."""
        rho = batch.log_ratio().exp()
        advantages = batch.advantages[:, None]
        candidates = self.candidates(batch)
        detached = budgeted_selection(batch, batch.require("uniforms", self.name), candidates, self.ratio)
        return rho, advantages, detached

    def token_terms(self, batch: LossBatch) -> Tensor:
        rho, advantages, detached = self._terms(batch)
        return clipped_surrogate(rho, advantages, self.eps_low, self.eps_high) * (~detached)

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        rho, advantages, detached = self._terms(batch)
        per_token = clipped_surrogate(rho, advantages, self.eps_low, self.eps_high) * (~detached)
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        loss = (coefficients * per_token).sum()
        with_tokens = coefficients > 0
        metrics = {
            "loss": loss.detach(),
            "ratio_mean": rho.detach()[with_tokens].mean(),
            "clip_frac": clip_active(rho.detach(), advantages.expand_as(rho), self.eps_low, self.eps_high)[with_tokens]
            .float()
            .mean(),
            "cov_detached_frac": detached[with_tokens].float().mean(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        rho, advantages, detached = self._terms(batch)
        score = clipped_score(rho.detach(), advantages, self.eps_low, self.eps_high) * (~detached)
        return {"logp": aggregation_weights(batch, self.aggregation, self.norm_length) * score}


@register_loss
@dataclass(frozen=True)
class KLCovLoss(Loss):
    """Unclipped surrogate plus coef |log rho| on the few highest-covariance tokens (module docstring)."""

    name: ClassVar[str] = "kl_cov"
    display_name: ClassVar[str] = "KL-Cov"
    verl_config: ClassVar[dict[str, str] | None] = {
        "ratio": "policy_loss.kl_cov_ratio",
        "coef": "policy_loss.ppo_kl_coef",
    }
    ratio: float = 2e-4
    coef: float = 1.0
    aggregation: str = "token_mean"
    norm_length: int | None = None

    def __post_init__(self) -> None:
        _check_ratio(self.ratio)
        check_non_negative("coef", self.coef)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_positive("norm_length", self.norm_length, allow_none=True)

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [
            {"ratio": 0.3, "coef": 0.7},
            {"ratio": 0.05, "aggregation": "seq_mean_token_sum_norm", "norm_length": 5},
        ]

    def target_distribution(self, actions: ActionSet) -> Tensor:
        return best_actions(actions)

    def _terms(self, batch: LossBatch) -> tuple[Tensor, Tensor, Tensor]:
        """log rho [B, T], A [B, 1], and the penalised tokens k [B, T] (bool)."""
        log_rho = batch.log_ratio()
        penalised = budgeted_selection(batch, -covariance(batch), batch.token_mask > 0, self.ratio)
        return log_rho, batch.advantages[:, None], penalised

    def token_terms(self, batch: LossBatch) -> Tensor:
        log_rho, advantages, penalised = self._terms(batch)
        return -log_rho.exp() * advantages + self.coef * log_rho.abs() * penalised

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        log_rho, advantages, penalised = self._terms(batch)
        rho = log_rho.exp()
        per_token = -rho * advantages + self.coef * log_rho.abs() * penalised
        coefficients = aggregation_weights(batch, self.aggregation, self.norm_length)
        loss = (coefficients * per_token).sum()
        with_tokens = coefficients > 0
        metrics = {
            "loss": loss.detach(),
            "ratio_mean": rho.detach()[with_tokens].mean(),
            "kl_abs": log_rho.detach().abs()[with_tokens].mean(),
            "cov_penalised_frac": penalised[with_tokens].float().mean(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        log_rho, advantages, penalised = self._terms(batch)
        log_rho = log_rho.detach()
        score = -advantages * log_rho.exp() + self.coef * log_rho.sign() * penalised
        return {"logp": aggregation_weights(batch, self.aggregation, self.norm_length) * score}
