"""Math tasks: fixed train/eval prompt splits and a scorer that gives 0 for malformed output.

A task yields :class:`Problem` s and scores a response with ``grade(problem, response)``, returning
a :class:`Grade`: ``correct`` (bool; the reward is 1.0 if correct else 0.0) and ``key``, a canonical
form of the extracted answer used to count distinct correct answers.

- reasoning-gym tasks (``basic_arithmetic``, ``chain_sum``, ``gsm_symbolic``):
  generated locally with the settings in ``GYM_SETTINGS`` (chosen so SmolLM2-135M is right some of
  the time). The train split uses seed ``split_seed``, the eval split seed ``split_seed + 1000003``, with
  eval questions that also occur in the train split removed. A response is correct when its
  extracted answer (see ``extract``) scores 1.0 with the generator's own ``score_answer`` or is
  equal to the reference by ``math_verify.verify``.
- ``between``, our easier multi-answer family: "Name an integer greater than A and less than B"
  (1 <= A <= 40, B - A in 6..20). Correct iff the extracted final answer is an integer strictly
  between A and B; the key is that integer, so up to B - A - 1 distinct correct answers exist.
  A pair (A, B) with A + B divisible by 4 is held out for evaluation. SmolLM2-135M answers
  about one prompt in five correctly before training, so groups carry a learning signal.
- ``pair_sum``, a harder multi-answer family: "Give two positive integers that add up to N". Correct
  iff the first pair extracted by ``extract_pair`` has a, b >= 1 and a + b = N; N - 1 answers are correct
  (ordered), and the key is the unordered pair, so distinct correct answers per prompt measure
  diversity directly. N ranges over 4..33; N divisible by 4 is held out for evaluation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ladbench.errors import UserError, choices_error
from ladbench.llm.deps import require
from ladbench.llm.extract import extract_final_answer, extract_pair

GYM_SETTINGS: dict[str, dict[str, Any]] = {
    "basic_arithmetic": dict(
        min_terms=2,
        max_terms=2,
        min_digits=1,
        max_digits=2,
        operators=("+", "-"),
        allow_parentheses=False,
        allow_negation=False,
    ),
    "chain_sum": dict(min_terms=2, max_terms=3, min_digits=1, max_digits=2),
    "gsm_symbolic": dict(),
}
PAIR_SUM = "pair_sum"
BETWEEN = "between"
TASKS = (*GYM_SETTINGS, PAIR_SUM, BETWEEN)
SPLITS = ("train", "eval")
PAIR_RANGE = range(4, 34)
EVAL_SEED_OFFSET = 1_000_003  # reasoning-gym seeds item i with seed + i: keep the splits far apart


@dataclass(frozen=True)
class Problem:
    """One prompt: an id, the question text, the reference answer (text) and generator metadata."""

    uid: str
    question: str
    answer: str
    metadata: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Grade:
    correct: bool
    key: str | None  # canonical extracted answer; None when nothing could be extracted

    @property
    def reward(self) -> float:
        return 1.0 if self.correct else 0.0


class Task:
    """A named task with its split generator and its grader."""

    def __init__(self, name: str, split_seed: int = 0):
        if name not in TASKS:
            raise choices_error("task", name, TASKS)
        self.name = name
        self.split_seed = split_seed
        self._gym = _gym_dataset(name, 1, split_seed) if name in GYM_SETTINGS else None

    def problems(self, split: str, size: int) -> list[Problem]:
        """``size`` problems of the split, the same for the same (task, split_seed, split, size)."""
        if split not in SPLITS:
            raise choices_error("split", split, SPLITS)
        if size < 1:
            raise UserError(f"number of prompts must be at least 1, got {size}")
        if self.name == PAIR_SUM:
            return _pair_problems(split, size, self.split_seed)
        if self.name == BETWEEN:
            return _between_problems(split, size, self.split_seed)
        return self._gym_problems(split, size)

    def _gym_problems(self, split: str, size: int) -> list[Problem]:
        seed = self.split_seed + (0 if split == "train" else EVAL_SEED_OFFSET)
        dataset = _gym_dataset(self.name, 4 * size + 50, seed)
        excluded = set()
        if split == "eval":
            excluded = {entry["question"] for entry in _gym_dataset(self.name, 4 * size + 50, self.split_seed)}
        problems = []
        for index, entry in enumerate(dataset):
            if entry["question"] in excluded or any(p.question == entry["question"] for p in problems):
                continue
            problems.append(Problem(f"{split}-{index}", entry["question"], str(entry["answer"]), entry["metadata"]))
            if len(problems) == size:
                return problems
        raise UserError(f"task {self.name!r} has fewer than {size} distinct {split} prompts; ask for fewer")

    def grade(self, problem: Problem, response: str | None) -> Grade:
        """Score one response; any malformed output is simply incorrect."""
        if self.name == PAIR_SUM:
            return _grade_pair(problem, response)
        if self.name == BETWEEN:
            return _grade_between(problem, response)
        answer = extract_final_answer(response)
        if answer is None:
            return Grade(False, None)
        entry = {"question": problem.question, "answer": problem.answer, "metadata": problem.metadata}
        try:
            by_generator = float(self._gym.score_answer(answer, entry)) >= 1.0
        except Exception:  # a generator's scorer choking on odd text is the text's fault: score 0
            by_generator = False
        return Grade(by_generator or _verify(problem.answer, answer), answer.replace(" ", ""))


def _gym_dataset(name: str, size: int, seed: int):
    reasoning_gym = require("reasoning_gym")
    return reasoning_gym.create_dataset(name, size=size, seed=seed, **GYM_SETTINGS[name])


def _verify(reference: str, answer: str) -> bool:
    """math-verify's equivalence of two answer strings; False on any parsing trouble."""
    math_verify = require("math_verify")
    try:
        return bool(math_verify.verify(math_verify.parse(reference), math_verify.parse(answer)))
    except Exception:
        return False


def _pair_problems(split: str, size: int, split_seed: int) -> list[Problem]:
    targets = [n for n in PAIR_RANGE if (n % 4 == 0) == (split == "eval")]
    rng = random.Random(f"{split_seed}-{split}")
    problems = []
    for index in range(size):
        if index % len(targets) == 0:
            rng.shuffle(targets)
        target = targets[index % len(targets)]
        question = f"Give two positive integers that add up to {target}. Answer in the form a + b."
        problems.append(Problem(f"{split}-{index}", question, str(target), {"target": target}))
    return problems


def _grade_pair(problem: Problem, response: str | None) -> Grade:
    pair = extract_pair(response)
    if pair is None:
        return Grade(False, None)
    first, second = pair
    correct = first >= 1 and second >= 1 and first + second == problem.metadata["target"]
    return Grade(correct, f"{min(pair)}+{max(pair)}")


def _between_problems(split: str, size: int, split_seed: int) -> list[Problem]:
    bounds = [(low, low + width) for low in range(1, 41) for width in range(6, 21)]
    bounds = [(low, high) for low, high in bounds if ((low + high) % 4 == 0) == (split == "eval")]
    rng = random.Random(f"{split_seed}-{split}-between")
    chosen = rng.sample(bounds, size) if size <= len(bounds) else None
    if chosen is None:
        raise UserError(f"task 'between' has {len(bounds)} {split} prompts; ask for at most that many")
    return [
        Problem(
            f"{split}-{index}",
            f"Name an integer greater than {low} and less than {high}.",
            f"{low + 1}..{high - 1}",
            {"low": low, "high": high},
        )
        for index, (low, high) in enumerate(chosen)
    ]


def _grade_between(problem: Problem, response: str | None) -> Grade:
    answer = extract_final_answer(response)
    if answer is None or not answer.lstrip("-").isdigit():
        return Grade(False, answer)
    value = int(answer)
    return Grade(problem.metadata["low"] < value < problem.metadata["high"], str(value))
