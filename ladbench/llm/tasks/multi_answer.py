"""Our multi-answer math families, where the set of correct answers is known and large.

Every family enumerates each problem's valid answers (``valid_answers``, in the canonical form of
``Grade.key``), so evaluation can measure how much of that set a model's samples cover and how far
their distribution is from uniform (see ``ladbench.llm.metrics``). Each task's ranges are class
attributes; the wider variants are subclasses that set theirs.
A problem with ``(low + high) % 4 == 0``
(``between``, ``multiple_between``) or ``target % 4 == 0`` (``pair_sum``) is held out for evaluation.

- ``BetweenTask``: "Name an integer greater than A and less than B". Correct iff the extracted
  final answer is an integer strictly between A and B; the key is that integer, so B - A - 1
  answers are valid. ``between`` (A in 1..40, B - A in 6..20) is easy: SmolLM2-135M's Avg@64 is
  0.13 before training, and GRPO-style training saturates it within tens of steps;
  ``between_wide`` (A in 1..200, B - A in 30..100) has 29..99 valid answers per prompt, more than
  a collapsed policy can cover.
- ``MultipleBetweenTask``: "Name a multiple of M greater than A and less than B", a property
  family whose difficulty is set by M: correct iff the answer is an integer strictly between A
  and B and divisible by M; the key is the integer. ``multiple_between``: M in 3..9, A in
  1..200, B - A = M w with w in 6..30, so 5..30 valid answers.
- ``PairSumTask``: "Give two positive integers that add up to N". Correct iff the first pair
  extracted by ``extract_pair`` has a, b >= 1 and a + b = N; N - 1 ordered answers are correct,
  and the key is the unordered pair ``"a+b"`` (a <= b), so floor(N / 2) keys are valid.
  ``pair_sum`` has N in 4..33, ``pair_sum_large`` N in 40..200.
"""

from __future__ import annotations

import random

from ladbench.errors import UserError
from ladbench.llm.extract import extract_final_answer, extract_pair
from ladbench.llm.tasks.base import TASKS, Grade, Problem, ResponseTask


def _integer_key(response: str | None) -> tuple[int | None, str | None]:
    """The extracted final answer as an integer (None if it is not one) and its key."""
    answer = extract_final_answer(response)
    if answer is None or not answer.lstrip("-").isdigit():
        return None, answer
    return int(answer), str(int(answer))


def _held_out(value: int, split: str) -> bool:
    return (value % 4 == 0) == (split == "eval")


@TASKS.register
class PairSumTask(ResponseTask):
    name = "pair_sum"
    targets = range(4, 34)

    def _problems(self, split: str, size: int) -> list[Problem]:
        targets = [n for n in self.targets if _held_out(n, split)]
        rng = random.Random(f"{self.split_seed}-{split}")
        problems = []
        for index in range(size):
            if index % len(targets) == 0:
                rng.shuffle(targets)
            target = targets[index % len(targets)]
            question = f"Give two positive integers that add up to {target}. Answer in the form a + b."
            problems.append(Problem(f"{split}-{index}", question, str(target), {"target": target}))
        return problems

    def grade_response(self, problem: Problem, response: str | None) -> Grade:
        pair = extract_pair(response)
        if pair is None:
            return Grade(False, None)
        first, second = pair
        correct = first >= 1 and second >= 1 and first + second == problem.metadata["target"]
        return Grade(correct, f"{min(pair)}+{max(pair)}")

    def valid_answers(self, problem: Problem) -> frozenset[str]:
        target = problem.metadata["target"]
        return frozenset(f"{a}+{target - a}" for a in range(1, target // 2 + 1))


@TASKS.register
class PairSumLargeTask(PairSumTask):
    name = "pair_sum_large"
    targets = range(40, 201)


@TASKS.register
class BetweenTask(ResponseTask):
    name = "between"
    lows = range(1, 41)
    widths = range(6, 21)

    def _bounds(self, split: str) -> list[tuple[int, ...]]:
        bounds = [(low, low + width) for low in self.lows for width in self.widths]
        return [bound for bound in bounds if _held_out(bound[0] + bound[1], split)]

    def _problem(self, uid: str, bound: tuple[int, ...]) -> Problem:
        low, high = bound
        question = f"Name an integer greater than {low} and less than {high}."
        return Problem(uid, question, f"{low + 1}..{high - 1}", {"low": low, "high": high})

    def _problems(self, split: str, size: int) -> list[Problem]:
        bounds = self._bounds(split)
        if size > len(bounds):
            raise UserError(f"task {self.name!r} has {len(bounds)} {split} prompts; ask for at most that many")
        chosen = random.Random(f"{self.split_seed}-{split}-{self.name}").sample(bounds, size)
        return [self._problem(f"{split}-{index}", bound) for index, bound in enumerate(chosen)]

    def is_valid(self, problem: Problem, value: int) -> bool:
        return problem.metadata["low"] < value < problem.metadata["high"]

    def grade_response(self, problem: Problem, response: str | None) -> Grade:
        value, key = _integer_key(response)
        return Grade(value is not None and self.is_valid(problem, value), key)

    def valid_answers(self, problem: Problem) -> frozenset[str]:
        values = range(problem.metadata["low"] + 1, problem.metadata["high"])
        return frozenset(str(value) for value in values if self.is_valid(problem, value))


@TASKS.register
class BetweenWideTask(BetweenTask):
    name = "between_wide"
    lows = range(1, 201)
    widths = range(30, 101)


@TASKS.register
class MultipleBetweenTask(BetweenTask):
    """``BetweenTask`` restricted to multiples of M; widths count multiples: B - A = M * width."""

    name = "multiple_between"
    lows = range(1, 201)
    widths = range(6, 31)
    divisors = range(3, 10)

    def _bounds(self, split: str) -> list[tuple[int, ...]]:
        bounds = [(low, low + m * width, m) for low in self.lows for width in self.widths for m in self.divisors]
        return [bound for bound in bounds if _held_out(bound[0] + bound[1], split)]

    def _problem(self, uid: str, bound: tuple[int, ...]) -> Problem:
        low, high, m = bound
        question = f"Name a multiple of {m} greater than {low} and less than {high}."
        answer = f"multiples of {m} in {low + 1}..{high - 1}"
        return Problem(uid, question, answer, {"low": low, "high": high, "divisor": m})

    def is_valid(self, problem: Problem, value: int) -> bool:
        return super().is_valid(problem, value) and value % problem.metadata["divisor"] == 0
