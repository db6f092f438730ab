"""Per-sequence sums, per-group means and per-run views of a LossBatch, for the losses whose
terms depend on other rows (``f_tb``, ``alpha_dpg``, ``clip_cov``, ``kl_cov``).

Rows are laid out run-major in ``batch.runs`` equal runs, each in consecutive groups of
``batch.group_size`` rows (the whole run when None); see :class:`~ladbench.losses.batch.LossBatch`.
Sample weights (``batch.weights``, ones when None) make every mean a weighted mean, so the
bandit's exact estimator (weights pi_old) turns a group mean into an expectation under pi_old.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor

    from ladbench.losses.batch import LossBatch


def sample_weights(batch: LossBatch) -> Tensor:
    """[B] the sample weights, ones when the batch has none."""
    import torch

    if batch.weights is None:
        return torch.ones(batch.logp.shape[0], dtype=batch.logp.dtype, device=batch.logp.device)
    return batch.weights.to(batch.logp.dtype)


def sequence_coefficients(batch: LossBatch) -> Tensor:
    """[B] c_b = w_b / sum_b w_b: a (weighted) mean over sequences, the aggregation of the
    sequence-level losses."""
    weights = sample_weights(batch)
    return weights / weights.sum().clamp_min(_tiny(weights))


def sequence_sum(batch: LossBatch, per_token: Tensor) -> Tensor:
    """[B] sum over each sequence's real tokens (``LossBatch.masked``: padding may hold -inf)."""
    return batch.masked(per_token).sum(dim=1)


def group_size(batch: LossBatch) -> int:
    """Rows per group (the whole run when the batch gives none)."""
    rows_per_run = batch.logp.shape[0] // batch.runs
    return rows_per_run if batch.group_size is None else batch.group_size


def group_mean(batch: LossBatch, values: Tensor, weights: Tensor | None = None) -> Tensor:
    """[B] the weighted mean of ``values`` [B] over each row's group, broadcast back to the rows.
    A group whose weights are all zero gets mean 0."""
    weights = sample_weights(batch) if weights is None else weights
    size = group_size(batch)
    grouped_weights = weights.reshape(-1, size)
    total = grouped_weights.sum(dim=1, keepdim=True)
    mean = (grouped_weights * values.reshape(-1, size)).sum(dim=1, keepdim=True) / total.clamp_min(_tiny(values))
    return mean.expand(-1, size).reshape(-1)


def per_run(batch: LossBatch, per_token: Tensor) -> Tensor:
    """[runs, rows_per_run * T] the tokens of each run."""
    return per_token.reshape(batch.runs, -1)


def _tiny(tensor: Tensor) -> float:
    import torch

    return torch.finfo(tensor.dtype).tiny


def spread_sequence_terms(batch: LossBatch, values: Tensor, token_grads: Tensor) -> Tensor:
    """[B, T] a per-sequence term as per-token terms (verl's GSPO convention, ``Loss.token_terms``):
    value ``values`` [B] at each real token, gradient ``token_grads`` [B, T] per unit of log pi
    there (both taken as constants), 0 on padding."""
    log_rho = batch.log_ratio()
    spread = values.detach()[:, None] + token_grads.detach() * (log_rho - log_rho.detach())
    return batch.masked(spread)
