"""Rewards for code: run every completion of a batch in the sandbox pool, in parallel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ladbench.code.problems import CodeProblem
from ladbench.code.programs import canonical_program, extract_program
from ladbench.sandbox import SandboxLimits, run_many


@dataclass(frozen=True)
class CodeGrade:
    correct: bool
    key: str | None  # canonical program (for distinct correct programs); None if unparsable
    status: str  # the sandbox's pass / fail / timeout / error
    reason: str

    @property
    def reward(self) -> float:
        return 1.0 if self.correct else 0.0


def grade_completions(
    problems: Sequence[CodeProblem],
    completions: Sequence[str | None],
    limits: SandboxLimits | None = None,
    workers: int | None = None,
) -> list[CodeGrade]:
    """Grade completion i against problem i; the programs run concurrently on a worker pool."""
    programs = [
        extract_program(problem.prompt, problem.entry_point, completion)
        for problem, completion in zip(problems, completions, strict=True)
    ]
    results = run_many(
        [(program, problem.tests) for program, problem in zip(programs, problems, strict=True)], limits, workers
    )
    return [
        CodeGrade(result.passed, canonical_program(program), result.status, result.reason)
        for program, result in zip(programs, results, strict=True)
    ]
