"""The paper-style table from eval summaries: one row per (task, method), mean ± std over seeds.

A row's label is the method of the evaluated run (with LAD's divergence, e.g. ``lad-js``) or
``base`` for an untrained model. Cells are mean ± sample standard deviation (ddof = 1) over the
summaries of that row, with the number of seeds in the ``seeds`` column. A metric that no
evaluation defines (the answer-set metrics on single-answer tasks, or in evaluations made before
they existed) gets no column; a cell whose row defines it nowhere reads "-". When every
evaluation has a pass@k curve (``pass_at_k.csv``), the ``crossover k`` column gives the first k
at which the method's mean pass@k falls below the base model's ("none": never up to the largest
k; see ``ladbench.llm.passk``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ladbench.errors import UserError
from ladbench.io import write_csv, write_text
from ladbench.llm.passk import BASE, crossovers, read_curves
from ladbench.tables import latex_table, markdown_table

COLUMNS = {
    "avg_at_k": "Avg@{k}",
    "pass_at_k": "Pass@{k}",
    "dist_3": "dist-3",
    "dist_4": "dist-4",
    "distinct_correct": "distinct correct",
    "coverage": "coverage",
    "tv_uniform": "TV uniform",
    "tv_base_correct": "TV base|correct",
    "mean_length": "length",
}


def method_label(train_config: dict | None) -> str:
    if train_config is None:
        return BASE
    if train_config["method"] == "lad":
        return f"lad-{train_config['loss_options'].get('divergence', 'js')}"
    return train_config["method"]


def load_summaries(evals: list[Path]) -> pd.DataFrame:
    rows = []
    for directory in evals:
        path = Path(directory) / "summary.json"
        if not path.is_file():
            raise UserError(f"{path} not found; pass directories written by `ladbench llm eval`")
        summary = json.loads(path.read_text())
        config = summary["train_config"]
        rows.append(
            {
                "task": summary["task"],
                "method": method_label(config),
                "k": summary["k"],
                "seed": None if config is None else config["seed"],
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
    """Long frame: task, method, k, seeds, <metric>_mean / <metric>_std for each column that some
    evaluation defines, and crossover_k when every evaluation has a pass@k curve."""
    frame = load_summaries(evals)
    if frame["k"].nunique() > 1:
        raise UserError(f"the evaluations use different k ({sorted(frame['k'].unique())}); tabulate one k at a time")
    grouped = frame.groupby(["task", "method", "k"], sort=False)
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
    for metric, title in COLUMNS.items():
        if f"{metric}_mean" in frame:
            mean, std = frame[f"{metric}_mean"], frame[f"{metric}_std"]
            cells[title.format(k=k)] = [_cell(m, s, plus_minus) for m, s in zip(mean, std, strict=True)]
    if "crossover_k" in frame:
        cells["crossover k"] = [
            "-" if method == BASE else "none" if pd.isna(value) else str(int(value))
            for method, value in zip(frame["method"], frame["crossover_k"], strict=True)
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
