"""Diversity at matched accuracy: the first evaluated step at a threshold, no interpolation, and
"never reached" as a value of its own."""

import math

import pandas as pd
import pytest

from ladbench.llm_analysis.matched_accuracy import matched_points
from ladbench.llm_analysis.report import matched_table


def curves():
    """Two runs: a reaches 0.5 at step 10 (0.55) and 0.9 at step 20; b reaches 0.5 at step 20 only."""
    rows = [
        ("a", 0, 0.1, 0.5, 4),
        ("a", 10, 0.55, 0.4, 3),
        ("a", 20, 0.95, 0.2, 1),
        ("a", 5, 0.45, 0.45, 3.5),
        ("b", 0, 0.1, 0.5, 4),
        ("b", 10, 0.3, 0.5, 4),
        ("b", 20, 0.5, 0.45, 4),
    ]
    return pd.DataFrame(rows, columns=["cell", "step", "avg_at_k", "coverage", "distinct_correct"])


def test_the_matched_point_is_the_first_evaluated_step_at_the_threshold():
    points = matched_points(curves()).set_index(["cell", "threshold"])
    a = points.loc[("a", 0.5)]
    assert a["reached"] and a["step"] == 10 and a["avg_at_k"] == 0.55  # no interpolation to 0.5 between 5 and 10
    assert (a["coverage"], a["distinct_correct"]) == (0.4, 3)
    assert points.loc[("a", 0.9), "step"] == 20 and points.loc[("b", 0.5), "step"] == 20  # >= counts


def test_never_reached_is_not_a_zero():
    b = matched_points(curves()).set_index(["cell", "threshold"]).loc[("b", 0.9)]
    assert not b["reached"]
    assert all(math.isnan(b[column]) for column in ("step", "avg_at_k", "coverage", "distinct_correct"))


def test_thresholds_and_metrics_are_arguments():
    points = matched_points(curves(), thresholds=(0.3,), metrics=("coverage",))
    assert list(points["threshold"]) == [0.3, 0.3] and "distinct_correct" not in points
    assert list(points["step"]) == [5, 10]  # a: step 5 (listed after step 20: curves are read in step order)


def test_the_table_counts_the_seeds_that_reached_and_summarises_only_those():
    points = matched_points(curves()).assign(setting="s", label="LAD-JS", method="lad")
    table = matched_table(points, ["method"]).set_index("Avg@k >=")
    assert table.loc[0.5, "reached"] == "2/2" and table.loc[0.9, "reached"] == "1/2"
    assert table.loc[0.9, "coverage"] == "0.2 (n=1)" and table.loc[0.9, "method"] == "LAD-JS"
    assert table.loc[0.5, "step"] == "15 [10, 20]"  # IQM of 10 and 20, interval over the two seeds


@pytest.mark.parametrize("threshold", [0.5, 0.9])
def test_a_curve_that_starts_above_the_threshold_is_matched_at_its_first_step(threshold):
    frame = pd.DataFrame(
        {
            "cell": ["c", "c"],
            "step": [0, 5],
            "avg_at_k": [0.95, 0.99],
            "coverage": [0.3, 0.1],
            "distinct_correct": [2, 1],
        }
    )
    point = matched_points(frame, thresholds=(threshold,)).iloc[0]
    assert point["step"] == 0 and point["coverage"] == 0.3
