"""The paper-style table from eval summaries: one row per (task, method), mean ± std over seeds.

A row's method is the label in the evaluation's manifest (the evaluated run's loss label, e.g.
``LAD-JS``, or ``base`` for an untrained model). Cells are mean ± sample standard deviation
(ddof = 1) over the summaries of that row, with the number of seeds in the ``seeds`` column.
Columns and their titles come from the metric catalogue (view ``table``); a metric that no
evaluation defines (the answer-set metrics on single-answer tasks, or in evaluations made before
they existed) gets no column, and a cell whose row defines it nowhere reads "-". Every
evaluation is verified against its manifest before it is read. When every evaluation has a
pass@k curve (``pass_at_k.csv``), the ``crossover k`` column gives the first k at which a trained
method's mean pass@k falls below the untrained model's ("none": never up to the largest common
k; see ``ladbench.llm.passk``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ladbench import manifest, metric_catalogue
from ladbench.errors import UserError
from ladbench.io import write_csv, write_text
from ladbench.llm.passk import crossovers, read_curves
from ladbench.tables import latex_table, markdown_table

COLUMNS = metric_catalogue.names(metric_catalogue.LLM_EVAL, "table")


def load_summaries(evals: list[Path]) -> pd.DataFrame:
    rows = []
    for directory in map(Path, evals):
        if not manifest.exists(directory):
            raise UserError(f"{directory} has no {manifest.FILE}; pass directories written by `ladbench llm eval`")
        record = manifest.verify(directory)
        if record["kind"] != "llm_eval":
            raise UserError(f"{directory} holds a {record['kind']} result; pass directories written by `ladbench llm eval`")
        summary = json.loads((directory / "summary.json").read_text())
        config = record["train_config"]
        rows.append(
            {
                "task": record["task"],
                "method": record["label"],
                "k": record["k"],
                "seed": None if config is None else config["seed"],
                "trained": config is not None,
                "directory": str(directory),
                **summary["metrics"],
            }
        )
    frame = pd.DataFrame(rows)
    for metric in COLUMNS:  # evaluations made before a metric existed lack it
        if metric not in frame:
            frame[metric] = float("nan")
    return frame


def load_pass_at_k(evals: list[Path]) -> pd.DataFrame | None:
    """The evaluations' pass@k curves (see ``ladbench.llm.passk.read_curves``); None if one has none."""
    return read_curves(load_summaries(evals))


def build_table(evals: list[Path]) -> pd.DataFrame:
    """Long frame: task, method, trained (False: an untrained model), k, seeds, <metric>_mean /
    <metric>_std for each column that some evaluation defines, and crossover_k when every
    evaluation has a pass@k curve."""
    frame = load_summaries(evals)
    if frame["k"].nunique() > 1:
        raise UserError(f"the evaluations use different k ({sorted(frame['k'].unique())}); tabulate one k at a time")
    grouped = frame.groupby(["task", "method", "trained", "k"], sort=False)
    table = grouped.size().rename("seeds").to_frame()
    for metric in COLUMNS:
        if frame[metric].notna().any():
            table[f"{metric}_mean"] = grouped[metric].mean()
            table[f"{metric}_std"] = grouped[metric].std(ddof=1)
    table = table.reset_index()
    curves = read_curves(frame)
    if curves is not None:
        found = crossovers(curves)
        pairs = zip(table["task"], table["method"], strict=True)
        table["crossover_k"] = pd.array([found.get(pair) for pair in pairs], dtype="Int64")
    return table


def _cells(frame: pd.DataFrame, plus_minus: str) -> pd.DataFrame:
    k = int(frame["k"].iloc[0])
    cells = frame[["task", "method", "seeds"]].copy()
    for metric in COLUMNS:
        if f"{metric}_mean" in frame:
            mean, std = frame[f"{metric}_mean"], frame[f"{metric}_std"]
            cells[metric_catalogue.label(metric, k)] = [_cell(m, s, plus_minus) for m, s in zip(mean, std, strict=True)]
    if "crossover_k" in frame:
        cells["crossover k"] = [
            "-" if not trained else "none" if pd.isna(value) else str(int(value))
            for trained, value in zip(frame["trained"], frame["crossover_k"], strict=True)
        ]
    return cells


def _cell(mean: float, std: float, plus_minus: str) -> str:
    if pd.isna(mean):
        return "-"
    return f"{mean:.3f}" if pd.isna(std) else f"{mean:.3f}{plus_minus}{std:.3f}"


def to_markdown(frame: pd.DataFrame) -> str:
    return markdown_table(_cells(frame, " ± ")) + "\n"


def to_latex(frame: pd.DataFrame) -> str:
    cells = _cells(frame, r" $\pm$ ")
    return latex_table(cells, align="ll" + "r" * (len(cells.columns) - 2)) + "\n"


def write_tables(frame: pd.DataFrame, out: Path | None) -> str:
    """Write table.md, table.tex and table.csv into ``out`` (if given); return the markdown."""
    markdown = to_markdown(frame)
    if out is not None:
        write_text(Path(out) / "table.md", markdown)
        write_text(Path(out) / "table.tex", to_latex(frame))
        write_csv(Path(out) / "table.csv", frame)
    return markdown
