"""Answer extraction and grading on hand-written outputs: correct, wrong, malformed, empty, huge."""

import pytest

from ladbench.errors import UserError
from ladbench.llm.extract import extract_final_answer, extract_pair
from ladbench.llm.tasks import TASKS, CodeTask, Problem, get_task

HUGE = "blah " * 200_000 + "42"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The answer is 19.", "19"),
        ("12 + 7 = 19", "19"),
        ("so \\boxed{-17} and then 3", "-17"),
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("\\boxed{unclosed 5", "5"),
        ("half is 0.5", "0.5"),
        ("3/4 of it", "3/4"),
        ("no digits here", None),
        ("", None),
        (None, None),
        (HUGE, None),  # only the first MAX_CHARS characters are read
    ],
)
def test_extract_final_answer(text, expected):
    assert extract_final_answer(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("3 + 14", (3, 14)), ("Try 5 and 12.", (5, 12)), ("7, 10 works", (7, 10)), ("seventeen", None), ("", None)],
)
def test_extract_pair(text, expected):
    assert extract_pair(text) == expected


def arithmetic_problem():
    return Problem("p", "Calculate 5 - 33.", "-28", {})


@pytest.mark.parametrize(
    "response, correct",
    [
        ("The answer is -28.", True),
        ("\\boxed{-28}", True),
        ("-28.0", True),  # math-verify: numerically equal
        ("The answer is 28.", False),
        ("-28 is wrong, it is 12", False),  # the last number counts
        ("I don't know", False),
        ("", False),
        (None, False),
        (HUGE, False),
        ("\\boxed{}}}{{", False),
    ],
)
def test_basic_arithmetic_grading(response, correct):
    grade = get_task("basic_arithmetic").grade(arithmetic_problem(), response)
    assert grade.correct is correct
    assert grade.reward == (1.0 if correct else 0.0)


def test_between_grading_and_keys():
    task = get_task("between")
    problem = Problem("p", "Name an integer greater than 3 and less than 12.", "4..11", {"low": 3, "high": 12})
    assert task.grade(problem, "An integer between 3 and 12 is 7.").correct
    assert task.grade(problem, "7").key == "7"
    assert not task.grade(problem, "12").correct  # strict bounds
    assert not task.grade(problem, "3").correct
    assert not task.grade(problem, "7.5").correct
    assert not task.grade(problem, "seven").correct
    assert not task.grade(problem, HUGE).correct


def test_pair_sum_grading_and_keys():
    task = get_task("pair_sum")
    problem = Problem("p", "Give two positive integers that add up to 17.", "17", {"target": 17})
    assert task.grade(problem, "3 + 14").correct
    assert task.grade(problem, "3 + 14").key == task.grade(problem, "14 and 3").key  # unordered pair
    assert not task.grade(problem, "0 + 17").correct  # positive integers only
    assert not task.grade(problem, "8 + 8").correct
    assert not task.grade(problem, "").correct


CODE_TASKS = ("code_functions", "humaneval")  # graded by running programs: tests/llm/test_code_training.py
TRAINABLE_ANSWER_TASKS = [name for name in TASKS if name not in CODE_TASKS]


def test_code_tasks_are_listed():
    assert all(isinstance(get_task(name), CodeTask) for name in CODE_TASKS)
    assert not any(isinstance(get_task(name), CodeTask) for name in TRAINABLE_ANSWER_TASKS)


@pytest.mark.parametrize("name", TRAINABLE_ANSWER_TASKS)
def test_splits_are_fixed_and_disjoint(name):
    train = get_task(name, split_seed=3).problems("train", 10)
    evaluation = get_task(name, split_seed=3).problems("eval", 6)
    assert train == get_task(name, split_seed=3).problems("train", 10)
    assert not {p.question for p in train} & {p.question for p in evaluation}
    assert len({p.question for p in evaluation}) == 6


@pytest.mark.parametrize("name", TRAINABLE_ANSWER_TASKS)
def test_reference_answer_is_correct(name):
    task = get_task(name)
    problem = task.problems("train", 1)[0]
    valid = task.valid_answers(problem)
    witness = min(valid) if valid else problem.answer  # a multi-answer task's answer field describes the set
    assert task.grade(problem, witness).correct


MULTI_ANSWER_TASKS = ("between", "between_wide", "multiple_between", "pair_sum", "pair_sum_large")


@pytest.mark.parametrize("name", MULTI_ANSWER_TASKS)
def test_valid_answers_are_exactly_what_the_grader_accepts(name):
    """Every candidate answer near the problem's range is graded; the keys of the correct ones
    must be the task's valid set, and every valid key must be accepted as written."""
    task = get_task(name)
    for problem in task.problems("eval", 8) + task.problems("train", 8):
        meta = problem.metadata
        if "target" in meta:
            candidates = [f"{a} + {b}" for a in range(meta["target"] + 2) for b in range(meta["target"] + 2)]
        else:
            candidates = [str(v) for v in range(meta["low"] - 3, meta["high"] + 4)] + ["-5", "seven"]
        grades = [task.grade(problem, text) for text in candidates]
        valid = task.valid_answers(problem)
        assert {g.key for g in grades if g.correct} == valid
        assert all(task.grade(problem, key).correct and task.grade(problem, key).key == key for key in valid)


def test_valid_set_sizes():
    between = Problem("p", "q", "a", {"low": 3, "high": 12})
    assert len(get_task("between").valid_answers(between)) == 8
    multiple = Problem("p", "q", "a", {"low": 10, "high": 31, "divisor": 5})
    assert get_task("multiple_between").valid_answers(multiple) == {"15", "20", "25", "30"}
    pairs = Problem("p", "q", "a", {"target": 7})
    assert get_task("pair_sum").valid_answers(pairs) == {"1+6", "2+5", "3+4"}
    sizes = [len(get_task("between_wide").valid_answers(p)) for p in get_task("between_wide").problems("eval", 50)]
    assert min(sizes) >= 29 and max(sizes) <= 99
    targets = [p.metadata["target"] for p in get_task("pair_sum_large").problems("eval", 50)]
    assert min(targets) >= 40 and max(targets) <= 200


@pytest.mark.parametrize(
    "name", ["basic_arithmetic", "arithmetic_mixed", "chain_sum", "gsm_symbolic", "code_functions", "codeio"]
)
def test_single_answer_and_open_tasks_have_no_valid_set(name):
    task = get_task(name)
    assert task.valid_answers(task.problems("eval", 1)[0]) is None


def test_unknown_task_and_split():
    with pytest.raises(UserError, match="unknown task 'nope'"):
        get_task("nope")
    with pytest.raises(UserError, match="unknown split"):
        get_task("between").problems("test", 2)
