"""The one loader of sweep results: tidy pandas frames across cells, axis values as columns.

    from ladbench.results import load
    results = load("results/paper_bandit")
    results.summary   # one row per (cell, seed): axis columns, config columns, final metrics
    results.curves    # one row per (cell, seed, step)
    results.policy    # one row per (cell, seed, arm)
    results.cells     # one row per finished cell: key, axis and config columns, n_seeds, seeds_identical
    results.configs   # cell key -> its resolved config (a dict, as in cell.json)

Only finished cells are read (see ``ladbench.sweep.store``); cells of the grid that have not
finished are listed in ``results.missing``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ladbench import io
from ladbench.bandit.metrics import DISTANCES
from ladbench.errors import UserError
from ladbench.sweep import store

CONFIG_COLUMNS = ("env", "lr", "estimator", "group_size", "protocol", "refresh_interval", "init_std", "steps")
METRICS = (*(f"{name}_{reference}" for reference in ("target", "truth") for name in DISTANCES),
           "entropy", "max_prob", "expected_reward", "mode_coverage")
REFERENCE_METRICS = ("tv_target", "tv_truth", "kl_truth", "js_truth", "entropy", "max_prob", "expected_reward",
                     "mode_coverage")


@dataclass
class Results:
    directory: Path
    name: str
    axes: dict[str, list[Any]]
    cells: pd.DataFrame
    configs: dict[str, dict[str, Any]]
    curves: pd.DataFrame
    summary: pd.DataFrame
    policy: pd.DataFrame
    missing: list[dict[str, Any]]

    @property
    def axis_columns(self) -> list[str]:
        return list(self.axes)


def read_sweep(directory: Path) -> dict[str, Any]:
    path = Path(directory) / store.SWEEP_FILE
    if not path.is_file():
        raise UserError(f"{str(directory)!r} is not a sweep results directory (no {store.SWEEP_FILE}); "
                        "run `ladbench sweep <spec>` first")
    return json.loads(path.read_text())


def load(directory: str | Path) -> Results:
    """Every finished cell of the sweep in ``directory`` (``results/<spec name>``)."""
    directory = Path(directory)
    sweep = read_sweep(directory)
    cell_rows, configs, frames, missing = [], {}, {name: [] for name in store.TABLES}, []
    for listed in sweep["cells"]:
        cell_path = store.cell_dir(directory, listed["key"])
        if not store.is_complete(cell_path):
            missing.append(listed)
            continue
        record = json.loads((cell_path / store.MARKER).read_text())
        columns = cell_columns(record)
        configs[record["key"]] = record["config"]
        cell_rows.append({**columns, "n_seeds": len(record["seeds"]), "seeds_identical": record["seeds_identical"]})
        for name in store.TABLES:
            frame = pd.read_csv(cell_path / f"{name}.csv")
            frames[name].append(frame.assign(**columns))
    if not cell_rows:
        raise UserError(f"no finished cells in {str(directory)!r}; run `ladbench sweep {sweep['spec_path']}`")
    tidy = {name: _front(pd.concat(parts, ignore_index=True), list(columns)) for name, parts in frames.items()}
    axes = {axis["name"]: axis["values"] for axis in sweep["axes"]}
    return Results(directory, sweep["name"], axes, pd.DataFrame(cell_rows), configs, **tidy, missing=missing)


def cell_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The columns that identify a cell in the tidy frames: key, axis values, config fields."""
    config = record["config"]
    loss = config["loss"]
    columns = {"cell": record["key"], "label": record["label"], "method": loss["name"]}
    columns.update({name: config[name] for name in CONFIG_COLUMNS})
    columns.update({f"loss.{option}": value for option, value in loss.items() if option != "name"})
    columns.update(record["axes"])
    return columns


def _front(frame: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    """Identifying columns first, then the table's own."""
    return frame[first + [column for column in frame.columns if column not in first]]


def reference_table(results: Results) -> pd.DataFrame:
    """Per-seed final metrics of every cell, keyed by axis values and seed: the content of a
    committed reference file (seeds are independent, so any subset of seeds can be checked)."""
    key = [*results.axis_columns, "seed"]
    return results.summary[[*key, *REFERENCE_METRICS]].sort_values(key, ignore_index=True)


def write_reference(results: Results, path: Path) -> None:
    io.write_csv(path, reference_table(results))
