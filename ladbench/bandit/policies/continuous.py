"""Policies over actions y in [-1, 1]^d (the continuous family).

- ``gaussian``: a diagonal Gaussian truncated to the box,
  log pi(y) = sum_i [log phi((y_i - mu_i) / s_i) - log s_i - log(Phi(b_i) - Phi(a_i))],
  a_i = (-1 - mu_i) / s_i, b_i = (1 - mu_i) / s_i. Unimodal: it cannot represent the target.
  Initialised at mu = 0, s = 2 (nearly flat on the box); init_std > 0 adds N(0, init_std^2) to mu.
- ``mdn``: a mixture of ``components`` such truncated Gaussians with learned weights, means and
  scales (the output layer of a mixture-density network; with no context there is no input
  to a network, so these are free parameters). Means start uniform on the box (each run's
  generator), scales at 0.5, weights equal.
- ``discretised``: a softmax over ``bins``^d equal cells with uniform density inside each,
  log pi(y) = log softmax(z)_cell(y) - log(cell volume). Starts uniform (z = 0, or N(0, init_std^2)).

Each gives ``log_density(params, y)`` for y [R, S, d] -> [R, S], ``sample(params, u)`` from
uniforms [R, S, d + 1] (inverse CDFs; the first column picks a mixture component or a cell),
and ``token_logp`` = the log density at the family's grid points, [R, 1, N, 1].
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.special import ndtr, ndtri

from ladbench.bandit.policies.network import DTYPE, Policy, stacked_output

MIN_LOG_SCALE = math.log(1e-3)
TINY = 1e-300


def _truncation(mean: Tensor, scale: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Phi(a), Phi(b) and log(Phi(b) - Phi(a)) for the box [-1, 1], computed in the lower tail."""
    upper = (1.0 - mean) / scale
    lower = (-1.0 - mean) / scale
    flip = lower > 0  # both in the upper tail: Phi(b) - Phi(a) = Phi(-a) - Phi(-b)
    low_cdf = torch.where(flip, ndtr(-upper), ndtr(lower))
    high_cdf = torch.where(flip, ndtr(-lower), ndtr(upper))
    return low_cdf, high_cdf, (high_cdf - low_cdf).clamp_min(TINY).log()


def truncated_normal_log_density(y: Tensor, mean: Tensor, log_scale: Tensor) -> Tensor:
    """Per-coordinate log density of N(mean, scale^2) truncated to [-1, 1] (broadcasting)."""
    log_scale = log_scale.clamp_min(MIN_LOG_SCALE)
    scale = log_scale.exp()
    standard = (y - mean) / scale
    return -0.5 * standard.square() - 0.5 * math.log(2 * math.pi) - log_scale - _truncation(mean, scale)[2]


def truncated_normal_sample(uniforms: Tensor, mean: Tensor, log_scale: Tensor) -> Tensor:
    """Inverse-CDF draws of N(mean, scale^2) truncated to [-1, 1]."""
    scale = log_scale.clamp_min(MIN_LOG_SCALE).exp()
    upper, lower = (1.0 - mean) / scale, (-1.0 - mean) / scale
    flip = lower > 0
    low_cdf, high_cdf, _ = _truncation(mean, scale)
    standard = ndtri((low_cdf + uniforms * (high_cdf - low_cdf)).clamp(TINY, 1 - 1e-16))
    standard = torch.where(flip, -standard, standard).clamp(lower, upper)
    return mean + scale * standard


class ContinuousPolicy(Policy):
    def __init__(self, env, config) -> None:
        self.dim, self.grid_points, self.init_std = env.dim, env.grid_points(DTYPE), config.init_std
        self.components, self.bins = config.components, config.bins

    @property
    def draws_per_sample(self) -> int:
        return self.dim + 1

    def token_logp(self, params: dict[str, Tensor]) -> Tensor:
        runs = next(iter(params.values())).shape[0]
        return self.log_density(params, self.grid_points.expand(runs, -1, -1))[:, None, :, None]


class GaussianPolicy(ContinuousPolicy):
    def init(self, generators: list[torch.Generator]) -> dict[str, Tensor]:
        return {
            "mean": stacked_output(generators, (self.dim,), self.init_std),
            "log_scale": torch.full((len(generators), self.dim), math.log(2.0), dtype=DTYPE),
        }

    def log_density(self, params: dict[str, Tensor], y: Tensor) -> Tensor:
        return truncated_normal_log_density(y, params["mean"][:, None], params["log_scale"][:, None]).sum(dim=-1)

    def sample(self, params: dict[str, Tensor], uniforms: Tensor) -> Tensor:
        return truncated_normal_sample(uniforms[..., 1:], params["mean"][:, None], params["log_scale"][:, None])


class MixturePolicy(ContinuousPolicy):
    def init(self, generators: list[torch.Generator]) -> dict[str, Tensor]:
        runs, shape = len(generators), (self.components, self.dim)
        return {
            "logits": torch.zeros(runs, self.components, dtype=DTYPE),
            "mean": torch.stack([torch.rand(shape, generator=g, dtype=DTYPE) * 2 - 1 for g in generators]),
            "log_scale": torch.full((runs, *shape), math.log(0.5), dtype=DTYPE),
        }

    def log_density(self, params: dict[str, Tensor], y: Tensor) -> Tensor:
        per_component = truncated_normal_log_density(
            y[:, :, None], params["mean"][:, None], params["log_scale"][:, None]
        )
        log_weights = torch.log_softmax(params["logits"], dim=-1)[:, None]
        return torch.logsumexp(log_weights + per_component.sum(dim=-1), dim=-1)

    def sample(self, params: dict[str, Tensor], uniforms: Tensor) -> Tensor:
        cumulative = torch.softmax(params["logits"], dim=-1).cumsum(dim=-1)  # [R, K]
        component = torch.searchsorted(cumulative, uniforms[..., 0].contiguous()).clamp_max(
            self.components - 1
        )  # [R, S]
        index = component[..., None].expand(-1, -1, self.dim)
        mean, log_scale = params["mean"].gather(1, index), params["log_scale"].gather(1, index)
        return truncated_normal_sample(uniforms[..., 1:], mean, log_scale)


class DiscretisedPolicy(ContinuousPolicy):
    def init(self, generators: list[torch.Generator]) -> dict[str, Tensor]:
        return {"logits": stacked_output(generators, (self.bins**self.dim,), self.init_std)}

    @property
    def log_cell_volume(self) -> float:
        return self.dim * math.log(2.0 / self.bins)

    def _cell(self, y: Tensor) -> Tensor:
        """Row-major index of the cell holding each point y [..., d]."""
        coordinates = ((y + 1.0) / 2.0 * self.bins).floor().long().clamp(0, self.bins - 1)
        powers = self.bins ** torch.arange(self.dim - 1, -1, -1)
        return (coordinates * powers).sum(dim=-1)

    def log_density(self, params: dict[str, Tensor], y: Tensor) -> Tensor:
        log_probs = torch.log_softmax(params["logits"], dim=-1)
        return log_probs.gather(1, self._cell(y)) - self.log_cell_volume

    def sample(self, params: dict[str, Tensor], uniforms: Tensor) -> Tensor:
        cumulative = torch.softmax(params["logits"], dim=-1).cumsum(dim=-1)
        cell = torch.searchsorted(cumulative, uniforms[..., 0].contiguous()).clamp_max(self.bins**self.dim - 1)
        powers = self.bins ** torch.arange(self.dim - 1, -1, -1)
        coordinates = torch.div(cell[..., None], powers, rounding_mode="floor") % self.bins
        return -1.0 + (coordinates + uniforms[..., 1:]) * 2.0 / self.bins
