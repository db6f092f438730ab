"""Run a sweep: skip finished cells, batch the rest, execute the batches, write each cell.

Batches (``ladbench.sweep.batches``) are the unit of work handed to an executor (worker
processes or Ray tasks); the driver turns each returned cell into tables and writes it as soon
as its batch returns, so an interrupted sweep keeps every cell written so far. With ``repair``
the finished cells are verified against their manifests too, and those that fail are rerun.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ladbench.bandit.run import check_runnable
from ladbench.io import prepare_output_dir
from ladbench.provenance import provenance
from ladbench.sweep import store
from ladbench.sweep.store import describe_cell
from ladbench.sweep.batches import make_batches, run_batch
from ladbench.sweep.executors import check_executor, make_executor
from ladbench.sweep.spec import Cell, SweepSpec

DEFAULT_RESULTS_ROOT = Path("results")


@dataclass(frozen=True)
class SweepOutcome:
    directory: Path
    ran: int
    skipped: int
    repaired: int = 0  # of the cells that ran, those that had finished but failed verification


def pending_cells(spec: SweepSpec, directory: Path, force: bool, repair: bool = False) -> tuple[list[Cell], int]:
    """The cells still to run and how many of them are repairs: all cells with ``force``; else
    those without a finished directory, and with ``repair`` also the finished cells that fail
    verification."""
    if force:
        return list(spec.cells), 0
    unfinished, damaged = [], []
    for cell in spec.cells:
        if not store.is_complete(store.cell_dir(directory, cell.key)):
            unfinished.append(cell)
        elif repair and store.cell_problem(directory, cell.key, cell.axes) is not None:
            damaged.append(cell)
    return unfinished + damaged, len(damaged)


def run_sweep(
    spec: SweepSpec,
    results_root: Path = DEFAULT_RESULTS_ROOT,
    executor: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    force: bool = False,
    progress: bool = True,
    repair: bool = False,
) -> SweepOutcome:
    """Run every unfinished cell of ``spec`` (and, with ``repair``, every finished cell that
    fails verification) and write it under ``results_root/<spec name>``."""
    check_executor(executor, workers)
    directory = Path(results_root) / spec.name
    prepare_output_dir(directory, "--results")
    todo, repaired = pending_cells(spec, directory, force, repair)
    batches = make_batches(todo)
    for batch in batches:  # before anything runs: every batch fits in memory, every family computes
        cells = ", ".join(describe_cell(cell.key, cell.axes) for cell in batch.cells[:2])
        check_runnable(batch.cells[0].config, len(batch.runs), f"{spec.path}: {cells}",
                       f"the spec's seeds ({len(spec.seeds)}) x the batch's {len(batch.cells)} cells")
    context, command = provenance(), list(sys.argv)
    store.write_sweep_record(directory, spec, context, command)
    with tqdm(total=len(todo), unit="cell", desc=spec.name, disable=not progress or not todo) as bar:
        if batches:
            with make_executor(executor, workers, ray_address, len(batches)) as pool:
                for outputs in pool.map_unordered(run_batch, batches):
                    for output in outputs:
                        store.write_cell(directory, output.cell, output.csv, output.cell.config.label,
                                         output.seeds_identical, context, command)
                    bar.update(len(outputs))
    return SweepOutcome(directory, ran=len(todo), skipped=len(spec.cells) - len(todo), repaired=repaired)
