"""``ladbench llm train|eval|pretrain|exact|table``. Heavy imports happen inside the commands."""

from __future__ import annotations

from pathlib import Path

import typer

from ladbench import manifest
from ladbench.cli_config import OneLineErrors, interrupts, user_errors, with_config_options
from ladbench.errors import UserError
from ladbench.io import check_output_dir
from ladbench.llm.config import EvalConfig, TrainConfig
from ladbench.llm.minilm.config import ExactConfig
from ladbench.llm.minilm.corpus import options_help
from ladbench.llm.minilm.pretrain import PretrainConfig

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


MAX_THREADS = 1024


def check_threads(threads: int | None) -> None:
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        raise UserError(f"--threads must be between 1 and {MAX_THREADS}, got {threads}")


def checkpoint_kept(out: Path) -> str:
    """What an interrupted training run keeps: its last checkpoint (the manifest records its step)."""
    from ladbench import manifest

    try:
        record = manifest.read(out)
    except UserError:
        return f"nothing kept in {out} (no checkpoint yet)"
    step, steps = record.get("step", 0), record["config"].get("steps")
    if not step:
        return f"no checkpoint yet in {out} (the run restarts from step 0)"
    return f"the checkpoint of step {step} of {steps} in {out}"


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
        manifest.check_owner(out, "llm_train", "--out")  # the trainer compares a run's settings
        _quiet_transformers(threads)
        from ladbench.llm.trainer import train

        with interrupts(lambda: checkpoint_kept(out)):
            final = train(config, out)
    typer.echo(f"trained model: {final}; wrote {out}; next: ladbench llm eval {out} --out <eval directory>")


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
        manifest.check_owner(out, "llm_eval", "--out")
        if config.base_eval is not None and not Path(config.base_eval).is_dir():
            raise UserError(
                f"--base-eval {config.base_eval!r} is not a directory; pass one written by `ladbench llm "
                "eval` for the base model"
            )
        _quiet_transformers(threads)
        from ladbench.llm.evaluate import evaluate

        nothing = f"nothing written to {out} (an evaluation writes its files when it finishes)"
        with interrupts(lambda: nothing, verb="rerun"):
            summary = evaluate(config, out, progress=True)
    typer.echo(" ".join(f"{key}={value:.4f}" for key, value in summary["metrics"].items() if value is not None))
    typer.echo(
        f"wrote per_prompt.csv, pass_at_k.csv, samples.jsonl, summary.json to {out}; next: ladbench llm table {out}"
    )


@llm_app.command("pretrain")
@with_config_options(
    PretrainConfig,
    tables={
        "corpus_options": (
            "-C",
            "--corpus-option",
            f"Corpus option key=value, repeatable: {options_help()}.",
        )
    },
)
def pretrain_command(
    cache: Path | None = typer.Option(
        None,
        help="Cache directory of pretrained mini-LMs (default: $LADBENCH_CACHE/minilm or ~/.cache/ladbench/minilm).",
    ),
    threads: int = typer.Option(1, help="torch threads (one is fastest on a shared machine)."),
    settings: dict | None = None,
) -> None:
    """Pretrain a small Llama from scratch on a corpus with a known answer prior (cached by its config's key)."""
    with user_errors():
        config = PretrainConfig.build(**settings)
        check_threads(threads)
        if cache is not None:
            check_output_dir(cache, "--cache")
        _quiet_transformers(None)
        from ladbench.llm.minilm.pretrain import pretrain

        nothing = "nothing cached (a mini-LM is written, its manifest last, when pretraining finishes)"
        with interrupts(lambda: nothing, verb="rerun"):
            directory = pretrain(config, cache, threads=threads)
        record = manifest.read(directory)
    base = record["base"]["metrics"]
    typer.echo(
        f"mini-LM {directory} ({record['pretrain_seconds']:.0f} s to pretrain): base exact accuracy "
        f"{base['exact_accuracy']:.3f}, TV to the prior {base['exact_tv_prior']:.3f}, effective answers "
        f"{base['exact_effective_answers']:.2f} on {record['base']['prompts']} held-out prompts"
    )


@llm_app.command("exact")
@with_config_options(ExactConfig, skip=("model",))
def exact_command(
    model: str = typer.Argument(..., help=ExactConfig.model_fields["model"].description),
    out: Path = typer.Option(
        ..., help="Output directory for exact.csv, exact_per_prompt.csv, exact_curves.csv, exact.json."
    ),
    threads: int | None = typer.Option(1, help="torch threads."),
    settings: dict | None = None,
) -> None:
    """A mini-LM's exact distribution over correct answers by teacher forcing, checked against sampling."""
    with user_errors():
        config = ExactConfig.build(**settings, model=model)
        check_threads(threads)
        check_output_dir(out, "--out")
        manifest.check_owner(out, "llm_eval", "--out")
        _quiet_transformers(threads)
        from ladbench.llm.minilm.command import exact_evaluate

        with interrupts(lambda: f"no result in {out} (its manifest.json is written last)", verb="rerun"):
            summary = exact_evaluate(config, out)
    typer.echo(" ".join(f"{key}={value:.4f}" for key, value in summary["metrics"].items() if value is not None))
    if "check" in summary:
        check = summary["check"]
        typer.echo(
            f"check at n={check['n']}: accuracy within 99% for {check['accuracy_in_99']:.0%} of prompts, distinct "
            f"correct for {check['distinct_in_99']:.0%}; missed mass {check['missed_mass']:.4f}"
        )


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
    at matched accuracy, pass@k crossover (the report's builder, as `ladbench report`); for a mini-LM sweep also
    its exact table and figures (exact accuracy, effective answers, TV to the filtered base, format shares)."""
    from ladbench.figures.paper import figure_directory

    with user_errors():
        directory = figure_directory(out, paper, None, "output directory")
        if force and out is None and not paper:
            raise UserError("--force applies where files are written (--out or --paper); without them nothing is")
        if directory is not None:
            check_output_dir(directory, "--paper" if paper else "--out")
        from ladbench.llm_analysis.tables import build_tables, check_overwrite, write_tables

        tables = build_tables(paths, skip_bad)
        if directory is not None:
            check_overwrite(tables, directory, force, "--paper" if paper else "--out")
        written = write_tables(tables, directory) if directory is not None else []
        from ladbench.llm_analysis.minilm import minilm_reports

        exact_markdown, exact_written = minilm_reports(paths, directory)  # mini-LM sweeps: the exact table too
    typer.echo("\n".join([*(table.report.markdown for table in tables), *exact_markdown]))
    written = [*written, *exact_written]
    if written:
        typer.echo("\n".join(map(str, written)))
