"""Cost of one LLM training step with the LAD loss against the GRPO loss, and SmolLM2's step times.

One process, one model, one sampled batch (the demo's shape by default: 2 prompts x 8 completions,
16 new tokens, top 6 blocks trainable). It times ``train_step.update`` (forward, loss, backward,
clip, AdamW step) with LAD-JS and with GRPO, alternating the two ``--repeats`` times so drift in
the machine's load hits both, and prints the medians and their ratio (the paper claims no extra
cost: target <= 1.05). It then times the loss alone (forward and backward through ``get_loss`` on
random LLM-shaped tensors, ``--loss-shape`` sequences x tokens), alternated ``--loss-repeats``
times. Times are the process's CPU time (``time.process_time``), which other jobs on a shared
machine disturb less than wall time; wall times are printed too. It also times sampling one step's
completions. The load average is printed because other processes on the machine skew every number.

With ``--out DIR`` it writes DIR/timings.csv (one row per timed call: part step|loss, repeat,
loss lad|grpo, cpu_s, wall_s) and DIR/manifest.json (kind ``benchmark``: the settings, load
average, provenance), which ``ladbench claims`` reads (claim loss_cost).

    python benchmarks/llm_step_speed.py [--model smollm2-135m] [--repeats 5] [--threads 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from ladbench import io, manifest
from ladbench.llm.config import TrainConfig
from ladbench.llm.device import resolve_placement
from ladbench.llm.models import load_policy
from ladbench.llm.policy import PolicyState
from ladbench.llm.rollout import sample
from ladbench.llm.tasks import get_task
from ladbench.llm.train_step import scored, update
from ladbench.llm.trainer import _optimizer, _select_trainable
from ladbench.losses import LossBatch, get_loss


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
    parser.add_argument("--loss-shape", type=int, nargs=2, default=(64, 1024), metavar=("SEQUENCES", "TOKENS"))
    parser.add_argument("--loss-repeats", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="write timings.csv and manifest.json here")
    arguments = parser.parse_args()
    load_average = os.getloadavg()[0]
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    model, tokenizer = load_policy(arguments.model)
    config = TrainConfig.build(
        model=arguments.model, trainable_layers=arguments.trainable_layers, group_size=arguments.group_size
    )
    _select_trainable(model, config)
    policy = PolicyState(model, tokenizer, resolve_placement("cpu", config.dtype))
    policy.optimizer = _optimizer(model, None, config)
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
    rollout = scored(rollout, torch.randn(batch_size), arguments.group_size, "raw")  # random advantages
    losses = {"lad": get_loss("lad", divergence="js", eta=0.25), "grpo": get_loss("grpo")}
    update(policy, rollout, losses["grpo"], config)  # warm-up
    rows = alternate(losses, arguments.repeats, "step", lambda loss: update(policy, rollout, loss, config))
    rows += alternate(losses, arguments.loss_repeats, "loss", loss_alone(*arguments.loss_shape))
    timings = pd.DataFrame(rows)
    completion_tokens = rollout.completion_ids.shape[1]
    print(
        f"model {arguments.model}, batch {batch_size} x {completion_tokens} completion tokens, "
        f"torch threads {torch.get_num_threads()}, load average {load_average:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end"
    )
    print(f"generation per step: {statistics.median(generation_times):.2f} s wall (median of 2)")
    for part, what in (
        ("step", "training step"),
        ("loss", f"loss alone, {' x '.join(map(str, arguments.loss_shape))}"),
    ):
        chosen = timings[timings["part"] == part]
        lad, grpo = (chosen[chosen["loss"] == name]["cpu_s"].median() for name in ("lad", "grpo"))
        wall_lad, wall_grpo = (chosen[chosen["loss"] == name]["wall_s"].median() for name in ("lad", "grpo"))
        print(
            f"{what}: LAD-JS {lad:.4g} s, GRPO {grpo:.4g} s CPU (medians); LAD / GRPO {lad / grpo:.3f} "
            f"CPU, {wall_lad / wall_grpo:.3f} wall  (target <= 1.05)"
        )
    if arguments.out is not None:
        settings = {
            "model": arguments.model,
            "task": arguments.task,
            "batch": batch_size,
            "completion_tokens": completion_tokens,
            "trainable_layers": arguments.trainable_layers,
            "threads": torch.get_num_threads(),
            "repeats": arguments.repeats,
            "loss_shape": list(arguments.loss_shape),
            "loss_repeats": arguments.loss_repeats,
            "losses": {name: loss.label() for name, loss in losses.items()},
            "load_average": load_average,
        }
        write_result(arguments.out, timings, settings)


def alternate(losses: dict, repeats: int, part: str, run) -> list[dict]:
    """Time ``run(loss)`` for each loss in turn, ``repeats`` times: CPU and wall seconds per call."""
    rows = []
    for repeat in range(repeats):
        for name, loss in losses.items():
            cpu, wall = time.process_time(), time.perf_counter()
            run(loss)
            rows.append(
                {
                    "part": part,
                    "repeat": repeat,
                    "loss": name,
                    "cpu_s": time.process_time() - cpu,
                    "wall_s": time.perf_counter() - wall,
                }
            )
    return rows


def loss_alone(sequences: int, tokens: int):
    """A call that computes a loss and its gradient on random LLM-shaped log-probabilities."""
    generator = torch.Generator().manual_seed(0)
    old_logp = -3 * torch.rand(sequences, tokens, generator=generator)
    logp = (old_logp + 0.01 * torch.randn(sequences, tokens, generator=generator)).requires_grad_()
    advantages = torch.randn(sequences, generator=generator)
    mask = torch.ones(sequences, tokens)

    def run(loss) -> None:
        logp.grad = None
        value, _ = loss(LossBatch(logp=logp, old_logp=old_logp, advantages=advantages, mask=mask))
        value.backward()

    return run


def write_result(directory: Path, timings: pd.DataFrame, settings: dict) -> None:
    """timings.csv, then the manifest (kind benchmark), each written atomically."""
    io.write_csv(directory / "timings.csv", timings)
    manifest.write(
        directory, "benchmark", "LAD-JS vs GRPO", settings, [], ["timings.csv"], command=["python", *sys.argv]
    )
    print(f"wrote {directory / 'timings.csv'} and {directory / manifest.FILE}")


if __name__ == "__main__":
    main()
