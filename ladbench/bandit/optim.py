"""Adam with one learning rate per run, for the batched engines (parameters stacked over runs)."""

from __future__ import annotations

import math

import torch
from torch import Tensor


class Adam:
    """torch.optim.Adam's update (betas 0.9/0.999, eps 1e-8) with ``lr`` a tensor broadcasting
    against the parameter ([R, 1, ...]: one learning rate per run). With b = sqrt(1 - beta2^t),

        m <- m + (1 - beta1) (g - m)          v <- beta2 v + (1 - beta2) g^2
        theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / b + eps)
               = theta - lr b / (1 - beta1^t) * m / (sqrt(v) + eps b)

    (the second form, one op fewer on the parameter-sized tensors, is what runs).
    """

    def __init__(self, parameter: Tensor, lr: Tensor, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.parameter, self.lr, self.betas, self.eps = parameter, lr, betas, eps
        self.first_moment = torch.zeros_like(parameter)
        self.second_moment = torch.zeros_like(parameter)
        self.step_count = 0
        self.run_steps: Tensor | None = None  # per-run step counts, once some run has skipped a step

    def step(self, grad: Tensor) -> None:
        beta1, beta2 = self.betas
        self.step_count += 1
        self.first_moment.lerp_(grad, 1 - beta1)
        self.second_moment.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction2_sqrt = math.sqrt(1 - beta2**self.step_count)
        denominator = self.second_moment.sqrt().add_(self.eps * bias_correction2_sqrt)
        step_size = self.lr * (bias_correction2_sqrt / (1 - beta1**self.step_count))
        self.parameter.addcmul_(self.first_moment.div(denominator), step_size, value=-1)

    def masked_step(self, grad: Tensor, active: Tensor) -> None:
        """``step`` for the runs where ``active`` [R] is True; the others keep their parameters,
        moments and step count, as a run whose update was skipped (dynamic sampling). Each run's
        bias correction uses its own step count."""
        beta1, beta2 = self.betas
        if self.run_steps is None:
            self.run_steps = torch.full(active.shape, float(self.step_count), dtype=grad.dtype)
        self.run_steps += active
        shape = (-1,) + (1,) * (grad.dim() - 1)
        keep = active.reshape(shape)
        self.first_moment.copy_(torch.where(keep, self.first_moment.lerp(grad, 1 - beta1), self.first_moment))
        second = self.second_moment * beta2 + (1 - beta2) * grad * grad
        self.second_moment.copy_(torch.where(keep, second, self.second_moment))
        steps = self.run_steps.clamp_min(1).reshape(shape)
        bias_correction2_sqrt = (1 - beta2**steps).sqrt()
        step_size = self.lr * (bias_correction2_sqrt / (1 - beta1**steps))
        update = self.first_moment / (self.second_moment.sqrt() + self.eps * bias_correction2_sqrt) * step_size
        self.parameter.sub_(torch.where(keep, update, torch.zeros_like(update)))
