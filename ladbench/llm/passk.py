"""The pass@k curve of one evaluation: pass@k for k = 1 .. n (n samples per prompt), the mean over
prompts of the unbiased per-prompt estimate ``pass_at_k(n, c, k)`` (Chen et al. 2021).
``ladbench llm eval`` writes it as ``layout.PASS_AT_K`` (columns k, pass_at_k).

The "RL narrows pass@k" diagnostic read from these curves, the crossover k (the first k at which
a trained method's mean pass@k over seeds falls below the base model's), is analysis:
``ladbench.llm_analysis.report.crossover_k``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ladbench.llm.metrics import pass_at_k


def pass_at_k_curve(n: Sequence[int], c: Sequence[int]) -> pd.DataFrame:
    """Mean over prompts of pass@k, k = 1 .. min(n): columns k, pass_at_k."""
    pairs = list(zip(n, c, strict=True))
    if not pairs:
        raise ValueError("a pass@k curve needs at least one prompt")
    ks = range(1, min(n) + 1)
    values = [sum(pass_at_k(int(ni), int(ci), k) for ni, ci in pairs) / len(pairs) for k in ks]
    return pd.DataFrame({"k": list(ks), "pass_at_k": values})
