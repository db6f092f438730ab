"""The bandit engine: ``train(config, runs)`` trains a batch of runs on any family.

Tabular families (``envs.TabularEnv``) train here with closed-form gradients; network families
in ``network_engine`` (autograd over stacked networks). Both are backends of the one training
loop (``loop``: pi_old protocol, sampling, inner epochs, logging); the runs of a batch are
``runs.RunSettings`` (seed, lr, per-run loss options). Per update, for the tabular softmax policy
z [R, K] (pi = softmax z, initialised at the family's base logits plus N(0, init_std^2) noise
from each run's generator):

1. Rows (``TabularBackend.batch``). ``exact``: all K arms of every run, weighted by pi_old (rows
   R*K, T = 1), advantages from ``expected_advantages``; formed once per pi_old. ``sampled``: G
   arms per run drawn from pi_old by inverse CDF (rows R*G), their rewards observed through the
   family's noise (``observe``), advantages from ``group_advantages`` of the group's observed
   rewards; with ``dynamic_sampling`` a run whose G rewards are all equal skips the step (its
   Adam state too: ``Adam.masked_step``).
2. Gradient. The loss's closed-form ``input_grads`` (checked against autograd in the tests),
   scaled by R so that each run's gradient is that of its own loss, then the chain rule through
   the softmax: dL/dz = g - pi * sum(g) where g_a = sum of dL/dlogp over rows of arm a. For
   ``entropy_pg`` the exact entropy H(pi) enters the batch and dH/dz = -pi (log pi + H). For
   ``flowrl`` a scalar log Z per run (its own parameter, initialised to 0) gets dL/dlogZ, and
   pi_ref is the family's base policy.
3. Adam (``optim.Adam``: torch.optim.Adam's update with one learning rate per run).

The per-seed autograd reference (``autograd_loop``) shares step 1 and replaces steps 2-3 by
autograd and torch.optim.Adam.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.envs import FAMILIES, TabularEnv, build_env
from ladbench.bandit.loop import Progress, StepBatch, TrainOutput, Yardstick, drop_equal_reward_groups, train_loop
from ladbench.bandit.metrics import entropy
from ladbench.bandit.network_engine import NetworkBackend
from ladbench.bandit.optim import Adam
from ladbench.bandit.runs import DTYPE, RunSettings, batch_key, generators_of, per_run_loss, runs_of
from ladbench.bandit.targets import method_target
from ladbench.losses import LossBatch, expected_advantages, group_advantages

__all__ = ["RunSettings", "TrainOutput", "batch_key", "runs_of", "train"]  # the engine's interface


def train(config: BanditConfig, runs: Sequence[RunSettings], progress: Progress | None = None) -> TrainOutput:
    """Train every run of ``runs`` under ``config`` as one batch (each run's lr and per-run loss
    options are its own); ``progress(steps_done)`` is called as training advances."""
    runs = list(runs)
    tabular = issubclass(FAMILIES[config.env], TabularEnv)
    backend = TabularEngine(config, runs) if tabular else NetworkBackend(config, runs)
    return train_loop(config, runs, backend, progress)


def initial_logits(env: TabularEnv, init_std: float, generators: Sequence[torch.Generator]) -> Tensor:
    """[R, K] the family's base logits, plus N(0, init_std^2) noise from each run's generator."""
    base = env.base_logits(DTYPE).expand(len(generators), env.n_arms)
    if init_std == 0:
        return base.clone()
    return base + torch.stack([torch.randn(env.n_arms, generator=g, dtype=DTYPE) * init_std for g in generators])


class TabularBackend:
    """A batch of runs of a tabular family, softmax policies z [R, K]: their behaviour policy and
    rows (step 1). Subclasses own the update: closed form (``TabularEngine``) or autograd
    (``autograd_loop.AutogradReference``)."""

    uses_autograd = False

    def __init__(self, config: BanditConfig, runs: Sequence[RunSettings]) -> None:
        env = build_env(config)
        assert isinstance(env, TabularEnv)
        self.config, self.env, self.n_runs = config, env, len(runs)
        self.rewards = env.rewards(DTYPE)
        self.ref_log_probs = torch.log_softmax(env.base_logits(DTYPE), dim=-1)
        self.generators = generators_of(runs)
        rows_per_run = env.n_arms if config.estimator == "exact" else config.group_size
        self.loss = per_run_loss(config, runs, (self.n_runs * rows_per_run,))
        self.fields = self.loss.batch_fields()
        # uniforms per run and step: G arms, then each noise draw (sampled); one per row for the loss
        self.sample_columns = config.group_size * (1 + env.noise_draws) if config.estimator == "sampled" else 0
        self.uniform_columns = self.sample_columns + (rows_per_run if "uniforms" in self.fields else 0)
        self.logits = initial_logits(env, config.init_std, self.generators)
        self.uses_log_z, self.uses_entropy = "log_z" in self.fields, "entropy" in self.fields
        self.log_z = torch.zeros(self.n_runs, dtype=DTYPE)  # FlowRL's log Z, one per run
        self.refresh()
        target = method_target(
            per_run_loss(config, runs, (self.n_runs, 1)),
            config.advantage,
            self.rewards,
            self.old_probs,
            ref_probs=self.ref_log_probs.exp(),
        )
        self.yardstick = Yardstick(target, env.ground_truth(DTYPE), self.rewards, env.mode_masses)

    def log_probs(self) -> Tensor:
        return torch.log_softmax(self.logits, dim=-1)

    def refresh(self) -> None:
        """pi_old <- pi; under the exact estimator its rows are formed here, once."""
        self.old_log_probs = self.log_probs().detach()
        self.old_probs = self.old_log_probs.exp()
        if self.config.estimator == "exact":
            advantages = expected_advantages(self.rewards, self.old_probs, self.config.advantage)
            ref = self.ref_log_probs.expand(self.n_runs, -1) if "ref_logp" in self.fields else None
            rewards = self.rewards.expand(self.n_runs, -1) if "rewards" in self.fields else None
            self.exact_rows = StepBatch.build(None, self.old_log_probs, advantages, self.old_probs, ref, rewards)

    def sampled_rows(self, uniforms: Tensor) -> StepBatch:
        """G arms per run drawn from pi_old with uniforms [R, G * (1 + noise_draws)]: arms by
        inverse CDF from the first G, reward noise from the rest."""
        group = self.config.group_size
        cumulative = self.old_probs.cumsum(dim=-1)
        arms = torch.searchsorted(cumulative, uniforms[:, :group] * cumulative[:, -1:]).clamp_max(self.env.n_arms - 1)
        observed = (
            self.env.observe(self.rewards[arms], uniforms[:, group:]) if self.env.noise_draws else self.rewards[arms]
        )
        ref = self.ref_log_probs[arms] if "ref_logp" in self.fields else None
        weights, active = drop_equal_reward_groups(observed) if self.config.dynamic_sampling else (None, None)
        return StepBatch.build(
            arms,
            self.old_log_probs.gather(1, arms),
            group_advantages(observed, self.config.advantage),
            weights,
            ref,
            observed if "rewards" in self.fields else None,
            active,
        )

    def policy_rows(self, batch: StepBatch, log_probs: Tensor) -> LossBatch:
        """The loss batch of ``batch``'s rows under the policies log_probs [R, K]."""
        arms = batch.selection
        return batch.with_policy(
            log_probs if arms is None else log_probs.gather(1, arms),
            log_z=self.log_z if self.uses_log_z else None,
            entropy=entropy(log_probs.exp()) if self.uses_entropy else None,
        )

    def distribution(self) -> Tensor:
        return self.log_probs().detach().exp()

    def final_log_z(self) -> Tensor | None:
        return self.log_z if self.uses_log_z else None


class TabularEngine(TabularBackend):
    """The closed-form update of the module docstring (steps 2 and 3), all runs at once."""

    def __init__(self, config: BanditConfig, runs: Sequence[RunSettings]) -> None:
        super().__init__(config, runs)
        self.optimizer = Adam(self.logits, torch.tensor([run.lr for run in runs], dtype=DTYPE)[:, None])
        self.log_z_optimizer = Adam(self.log_z, torch.full((self.n_runs,), config.logz_lr, dtype=DTYPE))
        self.prepared_batch: StepBatch | None = None  # the batch whose fixed_batch_grads are batch_grads

    def update(self, batch: StepBatch) -> None:
        n_runs, log_probs = self.n_runs, self.log_probs()
        if batch is not self.prepared_batch:  # a new batch: each pi_old (exact) or each step (sampled)
            self.prepared_batch, self.batch_grads = batch, self.loss.fixed_batch_grads(batch.rows)
        grads = self.batch_grads(self.policy_rows(batch, log_probs))
        grad_log_probs = grads["logp"].reshape(n_runs, -1) * n_runs
        if batch.selection is not None:  # g_a: the rows' gradients summed per arm
            grad_log_probs = torch.zeros_like(log_probs).scatter_add_(1, batch.selection, grad_log_probs)
        probs = log_probs.exp()
        grad_logits = torch.addcmul(grad_log_probs, probs, grad_log_probs.sum(dim=-1, keepdim=True), value=-1)
        if "entropy" in grads:  # entropy_pg differentiates the entropy it reads (entropy_adv does not)
            grad_entropy = (grads["entropy"].reshape(n_runs, -1) * n_runs).sum(dim=-1, keepdim=True)
            grad_logits -= grad_entropy * probs * (log_probs + batch.rows.entropy.reshape(n_runs, -1)[:, :1])
        grad_log_z = (grads["log_z"].reshape(n_runs, -1) * n_runs).sum(dim=-1) if self.uses_log_z else None
        if batch.active is None:
            self.optimizer.step(grad_logits)
            if self.uses_log_z:
                self.log_z_optimizer.step(grad_log_z)
            return
        self.optimizer.masked_step(grad_logits, batch.active)
        if self.uses_log_z:
            self.log_z_optimizer.masked_step(grad_log_z, batch.active)
