"""The one owner of the result layout: every artefact's name, for every producer kind, and the cell hash.

Torch-free and pandas-free (Base floor): the producers (``bandit.run``, ``llm.trainer``,
``llm.evaluate``, ``llm.minilm.exact``), the sweep's store (``sweep.store``) and the reader
(``results``) import their file names from here, so no two of them can drift apart.

    a bandit run (kind "bandit_run")    curves.csv  summary.csv  policy.csv  (+ recovery.png)
    an LLM training run ("llm_train")   metrics.jsonl  tensorboard/  evals/step_<n>/ (each an evaluation)
                                        checkpoint/ (model/  optimizer.pt  log_z.pt  state.json)
    an LLM evaluation ("llm_eval")      per_prompt.csv  pass_at_k.csv  samples.jsonl  summary.json
                                        (+ a mini-LM's exact.csv  exact_per_prompt.csv  exact_curves.csv  exact.json)
    a sweep (``results/<spec name>``)   spec.toml  sweep.json  cells/<key>/
    a sweep cell ("sweep_cell")         a bandit cell: the bandit run's tables; an LLM cell: train/ (a
                                        training run) and eval/ (an evaluation of its trained model)

``Where`` says, for one manifest, which of these a directory holds (``where``): the reader has
one path for every kind.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

# a bandit run's tables, as ``ladbench run bandit`` writes them (and a bandit sweep cell)
BANDIT_TABLES = ("curves", "summary", "policy")
BANDIT_FILES = {name: f"{name}.csv" for name in BANDIT_TABLES}
BANDIT_FIGURE = "recovery.png"  # a bandit run's (not a sweep cell's)

# an LLM training run
TRAIN_LOG = "metrics.jsonl"  # one JSON line per step
CHECKPOINT_DIR = "checkpoint"
# the checkpoint's files (a PolicyState's: ``ladbench.llm.trainer``), relative to CHECKPOINT_DIR
CHECKPOINT_MODEL = "model"  # Hugging Face format, tokenizer included: what ``ladbench llm eval RUN`` loads
CHECKPOINT_WEIGHTS = f"{CHECKPOINT_MODEL}/model.safetensors"
OPTIMIZER_STATE, LOG_Z_STATE, CHECKPOINT_STEP = "optimizer.pt", "log_z.pt", "state.json"
TENSORBOARD_DIR = "tensorboard"  # the per-step scalars as event files
CURVES_DIR = "evals"  # evals/step_<n>/: the evaluations during training
CURVE_STEP = re.compile(r"step_(\d+)")

# an LLM evaluation
PER_PROMPT = "per_prompt.csv"
PASS_AT_K = "pass_at_k.csv"
SAMPLES = "samples.jsonl"
EVAL_SUMMARY = "summary.json"
EVALUATION = {"per_prompt": PER_PROMPT, "pass_at_k": PASS_AT_K, "samples": SAMPLES, "summary": EVAL_SUMMARY}
EVAL_FILES = tuple(EVALUATION.values())
# a mini-LM's exact evaluation (``ladbench.llm.minilm.exact``), beside its sampled one
EXACT_TABLE, EXACT_PER_PROMPT, EXACT_CURVES, EXACT_SUMMARY = (
    "exact.csv",
    "exact_per_prompt.csv",
    "exact_curves.csv",
    "exact.json",
)
EXACT_FILES = (EXACT_TABLE, EXACT_PER_PROMPT, EXACT_CURVES, EXACT_SUMMARY)
EXACT_CHECK = "exact_check.json"  # ``ladbench llm exact``'s check of the exact table against sampling

# a sweep's results directory
SPEC_FILE = "spec.toml"
SWEEP_FILE = "sweep.json"
CELLS_DIR = "cells"
TRAIN_DIR, EVAL_DIR = "train", "eval"  # an LLM cell's training run and evaluation
# an LLM cell's files, relative to the cell directory
CELL_TRAIN_LOG = f"{TRAIN_DIR}/{TRAIN_LOG}"
CELL_EVALUATION = {name: f"{EVAL_DIR}/{file}" for name, file in EVALUATION.items()}
CELL_CURVES_DIR = f"{TRAIN_DIR}/{CURVES_DIR}"  # its evaluations during training, one step_<n>/ each


def curve_dir_name(step: int) -> str:
    """The evaluation after ``step`` training steps, relative to its training run."""
    return f"{CURVES_DIR}/step_{step}"


def _short_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:10]


def config_hash(config: dict[str, Any], seeds: list[int], evaluation: dict[str, Any] | None = None) -> str:
    """The cell hash: a resolved config, its seeds and (an LLM cell) its evaluation's settings. A
    sweep cell's directory name, and a bandit run's directory suffix (the same for a bandit cell)."""
    payload: dict[str, Any] = {"config": config, "seeds": list(seeds)}
    if evaluation is not None:
        payload["eval"] = evaluation
    return _short_hash(payload)


def llm_setting(config: dict[str, Any], evaluation: dict[str, Any]) -> str:
    """The setting of an LLM cell (one seed of a grid point): a hash of its resolved training
    config and evaluation settings without their seeds, so the cells of one grid point share it
    whatever seeds the spec lists (a spec whose seeds grow adds cells to the same settings)."""
    return _short_hash(
        {
            "config": {name: value for name, value in config.items() if name != "seed"},
            "eval": {name: value for name, value in evaluation.items() if name != "seed"},
        }
    )


@dataclass(frozen=True)
class Where:
    """What one result directory holds, by its manifest: ``tables`` (frame name -> CSV file read
    as is), its training run's root (``train``: "" itself, "train" an LLM cell's; None when there
    is none) and its evaluation's root (``evaluation``, likewise)."""

    kind: str  # bandit_run, bandit_cell, llm_train, llm_eval, llm_cell
    track: str  # "bandit" or "llm"
    tables: dict[str, str]
    train: str | None = None
    evaluation: str | None = None

    def path(self, root: str, name: str) -> str:
        return f"{root}/{name}" if root else name


def where(record: dict[str, Any]) -> Where:
    """The layout of the directory whose manifest is ``record`` (``ladbench.manifest``)."""
    kind = record["kind"]
    if kind == "sweep_cell" and record.get("evaluation") is not None:
        return Where("llm_cell", "llm", {}, train=TRAIN_DIR, evaluation=EVAL_DIR)
    if kind == "llm_train":
        return Where(kind, "llm", {}, train="")
    if kind == "llm_eval":
        return Where(kind, "llm", {}, evaluation="")
    return Where("bandit_cell" if kind == "sweep_cell" else kind, "bandit", dict(BANDIT_FILES))
