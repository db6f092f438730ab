"""The batched autograd engine of the network families (contextual, continuous, sequence).

A backend of the one training loop (``loop``: pi_old protocol, sampling, inner epochs, logging),
to which ``engine.train`` hands the network families. All runs of a batch advance together:
every parameter is stacked over runs ([R, ...], see ``policies.network``), the policy is
evaluated for all runs with batched tensor ops, and one backward pass gives every run's gradient
(no Python loop over runs). Per step:

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
   aggregation options apply); other families T = 1. With ``dynamic_sampling`` the (run,
   context) groups whose rewards are all equal are dropped (``loop.drop_equal_reward_groups``).
3. Updates. ``inner_epochs`` times on the same batch: the loss (times R, so that each run's
   gradient is that of its own loss; every run has the same total row weight), autograd, and
   the engine's per-run Adam. ``entropy_pg`` gets the exact entropy of the whole action
   distribution per context (grid-cell entropy for continuous actions); ``flowrl`` a learned
   log Z per (run, context) and pi_ref the uniform base policy.

Runs draw their initial parameters and their samples from their own generators (seeded with
their seeds), so a run's numbers do not depend on its batch-mates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.envs import NetworkEnv, build_env
from ladbench.bandit.loop import StepBatch, Yardstick, drop_equal_reward_groups
from ladbench.bandit.metrics import entropy as policy_entropy
from ladbench.bandit.optim import Adam
from ladbench.bandit.policies import make_policy
from ladbench.bandit.runs import DTYPE, RunSettings, generators_of, per_run_loss
from ladbench.bandit.targets import method_target
from ladbench.losses import expected_advantages, group_advantages


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


class NetworkBackend:
    """One batch of runs of a network family: its state, its rows (step 2) and updates (step 3)."""

    uses_autograd = True

    def __init__(self, config: BanditConfig, runs: Sequence[RunSettings]) -> None:
        self.config = config
        self.env = env = build_env(config)
        self.policy = make_policy(config, env)
        self.n_runs, self.n_contexts = len(runs), env.n_contexts
        self.rewards, self.truth = env.rewards(DTYPE), env.ground_truth(DTYPE)  # [C, N]
        self.ref_token_logp = env.ref_token_logp(DTYPE)  # [C, N, T]
        self.generators = generators_of(runs)
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

        # uniforms per run and step: the sampled estimator's, then one per row and token for the loss
        draws = config.group_size * (self.policy.draws_per_sample if self.continuous else self.n_contexts)
        self.sample_columns = draws if config.estimator == "sampled" else 0
        loss_columns = self.n_contexts * group * env.tokens if "uniforms" in self.fields else 0
        self.uniform_columns = self.sample_columns + loss_columns
        self.refresh()
        ref_probs = outcome_log_probs(self.ref_token_logp[None], env).exp()[0]
        target = method_target(
            per_run_loss(config, runs, (self.n_runs, 1, 1)),
            config.advantage,
            self.rewards,
            self.old.probs,
            ref_probs=ref_probs,
            tokens=env.tokens,
        )
        self.yardstick = Yardstick(target, self.truth, self.rewards, env.mode_masses, contexts=True)

    def refresh(self) -> None:
        """pi_old <- a snapshot of the current policy; under the exact estimator its rows are formed here, once."""
        with torch.no_grad():
            token_logp = self.policy.token_logp(self.params)
            probs = outcome_log_probs(token_logp, self.env).exp()
            frozen = {name: value.detach().clone() for name, value in self.params.items()} if self.continuous else {}
            self.old = Behaviour(
                token_logp, probs, expected_advantages(self.rewards, probs, self.config.advantage), frozen
            )
        if self.config.estimator == "exact":
            ref = self.ref_token_logp.expand_as(token_logp) if "ref_logp" in self.fields else None
            rewards = self.rewards.expand_as(probs) if "rewards" in self.fields else None
            self.exact_rows = StepBatch.build(None, token_logp, self.old.advantages, probs, ref, rewards)

    def distribution(self) -> Tensor:
        """[R, C, N] the current policy's outcome probabilities."""
        with torch.no_grad():
            return outcome_log_probs(self.policy.token_logp(self.params), self.env).exp()

    def sampled_rows(self, uniforms: Tensor) -> StepBatch:
        """G outcomes per (run, context) drawn from pi_old (continuous: G actions per run from
        pi_old's sampler, scored by their log densities)."""
        env, old, n_runs, group_size = self.env, self.old, self.n_runs, self.config.group_size
        wants_ref = "ref_logp" in self.fields
        if self.continuous:
            actions = self.policy.sample(old.params, uniforms.reshape(n_runs, group_size, -1))
            with torch.no_grad():
                old_logp = self.policy.log_density(old.params, actions)[:, None, :, None]
            observed = env.reward_at(actions)[:, None]
            ref = self.ref_token_logp[:, :1].expand(n_runs, 1, group_size, 1) if wants_ref else None
            return self._rows(actions, old_logp, observed, ref)
        cumulative = old.probs.cumsum(dim=-1)
        index = torch.searchsorted(
            cumulative, uniforms.reshape(n_runs, self.n_contexts, group_size) * cumulative[..., -1:]
        )
        index = index.clamp_max(env.n_outcomes - 1)
        token_index = index[..., None].expand(-1, -1, -1, env.tokens)
        observed = self.rewards.expand(n_runs, -1, -1).gather(2, index)
        ref = self.ref_token_logp.expand(n_runs, -1, -1, -1).gather(2, token_index) if wants_ref else None
        return self._rows(index, old.token_logp.gather(2, token_index), observed, ref)

    def _rows(self, selection: Tensor, old_logp: Tensor, observed: Tensor, ref: Tensor | None) -> StepBatch:
        """Sampled rows with observed rewards [R, C, G]: their group advantages, and with
        dynamic sampling the weights and active runs of ``loop.drop_equal_reward_groups``."""
        weights, active = drop_equal_reward_groups(observed) if self.config.dynamic_sampling else (None, None)
        return StepBatch.build(
            selection,
            old_logp,
            group_advantages(observed, self.config.advantage),
            weights,
            ref,
            observed if "rewards" in self.fields else None,
            active,
        )

    def batch_logp(self, full_logp: Tensor | None, selection: Tensor | None) -> Tensor:
        """Token log-probs [R, C, rows, T] of the batch's rows under the current parameters;
        ``full_logp`` is the current policy on the whole evaluation set (None only when the rows
        are sampled continuous actions, which are scored by their densities instead)."""
        if selection is None:
            return full_logp
        if self.continuous:
            return self.policy.log_density(self.params, selection)[:, None, :, None]
        return full_logp.gather(2, selection[..., None].expand(-1, -1, -1, self.env.tokens))

    def update(self, batch: StepBatch) -> None:
        """One optimiser update of every run on the step's rows."""
        needs_entropy = "entropy" in self.fields
        needs_full = batch.selection is None or needs_entropy or not self.continuous
        full_logp = self.policy.token_logp(self.params) if needs_full else None  # one evaluation per update
        entropy = policy_entropy(outcome_log_probs(full_logp, self.env).exp()) if needs_entropy else None
        rows = batch.with_policy(
            self.batch_logp(full_logp, batch.selection), log_z=self.log_z if self.uses_log_z else None, entropy=entropy
        )
        loss, _ = self.loss_fn.loss_and_metrics(rows)
        leaves = [*self.params.values(), self.log_z] if self.uses_log_z else list(self.params.values())
        grads = torch.autograd.grad(loss * self.n_runs, leaves)
        with torch.no_grad():
            optimizers = [*self.optimizers, self.log_z_optimizer] if self.uses_log_z else self.optimizers
            for optimizer, grad in zip(optimizers, grads, strict=True):
                if batch.active is None:
                    optimizer.step(grad)
                else:
                    optimizer.masked_step(grad, batch.active)

    def final_log_z(self) -> Tensor | None:
        """FlowRL's learned log Z per run: the mean over contexts."""
        return self.log_z.detach().mean(dim=1) if self.uses_log_z else None
