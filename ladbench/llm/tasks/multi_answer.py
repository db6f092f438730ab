"""Our multi-answer math families, where distinct correct answers per prompt measure diversity.

- ``between`` (easier): "Name an integer greater than A and less than B" (1 <= A <= 40,
  B - A in 6..20). Correct iff the extracted final answer is an integer strictly between A and B;
  the key is that integer, so up to B - A - 1 distinct correct answers exist. A pair (A, B) with
  A + B divisible by 4 is held out for evaluation. SmolLM2-135M answers about one prompt in five
  correctly before training, so groups carry a learning signal.
- ``pair_sum`` (harder): "Give two positive integers that add up to N". Correct iff the first pair
  extracted by ``extract_pair`` has a, b >= 1 and a + b = N; N - 1 answers are correct (ordered),
  and the key is the unordered pair. N ranges over 4..33; N divisible by 4 is held out for
  evaluation.
"""

from __future__ import annotations

import random

from ladbench.errors import UserError
from ladbench.llm.extract import extract_final_answer, extract_pair
from ladbench.llm.tasks.base import Grade, Problem, ResponseTask

PAIR_RANGE = range(4, 34)


class PairSumTask(ResponseTask):
    name = "pair_sum"

    def _problems(self, split: str, size: int) -> list[Problem]:
        targets = [n for n in PAIR_RANGE if (n % 4 == 0) == (split == "eval")]
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


class BetweenTask(ResponseTask):
    name = "between"

    def _problems(self, split: str, size: int) -> list[Problem]:
        bounds = [(low, low + width) for low in range(1, 41) for width in range(6, 21)]
        bounds = [(low, high) for low, high in bounds if ((low + high) % 4 == 0) == (split == "eval")]
        if size > len(bounds):
            raise UserError(f"task 'between' has {len(bounds)} {split} prompts; ask for at most that many")
        chosen = random.Random(f"{self.split_seed}-{split}-between").sample(bounds, size)
        return [
            Problem(
                f"{split}-{index}",
                f"Name an integer greater than {low} and less than {high}.",
                f"{low + 1}..{high - 1}",
                {"low": low, "high": high},
            )
            for index, (low, high) in enumerate(chosen)
        ]

    def grade_response(self, problem: Problem, response: str | None) -> Grade:
        answer = extract_final_answer(response)
        if answer is None or not answer.lstrip("-").isdigit():
            return Grade(False, answer)
        value = int(answer)
        return Grade(problem.metadata["low"] < value < problem.metadata["high"], str(value))
