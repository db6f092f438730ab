"""A task as a mini-LM reads it: the same problems, splits and grader, with the corpus's compact prompts.

``task_for_model(task, model)`` returns ``task`` itself for any model but a mini-LM (whose
config carries ``ladbench_minilm``, see ``ladbench.llm.minilm.pretrain``); for a mini-LM it
returns a :class:`MiniLMTask`: each problem's ``question`` is the corpus's compact prompt (e.g.
``"12 27:"``; the mini-LM's chat template prepends ``<s>``), the system message is empty, and
``corpus`` is the task's corpus with the options the mini-LM was pretrained on (its formats are
what exact evaluation enumerates). Problems keep their uids and metadata, and grading is the
task's own, so rewards and answer keys are those of every other model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ladbench.errors import UserError
from ladbench.llm.minilm.corpus import CORPORA, Corpus, recorded_corpus
from ladbench.llm.tasks.base import Grade, Problem, Task


def minilm_info(model) -> dict[str, Any] | None:
    """The ``ladbench_minilm`` record of a mini-LM's config; None for other models."""
    return getattr(getattr(model, "config", None), "ladbench_minilm", None)


class MiniLMTask(Task):
    def __init__(self, task: Task, corpus: Corpus):
        super().__init__(task.split_seed)
        self.task, self.corpus = task, corpus
        self.name, self.splits, self.eval_prompts = task.name, task.splits, task.eval_prompts
        self.system_message = ""
        self.max_new_tokens = task.max_new_tokens

    def _problems(self, split: str, size: int) -> list[Problem]:
        return [dataclasses.replace(p, question=self.corpus.prompt(p)) for p in self.task.problems(split, size)]

    def grade_many(self, problems: Sequence[Problem], responses: Sequence[str | None]) -> list[Grade]:
        return self.task.grade_many(problems, responses)

    def valid_answers(self, problem: Problem) -> frozenset[str] | None:
        return self.task.valid_answers(problem)


def task_for_model(task: Task, model) -> Task:
    info = minilm_info(model)
    if info is None or isinstance(task, MiniLMTask):
        return task
    if task.name not in CORPORA:
        raise UserError(
            f"task {task.name!r} has no mini-LM corpus, so a mini-LM cannot read its prompts; valid choices: "
            f"{CORPORA.listed()}"
        )
    return MiniLMTask(task, recorded_corpus(task.name, info.get("corpus_options")))
