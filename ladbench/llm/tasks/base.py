"""What every LLM task is: problems in fixed splits, and a grader that never raises.

A task yields :class:`Problem` s and scores a batch of responses with ``grade_many(problems,
responses)``, returning one :class:`Grade` per response: ``correct`` (the reward is 1.0 if correct
else 0.0), ``key`` (a canonical form of the answer, used to count distinct correct answers) and,
for tasks that execute code, the sandbox's ``status`` and ``reason``. Malformed output is simply
incorrect. Tasks with a finite, enumerable set of correct answers list their keys with
``valid_answers(problem)``. ``system_message`` is the instruction the chat template puts before each question;
``max_new_tokens`` and ``eval_prompts`` are the defaults train and eval use when not told.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from ladbench.errors import UserError, choices_error
from ladbench.registry import Registry

SPLITS = ("train", "eval")
ANSWER_ONLY = "Answer with only the final answer."


@dataclass(frozen=True)
class Problem:
    """One prompt: an id, the question text, the reference answer (text) and task metadata."""

    uid: str
    question: str
    answer: str
    metadata: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Grade:
    correct: bool
    key: str | None  # canonical answer; None when nothing could be extracted
    status: str | None = None  # code tasks: the sandbox's pass / fail / timeout / error
    reason: str = ""  # code tasks: why the program passed or failed

    @property
    def reward(self) -> float:
        return 1.0 if self.correct else 0.0


class Task(ABC):
    """A named task: its splits, its prompts, and its grader.

    A registered task (``@TASKS.register``) is a class whose constructor takes ``split_seed`` only,
    and declares its facts as class attributes: ``name``, ``splits``, ``system_message``,
    ``max_new_tokens``, ``eval_prompts``; ``valid_answers`` enumerates a problem's correct answers
    where it can, and ``reference_response`` writes a response the grader must accept. The
    contract tests (``tests/test_contracts.py``) check every registered task against them."""

    name: str
    splits: tuple[str, ...] = SPLITS
    system_message: str = ANSWER_ONLY
    max_new_tokens: int = 24
    eval_prompts: int = 32

    def __init__(self, split_seed: int = 0):
        self.split_seed = split_seed

    def problems(self, split: str, size: int) -> list[Problem]:
        """``size`` problems of the split, the same for the same (task, split_seed, split, size)."""
        if split not in SPLITS:
            raise choices_error("split", split, SPLITS)
        if split not in self.splits:
            raise UserError(f"task {self.name!r} has no {split} split (only {', '.join(self.splits)})")
        if size < 1:
            raise UserError(f"number of prompts must be at least 1, got {size}")
        return self._problems(split, size)

    @abstractmethod
    def _problems(self, split: str, size: int) -> list[Problem]: ...

    def grade(self, problem: Problem, response: str | None) -> Grade:
        """Score one response."""
        return self.grade_many([problem], [response])[0]

    @abstractmethod
    def grade_many(self, problems: Sequence[Problem], responses: Sequence[str | None]) -> list[Grade]:
        """Score response i against problem i."""

    def valid_answers(self, problem: Problem) -> frozenset[str] | None:
        """Every correct answer's key (as ``Grade.key`` writes it) when the task can enumerate
        them, else None (single-answer tasks, open-ended answers such as programs)."""
        return None

    def reference_response(self, problem: Problem) -> str | None:
        """A response the grader must accept: the smallest valid answer's key where the task
        enumerates them, else the reference answer; None where the task has no reference it can
        write (a code task's problems carry tests, not a reference program)."""
        valid = self.valid_answers(problem)
        return min(valid) if valid else problem.answer


TASKS: Registry[Task] = Registry("task")  # every LLM task, by name: ``@TASKS.register``


class ResponseTask(Task):
    """A task whose responses are graded one at a time, in this process (no code is run)."""

    def grade_many(self, problems: Sequence[Problem], responses: Sequence[str | None]) -> list[Grade]:
        return [self.grade_response(problem, response) for problem, response in zip(problems, responses, strict=True)]

    @abstractmethod
    def grade_response(self, problem: Problem, response: str | None) -> Grade: ...
