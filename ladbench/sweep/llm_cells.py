"""LLM cells: the unit of work of an LLM sweep, one training run and its evaluation.

A worker (this process, a helper process or a Ray task) trains the cell's run into
``<cell>/train`` (``ladbench.llm.trainer.train``, which resumes from the checkpoint a killed
attempt left there), evaluates the trained model into ``<cell>/eval``
(``ladbench.llm.evaluate.evaluate``), then writes the cell's manifest, last. When the run was
evaluated during training with the cell's evaluation settings, its evaluation after the last step
is that evaluation (the same model, prompts and sampling seed give the same files), so it is
copied rather than computed again. Unlike a bandit
batch, whose tables the driver writes, the worker writes the cell itself: checkpoints are too
big to send back and must stay where the next attempt finds them, so on a Ray cluster of
several machines the results root must be a filesystem every node shares.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladbench import layout, manifest
from ladbench.llm.config import EvalConfig
from ladbench.llm.deps import quiet_transformers
from ladbench.llm.evaluate import evaluate
from ladbench.llm.trainer import curve_dir, train
from ladbench.sweep import store
from ladbench.sweep.spec import Cell


@dataclass(frozen=True)
class LLMJob:
    """One LLM cell to run, and what its manifest records about the sweep that ran it."""

    cell: Cell
    results_dir: Path
    provenance: dict[str, Any]
    command: list[str]


def run_llm_cell(job: LLMJob) -> Cell:
    """Train, evaluate and finish one cell (what runs in a worker). A cell handed over finished
    (``--force``, or ``--repair`` of a damaged one) starts afresh; an unfinished one resumes."""
    quiet_transformers()
    directory = store.cell_dir(job.results_dir, job.cell.key)
    if store.is_complete(directory):
        store.clear_cell(directory)
    config = job.cell.config
    train(config, directory / layout.TRAIN_DIR, progress=False)
    last = curve_dir(directory / layout.TRAIN_DIR, config.steps)
    shutil.rmtree(directory / layout.EVAL_DIR, ignore_errors=True)  # what a killed attempt left
    if config.curve is not None and job.cell.evaluation == config.curve_settings() and manifest.exists(last):
        shutil.copytree(last, directory / layout.EVAL_DIR)
    else:
        evaluation = EvalConfig.build(model=str(directory / layout.TRAIN_DIR), **job.cell.evaluation)
        evaluate(evaluation, directory / layout.EVAL_DIR)
    store.finish_llm_cell(job.results_dir, job.cell, job.provenance, job.command)
    return job.cell
