"""The configurations of the LLM track: one training run (saved in its manifest) and one evaluation.

Pydantic models, as the bandit track's ``BanditConfig``: every field has a description, the
command lines are generated from them (``ladbench llm train --help``), and the names the two
tracks share mean the same thing (``loss``, ``advantage``, ``steps``, ``group_size``, ``lr``,
``logz_lr``, ``inner_epochs``). The defaults differ where the tracks do: an LLM run follows TRL
(``advantage = "grpo"``, a small learning rate), the bandit follows the paper's setup.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from ladbench.errors import UserError, refuse_ignored, validated
from ladbench.llm.device import check_device, check_dtype
from ladbench.llm.tasks import TRAINABLE_TASKS, task_class
from ladbench.losses.config import LossConfig, TrainsALoss, fold_shorthands
from ladbench.resources import MAX_SEED

MODEL_HELP = (
    "smollm2-135m, tiny (a random test model), minilm or minilm:<corpus> (a mini-LM pretrained here on first "
    "use: ladbench llm pretrain), a local model directory or a hub id org/name."
)
DEVICE_HELP = "Where the model computes: auto (CUDA when available), cpu, cuda or cuda:N."
DTYPE_HELP = "Precision of the forward passes: float32 or bfloat16 (weights, optimizer state and loss stay float32)."
CURVE_SETTINGS = ("curve_k", "curve_prompts", "curve_task", "curve_max_new_tokens")  # read only with curve_every
Device = Annotated[str, AfterValidator(check_device)]  # spelling only; resolve_placement checks the machine
Dtype = Annotated[str, AfterValidator(check_dtype)]


class TrainConfig(TrainsALoss):
    """Everything that determines an LLM training run.

    Each step samples ``prompts_per_step`` prompts from a pool of ``train_prompts`` training
    prompts, ``group_size`` completions each, and takes ``inner_epochs`` optimizer steps on them
    (1: on-policy; pi_old is the sampling policy either way)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field("smollm2-135m", description=MODEL_HELP)
    task: str = Field("basic_arithmetic", description=f"Training task: {', '.join(TRAINABLE_TASKS)}.")
    loss: LossConfig = Field(
        default_factory=LossConfig,
        description="The loss and its options, e.g. "
        '{name = "lad", divergence = "js", eta = 0.25} (the paper\'s math setting: 1/eta = 4).',
    )
    advantage: str = Field("grpo", description="Group advantage estimator: grpo, dr_grpo, rloo, raw.")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Sampling seed.")
    split_seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the train/eval prompt split.")
    steps: int = Field(20, ge=1, le=1_000_000, description="Training steps (one rollout batch each).")
    prompts_per_step: int = Field(4, ge=1, description="Prompts per step.")
    group_size: int = Field(4, ge=1, description="Completions per prompt (G).")
    max_new_tokens: int | None = Field(
        None, ge=1, description="Completion length limit; default: the task's (24 math, 128 code, 64 codeio)."
    )
    train_prompts: int = Field(256, ge=1, description="Size of the pool the step's prompts are drawn from.")
    lr: float = Field(1e-5, gt=0, le=1, allow_inf_nan=False, description="AdamW learning rate of the policy.")
    logz_lr: float = Field(
        1e-3, gt=0, le=100, allow_inf_nan=False, description="AdamW learning rate of FlowRL's log Z head."
    )
    inner_epochs: int = Field(1, ge=1, le=1000, description="Optimizer steps per rollout batch (1: on-policy).")
    dynamic_sampling: bool = Field(
        False,
        description="DAPO's dynamic sampling: drop the groups whose rewards are "
        "all equal before the update (a step whose groups are all dropped skips it).",
    )
    grad_clip: float = Field(1.0, gt=0, le=1e6, allow_inf_nan=False, description="Gradient-norm clip.")
    trainable_layers: int | None = Field(None, ge=1, description="Train only the top N transformer blocks (none: all).")
    train_embeddings: bool = Field(False, description="Also train the (tied) embeddings.")
    checkpoint_every: int = Field(10, ge=1, description="Steps between checkpoints.")
    curve_every: int = Field(
        0,
        ge=0,
        description="Evaluate the model every N steps, before the first and after the "
        "last, into <out>/evals/step_<N>/ as `ladbench llm eval` does (0: never): the training "
        "curves of the eval metrics.",
    )
    curve_k: int = Field(16, ge=1, description="Samples per prompt of the evaluations during training.")
    curve_prompts: int | None = Field(
        None,
        ge=1,
        description="Held-out prompts of the evaluations during training; "
        "default: the task's (32; all 164 for humaneval).",
    )
    curve_task: str | None = Field(
        None,
        description="Task of the evaluations during training (any training task, "
        "or humaneval); default: the training task.",
    )
    curve_max_new_tokens: int | None = Field(
        None,
        ge=1,
        description="Completion length limit of the evaluations during training; default: the evaluated task's.",
    )
    device: Device = Field("auto", description=DEVICE_HELP)
    dtype: Dtype = Field("float32", description=DTYPE_HELP)

    @model_validator(mode="before")
    @classmethod
    def _shorthands_and_task_defaults(cls, data: Any) -> Any:
        data = fold_shorthands(data)
        if isinstance(data, dict) and data.get("max_new_tokens") is None:
            data = {
                **data,
                "max_new_tokens": task_class(data.get("task", cls.model_fields["task"].default)).max_new_tokens,
            }
        return data

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> TrainConfig:
        if "train" not in task_class(self.task).splits:
            raise UserError(f"task {self.task!r} is for evaluation only; train on one of: {', '.join(TRAINABLE_TASKS)}")
        if self.curve_task is not None:
            task_class(self.curve_task)  # unknown task: UserError listing the valid ones
        self.check_groups("completion")
        if self.prompts_per_step > self.train_prompts:
            raise UserError(
                f"prompts_per_step={self.prompts_per_step} is more than train_prompts={self.train_prompts}, "
                "the pool each step draws its prompts from (without replacement)"
            )
        refuse_ignored(self, info.context)
        return self

    def ignored_settings(self) -> dict[str, str]:
        """The fields given explicitly that this config never reads, each with why (as ``BanditConfig``'s)."""
        return self.explicitly_ignored(
            dict.fromkeys(
                CURVE_SETTINGS, "with curve_every = 0: no evaluations during training" if not self.curve_every else None
            )
        )

    def curve_evaluation(self) -> dict[str, Any]:
        """The settings of the evaluations during training (``curve_every``), as EvalConfig's fields
        but ``model``: the curve_* fields, and the run's task, seeds, device and dtype."""
        settings = EvalConfig.build(
            model="<the run's model>",
            task=self.curve_task or self.task,
            k=self.curve_k,
            prompts=self.curve_prompts,
            max_new_tokens=self.curve_max_new_tokens,
            seed=self.seed,
            split_seed=self.split_seed,
            device=self.device,
            dtype=self.dtype,
        ).model_dump()
        del settings["model"]
        return settings


class EvalConfig(BaseModel):
    """One evaluation: k samples per held-out prompt of a task (``ladbench llm eval --help``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(..., description="A run directory, or " + MODEL_HELP)
    task: str = Field(
        "basic_arithmetic", description="Task whose held-out split is evaluated (any training task, or humaneval)."
    )
    k: int = Field(8, ge=1, description="Samples per prompt.")
    prompts: int | None = Field(
        None, ge=1, description="Held-out prompts; default: the task's (32; all 164 for humaneval)."
    )
    max_new_tokens: int | None = Field(
        None, ge=1, description="Completion length limit; default: the task's (24 math, 128 code, 256 humaneval)."
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Sampling seed.")
    split_seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the train/eval prompt split (as in training).")
    batch_prompts: int = Field(8, ge=1, description="Prompts sampled (and graded) together.")
    device: Device = Field("auto", description=DEVICE_HELP)
    dtype: Dtype = Field("float32", description=DTYPE_HELP)
    base_eval: str | None = Field(
        None,
        description="Eval directory of the base model on the same task, prompts and "
        "split seed: adds tv_base_correct and kl_base_correct (distance to its correct "
        "answers).",
    )

    @model_validator(mode="after")
    def _check(self) -> EvalConfig:
        task_class(self.task)  # unknown task: UserError listing the valid ones
        return self

    @classmethod
    def build(cls, **fields: Any) -> EvalConfig:
        return validated(cls, fields)
