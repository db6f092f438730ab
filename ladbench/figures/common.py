"""What every figure shares: style, cell selection, display names, saving.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``), not pyplot: no
backend is selected and no global figure state is kept, so drawing has no side effect on the
caller's matplotlib beyond seaborn's style (set by ``style``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ladbench import io, metric_catalogue
from ladbench.errors import UserError
from ladbench.figure_kinds import FORMATS

COLUMN_WIDTH = 3.4  # inches: one column of a two-column paper
PAGE_WIDTH = 7.0  # inches: both columns
DPI = 200  # of the PNGs; the PDFs are vector graphics


def style() -> None:
    """Seaborn's paper context, sized so that text stays 6-8 pt at column width."""
    sns.set_theme(
        context="paper",
        style="whitegrid",
        palette="colorblind",
        rc={
            "font.size": 7,
            "axes.titlesize": 7.5,
            "axes.labelsize": 7,
            "xtick.labelsize": 6.5,
            "ytick.labelsize": 6.5,
            "legend.fontsize": 6.5,
            "legend.title_fontsize": 7,
            "lines.linewidth": 1.1,
            "axes.linewidth": 0.6,
            "grid.linewidth": 0.4,
            "pdf.fonttype": 42,
        },
    )


def metric_name(metric: str) -> str:
    return metric_catalogue.label(metric)


def new_figure(rows: int, columns: int, size: tuple[float, float], **options: Any) -> tuple[Figure, Any]:
    """A figure and its [rows, columns] array of axes, laid out by constrained layout."""
    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.subplots(rows, columns, squeeze=False, **options)


def legend_title(axis: str) -> str | None:
    """Methods name themselves (LAD-JS, GRPO); other values (0.5, fixed) need their axis named."""
    return None if axis == "method" else axis


def select(frame: pd.DataFrame, where: dict[str, Any]) -> pd.DataFrame:
    """Rows whose axis columns equal every value of ``where``. A cell with no value on an axis
    (its loss ignores that axis's setting, so it is the same cell for every value) matches any."""
    for axis, value in where.items():
        frame = frame[(frame[axis] == value) | frame[axis].isna()]
    return frame


def value_names(frame: pd.DataFrame, axis: str) -> dict[Any, str]:
    """Display name of each value of ``axis`` in order of appearance (methods as LAD-JS, GRPO...)."""
    if axis != "method":
        return {value: f"{value:g}" if isinstance(value, float) else str(value) for value in frame[axis].unique()}
    pairs = frame[["method", "label"]].drop_duplicates("method")
    return dict(zip(pairs["method"], pairs["label"], strict=True))


def require_one_cell(frame: pd.DataFrame, by: list[str], axes: list[str], figure: str) -> None:
    """Each combination of ``by`` must be one cell; otherwise name the axes to fix with ``where``."""
    counts = frame.groupby(by, sort=False)["cell"].nunique()
    if counts.empty:
        raise UserError(f"figure {figure!r}: no finished cell matches its 'where'")
    if counts.max() > 1:
        free = [axis for axis in axes if axis not in by and frame[axis].nunique() > 1]
        raise UserError(f"figure {figure!r}: several cells per {', '.join(by)}; fix {', '.join(free)} with 'where'")


def save(figure, out_dir: Path, stem: str, dpi: int = DPI) -> list[Path]:
    """``stem.png`` and ``stem.pdf`` written atomically, without timestamps (reproducible files)."""
    paths = []
    for suffix in FORMATS:
        path = Path(out_dir) / f"{stem}.{suffix}"
        metadata = {"Software": None} if suffix == "png" else {"CreationDate": None, "Creator": None, "Producer": None}
        io.save_figure(figure, path, dpi=dpi, metadata=metadata)
        paths.append(path)
    return paths
