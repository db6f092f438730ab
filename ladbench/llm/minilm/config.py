"""The configuration of ``ladbench llm exact`` (light: no torch, numpy or pandas, for the command line)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ladbench.errors import UserError, validated
from ladbench.resources import MAX_SEED


class ExactConfig(BaseModel):
    """One exact evaluation (``ladbench llm exact --help``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(..., description="A mini-LM: minilm, minilm:<corpus>, its directory, or a run directory.")
    task: str = Field("between", description="Task whose held-out prompts are evaluated (one with a corpus).")
    prompts: int = Field(32, ge=1, description="Held-out prompts.")
    samples: int = Field(512, ge=0, description="Samples per prompt of the exactness check (0: no check).")
    check_prompts: int = Field(8, ge=1, description="Prompts of the exactness check (the first of the evaluated).")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Sampling seed of the check.")
    split_seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the train/eval prompt split (as in training).")

    @model_validator(mode="after")
    def _check(self) -> ExactConfig:
        from ladbench.llm.minilm.corpus import CORPORA
        from ladbench.llm.tasks import task_class

        task_class(self.task)  # unknown task: the valid ones
        if self.task not in CORPORA:
            raise UserError(
                f"task {self.task!r} cannot enumerate its correct responses, so it has no exact evaluation; "
                f"valid choices: {CORPORA.listed()}"
            )
        return self

    @classmethod
    def build(cls, **fields: Any) -> ExactConfig:
        return validated(cls, fields)
