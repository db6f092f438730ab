"""One mini-LM training step (16 prompts x 8 samples) against a loss-free forward and backward of the same batch.

The mini-LM of ``ladbench llm pretrain`` (default config, pretrained on first use) on `between`,
one torch thread by default. Per repeat it takes one RL step as the trainer does (sample 16 x 8
completions with their behaviour log-probabilities, grade, group advantages, ``train_step.update``
with the loss: forward, loss, backward, clip, AdamW), then, on the same rollout, the baseline: a
forward pass of prompt + completion and a backward pass of the summed completion log-probabilities,
no loss and no optimizer step. The two alternate ``--repeats`` times; the script prints the median
wall and CPU times, the target (a step <= 0.25 s on 2 cores) and the ratio step / baseline, with the
load average (other processes on a shared machine slow every number). It restores the model's
weights after every step so each repeat starts from the pretrained model.

    python benchmarks/minilm_step_speed.py [--loss grpo] [--repeats 20] [--threads 1] [--out DIR]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from pathlib import Path

import pandas as pd
import torch

from ladbench import io, manifest
from ladbench.llm.config import TrainConfig
from ladbench.llm.device import resolve_placement
from ladbench.llm.minilm.view import task_for_model
from ladbench.llm.models import load_policy
from ladbench.llm.policy import PolicyState
from ladbench.llm.rollout import token_logp_and_entropy
from ladbench.llm.tasks import get_task
from ladbench.llm.train_step import update
from ladbench.llm.trainer import _optimizer, _select_trainable, sample_and_grade

TARGET_S = 0.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--loss", default="grpo", help="loss name (its default options), e.g. grpo or lad")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="write timings.csv and manifest.json here")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    from ladbench.llm.deps import quiet_transformers

    quiet_transformers()
    load_average = os.getloadavg()[0]
    config = TrainConfig.build(
        model=arguments.model,
        task="between",
        loss={"name": arguments.loss},
        prompts_per_step=arguments.prompts,
        group_size=arguments.group_size,
        lr=5e-4,
        train_embeddings=True,
        max_new_tokens=12,
    )
    model, tokenizer = load_policy(config.model)
    _select_trainable(model, config)
    policy = PolicyState(model, tokenizer, resolve_placement("cpu", config.dtype))
    task = task_for_model(get_task(config.task), model)
    pool = task.problems("train", config.train_prompts)
    loss = config.loss.build()
    pretrained = copy.deepcopy(model.state_dict())
    rows = []
    for repeat in range(arguments.repeats + 1):  # the first repeat warms up and is dropped
        problems = pool[(repeat * arguments.prompts) % len(pool) :][: arguments.prompts]
        torch.manual_seed(repeat)
        model.load_state_dict(pretrained)
        policy.optimizer = _optimizer(model, None, config)
        wall, cpu = time.perf_counter(), time.process_time()
        rollout, _, _ = sample_and_grade(policy, task, problems, config, None)
        update(policy, rollout, loss, config)
        step = (time.perf_counter() - wall, time.process_time() - cpu)
        wall, cpu = time.perf_counter(), time.process_time()
        logp, _, _ = token_logp_and_entropy(model, rollout)
        model.zero_grad(set_to_none=True)
        (logp * rollout.completion_mask).sum().backward()
        baseline = (time.perf_counter() - wall, time.process_time() - cpu)
        if repeat:
            rows += [
                {"repeat": repeat, "part": "step", "wall_s": step[0], "cpu_s": step[1]},
                {"repeat": repeat, "part": "forward_backward", "wall_s": baseline[0], "cpu_s": baseline[1]},
            ]
    timings = pd.DataFrame(rows)
    medians = timings.groupby("part")[["wall_s", "cpu_s"]].median()
    ratio = statistics.median(
        timings[timings["part"] == "step"]["wall_s"].to_numpy()
        / timings[timings["part"] == "forward_backward"]["wall_s"].to_numpy()
    )
    print(
        f"mini-LM step ({arguments.prompts} x {arguments.group_size}, loss {arguments.loss}, "
        f"{arguments.threads} thread(s), load average {load_average:.1f} at the start, medians of {arguments.repeats})"
    )
    for part, row in medians.iterrows():
        print(f"  {part:17s} wall {row['wall_s']:.3f} s  cpu {row['cpu_s']:.3f} s")
    step_wall = medians.loc["step", "wall_s"]
    print(f"  step / forward+backward (wall, paired median): {ratio:.2f}")
    print(f"  target: step <= {TARGET_S} s: {'met' if step_wall <= TARGET_S else 'not met'} ({step_wall:.3f} s)")
    if arguments.out is not None:
        io.write_csv(arguments.out / "timings.csv", timings)
        settings = {**vars(arguments), "out": str(arguments.out), "load_average": load_average}
        manifest.write(arguments.out, "benchmark", "minilm_step", settings, [0], ["timings.csv"])
        print(f"wrote {arguments.out / 'timings.csv'} and {arguments.out / manifest.FILE}")


if __name__ == "__main__":
    main()
