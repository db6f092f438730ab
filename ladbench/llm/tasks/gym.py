"""reasoning-gym tasks: arithmetic and GSM-style math, and ``codeio`` (predict a program's output).

All are generated locally from a reasoning-gym dataset with the settings in ``GYM_TASKS``. The train split uses seed
``split_seed``, the eval split seed ``split_seed + EVAL_SEED_OFFSET``, with eval questions that
also occur in the train split removed.

- ``basic_arithmetic``, ``chain_sum``, ``gsm_symbolic`` (settings chosen so SmolLM2-135M is right
  some of the time) and ``arithmetic_mixed`` (reasoning-gym's basic_arithmetic with +, - and *,
  two terms of 1 to 2 digits: single-answer problems from trivial, 1 * 7, to out of reach without
  working, 86 * 66, so that accuracy can keep rising after the easy ones are learned): a
  response is correct when its extracted answer (see ``extract``) scores 1.0 with the
  generator's own ``score_answer`` or equals the reference by ``math_verify.verify``.
- ``codeio``: a task description, a reference program and an input; the answer is the program's
  output as a JSON value. Only output prediction is generated (reasoning-gym's
  ``input_prediction_probability`` is, despite its name, the probability of an output-prediction
  question). Correct iff the extracted JSON value equals the reference output, floats compared
  with relative tolerance 1e-6; the key is the value's sorted JSON. No eval question occurs in
  the train split, but a reference program may occur in both with different inputs. reasoning-gym's own scorer gives
  partial credit for near misses, which a 0/1 reward ignores. Note that reasoning-gym executes its
  dataset's reference programs in this process to make the questions (trusted dataset code, not
  model output; the model's answer is never executed).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import math
import re
import warnings
from typing import Any

from ladbench.errors import UserError
from ladbench.llm.deps import require
from ladbench.llm.extract import MAX_CHARS, NUMBER, extract_final_answer
from ladbench.llm.tasks.base import TASKS, Grade, Problem, ResponseTask

GYM_TASKS: dict[str, tuple[str, dict[str, Any]]] = {  # task name: (reasoning-gym dataset, its settings)
    "basic_arithmetic": (
        "basic_arithmetic",
        dict(
            min_terms=2,
            max_terms=2,
            min_digits=1,
            max_digits=2,
            operators=("+", "-"),
            allow_parentheses=False,
            allow_negation=False,
        ),
    ),
    "arithmetic_mixed": (
        "basic_arithmetic",
        dict(
            min_terms=2,
            max_terms=2,
            min_digits=1,
            max_digits=2,
            operators=("+", "-", "*"),
            allow_parentheses=False,
            allow_negation=False,
        ),
    ),
    "chain_sum": ("chain_sum", dict(min_terms=2, max_terms=3, min_digits=1, max_digits=2)),
    "gsm_symbolic": ("gsm_symbolic", dict()),
    "codeio": ("codeio", dict(input_prediction_probability=1.0)),
}
EVAL_SEED_OFFSET = 1_000_003  # reasoning-gym seeds item i with seed + i: keep the splits far apart
FENCED = re.compile(r"```(?:json|python)?[ \t]*\n?(.*?)```", re.DOTALL)


class GymTask(ResponseTask):
    """A reasoning-gym dataset split into train and eval prompts (``GYM_TASKS[name]``)."""

    def __init__(self, split_seed: int = 0):
        super().__init__(split_seed)
        self.dataset_name, self.settings = GYM_TASKS[self.name]

    def _dataset(self, size: int, seed: int):
        reasoning_gym = require("reasoning_gym")
        return reasoning_gym.create_dataset(self.dataset_name, size=size, seed=seed, **self.settings)

    def _problems(self, split: str, size: int) -> list[Problem]:
        # items are made lazily while iterating; codeio's come from running its dataset's programs,
        # which print their own errors and numpy warnings: keep those out of the user's output
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return self._generate(split, size)

    def _generate(self, split: str, size: int) -> list[Problem]:
        seed = self.split_seed + (0 if split == "train" else EVAL_SEED_OFFSET)
        dataset = self._dataset(4 * size + 50, seed)
        excluded = set()
        if split == "eval":
            excluded = {entry["question"] for entry in self._dataset(4 * size + 50, self.split_seed)}
        problems: list[Problem] = []
        seen: set[str] = set()
        for index, entry in enumerate(dataset):
            if entry["question"] in excluded or entry["question"] in seen:
                continue
            seen.add(entry["question"])
            problems.append(Problem(f"{split}-{index}", entry["question"], str(entry["answer"]), entry["metadata"]))
            if len(problems) == size:
                return problems
        raise UserError(f"task {self.name!r} has fewer than {size} distinct {split} prompts; ask for fewer")


class MathGymTask(GymTask):
    def __init__(self, split_seed: int = 0):
        super().__init__(split_seed)
        self._scorer = self._dataset(1, split_seed)

    def grade_response(self, problem: Problem, response: str | None) -> Grade:
        answer = extract_final_answer(response)
        if answer is None:
            return Grade(False, None)
        entry = {"question": problem.question, "answer": problem.answer, "metadata": problem.metadata}
        try:
            by_generator = float(self._scorer.score_answer(answer, entry)) >= 1.0
        except Exception:  # a generator's scorer choking on odd text is the text's fault: score 0
            by_generator = False
        return Grade(by_generator or _verify(problem.answer, answer), answer.replace(" ", ""))


def _verify(reference: str, answer: str) -> bool:
    """math-verify's equivalence of two answer strings; False on any parsing trouble."""
    math_verify = require("math_verify")
    try:
        return bool(math_verify.verify(math_verify.parse(reference), math_verify.parse(answer)))
    except Exception:
        return False


@TASKS.register
class BasicArithmeticTask(MathGymTask):
    name = "basic_arithmetic"


@TASKS.register
class ChainSumTask(MathGymTask):
    name = "chain_sum"


@TASKS.register
class GSMSymbolicTask(MathGymTask):
    name = "gsm_symbolic"


@TASKS.register
class ArithmeticMixedTask(MathGymTask):
    name = "arithmetic_mixed"


@TASKS.register
class CodeIOTask(GymTask):
    name = "codeio"
    max_new_tokens = 64

    def grade_response(self, problem: Problem, response: str | None) -> Grade:
        value = extract_json_value(response)
        if value is _MISSING:
            return Grade(False, None)
        return Grade(json_equal(value, json.loads(problem.answer)), json.dumps(value, sort_keys=True))


_MISSING = object()


def extract_json_value(text: str | None) -> Any:
    """The answer as a JSON value. Candidates, in order: the last fenced block, the last
    \\boxed{...}, the whole text, its last line, the span from the first ``{`` to the last ``}``,
    the same for ``[ ]``, the last number. Each is read as JSON, then as a Python literal (small
    models write single quotes); the first that parses is the answer, ``_MISSING`` if none does."""
    if not text:
        return _MISSING
    text = text[:MAX_CHARS]
    candidates = [block.strip() for block in FENCED.findall(text)[-1:]]
    boxed = extract_final_answer(text) if "\\boxed{" in text else None
    candidates += [boxed] if boxed else []
    stripped = text.strip()
    candidates += [stripped, stripped.splitlines()[-1] if stripped else ""]
    for opening, closing in ("{}", "[]"):
        first, last = text.find(opening), text.rfind(closing)
        if 0 <= first < last:
            candidates.append(text[first : last + 1])
    numbers = NUMBER.findall(text)
    candidates += numbers[-1:]
    for candidate in candidates:
        for parse in (json.loads, ast.literal_eval):
            try:
                value = parse(candidate)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            try:
                json.dumps(value)  # sets, bytes, complex: not JSON values
            except (TypeError, ValueError):
                continue
            return value
    return _MISSING


def json_equal(value: Any, reference: Any) -> bool:
    """Structural equality of JSON values; numbers within relative tolerance 1e-6 (bools are not numbers)."""
    if isinstance(reference, bool) or isinstance(value, bool):
        return value is reference
    if isinstance(reference, (int, float)) and isinstance(value, (int, float)):
        return math.isclose(value, reference, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(reference, dict) and isinstance(value, dict):
        return value.keys() == reference.keys() and all(json_equal(value[k], reference[k]) for k in reference)
    if isinstance(reference, list) and isinstance(value, (list, tuple)):
        return len(value) == len(reference) and all(json_equal(v, r) for v, r in zip(value, reference, strict=True))
    return value == reference
