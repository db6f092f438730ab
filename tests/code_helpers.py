"""Correct solutions of the generated code problems, for tests that need right and wrong programs."""

from __future__ import annotations

SOLUTIONS = {  # body completing each family's signature, with k filled in
    "add_k": "    return [x + {k} for x in xs]\n",
    "greater_than_k": "    return [x for x in xs if x > {k}]\n",
    "count_multiples": "    return len([x for x in xs if x % {k} == 0])\n",
    "times_k": "    return [x * {k} for x in xs]\n",
    "repeat_k": "    return s * {k}\n",
    "first_k": "    return s[:{k}]\n",
    "sum_first_k": "    return sum(xs[:{k}])\n",
    "pad_k": "    return '*' * {k} + s + '*' * {k}\n",
}


def parameter(uid: str) -> int:
    """The constant k of a generated problem, the last field of its uid."""
    return int(uid.rsplit("-", 1)[1])


def solution_body(entry_point: str, uid: str, offset: int = 0) -> str:
    """The body of a correct solution (``offset`` != 0: the same code with a wrong constant)."""
    return SOLUTIONS[entry_point].format(k=parameter(uid) + offset)
