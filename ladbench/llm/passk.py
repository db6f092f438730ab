"""pass@k curves and the "RL narrows pass@k" diagnostic.

- The curve of one evaluation: pass@k for k = 1 .. n (n samples per prompt), the mean over
  prompts of the unbiased per-prompt estimate ``pass_at_k(n, c, k)`` (Chen et al. 2021).
  ``ladbench llm eval`` writes it as ``pass_at_k.csv`` (columns k, pass_at_k).
- The crossover k of a trained method is the first k at which its mean pass@k (over seeds) falls
  below the base model's (``crossover_k``; None if it never does up to the largest common k;
  ``ladbench.llm_analysis.report`` averages the curves and finds it for a report): training
  that sharpens the policy raises pass@1 but can lower pass@k at large k, where the base
  model's broader sampling finds answers the trained model no longer produces (Yue et al.
  2025, "Does Reinforcement Learning Really Incentivize Reasoning Capacity in LLMs Beyond the
  Base Model?").
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ladbench import layout
from ladbench.llm.metrics import pass_at_k

CURVE_FILE = layout.PASS_AT_K


def pass_at_k_curve(n: Sequence[int], c: Sequence[int]) -> pd.DataFrame:
    """Mean over prompts of pass@k, k = 1 .. min(n): columns k, pass_at_k."""
    pairs = list(zip(n, c, strict=True))
    if not pairs:
        raise ValueError("a pass@k curve needs at least one prompt")
    ks = range(1, min(n) + 1)
    values = [sum(pass_at_k(int(ni), int(ci), k) for ni, ci in pairs) / len(pairs) for k in ks]
    return pd.DataFrame({"k": list(ks), "pass_at_k": values})


def crossover_k(trained: pd.Series, base: pd.Series) -> int | None:
    """First k (the index of both series) where ``trained`` < ``base``; None if there is none."""
    common = trained.index.intersection(base.index).sort_values()
    below = common[(trained[common] < base[common]).to_numpy()]
    return int(below[0]) if len(below) else None
