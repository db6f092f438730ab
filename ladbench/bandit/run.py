"""Run one bandit configuration over several seeds and write its result files.

Files written to the output directory (each atomically):

- ``config.json``  resolved configuration, seeds, package versions, git commit, command line
- ``curves.csv``   tidy rows (seed, step, every metric of ``bandit.metrics``) every log_interval steps
- ``summary.csv``  one row per seed with the final metrics (and FlowRL's learned log Z)
- ``policy.csv``   tidy rows (seed, arm, prob, target, truth, reward): the final distributions
                   over the family's evaluation set; ``arm`` is the outcome index (contextual:
                   context * arms + arm; sequence: the sequence in base-V order; continuous: the
                   grid cell, row-major)
- ``recovery.png`` learned distribution (mean and spread across seeds) over the target
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path

import numpy as np
import pandas as pd

from ladbench import io
from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import TrainOutput, runs_of, train
from ladbench.bandit.envs import build_env
from ladbench.bandit.policies import DETERMINISTIC_INIT, policy_name
from ladbench.errors import UserError
from ladbench.provenance import provenance

DEFAULT_RESULTS = Path("results/runs")


@dataclass
class BanditRun:
    config: BanditConfig
    seeds: list[int]
    curves: pd.DataFrame
    summary: pd.DataFrame
    policy: pd.DataFrame

    @property
    def seeds_identical(self) -> bool:
        """Exact estimator from a deterministic init: nothing random, so every seed gives the same run."""
        deterministic_init = self.config.init_std == 0 and policy_name(self.config.env, self.config.policy) in DETERMINISTIC_INIT
        return self.config.estimator == "exact" and deterministic_init


def config_hash(config: BanditConfig, seeds: list[int]) -> str:
    """Short stable hash of a resolved config and its seeds (names directories and sweep cells)."""
    payload = json.dumps({"config": config.resolved(), "seeds": seeds}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:10]


def loss_description(config: BanditConfig, separator: str = "=") -> str:
    """The loss's label and, where it has one, its temperature: ``LAD-JS eta=1``, ``GRPO``."""
    loss = config.loss.build()
    option = loss.temperature_option
    return loss.label() if option is None else f"{loss.label()} {option}{separator}{getattr(loss, option):g}"


def default_output_dir(config: BanditConfig, seeds: list[int]) -> Path:
    name = loss_description(config, separator="").lower().replace(" ", "_")
    return DEFAULT_RESULTS / f"{config.env}_{name}_{config.estimator}_{config.protocol}_{config_hash(config, seeds)}"


def check_writable(directory: Path) -> None:
    """Create ``directory`` and prove a file can be written there, or raise a one-line UserError."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise UserError(f"cannot write to output directory {str(directory)!r}: {error.strerror or error}") from None


def tables(output: TrainOutput) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """curves, summary and policy frames of a trained batch, one block of rows per run."""
    seeds = np.array([run.seed for run in output.runs])
    n_logs, n_runs = len(output.steps), len(seeds)
    curves = pd.DataFrame(
        {"seed": np.tile(seeds, n_logs), "step": np.repeat(output.steps, n_runs)}
        | {name: values.reshape(-1) for name, values in output.curves.items()}
    ).sort_values(["seed", "step"], kind="stable", ignore_index=True)
    summary = pd.DataFrame({"seed": seeds} | {name: values[-1] for name, values in output.curves.items()})
    if output.final_log_z is not None:
        summary["log_z"] = output.final_log_z
    n_arms = output.final_policy.shape[1]
    policy = pd.DataFrame({
        "seed": np.repeat(seeds, n_arms),
        "arm": np.tile(np.arange(n_arms), n_runs),
        "prob": output.final_policy.reshape(-1),
        "target": output.target.reshape(-1),
        "truth": np.tile(output.truth, n_runs),
        "reward": np.tile(output.rewards, n_runs),
    })
    return curves, summary, policy


def run_bandit(config: BanditConfig, seeds: list[int], output_dir: Path | None = None, write: bool = True) -> BanditRun:
    """Train ``config`` on every seed as one batch; write the five files unless ``write`` is False."""
    if not seeds:
        raise UserError("seeds must name at least one seed")
    directory = Path(output_dir) if output_dir is not None else default_output_dir(config, seeds)
    if write:
        check_writable(directory)
    output = train(config, runs_of(config, seeds))
    run = BanditRun(config, list(seeds), *tables(output))
    if write:
        write_run(run, directory)
    return run


def write_run(run: BanditRun, directory: Path) -> None:
    import matplotlib.pyplot as plt  # plotting stack loaded only when a run is written

    from ladbench.bandit.plots import recovery_figure

    io.write_json(directory / "config.json", {
        "config": run.config.resolved(),
        "seeds": run.seeds,
        "seeds_identical": run.seeds_identical,
        "provenance": provenance(),
        "command": sys.argv,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    io.write_csv(directory / "curves.csv", run.curves)
    io.write_csv(directory / "summary.csv", run.summary)
    io.write_csv(directory / "policy.csv", run.policy)
    figure = recovery_figure(run.policy, build_env(run.config), title_of(run.config, len(run.seeds)))
    io.save_figure(figure, directory / "recovery.png", dpi=150)
    plt.close(figure)


def title_of(config: BanditConfig, n_seeds: int) -> str:
    protocol = config.protocol if config.protocol == "fixed" else f"refresh every {config.refresh_interval}"
    env = config.env if config.env == "trimodal" else f"{config.env} ({policy_name(config.env, config.policy)})"
    return (f"{env}: {loss_description(config)}, {config.estimator} estimator, pi_old {protocol}, {n_seeds} seeds, "
            f"{config.steps} steps")
