"""GSM8K-style parquet files for verl, made offline from ladbench's ``gsm_symbolic`` task
(reasoning-gym's GSM-Symbolic generator: grade-school word problems with integer answers).

Each row is what verl's own GSM8K preprocessing writes: ``data_source="openai/gsm8k"`` (so verl
scores a response with its GSM8K rule, 1 when the number after the last "####" equals the
answer), a chat prompt asking for the answer after "####", and the answer as the ground truth.

    python experiments/verl/make_data.py --out ~/data/ladbench_gsm --train 4096 --test 256
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ladbench.llm.tasks import get_task

INSTRUCTION = 'Let\'s think step by step and output the final answer after "####".'


def rows(split: str, size: int, seed: int) -> list[dict]:
    task = get_task("gsm_symbolic", split_seed=seed)
    return [
        {
            "data_source": "openai/gsm8k",
            "prompt": [{"role": "user", "content": f"{problem.question} {INSTRUCTION}"}],
            "ability": "math",
            "reward_model": {"style": "rule", "ground_truth": problem.answer},
            "extra_info": {"split": split, "index": index, "uid": problem.uid},
        }
        for index, problem in enumerate(task.problems(split, size))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("~/data/ladbench_gsm").expanduser())
    parser.add_argument("--train", type=int, default=4096)
    parser.add_argument("--test", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, split, size in (("train", "train", args.train), ("test", "eval", args.test)):
        path = args.out / f"{name}.parquet"
        pd.DataFrame(rows(split, size, args.seed)).to_parquet(path)
        print(f"{path}: {size} rows")


if __name__ == "__main__":
    main()
