"""The batched autograd engine of the network families (contextual, continuous, sequence).

All runs of a batch advance together: every parameter is stacked over runs ([R, ...], see
``policies.network``), the policy is evaluated for all runs with batched tensor ops, and one
backward pass gives every run's gradient (no Python loop over runs). Per step:

1. Behaviour policy. ``fixed``: pi_old = the initial network. ``refresh``: pi_old <- the current
   network every ``refresh_interval`` steps. pi_old is kept as its per-token log-probabilities
   on the evaluation set ([R, C, N, T]), its outcome probabilities [R, C, N] and, for
   continuous actions, a copy of its parameters (to sample from it and score samples).
2. Batch. ``exact``: every outcome of every context, weighted by pi_old (for continuous
   actions, the grid cells: the midpoint-rule quadrature of the expected loss), advantages
   from ``expected_advantages`` per context. ``sampled``: G outcomes per (run, context) drawn
   from pi_old by inverse CDF (continuous: G actions from pi_old's own sampler, scored by their
   log densities and rewarded by r(y)), advantages from ``group_advantages`` per context.
   Sequences contribute T = L per-token log-probabilities per row (the loss's ratio_level and
   aggregation options apply); other families T = 1.
3. Updates. ``inner_epochs`` times on the same batch: the loss (times R, so that each run's
   gradient is that of its own loss; every run has the same total row weight), autograd, and
   the engine's per-run Adam. ``entropy_pg`` gets the exact entropy of the whole action
   distribution per context (grid-cell entropy for continuous actions); ``flowrl`` a learned
   log Z per (run, context) and pi_ref the uniform base policy.

Runs draw their initial parameters and their samples from their own generators (seeded with
their seeds), so a run's numbers do not depend on its batch-mates.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import DTYPE, SAMPLE_CHUNK, Adam, RunSettings, TrainOutput, draw_uniforms, per_run_loss, single_threaded
from ladbench.bandit.envs import NetworkEnv, build_env
from ladbench.bandit.metrics import entropy as policy_entropy
from ladbench.bandit.metrics import policy_metrics
from ladbench.bandit.policies import make_policy
from ladbench.bandit.targets import method_target
from ladbench.losses import LossBatch, expected_advantages, group_advantages


@dataclass
class Behaviour:
    """pi_old: token log-probs [R, C, N, T] and outcome probabilities [R, C, N] on the
    evaluation set, its exact advantages [R, C, N], and (continuous) its parameters."""

    token_logp: Tensor
    probs: Tensor
    advantages: Tensor
    params: dict[str, Tensor]


def outcome_log_probs(token_logp: Tensor, env: NetworkEnv) -> Tensor:
    """[R, C, N] log-probabilities of the outcomes (cells: density x volume, renormalised)."""
    return torch.log_softmax(token_logp.sum(dim=-1) + env.log_cell_volume, dim=-1)


class NetworkTrainer:
    """One batch of runs of a network family: its state and the steps of the module docstring."""

    def __init__(self, config: BanditConfig, runs: list[RunSettings]) -> None:
        self.config, self.runs = config, runs
        self.env = env = build_env(config)
        self.policy = make_policy(config, env)
        self.n_runs, self.n_contexts = len(runs), env.n_contexts
        self.rewards, self.truth = env.rewards(DTYPE), env.ground_truth(DTYPE)  # [C, N]
        self.truth_mode_masses = env.mode_masses(self.truth)
        self.ref_token_logp = env.ref_token_logp(DTYPE)  # [C, N, T]
        self.generators = [torch.Generator().manual_seed(run.seed) for run in runs]
        self.continuous = hasattr(self.policy, "sample")

        lr = torch.tensor([run.lr for run in runs], dtype=DTYPE)
        self.params = {name: value.requires_grad_() for name, value in self.policy.init(self.generators).items()}
        self.optimizers = [Adam(value, lr.reshape(-1, *[1] * (value.dim() - 1))) for value in self.params.values()]
        group = env.n_outcomes if config.estimator == "exact" else config.group_size
        self.loss_fn = per_run_loss(config, runs, (self.n_runs * self.n_contexts * group,))
        self.fields = self.loss_fn.batch_fields()
        self.uses_log_z = "log_z" in self.fields
        self.log_z = torch.zeros(self.n_runs, self.n_contexts, dtype=DTYPE, requires_grad=self.uses_log_z)
        self.log_z_optimizer = Adam(self.log_z, torch.full((self.n_runs, 1), config.logz_lr, dtype=DTYPE))

        self.columns = config.group_size * (self.policy.draws_per_sample if self.continuous else self.n_contexts)
        self.old = self.behaviour()
        ref_probs = outcome_log_probs(self.ref_token_logp[None], env).exp()[0]
        self.target = method_target(per_run_loss(config, runs, (self.n_runs, 1, 1)), config.advantage, self.rewards,
                                    self.old.probs, ref_probs=ref_probs, tokens=env.tokens)
        self.logged_steps: list[int] = []
        self.logged: list[dict[str, Tensor]] = []

    def behaviour(self) -> Behaviour:
        """A snapshot of the current policy as pi_old."""
        with torch.no_grad():
            token_logp = self.policy.token_logp(self.params)
            probs = outcome_log_probs(token_logp, self.env).exp()
            frozen = {name: value.detach().clone() for name, value in self.params.items()} if self.continuous else {}
            return Behaviour(token_logp, probs, expected_advantages(self.rewards, probs, self.config.advantage), frozen)

    def distribution(self) -> Tensor:
        """[R, C, N] the current policy's outcome probabilities."""
        with torch.no_grad():
            return outcome_log_probs(self.policy.token_logp(self.params), self.env).exp()

    def log(self, step: int) -> None:
        probs = self.distribution()
        self.logged_steps.append(step)
        self.logged.append(policy_metrics(probs, self.target, self.truth, self.rewards, self.env.mode_masses(probs),
                                          self.truth_mode_masses))

    def step_batch(self, step_uniforms: Tensor) -> tuple[Tensor | None, Tensor, Tensor, Tensor | None, Tensor]:
        """(gather index or sampled actions, old token log-probs, advantages, weights, ref log-probs) of one step."""
        config, env, old, n_runs, group_size = self.config, self.env, self.old, self.n_runs, self.config.group_size
        if config.estimator == "exact":
            return None, old.token_logp, old.advantages, old.probs, self.ref_token_logp.expand_as(old.token_logp)
        if self.continuous:
            actions = self.policy.sample(old.params, step_uniforms.reshape(n_runs, group_size, -1))
            with torch.no_grad():
                old_logp = self.policy.log_density(old.params, actions)[:, None, :, None]
            advantages = group_advantages(env.reward_at(actions)[:, None], config.advantage)
            return actions, old_logp, advantages, None, self.ref_token_logp[:, :1].expand(n_runs, 1, group_size, 1)
        cumulative = old.probs.cumsum(dim=-1)
        uniforms = step_uniforms.reshape(n_runs, self.n_contexts, group_size)
        index = torch.searchsorted(cumulative, uniforms * cumulative[..., -1:]).clamp_max(env.n_outcomes - 1)
        token_index = index[..., None].expand(-1, -1, -1, env.tokens)
        advantages = group_advantages(self.rewards.expand(n_runs, -1, -1).gather(2, index), config.advantage)
        ref = self.ref_token_logp.expand(n_runs, -1, -1, -1).gather(2, token_index)
        return index, old.token_logp.gather(2, token_index), advantages, None, ref

    def batch_logp(self, full_logp: Tensor | None, selection: Tensor | None) -> Tensor:
        """Token log-probs [R, C, rows, T] of the batch's rows under the current parameters;
        ``full_logp`` is the current policy on the whole evaluation set (None only when the rows
        are sampled continuous actions, which are scored by their densities instead)."""
        if selection is None:
            return full_logp
        if self.continuous:
            return self.policy.log_density(self.params, selection)[:, None, :, None]
        return full_logp.gather(2, selection[..., None].expand(-1, -1, -1, self.env.tokens))

    def update(self, selection: Tensor | None, old_logp: Tensor, advantages: Tensor, weights: Tensor | None, ref_logp: Tensor) -> None:
        """One optimiser update of every run on the step's batch."""
        needs_entropy = "entropy" in self.fields
        needs_full = selection is None or needs_entropy or not self.continuous
        full_logp = self.policy.token_logp(self.params) if needs_full else None  # one evaluation per update
        logp = self.batch_logp(full_logp, selection)
        shape, rows, tokens = logp.shape[:3], logp.shape[:3].numel(), self.env.tokens
        entropy = None
        if needs_entropy:
            entropy = policy_entropy(outcome_log_probs(full_logp, self.env).exp())[..., None].expand(shape).reshape(rows)
        batch = LossBatch(
            logp=logp.reshape(rows, tokens),
            old_logp=old_logp.reshape(rows, tokens),
            advantages=advantages.reshape(rows),
            weights=None if weights is None else weights.reshape(rows),
            ref_logp=ref_logp.reshape(rows, tokens) if "ref_logp" in self.fields else None,
            log_z=self.log_z[..., None].expand(shape).reshape(rows) if self.uses_log_z else None,
            entropy=entropy,
        )
        loss, _ = self.loss_fn.loss_and_metrics(batch)
        leaves = [*self.params.values(), self.log_z] if self.uses_log_z else list(self.params.values())
        grads = torch.autograd.grad(loss * self.n_runs, leaves)
        with torch.no_grad():
            for optimizer, grad in zip(self.optimizers, grads, strict=False):
                optimizer.step(grad)
            if self.uses_log_z:
                self.log_z_optimizer.step(grads[-1])

    def train(self) -> TrainOutput:
        config = self.config
        uniforms = torch.empty(SAMPLE_CHUNK, self.n_runs, 0)
        with single_threaded():
            for step in range(config.steps):
                if step % config.log_interval == 0:
                    self.log(step)
                if config.protocol == "refresh" and step > 0 and step % config.refresh_interval == 0:
                    self.old = self.behaviour()
                if config.estimator == "sampled" and step % SAMPLE_CHUNK == 0:
                    uniforms = draw_uniforms(self.generators, self.columns)
                batch = self.step_batch(uniforms[step % SAMPLE_CHUNK])
                for _ in range(config.inner_epochs):
                    self.update(*batch)
            self.log(config.steps)
            final = self.distribution()
        curves = {name: torch.stack([entry[name] for entry in self.logged]).numpy() for name in self.logged[0]}
        return TrainOutput(
            runs=self.runs,
            steps=np.asarray(self.logged_steps),
            curves=curves,
            final_policy=final.reshape(self.n_runs, -1).numpy(),
            target=self.target.reshape(self.n_runs, -1).numpy(),
            truth=self.truth.reshape(-1).numpy(),
            rewards=self.rewards.reshape(-1).numpy(),
            final_log_z=self.log_z.detach().mean(dim=1).numpy() if self.uses_log_z else None,
        )


def train_network(config: BanditConfig, runs: Sequence[RunSettings]) -> TrainOutput:
    """Train every run of ``runs`` (a network family) as one batch; FlowRL's reported log Z is
    the mean over contexts."""
    return NetworkTrainer(config, list(runs)).train()
