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
    witness = {
        "pair_sum": lambda p: f"1 + {p.metadata.get('target', 2) - 1}",
        "between": lambda p: str(p.metadata.get("low", 0) + 1),
    }.get(name, lambda p: p.answer)
    assert task.grade(problem, witness(problem)).correct


def test_unknown_task_and_split():
    with pytest.raises(UserError, match="unknown task 'nope'"):
        get_task("nope")
    with pytest.raises(UserError, match="unknown split"):
        get_task("between").problems("test", 2)
