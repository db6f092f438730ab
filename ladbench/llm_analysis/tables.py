"""``ladbench llm table``: the LLM tables and figures, regenerated from results on disk.

Each LLM sweep's results directory is one table, built by the report (``ladbench.report``, the
same builder and renderer as ``ladbench report`` and the bandit report) with its spec's
[report] settings; evaluation directories given alone are pooled into one more, its settings
the (task, method label) pairs (``ladbench.results.load_evaluations``). Into ``out`` go, for each
table of stem S (the sweep's name, or ``table`` for the evaluation directories):

    S.md, S.tex, S_stats.csv       the report: IQM [95% CI] over seeds, means, P(X better than Y),
                                   diversity at matched accuracy, pass@k crossover
    S_matched_accuracy.csv         every run's matched points (runs evaluated during training)
    S_pass_at_k.png / .pdf         mean pass@k curves against k: each setting and the untrained model
    S_pass_at_k.csv                those curves
    S_training_curves.png / .pdf   Avg@k against step; coverage and distinct correct against Avg@k

Into a protected directory (``paper_figures/``, see ``ladbench.figures.paper``) a sweep's table
is written only over files drawn from the same spec (or with ``force``), and its spec recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ladbench import io, layout
from ladbench.errors import UserError
from ladbench.llm_analysis.report import BASE, pass_at_k_means
from ladbench.report import Report, build_report, sweep_report, write_report
from ladbench.results import Results, load_evaluations, load_sweep

EVALUATIONS_STEM = "table"


@dataclass
class LLMTable:
    stem: str
    results: Results
    report: Report
    thresholds: tuple[float, ...] | None
    spec: object | None = None  # a sweep's SweepSpec (its record protects its files); None: evaluation directories

    def files(self, out: Path) -> list[Path]:
        """Every file ``write_tables`` may write for this table into ``out``."""
        names = [
            ".md",
            ".tex",
            "_stats.csv",
            "_matched_accuracy.csv",
            "_pass_at_k.csv",
            "_pass_at_k.png",
            "_pass_at_k.pdf",
            "_training_curves.png",
            "_training_curves.pdf",
        ]
        return [Path(out) / f"{self.stem}{name}" for name in names]


def build_tables(paths: list[Path], skip_bad: bool = False) -> list[LLMTable]:
    """One table per sweep among ``paths``, and one for the evaluation directories among them."""
    from ladbench.sweep.spec import load_stored_spec

    paths = [Path(path) for path in paths]
    tables = []
    for path in paths:
        if (path / layout.SWEEP_FILE).is_file():
            results = load_sweep(path, skip_bad)
            if results.track != "llm":
                raise UserError(
                    f"{str(path)!r} holds a {results.track} sweep; `ladbench llm table` reads LLM "
                    "results (use `ladbench report` for it)"
                )
            spec = load_stored_spec(path)
            thresholds = tuple(spec.report.thresholds) if spec.report.thresholds else None
            tables.append(LLMTable(results.name, results, sweep_report(results, spec), thresholds, spec))
    evaluations = [path for path in paths if not (path / layout.SWEEP_FILE).is_file()]
    if evaluations:
        results = load_evaluations(evaluations)
        tables.append(LLMTable(EVALUATIONS_STEM, results, build_report(results, "method"), None))
    stems = [table.stem for table in tables]
    if len(set(stems)) != len(stems):
        raise UserError(f"two sweeps share the name {stems!r}; tabulate them one at a time")
    return tables


def check_overwrite(tables: list[LLMTable], out: Path, force: bool, option: str = "--out") -> None:
    """Refuse, before anything is written, to overwrite a protected directory's files of a sweep
    drawn from a different spec (``ladbench.figures.paper.check_overwrite``)."""
    from ladbench.figures import paper

    for table in tables:
        if table.spec is not None:
            paper.check_overwrite(out, table.spec, force, option, table.files(out))


def pass_at_k_caption(results: Results) -> str:
    """The pass@k figure's caption: the trained runs' conditions and what the lines are."""
    from ladbench.figures.captions import caption_text, seeds_of

    seeds = seeds_of(results)
    trained = results.cells[results.cells["method"] != BASE] if "method" in results.cells else results.cells
    return caption_text(None, "pass_at_k", trained if len(trained) else results.cells, seeds)


def write_tables(tables: list[LLMTable], out: Path) -> list[Path]:
    """The files of the module docstring for every table; returns them (and records each sweep's
    spec in a protected directory)."""
    from ladbench.figures import paper
    from ladbench.llm_analysis.matched_accuracy import THRESHOLDS
    from ladbench.llm_analysis.pass_at_k_figure import save_pass_at_k_figure
    from ladbench.llm_analysis.training_curves import save_training_curves, setting_names

    paths = []
    for table in tables:
        paths += write_report(table.report, out, table.stem)
        means = pass_at_k_means(table.results)
        if not means.empty and (~means["trained"]).any():
            names = setting_names(table.results) | {BASE: BASE}
            means = means.assign(method=means["setting"].map(names))
            io.write_csv(out / f"{table.stem}_pass_at_k.csv", means)
            paths += [
                out / f"{table.stem}_pass_at_k.csv",
                *save_pass_at_k_figure(
                    means, out, reference=BASE, stem=f"{table.stem}_pass_at_k", text=pass_at_k_caption(table.results)
                ),
            ]
        if not table.results.eval_curves.empty:
            paths += save_training_curves(
                table.results, out, f"{table.stem}_training_curves", table.thresholds or THRESHOLDS
            )
        if table.spec is not None:
            paper.record_spec(out, table.spec)
    return paths
