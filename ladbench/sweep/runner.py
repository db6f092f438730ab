"""Run a sweep: skip finished cells, hand the rest to an executor, write each cell.

A bandit sweep's unit of work is a batch (``ladbench.sweep.batches``); the driver turns each
returned cell into tables and writes it as soon as its batch returns. An LLM sweep's unit is
one cell (``ladbench.sweep.llm_cells``), which its worker trains, evaluates and writes, one
after another by default on the local executor (a training run uses every core), as Ray tasks
asking ``gpus_per_cell`` of a GPU each with ``--executor ray``. Either way an interrupted sweep
keeps every cell written so far. With ``repair`` the finished cells are verified against their
manifests too, and those that fail are rerun.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ladbench import layout
from ladbench.errors import UserError
from ladbench.io import check_output_dir
from ladbench.provenance import provenance
from ladbench.sweep import store
from ladbench.sweep.executors import check_executor, make_executor
from ladbench.sweep.spec import LLM, Cell, SweepSpec
from ladbench.sweep.store import describe_cell

DEFAULT_RESULTS_ROOT = Path("results")


@dataclass(frozen=True)
class SweepOutcome:
    directory: Path
    ran: int
    skipped: int
    repaired: int = 0  # of the cells that ran, those that had finished but failed verification


def finished_cells(spec: SweepSpec, directory: Path) -> int:
    """How many of the spec's cells have a finished directory (a manifest) under ``directory``."""
    return sum(store.is_complete(store.cell_dir(directory, cell.key)) for cell in spec.cells)


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


@dataclass(frozen=True)
class _Plan:
    """What the executor runs: ``work`` on each of ``items``; ``finish`` takes a result in the
    driver and says how many cells it finished."""

    work: Callable[[Any], Any]
    items: list
    finish: Callable[[Any], int]
    preload: tuple[str, ...]
    workers: int | None
    gpus_per_item: float = 0.0


def check_gpus_per_cell(spec: SweepSpec, executor: str, gpus_per_cell: float | None) -> None:
    """``--gpus-per-cell`` is a share of one GPU for a Ray task of an LLM cell."""
    if gpus_per_cell is None:
        return
    if spec.track != LLM:
        raise UserError(f"--gpus-per-cell {gpus_per_cell} applies to llm specs; {spec.name!r} is a {spec.track} spec")
    if executor != "ray":
        raise UserError(
            f"--gpus-per-cell {gpus_per_cell} applies with --executor ray (it is the share of a GPU each "
            "Ray task asks for)"
        )
    if not 0 <= gpus_per_cell <= 1:
        raise UserError(f"--gpus-per-cell must be between 0 and 1 (a share of one GPU), got {gpus_per_cell}")


def run_sweep(
    spec: SweepSpec,
    results_root: Path = DEFAULT_RESULTS_ROOT,
    executor: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    force: bool = False,
    progress: bool = True,
    repair: bool = False,
    gpus_per_cell: float | None = None,
) -> SweepOutcome:
    """Run every unfinished cell of ``spec`` (and, with ``repair``, every finished cell that
    fails verification) and write it under ``results_root/<spec name>``. ``gpus_per_cell``
    overrides the spec's (LLM cells on Ray)."""
    check_executor(executor, workers)
    check_gpus_per_cell(spec, executor, gpus_per_cell)
    directory = Path(results_root) / spec.name
    check_output_dir(directory, "--results")
    todo, repaired = pending_cells(spec, directory, force, repair)
    context, command = provenance(), list(sys.argv)
    if spec.track == LLM:
        gpus = spec.gpus_per_cell if gpus_per_cell is None else gpus_per_cell
        plan = _llm_plan(todo, directory, context, command, workers if executor == "ray" else (workers or 1), gpus)
    else:
        plan = _bandit_plan(todo, directory, context, command, workers, spec)
    _note_replaced_spec(directory, spec)
    store.write_sweep_record(directory, spec, context, command)
    shown = progress and bool(todo) and sys.stderr.isatty()  # a bar on a terminal only: no \r lines in a log
    with tqdm(total=len(todo), unit="cell", desc=spec.name, disable=not shown) as bar:
        if plan.items:
            with make_executor(
                executor, plan.workers, ray_address, len(plan.items), plan.gpus_per_item, plan.preload
            ) as pool:
                for result in pool.map_unordered(plan.work, plan.items):
                    bar.update(plan.finish(result))
    return SweepOutcome(directory, ran=len(todo), skipped=len(spec.cells) - len(todo), repaired=repaired)


def _note_replaced_spec(directory: Path, spec: SweepSpec) -> None:
    """A sweep of another spec under the same name: nothing is lost (cells are keyed by their
    settings, and the earlier ones stay under cells/), but the record now describes this spec;
    say so rather than switch silently."""
    import tomllib

    stored = directory / layout.SPEC_FILE
    if not stored.is_file():
        return
    try:
        same = tomllib.loads(stored.read_text()) == tomllib.loads(spec.text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        same = False
    if not same:
        print(
            f"ladbench: note: {directory} held a sweep of another spec named {spec.name!r}; its record now "
            f"describes {spec.path} (the earlier cells stay under {directory / layout.CELLS_DIR})",
            file=sys.stderr,
        )


def _bandit_plan(
    todo: list[Cell], directory: Path, context: dict, command: list[str], workers: int | None, spec: SweepSpec
) -> _Plan:
    """Batches of cells; the driver writes each cell of a returned batch. Before anything runs,
    every batch is checked to fit in memory and every family's computed checks (``check_runnable``)."""
    from ladbench.bandit.run import check_runnable
    from ladbench.sweep.batches import make_batches, run_batch

    batches = make_batches(todo)
    for batch in batches:
        cells = ", ".join(describe_cell(cell.key, cell.axes) for cell in batch.cells[:2])
        check_runnable(
            batch.cells[0].config,
            len(batch.runs),
            f"{spec.path}: {cells}",
            f"the spec's seeds ({len(spec.seeds)}) x the batch's {len(batch.cells)} cells",
        )

    def write(outputs) -> int:
        for output in outputs:
            store.write_cell(
                directory, output.cell, output.csv, output.cell.config.label, output.seeds_identical, context, command
            )
        return len(outputs)

    return _Plan(run_batch, batches, write, ("ladbench.sweep.batches",), workers)


def _llm_plan(
    todo: list[Cell], directory: Path, context: dict, command: list[str], workers: int | None, gpus_per_cell: float
) -> _Plan:
    """One job per cell; its worker writes the cell."""
    from ladbench.sweep.llm_cells import LLMJob, run_llm_cell

    jobs = [LLMJob(cell, directory, context, command) for cell in todo]
    return _Plan(run_llm_cell, jobs, lambda cell: 1, ("ladbench.sweep.llm_cells",), workers, gpus_per_cell)
