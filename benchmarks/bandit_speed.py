"""Speed of the batched bandit engine against a straightforward per-seed autograd loop.

Runs the paper configuration (LAD-JS, exact estimator, fixed protocol, 4000 steps, lr 5e-3)
for N seeds twice in this process: once as one batched ``train`` call, once seed by seed with
autograd and torch.optim.Adam (``bandit.autograd_loop``), both on one torch thread. Prints both
wall times and their ratio; the machine's load average is printed because it skews both.

    python benchmarks/bandit_speed.py [--seeds 10] [--steps 4000] [--divergence js]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from ladbench.bandit.autograd_loop import train_one_seed
from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import runs_of, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--divergence", default="js")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    config = BanditConfig.build(divergence=arguments.divergence, steps=arguments.steps, init_std=0.1)
    runs = runs_of(config, range(arguments.seeds))

    start = time.perf_counter()
    batched = train(config, runs)
    batched_seconds = time.perf_counter() - start

    start = time.perf_counter()
    looped = [train_one_seed(config, run)[0] for run in runs]
    loop_seconds = time.perf_counter() - start

    largest_difference = float(np.abs(np.stack(looped) - batched.final_policy).max())
    print(f"config: LAD-{arguments.divergence.upper()}, exact, fixed, {arguments.seeds} seeds x {arguments.steps} steps, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"batched engine:        {batched_seconds:7.2f} s")
    print(f"per-seed autograd loop:{loop_seconds:7.2f} s")
    print(f"speed-up:              {loop_seconds / batched_seconds:7.1f} x   (largest policy difference {largest_difference:.1e})")


if __name__ == "__main__":
    main()
