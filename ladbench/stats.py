"""Aggregation across seeds: mean, interquartile mean (IQM), stratified bootstrap intervals,
and probability of improvement, following rliable (Agarwal et al., 2021).

Intervals are 95% percentile bootstrap intervals from ``scipy.stats.bootstrap``. When a
statistic pools several tasks (strata), each stratum is passed to scipy as its own sample, and
scipy resamples every sample independently: that is rliable's stratified bootstrap.

Runs that agree exactly get no interval: a zero-width interval would look like evidence. Such an
estimate carries ``note = "no spread"`` (the exact estimator from a uniform init gives every
seed the same run; a discrete metric such as mode coverage may also agree across seeds); a
single run carries ``note = "single run"``.

Statistics know no metric names: a caller says which direction is better
(``ladbench.metric_catalogue.higher_is_better``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
N_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
NO_SPREAD = "no spread"
SINGLE_RUN = "single run"


def iqm(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean: the mean of the middle 50% (``trim_mean(values, 0.25)``, as rliable)."""
    return stats.trim_mean(values, 0.25, axis=axis)


def mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(values, axis=axis)


STATISTICS: dict[str, Callable[..., np.ndarray]] = {"mean": mean, "iqm": iqm}


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float  # nan when there is no interval (see note)
    high: float
    note: str = ""

    @property
    def has_interval(self) -> bool:
        return not self.note


def _pooled(statistic: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """A statistic of several strata: ``statistic`` of their concatenation (vectorised)."""

    def pooled(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        return statistic(np.concatenate(samples, axis=axis), axis=axis)

    return pooled


def _interval(samples: Sequence[np.ndarray], statistic: Callable[..., np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    result = stats.bootstrap(
        tuple(samples),
        statistic,
        n_resamples=N_RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        vectorized=True,
        axis=-1,
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    return result.confidence_interval.low, result.confidence_interval.high


def _note(samples: Sequence[np.ndarray]) -> str:
    pooled = np.concatenate(samples)
    if len(pooled) < 2 or all(len(sample) < 2 for sample in samples):
        return SINGLE_RUN
    return NO_SPREAD if np.ptp(pooled) == 0 else ""


def estimate(strata: Sequence[np.ndarray] | np.ndarray, statistic: str = "iqm") -> Estimate:
    """``statistic`` ("mean" or "iqm") of the pooled runs of every stratum, with its stratified
    bootstrap interval; a single array is one stratum."""
    samples = (
        [np.asarray(strata, dtype=float)]
        if isinstance(strata, np.ndarray)
        else [np.asarray(s, dtype=float) for s in strata]
    )
    function = _pooled(STATISTICS[statistic])
    value = float(function(*samples))
    note = _note(samples)
    if note:
        return Estimate(value, float("nan"), float("nan"), note)
    return Estimate(value, *map(float, _interval(samples, function)))


def curve_band(values: np.ndarray, statistic: str = "mean") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row statistic and bootstrap interval of ``values`` [n_points, n_runs] (e.g. a learning
    curve across seeds). Rows whose runs agree get a zero-width band (drawn, never reported)."""
    function = STATISTICS[statistic]
    centre = function(values, axis=-1)
    if values.shape[-1] < 2 or np.ptp(values, axis=-1).max() == 0:
        return centre, centre, centre
    low, high = _interval([values], function)
    return centre, np.minimum(low, centre), np.maximum(high, centre)


def _poi_statistic(n_tasks: int) -> Callable[..., np.ndarray]:
    """Mean over tasks of P(X > Y) + P(X = Y) / 2; samples are x_1..x_M then y_1..y_M."""

    def statistic(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        per_task = []
        for x, y in zip(samples[:n_tasks], samples[n_tasks:], strict=True):
            greater = (x[..., :, None] > y[..., None, :]).mean(axis=(-1, -2))
            ties = (x[..., :, None] == y[..., None, :]).mean(axis=(-1, -2))
            per_task.append(greater + 0.5 * ties)
        return np.mean(per_task, axis=0)

    return statistic


def probability_of_improvement(
    x_tasks: Sequence[np.ndarray], y_tasks: Sequence[np.ndarray], higher_is_better: bool
) -> Estimate:
    """rliable's P(X > Y): for each task m the probability that a random run of X beats a random
    run of Y (ties count half; the Mann-Whitney U statistic over n*m), averaged over tasks, with
    a stratified bootstrap interval. "Beats" is higher when ``higher_is_better``, else lower."""
    sign = 1.0 if higher_is_better else -1.0
    samples = [sign * np.asarray(values, dtype=float) for values in (*x_tasks, *y_tasks)]
    statistic = _poi_statistic(len(x_tasks))
    value = float(statistic(*samples))
    if any(len(sample) < 2 for sample in samples):  # a lone run cannot be resampled (e.g. one base evaluation)
        return Estimate(value, float("nan"), float("nan"), SINGLE_RUN)
    varying = [sample for sample in samples if np.ptp(sample) > 0]
    if not varying:
        return Estimate(value, float("nan"), float("nan"), NO_SPREAD)
    return Estimate(value, *map(float, _interval(samples, statistic)))


def summarise(frame: pd.DataFrame, by: list[str], metrics: Sequence[str]) -> pd.DataFrame:
    """One row per group of ``by`` and metric: n, mean and IQM with intervals, note."""
    rows = []
    for keys, group in frame.groupby(by, sort=False, dropna=False):
        identity = dict(zip(by, keys if isinstance(keys, tuple) else (keys,), strict=True))
        for metric in metrics:
            values = group[metric].to_numpy(dtype=float)
            row = identity | {"metric": metric, "n": len(values)}
            for name in STATISTICS:
                result = estimate(values, name)
                row |= {name: result.value, f"{name}_low": result.low, f"{name}_high": result.high}
            row["note"] = result.note
            rows.append(row)
    return pd.DataFrame(rows)
