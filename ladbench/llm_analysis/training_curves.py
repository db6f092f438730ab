"""The LLM training curves of the evaluations during training (``Results.eval_curves``): Avg@k
against the training step, then coverage and distinct correct answers against Avg@k (diversity
as accuracy rises, the curve that "diversity at matched accuracy" reads at its thresholds). One
line per setting (its method label, or its axis values), through the mean over its seeds at each
evaluated step; the bars are 95% bootstrap intervals over seeds (``stats.curve_band``), vertical
for the panel's y metric and, in the panels against Avg@k, horizontal for Avg@k. Dotted
horizontal lines mark the matched-accuracy thresholds. Saved as ``<stem>.png`` and ``.pdf``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ladbench.figures.captions import caption, caption_text, fit_legend, seeds_of
from ladbench.figures.common import COLUMN_WIDTH, PAGE_WIDTH, metric_name, new_figure, save, style
from ladbench.llm_analysis.matched_accuracy import ACCURACY, DIVERSITY, THRESHOLDS
from ladbench.stats import curve_band


def setting_names(results) -> dict[str, str]:
    """How a setting is named in a legend: its method label, with the values of the axes other than
    the loss/method axis when those vary."""
    cells = results.cells.drop_duplicates("setting")
    varying = [axis for axis in results.axes if axis not in ("loss", "method") and cells[axis].nunique() > 1]
    names = {}
    for row in cells.to_dict("records"):
        extra = ", ".join(f"{axis}={row[axis]}" for axis in varying)
        names[row["setting"]] = f"{row['label']} ({extra})" if extra else row["label"]
    return names


def _band(curves: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps, and the mean over seeds with its interval at each step (steps every seed evaluated)."""
    wide = curves.pivot(index="step", columns="cell", values=metric).dropna()
    centre, low, high = curve_band(wide.to_numpy(dtype=float)) if len(wide) else (np.array([]),) * 3
    return wide.index.to_numpy(), centre, low, high


def training_curves_figure(results, thresholds: Sequence[float] = THRESHOLDS):
    style()
    curves = results.eval_curves
    metrics = [metric for metric in DIVERSITY if metric in curves and curves[metric].notna().any()]
    panels = 1 + len(metrics)
    figure, axes = new_figure(1, panels, (PAGE_WIDTH if panels > 1 else COLUMN_WIDTH, 2.1))
    for index, (setting, name) in enumerate(setting_names(results).items()):
        frame = curves[curves["setting"] == setting]
        color = f"C{index}"
        steps, accuracy, low, high = _band(frame, ACCURACY)
        axes[0, 0].plot(steps, accuracy, color=color, marker="o", markersize=2.5, label=name)
        axes[0, 0].fill_between(steps, low, high, color=color, alpha=0.2, lw=0)
        for axis, metric in zip(axes[0, 1:], metrics, strict=True):
            both = frame.dropna(subset=[ACCURACY, metric])
            steps_x, x, x_low, x_high = _band(both, ACCURACY)
            steps_y, y, y_low, y_high = _band(both, metric)
            if not np.array_equal(steps_x, steps_y):
                continue
            axis.errorbar(
                x,
                y,
                xerr=[x - x_low, x_high - x],
                yerr=[y - y_low, y_high - y],
                color=color,
                marker="o",
                markersize=2.5,
                elinewidth=0.6,
                capsize=0,
                label=name,
            )
    axes[0, 0].set_xlabel("training step")
    axes[0, 0].set_ylabel(metric_name(ACCURACY))
    axes[0, 0].set_ylim(0, 1.02)
    for threshold in thresholds:
        axes[0, 0].axhline(threshold, color="0.6", lw=0.6, ls=":")
    for axis, metric in zip(axes[0, 1:], metrics, strict=True):
        axis.set_xlabel(metric_name(ACCURACY))
        axis.set_ylabel(metric_name(metric))
        axis.set_xlim(0, 1.02)
        if metric == "coverage":
            axis.set_ylim(0, 1.02)
        for threshold in thresholds:
            axis.axvline(threshold, color="0.6", lw=0.6, ls=":")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fit_legend(figure, handles, labels, most=6)
    caption(figure, caption_text(figure, "training_curves", results.cells, seeds_of(results)))
    return figure


def save_training_curves(results, out_dir: Path, stem: str, thresholds: Sequence[float] = THRESHOLDS) -> list[Path]:
    return save(training_curves_figure(results, thresholds), out_dir, stem)
