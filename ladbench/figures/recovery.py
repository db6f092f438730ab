"""Distribution recovery: per panel (a method, a divergence...), the learned distribution with
its spread across seeds, drawn over the method's target and the ground truth, modes marked."""

from __future__ import annotations

import math

from ladbench.bandit.envs import make_env
from ladbench.bandit.plots import draw_recovery, outcome_index
from ladbench.figures.captions import add_note, fit_legend
from ladbench.figures.common import COLUMN_WIDTH, PAGE_WIDTH, new_figure, require_one_cell, select, value_names
from ladbench.results import Results

MAX_COLUMNS = 4
HEADROOM = 1.25  # y-limit over the tallest of learned and ground truth
OFF_SCALE = 2.0  # a target peak this many times taller than the rest is clipped and labelled


def _fit_y(axis, cell) -> bool:
    """Scale the y axis to the learned and true distributions; a target spike (GRPO's best arm,
    FlowRL's beta = 15) would flatten them, so it is clipped and its height written instead."""
    shown = max(cell["prob"].max(), cell["truth"].max())
    peak = cell.groupby(outcome_index(cell))["target"].mean().max()
    if peak > OFF_SCALE * shown:
        axis.set_ylim(0, HEADROOM * shown)
        axis.text(
            0.98,
            0.95,
            f"target peak {peak:.2f} (off scale)",
            transform=axis.transAxes,
            ha="right",
            va="top",
            fontsize=5.5,
        )
        return True
    return False


def recovery(results: Results, panels: str, where: dict, name: str, **_: object):
    policy = select(results.policy, where)
    require_one_cell(policy, [panels], list(results.axes), name)
    names = value_names(policy, panels)
    rows = math.ceil(len(names) / MAX_COLUMNS)
    columns = math.ceil(len(names) / rows)  # balanced rows: 5 panels as 3 + 2, not 4 + 1
    width = COLUMN_WIDTH if columns <= 2 else PAGE_WIDTH
    figure, axes = new_figure(rows, columns, (width, 0.35 + 1.3 * rows))
    clipped = []
    for axis, (value, title) in zip(axes.flat, names.items(), strict=False):  # spare panels stay empty
        cell = policy[policy[panels] == value]
        config = results.configs[cell["cell"].iloc[0]]
        draw_recovery(axis, cell, make_env(config["env"], config.get("env_options")))
        if _fit_y(axis, cell):
            clipped.append(title)
        axis.set_title(title)
        axis.tick_params(pad=1)
    for axis in axes.flat[len(names) :]:
        axis.set_visible(False)
    for axis in axes[-1]:
        axis.set_xlabel("context x arm" if "context" in policy else "arm")
    for axis in axes[:, 0]:
        axis.set_ylabel("probability")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fit_legend(figure, handles, labels, most=2 if width == COLUMN_WIDTH else 4)
    if clipped:
        add_note(
            figure,
            f"Y axis cut at {HEADROOM:g} x the tallest learned or true probability in {len(clipped)} "
            "panels whose target peak is off scale (the peak's height is written there).",
        )
    return figure
