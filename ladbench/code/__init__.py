"""Code tasks for the LLM track: problems, program extraction, canonical forms, sandboxed grading."""

from ladbench.code.grading import CodeGrade, grade_completions
from ladbench.code.problems import CodeProblem, generated_problems, humaneval_problems
from ladbench.code.programs import canonical_program, extract_program

__all__ = [
    "CodeGrade",
    "CodeProblem",
    "canonical_program",
    "extract_program",
    "generated_problems",
    "grade_completions",
    "humaneval_problems",
]
