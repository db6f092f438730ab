"""Diversity at matched accuracy: compare methods at equal reward, not only at the end.

A run evaluated during training (``TrainConfig.curve_every``) has a curve of Avg@k over the
evaluated steps. For a threshold tau (0.5 and 0.9 by default) its *matched point* is the first
evaluated step s* with Avg@k(s*) >= tau; the run's coverage and distinct correct answers there
are its diversity at accuracy tau. Methods that sharpen the policy reach the threshold with
fewer answers left; methods that keep the valid answers alive reach it with more.

- No interpolation between evaluated steps: s* is an evaluated step, and Avg@k there is at
  least tau (it may exceed it by as much as one evaluation interval's progress; ``avg_at_k`` is
  reported with the point so a reader sees by how much).
- A run whose curve never reaches tau has no matched point: ``reached`` is False and its step and
  metrics are NaN ("never reached" is a value, not a zero). Aggregates over seeds count how many
  seeds reached and summarise only those.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

THRESHOLDS = (0.5, 0.9)
ACCURACY = "avg_at_k"
DIVERSITY = ("coverage", "distinct_correct")  # the metrics read at the matched point


def matched_points(
    curves: pd.DataFrame,
    thresholds: Sequence[float] = THRESHOLDS,
    metrics: Sequence[str] = DIVERSITY,
    by: Sequence[str] = ("cell",),
) -> pd.DataFrame:
    """One row per run (the columns ``by``) and threshold: ``threshold``, ``reached``, ``step``
    (the first evaluated step with Avg@k >= threshold; NaN if none), ``avg_at_k`` and ``metrics``
    there (NaN if none). ``curves``: one row per (run, evaluated step), e.g. ``Results.eval_curves``."""
    rows = []
    for keys, run in curves.sort_values("step").groupby(list(by), sort=False):
        identity = dict(zip(by, keys if isinstance(keys, tuple) else (keys,), strict=True))
        for threshold in thresholds:
            hits = run[run[ACCURACY] >= threshold]
            row = identity | {"threshold": threshold, "reached": not hits.empty}
            point = hits.iloc[0] if not hits.empty else None
            for column in ("step", ACCURACY, *metrics):
                row[column] = float(point[column]) if point is not None and column in point else np.nan
            rows.append(row)
    return pd.DataFrame(rows)
