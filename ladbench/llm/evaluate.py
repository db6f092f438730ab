"""``ladbench llm eval``: k samples per held-out prompt, per-prompt metrics, a summary.

Writes into the output directory (atomically):

    per_prompt.csv   one row per prompt: uid, question, answer, n, correct, avg_at_k, pass_at_1,
                     pass_at_k, dist_3, dist_4, distinct_correct, mean_length (completion tokens)
    samples.jsonl    every response with its extracted key and correctness (code tasks: also the
                     sandbox's status and reason)
    summary.json     the means over prompts, the eval settings, the model's training config
                     (when it is a run directory), the device it ran on (``device``: requested,
                     resolved, its name), seconds spent generating and grading, for code tasks the
                     share of programs per sandbox status, and provenance
    manifest.json    written last (``ladbench.manifest``, kind ``llm_eval``): the eval settings,
                     the method label of the evaluated run ("base" for an untrained model), its
                     training config, task, k, the metrics, the device, and each file's sha256 and
                     row count

Sampling is plain (temperature 1, no top-k/top-p), seeded by ``seed``. Each chunk of prompts is
graded as one batch, so a code task's k x chunk programs run concurrently in the sandbox pool.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import torch

from ladbench import manifest, metric_catalogue
from ladbench.errors import UserError
from ladbench.io import write_csv, write_json, write_text
from ladbench.provenance import provenance
from ladbench.llm.device import resolve_placement
from ladbench.llm.metrics import distinct_correct, distinct_n, pass_at_k
from ladbench.llm.memory import check_eval_memory, longest_prompt
from ladbench.llm.models import load_policy
from ladbench.llm.rollout import repeat_each, rollout_cache, sample
from ladbench.llm.tasks import get_task

SUMMARY_COLUMNS = metric_catalogue.names(metric_catalogue.LLM_EVAL)
SETTINGS = ("model", "task", "k", "prompts", "seed", "split_seed", "max_new_tokens", "batch_prompts", "dtype")
BASE_LABEL = "base"  # the method label of an evaluated model that no ladbench run trained
FILES = ("per_prompt.csv", "samples.jsonl", "summary.json")


def resolve_model(spec: str) -> tuple[str, dict | None]:
    """A run directory (its manifest says llm_train) becomes its checkpoint's model (and its
    manifest); anything else is a model spec."""
    path = Path(spec)
    if manifest.exists(path):
        run = manifest.read(path)
        if run["kind"] == "llm_train":
            model_dir = path / "checkpoint" / "model"
            if not model_dir.is_dir():
                raise UserError(f"run {spec!r} has no checkpoint yet; train it first")
            return str(model_dir), run
    return spec, None


def evaluate(
    model_spec: str,
    task_name: str,
    out_dir: Path,
    k: int = 8,
    prompts: int | None = None,
    seed: int = 0,
    split_seed: int = 0,
    max_new_tokens: int | None = None,
    batch_prompts: int = 8,
    device: str = "auto",
    dtype: str = "float32",
) -> dict:
    """Evaluate and write the files above; returns the summary. ``prompts`` and ``max_new_tokens``
    default to the task's (32 prompts, or all 164 for HumanEval; 24 tokens for math, 128 for code)."""
    if k < 1:
        raise UserError(f"k must be at least 1, got {k}")
    placement = resolve_placement(device, dtype)
    model_path, run = resolve_model(model_spec)
    train_config = None if run is None else run["config"]
    task = get_task(task_name, split_seed)
    prompts = task.eval_prompts if prompts is None else prompts
    max_new_tokens = task.max_new_tokens if max_new_tokens is None else max_new_tokens
    if max_new_tokens < 1 or batch_prompts < 1:
        raise UserError(f"max_new_tokens and batch_prompts must be at least 1, got {max_new_tokens} and {batch_prompts}")
    check_eval_memory(k, batch_prompts, prompts, max_new_tokens)
    problems = task.problems("eval", prompts)
    model, tokenizer = load_policy(model_path, placement.device)
    prompt_tokens = longest_prompt(tokenizer, [problem.question for problem in problems], task.system_message)
    check_eval_memory(k, batch_prompts, prompts, max_new_tokens, model, prompt_tokens, placement.device)
    cache = rollout_cache(model, dtype)
    rows, samples = [], []
    seconds = {"generate_s": 0.0, "grade_s": 0.0}
    for start in range(0, len(problems), batch_prompts):
        chunk = problems[start : start + batch_prompts]
        torch.manual_seed(seed * 100003 + start)
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
            rows.append(_prompt_row(problem, texts, grades, float(lengths.mean()), k))
            samples += [_sample_record(problem, text, grade) for text, grade in zip(texts, grades, strict=True)]
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
        "device": placement.record(),
        "metrics": {column: float(frame[column].mean()) for column in SUMMARY_COLUMNS},
        "seconds": seconds,
        "status_share": {status: count / len(samples) for status, count in sorted(statuses.items())} or None,
        "provenance": provenance(),
    }
    write_csv(out_dir / "per_prompt.csv", frame)
    write_text(out_dir / "samples.jsonl", "".join(json.dumps(s) + "\n" for s in samples))
    write_json(out_dir / "summary.json", summary)
    manifest.write(out_dir, "llm_eval", BASE_LABEL if run is None else run["label"],
                   {key: summary[key] for key in SETTINGS}, [seed], list(FILES), summary["provenance"],
                   task=task_name, k=k, metrics=summary["metrics"], train_config=train_config,
                   device=summary["device"])
    return summary


def _sample_record(problem, text: str, grade) -> dict:
    record = {"uid": problem.uid, "response": text, "key": grade.key, "correct": grade.correct}
    if grade.status is not None:
        record.update(status=grade.status, reason=grade.reason)
    return record


def _prompt_row(problem, texts: list[str], grades, mean_length: float, k: int) -> dict:
    correct = [g.correct for g in grades]
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
        "distinct_correct": distinct_correct([g.key for g in grades], correct),
        "mean_length": mean_length,
    }
