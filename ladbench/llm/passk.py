"""pass@k curves and the "RL narrows pass@k" diagnostic.

- The curve of one evaluation: pass@k for k = 1 .. n (n samples per prompt), the mean over
  prompts of the unbiased per-prompt estimate ``pass_at_k(n, c, k)`` (Chen et al. 2021).
  ``ladbench llm eval`` writes it as ``pass_at_k.csv`` (columns k, pass_at_k).
- Curves of several evaluations (``read_curves``) are averaged over the seeds of each (task,
  method) on the k that all of the task's evaluations sampled (``mean_curves``).
- The crossover k of a trained method is the first k at which its mean pass@k falls below the
  base model's, the mean curve of the task's evaluations of untrained models (``crossover_k``;
  None if it never does up to the largest common k): training
  that sharpens the policy raises pass@1 but can lower pass@k at large k, where the base
  model's broader sampling finds answers the trained model no longer produces (Yue et al.
  2025, "Does Reinforcement Learning Really Incentivize Reasoning Capacity in LLMs Beyond the
  Base Model?").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ladbench.llm.metrics import pass_at_k

CURVE_FILE = "pass_at_k.csv"


def pass_at_k_curve(n: Sequence[int], c: Sequence[int]) -> pd.DataFrame:
    """Mean over prompts of pass@k, k = 1 .. min(n): columns k, pass_at_k."""
    pairs = list(zip(n, c, strict=True))
    if not pairs:
        raise ValueError("a pass@k curve needs at least one prompt")
    ks = range(1, min(n) + 1)
    values = [sum(pass_at_k(int(ni), int(ci), k) for ni, ci in pairs) / len(pairs) for k in ks]
    return pd.DataFrame({"k": list(ks), "pass_at_k": values})


def model_label(method: str, seed) -> str:
    """The method, and the training seed of a trained model: ``GRPO-s0``."""
    return method if seed is None or pd.isna(seed) else f"{method}-s{int(seed)}"


def read_curves(summaries: pd.DataFrame) -> pd.DataFrame | None:
    """The curves of evaluations described by ``summaries`` (one row each: task, method, seed,
    trained, directory), long: task, method, seed, trained, model, directory, k, pass_at_k. None
    if some evaluation has no ``pass_at_k.csv`` (written before curves existed)."""
    frames = []
    for row in summaries.itertuples(index=False):
        path = Path(row.directory) / CURVE_FILE
        if not path.is_file():
            return None
        curve = pd.read_csv(path)
        model = model_label(row.method, row.seed)
        frames.append(curve.assign(task=row.task, method=row.method, seed=row.seed, trained=row.trained, model=model,
                                   directory=row.directory))
    columns = ["task", "method", "seed", "trained", "model", "directory", "k", "pass_at_k"]
    return pd.concat(frames, ignore_index=True)[columns]


def mean_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean pass@k over the seeds of each (task, method), on k up to the largest k every
    evaluation of the task sampled: task, method, trained, k, pass_at_k."""
    largest = curves.groupby(["task", "directory"])["k"].max().groupby("task").min()
    common = curves[curves["k"] <= curves["task"].map(largest)]
    return common.groupby(["task", "method", "trained", "k"], sort=False)["pass_at_k"].mean().reset_index()


def crossover_k(trained: pd.Series, base: pd.Series) -> int | None:
    """First k (the index of both series) where ``trained`` < ``base``; None if there is none."""
    common = trained.index.intersection(base.index).sort_values()
    below = common[(trained[common] < base[common]).to_numpy()]
    return int(below[0]) if len(below) else None


def crossovers(curves: pd.DataFrame) -> dict[tuple[str, str], int | None]:
    """Crossover k of every trained (task, method) against the task's base curve (the mean of its
    untrained evaluations' curves); tasks without an untrained evaluation are left out."""
    means = mean_curves(curves)
    result = {}
    for task, frame in means.groupby("task", sort=False):
        untrained = frame[~frame["trained"].astype(bool)]
        if untrained.empty:
            continue
        base = untrained.groupby("k")["pass_at_k"].mean()
        for method, curve in frame[frame["trained"].astype(bool)].groupby("method", sort=False):
            result[(task, method)] = crossover_k(curve.set_index("k")["pass_at_k"], base)
    return result
