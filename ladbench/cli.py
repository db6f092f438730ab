"""The ``ladbench`` command line. User errors print one line and exit 2, with no traceback."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ladbench import metric_catalogue
from ladbench.bandit.config import BanditConfig
from ladbench.bandit.memory import check_memory
from ladbench.cli_config import OneLineErrors, interrupts, user_errors, with_config_options
from ladbench.cli_llm import llm_app
from ladbench.errors import UserError
from ladbench.io import check_output_dir, check_output_file
from ladbench.resources import MAX_SEED

app = typer.Typer(
    cls=OneLineErrors,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="ladbench: when does an RL objective keep several valid answers alive?",
)
run_app = typer.Typer(no_args_is_help=True, help="Run one experiment.")
app.add_typer(run_app, name="run")
app.add_typer(llm_app, name="llm")

SUMMARY_METRICS = metric_catalogue.names(metric_catalogue.BANDIT, "console")


@app.command("losses")
def list_losses() -> None:
    """List the registered losses and their options."""
    from ladbench.losses import available_losses

    for name, options in available_losses().items():
        listed = ", ".join(f"{key}={value!r}" for key, value in options.items())
        typer.echo(f"{name}: {listed}")


@run_app.command("bandit")
@with_config_options(
    BanditConfig,
    tables={
        "loss": (
            "-o",
            "--option",
            "Loss option key=value, repeatable (e.g. -o beta=1 for flowrl, -o eps_high=0.28 for grpo).",
        ),
        "env_options": (
            "-e",
            "--env-option",
            "Family option key=value, repeatable (e.g. -e weights=0.9,0.08,0.02; see docs/families.md).",
        ),
    },
)
def run_bandit_command(
    seeds: int = typer.Option(10, help="Number of seeds (first-seed, first-seed + 1, ...)."),
    first_seed: int = typer.Option(0, help="First seed."),
    out: Path | None = typer.Option(None, help="Output directory (default: results/runs/<name>_<config hash>)."),
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show a progress bar with ETA (on a terminal)."
    ),
    settings: dict | None = None,
) -> None:
    """Train on a bandit family (default: the paper's 50-arm trimodal bandit); print a summary and write the
    result files."""
    with user_errors():
        if seeds < 1:
            raise UserError(f"--seeds must be at least 1, got {seeds}")
        if first_seed < 0:
            raise UserError(f"--first-seed must be at least 0, got {first_seed}")
        if first_seed + seeds - 1 > MAX_SEED:
            raise UserError(f"--first-seed {first_seed} with --seeds {seeds}: the last seed must be at most {MAX_SEED}")
        config = BanditConfig.build(**settings)
        check_memory(config, seeds)  # before the seed list itself: a billion seeds is refused here
        if out is not None:
            check_output_dir(out, "--out")
        from ladbench.bandit.loop import TrainingInterrupted
        from ladbench.bandit.run import check_not_another_run, default_output_dir, run_bandit

        seed_list = list(range(first_seed, first_seed + seeds))
        directory = out if out is not None else default_output_dir(config, seed_list)
        check_not_another_run(directory, config, seed_list)
        stopped: list[TrainingInterrupted] = []

        def kept() -> str:
            if stopped:  # during training: nothing is written (a directory the run created is removed)
                return f"at step {stopped[0].step} of {stopped[0].steps}, nothing written"
            # after training: files are written atomically, the manifest last
            return f"while writing to {directory}; files without a manifest.json there are not a result"

        with interrupts(kept, verb="rerun"):
            try:
                run = run_bandit(config, seed_list, directory, progress=progress)
            except TrainingInterrupted as interrupt:
                stopped.append(interrupt)
                raise
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
        console.print(
            "note: exact estimator from a uniform init: every seed is the same deterministic run "
            "(use --init-std > 0 or --estimator sampled to make seeds differ)."
        )
    console.print(f"wrote curves.csv, summary.csv, policy.csv, recovery.png, manifest.json to {directory}")
    console.print(
        f"next: look at {directory}/recovery.png; compare methods: ladbench sweep experiments/paper_bandit.toml"
    )


@app.command("sweep")
def sweep_command(
    spec: Path = typer.Argument(..., help="Sweep spec, e.g. experiments/paper_bandit(.toml)."),
    results: Path = typer.Option(Path("results"), help="Results root: cells go to <results>/<spec name>/cells/."),
    executor: str = typer.Option("local", help="local (this process and helper processes) or ray."),
    workers: int | None = typer.Option(
        None,
        help="Local workers (this process + helpers), or a local Ray's CPUs "
        "(default: all cores; an llm spec's local cells: 1, one after another).",
    ),
    ray_address: str | None = typer.Option(None, help="Existing Ray cluster to use (default: start a local Ray)."),
    gpus_per_cell: float | None = typer.Option(
        None,
        help="llm specs with --executor ray: the share of a GPU each "
        "cell asks for (default: the spec's gpus_per_cell, else 1; 0.2 packs "
        "five small runs on one card).",
    ),
    force: bool = typer.Option(False, "--force", help="Rerun cells that have already finished."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    repair: bool = typer.Option(
        False, "--repair", help="Also rerun finished cells whose files fail verification against their manifest."
    ),
) -> None:
    """Run every cell of a sweep spec, batched and in parallel; resumes where it stopped."""
    from ladbench.sweep.executors import check_executor
    from ladbench.sweep.spec import load_spec

    with user_errors():
        check_executor(executor, workers)
        if ray_address is not None and executor != "ray":
            raise UserError(f"--ray-address {ray_address!r} applies with --executor ray; the executor is {executor!r}")
        if ray_address is not None and workers is not None:
            raise UserError(
                f"--workers {workers} sizes a local Ray; with --ray-address {ray_address!r} the cluster's own CPUs run"
            )
        if repair and force:
            raise UserError("--repair does nothing with --force (--force reruns every cell); give one")
        loaded = load_spec(spec)
        check_output_dir(results / loaded.name, "--results")
        from ladbench.sweep.runner import finished_cells, run_sweep

        def kept() -> str:
            done = finished_cells(loaded, results / loaded.name)
            return (
                f"{done} of {len(loaded.cells)} cells finished in {results / loaded.name} "
                "(rerunning skips them; an LLM cell resumes from its checkpoint)"
            )

        with interrupts(kept):
            outcome = run_sweep(loaded, results, executor, workers, ray_address, force, progress, repair, gpus_per_cell)
    repaired = f" ({outcome.repaired} repaired)" if repair else ""
    typer.echo(
        f"{loaded.name}: ran {outcome.ran} cells{repaired}, skipped {outcome.skipped} finished; "
        f"wrote {outcome.directory}; next: ladbench report {outcome.directory} && ladbench plot {outcome.directory}"
    )


PAPER_HELP = "Draw into paper_figures/ (the committed figures; same as --out paper_figures)."
FORCE_HELP = "Overwrite committed figures even though they were drawn from a different spec."


@app.command("plot")
def plot_command(
    results_dir: Path = typer.Argument(..., help="A sweep's results directory, e.g. results/paper_bandit."),
    out: Path | None = typer.Option(None, help="Directory for the PNG and PDF files (default: <results_dir>/figures)."),
    paper: bool = typer.Option(False, "--paper", help=PAPER_HELP),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Leave out cells that fail verification."),
) -> None:
    """Draw the figures a sweep's spec declares (PNG and PDF)."""
    from ladbench.figures import FIGURES_DIR
    from ladbench.figures.paper import check_overwrite, figure_directory
    from ladbench.sweep.spec import load_stored_spec

    with user_errors():
        spec = load_stored_spec(results_dir)
        directory = figure_directory(out, paper, Path(results_dir) / FIGURES_DIR)
        option = "--paper" if paper else "--out"
        check_output_dir(directory, option)
        check_overwrite(directory, spec, force, option)
        from ladbench.figures.paper import plot_sweep
        from ladbench.results import load_sweep

        paths = plot_sweep(load_sweep(results_dir, skip_bad), spec, directory)
    typer.echo("\n".join(map(str, paths)))
    # on stderr: stdout stays the list of files, one per line, for scripts
    typer.echo(f"wrote {len(paths)} figure files to {directory}; next: ladbench report {results_dir}", err=True)


@app.command("report")
def report_command(
    results_dir: Path = typer.Argument(..., help="A sweep's results directory, e.g. results/paper_bandit."),
    save_reference: Path | None = typer.Option(
        None, help="Also write per-seed final metrics to this CSV (how results/reference/*.csv are made)."
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Leave out cells that fail verification; the report lists them as excluded."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing --save-reference file even with fewer rows than it has."
    ),
) -> None:
    """Write report.md, report.tex and report_stats.csv into the results directory; print the markdown."""
    from ladbench.sweep.spec import load_stored_spec

    with user_errors():
        if force and save_reference is None:
            raise UserError("--force applies to --save-reference (an existing reference file); give both")
        spec = load_stored_spec(results_dir)
        check_output_dir(results_dir, "RESULTS_DIR (the report is written there)")
        if save_reference is not None:
            check_output_file(save_reference, "--save-reference")
        from ladbench.report import report_sweep
        from ladbench.results import load_sweep, write_reference

        results = load_sweep(results_dir, skip_bad)
        report = report_sweep(results, spec, results_dir)
        if save_reference is not None:
            write_reference(results, save_reference, force)
    typer.echo(report.markdown)
    saved = f" and {save_reference}" if save_reference is not None else ""
    typer.echo(
        f"wrote report.md, report.tex, report_stats.csv to {results_dir}{saved}; next: ladbench plot {results_dir}",
        err=True,
    )


@app.command("claims")
def claims_command(
    results: Path = typer.Option(Path("results"), help="Results root the claims read (<results>/<spec name>/...)."),
    run: bool = typer.Option(
        False,
        "--run",
        help="First compute the missing results that run on this machine "
        "(bandit sweeps, resuming; benchmarks). LLM sweeps are GPU work and are only named.",
    ),
    out: Path = typer.Option(
        Path("."),
        help="Directory for CLAIMS.md and claims.json. An existing ledger there is replaced only if no "
        "measured verdict of it would become 'not run' (else refused, naming the rows; --force replaces it).",
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Leave out cells that fail verification (claims that need them read 'not run')."
    ),
    workers: int | None = typer.Option(None, help="With --run: local workers (default: all cores)."),
    force: bool = typer.Option(
        False, "--force", help="Replace the ledger in --out even where measured verdicts become 'not run'."
    ),
    keep_unrun: bool = typer.Option(
        False,
        "--keep-unrun",
        help="For each claim whose results are not on disk here, keep the measured row of the ledger in --out "
        "(marked as carried over) instead of refusing; the others are measured anew.",
    ),
) -> None:
    """Measure every claim of the paper and of the suite on the results on disk; write CLAIMS.md and claims.json."""
    from ladbench.sweep.executors import check_executor

    with user_errors():
        check_output_dir(out, "--out")
        check_executor("local", workers)
        if workers is not None and not run:
            raise UserError(f"--workers {workers} applies with --run (the workers that compute missing results)")
        if not run and not results.is_dir():
            raise UserError(
                f"--results {str(results)!r} is not a directory; give the results root the claims read "
                "(default: results), or pass --run to compute them there"
            )
        if keep_unrun and force:
            raise UserError("--keep-unrun keeps the ledger's measured rows, --force drops them: give one of them")
        from ladbench.claims.ledger import build_ledger, check_ledger_overwrite, produce_missing, write_ledger
        from ladbench.claims.ledger import keep_unrun as keep_unrun_rows
        from ladbench.claims.registry import CLAIMS

        with interrupts(lambda: f"the ledger in {out} is unchanged (it is written last, atomically)", verb="rerun"):
            if run:
                produce_missing(CLAIMS, results, workers)
            rows = build_ledger(CLAIMS, results, skip_bad)
            carried = []
            if keep_unrun:
                rows, carried = keep_unrun_rows(rows, out)
            changed = check_ledger_overwrite(rows, out, force)
            paths = write_ledger(rows, out, results)
    for row in rows:
        typer.echo(f"{row.claim.id}: {row.verdict}")
    for line in changed:
        typer.echo(f"changed: {line}")
    if carried:
        typer.echo(f"carried over from the previous ledger (results not here): {', '.join(carried)}")
    typer.echo(f"wrote {', '.join(map(str, paths))}; next: git diff {' '.join(map(str, paths))}")


@app.command("figures")
def figures_command(
    experiments: Path = typer.Option(Path("experiments"), help="Directory of the shipped sweep specs."),
    results: Path = typer.Option(Path("results"), help="Results root."),
    out: Path | None = typer.Option(
        None, help="Directory for every spec's PNG and PDF files (default: each spec's <results>/<name>/figures)."
    ),
    paper: bool = typer.Option(False, "--paper", help=PAPER_HELP),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    workers: int | None = typer.Option(None, help="Local workers, this process included (default: all cores)."),
    run: bool = typer.Option(
        True, "--run/--no-run", help="Run (or finish) each sweep first; finished cells are skipped."
    ),
) -> None:
    """Every shipped spec: sweep (resuming), then its figures and report. One command for the paper."""
    from ladbench.figures import FIGURES_DIR
    from ladbench.figures.paper import check_overwrite, figure_directory
    from ladbench.sweep.executors import check_executor
    from ladbench.sweep.spec import load_spec

    with user_errors():
        check_executor("local", workers)
        if workers is not None and not run:
            raise UserError(f"--workers {workers} applies to the sweeps, which --no-run skips")
        if not experiments.is_dir():
            raise UserError(f"--experiments {str(experiments)!r} is not a directory of sweep specs")
        specs = [load_spec(path) for path in sorted(experiments.glob("*.toml"))]
        if not specs:
            raise UserError(f"--experiments {str(experiments)!r} holds no sweep specs (*.toml)")
        option = "--paper" if paper else "--out"
        directories = {spec.name: figure_directory(out, paper, results / spec.name / FIGURES_DIR) for spec in specs}
        for spec in specs:  # every output checked before the first sweep runs
            check_output_dir(results / spec.name, "--results")
            check_output_dir(directories[spec.name], option)
            check_overwrite(directories[spec.name], spec, force, option)
        from ladbench.figures.paper import plot_sweep
        from ladbench.report import report_sweep
        from ladbench.results import load
        from ladbench.sweep.runner import run_sweep

        done: list[str] = []

        def kept() -> str:
            finished = f"figures and reports of {', '.join(done)} written; " if done else ""
            return f"{finished}every sweep keeps its finished cells under {results} (rerunning skips them)"

        with interrupts(kept):
            for spec in specs:
                directory = results / spec.name
                if run:
                    run_sweep(spec, results, workers=workers)
                loaded = load(directory)
                paths = plot_sweep(loaded, spec, directories[spec.name])  # as `ladbench plot`
                report_sweep(loaded, spec, directory)  # as `ladbench report`
                done.append(spec.name)
                typer.echo(
                    f"{spec.name}: {len(paths)} figure files in {directories[spec.name]}, "
                    f"report in {directory}/report.md"
                )
    typer.echo(f"wrote the figures and reports of {len(done)} specs; next: ladbench claims --results {results}")


if __name__ == "__main__":  # python -m ladbench.cli, as the ladbench script
    app()
