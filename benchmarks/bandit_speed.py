"""Speed of the bandit engine against its floor: the same arithmetic as a batched numpy loop.

Runs the paper configuration (LAD-JS, exact estimator, fixed pi_old, dr_grpo, 4000 Adam steps,
init_std 0.1) in this process, on one torch thread, as one ``engine.train`` call (with its
logging every 20 steps) and as ``numpy_floor.train_floor`` (no logging), alternating them
``--repeats`` times (CPU time), for R = 10 runs (the paper's seeds, eta 1, lr 5e-3) and R = 490 runs (seeds
0..489, eta cycling over the fdiv sweep's 0.25 .. 16 and lr over 5e-3, 2.5e-3, 1e-2). Prints the
median times and the ratio engine / floor (issue 10's targets: <= 2 at 10 runs, <= 1.3 at 490),
after checking that engine and floor agree to 1e-9 over 200 steps. The floor evaluates LAD-JS's
f'(x) as the loss does and logs nothing, so the engine is also timed with its metrics computed at
the first and last step only ("no-logs"): the difference is the cost of the 200 rows of curves.csv
(17 metrics of [R, K] policies each). The load average is printed because it skews every time;
the ratios are what to compare.

    python benchmarks/bandit_speed.py [--runs 10 --runs 490] [--steps 4000] [--repeats 5] [--autograd]

``--autograd`` also times the per-seed autograd reference (``bandit.autograd_loop``) at 10 runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch
from numpy_floor import train_floor

from ladbench.bandit.autograd_loop import train_one_seed
from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import RunSettings, train

ETAS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
LRS = (5e-3, 2.5e-3, 1e-2)
AGREEMENT_STEPS, AGREEMENT = 200, 1e-9


def paper_runs(count: int) -> list[RunSettings]:
    """The paper's seeds for 10 runs; beyond, a sweep's worth of per-run etas and lrs."""
    if count <= 10:
        return [RunSettings(seed, 5e-3, {"eta": 1.0}) for seed in range(count)]
    return [RunSettings(seed, LRS[seed % 3], {"eta": ETAS[seed % 7]}) for seed in range(count)]


def timed(function, *arguments):
    """CPU seconds of this (single-threaded) process: on a shared machine, unlike wall time, they
    leave out the time the process waits for a core."""
    start = time.process_time()
    result = function(*arguments)
    return time.process_time() - start, result


def check_agreement(runs: list[RunSettings]) -> None:
    """The floor computes what the engine computes (over a horizon where rounding has not yet been
    amplified: near its optimum Adam divides rounding noise by rounding noise)."""
    config = BanditConfig.build(divergence="js", steps=AGREEMENT_STEPS, init_std=0.1)
    difference = float(np.abs(train(config, runs).final_policy - train_floor(config, runs)).max())
    assert difference < AGREEMENT, f"engine and floor differ by {difference:.1e} after {AGREEMENT_STEPS} steps"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, action="append", help="runs per batch (default: 10 and 490)")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--autograd", action="store_true", help="also time the per-seed autograd reference")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    config = BanditConfig.build(divergence="js", steps=arguments.steps, init_std=0.1)
    quiet = config.model_copy(update={"log_interval": arguments.steps})  # metrics at the first and last step only
    print(
        f"LAD-JS, exact, fixed, {arguments.steps} steps; median of {arguments.repeats}; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    print(
        f"{'runs':>5}{'engine s':>10}{'no-logs s':>11}{'floor s':>9}{'engine/floor':>14}{'no-logs/floor':>15}"
        f"{'max |policy diff|':>19}"
    )
    for count in arguments.runs or [10, 490]:
        runs = paper_runs(count)
        check_agreement(runs)
        times: dict[str, list[float]] = {"engine": [], "no-logs": [], "floor": []}
        for _ in range(arguments.repeats):
            seconds, output = timed(train, config, runs)
            times["engine"].append(seconds)
            times["no-logs"].append(timed(train, quiet, runs)[0])
            seconds, policies = timed(train_floor, config, runs)
            times["floor"].append(seconds)
        engine, no_logs, floor = (statistics.median(times[name]) for name in ("engine", "no-logs", "floor"))
        difference = float(np.abs(output.final_policy - policies).max())
        print(
            f"{count:>5}{engine:>10.3f}{no_logs:>11.3f}{floor:>9.3f}{engine / floor:>14.2f}{no_logs / floor:>15.2f}"
            f"{difference:>19.1e}",
            flush=True,
        )
        if arguments.autograd and count == 10:
            autograd_seconds, _ = timed(lambda runs: [train_one_seed(config, run) for run in runs], runs)
            print(
                f"      per-seed autograd reference: {autograd_seconds:.2f} s, "
                f"{autograd_seconds / engine:.1f} x the engine"
            )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
