"""The LLM track's tasks, by name: ``get_task(name, split_seed)``.

Math: ``basic_arithmetic``, ``chain_sum``, ``gsm_symbolic``, ``arithmetic_mixed`` (reasoning-gym)
and the multi-answer families ``pair_sum``, ``pair_sum_large``, ``between``, ``between_wide`` and
``multiple_between`` (each lists its valid answers; the wider variants' ranges are set here).
Code: ``code_functions`` (generated, trainable), ``humaneval`` (evaluation only) and ``codeio``
(reasoning-gym: predict a program's output). See each module.
"""

from __future__ import annotations

from functools import partial

from ladbench.errors import choices_error
from ladbench.llm.tasks.base import Grade, Problem, Task
from ladbench.llm.tasks.code_tasks import CodeFunctionsTask, CodeTask, HumanEvalTask
from ladbench.llm.tasks.gym import CodeIOTask, MathGymTask
from ladbench.llm.tasks.multi_answer import BetweenTask, MultipleBetweenTask, PairSumTask

TASK_FACTORIES: dict[str, type[Task] | partial[Task]] = {
    "basic_arithmetic": partial(MathGymTask, "basic_arithmetic"),
    "chain_sum": partial(MathGymTask, "chain_sum"),
    "gsm_symbolic": partial(MathGymTask, "gsm_symbolic"),
    "arithmetic_mixed": partial(MathGymTask, "arithmetic_mixed"),
    "pair_sum": PairSumTask,
    "pair_sum_large": partial(PairSumTask, name="pair_sum_large", targets=range(40, 201)),
    "between": BetweenTask,
    "between_wide": partial(BetweenTask, name="between_wide", lows=range(1, 201), widths=range(30, 101)),
    "multiple_between": MultipleBetweenTask,
    "code_functions": CodeFunctionsTask,
    "humaneval": HumanEvalTask,
    "codeio": CodeIOTask,
}
TASKS = tuple(TASK_FACTORIES)
TRAINABLE_TASKS = tuple(
    name for name, factory in TASK_FACTORIES.items() if "train" in getattr(factory, "func", factory).splits
)


def task_class(name: str) -> type[Task]:
    """The class of task ``name``, for its class-level facts (splits, max_new_tokens,
    eval_prompts) without building it: a reasoning-gym task's constructor loads reasoning-gym,
    and config validation must stay fast."""
    if not isinstance(name, str) or name not in TASK_FACTORIES:
        raise choices_error("task", name, TASKS)
    factory = TASK_FACTORIES[name]
    return getattr(factory, "func", factory)


def get_task(name: str, split_seed: int = 0) -> Task:
    task_class(name)  # unknown name: UserError listing the valid ones
    return TASK_FACTORIES[name](split_seed)


__all__ = ["TASKS", "TRAINABLE_TASKS", "CodeTask", "Grade", "Problem", "Task", "get_task", "task_class"]
