"""Paper figures of a sweep, declared in its spec (``[[figures]]``) and drawn from its results.

Kinds (each names axes of the spec; ``where`` = {axis: value} selects cells; ``metrics`` the
summary columns shown):

- ``recovery``  panels=AXIS: learned distribution (mean, min-max band over seeds) over target
- ``curves``    hue=AXIS: metric against step, mean with 95% bootstrap band, per value of AXIS
- ``heatmap``   rows=AXIS, columns=AXIS: IQM of a final metric over two axes
- ``points``    x=AXIS, hue=AXIS, [columns=AXIS]: IQM of final metrics with 95% intervals

Each figure is saved as ``<out>/<spec name>_<figure name>.png`` and ``.pdf``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

from ladbench.errors import UserError

PAPER_FIGURES = Path("paper_figures")


@dataclass(frozen=True)
class FigureKind:
    draw: Callable
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    default_metrics: tuple[str, ...] | None = None


def _kinds() -> dict[str, FigureKind]:
    from ladbench.figures.curves import curves
    from ladbench.figures.heatmap import heatmap
    from ladbench.figures.points import points
    from ladbench.figures.recovery import recovery

    return {
        "recovery": FigureKind(recovery, ("panels",)),
        "curves": FigureKind(curves, ("hue",), default_metrics=("tv_target", "entropy")),
        "heatmap": FigureKind(heatmap, ("rows", "columns"), default_metrics=("tv_target", "mode_coverage")),
        "points": FigureKind(points, ("x", "hue"), ("columns",), default_metrics=("tv_target", "entropy")),
    }


FIGURE_KINDS = ("recovery", "curves", "heatmap", "points")
AXIS_FIELDS = ("panels", "hue", "rows", "columns", "x")


def check_figure_spec(figure, axes: dict[str, list], where: str) -> None:
    """Known kind, the axis fields the kind needs (and no others) naming axes of the spec,
    known metrics, a ``where`` that names axes and their values, and every other axis with
    several values fixed by ``where`` (a panel shows one cell per value of its own axes)."""
    from ladbench.results import METRICS

    if figure.kind not in FIGURE_KINDS:
        raise UserError(f"{where}.kind: unknown figure kind {figure.kind!r}; valid choices: {', '.join(FIGURE_KINDS)}")
    kind = _kinds()[figure.kind]
    for field in AXIS_FIELDS:
        value = getattr(figure, field)
        if field in kind.required and value is None:
            raise UserError(f"{where}: a {figure.kind!r} figure needs {field!r} (an axis: {', '.join(axes)})")
        if value is not None and field not in kind.required + kind.optional:
            raise UserError(f"{where}.{field}: not used by a {figure.kind!r} figure; it takes "
                            f"{', '.join(kind.required + kind.optional)}")
        if value is not None and value not in axes:
            raise UserError(f"{where}.{field}: unknown axis {value!r}; valid choices: {', '.join(axes)}")
    if figure.metrics is not None and kind.default_metrics is None:
        raise UserError(f"{where}.metrics: a {figure.kind!r} figure takes no metrics")
    for metric in figure.metrics or ():
        if metric not in METRICS:
            raise UserError(f"{where}.metrics: unknown metric {metric!r}; valid choices: {', '.join(METRICS)}")
    used = {getattr(figure, field) for field in AXIS_FIELDS} | set(figure.where)
    free = [axis for axis, values in axes.items() if axis not in used and len(values) > 1]
    if free:
        raise UserError(f"{where}: axis {free[0]!r} has several values and the figure shows one; pick one with "
                        f"where = {{ {free[0]} = ... }} (values: {', '.join(map(str, axes[free[0]]))})")
    for axis, value in figure.where.items():
        if axis not in axes:
            raise UserError(f"{where}.where: unknown axis {axis!r}; valid choices: {', '.join(axes)}")
        if value not in axes[axis]:
            raise UserError(f"{where}.where.{axis}: {value!r} is not a value of the axis; valid choices: "
                            f"{', '.join(map(str, axes[axis]))}")


def default_figures(axes: dict[str, list]) -> list:
    """For a spec that declares none: recovery and curves over its first axis, other axes at their first value."""
    from ladbench.sweep.spec import FigureSpec

    if not axes:
        return []
    first, *others = axes
    where = {axis: axes[axis][0] for axis in others}
    return [FigureSpec(kind="recovery", panels=first, where=where), FigureSpec(kind="curves", hue=first, where=where)]


def plot_results(results, figures: list, out_dir: Path = PAPER_FIGURES) -> list[Path]:
    """Draw every figure of ``figures`` from ``results``; returns the files written."""
    from ladbench.figures.common import save, style

    style()
    kinds = _kinds()
    paths: list[Path] = []
    for figure in figures or default_figures(results.axes):
        kind = kinds[figure.kind]
        name = f"{results.name}_{figure.file_stem}"
        options = {field: getattr(figure, field) for field in AXIS_FIELDS if getattr(figure, field) is not None}
        if kind.default_metrics is not None:
            options["metrics"] = list(figure.metrics or kind.default_metrics)
        drawn = kind.draw(results, where=figure.where, name=name, **options)
        paths += save(drawn, out_dir, name)
    return paths
