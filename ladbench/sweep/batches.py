"""Batches: the unit of work a sweep hands to an executor.

Cells whose configs differ only in the learning rate and the loss's per-run options (LAD's eta,
entropy_pg's coef; ``engine.batch_key``) share one ``train`` call:
runs draw from their own generators, so a cell's numbers match running it alone (up to
floating-point rounding: the engine rescales gradients by the batch size), and a batch of 70
runs costs little more than one run. A worker also turns its cells into the CSV text of their
tables, so that formatting (a third of a sweep's CPU) runs in parallel too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from ladbench.bandit.engine import RunSettings, TrainOutput, batch_key, runs_of, train
from ladbench.bandit.run import BanditRun, tables
from ladbench.layout import BANDIT_TABLES
from ladbench.sweep.spec import Cell


@dataclass(frozen=True)
class CellOutput:
    """A finished cell as its worker returns it: the CSV text of each table."""

    cell: Cell
    csv: dict[str, str]
    seeds_identical: bool


@dataclass(frozen=True)
class Batch:
    """Cells that run as one ``train`` call (they differ at most in lr and per-run loss options)."""

    cells: tuple[Cell, ...]

    @property
    def runs(self) -> list[RunSettings]:
        return [run for cell in self.cells for run in runs_of(cell.config, cell.seeds)]


def make_batches(cells: list[Cell]) -> list[Batch]:
    """Group cells by batch key; largest batches first so that parallel workers finish together."""
    groups: dict[str, list[Cell]] = defaultdict(list)
    for cell in cells:
        groups[batch_key(cell.config)].append(cell)
    return sorted((Batch(tuple(group)) for group in groups.values()), key=lambda batch: -len(batch.runs))


def select_runs(output: TrainOutput, indices: list[int]) -> TrainOutput:
    """The part of a trained batch that belongs to the runs at ``indices``."""
    return replace(
        output,
        runs=[output.runs[index] for index in indices],
        curves={name: values[:, indices] for name, values in output.curves.items()},
        final_policy=output.final_policy[indices],
        target=output.target[indices],
        final_log_z=None if output.final_log_z is None else output.final_log_z[indices],
    )


def cell_output(cell: Cell, output: TrainOutput) -> CellOutput:
    run = BanditRun(cell.config, list(cell.seeds), *tables(output, cell.config))
    return CellOutput(
        cell, {name: getattr(run, name).to_csv(index=False) for name in BANDIT_TABLES}, run.seeds_identical
    )


def run_batch(batch: Batch) -> list[CellOutput]:
    """Train a batch and split it into its cells (this is what runs in a worker)."""
    output = train(batch.cells[0].config, batch.runs)
    results, start = [], 0
    for cell in batch.cells:
        results.append(cell_output(cell, select_runs(output, list(range(start, start + len(cell.seeds))))))
        start += len(cell.seeds)
    return results
