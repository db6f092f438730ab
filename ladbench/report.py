"""``ladbench report``: final metrics per setting with intervals, and probability of improvement.

Writes ``report.md``, ``report.tex`` and ``report_stats.csv`` (every number: mean and IQM with
their 95% stratified bootstrap intervals) into the results directory. A spec's findings
(``[[report.findings]]``) add statements derived from the results, e.g. which methods keep every
mode in every seed.

A row is a setting: a grid point with all its seeds (a bandit cell, or the cells of an LLM
sweep that differ only in seed). Each table entry is ``IQM [low, high]`` (or the mean, in the
second table) over its seeds. A setting whose seeds all gave the same run is marked ``det.``
and has no interval. The metrics are the report view of the metric catalogue for the sweep's
track (bandit: distances to the target and truth...; llm: the evaluation's Avg@k, Pass@k...).
Cells that failed verification (read with ``skip_bad``) are listed as excluded. A metric that
no cell defines (the answer-set metrics of a single-answer task) gets no column.

LLM results add the sections of ``ladbench.llm_analysis.report``: diversity at matched accuracy (with
P(X better than Y) on it, over the seeds that reached each threshold) when the runs were
evaluated during training, and the pass@k crossover k when there is an untrained curve to
compare with. ``report_matched_accuracy.csv`` then holds every run's matched points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ladbench import io, metric_catalogue
from ladbench.errors import UserError
from ladbench.llm_analysis import report as llm_report
from ladbench.llm_analysis.matched_accuracy import DIVERSITY, THRESHOLDS
from ladbench.results import Results
from ladbench.stats import CONFIDENCE, N_RESAMPLES, NO_SPREAD, SINGLE_RUN, iqm, probability_of_improvement, summarise
from ladbench.sweep import store
from ladbench.tables import latex_table, markdown_table

if TYPE_CHECKING:
    from ladbench.sweep.spec import SweepSpec

MARKS = {NO_SPREAD: "all seeds equal", SINGLE_RUN: "n=1"}
DETERMINISTIC_MARK = "det."


@dataclass
class Report:
    stats: pd.DataFrame
    improvement: pd.DataFrame
    markdown: str
    latex: str
    matched: pd.DataFrame = field(default_factory=pd.DataFrame)  # LLM: every run's matched points


def compare_axis(results: Results, requested: str | None) -> str | None:
    """The axis whose values are compared: the spec's choice, else ``method`` if it varies."""
    if requested is not None:
        return requested
    return "method" if len(results.axes.get("method", [])) > 1 else None


def default_metrics(results: Results, view: str) -> tuple[str, ...]:
    """The metrics of the catalogue's ``view`` ("report" or "compare") for the results' track that
    some cell defines (not NaN everywhere)."""
    names = metric_catalogue.names(metric_catalogue.SWEEP_METRICS[results.track], view)
    return tuple(name for name in names if name in results.summary and results.summary[name].notna().any())


def improvement_table(results: Results, axis: str, metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
    """P(X better than Y) for every pair of values of ``axis``, the tasks being the combinations
    of the other axes (rliable: averaged over tasks, stratified bootstrap interval). "Better"
    is the metric catalogue's direction; a metric without one cannot be compared. Default
    metrics: the catalogue's "compare" view of the results' track."""
    metrics = metrics or default_metrics(results, "compare")
    for metric in metrics:
        if metric_catalogue.higher_is_better(metric) is None:
            raise UserError(
                f"metric {metric!r} has no better direction (see ladbench.metric_catalogue); "
                "it cannot be compared by probability of improvement"
            )
    others = [name for name in results.axes if name != axis]
    summary = broadcast_ignored_axes(results.summary, {name: results.axes[name] for name in others})
    tasks = [group for _, group in summary.groupby(others, sort=False)] if others else [summary]
    rows = []
    for x, y in combinations(results.axes[axis], 2):
        for metric in metrics:
            pairs = [
                (task.loc[task[axis] == x, metric].to_numpy(), task.loc[task[axis] == y, metric].to_numpy())
                for task in tasks
            ]
            pairs = [(a, b) for a, b in pairs if len(a) and len(b)]
            if pairs:
                result = probability_of_improvement(
                    [a for a, _ in pairs], [b for _, b in pairs], metric_catalogue.higher_is_better(metric)
                )
                rows.append(
                    {
                        "x": x,
                        "y": y,
                        "metric": metric,
                        "tasks": len(pairs),
                        "poi": result.value,
                        "low": result.low,
                        "high": result.high,
                        "note": result.note,
                    }
                )
    return pd.DataFrame(rows)


def broadcast_ignored_axes(frame: pd.DataFrame, axes: dict[str, list]) -> pd.DataFrame:
    """Rows of cells with no value on an axis (their loss ignores it: one cell serves every value)
    repeated once per value of that axis, so that they join every task formed by it."""
    for axis, values in axes.items():
        missing = frame[axis].isna()
        if missing.any():
            copies = [frame[missing].assign(**{axis: value}) for value in values]
            frame = pd.concat([frame[~missing], *copies], ignore_index=True)
    return frame


def _entry(value: float, low: float, high: float, note: str, deterministic: bool = False) -> str:
    if note:
        return f"{value:.3g} ({DETERMINISTIC_MARK if deterministic else MARKS[note]})"
    return f"{value:.3g} [{low:.3g}, {high:.3g}]"


def deterministic_settings(cells: pd.DataFrame) -> set[str]:
    """The settings every cell of which found its seeds identical (seeds_identical: True; an LLM
    cell, which runs one seed, records None)."""
    identical = cells["seeds_identical"].eq(True).groupby(cells["setting"]).all()
    return set(identical.index[identical])


def setting_table(
    stats: pd.DataFrame, cells: pd.DataFrame, axes: list[str], metrics: tuple[str, ...], statistic: str
) -> pd.DataFrame:
    """One row per setting: its axis values, seed count and ``statistic [interval]`` per metric."""
    deterministic = deterministic_settings(cells)
    labels = dict(zip(cells["setting"], cells["label"], strict=True))
    rows: dict[str, dict[str, Any]] = {}
    for record in stats.to_dict("records"):
        setting = record["setting"]
        shown = {axis: labels[setting] if axis == "method" else record[axis] for axis in axes}
        row = rows.setdefault(setting, shown | {"seeds": record["n"]})
        row[record["metric"]] = _entry(
            record[statistic],
            record[f"{statistic}_low"],
            record[f"{statistic}_high"],
            record["note"],
            setting in deterministic,
        )
    return pd.DataFrame(list(rows.values()), columns=[*axes, "seeds", *metrics])


FINDING_STATISTICS = {"min": np.min, "max": np.max, "mean": np.mean, "iqm": iqm}


def finding_table(results: Results, axis: str, finding: Any) -> pd.DataFrame:
    """One row per combination of the axes other than ``axis`` and those ``finding.where`` fixes:
    the values of ``axis`` whose statistic over seeds of the metric meets the threshold, and
    those that do not, each with its value. ``finding`` has the fields of
    ``ladbench.sweep.spec.FindingSpec``."""
    summary = broadcast_ignored_axes(
        results.summary, {name: results.axes[name] for name in results.axes if name != axis}
    )
    for name, value in finding.where.items():
        summary = summary[summary[name] == value]
    names = dict(zip(results.cells["method"], results.cells["label"], strict=True)) if axis == "method" else {}
    statistic = FINDING_STATISTICS[finding.statistic]
    others = [name for name in results.axes if name != axis and name not in finding.where]
    rows = []
    for values, task in summary.groupby(others, sort=False) if others else [((), summary)]:
        met, missed = [], []
        for value, runs in task.groupby(axis, sort=False):
            result = float(statistic(runs[finding.metric].to_numpy()))
            meets = result >= finding.at_least if finding.at_least is not None else result <= finding.at_most
            (met if meets else missed).append(f"{names.get(value, value)} ({result:.3g})")
        keys = values if isinstance(values, tuple) else (values,)
        rows.append(
            {
                **dict(zip(others, keys, strict=True)),
                "meets": ", ".join(met) or "none",
                "does not": ", ".join(missed) or "none",
            }
        )
    return pd.DataFrame(rows)


def _finding_section(results: Results, axis: str, finding: Any) -> list[str]:
    relation = f">= {finding.at_least:g}" if finding.at_least is not None else f"<= {finding.at_most:g}"
    where = ", ".join(f"{name} = {value}" for name, value in finding.where.items()) or "every cell"
    return [
        f"## {finding.title}",
        "",
        f"Derived from the results: {finding.statistic} over seeds of `{finding.metric}` {relation}, "
        f"among the cells with {where}; each `{axis}` value with that statistic.",
        "",
        markdown_table(finding_table(results, axis, finding)),
    ]


def _seed_counts(seeds: pd.Series) -> str:
    """n per setting, as the header states it: "5 seeds each", or the range when settings differ."""
    low, high = int(seeds.min()), int(seeds.max())
    if low == high:
        return f"{high} seed{'s' if high != 1 else ''} each"
    return f"{low} to {high} seeds per setting (column `seeds`: n of each row)"


def build_report(
    results: Results,
    compare: str | None = None,
    metrics: list[str] | None = None,
    findings: Sequence[Any] = (),
    thresholds: Sequence[float] | None = None,
) -> Report:
    """The report of ``results``: ``compare``, ``metrics``, ``findings`` and (LLM) ``thresholds`` as in
    a spec's [report] table."""
    metrics = tuple(metrics or default_metrics(results, "report"))
    axes = list(results.axes)
    stats = summarise(results.summary, ["setting", *axes], metrics)
    tables = {statistic: setting_table(stats, results.cells, axes, metrics, statistic) for statistic in ("iqm", "mean")}
    axis = compare_axis(results, compare)
    improvement = improvement_table(results, axis) if axis else pd.DataFrame()
    level = f"{CONFIDENCE:.0%}"
    deterministic = len(deterministic_settings(results.cells))
    seeds = results.cells.groupby("setting")["n_seeds"].sum()
    shape = (
        f"{len(seeds)} cells"
        if len(seeds) == len(results.cells)
        else f"{len(seeds)} settings of one cell per seed ({len(results.cells)} cells)"
    )
    lines = [
        f"# {results.name}: final metrics",
        "",
        f"{shape}, {_seed_counts(seeds)}. Entries: statistic [{level} percentile bootstrap interval, "
        f"{N_RESAMPLES} resamples, scipy.stats.bootstrap] over seeds.",
    ]
    if results.missing:
        lines.append(f"**{len(results.missing)} cells of the grid have not finished and are not shown.**")
    if results.excluded:
        lines.append(
            f"**{len(results.excluded)} finished cells failed verification and are excluded** "
            "(`ladbench sweep <spec> --repair` reruns them):"
        )
        lines += ["", *(f"- {_excluded(cell)}" for cell in results.excluded), ""]
    if deterministic:
        lines.append(
            f"**{deterministic} cells are deterministic** (exact estimator from a uniform init): every seed "
            "gave the same run, so their seeds are not evidence. Their entries are marked *det.* and have "
            "no interval."
        )
    if (stats["note"] == NO_SPREAD).any():
        lines.append(
            "Entries marked *all seeds equal* took the same value on every seed (e.g. full mode coverage); "
            "no interval is given."
        )
    lines += [
        "",
        "## Interquartile mean (IQM)",
        "",
        markdown_table(tables["iqm"]),
        "",
        "## Mean",
        "",
        markdown_table(tables["mean"]),
    ]
    if not improvement.empty:
        shown = _improvement_entries(improvement, results, axis)
        lines += [
            "",
            f"## Probability of improvement across `{axis}`",
            "",
            "rliable's P(X > Y): the chance that a random run of X beats a random run of Y (better as the "
            "metric catalogue says: lower for distances, higher for coverage and accuracy; ties count half), "
            "averaged over the tasks formed by the other axes, with a stratified bootstrap interval.",
            "",
            markdown_table(shown[["x", "y", "metric", "tasks", "P(X better than Y)"]]),
        ]
    for finding in findings:
        lines += ["", *_finding_section(results, axis, finding)]
    caption = f"{results.name}: final metrics, IQM over seeds with {level} stratified bootstrap intervals."
    latex = latex_table(tables["iqm"], caption) + "\n\n" + latex_table(tables["mean"], caption.replace("IQM", "mean"))
    matched = pd.DataFrame()
    if results.track == "llm":
        matched = llm_report.matched_frame(results, tuple(thresholds or THRESHOLDS))
        lines += _llm_sections(results, axis, matched)
        if not matched.empty:
            latex += "\n\n" + latex_table(
                llm_report.matched_table(matched, axes),
                f"{results.name}: diversity at "
                f"matched accuracy, IQM over the seeds that reached each Avg@k threshold "
                f"with {level} stratified bootstrap intervals.",
            )
    return Report(stats, improvement, "\n".join(lines) + "\n", latex + "\n", matched)


def _improvement_entries(improvement: pd.DataFrame, results: Results, axis: str) -> pd.DataFrame:
    """The improvement table as shown: method labels for the method axis, ``P [low, high]`` entries."""
    if axis == "method":
        names = dict(zip(results.cells["method"], results.cells["label"], strict=True))
        improvement = improvement.assign(x=improvement["x"].map(names), y=improvement["y"].map(names))
    return improvement.assign(
        **{
            "P(X better than Y)": [
                _entry(*row) for row in improvement[["poi", "low", "high", "note"]].itertuples(index=False)
            ]
        }
    )


def _llm_sections(results: Results, axis: str | None, matched: pd.DataFrame) -> list[str]:
    """Diversity at matched accuracy (and P(X > Y) on it), and the pass@k crossover
    (``ladbench.llm_analysis.report``)."""
    lines = []
    axes = list(results.axes)
    if not matched.empty:
        lines += [
            "",
            "## Diversity at matched accuracy",
            "",
            "Each run's first evaluated step whose Avg@k reaches the threshold (no interpolation between "
            "evaluated steps, so Avg@k there may exceed it), and its coverage and distinct correct answers "
            "there. Entries: IQM [95% CI] over the seeds that reached it (`reached`: how many did); a seed "
            "that never reached it has no value (not a zero).",
            "",
            markdown_table(llm_report.matched_table(matched, axes)),
        ]
        if axis is not None:
            metrics = tuple(metric for metric in DIVERSITY if metric in matched)
            parts = [
                improvement_table(replace(results, summary=group[group["reached"]]), axis, metrics).assign(
                    threshold=threshold
                )
                for threshold, group in matched.groupby("threshold", sort=False)
                if group["reached"].any()
            ]
            parts = [part for part in parts if not part.empty]
            if parts:
                shown = _improvement_entries(pd.concat(parts, ignore_index=True), results, axis)
                lines += [
                    "",
                    f"P(X better than Y) at matched accuracy, across `{axis}`, over the seeds of X and Y "
                    "that reached the threshold:",
                    "",
                    markdown_table(shown[["threshold", "x", "y", "metric", "P(X better than Y)"]]),
                ]
    crossover = llm_report.crossover_table(results, axes)
    if not crossover.empty:
        lines += [
            "",
            "## pass@k crossover",
            "",
            "The first k at which a setting's mean pass@k curve (over its seeds) falls below the untrained "
            "model's on the same task and prompts (Yue et al. 2025); none: never, up to the largest k both "
            "curves have.",
            "",
            markdown_table(crossover),
        ]
    return lines


def _excluded(cell: dict[str, Any]) -> str:
    return f"{store.describe_cell(cell['key'], cell['axes'])}: {cell['file']} {cell['reason']}"


def sweep_report(results: Results, spec: SweepSpec) -> Report:
    """The report ``spec`` asks for of its sweep's ``results``: its [report] table's compare,
    metrics, findings and (LLM) thresholds. ``ladbench report``, ``ladbench figures`` and
    ``ladbench llm table`` build a sweep's report here."""
    settings = spec.report
    return build_report(results, settings.compare, settings.metrics, settings.findings, settings.thresholds)


def report_sweep(results: Results, spec: SweepSpec, directory: Path) -> Report:
    """``sweep_report``, written into ``directory`` (``write_report``: report.md, report.tex, ...)."""
    report = sweep_report(results, spec)
    write_report(report, Path(directory))
    return report


def write_report(report: Report, directory: Path, stem: str = "report") -> list[Path]:
    """``<stem>.md``, ``<stem>.tex``, ``<stem>_stats.csv`` and, with matched points, ``<stem>_matched_accuracy.csv``."""
    paths = [directory / f"{stem}.md", directory / f"{stem}.tex", directory / f"{stem}_stats.csv"]
    io.write_text(paths[0], report.markdown)
    io.write_text(paths[1], report.latex)
    io.write_csv(paths[2], report.stats)
    if not report.matched.empty:
        paths.append(directory / f"{stem}_matched_accuracy.csv")
        io.write_csv(paths[-1], report.matched)
    return paths
