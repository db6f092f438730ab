"""Run one bandit configuration over several seeds and write its result files.

Files written to the output directory (each atomically):

- ``curves.csv``    tidy rows (seed, step, every metric of ``bandit.metrics``) every log_interval steps
- ``summary.csv``   one row per seed with the final metrics (and FlowRL's learned log Z)
- ``policy.csv``    tidy rows (seed, [context,] arm, prob, target, truth, reward): the final
                    distributions over the family's evaluation set. ``arm`` is the outcome index
                    (sequence: the sequence in base-V order; continuous: the grid cell,
                    row-major); a family with contexts adds a ``context`` column, ``arm`` is then
                    the arm within its context and each context's probabilities sum to 1
- ``recovery.png``  learned distribution (mean and spread across seeds) over the target
- ``manifest.json`` written last (``ladbench.manifest``, kind ``bandit_run``): resolved
                    configuration, method label, seeds, seeds_identical, each file's sha256 and
                    row count, package versions, git commit, command line
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ladbench import io, layout, manifest
from ladbench.bandit.config import BanditConfig, config_hash
from ladbench.bandit.engine import TrainOutput, runs_of, train
from ladbench.bandit.envs import FAMILIES, NetworkEnv, build_env
from ladbench.bandit.loop import Progress, TrainingInterrupted
from ladbench.bandit.memory import check_memory
from ladbench.bandit.policies import policy_class, policy_name
from ladbench.errors import UserError
from ladbench.resources import check_seeds

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
        deterministic_init = (
            self.config.init_std == 0 and policy_class(self.config.env, self.config.policy).deterministic_init
        )
        return self.config.estimator == "exact" and deterministic_init


def loss_description(config: BanditConfig, separator: str = "=") -> str:
    """The loss's label and, where it has one, its temperature: ``LAD-JS eta=1``, ``GRPO``."""
    loss = config.loss.build()
    option = loss.temperature_option
    return loss.label() if option is None else f"{loss.label()} {option}{separator}{getattr(loss, option):g}"


def default_output_dir(config: BanditConfig, seeds: list[int]) -> Path:
    name = loss_description(config, separator="").lower().replace(" ", "_")
    return DEFAULT_RESULTS / f"{config.env}_{name}_{config.estimator}_{config.protocol}_{config_hash(config, seeds)}"


def check_not_another_run(directory: Path, config: BanditConfig, seeds: list[int]) -> None:
    """``--out`` may hold this very run (rerunning it rewrites the same files), nothing else."""
    if (Path(directory) / layout.SWEEP_FILE).is_file():
        raise UserError(f"--out {str(directory)!r} holds a sweep's results ({layout.SWEEP_FILE}); give another --out")
    manifest.check_owner(directory, "bandit_run", "--out", config.resolved(), seeds)


def n_contexts(config: BanditConfig) -> int:
    env = build_env(config)
    return env.n_contexts if isinstance(env, NetworkEnv) else 1


def tables(output: TrainOutput, config: BanditConfig) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """curves, summary and policy frames of a trained batch of ``config``, one block of rows per run."""
    seeds = np.array([run.seed for run in output.runs])
    n_logs, n_runs = len(output.steps), len(seeds)
    curves = pd.DataFrame(
        {"seed": np.tile(seeds, n_logs), "step": np.repeat(output.steps, n_runs)}
        | {name: values.reshape(-1) for name, values in output.curves.items()}
    ).sort_values(["seed", "step"], kind="stable", ignore_index=True)
    summary = pd.DataFrame({"seed": seeds} | {name: values[-1] for name, values in output.curves.items()})
    if output.final_log_z is not None:
        summary["log_z"] = output.final_log_z
    n_outcomes, contexts = output.final_policy.shape[1], n_contexts(config)
    outcome = np.tile(np.arange(n_outcomes), n_runs)  # the engines flatten contexts: context * arms + arm
    per_context = n_outcomes // contexts
    located = {"context": outcome // per_context, "arm": outcome % per_context}
    policy = pd.DataFrame(
        {
            "seed": np.repeat(seeds, n_outcomes),
            **(located if contexts > 1 else {"arm": outcome}),
            "prob": output.final_policy.reshape(-1),
            "target": output.target.reshape(-1),
            "truth": np.tile(output.truth, n_runs),
            "reward": np.tile(output.rewards, n_runs),
        }
    )
    return curves, summary, policy


def check_runnable(config: BanditConfig, n_runs: int, what: str = "this run", runs: str | None = None) -> None:
    """The checks after validation and before training: that ``n_runs`` runs fit in memory
    (``bandit.memory``), then the family's computed checks (finite rewards, ...; ``make_env``)."""
    check_memory(config, n_runs, what, runs)
    build_env(config)


def run_bandit(
    config: BanditConfig, seeds: list[int], output_dir: Path | None = None, write: bool = True, progress: bool = False
) -> BanditRun:
    """Train ``config`` on every seed as one batch; write the five files unless ``write`` is False.

    ``progress``: a progress bar with ETA over the steps, on stderr when it is a terminal. A
    KeyboardInterrupt during training raises ``TrainingInterrupted`` with nothing written (an
    output directory this call created is removed again)."""
    if not seeds:
        raise UserError("seeds must name at least one seed")
    check_seeds(seeds, "seeds")
    directory = Path(output_dir) if output_dir is not None else default_output_dir(config, seeds)
    created = write and not directory.exists()
    if write:
        io.check_output_dir(directory, "--out")
    check_runnable(config, len(seeds))
    try:
        with step_bar(config.steps, f"{loss_description(config)} {config.env}", progress) as advance:
            output = train(config, runs_of(config, seeds), advance)
    except TrainingInterrupted:
        if created:
            with suppress(OSError):  # left alone if something else has written there meanwhile
                directory.rmdir()
        raise
    run = BanditRun(config, list(seeds), *tables(output, config))
    if write:
        write_run(run, directory)
    return run


@contextmanager
def step_bar(steps: int, label: str, enabled: bool) -> Iterator[Progress | None]:
    """A tqdm bar over the training steps (off unless ``enabled`` and stderr is a terminal), as
    the loop's progress callback."""
    if not enabled:
        yield None
        return
    with tqdm(total=steps, unit="step", desc=label, disable=None, dynamic_ncols=True) as bar:
        yield lambda done: bar.update(done - bar.n)


RUN_TABLES = layout.BANDIT_TABLES
FIGURE = layout.BANDIT_FIGURE


def write_run(run: BanditRun, directory: Path) -> None:
    """The tables and the recovery figure, then the manifest that lists them."""
    from ladbench.bandit.plots import recovery_figure  # plotting stack loaded only when a run is written

    for name in RUN_TABLES:
        io.write_csv(directory / layout.BANDIT_FILES[name], getattr(run, name))
    figure = recovery_figure(run.policy, build_env(run.config), title_of(run.config, len(run.seeds)))
    io.save_figure(figure, directory / FIGURE, dpi=150)
    manifest.write(
        directory,
        "bandit_run",
        run.config.label,
        run.config.resolved(),
        run.seeds,
        [*layout.BANDIT_FILES.values(), FIGURE],
        seeds_identical=run.seeds_identical,
    )


def title_of(config: BanditConfig, n_seeds: int) -> str:
    protocol = config.protocol if config.protocol == "fixed" else f"refresh every {config.refresh_interval}"
    env = config.env if FAMILIES[config.env].default else f"{config.env} ({policy_name(config.env, config.policy)})"
    return (
        f"{env}: {loss_description(config)}, {config.estimator} estimator, pi_old {protocol}, {n_seeds} seeds, "
        f"{config.steps} steps"
    )
