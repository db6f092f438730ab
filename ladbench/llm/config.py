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

from ladbench.errors import LENIENT, UserError, refuse_ignored, validated
from ladbench.llm.device import check_device, check_dtype
from ladbench.llm.tasks import TASKS, TRAINABLE_TASKS, task_class
from ladbench.losses.advantages import estimators_help
from ladbench.losses.config import LossConfig, TrainsALoss, fold_shorthands
from ladbench.resources import MAX_SEED

MODEL_HELP = (
    "smollm2-135m, tiny (a random test model), minilm or minilm:<corpus> (a mini-LM pretrained here on first "
    "use: ladbench llm pretrain), a local model directory or a hub id org/name."
)
DEVICE_HELP = "Where the model computes: auto (CUDA when available), cpu, cuda or cuda:N."
DTYPE_HELP = "Precision of the forward passes: float32 or bfloat16 (weights, optimizer state and loss stay float32)."
EVAL_ONLY_TASKS = tuple(name for name in TASKS if name not in TRAINABLE_TASKS)


def task_defaults(fact: str, tasks: tuple[str, ...] = tuple(TASKS)) -> str:
    """A task fact's defaults as help texts state them, read from the task classes: each value
    with its tasks, the value most of ``tasks`` declare last (``64 for codeio; ...; 24 for the others``)."""
    by_value: dict[int, list[str]] = {}
    for name in tasks:
        by_value.setdefault(getattr(TASKS[name], fact), []).append(name)
    common = max(by_value, key=lambda value: len(by_value[value]))
    others = [f"{value} for {', '.join(names)}" for value, names in sorted(by_value.items()) if value != common]
    return "; ".join([*others, f"{common} for the others" if others else str(common)])


EVAL_TASKS_HELP = ", or ".join(["any training task", *([", ".join(EVAL_ONLY_TASKS)] if EVAL_ONLY_TASKS else [])])
Device = Annotated[str, AfterValidator(check_device)]  # spelling only; resolve_placement checks the machine
Dtype = Annotated[str, AfterValidator(check_dtype)]


class CurveConfig(BaseModel):
    """The evaluations during training (``TrainConfig.curve``): every ``every`` steps, before the
    first and after the last, the model is evaluated as ``ladbench llm eval`` would its checkpoint
    (an ``EvalConfig`` of the run's model, seeds, device and dtype: ``TrainConfig.curve_evaluation``),
    into <out>/evals/step_<N>/: the training curves of the eval metrics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every: int = Field(
        ...,
        ge=1,
        description="Evaluate the model every N steps, before the first and after the last (not given or 0: "
        "no evaluations during training).",
    )
    k: int = Field(16, ge=1, description="Samples per prompt of the evaluations during training.")
    prompts: int | None = Field(
        None,
        ge=1,
        description="Held-out prompts of the evaluations during training; "
        f"default: the task's ({task_defaults('eval_prompts')}).",
    )
    task: str | None = Field(
        None,
        description=f"Task of the evaluations during training ({EVAL_TASKS_HELP}); default: the training task.",
    )
    max_new_tokens: int | None = Field(
        None,
        ge=1,
        description="Completion length limit of the evaluations during training; default: the evaluated task's.",
    )


FLAT_CURVE = "curve_"  # the old spelling of the curve table's fields (curve_every = 5), kept in resolved configs
NO_CURVE = {  # the flat keys of a run without evaluations during training, as resolved configs hold them
    name: 0 if name == "every" else field.default for name, field in CurveConfig.model_fields.items()
}
CURVE_MODEL = "<the run's model>"  # the model of an evaluation during training before its run directory is known


def fold_flat_curve(data: Any, lenient: bool) -> Any:
    """A TrainConfig's raw input with the old flat ``curve_<field>`` settings (a manifest's, an old
    TOML file's) moved into the ``curve`` table, and ``every = 0`` read as their meaning then: no
    evaluations during training, so another curve setting beside it does nothing (refused, unless
    validating a sweep grid leniently: see ``errors.refuse_ignored``), as does one without ``every``."""
    if not isinstance(data, dict):
        return data
    flat = {key: data[key] for key in data if key.startswith(FLAT_CURVE) and key.removeprefix(FLAT_CURVE) in NO_CURVE}
    table = data.get("curve")
    if not flat and not isinstance(table, dict):
        return data
    table = dict(table or {})
    for key, value in flat.items():
        name = key.removeprefix(FLAT_CURVE)
        if name in table:
            raise UserError(f"{key}={value!r} and curve.{name}={table[name]!r} both given; give curve.{name} once")
        table[name] = value
    data = {key: value for key, value in data.items() if key not in flat}
    if table.get("every", 0) == 0:
        given = {name: value for name, value in table.items() if name != "every"}
        if given and not lenient:
            name, value = next(iter(given.items()))
            why = "with curve.every = 0" if "every" in table else "without curve.every"
            raise UserError(
                f"curve.{name}={value!r} does nothing {why}: no evaluations during training (set curve.every = N)"
            )
        return {**data, "curve": None}
    return {**data, "curve": table}


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
    advantage: str = Field("grpo", description=f"Group advantage estimator: {estimators_help()}.")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Sampling seed.")
    split_seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the train/eval prompt split.")
    steps: int = Field(20, ge=1, le=1_000_000, description="Training steps (one rollout batch each).")
    prompts_per_step: int = Field(4, ge=1, description="Prompts per step.")
    group_size: int = Field(4, ge=1, description="Completions per prompt (G).")
    max_new_tokens: int | None = Field(
        None,
        ge=1,
        description="Completion length limit; default: the task's "
        f"({task_defaults('max_new_tokens', TRAINABLE_TASKS)}).",
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
    curve: CurveConfig | None = Field(
        None,
        description="The evaluations during training, e.g. {every = 5, k = 16} (none: no evaluations during "
        "training; on the command line --curve-every, --curve-k, ...).",
    )
    device: Device = Field("auto", description=DEVICE_HELP)
    dtype: Dtype = Field("float32", description=DTYPE_HELP)

    @model_validator(mode="before")
    @classmethod
    def _shorthands_and_task_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        data = fold_flat_curve(fold_shorthands(data), (info.context or {}).get(LENIENT, False))
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
        if self.curve is not None and self.curve.task is not None:
            task_class(self.curve.task)  # unknown task: UserError listing the valid ones
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
        return self.explicitly_ignored({})

    def resolved(self) -> dict[str, Any]:
        """Every field, the loss with its full option set, and the evaluations during training as the
        flat ``curve_<field>`` keys (``curve_every = 0``: none) that every run manifest and LLM cell
        hash written before the ``curve`` table held: the same run keeps its cell key."""
        resolved = super().resolved()
        curve = resolved.pop("curve")
        return {**resolved, **{f"{FLAT_CURVE}{name}": value for name, value in (curve or NO_CURVE).items()}}

    def curve_settings(self) -> dict[str, Any]:
        """The settings of the evaluations during training as an LLM cell's evaluation holds them:
        ``curve_evaluation``'s, but ``model``."""
        return self.curve_evaluation().model_dump(exclude={"model"})

    def curve_evaluation(self, model: str = CURVE_MODEL) -> EvalConfig:
        """The evaluation during training of the run's ``model`` (``curve``, which must be set): its
        task, samples, prompts and length, and the run's seeds, device and dtype."""
        return EvalConfig.build(
            model=model,
            task=self.curve.task or self.task,
            k=self.curve.k,
            prompts=self.curve.prompts,
            max_new_tokens=self.curve.max_new_tokens,
            seed=self.seed,
            split_seed=self.split_seed,
            device=self.device,
            dtype=self.dtype,
        )


class EvalConfig(BaseModel):
    """One evaluation: k samples per held-out prompt of a task (``ladbench llm eval --help``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(..., description="A run directory, or " + MODEL_HELP)
    task: str = Field("basic_arithmetic", description=f"Task whose held-out split is evaluated ({EVAL_TASKS_HELP}).")
    k: int = Field(8, ge=1, description="Samples per prompt.")
    prompts: int | None = Field(
        None, ge=1, description=f"Held-out prompts; default: the task's ({task_defaults('eval_prompts')})."
    )
    max_new_tokens: int | None = Field(
        None, ge=1, description=f"Completion length limit; default: the task's ({task_defaults('max_new_tokens')})."
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

    def prompts_and_length(self, task) -> tuple[int, int]:
        """The held-out prompts and completion length evaluated, ``task``'s where this config leaves them."""
        prompts = task.eval_prompts if self.prompts is None else self.prompts
        return prompts, task.max_new_tokens if self.max_new_tokens is None else self.max_new_tokens

    @classmethod
    def build(cls, **fields: Any) -> EvalConfig:
        return validated(cls, fields)
