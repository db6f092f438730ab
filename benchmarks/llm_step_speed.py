"""Cost of one LLM training step with the LAD loss against the GRPO loss, and SmolLM2's step times.

One process, one model, one sampled batch (the demo's shape by default: 2 prompts x 8 completions,
16 new tokens, top 6 blocks trainable). It times ``train_step.update`` (forward, loss, backward,
clip, AdamW step) with LAD-JS and with GRPO, alternating the two ``--repeats`` times so drift in
the machine's load hits both, and prints the medians and their ratio (the paper claims no extra
cost: target <= 1.05). It also times sampling one step's completions. The load average is printed
because other processes on the machine skew every number.

    python benchmarks/llm_step_speed.py [--model smollm2-135m] [--repeats 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from ladbench.losses import get_loss
from ladbench.llm.config import TrainConfig
from ladbench.llm.models import load_policy
from ladbench.llm.rollout import sample
from ladbench.llm.tasks import get_task
from ladbench.llm.trainer import _optimizer, _select_trainable
from ladbench.llm.train_step import update


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--task", default="between")
    parser.add_argument("--prompts", type=int, default=2)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--trainable-layers", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    arguments = parser.parse_args()
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    model, tokenizer = load_policy(arguments.model)
    config = TrainConfig.build(model=arguments.model, trainable_layers=arguments.trainable_layers)
    _select_trainable(model, config)
    optimizer = _optimizer(model, None, config)
    task = get_task(arguments.task)
    questions = [p.question for p in task.problems("train", arguments.prompts)]
    batch_size = arguments.prompts * arguments.group_size

    torch.manual_seed(0)
    generation_times = []
    for _ in range(2):
        started = time.perf_counter()
        rollout = sample(
            model,
            tokenizer,
            questions,
            arguments.group_size,
            arguments.max_new_tokens,
            task.system_message,
            behaviour_logp=True,
        )
        generation_times.append(time.perf_counter() - started)
    advantages = torch.randn(batch_size)
    losses = {"lad": get_loss("lad", divergence="js", eta=0.25), "grpo": get_loss("grpo")}
    times = {name: [] for name in losses}
    update(model, rollout, advantages, losses["grpo"], optimizer, 1.0)  # warm-up
    for _ in range(arguments.repeats):
        for name, loss in losses.items():
            started = time.perf_counter()
            update(model, rollout, advantages, loss, optimizer, 1.0)
            times[name].append(time.perf_counter() - started)
    lad, grpo = statistics.median(times["lad"]), statistics.median(times["grpo"])
    print(
        f"model {arguments.model}, batch {batch_size} x {rollout.completion_ids.shape[1]} completion tokens, "
        f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}"
    )
    print(f"generation per step: {statistics.median(generation_times):.2f} s (median of 2)")
    print(f"training step LAD-JS: {lad:.3f} s  (runs: {', '.join(f'{t:.2f}' for t in times['lad'])})")
    print(f"training step GRPO:   {grpo:.3f} s  (runs: {', '.join(f'{t:.2f}' for t in times['grpo'])})")
    print(f"LAD / GRPO step time: {lad / grpo:.3f}  (target <= 1.05)")


if __name__ == "__main__":
    main()
