"""A sweep's results on disk: the only code that writes them, and what reads them back (every
file and directory name comes from ``ladbench.layout``, the one owner of the result layout).

    results/<spec name>/
        spec.toml          the spec as it was run
        sweep.json         name, axes (in spec order), the cells of the grid (key and axis values), provenance
        cells/<key>/       one finished cell, <key> = ``layout.config_hash`` of (resolved config, seeds[, evaluation])
            curves.csv  summary.csv  policy.csv   (a bandit cell: the tables of ``ladbench run bandit``)
            train/  eval/  (an LLM cell: the run directory of ``ladbench llm train``, checkpoint
                           and evaluations during training (train/evals/step_<n>/) included, and
                           the output of ``ladbench llm eval`` of its trained model)
            manifest.json  kind "sweep_cell" (``ladbench.manifest``): resolved config, label, seeds,
                           key, setting (``Cell.setting``), axis values, provenance, each result
                           file's sha256 and row count; a bandit cell's seeds_identical, an LLM
                           cell's evaluation settings (``evaluation``). Written last.

Every file is written atomically (``ladbench.io``), and the manifest only after the result
files, so a cell directory without ``manifest.json`` is unfinished: the loader lists it as
missing and the next run of the sweep recomputes it (an LLM cell resumes its training from
the checkpoint in train/). A killed sweep therefore loses only the cells in flight, and of an
LLM cell only the steps since its last checkpoint. A finished cell whose files no longer
match its manifest fails verification (``cell_problem``); ``ladbench sweep --repair`` reruns it.
An LLM cell's manifest lists its training log, its evaluations' files (the final one's and
those of every evaluation during training), not the checkpoint, which stays for resuming and
is described by train/manifest.json.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ladbench import io, layout, manifest
from ladbench.errors import UserError


def cell_dir(results_dir: Path, key: str) -> Path:
    return Path(results_dir) / layout.CELLS_DIR / key


def is_complete(directory: Path) -> bool:
    """A cell is complete when its manifest exists (written after every table)."""
    return manifest.exists(directory)


def describe_cell(key: str, axes: dict[str, Any]) -> str:
    """How messages name a cell: ``cell 1a2b3c4d5e (method=grpo, eta=0.5)``."""
    shown = ", ".join(f"{axis}={value}" for axis, value in axes.items())
    return f"cell {key} ({shown})" if shown else f"cell {key}"


def cell_problem(results_dir: Path, key: str, axes: dict[str, Any]) -> manifest.BadResult | None:
    """Why a complete cell fails verification (its manifest unreadable or a file changed), or None."""
    try:
        manifest.verify(cell_dir(results_dir, key), describe_cell(key, axes))
    except manifest.BadResult as error:
        return error
    return None


def write_sweep_record(results_dir: Path, spec, provenance: dict[str, Any], command: list[str]) -> None:
    """spec.toml and sweep.json: what the directory is a sweep of."""
    io.write_text(results_dir / layout.SPEC_FILE, spec.text)
    io.write_json(
        results_dir / layout.SWEEP_FILE,
        {
            "name": spec.name,
            "description": spec.description,
            "spec_path": str(spec.path),
            "track": spec.track,
            "seeds": list(spec.seeds),
            "axes": [{"name": name, "values": values} for name, values in spec.axes.items()],  # ordered
            "cells": [{"key": cell.key, "setting": cell.setting, "axes": cell.axes} for cell in spec.cells],
            "provenance": provenance,
            "command": command,
        },
    )


def read_sweep_record(results_dir: Path) -> dict[str, Any]:
    """sweep.json of ``results_dir``; a one-line UserError if it is not a sweep's results directory."""
    path = Path(results_dir) / layout.SWEEP_FILE
    if not path.is_file():
        raise UserError(
            f"{str(results_dir)!r} is not a sweep results directory (no {layout.SWEEP_FILE}); "
            "run `ladbench sweep <spec>` first"
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise UserError(f"{path}: not valid JSON ({error}); rerun `ladbench sweep <spec>` to rewrite it") from None


def write_cell(
    results_dir: Path,
    cell,
    tables: dict[str, str],
    label: str,
    seeds_identical: bool,
    provenance: dict[str, Any],
    command: list[str],
) -> Path:
    """Write one finished cell (``tables``: name -> CSV text), then its manifest; whatever an
    earlier (killed, forced or damaged) attempt left is removed first."""
    directory = cell_dir(results_dir, cell.key)
    clear_cell(directory)
    for name, file in layout.BANDIT_FILES.items():
        io.write_text(directory / file, tables[name])
    manifest.write(
        directory,
        "sweep_cell",
        label,
        cell.config.resolved(),
        list(cell.seeds),
        list(layout.BANDIT_FILES.values()),
        provenance,
        command,
        key=cell.key,
        setting=cell.setting,
        axes=cell.axes,
        seeds_identical=seeds_identical,
    )
    return directory


def clear_cell(directory: Path) -> None:
    """Remove a cell directory, its manifest first (so that no moment shows a finished cell with missing files)."""
    if directory.exists():
        (directory / manifest.FILE).unlink(missing_ok=True)
        shutil.rmtree(directory)


def curve_files(listed: dict[str, Any] | list[str], root: str = layout.CELL_CURVES_DIR) -> dict[int, str]:
    """Step -> summary.json of each evaluation during training among an LLM cell's listed files."""
    found = {}
    for name in listed:
        parts = name.split("/")
        step = layout.CURVE_STEP.fullmatch(parts[-2]) if len(parts) > 1 else None
        if name.startswith(root + "/") and parts[-1] == layout.EVAL_SUMMARY and step:
            found[int(step.group(1))] = name
    return dict(sorted(found.items()))


def _curve_files_on_disk(directory: Path) -> list[str]:
    steps = sorted(
        int(match.group(1))
        for path in (directory / layout.CELL_CURVES_DIR).glob("step_*")
        if (match := layout.CURVE_STEP.fullmatch(path.name)) and manifest.exists(path)
    )
    points = [f"{layout.TRAIN_DIR}/{layout.curve_dir_name(step)}" for step in steps]
    return [f"{point}/{file}" for point in points for file in layout.EVAL_FILES] + [
        f"{point}/{file}" for point in points for file in layout.EXACT_FILES if (directory / point / file).is_file()
    ]


def _exact_files_on_disk(directory: Path) -> list[str]:
    """A mini-LM's exact evaluation files of the cell's final evaluation, where it wrote them."""
    evaluation = layout.EVAL_DIR
    return [f"{evaluation}/{file}" for file in layout.EXACT_FILES if (directory / evaluation / file).is_file()]


def finish_llm_cell(results_dir: Path, cell, provenance: dict[str, Any], command: list[str]) -> Path:
    """Write the manifest of an LLM cell whose training run and evaluation are written (the
    evaluations during training included)."""
    directory = cell_dir(results_dir, cell.key)
    manifest.write(
        directory,
        "sweep_cell",
        cell.config.label,
        cell.config.resolved(),
        list(cell.seeds),
        [
            layout.CELL_TRAIN_LOG,
            *layout.CELL_EVALUATION.values(),
            *_exact_files_on_disk(directory),
            *_curve_files_on_disk(directory),
        ],
        provenance,
        command,
        key=cell.key,
        setting=cell.setting,
        axes=cell.axes,
        evaluation=cell.evaluation,
    )
    return directory
