"""On-disk layout of a sweep's results: the only code that writes it, and what reads it back.

    results/<spec name>/
        spec.toml          the spec as it was run
        sweep.json         name, axes (in spec order), the cells of the grid (key and axis values), provenance
        cells/<key>/       one finished cell, <key> = config_hash(resolved config, seeds)
            curves.csv  summary.csv  policy.csv   (the tables of ``ladbench run bandit``)
            manifest.json  kind "sweep_cell" (``ladbench.manifest``): resolved config, label, seeds,
                           key, axis values, seeds_identical, provenance, and each table's
                           sha256 and row count. Written last.

Every file is written atomically (``ladbench.io``), and the manifest only after the three
tables, so a cell directory without ``manifest.json`` is unfinished: the loader lists it as
missing and the next run of the sweep recomputes it. A killed sweep therefore loses only the
cells in flight. A finished cell whose files no longer match its manifest fails verification
(``cell_problem``); ``ladbench sweep --repair`` reruns it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ladbench import io, manifest
from ladbench.errors import UserError

SPEC_FILE = "spec.toml"
SWEEP_FILE = "sweep.json"
CELLS_DIR = "cells"
TABLES = ("curves", "summary", "policy")  # the CSV files of a cell, as ``ladbench run bandit`` writes them


def cell_dir(results_dir: Path, key: str) -> Path:
    return Path(results_dir) / CELLS_DIR / key


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
    io.write_text(results_dir / SPEC_FILE, spec.text)
    io.write_json(results_dir / SWEEP_FILE, {
        "name": spec.name,
        "description": spec.description,
        "spec_path": str(spec.path),
        "seeds": list(spec.seeds),
        "axes": [{"name": name, "values": values} for name, values in spec.axes.items()],  # ordered
        "cells": [{"key": cell.key, "axes": cell.axes} for cell in spec.cells],
        "provenance": provenance,
        "command": command,
    })


def read_sweep_record(results_dir: Path) -> dict[str, Any]:
    """sweep.json of ``results_dir``; a one-line UserError if it is not a sweep's results directory."""
    path = Path(results_dir) / SWEEP_FILE
    if not path.is_file():
        raise UserError(f"{str(results_dir)!r} is not a sweep results directory (no {SWEEP_FILE}); "
                        "run `ladbench sweep <spec>` first")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise UserError(f"{path}: not valid JSON ({error}); rerun `ladbench sweep <spec>` to rewrite it") from None


def write_cell(results_dir: Path, cell, tables: dict[str, str], label: str, seeds_identical: bool,
               provenance: dict[str, Any], command: list[str]) -> Path:
    """Write one finished cell (``tables``: name -> CSV text), then its manifest; whatever an
    earlier (killed, forced or damaged) attempt left is removed first."""
    directory = cell_dir(results_dir, cell.key)
    if directory.exists():
        (directory / manifest.FILE).unlink(missing_ok=True)
        shutil.rmtree(directory)
    for name in TABLES:
        io.write_text(directory / f"{name}.csv", tables[name])
    manifest.write(
        directory, "sweep_cell", label, cell.config.resolved(), list(cell.seeds), [f"{name}.csv" for name in TABLES],
        provenance, command, key=cell.key, axes=cell.axes, seeds_identical=seeds_identical,
    )
    return directory
