"""On-disk layout of a sweep's results, and the only code that writes it.

    results/<spec name>/
        spec.toml          the spec as it was run
        sweep.json         name, axes (in spec order), the cells of the grid (key and axis values), provenance
        cells/<key>/       one finished cell, <key> = config_hash(resolved config, seeds)
            curves.csv  summary.csv  policy.csv   (the files of ``ladbench run bandit``)
            cell.json      resolved config, seeds, axis values, provenance: written last

Every file is written atomically (``ladbench.io``), and ``cell.json`` only after the three
tables, so a cell directory without ``cell.json`` is unfinished: the loader ignores it and the
next run of the sweep recomputes it. A killed sweep therefore loses only the cells in flight.
"""

from __future__ import annotations

import shutil
import sys
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

from ladbench import io

if TYPE_CHECKING:
    from ladbench.sweep.batches import CellOutput

SPEC_FILE = "spec.toml"
SWEEP_FILE = "sweep.json"
CELLS_DIR = "cells"
MARKER = "cell.json"
TABLES = ("curves", "summary", "policy")  # the CSV files of a cell, as ``ladbench run bandit`` writes them


def cell_dir(results_dir: Path, key: str) -> Path:
    return Path(results_dir) / CELLS_DIR / key


def is_complete(directory: Path) -> bool:
    """A cell is complete when its marker exists (written after every table)."""
    return (directory / MARKER).is_file()


def write_sweep_record(results_dir: Path, spec, provenance: dict[str, Any]) -> None:
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
        "command": sys.argv,
    })


def write_cell(results_dir: Path, output: CellOutput, record: dict[str, Any]) -> Path:
    """Write one finished cell; whatever an earlier (killed or forced) attempt left is removed first."""
    cell = output.cell
    directory = cell_dir(results_dir, cell.key)
    if directory.exists():
        (directory / MARKER).unlink(missing_ok=True)
        shutil.rmtree(directory)
    for name in TABLES:
        io.write_text(directory / f"{name}.csv", output.csv[name])
    io.write_json(directory / MARKER, {
        "key": cell.key,
        "axes": cell.axes,
        "label": cell.config.label,
        "config": cell.config.resolved(),
        "seeds": list(cell.seeds),
        "seeds_identical": output.seeds_identical,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **record,
    })
    return directory
