"""The ``ladbench`` command line. User errors print one line and exit 2, with no traceback."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.table import Table

from ladbench.errors import UserError

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="ladbench: when does an RL objective keep several valid answers alive?",
)
run_app = typer.Typer(no_args_is_help=True, help="Run one experiment.")
app.add_typer(run_app, name="run")

SUMMARY_METRICS = ("tv_target", "tv_truth", "kl_truth", "entropy", "max_prob", "mode_coverage")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a UserError into ``ladbench: error: <message>`` on stderr and exit status 2."""
    try:
        yield
    except UserError as error:
        typer.echo(f"ladbench: error: {str(error).splitlines()[0]}", err=True)
        raise typer.Exit(2) from None


def parse_option(text: str) -> tuple[str, object]:
    """``key=value`` with value read as JSON when it parses (numbers, true/false, null), else text."""
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise UserError(f"loss option {text!r} is not of the form key=value")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


@app.command("losses")
def list_losses() -> None:
    """List the registered losses and their options."""
    from ladbench.losses import available_losses

    for name, options in available_losses().items():
        listed = ", ".join(f"{key}={value!r}" for key, value in options.items())
        typer.echo(f"{name}: {listed}")


@run_app.command("bandit")
def run_bandit_command(
    method: str = typer.Option("lad", help="Registered loss: lad, grpo, flowrl, entropy_pg (see `ladbench losses`)."),
    divergence: str = typer.Option("js", help="LAD generator: js, kl, rkl, tv, hd, jf, ps."),
    eta: float = typer.Option(1.0, help="LAD temperature (> 0); entropy_pg's coefficient unless set with -o coef=..."),
    option: list[str] = typer.Option([], "--option", "-o", help="Extra loss option key=value, repeatable (e.g. -o beta=1 for flowrl)."),
    advantage: str = typer.Option("dr_grpo", help="Advantage estimator: grpo, dr_grpo, rloo, raw."),
    estimator: str = typer.Option("exact", help="exact (all arms, weighted by pi_old) or sampled (group-size draws)."),
    group_size: int = typer.Option(8, help="Arms drawn per step by the sampled estimator."),
    protocol: str = typer.Option("fixed", help="pi_old protocol: fixed (initial policy) or refresh."),
    refresh_interval: int = typer.Option(1, help="With --protocol refresh: steps between pi_old <- pi."),
    steps: int = typer.Option(4000, help="Optimisation steps."),
    lr: float = typer.Option(5e-3, help="Adam learning rate of the logits."),
    logz_lr: float = typer.Option(0.1, help="Adam learning rate of FlowRL's log Z."),
    init_std: float = typer.Option(0.0, help="Std of normal initial logits (0: uniform init)."),
    seeds: int = typer.Option(10, help="Number of seeds (first-seed, first-seed + 1, ...)."),
    first_seed: int = typer.Option(0, help="First seed."),
    log_interval: int = typer.Option(20, help="Steps between rows of curves.csv."),
    out: Optional[Path] = typer.Option(None, help="Output directory (default: results/runs/<name>_<config hash>)."),
) -> None:
    """Train on the paper's 50-arm trimodal bandit; print a summary and write the result files."""
    from ladbench.bandit.config import BanditConfig
    from ladbench.bandit.run import run_bandit

    with user_errors():
        if seeds < 1:
            raise UserError(f"--seeds must be at least 1, got {seeds}")
        config = BanditConfig.build(
            method=method, divergence=divergence, eta=eta, loss_options=dict(parse_option(text) for text in option),
            advantage=advantage, estimator=estimator, group_size=group_size, protocol=protocol,
            refresh_interval=refresh_interval, steps=steps, lr=lr, logz_lr=logz_lr, init_std=init_std,
            log_interval=log_interval,
        )
        seed_list = list(range(first_seed, first_seed + seeds))
        from ladbench.bandit.run import default_output_dir

        directory = out if out is not None else default_output_dir(config, seed_list)
        run = run_bandit(config, seed_list, directory)
    print_summary(run, directory)


def print_summary(run, directory: Path) -> None:
    summary = run.summary
    mode_columns = [column for column in summary.columns if column.startswith("mass_mode_")]
    table = Table(title=f"final metrics over {len(summary)} seeds")
    for heading in ("metric", "mean", "min", "max"):
        table.add_column(heading, justify="right" if heading != "metric" else "left")
    for column in (*SUMMARY_METRICS, *mode_columns):
        values = summary[column]
        table.add_row(column, f"{values.mean():.4f}", f"{values.min():.4f}", f"{values.max():.4f}")
    console = Console()
    console.print(table)
    if run.seeds_identical:
        console.print("note: exact estimator from a uniform init: every seed is the same deterministic run "
                      "(use --init-std > 0 or --estimator sampled to make seeds differ).")
    console.print(f"wrote config.json, curves.csv, summary.csv, policy.csv, recovery.png to {directory}")
