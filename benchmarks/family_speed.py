"""Speed of the bandit families: batched training of N seeds against a per-seed loop.

For each family (default settings: exact estimator, fixed pi_old, lr 5e-3) it times one batched
``train`` call of N seeds for S steps, and the same N seeds trained one ``train`` call each
(a per-seed loop through the same engine), both on one torch thread, and prints the time per
step of each and their ratio. The machine's load average is printed because it skews both.

    python benchmarks/family_speed.py [--seeds 10] [--steps 200] [--env sequence --env contextual ...]
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import runs_of, train
from ladbench.bandit.envs import FAMILIES


def seconds(config: BanditConfig, seeds: list[int]) -> float:
    start = time.perf_counter()
    train(config, runs_of(config, seeds))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--env", action="append", choices=list(FAMILIES), help="families (default: all)")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    seeds = list(range(arguments.seeds))
    print(
        f"{arguments.seeds} seeds x {arguments.steps} steps, "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    print(f"{'family':<14}{'policy':<13}{'batched ms/step':>16}{'loop ms/step':>14}{'loop/batched':>14}")
    for env in arguments.env or list(FAMILIES):
        for policy in FAMILIES[env].policies:
            config = BanditConfig.build(env=env, policy=policy, steps=arguments.steps, log_interval=arguments.steps)
            batched = seconds(config, seeds)
            loop = sum(seconds(config, [seed]) for seed in seeds)
            per_step = 1e3 / arguments.steps
            print(
                f"{env:<14}{policy:<13}{batched * per_step:>16.2f}{loop * per_step:>14.2f}{loop / batched:>14.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
