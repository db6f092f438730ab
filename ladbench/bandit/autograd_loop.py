"""A straightforward per-seed bandit trainer: autograd through the loss and torch.optim.Adam.

The reference the batched engine is checked against (same trajectories, see the tests) and the
baseline of ``benchmarks/bandit_speed.py``. It builds each step's batch with the engine's
``make_loss_batch``, so the two differ only in what the engine replaces: the closed-form
gradient, the chain rule through the softmax, the hand-written Adam and the batching of runs.
"""

from __future__ import annotations

import numpy as np
import torch

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import DTYPE, SAMPLE_CHUNK, RunSettings, draw_uniforms, make_loss_batch, per_run_loss, uniform_columns
from ladbench.bandit.envs import build_env
from ladbench.bandit.metrics import policy_metrics
from ladbench.bandit.targets import method_target
from ladbench.losses import expected_advantages


def train_one_seed(config: BanditConfig, run: RunSettings) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Final policy [K] and the logged metric curves of one run."""
    env = build_env(config)
    rewards, truth = env.rewards(DTYPE), env.ground_truth(DTYPE)
    ref_log_probs = torch.log_softmax(env.base_logits(DTYPE), dim=-1)
    generator = torch.Generator().manual_seed(run.seed)
    initial = env.base_logits(DTYPE)[None].clone()
    if config.init_std > 0:
        initial += torch.randn(env.n_arms, generator=generator, dtype=DTYPE)[None] * config.init_std
    logits = initial.clone().requires_grad_()
    log_z = torch.zeros(1, dtype=DTYPE, requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=run.lr)
    log_z_optimizer = torch.optim.Adam([log_z], lr=config.logz_lr)
    rows = env.n_arms if config.estimator == "exact" else config.group_size
    loss_fn = per_run_loss(config, [run], (rows,))
    fields = loss_fn.batch_fields()

    old_log_probs = torch.log_softmax(initial, dim=-1)
    target = method_target(per_run_loss(config, [run], (1, 1)), config.advantage, rewards, old_log_probs.exp(),
                           ref_probs=ref_log_probs.exp())
    exact_advantages = expected_advantages(rewards, old_log_probs.exp(), config.advantage)
    uniforms = torch.empty(SAMPLE_CHUNK, 0)
    curves: dict[str, list[float]] = {}

    def log(log_probs: torch.Tensor) -> None:
        policy = log_probs.detach().exp()
        metrics = policy_metrics(policy, target, truth, rewards, env.mode_masses(policy), env.mode_masses(truth))
        for name, value in metrics.items():
            curves.setdefault(name, []).append(float(value))

    for step in range(config.steps):
        log_probs = torch.log_softmax(logits, dim=-1)
        if step % config.log_interval == 0:
            log(log_probs)
        if config.protocol == "refresh" and step > 0 and step % config.refresh_interval == 0:
            old_log_probs = log_probs.detach().clone()
            exact_advantages = expected_advantages(rewards, old_log_probs.exp(), config.advantage)
        if config.estimator == "sampled" and step % SAMPLE_CHUNK == 0:
            uniforms = draw_uniforms([generator], uniform_columns(config, env))
        for epoch in range(config.inner_epochs):
            if epoch > 0:
                log_probs = torch.log_softmax(logits, dim=-1)
            batch, _ = make_loss_batch(
                config, env, rewards, ref_log_probs, log_probs, old_log_probs, exact_advantages, uniforms[step % SAMPLE_CHUNK], log_z, fields
            )
            loss, _ = loss_fn.loss_and_metrics(batch)
            optimizer.zero_grad()
            log_z_optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if "log_z" in fields:
                log_z_optimizer.step()
    final = torch.log_softmax(logits, dim=-1)
    log(final)
    return final.detach().exp()[0].numpy(), curves
