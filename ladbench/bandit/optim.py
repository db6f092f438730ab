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

    def step(self, grad: Tensor) -> None:
        beta1, beta2 = self.betas
        self.step_count += 1
        self.first_moment.lerp_(grad, 1 - beta1)
        self.second_moment.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction2_sqrt = math.sqrt(1 - beta2**self.step_count)
        denominator = self.second_moment.sqrt().add_(self.eps * bias_correction2_sqrt)
        step_size = self.lr * (bias_correction2_sqrt / (1 - beta1**self.step_count))
        self.parameter.addcmul_(self.first_moment.div(denominator), step_size, value=-1)
