"""What network policies share: parameters stacked over runs, drawn from each run's generator.

A network policy holds no tensors itself. ``init`` returns a dict of parameters, each of shape
[R, ...] (one slice per run, so R runs are R independent networks evaluated as one batch of
tensor ops, with no loop over runs), and ``token_logp(params)`` gives the per-token
log-probabilities of every outcome of the family's evaluation set, [R, C, N, T].

Initialisation: hidden layers as PyTorch's default (uniform in +-1/sqrt(fan_in)) from each
run's generator; the output layer at zero, so the initial policy is the family's uniform base
policy for every seed (``init_std`` > 0 draws the output layer from N(0, init_std^2) instead).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

DTYPE = torch.float64


def stacked_uniform(generators: list[torch.Generator], shape: tuple[int, ...], fan_in: int) -> Tensor:
    """[R, *shape] uniform in +-1/sqrt(fan_in), each run's slice from its own generator."""
    bound = 1.0 / math.sqrt(fan_in)
    return torch.stack([(torch.rand(shape, generator=g, dtype=DTYPE) * 2.0 - 1.0) * bound for g in generators])


def stacked_output(generators: list[torch.Generator], shape: tuple[int, ...], init_std: float) -> Tensor:
    """[R, *shape] output-layer weights: zero, or N(0, init_std^2) per run."""
    if init_std == 0:
        return torch.zeros(len(generators), *shape, dtype=DTYPE)
    return torch.stack([torch.randn(shape, generator=g, dtype=DTYPE) * init_std for g in generators])


class Policy:
    """Interface of the network policies (see the module docstring)."""

    def init(self, generators: list[torch.Generator]) -> dict[str, Tensor]:
        raise NotImplementedError

    def token_logp(self, params: dict[str, Tensor]) -> Tensor:
        raise NotImplementedError
