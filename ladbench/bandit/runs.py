"""The runs of a batch: what may differ between them, and the loss each of them trains.

A *run* is one (seed, lr, per-run loss options) of a config. Configs equal in everything else
share a batch (``batch_key``): their runs advance together as one tensor with a leading run axis,
each with its own learning rate and, through ``per_run_loss``, its own values of the loss's
``per_run_options`` (LAD's eta, entropy_pg's coef) as per-row tensors.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ladbench.bandit.config import BanditConfig
from ladbench.losses import Loss

DTYPE = torch.float64


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


def batch_key(config: BanditConfig) -> str:
    """Equal for exactly the configs that may share a batch: all settings equal but the
    learning rate and the loss's per-run options (``RunSettings``)."""
    settings = config.resolved()
    del settings["lr"]
    for name in config.loss.build().per_run_options:
        del settings["loss"][name]
    return json.dumps(settings, sort_keys=True, default=str)


def generators_of(runs: Sequence[RunSettings]) -> list[torch.Generator]:
    """One generator per run, seeded with its seed: a run's initial parameters and samples come
    from its own generator, so its numbers do not depend on which runs share its batch."""
    return [torch.Generator().manual_seed(run.seed) for run in runs]
