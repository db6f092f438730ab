"""The LLM sections of ``ladbench report``: diversity at matched accuracy and the pass@k crossover.

Both read what ``ladbench.results`` loads from LLM results (a sweep, or evaluation directories):

- **Diversity at matched accuracy** (``ladbench.llm_analysis.matched_accuracy``), from the evaluations during
  training (``eval_curves``): per setting and Avg@k threshold, how many seeds reached it, and
  the IQM [95% CI] over those seeds of the step where they did and of coverage and distinct
  correct answers there (the report adds P(X better than Y) on those metrics between the values
  of the compared axis, over the seeds of both that reached the threshold).
- **Crossover k** (``crossover_k``): the first k at which a setting's pass@k
  curve (the mean over its seeds) falls below the untrained model's (the mean of the untrained
  evaluations of the same task). Curves come from the evaluations during training when there are
  any (the last evaluated step against step 0: the same prompts and settings by construction),
  else from the final evaluations (trained runs against the "base" evaluations).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ladbench import metric_catalogue
from ladbench.llm_analysis.matched_accuracy import ACCURACY, DIVERSITY, THRESHOLDS, matched_points
from ladbench.results import Results
from ladbench.stats import estimate

BASE = "base"  # the method of the untrained model's curve


def crossover_k(trained: pd.Series, base: pd.Series) -> int | None:
    """First k (the index of both series) where ``trained`` < ``base``; None if there is none.

    Training that sharpens the policy raises pass@1 but can lower pass@k at large k, where the
    base model's broader sampling finds answers the trained model no longer produces (Yue et al.
    2025, "Does Reinforcement Learning Really Incentivize Reasoning Capacity in LLMs Beyond the
    Base Model?")."""
    common = trained.index.intersection(base.index).sort_values()
    below = common[(trained[common] < base[common]).to_numpy()]
    return int(below[0]) if len(below) else None


def evaluated_task(frame: pd.DataFrame) -> pd.Series:
    """The task each pass@k row's evaluation ran. A final evaluation's is its own (a sweep cell's
    ``eval_task``, an evaluation directory's ``task``); an evaluation during training ran the
    run's ``curve_task``, or its training task when that is unset (``task`` in a sweep)."""
    final_task = frame["eval_task"] if "eval_task" in frame else frame["task"]
    if "curve_task" not in frame:
        return final_task
    training_task = frame["train_task"] if "train_task" in frame else frame["task"]
    curve_task = frame["curve_task"].where(frame["curve_task"].notna(), training_task)
    return final_task.where(frame["final"].astype(bool), curve_task)


def matched_frame(results: Results, thresholds: tuple[float, ...] = THRESHOLDS) -> pd.DataFrame:
    """Each run's matched points (``matched_points``) with the run's setting and axis values."""
    curves = results.eval_curves
    if curves.empty or ACCURACY not in curves:
        return pd.DataFrame()
    # a metric no evaluation defines (coverage on code tasks: no enumerable answer set) is left out
    metrics = [metric for metric in DIVERSITY if metric in curves and curves[metric].notna().any()]
    identity = ["cell", "setting", "label", *results.axes]
    points = matched_points(curves, thresholds, metrics, by=["cell"])
    return results.cells[identity].merge(points, on="cell")


def _entry(values: np.ndarray) -> str:
    values = values[~np.isnan(values)]
    if not len(values):
        return "-"
    result = estimate(values, "iqm")
    if result.note:
        return f"{result.value:.3g}" + (" (n=1)" if len(values) == 1 else " (all equal)")
    return f"{result.value:.3g} [{result.low:.3g}, {result.high:.3g}]"


def matched_table(points: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """One row per setting and threshold: seeds reaching it, and IQM [CI] of the step, Avg@k and
    the diversity metrics at the matched point over those seeds."""
    metrics = [metric for metric in ("step", ACCURACY, *DIVERSITY) if metric in points]
    rows = []
    for (_, threshold), group in points.groupby(["setting", "threshold"], sort=False):
        first = group.iloc[0]
        shown = {axis: first["label"] if axis == "method" else first[axis] for axis in axes}
        reached = group[group["reached"]]
        row = shown | {"Avg@k >=": threshold, "reached": f"{len(reached)}/{len(group)}"}
        row |= {
            metric_catalogue.label(metric) if metric != "step" else "step": _entry(reached[metric].to_numpy(float))
            for metric in metrics
        }
        rows.append(row)
    return pd.DataFrame(rows)


def pass_at_k_means(results: Results) -> pd.DataFrame:
    """Mean pass@k curve over seeds of each setting's trained model and of the untrained model,
    per evaluated task, on the k every curve of the task has: task, setting, method (the
    setting's label, or "base"), trained, k, pass_at_k (see the module docstring for which
    evaluations)."""
    frame = results.pass_at_k
    if frame.empty:
        return pd.DataFrame()
    frame = frame.assign(task=evaluated_task(frame)).drop(columns="k").rename(columns={"at_k": "k"})
    during = frame[~frame["final"].astype(bool)]
    if not during.empty:
        last = during.groupby("cell")["step"].transform("max")
        base, trained = during[during["step"] == 0], during[(during["step"] == last) & (last > 0)]
    else:
        untrained = frame["step"] == 0
        base, trained = frame[untrained], frame[~untrained]
    curves = pd.concat(
        [base.assign(setting=BASE, method=BASE, trained=False), trained.assign(method=trained["label"], trained=True)],
        ignore_index=True,
    )
    largest = curves.groupby(["task", "cell", "trained"])["k"].max().groupby("task").min()
    curves = curves[curves["k"] <= curves["task"].map(largest)]
    return curves.groupby(["task", "setting", "method", "trained", "k"], sort=False)["pass_at_k"].mean().reset_index()


def crossover_table(results: Results, axes: list[str]) -> pd.DataFrame:
    """One row per trained setting with an untrained curve of its task: the crossover k ("none":
    never below the base up to the largest common k)."""
    means = pass_at_k_means(results)
    if means.empty or not (~means["trained"]).any():
        return pd.DataFrame()
    cells = results.cells.drop_duplicates("setting").set_index("setting")
    rows = []
    for task, frame in means.groupby("task", sort=False):
        base = frame[~frame["trained"]].set_index("k")["pass_at_k"]
        if base.empty:
            continue
        for setting, curve in frame[frame["trained"]].groupby("setting", sort=False):
            found = crossover_k(curve.set_index("k")["pass_at_k"], base)
            shown = {
                axis: cells.loc[setting, "label"] if axis == "method" else cells.loc[setting, axis] for axis in axes
            }
            rows.append(
                {
                    **shown,
                    "task": task,
                    "largest k": int(curve["k"].max()),
                    "crossover k": "none" if found is None else str(found),
                }
            )
    return pd.DataFrame(rows)
