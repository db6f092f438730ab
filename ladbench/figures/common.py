"""What every figure shares: style, cell selection, display names, saving."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from ladbench import io
from ladbench.errors import UserError

COLUMN_WIDTH = 3.4  # inches: one column of a two-column paper
PAGE_WIDTH = 7.0  # inches: both columns
FORMATS = ("png", "pdf")
DPI = 200  # of the PNGs; the PDFs are vector graphics
METRIC_NAMES = {
    "tv_target": "TV to target", "tv_truth": "TV to ground truth", "entropy": "entropy (nats)",
    "mode_coverage": "mode coverage", "max_prob": "max probability", "kl_truth": "KL(truth || pi)",
    "expected_reward": "expected reward",
}


def style() -> None:
    """Seaborn's paper context, sized so that text stays 6-8 pt at column width."""
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", rc={
        "font.size": 7, "axes.titlesize": 7.5, "axes.labelsize": 7, "xtick.labelsize": 6.5, "ytick.labelsize": 6.5,
        "legend.fontsize": 6.5, "legend.title_fontsize": 7, "lines.linewidth": 1.1, "axes.linewidth": 0.6,
        "grid.linewidth": 0.4, "pdf.fonttype": 42,
    })


def metric_name(metric: str) -> str:
    return METRIC_NAMES.get(metric, metric.replace("_", " "))


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


def save(figure, out_dir: Path, stem: str) -> list[Path]:
    """``stem.png`` and ``stem.pdf`` written atomically, without timestamps (reproducible files)."""
    paths = []
    for suffix in FORMATS:
        path = Path(out_dir) / f"{stem}.{suffix}"
        metadata = {"Software": None} if suffix == "png" else {"CreationDate": None, "Creator": None, "Producer": None}
        io.save_figure(figure, path, dpi=DPI, metadata=metadata)
        paths.append(path)
    plt.close(figure)
    return paths
