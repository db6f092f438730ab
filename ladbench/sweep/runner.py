"""Run a sweep: skip finished cells, batch the rest, execute the batches, write each cell.

Batches (``ladbench.sweep.batches``) are the unit of work handed to an executor (worker
processes or Ray tasks); the driver turns each returned cell into tables and writes it as soon
as its batch returns, so an interrupted sweep keeps every cell written so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ladbench.bandit.run import check_writable
from ladbench.provenance import provenance
from ladbench.sweep import store
from ladbench.sweep.batches import make_batches, run_batch
from ladbench.sweep.executors import check_executor, make_executor
from ladbench.sweep.spec import Cell, SweepSpec

DEFAULT_RESULTS_ROOT = Path("results")


@dataclass(frozen=True)
class SweepOutcome:
    directory: Path
    ran: int
    skipped: int


def pending_cells(spec: SweepSpec, directory: Path, force: bool) -> list[Cell]:
    """The cells still to run: all of them with ``force``, else those without a finished directory."""
    if force:
        return list(spec.cells)
    return [cell for cell in spec.cells if not store.is_complete(store.cell_dir(directory, cell.key))]


def run_sweep(
    spec: SweepSpec,
    results_root: Path = DEFAULT_RESULTS_ROOT,
    executor: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> SweepOutcome:
    """Run every unfinished cell of ``spec`` and write it under ``results_root/<spec name>``."""
    check_executor(executor, workers)
    directory = Path(results_root) / spec.name
    check_writable(directory)
    record = {"spec": spec.name, "provenance": provenance()}
    store.write_sweep_record(directory, spec, record["provenance"])
    todo = pending_cells(spec, directory, force)
    batches = make_batches(todo)
    with tqdm(total=len(todo), unit="cell", desc=spec.name, disable=not progress or not todo) as bar:
        if batches:
            with make_executor(executor, workers, ray_address, len(batches)) as pool:
                for outputs in pool.map_unordered(run_batch, batches):
                    for output in outputs:
                        store.write_cell(directory, output, record)
                    bar.update(len(outputs))
    return SweepOutcome(directory, ran=len(todo), skipped=len(spec.cells) - len(todo))
