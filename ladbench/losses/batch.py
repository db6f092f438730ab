"""The batch every loss consumes, and the aggregation of per-token terms into one scalar.

Shapes follow the LLM convention; the bandit is the case T = 1 (one "token" per action).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ladbench.errors import UserError, choices_error
from ladbench.losses.checks import check_positive

if TYPE_CHECKING:
    from torch import Tensor

AGGREGATIONS = ("token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm")


@dataclass
class LossBatch:
    """Inputs of a loss.

    logp:       [B, T] per-token log pi_theta, differentiable.
    old_logp:   [B, T] per-token log pi_old (behaviour policy); treated as a constant.
    advantages: [B] one advantage per sequence, broadcast over its tokens.
    mask:       [B, T] 1 for real tokens, 0 for padding; None means all ones.
    ref_logp:   [B, T] log pi_ref of a fixed reference policy (GRPO's KL penalty, FlowRL).
    weights:    [B] non-negative sample weights; every aggregation becomes a weighted mean.
                None means equal weights. The bandit's exact estimator passes pi_old(y) here to
                turn the batch mean into the expectation over all actions.
    log_z:      [B] FlowRL's learned log partition function of each sequence's context,
                differentiable.
    entropy:    [B] or [B, T] entropy estimate used by ``entropy_pg`` (the exact entropy of the
                row's policy for a tabular policy; per-token entropies for an LLM), differentiable.
    rewards:    [B] each sequence's reward as observed (before any advantage estimator), for losses
                that read the reward itself (``alpha_dpg``'s correctness filter).
    uniforms:   [B, T] independent U(0, 1) numbers drawn by the caller from its seeded generators,
                for losses with a random part (``clip_cov``'s token selection): the loss stays a
                pure function of its batch, so runs are reproducible and its value and
                ``input_grads`` agree.
    group_size: rows come in consecutive groups of ``group_size`` sharing one context (an LLM
                prompt's G completions; a bandit (run, context)'s arms or samples), over which
                per-context statistics are taken (``f_tb``'s log Z estimate, ``alpha_dpg``'s
                partition function and baseline). None: the whole batch is one group.
    runs:       the batch stacks ``runs`` independent optimisation problems of equal size, run-major
                (the bandit engine trains R runs as one batch); statistics of a whole batch
                (``clip_cov``'s and ``kl_cov``'s covariance and token budget) are taken per run.
    max_length: the longest completion the sampler could produce (an LLM's max_new_tokens), the
                constant that ``seq_mean_token_sum_norm`` (Dr. GRPO) divides each sequence's token
                sum by. None means T, the batch's width, which is that constant only when every
                batch is padded to the same width (the bandit's fixed-length sequences).
    token_denominator: what ``token_mean`` divides by instead of this batch's own (weighted)
                token count, sum_{b,t} w_b m_bt. A batch that is one part of a larger optimisation
                batch (micro-batches accumulated, processes averaged) passes the whole batch's token
                count divided by the number of processes that average their gradients; summed over
                the parts, the gradients are then the token mean of the whole batch (DAPO's, TRL's
                ``loss_type="dapo"``). None: each batch is its own token mean (TRL's ``bnpo``).
    """

    logp: Tensor
    old_logp: Tensor
    advantages: Tensor
    mask: Tensor | None = None
    ref_logp: Tensor | None = None
    weights: Tensor | None = None
    log_z: Tensor | None = None
    entropy: Tensor | None = None
    rewards: Tensor | None = None
    uniforms: Tensor | None = None
    group_size: int | None = None
    runs: int = 1
    max_length: int | None = None
    token_denominator: float | Tensor | None = None

    def __post_init__(self) -> None:
        if self.logp.dim() != 2:
            raise UserError(f"logp must have shape [B, T], got {tuple(self.logp.shape)}")
        batch_size, length = self.logp.shape
        token_shaped = {
            "old_logp": self.old_logp,
            "mask": self.mask,
            "ref_logp": self.ref_logp,
            "uniforms": self.uniforms,
        }
        for name, value in token_shaped.items():
            if value is not None and tuple(value.shape) != (batch_size, length):
                raise UserError(f"{name} must have shape {(batch_size, length)} like logp, got {tuple(value.shape)}")
        sequence_shaped = {
            "advantages": self.advantages,
            "weights": self.weights,
            "log_z": self.log_z,
            "rewards": self.rewards,
        }
        for name, value in sequence_shaped.items():
            if value is not None and tuple(value.shape) != (batch_size,):
                raise UserError(f"{name} must have shape {(batch_size,)}, got {tuple(value.shape)}")
        if self.entropy is not None and tuple(self.entropy.shape) not in ((batch_size,), (batch_size, length)):
            raise UserError(
                f"entropy must have shape {(batch_size,)} or {(batch_size, length)}, got {tuple(self.entropy.shape)}"
            )
        if not isinstance(self.runs, int) or self.runs < 1 or batch_size % self.runs:
            raise UserError(f"runs must be a positive divisor of the batch size {batch_size}, got {self.runs!r}")
        if self.group_size is not None and (
            not isinstance(self.group_size, int) or self.group_size < 1 or (batch_size // self.runs) % self.group_size
        ):
            raise UserError(
                f"group_size must be a positive divisor of the rows per run {batch_size // self.runs}, "
                f"got {self.group_size!r}"
            )
        check_positive("max_length", self.max_length, allow_none=True)
        check_positive("token_denominator", self.token_denominator, allow_none=True)

    @property
    def token_mask(self) -> Tensor:
        """The mask as a float tensor (all ones when no mask was given)."""
        import torch

        if self.mask is None:
            return torch.ones_like(self.logp, dtype=self.logp.dtype).detach()
        return self.mask.to(self.logp.dtype)

    def masked(self, per_token: Tensor) -> Tensor:
        """``per_token`` with padding replaced by 0, whatever it holds there (an -inf log-prob,
        NaN): selected rather than multiplied, since 0 * inf is NaN. Gradients to padding are 0
        as long as ``per_token`` is linear in what it masks (a difference of log-probs), so mask
        differences before exp or log."""
        import torch

        if self.mask is None:
            return per_token
        return torch.where(self.mask > 0, per_token, torch.zeros_like(per_token))

    def log_ratio(self) -> Tensor:
        """log rho_t = log pi_theta - log pi_old per token, 0 on padding (whatever logp holds there)."""
        return self.masked(self.logp - self.old_logp.detach())

    def require(self, field: str, loss_name: str) -> Tensor:
        """The batch field ``field``, or a UserError saying that ``loss_name`` needs it."""
        value = getattr(self, field)
        if value is None:
            raise UserError(f"loss {loss_name!r} needs batch.{field}, which is None")
        return value


@dataclass(frozen=True)
class ActionSet:
    """A fully enumerated action set, on which a loss's fixed point has a closed form.

    The last axis lists the actions ([..., K]); leading axes are runs (and contexts).

    rewards:         [..., K] expected reward of each action.
    advantages:      [..., K] exact advantages under pi_old (``expected_advantages``).
    behaviour_probs: [..., K] pi_old.
    ref_probs:       [..., K] a fixed reference policy (FlowRL's pi_ref); None means uniform.
    tokens:          log-probabilities per action (a sequence's length T; 1 for an arm).
    """

    rewards: Tensor
    advantages: Tensor
    behaviour_probs: Tensor
    ref_probs: Tensor | None = None
    tokens: int = 1


def aggregation_weights(batch: LossBatch, mode: str = "token_mean", norm_length: int | None = None) -> Tensor:
    """Coefficients a[b, t] such that the aggregated loss is sum_{b,t} a[b, t] * term[b, t].

    With m the mask and w the sample weights (all ones by default):

    - ``token_mean`` (default; verl's token-mean, DAPO):  a = w_b m_bt / N, N = sum_{b,t} w_b m_bt,
                                                          or batch.token_denominator when given
    - ``seq_mean_token_mean`` (GRPO paper):               a = w_b m_bt / (n_b sum_b w_b), n_b = sum_t m_bt
    - ``seq_mean_token_sum_norm`` (Dr. GRPO):             a = w_b m_bt / (L sum_b w_b), L = norm_length,
                                                          else batch.max_length, else T

    Dr. GRPO (Liu et al. 2025, arXiv 2503.20783) divides every sequence's token sum by one
    constant, the generation budget (TRL: max_completion_length), so a sequence's weight does not
    depend on how long the other responses in its batch happened to be. One set of coefficients
    serves both the loss value and its closed-form gradients, so the two cannot disagree about how
    tokens are weighted.
    """
    if mode not in AGGREGATIONS:
        raise choices_error("aggregation", mode, AGGREGATIONS)
    import torch

    batch_size, length = batch.logp.shape
    dtype = batch.logp.dtype
    tiny = torch.finfo(dtype).tiny
    sample_weights = batch.logp.new_ones(batch_size, 1) if batch.weights is None else batch.weights.to(dtype)[:, None]
    if batch.mask is None:  # fast path: every token counts
        weighted_mask = sample_weights.expand(batch_size, length)
        tokens_per_sequence = length
    else:
        mask = batch.mask.to(dtype)
        weighted_mask = sample_weights * mask
        tokens_per_sequence = mask.sum(dim=1, keepdim=True).clamp_min(1.0)
    if mode == "token_mean":
        if batch.token_denominator is not None:
            return weighted_mask / batch.token_denominator
        return weighted_mask / weighted_mask.sum().clamp_min(tiny)
    total_weight = sample_weights.sum().clamp_min(tiny)
    if mode == "seq_mean_token_mean":
        return weighted_mask / (tokens_per_sequence * total_weight)
    constant = next(value for value in (norm_length, batch.max_length, length) if value is not None)
    return weighted_mask / (constant * total_weight)
