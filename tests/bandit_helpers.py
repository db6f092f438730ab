"""Shared checks of the bandit tests."""

from __future__ import annotations

import numpy as np

from ladbench.bandit.autograd_loop import train_one_seed
from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import RunSettings, runs_of, train

RUN_FILES = ["curves.csv", "manifest.json", "policy.csv", "recovery.png", "summary.csv"]  # of `run bandit`, sorted


def assert_engine_equals_autograd(fields: dict, metric: str) -> None:
    """Three runs batched in the engine (different seeds, learning rates and per-run loss options:
    LAD's eta, entropy_pg's coef, ...) against each run alone in the per-seed autograd reference:
    the same final policies and the same ``metric`` curve, to rounding."""
    config = BanditConfig.build(steps=150, log_interval=50, **fields)
    options = runs_of(config, [0])[0].loss_options
    runs = [
        RunSettings(seed, lr, {name: factor * value for name, value in options.items()})
        for seed, lr, factor in ((0, 5e-3, 1.0), (1, 1e-2, 0.5), (2, 2e-3, 2.0))
    ]
    batched = train(config, runs)
    for index, run in enumerate(runs):
        policy, curves = train_one_seed(config, run)
        np.testing.assert_allclose(batched.final_policy[index], policy, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(batched.curves[metric][:, index], curves[metric], rtol=1e-9, atol=1e-12)
