"""Heatmaps of a final metric (IQM across seeds) over two axes, e.g. divergence x eta."""

from __future__ import annotations

import seaborn as sns
from matplotlib.colors import LogNorm

from ladbench import metric_catalogue
from ladbench.figures.captions import add_note
from ladbench.figures.common import PAGE_WIDTH, metric_name, new_figure, require_one_cell, select, value_names
from ladbench.results import Results
from ladbench.stats import iqm

LOG_FLOOR = 1e-6  # distances below this share the darkest colour of a log scale


def _lower_is_better(metric: str) -> bool:
    return metric_catalogue.higher_is_better(metric) is False


def _norm(grid, metric: str):
    """A log colour scale for distances spanning orders of magnitude (1e-16 to 0.7), else linear."""
    if not _lower_is_better(metric) or (grid <= 0).any(axis=None):
        return None
    return LogNorm(
        vmin=max(float(grid.min(axis=None)), LOG_FLOOR), vmax=max(float(grid.max(axis=None)), LOG_FLOOR * 10), clip=True
    )


def heatmap(results: Results, rows: str, columns: str, metrics: list[str], where: dict, name: str, **_: object):
    frame = select(results.summary, where)
    require_one_cell(frame, [rows, columns], list(results.axes), name)
    row_names, column_names = value_names(frame, rows), value_names(frame, columns)
    figure, axes = new_figure(1, len(metrics), (PAGE_WIDTH, 0.5 + 0.28 * len(row_names)))
    for axis, metric in zip(axes[0], metrics, strict=True):
        table = frame.groupby([rows, columns])[metric].agg(lambda values: float(iqm(values.to_numpy())))
        grid = table.unstack(columns).reindex(index=list(row_names), columns=list(column_names))
        grid.index, grid.columns = list(row_names.values()), list(column_names.values())
        colours = "viridis_r" if _lower_is_better(metric) else "viridis"  # yellow = better, where there is a better
        norm = _norm(grid, metric)
        if norm is not None:
            below = int((grid < LOG_FLOOR).sum(axis=None))
            clipped = f", clipped below at {LOG_FLOOR:g}: {below} cells under it share its colour" if below else ""
            add_note(
                figure, f"{metric_name(metric)}: log colour scale from {norm.vmin:.2g} to {norm.vmax:.2g}{clipped}."
            )
        sns.heatmap(
            grid,
            ax=axis,
            annot=True,
            fmt=".2g",
            cmap=colours,
            annot_kws={"fontsize": 5.5},
            norm=norm,
            cbar_kws={"shrink": 0.8, "pad": 0.02},
            linewidths=0.3,
            linecolor="white",
        )
        axis.set_title(f"final {metric_name(metric)} (IQM over seeds)")
        axis.set_xlabel(columns)
        axis.set_ylabel(rows)
        axis.tick_params(axis="y", rotation=0)
    return figure
