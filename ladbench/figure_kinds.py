"""The figure kinds a spec may declare, as data: which axis fields each takes and its default
metrics. Sweep specs are validated against these schemas without importing any drawing code
(``ladbench.figures`` draws them).

Kinds (each names axes of the spec; ``where`` = {axis: value} selects cells; ``metrics`` the
summary columns shown):

- ``recovery``  panels=AXIS: learned distribution (mean, min-max band over seeds) over target
- ``curves``    hue=AXIS: metric against step, mean with 95% bootstrap band, per value of AXIS
- ``heatmap``   rows=AXIS, columns=AXIS: IQM of a final metric over two axes
- ``points``    x=AXIS, hue=AXIS, [columns=AXIS]: IQM of final metrics with 95% intervals
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ladbench import metric_catalogue
from ladbench.errors import UserError

AXIS_FIELDS = ("panels", "hue", "rows", "columns", "x")
FORMATS = ("png", "pdf")  # every figure is saved in each


@dataclass(frozen=True)
class FigureKind:
    required: tuple[str, ...]  # axis fields the kind needs
    optional: tuple[str, ...] = ()  # axis fields it may take
    default_metrics: tuple[str, ...] | None = None  # None: the kind shows no metrics

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


FIGURE_KINDS: dict[str, FigureKind] = {
    "recovery": FigureKind(("panels",)),
    "curves": FigureKind(("hue",), default_metrics=("tv_target", "entropy")),
    "heatmap": FigureKind(("rows", "columns"), default_metrics=("tv_target", "mode_coverage")),
    "points": FigureKind(("x", "hue"), ("columns",), default_metrics=("tv_target", "entropy")),
}


def check_metrics(metrics: list[str] | None, where: str, track: str = metric_catalogue.BANDIT) -> None:
    """Every name is a metric of ``track`` in the catalogue (a column of every cell's summary)."""
    valid = metric_catalogue.names(track)
    for metric in metrics or ():
        if metric not in valid:
            raise UserError(f"{where}.metrics: unknown metric {metric!r}; valid choices: {', '.join(valid)}")


def check_figure_spec(figure: Any, axes: dict[str, list], where: str) -> None:
    """Known kind, the axis fields the kind needs (and no others) naming axes of the spec,
    known metrics, a ``where`` that names axes and their values, and every other axis with
    several values fixed by ``where`` (a panel shows one cell per value of its own axes).
    ``figure`` has the fields of ``ladbench.sweep.spec.FigureSpec``."""
    if figure.kind not in FIGURE_KINDS:
        raise UserError(f"{where}.kind: unknown figure kind {figure.kind!r}; valid choices: {', '.join(FIGURE_KINDS)}")
    kind = FIGURE_KINDS[figure.kind]
    for field in AXIS_FIELDS:
        value = getattr(figure, field)
        if field in kind.required and value is None:
            raise UserError(f"{where}: a {figure.kind!r} figure needs {field!r} (an axis: {', '.join(axes)})")
        if value is not None and field not in kind.fields:
            raise UserError(f"{where}.{field}: not used by a {figure.kind!r} figure; it takes {', '.join(kind.fields)}")
        if value is not None and value not in axes:
            raise UserError(f"{where}.{field}: unknown axis {value!r}; valid choices: {', '.join(axes)}")
    if figure.metrics is not None and kind.default_metrics is None:
        raise UserError(f"{where}.metrics: a {figure.kind!r} figure takes no metrics")
    check_metrics(figure.metrics, where)
    used = {getattr(figure, field) for field in AXIS_FIELDS} | set(figure.where)
    free = [axis for axis, values in axes.items() if axis not in used and len(values) > 1]
    if free:
        raise UserError(
            f"{where}: axis {free[0]!r} has several values and the figure shows one; pick one with "
            f"where = {{ {free[0]} = ... }} (values: {', '.join(map(str, axes[free[0]]))})"
        )
    for axis, value in figure.where.items():
        if axis not in axes:
            raise UserError(f"{where}.where: unknown axis {axis!r}; valid choices: {', '.join(axes)}")
        if value not in axes[axis]:
            raise UserError(
                f"{where}.where.{axis}: {value!r} is not a value of the axis; valid choices: "
                f"{', '.join(map(str, axes[axis]))}"
            )
