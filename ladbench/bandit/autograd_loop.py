"""A straightforward per-seed bandit trainer: autograd through the loss and torch.optim.Adam.

The reference the batched engine is checked against (same trajectories, see the tests) and the
baseline of ``benchmarks/bandit_speed.py``. It runs in the same loop (``loop``) and forms its
rows like the engine (``engine.TabularBackend``), so the two differ only in what the engine
replaces: the closed-form gradient, the chain rule through the softmax, the hand-written Adam
and the batching of runs.
"""

from __future__ import annotations

import numpy as np
import torch

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import TabularBackend
from ladbench.bandit.loop import StepBatch, train_loop
from ladbench.bandit.runs import RunSettings


class AutogradReference(TabularBackend):
    """One run: the loss's value differentiated by autograd, stepped by torch.optim.Adam."""

    uses_autograd = True

    def __init__(self, config: BanditConfig, run: RunSettings) -> None:
        super().__init__(config, [run])
        self.logits.requires_grad_()
        self.log_z.requires_grad_()
        self.optimizer = torch.optim.Adam([self.logits], lr=run.lr)
        self.log_z_optimizer = torch.optim.Adam([self.log_z], lr=config.logz_lr)

    def update(self, batch: StepBatch) -> None:
        if batch.active is not None and not bool(batch.active[0]):
            return  # dynamic sampling dropped the run's only group: no update, no optimizer step
        loss, _ = self.loss.loss_and_metrics(self.policy_rows(batch, self.log_probs()))
        self.optimizer.zero_grad()
        self.log_z_optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        if self.uses_log_z:
            self.log_z_optimizer.step()

    def final_log_z(self) -> torch.Tensor | None:
        return self.log_z.detach() if self.uses_log_z else None


def train_one_seed(config: BanditConfig, run: RunSettings) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Final policy [K] and the logged metric curves of one run."""
    output = train_loop(config, [run], AutogradReference(config, run))
    return output.final_policy[0], {name: values[:, 0] for name, values in output.curves.items()}
