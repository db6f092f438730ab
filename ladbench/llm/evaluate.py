"""``ladbench llm eval``: k samples per held-out prompt, per-prompt metrics, a summary.

Writes into the output directory (atomically):

    per_prompt.csv   one row per prompt: uid, question, answer, n, correct, avg_at_k, pass_at_1,
                     pass_at_k, dist_3, dist_4, distinct_correct, mean_length (completion tokens),
                     and the answer-set metrics of ``ladbench.llm.metrics`` (valid_answers,
                     coverage, tv_uniform, tv_uniform_floor, kl_uniform, tv_base_correct,
                     kl_base_correct; NaN where undefined)
    pass_at_k.csv    the pass@k curve: k = 1 .. k samples, mean pass@k over prompts
    samples.jsonl    every response with its extracted key and correctness (code tasks: also the
                     sandbox's status and reason)
    summary.json     the means over prompts, the eval settings, the model's training config
                     (when it is a run directory), the device it ran on (``device``: requested,
                     resolved, its name), seconds spent generating and grading, for code tasks the
                     share of programs per sandbox status, and provenance; each mean skips the
                     prompts where its metric is undefined (NaN), and ``metric_prompts`` says how
                     many prompts each mean averages (null: none)
    exact.csv, exact_per_prompt.csv, exact_curves.csv, exact.json
                     a mini-LM only (``ladbench.llm.minilm``): its exact evaluation of the same
                     prompts by teacher forcing, and the missed mass measured on these samples
                     (summary.json's ``exact``; None for other models)
    manifest.json    written last (``ladbench.manifest``, kind ``llm_eval``): the eval settings,
                     the method label of the evaluated run ("base" for an untrained model), its
                     training config and step, task, k, the metrics, the device, and each file's
                     sha256 and row count

``base_eval``, an evaluation directory of the base model on the same task, prompts and
split_seed, supplies the base model's correct answers per prompt (from its samples.jsonl) for
tv_base_correct and kl_base_correct.

The trainer evaluates its model in process during training (``TrainConfig.curve``): it
passes its ``PolicyState`` and the ``train_step``, and ``model_spec`` names the run directory
(whose manifest gives the method label and training config). ``train_step`` is recorded in the
summary and manifest: the step of the evaluated model (a run directory's checkpoint step; None
for a model no ladbench run trained).

Sampling is plain (temperature 1, no top-k/top-p), seeded by ``seed``. Each chunk of prompts is
graded as one batch, so a code task's k x chunk programs run concurrently in the sandbox pool.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from ladbench import layout, manifest, metric_catalogue
from ladbench.errors import UserError
from ladbench.io import write_csv, write_json, write_text
from ladbench.llm.config import EvalConfig
from ladbench.llm.device import resolve_placement
from ladbench.llm.memory import check_eval_memory
from ladbench.llm.metrics import answer_set_metrics, correct_counts, distinct_correct, distinct_n, pass_at_k
from ladbench.llm.minilm.view import MiniLMTask, task_for_model
from ladbench.llm.models import load_policy
from ladbench.llm.passk import pass_at_k_curve
from ladbench.llm.policy import PolicyState
from ladbench.llm.rollout import repeat_each, rollout_cache, sample
from ladbench.llm.tasks import Grade, get_task
from ladbench.provenance import provenance
from ladbench.resources import step_seed

SUMMARY_COLUMNS = metric_catalogue.names(metric_catalogue.LLM_EVAL)
SETTINGS = (
    "model",
    "task",
    "k",
    "prompts",
    "seed",
    "split_seed",
    "max_new_tokens",
    "batch_prompts",
    "dtype",
    "base_eval",
)
BASE_LABEL = "base"  # the method label of an evaluated model that no ladbench run trained


def resolve_model(spec: str) -> tuple[str, dict | None]:
    """A run directory (its manifest says llm_train) becomes its checkpoint's model (and its
    manifest); anything else is a model spec."""
    path = Path(spec)
    if manifest.exists(path):
        run = manifest.read(path)
        if run["kind"] == "llm_train":
            model_dir = path / layout.CHECKPOINT_DIR / layout.CHECKPOINT_MODEL
            if not model_dir.is_dir():
                raise UserError(f"run {spec!r} has no checkpoint yet; train it first")
            return str(model_dir), run
    return spec, None


def evaluate(
    config: EvalConfig,
    out_dir: Path,
    policy: PolicyState | None = None,
    train_step: int | None = None,
    progress: bool = False,
) -> dict:
    """Evaluate ``config`` (a validated ``EvalConfig``) and write the files above; returns the
    summary. ``prompts`` and ``max_new_tokens`` default to the task's (its class's ``eval_prompts``
    and ``max_new_tokens``). ``policy``: the state of the run in
    ``config.model`` at ``train_step``, already in memory (the trainer's evaluations during
    training), instead of the model ``config.model`` names."""
    model_spec, task_name, k, seed, split_seed = config.model, config.task, config.k, config.seed, config.split_seed
    batch_prompts, dtype, base_eval = config.batch_prompts, config.dtype, config.base_eval
    during_training = policy is not None  # the trainer's memory check counted this evaluation
    if policy is None:
        model_path, run = resolve_model(model_spec)
        train_step = None if run is None else run.get("step")
        placement = resolve_placement(config.device, dtype)
        policy = PolicyState(*load_policy(model_path, placement.device), placement)
    else:
        run, placement = manifest.read(model_spec), policy.placement
    model, tokenizer = policy.model, policy.tokenizer
    train_config = None if run is None else run["config"]
    task = task_for_model(get_task(task_name, split_seed), model)  # a mini-LM reads its corpus's compact prompts
    prompts, max_new_tokens = config.prompts_and_length(task)
    if not during_training:
        check_eval_memory(config, policy, task)
    problems = task.problems("eval", prompts)
    base_counts = None if base_eval is None else load_base_counts(Path(base_eval), problems)
    cache = rollout_cache(model, dtype)
    rows, samples = [], []
    seconds = {"generate_s": 0.0, "grade_s": 0.0}
    bar = tqdm(total=len(problems), unit="prompt", desc=f"eval {task_name}", disable=not progress or None)
    for start in range(0, len(problems), batch_prompts):  # ``progress``: a bar on a terminal only (disable=None)
        chunk = problems[start : start + batch_prompts]
        torch.manual_seed(step_seed(seed, start))
        started = time.perf_counter()
        questions = [p.question for p in chunk]
        rollout = sample(model, tokenizer, questions, k, max_new_tokens, task.system_message, dtype=dtype, cache=cache)
        generated = time.perf_counter()
        chunk_grades = task.grade_many(repeat_each(chunk, k), rollout.texts)
        seconds["generate_s"] += generated - started
        seconds["grade_s"] += time.perf_counter() - generated
        for index, problem in enumerate(chunk):
            texts = rollout.texts[index * k : (index + 1) * k]
            lengths = rollout.lengths[index * k : (index + 1) * k].float().cpu()
            grades = chunk_grades[index * k : (index + 1) * k]
            base = None if base_counts is None else base_counts[problem.uid]
            rows.append(
                _prompt_row(problem, texts, grades, float(lengths.mean()), k, task.valid_answers(problem), base)
            )
            samples += [_sample_record(problem, text, grade) for text, grade in zip(texts, grades, strict=True)]
        bar.update(len(chunk))
    bar.close()
    frame = pd.DataFrame(rows)
    statuses = Counter(s["status"] for s in samples if "status" in s)
    summary = {
        "model": model_spec,
        "task": task_name,
        "k": k,
        "prompts": prompts,
        "seed": seed,
        "split_seed": split_seed,
        "max_new_tokens": max_new_tokens,
        "batch_prompts": batch_prompts,
        "dtype": dtype,
        "train_config": train_config,
        "train_step": train_step,
        "base_eval": None if base_eval is None else str(base_eval),
        "device": placement.record(),
        "metrics": {column: _mean(frame[column]) for column in SUMMARY_COLUMNS},
        "metric_prompts": {column: int(frame[column].notna().sum()) for column in SUMMARY_COLUMNS},
        "seconds": seconds,
        "status_share": {status: count / len(samples) for status, count in sorted(statuses.items())} or None,
        "exact": _exact(out_dir, model, tokenizer, task, problems, train_step, samples, progress),  # mini-LM's
        "provenance": provenance(),
    }
    write_csv(out_dir / layout.PER_PROMPT, frame)
    write_csv(out_dir / layout.PASS_AT_K, pass_at_k_curve(frame["n"], frame["correct"]))
    write_text(out_dir / layout.SAMPLES, "".join(json.dumps(s) + "\n" for s in samples))
    write_json(out_dir / layout.EVAL_SUMMARY, summary)
    manifest.write(
        out_dir,
        "llm_eval",
        BASE_LABEL if run is None else run["label"],
        {key: summary[key] for key in SETTINGS},
        [seed],
        [*layout.EVAL_FILES, *(layout.EXACT_FILES if summary["exact"] else ())],
        summary["provenance"],
        task=task_name,
        k=k,
        metrics=summary["metrics"],
        train_config=train_config,
        train_step=train_step,
        device=summary["device"],
    )
    return summary


def _exact(out_dir: Path, model, tokenizer, task, problems, step, samples, warn: bool) -> dict | None:
    """A mini-LM's exact evaluation of the same prompts (``ladbench.llm.minilm.exact``: ``layout.EXACT_FILES``),
    the missed mass measured on these samples; its summary (None for other models)."""
    if not isinstance(task, MiniLMTask):
        return None
    from ladbench.llm.minilm.exact import missed_mass, write_exact

    by_prompt = defaultdict(list)
    for record in samples:
        by_prompt[record["uid"]].append(record)
    texts = [[r["response"] for r in by_prompt[p.uid]] for p in problems]
    grades = [[Grade(r["correct"], r["key"]) for r in by_prompt[p.uid]] for p in problems]
    missed = missed_mass(task, problems, texts, grades)
    return write_exact(out_dir, model, tokenizer, task, problems, step, missed, warn)[1]


def _mean(values: pd.Series) -> float | None:
    """Mean over the prompts where the metric is defined; None (JSON null) where it is nowhere."""
    return float(np.nanmean(values)) if values.notna().any() else None


def load_base_counts(directory: Path, problems) -> dict[str, Counter[str]]:
    """The base model's correct-answer counts per prompt uid, read from an evaluation directory of
    the same prompts (checked against its per_prompt.csv: same uids, same questions)."""
    per_prompt, samples = directory / layout.PER_PROMPT, directory / layout.SAMPLES
    if not per_prompt.is_file() or not samples.is_file():
        raise UserError(
            f"--base-eval {directory}: no per_prompt.csv and samples.jsonl there; pass a directory "
            "written by `ladbench llm eval` for the base model"
        )
    if manifest.exists(directory):
        manifest.verify(directory)  # files changed since the evaluation wrote them: one line naming the file
    frame = pd.read_csv(per_prompt, usecols=["uid", "question"])
    questions = dict(zip(frame["uid"], frame["question"], strict=True))
    for problem in problems:
        if questions.get(problem.uid) != problem.question:
            raise UserError(
                f"--base-eval {directory}: prompt {problem.uid} differs from this evaluation's; evaluate "
                "the base model with the same task, --split-seed and --prompts"
            )
    records: dict[str, list[dict]] = defaultdict(list)
    for line in samples.read_text().splitlines():
        record = json.loads(line)
        records[record["uid"]].append(record)
    return {
        problem.uid: correct_counts(
            [r["key"] for r in records[problem.uid]], [r["correct"] for r in records[problem.uid]]
        )
        for problem in problems
    }


def _sample_record(problem, text: str, grade) -> dict:
    record = {"uid": problem.uid, "response": text, "key": grade.key, "correct": grade.correct}
    if grade.status is not None:
        record.update(status=grade.status, reason=grade.reason)
    return record


def _prompt_row(
    problem, texts: list[str], grades, mean_length: float, k: int, valid=None, base_counts: Counter | None = None
) -> dict:
    """One prompt's columns: its identity and every metric of the catalogue's llm_eval track."""
    correct = [g.correct for g in grades]
    keys = [g.key for g in grades]
    count = sum(correct)
    return {
        "uid": problem.uid,
        "question": problem.question,
        "answer": problem.answer,
        "n": len(texts),
        "correct": count,
        "avg_at_k": count / len(texts),
        "pass_at_1": pass_at_k(len(texts), count, 1),
        "pass_at_k": pass_at_k(len(texts), count, k),
        "dist_3": distinct_n(texts, 3),
        "dist_4": distinct_n(texts, 4),
        "distinct_correct": distinct_correct(keys, correct),
        "mean_length": mean_length,
        **answer_set_metrics(keys, correct, valid, base_counts),
    }
