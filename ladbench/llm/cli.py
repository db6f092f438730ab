"""``ladbench llm train|eval|table``. Heavy imports happen inside the commands."""

from __future__ import annotations

from pathlib import Path

import typer

from ladbench.cli_config import OneLineErrors, user_errors, with_config_options
from ladbench.errors import UserError
from ladbench.io import check_output_dir
from ladbench.llm.config import EvalConfig, TrainConfig
from ladbench.llm.memory import check_train_memory

llm_app = typer.Typer(
    cls=OneLineErrors, no_args_is_help=True, help="LLM track: train and evaluate a small causal LM on math and code."
)


def _quiet_transformers(threads: int | None) -> None:
    """No download/conversion progress bars or hub retry warnings; optionally pin torch's threads."""
    import torch

    from ladbench.llm.deps import quiet_transformers

    quiet_transformers()
    if threads:
        torch.set_num_threads(threads)


def check_threads(threads: int | None) -> None:
    if threads is not None and threads < 1:
        raise UserError(f"--threads must be at least 1, got {threads}")


@llm_app.command("train")
@with_config_options(TrainConfig, tables={"loss": ("-o", "--option", "Loss option key=value, repeatable.")})
def train_command(
    out: Path = typer.Option(..., help="Run directory; an existing run there is resumed."),
    threads: int | None = typer.Option(None, help="torch threads (default: torch's choice)."),
    settings: dict | None = None,
) -> None:
    """GRPO-style training with the shared loss: G samples per prompt, group advantages, the loss, AdamW."""
    with user_errors():
        config = TrainConfig.build(**settings)
        check_threads(threads)
        check_output_dir(out, "--out")
        check_train_memory(config)
        _quiet_transformers(threads)
        from ladbench.llm.trainer import train

        final = train(config, out)
    typer.echo(f"trained model: {final}")


@llm_app.command("eval")
@with_config_options(EvalConfig, skip=("model",))
def eval_command(
    model: str = typer.Argument(..., help=EvalConfig.model_fields["model"].description),
    out: Path = typer.Option(
        ..., help="Output directory for per_prompt.csv, pass_at_k.csv, samples.jsonl, summary.json."
    ),
    threads: int | None = typer.Option(None, help="torch threads (default: torch's choice)."),
    settings: dict | None = None,
) -> None:
    """Avg@k, Pass@k, dist-3/4, distinct correct answers and length on held-out prompts."""
    with user_errors():
        config = EvalConfig.build(**settings, model=model)
        check_threads(threads)
        check_output_dir(out, "--out")
        if config.base_eval is not None and not Path(config.base_eval).is_dir():
            raise UserError(
                f"--base-eval {config.base_eval!r} is not a directory; pass one written by `ladbench llm "
                "eval` for the base model"
            )
        _quiet_transformers(threads)
        from ladbench.llm.evaluate import evaluate

        fields = config.model_dump()
        summary = evaluate(fields.pop("model"), fields.pop("task"), out, **fields)
    typer.echo(" ".join(f"{key}={value:.4f}" for key, value in summary["metrics"].items() if value is not None))


@llm_app.command("table")
def table_command(
    paths: list[Path] = typer.Argument(
        ...,
        help="LLM results: sweep results directories (results/<name>) and/or "
        "evaluation directories written by `ladbench llm eval`.",
    ),
    out: Path | None = typer.Option(
        None,
        help="Write each table's files here: <name>.md, .tex, _stats.csv, "
        "_matched_accuracy.csv, _pass_at_k.csv/.png/.pdf, _training_curves.png/.pdf "
        "(<name>: the sweep's, or 'table' for evaluation directories); default: print only.",
    ),
    paper: bool = typer.Option(
        False,
        "--paper",
        help="Write into paper_figures/ (the committed LLM tables and figures; same as --out paper_figures).",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite committed files drawn from a different spec."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Leave out sweep cells that fail verification."),
) -> None:
    """The LLM tables and figures from results on disk: IQM [95% CI] over seeds, P(X better than Y), diversity
    at matched accuracy, pass@k crossover (the report's builder, as `ladbench report`)."""
    with user_errors():
        if out is not None and paper:
            raise UserError(f"--out {str(out)!r} and --paper both name the output directory; give one")
        directory = Path("paper_figures") if paper else out
        if directory is not None:
            check_output_dir(directory, "--paper" if paper else "--out")
        from ladbench.llm_tables import build_tables, check_overwrite, write_tables

        tables = build_tables(paths, skip_bad)
        if directory is not None:
            check_overwrite(tables, directory, force, "--paper" if paper else "--out")
        written = write_tables(tables, directory) if directory is not None else []
    typer.echo("\n".join(table.report.markdown for table in tables))
    if written:
        typer.echo("\n".join(map(str, written)))
