"""The LLM track's tasks, by name: ``get_task(name, split_seed)``.

Every task is a class registered in ``TASKS`` (``ladbench.llm.tasks.base``) that declares its
facts: math (reasoning-gym, ``gym``), the multi-answer families (each lists its valid answers,
``multi_answer``) and code (``code_tasks``: generated and trainable, HumanEval for evaluation only,
reasoning-gym's codeio). ``TASKS.names()`` lists them; see each module.
"""

from __future__ import annotations

from ladbench.llm.tasks.base import TASKS, Grade, Problem, Task

# isort: split
# registered in this order: the math tasks, the multi-answer families, then code (how help lists them)
from ladbench.llm.tasks.gym import MathGymTask  # noqa: F401
from ladbench.llm.tasks.multi_answer import BetweenTask  # noqa: F401

# isort: split
from ladbench.llm.tasks.code_tasks import CodeTask

TRAINABLE_TASKS = tuple(name for name, cls in TASKS.items() if "train" in cls.splits)


def task_class(name: str) -> type[Task]:
    """The class of task ``name``, for its class-level facts (splits, max_new_tokens,
    eval_prompts) without building it: a reasoning-gym task's constructor loads reasoning-gym,
    and config validation must stay fast. Unknown name: a UserError listing the valid ones."""
    return TASKS[name]


def get_task(name: str, split_seed: int = 0) -> Task:
    return TASKS[name](split_seed)


__all__ = ["TASKS", "TRAINABLE_TASKS", "CodeTask", "Grade", "Problem", "Task", "get_task", "task_class"]
