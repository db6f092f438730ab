"""What a claim reads: results directories on disk, the cells a claim selects from them, and
their statistics over seeds, formatted as the ledger prints them.

A claim names its inputs as :class:`Source` s (a sweep's results directory and the spec that
produces it, or a benchmark's output and the script that writes it). :class:`Evidence` loads
each once, verified (``ladbench.results.load``, ``ladbench.manifest.verify``). Anything a claim
needs that is not on disk (no directory, an unfinished or excluded cell, no matching cell)
raises :class:`NotRun`, which the ledger turns into the verdict "not run" with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ladbench import manifest, metric_catalogue
from ladbench.errors import UserError
from ladbench.results import Results, load
from ladbench.stats import NO_SPREAD, SINGLE_RUN, Estimate, estimate, probability_of_improvement

STATISTIC = "iqm"  # per condition: the interquartile mean over seeds, with its bootstrap interval


class NotRun(Exception):
    """The evidence a claim needs is not on disk; the message says what is missing."""


@dataclass(frozen=True)
class Source:
    """A results directory a claim reads (``<results>/<name>``) and how it is produced: a sweep
    spec, or a benchmark script run with ``python``. ``local`` says whether ``ladbench claims
    --run`` produces it on this machine (an LLM sweep is GPU work: it is only named)."""

    name: str
    spec: str | None = None
    script: tuple[str, ...] = ()  # the script and its arguments; "{out}" stands for the output directory
    local: bool = True
    command_hint: str | None = None  # how to produce it, where that is not `ladbench sweep <spec>`

    def directory(self, results_root: Path) -> Path:
        return Path(results_root) / self.name

    def script_arguments(self, results_root: Path) -> list[str]:
        return [part.replace("{out}", str(self.directory(results_root))) for part in self.script]

    @property
    def command(self) -> str:
        """The shell command that produces it (from the repository root, default results root)."""
        if self.command_hint is not None:
            return self.command_hint
        if self.spec is not None:
            return f"ladbench sweep {self.spec}"
        return "python " + " ".join(self.script_arguments(Path("results")))


class Evidence:
    """The results under ``root``, loaded on first use and verified; ``skip_bad`` leaves out
    cells that fail verification (a claim that needs one is then "not run")."""

    def __init__(self, root: str | Path, skip_bad: bool = False):
        self.root = Path(root)
        self.skip_bad = skip_bad
        self._loaded: dict[str, Results | NotRun] = {}
        self.seeds_read: set[int] = set()  # seed counts of the settings read since ``track``

    def track(self) -> None:
        """Start counting the seeds of the cells read (one claim's)."""
        self.seeds_read = set()

    def results(self, source: Source) -> Results:
        if source.name not in self._loaded:
            directory = source.directory(self.root)
            try:
                if not directory.is_dir():
                    raise NotRun(f"no results in {directory}")
                self._loaded[source.name] = load(directory, skip_bad=self.skip_bad)
            except NotRun as missing:
                self._loaded[source.name] = missing
            except UserError as error:
                if isinstance(error, manifest.BadResult):
                    raise
                self._loaded[source.name] = NotRun(str(error))
        loaded = self._loaded[source.name]
        if isinstance(loaded, NotRun):
            raise loaded
        return loaded

    def rows(self, source: Source, frame: str = "summary", **where: Any) -> pd.DataFrame:
        """The rows of ``frame`` whose columns equal ``where`` (a list or tuple: any of its
        values). NotRun if an unfinished or excluded cell of the grid could match, or none does."""
        results = self.results(source)
        for cell in [*results.missing, *results.excluded]:
            axes = cell["axes"]
            if all(_matches(axes[name], value) for name, value in where.items() if name in axes):
                state = "failed verification" if cell in results.excluded else "has not finished"
                raise NotRun(
                    f"a cell of {source.directory(self.root)} that this claim reads {state} "
                    f"({', '.join(f'{k}={v}' for k, v in axes.items())})"
                )
        table = getattr(results, frame)
        selected = table[
            np.logical_and.reduce(
                [table[name].map(lambda v, w=value: _matches(v, w)).to_numpy(bool) for name, value in where.items()]
                or [np.ones(len(table), bool)]
            )
        ]
        if selected.empty:
            shown = ", ".join(f"{name}={value}" for name, value in where.items())
            raise NotRun(f"no finished cell of {source.directory(self.root)} has {shown}")
        # seeds per setting: a bandit cell holds its seeds, an LLM setting is one cell per seed
        counts = selected.groupby("setting")["seed"].nunique()
        self.seeds_read |= set(int(count) for count in counts)
        return selected

    def benchmark(self, source: Source, file: str) -> tuple[dict[str, Any], pd.DataFrame]:
        """A benchmark's manifest and one of its CSV files, verified."""
        directory = source.directory(self.root)
        if not manifest.exists(directory):
            raise NotRun(f"no benchmark results in {directory}")
        record = manifest.verify(directory)
        return record, pd.read_csv(directory / file)


def _matches(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, list | tuple | set | frozenset):
        return any(_matches(value, option) for option in wanted)
    if isinstance(wanted, float) and isinstance(value, int | float):
        return np.isclose(value, wanted, rtol=1e-12, atol=0)
    return value == wanted


def iqm(rows: pd.DataFrame, metric: str) -> Estimate:
    """The IQM over seeds of one cell's (or several cells' pooled) final ``metric``."""
    return estimate(rows[metric].to_numpy(dtype=float), STATISTIC)


def estimate_of(values: Sequence[float] | np.ndarray) -> Estimate:
    return estimate(np.asarray(values, dtype=float), STATISTIC)


def improvement(x_tasks: Sequence[np.ndarray], y_tasks: Sequence[np.ndarray], metric: str) -> Estimate:
    """P(X better than Y) on ``metric`` (its catalogue direction), averaged over tasks."""
    return probability_of_improvement(x_tasks, y_tasks, metric_catalogue.higher_is_better(metric))


def per_seed_tv(first: pd.DataFrame, second: pd.DataFrame) -> np.ndarray:
    """Total variation between two cells' final policies, seed by seed (policy.csv rows)."""
    index = ["seed", "context", "arm"] if "context" in first else ["seed", "arm"]
    joined = (
        first.set_index(index)["prob"].to_frame("p").join(second.set_index(index)["prob"].to_frame("q"), how="inner")
    )
    if joined.empty:
        raise NotRun("the two cells share no seed")
    return 0.5 * (joined["p"] - joined["q"]).abs().groupby(level="seed").sum().to_numpy()


def truth_entropy(policy: pd.DataFrame) -> float:
    """Entropy (nats) of the ground truth in policy.csv rows (one seed's copy)."""
    truth = policy[policy["seed"] == policy["seed"].iloc[0]]["truth"].to_numpy(dtype=float)
    truth = truth[truth > 0]
    return float(-(truth * np.log(truth)).sum())


def number(value: float) -> str:
    """Three significant digits; exact integers as integers (coverage 1, 1/3 as 0.333)."""
    if np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


def fmt(result: Estimate) -> str:
    """``value [low, high]``, or the value with why it has no interval."""
    if result.note == NO_SPREAD:
        return f"{number(result.value)} (all seeds equal)"
    if result.note == SINGLE_RUN:
        return f"{number(result.value)} (one run)"
    return f"{number(result.value)} [{number(result.low)}, {number(result.high)}]"
