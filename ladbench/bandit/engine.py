"""The batched bandit engine: every run of a batch advances together as one [R, K] tensor.

This module trains the tabular families (``envs.TABULAR_ENVS``); ``train`` hands the network
families to ``network_engine``. A *run* is one (seed, eta, lr) of a config; runs that share
everything else share a batch. Per step, for the tabular softmax policy z [R, K] (pi = softmax z,
initialised at the family's base logits, plus N(0, init_std^2) noise):

1. Behaviour policy. ``fixed``: pi_old = the initial policy. ``refresh``: pi_old <- pi every
   ``refresh_interval`` steps (before the update of that step).
2. Batch. ``exact``: all K arms of every run, weighted by pi_old (rows R*K, T = 1), advantages
   from ``expected_advantages``. ``sampled``: G arms per run drawn from pi_old by inverse CDF
   (rows R*G), their rewards observed through the family's noise (``observe``), advantages from
   ``group_advantages`` of the group's observed rewards. The batch is formed once per step and
   used for ``inner_epochs`` updates (PPO-style; the ratio to pi_old moves after the first).
3. Gradient. The loss's closed-form ``input_grads`` (checked against autograd in the tests),
   scaled by R so that each run's gradient is that of its own loss, then the chain rule through
   the softmax: dL/dz = g - pi * sum(g) where g_a = sum of dL/dlogp over rows of arm a. For
   ``entropy_pg`` the exact entropy H(pi) enters the batch and dH/dz = -pi (log pi + H). For
   ``flowrl`` a scalar log Z per run (its own parameter, initialised to 0) gets dL/dlogZ, and
   pi_ref is the family's base policy.
4. Adam (torch.optim.Adam's update, written out so that lr can differ per run).

Randomness is per run: run r draws its initial logits (``init_std`` > 0) and its samples from
its own generator seeded with its seed, so a run's numbers do not depend on which other runs
share its batch.
"""

from __future__ import annotations

import json
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.envs import TABULAR_ENVS, TabularEnv, build_env
from ladbench.bandit.metrics import entropy, policy_metrics
from ladbench.bandit.targets import method_target
from ladbench.losses import Loss, LossBatch, expected_advantages, group_advantages

DTYPE = torch.float64
SAMPLE_CHUNK = 256  # steps of uniforms drawn at once from each run's generator


@dataclass(frozen=True)
class RunSettings:
    """What may differ between the runs of one batch: the seed, the learning rate, and the
    values of the loss's ``per_run_options`` (those not given take the config's)."""

    seed: int
    lr: float
    loss_options: dict[str, float] = field(default_factory=dict)


def runs_of(config: BanditConfig, seeds: Sequence[int]) -> list[RunSettings]:
    """One run per seed with the config's own learning rate and loss options."""
    per_run = config.loss.build().per_run_options
    options = {name: value for name, value in config.loss.resolved().items() if name in per_run}
    return [RunSettings(seed, config.lr, options) for seed in seeds]


def per_run_loss(config: BanditConfig, runs: Sequence[RunSettings], shape: tuple[int, ...]) -> Loss:
    """The config's loss with each per-run option as a tensor of the runs' values, laid out as
    ``shape``: (R * rows,) for the rows of a loss batch (run-major), (R, 1, ...) to broadcast
    against [R, ...] action tables."""
    loss = config.loss.build()
    resolved = config.loss.resolved()
    rows = math.prod(shape) // len(runs)
    overrides = {}
    for name in loss.per_run_options:
        values = torch.tensor([run.loss_options.get(name, resolved[name]) for run in runs], dtype=DTYPE)
        overrides[name] = values.repeat_interleave(rows).reshape(shape)
    return loss.with_options(**overrides)


@dataclass
class TrainOutput:
    runs: list[RunSettings]
    steps: np.ndarray  # [n_logs] the steps at which curves were logged
    curves: dict[str, np.ndarray]  # metric -> [n_logs, R]
    final_policy: np.ndarray  # [R, K]
    target: np.ndarray  # [R, K] each run's method target
    truth: np.ndarray  # [K]
    rewards: np.ndarray  # [K]
    final_log_z: np.ndarray | None  # [R] FlowRL's learned log Z, None for other methods


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch on one intra-op thread, then restore the setting.

    The engine's tensors are tiny ([R, K] with R*K in the hundreds), so every op is dispatch
    overhead; a second thread only adds synchronisation, and on a loaded 2-core machine the
    spinning threads slowed a 1 s run to 35 s."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class Adam:
    """torch.optim.Adam's update (betas 0.9/0.999, eps 1e-8) with a per-run learning rate."""

    def __init__(self, parameter: Tensor, lr: Tensor, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.parameter, self.lr, self.betas, self.eps = parameter, lr, betas, eps
        self.first_moment = torch.zeros_like(parameter)
        self.second_moment = torch.zeros_like(parameter)
        self.step_count = 0

    def step(self, grad: Tensor) -> None:
        beta1, beta2 = self.betas
        self.step_count += 1
        self.first_moment.mul_(beta1).add_(grad, alpha=1 - beta1)
        self.second_moment.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1**self.step_count
        bias_correction2_sqrt = math.sqrt(1 - beta2**self.step_count)
        denominator = (self.second_moment.sqrt() / bias_correction2_sqrt).add_(self.eps)
        self.parameter.sub_(self.lr / bias_correction1 * self.first_moment / denominator)


def batch_key(config: BanditConfig) -> str:
    """Equal for exactly the configs that may share a batch: all settings equal but the
    learning rate and the loss's per-run options (``RunSettings``)."""
    settings = config.resolved()
    del settings["lr"]
    for name in config.loss.build().per_run_options:
        del settings["loss"][name]
    return json.dumps(settings, sort_keys=True, default=str)


def _initial_logits(env: TabularEnv, n_runs: int, init_std: float, generators: list[torch.Generator]) -> Tensor:
    base = env.base_logits(DTYPE).expand(n_runs, env.n_arms)
    if init_std == 0:
        return base.clone()
    return base + torch.stack([torch.randn(env.n_arms, generator=g, dtype=DTYPE) * init_std for g in generators])


def uniform_columns(config: BanditConfig, env: TabularEnv) -> int:
    """Uniforms per run per step of the sampled estimator: G for the arms, G per noise draw."""
    return config.group_size * (1 + env.noise_draws)


def train(config: BanditConfig, runs: Sequence[RunSettings]) -> TrainOutput:
    """Train every run of ``runs`` under ``config`` (its eta and lr are taken from each run)."""
    if config.env not in TABULAR_ENVS:
        from ladbench.bandit.network_engine import train_network

        return train_network(config, runs)
    runs = list(runs)
    env = build_env(config)
    n_runs, n_arms = len(runs), env.n_arms
    rewards = env.rewards(DTYPE)
    truth = env.ground_truth(DTYPE)
    truth_mode_masses = env.mode_masses(truth)
    ref_log_probs = torch.log_softmax(env.base_logits(DTYPE), dim=-1)
    generators = [torch.Generator().manual_seed(run.seed) for run in runs]

    lr = torch.tensor([run.lr for run in runs], dtype=DTYPE)[:, None]
    logits = _initial_logits(env, n_runs, config.init_std, generators)
    optimizer = Adam(logits, lr)
    rows_per_run = n_arms if config.estimator == "exact" else config.group_size
    loss = per_run_loss(config, runs, (n_runs * rows_per_run,))
    fields = loss.batch_fields()
    uses_log_z = "log_z" in fields
    log_z = torch.zeros(n_runs, dtype=DTYPE)
    log_z_optimizer = Adam(log_z, torch.full((n_runs,), config.logz_lr, dtype=DTYPE))

    old_log_probs = torch.log_softmax(logits, dim=-1)
    target = method_target(per_run_loss(config, runs, (n_runs, 1)), config.advantage, rewards, old_log_probs.exp(),
                           ref_probs=ref_log_probs.exp())
    exact_advantages = expected_advantages(rewards, old_log_probs.exp(), config.advantage)
    uniforms = torch.empty(SAMPLE_CHUNK, 0)

    logged_steps: list[int] = []
    logged: list[dict[str, Tensor]] = []

    def log(step: int, log_probs: Tensor) -> None:
        policy = log_probs.exp()
        logged_steps.append(step)
        logged.append(policy_metrics(policy, target, truth, rewards, env.mode_masses(policy), truth_mode_masses))

    with torch.inference_mode(), single_threaded():
        for step in range(config.steps):
            log_probs = torch.log_softmax(logits, dim=-1)
            if step % config.log_interval == 0:
                log(step, log_probs)
            if config.protocol == "refresh" and step > 0 and step % config.refresh_interval == 0:
                old_log_probs = log_probs.clone()
                exact_advantages = expected_advantages(rewards, old_log_probs.exp(), config.advantage)
            if config.estimator == "sampled" and step % SAMPLE_CHUNK == 0:
                uniforms = draw_uniforms(generators, uniform_columns(config, env))
            for epoch in range(config.inner_epochs):
                if epoch > 0:
                    log_probs = torch.log_softmax(logits, dim=-1)
                batch, arms = make_loss_batch(
                    config, env, rewards, ref_log_probs, log_probs, old_log_probs, exact_advantages, uniforms[step % SAMPLE_CHUNK], log_z, fields
                )
                grads = {name: grad.reshape(n_runs, rows_per_run) * n_runs for name, grad in loss.input_grads(batch).items()}
                optimizer.step(_logit_gradient(grads, batch, arms, log_probs))
                if uses_log_z:
                    log_z_optimizer.step(grads["log_z"].sum(dim=-1))

        final_log_probs = torch.log_softmax(logits, dim=-1)
        log(config.steps, final_log_probs)

    curves = {name: torch.stack([entry[name] for entry in logged]).numpy() for name in logged[0]}
    return TrainOutput(
        runs=runs,
        steps=np.asarray(logged_steps),
        curves=curves,
        final_policy=final_log_probs.exp().numpy(),
        target=target.numpy(),
        truth=truth.numpy(),
        rewards=rewards.numpy(),
        final_log_z=log_z.numpy() if uses_log_z else None,
    )


def _logit_gradient(grads: dict[str, Tensor], batch: LossBatch, arms: Tensor | None, log_probs: Tensor) -> Tensor:
    """dL/dz [R, K] from the loss's per-row gradients [R, rows] (step 3 of the module docstring)."""
    probs = log_probs.exp()
    grad_log_probs = grads["logp"] if arms is None else torch.zeros_like(log_probs).scatter_add_(1, arms, grads["logp"])
    grad_logits = grad_log_probs - probs * grad_log_probs.sum(dim=-1, keepdim=True)
    if "entropy" in grads:
        grad_entropy = grads["entropy"].sum(dim=-1, keepdim=True)
        grad_logits -= grad_entropy * probs * (log_probs + batch.entropy.reshape(grads["entropy"].shape)[:, :1])
    return grad_logits


def draw_uniforms(generators: list[torch.Generator], columns: int) -> Tensor:
    """[SAMPLE_CHUNK, R, columns] uniforms, each run's from its own generator."""
    return torch.stack([torch.rand(SAMPLE_CHUNK, columns, generator=g, dtype=DTYPE) for g in generators], dim=1)


def make_loss_batch(
    config: BanditConfig,
    env: TabularEnv,
    rewards: Tensor,
    ref_log_probs: Tensor,
    log_probs: Tensor,
    old_log_probs: Tensor,
    exact_advantages: Tensor,
    step_uniforms: Tensor,
    log_z: Tensor,
    fields: frozenset[str],
) -> tuple[LossBatch, Tensor | None]:
    """The loss batch of one step for policies log_probs [R, K], and the sampled arms [R, G]
    (None for the exact estimator). Differentiable in log_probs and log_z when they are.
    ``fields``: the optional batch fields the loss reads (``Loss.batch_fields``); pi_ref is the
    family's base policy.
    ``step_uniforms`` [R, G * (1 + env.noise_draws)]: arms from the first G, noise from the rest."""
    n_runs, n_arms = log_probs.shape
    if config.estimator == "exact":
        arms = None
        rows_per_run = n_arms
        batch_logp, batch_old_logp = log_probs, old_log_probs
        advantages, weights = exact_advantages, old_log_probs.exp().reshape(-1)
    else:
        rows_per_run = config.group_size
        cumulative = old_log_probs.exp().cumsum(dim=-1)
        arm_uniforms = step_uniforms[:, :rows_per_run]
        arms = torch.searchsorted(cumulative, arm_uniforms * cumulative[:, -1:]).clamp_max(n_arms - 1)
        batch_logp, batch_old_logp = log_probs.gather(1, arms), old_log_probs.gather(1, arms)
        observed = env.observe(rewards[arms], step_uniforms[:, rows_per_run:]) if env.noise_draws else rewards[arms]
        advantages, weights = group_advantages(observed, config.advantage), None
    policy_entropy = entropy(log_probs.exp()) if "entropy" in fields else None
    ref_logp = (ref_log_probs.expand(n_runs, n_arms) if arms is None else ref_log_probs[arms]).reshape(-1, 1)
    batch = LossBatch(
        logp=batch_logp.reshape(-1, 1),
        old_logp=batch_old_logp.reshape(-1, 1),
        advantages=advantages.reshape(-1),
        weights=weights,
        ref_logp=ref_logp if "ref_logp" in fields else None,
        log_z=log_z.repeat_interleave(rows_per_run) if "log_z" in fields else None,
        entropy=policy_entropy.repeat_interleave(rows_per_run) if policy_entropy is not None else None,
    )
    return batch, arms
