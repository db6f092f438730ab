"""Statistics: IQM, bootstrap intervals (plain and stratified), probability of improvement."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from ladbench.stats import NO_SPREAD, SINGLE_RUN, estimate, iqm, probability_of_improvement, summarise


def test_iqm_is_the_mean_of_the_middle_half():
    values = np.array([100.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, -50.0])
    middle = np.sort(values)[2:6]
    assert iqm(values) == pytest.approx(middle.mean())
    assert iqm(values) != pytest.approx(values.mean())


def test_interval_brackets_the_estimate_and_shrinks_with_more_runs():
    rng = np.random.default_rng(0)
    small, large = rng.normal(1.0, 1.0, 10), rng.normal(1.0, 1.0, 400)
    for statistic in ("mean", "iqm"):
        few, many = estimate(small, statistic), estimate(large, statistic)
        assert few.low < few.value < few.high and many.low < many.value < many.high
        assert many.high - many.low < (few.high - few.low) / 2
        assert many.low < 1.0 < many.high


def test_runs_that_agree_get_no_interval():
    result = estimate(np.full(10, 0.25))
    assert result.note == NO_SPREAD and np.isnan(result.low) and result.value == 0.25
    assert estimate(np.array([0.3])).note == SINGLE_RUN


def test_bootstrap_is_stratified_by_task():
    # within each task every run agrees, so resampling runs inside tasks cannot move the pooled
    # mean; a bootstrap over the pooled runs would (it could draw more runs of one task)
    result = estimate([np.zeros(5), np.ones(5)], "mean")
    assert result.value == 0.5 and result.low == result.high == 0.5


def test_probability_of_improvement_matches_mann_whitney_and_respects_direction():
    rng = np.random.default_rng(1)
    x, y = rng.normal(0.0, 1.0, 12), rng.normal(0.5, 1.0, 9)
    higher = probability_of_improvement([x], [y], higher_is_better=True)
    assert higher.value == pytest.approx(mannwhitneyu(x, y).statistic / (len(x) * len(y)))
    assert higher.low <= higher.value <= higher.high
    lower = probability_of_improvement([x], [y], higher_is_better=False)  # e.g. a distance
    assert lower.value == pytest.approx(1 - higher.value)


def test_probability_of_improvement_averages_tasks_and_counts_ties_half():
    wins, losses = np.array([0.1, 0.2]), np.array([0.5, 0.6])
    assert probability_of_improvement([wins], [losses], higher_is_better=False).value == 1.0
    assert probability_of_improvement([wins, losses], [losses, wins], higher_is_better=False).value == 0.5
    tied = probability_of_improvement([np.ones(3)], [np.ones(3)], higher_is_better=True)
    assert tied.value == 0.5 and tied.note == NO_SPREAD


def test_summarise_gives_mean_and_iqm_with_intervals_per_group():
    import pandas as pd

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"cell": np.repeat(["a", "b"], 8), "tv": np.r_[rng.uniform(0, 0.1, 8), np.full(8, 0.5)]})
    stats = summarise(frame, ["cell"], ["tv"]).set_index("cell")
    assert list(stats["n"]) == [8, 8]
    assert stats.loc["a", "mean_low"] <= stats.loc["a", "mean"] <= stats.loc["a", "mean_high"]
    assert stats.loc["a", "note"] == "" and stats.loc["b", "note"] == NO_SPREAD
    assert stats.loc["b", "iqm"] == 0.5
