"""Speed of ``ladbench sweep`` on fdiv_sweep (7 generators x 7 etas x 10 seeds x 4000 steps,
exact estimator) against running the same cells one at a time, as ``ladbench run bandit`` does
(``run_bandit``: one cell, its seeds batched, files and recovery.png written), in one process.

    python benchmarks/sweep_speed.py                 # baseline: one cell per divergence, extrapolated
    python benchmarks/sweep_speed.py --baseline-cells 49   # time every cell one at a time

The baseline times a subset of cells (the first ``--baseline-cells`` of the grid, spread over
the divergences) and extrapolates linearly to all cells; it says so in its output.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from ladbench.bandit.run import run_bandit
from ladbench.sweep.runner import run_sweep
from ladbench.sweep.spec import load_spec

SPEC = Path(__file__).resolve().parents[1] / "experiments" / "fdiv_sweep.toml"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def time_sweep(spec, workers: int | None) -> tuple[float, float]:
    """Wall and CPU seconds of the whole sweep in this process's CPU clock (meaningful for
    workers=1, where everything runs here), worker start-up and file writing included."""
    with tempfile.TemporaryDirectory() as root:
        start, cpu = time.perf_counter(), time.process_time()
        run_sweep(spec, Path(root), workers=workers, progress=False)
        return time.perf_counter() - start, time.process_time() - cpu


def time_one_at_a_time(spec, count: int) -> tuple[float, int]:
    """Seconds for ``count`` cells run one by one (spread across the grid), and that count."""
    step = max(1, len(spec.cells) // count)
    chosen = spec.cells[::step][:count]
    with tempfile.TemporaryDirectory() as root:
        start = time.perf_counter()
        for index, cell in enumerate(chosen):
            run_bandit(cell.config, list(cell.seeds), Path(root) / str(index))
        return time.perf_counter() - start, len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=None, help="sweep worker processes (default: all cores)")
    parser.add_argument("--baseline-cells", type=int, default=7, help="cells timed one at a time (49 = all)")
    parser.add_argument("--cpu", action="store_true", help="also run the sweep in one process to measure its CPU time")
    arguments = parser.parse_args()
    spec = load_spec(SPEC)
    cores = len(os.sched_getaffinity(0))
    print(
        f"fdiv_sweep: {len(spec.cells)} cells x {len(spec.seeds)} seeds x {spec.cells[0].config.steps} steps, "
        f"{cores} cores, load average before: {load_average()}"
    )
    sweep_seconds, _ = time_sweep(spec, arguments.workers)
    print(
        f"ladbench sweep (batched, parallel workers, files written): {sweep_seconds:.1f} s wall; "
        f"load average after: {load_average()}"
    )
    if arguments.cpu:
        serial_wall, serial_cpu = time_sweep(spec, 1)
        print(
            f"the same sweep in one process: {serial_wall:.1f} s wall, {serial_cpu:.1f} s CPU "
            f"(on {cores} idle cores: about {serial_cpu / cores:.1f} s wall); load average after: {load_average()}"
        )
    baseline_seconds, timed = time_one_at_a_time(spec, arguments.baseline_cells)
    per_cell = baseline_seconds / timed
    estimated = per_cell * len(spec.cells)
    how = (
        "measured" if timed == len(spec.cells) else f"extrapolated from {timed} cells timed ({baseline_seconds:.1f} s)"
    )
    print(
        f"one cell at a time through run_bandit, one process: {per_cell:.2f} s/cell -> {estimated:.1f} s for "
        f"{len(spec.cells)} cells ({how}); load average after: {load_average()}"
    )
    print(f"speed-up: {estimated / sweep_seconds:.1f}x")


if __name__ == "__main__":
    main()
