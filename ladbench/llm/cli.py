"""``ladbench llm train|eval|table``. Heavy imports happen inside the commands."""

from __future__ import annotations

from pathlib import Path

import typer

llm_app = typer.Typer(no_args_is_help=True, help="LLM track: train and evaluate a small causal LM on math and code.")


def _quiet_transformers(threads: int | None) -> None:
    """No download/conversion progress bars or hub retry warnings; optionally pin torch's threads."""
    import torch

    from ladbench.llm.deps import require

    logging = require("transformers").utils.logging
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    require("huggingface_hub").utils.logging.set_verbosity_error()
    if threads:
        torch.set_num_threads(threads)


@llm_app.command("train")
def train_command(
    method: str = typer.Option(
        "lad", help="Registered loss (see `ladbench losses`): lad, grpo, flowrl, entropy_pg, ..."
    ),
    divergence: str | None = typer.Option(None, help="LAD generator: js, kl, rkl, tv, hd, jf, ps (lad only)."),
    eta: float | None = typer.Option(
        None, help="LAD temperature eta (lad only; the paper's math setting is 1/eta = 4)."
    ),
    option: list[str] = typer.Option([], "--option", "-o", help="Extra loss option key=value, repeatable."),
    task: str = typer.Option(
        "basic_arithmetic",
        help="basic_arithmetic, chain_sum, gsm_symbolic, pair_sum, between, code_functions or codeio.",
    ),
    model: str = typer.Option("smollm2-135m", help="smollm2-135m, tiny, a local model directory or a hub id."),
    steps: int = typer.Option(20, help="Training steps (one rollout batch each)."),
    prompts_per_step: int = typer.Option(4, help="Prompts per step."),
    group_size: int = typer.Option(4, help="Completions per prompt (G)."),
    max_new_tokens: int | None = typer.Option(None, help="Completion length limit (default: 24 math, 128 code)."),
    lr: float = typer.Option(1e-5, help="AdamW learning rate of the policy."),
    logz_lr: float = typer.Option(1e-3, help="AdamW learning rate of FlowRL's log Z head."),
    advantage: str = typer.Option("grpo", help="Group advantage estimator: grpo, dr_grpo, rloo, raw."),
    trainable_layers: int | None = typer.Option(None, help="Train only the top N transformer blocks (default: all)."),
    seed: int = typer.Option(0, help="Sampling seed."),
    split_seed: int = typer.Option(0, help="Seed of the train/eval prompt split."),
    checkpoint_every: int = typer.Option(10, help="Steps between checkpoints."),
    threads: int | None = typer.Option(None, help="torch threads (default: torch's choice)."),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu, cuda or cuda:N."),
    dtype: str = typer.Option("float32", help="Precision of the forward passes: float32 or bfloat16."),
    out: Path = typer.Option(..., help="Run directory; an existing run there is resumed."),
) -> None:
    """GRPO-style training with the shared loss: G samples per prompt, group advantages, get_loss(...)."""
    from ladbench.cli import parse_option, user_errors

    with user_errors():
        options = dict(parse_option(text) for text in option)
        for name, value in (("divergence", divergence), ("eta", eta)):
            if value is not None:
                if method != "lad":
                    from ladbench.errors import UserError

                    raise UserError(f"--{name} applies to --method lad only; use -o for {method!r} options")
                options[name] = value
        from ladbench.llm.config import TrainConfig

        config = TrainConfig(
            model=model,
            task=task,
            method=method,
            loss_options=options,
            advantage=advantage,
            seed=seed,
            split_seed=split_seed,
            steps=steps,
            prompts_per_step=prompts_per_step,
            group_size=group_size,
            max_new_tokens=max_new_tokens,
            learning_rate=lr,
            log_z_learning_rate=logz_lr,
            trainable_layers=trainable_layers,
            checkpoint_every=checkpoint_every,
            device=device,
            dtype=dtype,
        )
        _quiet_transformers(threads)
        from ladbench.llm.trainer import train

        final = train(config, out)
    typer.echo(f"trained model: {final}")


@llm_app.command("eval")
def eval_command(
    model: str = typer.Argument(..., help="A run directory, smollm2-135m, tiny, a model directory or a hub id."),
    task: str = typer.Option(
        "basic_arithmetic", help="Task to evaluate on (its held-out split); any training task, or humaneval."
    ),
    k: int = typer.Option(8, help="Samples per prompt."),
    prompts: int | None = typer.Option(None, help="Held-out prompts (default: 32; all 164 for humaneval)."),
    max_new_tokens: int | None = typer.Option(
        None, help="Completion length limit (default: 24 math, 128 code, 256 humaneval)."
    ),
    seed: int = typer.Option(0, help="Sampling seed."),
    split_seed: int = typer.Option(0, help="Seed of the train/eval prompt split (as in training)."),
    batch_prompts: int = typer.Option(8, help="Prompts sampled (and graded) together."),
    threads: int | None = typer.Option(None, help="torch threads (default: torch's choice)."),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu, cuda or cuda:N."),
    dtype: str = typer.Option("float32", help="Precision of the forward passes: float32 or bfloat16."),
    out: Path = typer.Option(..., help="Output directory for per_prompt.csv, samples.jsonl, summary.json."),
) -> None:
    """Avg@k, Pass@k, dist-3/4, distinct correct answers and length on held-out prompts."""
    from ladbench.cli import user_errors

    with user_errors():
        _quiet_transformers(threads)
        from ladbench.llm.evaluate import evaluate

        summary = evaluate(
            model,
            task,
            out,
            k=k,
            prompts=prompts,
            seed=seed,
            split_seed=split_seed,
            max_new_tokens=max_new_tokens,
            batch_prompts=batch_prompts,
            device=device,
            dtype=dtype,
        )
    typer.echo(" ".join(f"{key}={value:.4f}" for key, value in summary["metrics"].items()))


@llm_app.command("table")
def table_command(
    evals: list[Path] = typer.Argument(..., help="Eval output directories (each with summary.json)."),
    out: Path | None = typer.Option(None, help="Write table.md, table.tex and table.csv here."),
) -> None:
    """Paper-style table: methods as rows, mean ± std over seeds of Avg@k, Pass@k, dist-3, dist-4, distinct correct."""
    from ladbench.cli import user_errors

    with user_errors():
        from ladbench.llm.table import build_table, write_tables

        frame = build_table(evals)
        markdown = write_tables(frame, out)
    typer.echo(markdown)
