"""The resolved configuration of one LLM training run (saved as config.json in the run directory)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ladbench.errors import UserError, choices_error
from ladbench.losses import ADVANTAGE_ESTIMATORS, get_loss
from ladbench.llm.device import check_device, check_dtype
from ladbench.llm.tasks import TRAINABLE_TASKS, get_task


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a run. ``loss_options`` go to ``get_loss(method, **loss_options)``.

    Each step samples ``prompts_per_step`` prompts from a pool of ``train_prompts`` training
    prompts, ``group_size`` completions each, and takes ``updates_per_batch`` optimizer steps on
    them (1: on-policy; pi_old is the sampling policy either way). ``trainable_layers`` limits
    training to the top N transformer blocks (None: all); embeddings (tied to the output layer in
    SmolLM2) stay frozen unless ``train_embeddings``. ``device`` (auto, cpu, cuda, cuda:N) is where
    the run computes and ``dtype`` (float32, bfloat16) the precision of its forward passes (see
    ``ladbench.llm.device``; whether the machine has the device is checked when the run starts).
    """

    model: str = "smollm2-135m"
    task: str = "basic_arithmetic"
    method: str = "lad"
    loss_options: dict[str, Any] = field(default_factory=dict)
    advantage: str = "grpo"
    seed: int = 0
    split_seed: int = 0
    steps: int = 20
    prompts_per_step: int = 4
    group_size: int = 4
    max_new_tokens: int | None = None  # None: the task's default (24 for math, 128 for code)
    train_prompts: int = 256
    learning_rate: float = 1e-5
    log_z_learning_rate: float = 1e-3
    updates_per_batch: int = 1
    grad_clip: float = 1.0
    trainable_layers: int | None = None
    train_embeddings: bool = False
    checkpoint_every: int = 10
    device: str = "auto"
    dtype: str = "float32"

    def __post_init__(self) -> None:
        get_loss(self.method, **self.loss_options)  # unknown method or option: UserError
        task = get_task(self.task)
        if "train" not in task.splits:
            raise UserError(f"task {self.task!r} is for evaluation only; train on one of: {', '.join(TRAINABLE_TASKS)}")
        if self.max_new_tokens is None:
            object.__setattr__(self, "max_new_tokens", task.max_new_tokens)  # frozen: resolve once, here
        if self.advantage not in ADVANTAGE_ESTIMATORS:
            raise choices_error("advantage estimator", self.advantage, ADVANTAGE_ESTIMATORS)
        for name in (
            "steps",
            "prompts_per_step",
            "group_size",
            "max_new_tokens",
            "train_prompts",
            "updates_per_batch",
            "checkpoint_every",
        ):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.group_size < 2 and self.advantage != "raw":
            raise UserError(f"advantage {self.advantage!r} needs group_size >= 2")
        check_device(self.device)
        check_dtype(self.dtype)
        if self.learning_rate <= 0:
            raise UserError(f"learning_rate must be positive, got {self.learning_rate}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return cls(**{key: value for key, value in data.items() if key in {f.name for f in dataclasses.fields(cls)}})
