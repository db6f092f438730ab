"""Exact evaluation of a mini-LM: its whole distribution over correct responses, by teacher forcing.

For each eval prompt x the corpus enumerates every correct response it can produce
(``Corpus.correct_responses``: each valid answer key in each format). The model scores each one,
EOS included, in batched forward passes: log pi(y | x) = sum_t log pi(y_t | x, y_<t), y ending in
EOS. ``exact.csv`` holds one row per (prompt, response): step, prompt_id, prompt (the exact text
given to the model), response, answer_key, format, logprob.

Per prompt, with m(a) = sum of pi(y | x) over the enumerated responses y of key a and
acc = sum_a m(a) (``exact_per_prompt.csv``; the summary averages over prompts):

- ``exact_accuracy`` = acc: the probability that one sample is correct, i.e. the expected Avg@1.
- over the valid keys V, q(a) = m(a) / acc: ``exact_entropy`` H(q) (nats), ``exact_effective_answers``
  exp(H), ``exact_coverage`` = |{a : q(a) >= tau}| / |V| with tau = ``TAU`` (0.02),
  ``exact_tv_uniform`` = 1/2 sum_a |q(a) - 1/|V||, ``exact_tv_prior`` = TV(q, corpus prior),
  ``exact_tv_base`` = TV(q, q_base): q_base is the base (pretrained) model restricted to correct
  answers, pi_base 1[correct] / Z, the target of filtering and of KL-regularised RL with a binary
  reward (docs/methods.md). NaN for the base model itself (0 by definition) when it is not
  at hand, i.e. when the mini-LM's base directory is missing.
- ``exact_share_<format>``: each format's share of the correct mass.
- curves (``exact_curves.csv``, k = 1..256, means over prompts): exact pass@k = 1 - (1 - acc)^k,
  and the expected number of distinct correct answers among k samples,
  sum_a 1 - (1 - m(a))^k.

What the enumeration misses. A sampled response the grader accepts but the enumeration does not
list is mass that exact evaluation cannot see: ``missed_mass`` = (such samples) / (all samples),
measured wherever samples exist (the sampled evaluation's, and ``ladbench llm exact``'s check);
above ``MISSED_WARN`` (1%) the enumeration is incomplete and a warning says so.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ladbench import layout
from ladbench.errors import UserError
from ladbench.llm.minilm.view import MiniLMTask, minilm_info, task_for_model
from ladbench.resources import step_seed

TAU = 0.02
CURVE_K = 256
MISSED_WARN = 0.01
SCORE_BATCH = 2048
_BASE_CACHE: dict[tuple, pd.DataFrame] = {}


def check_enumerable(task) -> MiniLMTask:
    if not isinstance(task, MiniLMTask):
        raise UserError(f"exact evaluation of task {task.name!r} needs a mini-LM model (ladbench llm pretrain)")
    return task


def score(model, tokenizer, prompts: list[str], responses: list[str]) -> np.ndarray:
    """log pi(response + EOS | prompt) of each pair, by teacher forcing in batches (right-padded)."""
    import torch
    from torch.nn.utils.rnn import pad_sequence

    encoded = [
        (tokenizer(p, add_special_tokens=False)["input_ids"], tokenizer(r, add_special_tokens=False)["input_ids"])
        for p, r in zip(prompts, responses, strict=True)
    ]
    out = np.empty(len(encoded))
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(encoded), SCORE_BATCH):
            chunk = encoded[start : start + SCORE_BATCH]
            rows = [prompt + response + [tokenizer.eos_token_id] for prompt, response in chunk]
            ids = pad_sequence(
                [torch.tensor(tokens) for tokens in rows], batch_first=True, padding_value=tokenizer.pad_token_id
            )
            positions = torch.arange(ids.shape[1])
            mask = (positions < torch.tensor([len(tokens) for tokens in rows])[:, None]).long()
            scored = mask.bool() & (positions >= torch.tensor([len(prompt) for prompt, _ in chunk])[:, None])
            with torch.no_grad():
                logits = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device)).logits.float()
            logp = logits[:, :-1].log_softmax(-1).gather(-1, ids[:, 1:, None].to(model.device)).squeeze(-1)
            out[start : start + len(chunk)] = (logp.cpu() * scored[:, 1:]).sum(1).double().numpy()
    finally:
        model.train(was_training)
    return out


def exact_table(model, tokenizer, task, problems, step: int | None = None) -> pd.DataFrame:
    """One row per (prompt, enumerated correct response) with its log-probability (``exact.csv``)."""
    from ladbench.llm.prompts import render_prompt

    task = check_enumerable(task)
    rows = []
    for problem in problems:
        prompt = render_prompt(tokenizer, problem.question, task.system_message)
        for response in task.corpus.correct_responses(problem):
            rows.append((step, problem.uid, prompt, response.text, response.key, response.format))
    frame = pd.DataFrame(rows, columns=["step", "prompt_id", "prompt", "response", "answer_key", "format"])
    frame["logprob"] = score(model, tokenizer, list(frame["prompt"]), list(frame["response"]))
    return frame


def _tv(p: dict[str, float], q: dict[str, float]) -> float:
    return 0.5 * math.fsum(abs(p.get(key, 0.0) - q.get(key, 0.0)) for key in {*p, *q})


def exact_metrics(
    table: pd.DataFrame, task, problems, base: pd.DataFrame | None = None, tau: float = TAU
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """(per-prompt metrics, their means, the pass@k and distinct-correct curves) of an exact table."""
    task = check_enumerable(task)
    ks = np.arange(1, CURVE_K + 1)
    rows, pass_curves, distinct_curves = [], [], []
    table = table.assign(prob=np.exp(table["logprob"]))
    grouped = dict(tuple(table.groupby("prompt_id", sort=False)))
    base_masses = None if base is None else _key_masses(base.assign(prob=np.exp(base["logprob"])))
    formats = sorted(table["format"].unique())
    for problem in problems:
        rows_of = grouped[problem.uid]
        masses = rows_of.groupby("answer_key")["prob"].sum().to_dict()
        accuracy = math.fsum(masses.values())
        valid = sorted(task.valid_answers(problem))
        q = {key: masses.get(key, 0.0) / accuracy for key in valid}
        entropy = -math.fsum(v * math.log(v) for v in q.values() if v > 0)
        prior = task.corpus.prior(problem)
        row = {
            "prompt_id": problem.uid,
            "prompt": problem.question,
            "valid_answers": len(valid),
            "exact_accuracy": accuracy,
            "exact_entropy": entropy,
            "exact_effective_answers": math.exp(entropy),
            "exact_coverage": sum(v >= tau for v in q.values()) / len(valid),
            "exact_tv_uniform": _tv(q, dict.fromkeys(valid, 1 / len(valid))),
            "exact_tv_prior": _tv(q, prior),
            "exact_tv_base": _tv(q, _normalised(base_masses[problem.uid])) if base_masses else float("nan"),
        }
        shares = rows_of.groupby("format")["prob"].sum()
        for fmt in formats:
            row[f"exact_share_{fmt}"] = float(shares.get(fmt, 0.0)) / accuracy
        rows.append(row)
        pass_curves.append(1 - (1 - accuracy) ** ks)
        m = np.array(list(masses.values()))
        distinct_curves.append((1 - (1 - m[None, :]) ** ks[:, None]).sum(1))
    per_prompt = pd.DataFrame(rows)
    curves = pd.DataFrame(
        {"k": ks, "exact_pass_at_k": np.mean(pass_curves, 0), "exact_distinct_correct": np.mean(distinct_curves, 0)}
    )
    metrics = {
        column: float(per_prompt[column].mean()) if per_prompt[column].notna().any() else None
        for column in per_prompt.columns
        if column.startswith("exact_")
    }
    metrics["tau"] = tau
    return per_prompt, metrics, curves


def _key_masses(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {uid: rows.groupby("answer_key")["prob"].sum().to_dict() for uid, rows in table.groupby("prompt_id")}


def _normalised(masses: dict[str, float]) -> dict[str, float]:
    total = math.fsum(masses.values())
    return {key: value / total for key, value in masses.items()}


def base_table(model, task, problems) -> pd.DataFrame | None:
    """The exact table of the mini-LM's base (pretrained) model on these prompts, cached per process:
    the base directory recorded in the model's config, else its cache key's in the cache (a
    copied cache); None when neither exists."""
    from ladbench.llm.deps import minilm_dir

    info = minilm_info(model) or {}
    candidates = [info.get("base_dir"), minilm_dir(str(info.get("corpus")), str(info.get("config_hash")))]
    directory = next((str(path) for path in candidates if path and (Path(path) / "config.json").is_file()), None)
    if directory is None:
        return None
    key = (directory, task.name, tuple(p.uid for p in problems), tuple(p.question for p in problems))
    if key not in _BASE_CACHE:
        from ladbench.llm.deps import require

        transformers = require("transformers")
        base = transformers.AutoModelForCausalLM.from_pretrained(directory, dtype="float32").to(model.device)
        tokenizer = transformers.AutoTokenizer.from_pretrained(directory)
        _BASE_CACHE[key] = exact_table(base, tokenizer, task, problems)
    return _BASE_CACHE[key]


def missed_mass(task, problems, texts: list[list[str]], grades: list[list]) -> dict[str, Any]:
    """The share of samples that the grader accepts but the enumeration does not list."""
    missed = total = correct = 0
    examples = []
    for problem, prompt_texts, prompt_grades in zip(problems, texts, grades, strict=True):
        listed = {r.text for r in task.corpus.correct_responses(problem)}
        for text, grade in zip(prompt_texts, prompt_grades, strict=True):
            total += 1
            correct += grade.correct
            if grade.correct and text not in listed:
                missed += 1
                if len(examples) < 5:
                    examples.append(text)
    share = missed / total if total else None
    return {"missed_mass": share, "missed_samples": missed, "samples": total, "missed_examples": examples}


def warn_missed(missed: dict[str, Any], where: str) -> None:
    if missed.get("missed_mass") is not None and missed["missed_mass"] > MISSED_WARN:
        print(
            f"ladbench: warning: {where}: {missed['missed_mass']:.2%} of samples are correct responses the "
            f"enumeration misses (above {MISSED_WARN:.0%}: the exact metrics are incomplete), e.g. "
            f"{missed['missed_examples'][:3]}",
            file=sys.stderr,
        )


def write_exact(
    out_dir: Path,
    model,
    tokenizer,
    task,
    problems,
    step: int | None,
    missed: dict[str, Any] | None = None,
    warn: bool = True,
    table: pd.DataFrame | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """Exact evaluation of ``problems`` into ``out_dir`` (``layout.EXACT_FILES``); (the files, the summary).
    ``warn``: say on stderr when the missed mass is above ``MISSED_WARN`` (it is recorded either way).
    ``table``: their ``exact_table`` at ``step`` when the caller has scored it already (else scored here)."""
    from ladbench.io import write_csv, write_json

    if table is None:
        table = exact_table(model, tokenizer, task, problems, step)
    base = base_table(model, task, problems)
    per_prompt, metrics, curves = exact_metrics(table, task, problems, base)
    summary = {"step": step, "task": task.name, "prompts": len(problems), "metrics": metrics, **(missed or {})}
    write_csv(
        Path(out_dir) / layout.EXACT_TABLE, table.round({"logprob": 7})
    )  # a float32 model: 7 digits are all it has
    write_csv(Path(out_dir) / layout.EXACT_PER_PROMPT, per_prompt)
    write_csv(Path(out_dir) / layout.EXACT_CURVES, curves.round(7))
    write_json(Path(out_dir) / layout.EXACT_SUMMARY, summary)
    if missed and warn:
        warn_missed(missed, str(out_dir))
    return list(layout.EXACT_FILES), summary


def sampling_check(model, tokenizer, task, problems, table: pd.DataFrame, n: int, seed: int = 0) -> dict[str, Any]:
    """n samples per prompt against the exact values: per prompt, whether the sampled Avg@1 (graded;
    and counting only the enumerated responses, which isolates teacher forcing from the missed
    mass) and the number of distinct correct answers (of enumerated responses) lie in their 99%
    intervals around the exact expectation
    (Avg@1: the binomial's normal interval, 2.576 sqrt(acc (1 - acc) / n); distinct correct:
    2.576 sqrt(sum_a p_a (1 - p_a)) with p_a = 1 - (1 - m(a))^n, an upper bound on its standard
    deviation since the indicators are negatively correlated), and the missed mass."""
    import torch

    from ladbench.llm.rollout import sample

    z = 2.576
    masses = _key_masses(table.assign(prob=np.exp(table["logprob"])))
    prompts, texts, grades = [], [], []
    for index, problem in enumerate(problems):
        torch.manual_seed(step_seed(seed, index))
        rollout = sample(model, tokenizer, [problem.question], n, task.max_new_tokens, task.system_message)
        prompt_grades = task.grade_many([problem] * n, rollout.texts)
        texts.append(rollout.texts)
        grades.append(prompt_grades)
        m = np.array(list(masses[problem.uid].values()))
        accuracy = float(m.sum())
        listed = {r.text for r in task.corpus.correct_responses(problem)}
        sampled_accuracy = sum(g.correct for g in prompt_grades) / n
        enumerated = sum(g.correct and t in listed for g, t in zip(prompt_grades, rollout.texts, strict=True)) / n
        half_width = z * math.sqrt(accuracy * (1 - accuracy) / n)
        p_seen = 1 - (1 - m) ** n
        keys = {g.key for g, t in zip(prompt_grades, rollout.texts, strict=True) if g.correct and t in listed}
        prompts.append(
            {
                "prompt_id": problem.uid,
                "exact_accuracy": accuracy,
                "sampled_accuracy": sampled_accuracy,
                "sampled_enumerated": enumerated,
                "accuracy_in_99": abs(sampled_accuracy - accuracy) <= half_width,
                "enumerated_in_99": abs(enumerated - accuracy) <= half_width,
                "exact_distinct": float(p_seen.sum()),
                "sampled_distinct": len(keys),
                "distinct_in_99": abs(len(keys) - p_seen.sum())
                <= max(z * math.sqrt((p_seen * (1 - p_seen)).sum()), 0.5),
            }
        )
    return {"n": n, "prompts": prompts, **missed_mass(task, problems, texts, grades)}


def base_report(model, tokenizer, config) -> dict[str, Any]:
    """The pretrained model's exact metrics on the task's held-out prompts, and the missed mass
    measured with ``config.check_samples`` samples per prompt (for the manifest)."""
    import torch

    from ladbench.llm.rollout import sample
    from ladbench.llm.tasks import get_task

    task = task_for_model(get_task(config.corpus, config.split_seed), model)
    problems = task.problems("eval", min(config.eval_prompts, _eval_size(task)))
    table = exact_table(model, tokenizer, task, problems)
    metrics = exact_metrics(table, task, problems)[1]
    metrics["exact_tv_base"] = 0.0  # the base model itself
    report: dict[str, Any] = {"prompts": len(problems), "metrics": metrics}
    if config.check_samples:
        torch.manual_seed(config.seed)
        rollout = sample(
            model,
            tokenizer,
            [p.question for p in problems],
            config.check_samples,
            task.max_new_tokens,
            task.system_message,
        )
        n = config.check_samples
        texts = [rollout.texts[i * n : (i + 1) * n] for i in range(len(problems))]
        grades = [task.grade_many([p] * n, t) for p, t in zip(problems, texts, strict=True)]
        report.update(missed_mass(task, problems, texts, grades))
        report["sampled_accuracy"] = sum(g.correct for row in grades for g in row) / (n * len(problems))
    return report


def _eval_size(task) -> int:
    """How many held-out prompts the task has (between: all of its held-out bounds)."""
    bounds = getattr(task.task, "_bounds", None)
    return len(bounds("eval")) if bounds is not None else 10**6
