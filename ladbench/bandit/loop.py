"""The bandit training loop: one loop for every engine.

The tabular engine (closed-form gradients, ``engine``), the network engine (autograd over
stacked networks, ``network_engine``) and the per-seed autograd reference (``autograd_loop``)
differ only in how they evaluate and update a policy. They plug in here as a :class:`Backend`;
this loop owns everything else. R runs advance together (the reference: R = 1). For each step
t = 0, ..., steps - 1:

1. Log. If t % log_interval == 0 the current policy is kept (and after the last step); the
   metrics of the kept policies are computed in blocks (``Yardstick``), off the step path.
2. Behaviour policy. ``fixed``: pi_old = the initial policy for the whole run. ``refresh``:
   pi_old <- pi every ``refresh_interval`` steps (t > 0, before the update of step t).
3. Batch. ``exact``: every outcome, weighted by pi_old. ``sampled``: rows drawn from pi_old with
   the step's uniforms, ``uniform_columns`` per run (then, for a loss that reads ``uniforms``,
   one per row and token, under either estimator); run r draws them from its own generator
   (seeded with its seed), SAMPLE_CHUNK steps at a time, so its samples do not depend on its
   batch-mates. The batch is formed once per step (``StepBatch``); with ``dynamic_sampling``
   its groups whose observed rewards are all equal are dropped (``drop_equal_reward_groups``).
4. Updates. ``inner_epochs`` optimiser updates on that batch (PPO-style: after the first, the
   ratio pi / pi_old of the rows moves away from 1).

``progress(steps_done)`` is called before every PROGRESS_INTERVAL-th step and at the end. A
KeyboardInterrupt (Ctrl-C) during training becomes :class:`TrainingInterrupted`, which says how
many steps were done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.metrics import Distribution, Scratch, policy_metrics
from ladbench.bandit.runs import DTYPE, RunSettings
from ladbench.losses import LossBatch

SAMPLE_CHUNK = 256  # steps of uniforms drawn at once from each run's generator
PROGRESS_INTERVAL = 64  # steps between progress callbacks
# numbers of kept probabilities measured together: few calls, while the block and its Scratch (5 x 4 MB)
# stay in a 32 MB L3 cache (1 << 19 measured 10% faster than 1 << 17 and than 1 << 20)
METRIC_BLOCK = 1 << 19


@dataclass
class StepBatch:
    """The rows of one step (step 3), formed from pi_old and reused by the step's inner epochs.

    ``selection``: which outcomes the rows are: None for every outcome (exact estimator), else
    the sampled outcomes' indices ([R, G] tabular, [R, C, G] with contexts) or the sampled
    continuous actions ([R, G, D]). ``rows``: the loss batch of those rows, laid out [R, ...,
    rows] run-major; its constant fields (old_logp, advantages, weights, ref_logp, rewards, and
    the structure: ``runs`` = R, ``group_size`` = the rows of one run and context) are set once,
    ``with_policy`` puts the current policy's fields into it before each update, and
    ``with_uniforms`` the step's uniforms for a loss with a random part. ``active``: [R] the
    runs that update this step (dynamic sampling skips a run with no informative group); None: all.
    """

    selection: Tensor | None
    rows: LossBatch
    layout: torch.Size  # [R, (C,) rows]: where the per-run (per-context) values of log_z and entropy go
    active: Tensor | None = None

    @classmethod
    def build(
        cls,
        selection: Tensor | None,
        old_logp: Tensor,
        advantages: Tensor,
        weights: Tensor | None,
        ref_logp: Tensor | None,
        rewards: Tensor | None = None,
        active: Tensor | None = None,
    ) -> StepBatch:
        """From the rows' pi_old log-probabilities ([R, ..., rows] or [R, ..., rows, T]), their
        advantages, weights and rewards ([R, ..., rows]) and pi_ref log-probabilities (like
        old_logp; ref_logp and rewards None when the loss does not read them)."""
        count = advantages.numel()
        old_logp = old_logp.reshape(count, -1)
        rows = LossBatch(
            logp=old_logp,  # a placeholder of the right shape until with_policy
            old_logp=old_logp,
            advantages=advantages.reshape(count),
            weights=None if weights is None else weights.reshape(count),
            ref_logp=None if ref_logp is None else ref_logp.reshape(count, -1),
            rewards=None if rewards is None else rewards.reshape(count),
            group_size=advantages.shape[-1],
            runs=advantages.shape[0],
        )
        return cls(selection, rows, advantages.shape, active)

    def with_uniforms(self, uniforms: Tensor) -> StepBatch:
        """The batch with the loss's uniforms [R, rows * T] (each run's from its own generator)
        laid out like the rows' tokens. Set in place."""
        self.rows.uniforms = uniforms.reshape(self.rows.old_logp.shape)
        return self

    def with_policy(self, logp: Tensor, log_z: Tensor | None = None, entropy: Tensor | None = None) -> LossBatch:
        """The loss batch with log pi_theta of the rows ``logp`` (shaped like old_logp before the
        reshape), and FlowRL's log Z and the policy's entropy, one per run (and context), [R, (C)],
        broadcast over their rows. Set in place: the hot path builds no new batch per update."""
        rows = self.rows
        rows.logp = logp.reshape(rows.old_logp.shape)
        if log_z is not None:
            rows.log_z = self._per_row(log_z)
        if entropy is not None:
            rows.entropy = self._per_row(entropy)
        return rows

    def _per_row(self, values: Tensor) -> Tensor:
        return values[..., None].expand(self.layout).reshape(-1)


@dataclass(frozen=True)
class Yardstick:
    """What logged policies are measured against (``bandit.metrics``): each run's target
    [R, (C,) N], the ground truth and the expected rewards [(C,) N], and the family's mode masses;
    ``contexts``: whether the policies have a context axis (metrics averaged over it)."""

    target: Tensor
    truth: Tensor
    rewards: Tensor
    mode_masses: Callable[[Tensor], Tensor]
    contexts: bool = False
    scratch: Scratch = field(default_factory=Scratch, compare=False, repr=False)

    @cached_property
    def _references(self) -> tuple[Distribution, Distribution, np.ndarray]:
        """Target and truth prepared for the distances, and the truth's mode masses: computed
        once, read by every log."""
        return (
            Distribution.of(self.target.numpy()),
            Distribution.of(self.truth.numpy()),
            self.mode_masses(self.truth).numpy(),
        )

    def metrics(self, policies: Tensor) -> dict[str, np.ndarray]:
        """Every metric, [n, R], of kept policies [n, R, (C,) N] (one batched call)."""
        target, truth, truth_mode_masses = self._references
        return policy_metrics(
            policies.numpy(),
            target,
            truth,
            self.rewards.numpy(),
            self.mode_masses(policies).numpy(),
            truth_mode_masses,
            self.contexts,
            self.scratch,
        )


class Backend(Protocol):
    """An engine's side of the loop: its policies, how it forms rows and how it updates."""

    generators: Sequence[torch.Generator]  # one per run, seeded with the run's seed
    uniform_columns: int  # uniforms per run per step: the sampled estimator's, then the loss's (0: none drawn)
    sample_columns: int  # of those, the sampled estimator's (0 under the exact estimator)
    fields: frozenset[str]  # the batch fields the loss reads
    uses_autograd: bool  # False: the loop runs in inference mode
    yardstick: Yardstick
    exact_rows: StepBatch  # under the exact estimator: every outcome weighted by pi_old, formed at refresh

    def refresh(self) -> None:
        """pi_old <- the current policy."""

    def sampled_rows(self, uniforms: Tensor) -> StepBatch:
        """Rows drawn from pi_old with uniforms [R, sample_columns] (the sampled estimator)."""

    def update(self, batch: StepBatch) -> None:
        """One optimiser update of every run on ``batch``."""

    def distribution(self) -> Tensor:
        """[R, ...] the current policy over the evaluation set (no graph)."""

    def final_log_z(self) -> Tensor | None:
        """[R] FlowRL's learned log Z (None for other losses)."""


@dataclass
class TrainOutput:
    """What training a batch of runs gives, as numpy arrays (runs in the order given)."""

    runs: list[RunSettings]
    steps: np.ndarray  # [n_logs] the steps at which curves were logged
    curves: dict[str, np.ndarray]  # metric -> [n_logs, R]
    final_policy: np.ndarray  # [R, K] (contexts flattened: context * arms + arm)
    target: np.ndarray  # [R, K] each run's target
    truth: np.ndarray  # [K]
    rewards: np.ndarray  # [K]
    final_log_z: np.ndarray | None  # [R] FlowRL's learned log Z, None for other methods


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by a KeyboardInterrupt (Ctrl-C) after ``step`` of its ``steps`` steps."""

    def __init__(self, step: int, steps: int) -> None:
        super().__init__(step, steps)  # the arguments, so that it pickles (sweep workers)
        self.step, self.steps = step, steps

    def __str__(self) -> str:
        return f"interrupted at step {self.step} of {self.steps}"


Progress = Callable[[int], None]


def train_loop(
    config: BanditConfig, runs: Sequence[RunSettings], backend: Backend, progress: Progress | None = None
) -> TrainOutput:
    """Train ``backend``'s runs for ``config.steps`` steps (the module docstring's steps 1-4)."""
    draws = backend.uniform_columns > 0
    refresh_interval = config.refresh_interval if config.protocol == "refresh" else 0
    log_interval, inner_epochs = config.log_interval, config.inner_epochs
    curves = CurveLog(backend.yardstick)
    uniforms = torch.empty(0)
    step = 0
    with torch.inference_mode(not backend.uses_autograd), single_threaded():
        try:
            for step in range(config.steps):
                if progress is not None and step % PROGRESS_INTERVAL == 0:
                    progress(step)
                if step % log_interval == 0:
                    curves.keep(step, backend.distribution())
                if refresh_interval and step > 0 and step % refresh_interval == 0:
                    backend.refresh()
                if draws and step % SAMPLE_CHUNK == 0:
                    uniforms = draw_uniforms(backend.generators, backend.uniform_columns)
                batch = step_rows(backend, config.estimator, uniforms[step % SAMPLE_CHUNK] if draws else None)
                for _ in range(inner_epochs):
                    backend.update(batch)
            step = config.steps
            final = backend.distribution()
            curves.keep(step, final)
            if progress is not None:
                progress(step)
        except KeyboardInterrupt:
            raise TrainingInterrupted(step, config.steps) from None
        n_runs, log_z = len(runs), backend.final_log_z()
        return TrainOutput(
            runs=list(runs),
            steps=np.asarray(curves.steps),
            curves=curves.finish(),
            final_policy=final.reshape(n_runs, -1).numpy(),
            target=backend.yardstick.target.reshape(n_runs, -1).numpy(),
            truth=backend.yardstick.truth.reshape(-1).numpy(),
            rewards=backend.yardstick.rewards.reshape(-1).numpy(),
            final_log_z=None if log_z is None else log_z.detach().numpy(),
        )


class CurveLog:
    """The logged steps and their metrics; policies are kept as they come and measured in
    blocks of about METRIC_BLOCK numbers (one batched metric call instead of one per log)."""

    def __init__(self, yardstick: Yardstick) -> None:
        self.yardstick = yardstick
        self.steps: list[int] = []
        self.kept: list[Tensor] = []
        self.blocks: list[dict[str, np.ndarray]] = []

    def keep(self, step: int, policy: Tensor) -> None:
        self.steps.append(step)
        self.kept.append(policy)
        if len(self.kept) * policy.numel() >= METRIC_BLOCK:
            self._measure()

    def _measure(self) -> None:
        self.blocks.append(self.yardstick.metrics(torch.stack(self.kept)))
        self.kept = []

    def finish(self) -> dict[str, np.ndarray]:
        """metric -> [n_logs, R]."""
        if self.kept:
            self._measure()
        return {name: np.concatenate([block[name] for block in self.blocks]) for name in self.blocks[0]}


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch on one intra-op thread, then restore the setting.

    The engines' tensors are small ([R, K] with R*K in the hundreds for the tabular families), so
    every op is mostly dispatch overhead; a second thread only adds synchronisation, and on a
    loaded 2-core machine the spinning threads slowed a 1 s run to 35 s."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def step_rows(backend: Backend, estimator: str, uniforms: Tensor | None) -> StepBatch:
    """Step 3: the exact rows, or rows drawn from pi_old with the first ``sample_columns`` of the
    step's uniforms [R, uniform_columns]; a loss that reads ``uniforms`` gets the rest."""
    batch = backend.exact_rows if estimator == "exact" else backend.sampled_rows(uniforms[:, : backend.sample_columns])
    if "uniforms" in backend.fields:
        batch.with_uniforms(uniforms[:, backend.sample_columns :])
    return batch


def drop_equal_reward_groups(observed: Tensor) -> tuple[Tensor, Tensor]:
    """DAPO's dynamic sampling on observed rewards [R, (C,) G]: (weights [R, (C,) G], active [R]).
    A group whose rewards are all equal gets weight 0; a run's other groups are scaled up so its
    total weight stays C * G, the same as every run's (the loss's batch-wide mean then stays each
    run's own mean). A run with no informative group is inactive: it skips the update (its rows
    keep weight 1, so the others' normalisation does not move)."""
    informative = (observed != observed[..., :1]).any(dim=-1)  # [R, (C)]
    per_run = informative.reshape(informative.shape[0], -1)
    kept = per_run.sum(dim=1)
    active = kept > 0
    scale = (per_run.shape[1] / kept.clamp_min(1)).to(observed.dtype)
    weights = torch.where(active[:, None], per_run * scale[:, None], torch.ones_like(scale)[:, None])
    return weights.reshape(informative.shape)[..., None].expand_as(observed), active


def draw_uniforms(generators: Sequence[torch.Generator], columns: int) -> Tensor:
    """[SAMPLE_CHUNK, R, columns] uniforms, each run's from its own generator."""
    return torch.stack([torch.rand(SAMPLE_CHUNK, columns, generator=g, dtype=DTYPE) for g in generators], dim=1)
