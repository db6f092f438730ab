"""Sweep specs: a TOML file naming fixed settings, axes to grid over, seeds, figures and report.

    name = "paper_bandit"                 # optional; defaults to the file's stem
    description = "..."
    track = "bandit"                      # bandit (the default) or llm: which config [fixed] and [axes] set
    seeds = 10                            # a count (seeds 0..n-1) or an explicit list
    [fixed]                               # any field of the track's config (``ladbench run bandit --help``)
    estimator = "exact"
    loss = { name = "lad", divergence = "js" }   # the loss table, taken as written
    [axes]                                # the grid: the product of every axis
    method = ["lad", "grpo"]              # a simple axis: values of one config field, a
    eta = [0.5, 1.0]                      # shorthand (method, divergence, eta) or a "loss.<option>"
    pi_old = [                            # a compound axis: each value a table of fields
      { label = "fixed", protocol = "fixed" },
      { label = "refresh k=10", protocol = "refresh", refresh_interval = 10 },
    ]
    [[figures]]                           # see ladbench.figure_kinds.FIGURE_KINDS
    kind = "recovery"
    panels = "method"
    [report]
    compare = "method"                    # probability of improvement between its values

An LLM spec (``track = "llm"``) sets TrainConfig fields (``ladbench llm train --help``) in
[fixed] and [axes], with the same shorthands and ``loss`` tables, and adds::

    gpus_per_cell = 0.2                   # the GPU share a cell asks Ray for (default 1; ``--gpus-per-cell``)
    [eval]                                # EvalConfig settings (``ladbench llm eval --help``) but model
    k = 64

Each seed of an LLM spec is its own cell (LLM runs do not batch): the cell trains with that
``seed`` and then evaluates the trained model. The evaluation's settings that TrainConfig has
too, but ``model`` and ``max_new_tokens`` (``task``, ``split_seed``, ``seed``...), default to the
cell's training settings; [eval] overrides them for every cell. LLM specs declare no figures (the
figure kinds draw bandit results).

The shorthands and ``loss.<option>`` keys apply to the cells whose loss takes them (``eta`` sets
LAD's eta and entropy_pg's coef, nothing for GRPO), and a config field to the cells that read it
(``group_size`` to sampled-estimator cells, ``refresh_interval`` to refresh-protocol cells,
``logz_lr`` to FlowRL's: the config's ``ignored_settings``): combinations that differ only in
settings they ignore are one cell, shown with None on those axes. A setting that applies to no
cell at all is an error. Everything is checked before anything runs: every problem is one ``UserError`` line naming the
file, the key and, where there are any, the valid choices.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ladbench import io, layout
from ladbench.errors import UserError, build_dropping_ignored
from ladbench.losses import available_losses
from ladbench.losses.config import SHORTHANDS, OptionValue, apply_shorthands, takes_option
from ladbench.resources import RUN_BYTES, Need, check_fits, check_seeds
from ladbench.sweep import store

SPEC_SUFFIX = ".toml"
LABEL_KEY = "label"
LOSS_PREFIX = "loss."
Scalar = bool | int | float | str
LLM = "llm"
SEED_FIELD = "seed"  # the TrainConfig field that each seed of an LLM spec sets (one cell per seed)
NOT_INHERITED = ("model", "max_new_tokens")  # EvalConfig fields shared with TrainConfig that a cell does not pass on
AxisValue = Scalar | dict[str, OptionValue | dict[str, OptionValue]]


class FigureSpec(BaseModel):
    """One figure of the spec. ``kind`` picks the drawing (``ladbench.figure_kinds.FIGURE_KINDS``);
    the other fields name axes of the spec (``panels``, ``hue``, ``rows``, ``columns``, ``x``),
    metrics, a ``where`` filter {axis: value} selecting cells, and an optional ``title`` drawn
    over the whole figure (say there what every panel shares, e.g. the pi_old protocol)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    name: str | None = None
    panels: str | None = None
    hue: str | None = None
    rows: str | None = None
    columns: str | None = None
    x: str | None = None
    metrics: list[str] | None = None
    where: dict[str, Scalar] = Field(default_factory=dict)
    title: str | None = None

    @property
    def file_stem(self) -> str:
        return self.name or self.kind


class FindingSpec(BaseModel):
    """A statement the report derives from the results: among the cells matching ``where``, which
    values of the compared axis have ``statistic`` over seeds of ``metric`` at least ``at_least``
    (or at most ``at_most``), listed per combination of the other axes. ``statistic``: min (every
    seed), max (some seed), mean or iqm."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    metric: str
    at_least: float | None = None
    at_most: float | None = None
    statistic: Literal["min", "max", "mean", "iqm"] = "min"
    where: dict[str, Scalar] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_threshold(self) -> FindingSpec:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of at_least and at_most")
        return self


class ReportSpec(BaseModel):
    """``compare``: the axis whose values are compared by probability of improvement (default:
    ``method`` when it is an axis); ``metrics``: the columns of the table (default REPORT_METRICS);
    ``findings``: statements derived from the results (:class:`FindingSpec`); ``thresholds``: an
    llm spec's Avg@k levels for diversity at matched accuracy (``ladbench.llm_analysis.matched_accuracy``;
    default 0.5 and 0.9)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    compare: str | None = None
    metrics: list[str] | None = None
    findings: list[FindingSpec] = Field(default_factory=list)
    thresholds: list[Annotated[float, Field(gt=0, le=1)]] | None = None


class SpecModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    track: Literal["bandit", "llm"] = "bandit"
    seeds: int | list[int] = Field(..., description="a count or a list of seeds")
    fixed: dict[str, OptionValue | dict[str, OptionValue]] = Field(default_factory=dict)
    axes: dict[str, list[AxisValue]]
    eval: dict[str, OptionValue] | None = None
    gpus_per_cell: float | None = Field(None, ge=0, le=1)
    figures: list[FigureSpec] = Field(default_factory=list)
    report: ReportSpec = Field(default_factory=ReportSpec)


@dataclass(frozen=True)
class Cell:
    """One point of the grid: its config (a BanditConfig, or an LLM cell's TrainConfig), its seeds,
    its axis values (compound axes by label) and, for an LLM cell, its evaluation's settings
    (EvalConfig fields but ``model``, which is the cell's trained checkpoint)."""

    config: BaseModel
    seeds: tuple[int, ...]
    axes: dict[str, Any]
    evaluation: dict[str, Any] | None = None

    @property
    def setting(self) -> str:
        """What the cells that differ only in their seed share: a bandit cell's own key (it holds
        every seed), an LLM cell's config and evaluation without the seed (``layout.llm_setting``).
        Reports pool a setting's seeds."""
        if self.evaluation is None:
            return self.key
        return layout.llm_setting(self.config.resolved(), self.evaluation)

    @cached_property
    def key(self) -> str:
        """``layout.config_hash`` of the resolved config, seeds and evaluation: the cell's directory
        name. For a bandit cell the same as its lone run's directory suffix (``bandit.run``)."""
        return layout.config_hash(self.config.resolved(), list(self.seeds), self.evaluation)


@dataclass(frozen=True)
class SweepSpec:
    """A validated spec: where it came from, its source text, and its expanded cells."""

    path: Path
    text: str
    name: str
    description: str
    track: str
    seeds: tuple[int, ...]
    axes: dict[str, list[Any]]  # axis name -> its values as shown in results (labels for compound axes)
    cells: list[Cell]
    figures: list[FigureSpec]
    report: ReportSpec
    gpus_per_cell: float = 1.0  # the GPU share an LLM cell asks Ray for


def resolve_spec_path(path: str | Path) -> Path:
    """``experiments/paper_bandit`` or ``experiments/paper_bandit.toml``; a UserError if neither exists."""
    path = Path(path)
    for candidate in (path, path.with_name(path.name + SPEC_SUFFIX)):
        if candidate.is_file():
            return candidate
    raise UserError(f"no sweep spec at {str(path)!r} (looked for {path} and {path}{SPEC_SUFFIX})")


def load_spec(path: str | Path, default_name: str | None = None) -> SweepSpec:
    """Read, validate and expand a spec file; every problem is a one-line UserError. A spec
    without ``name`` is named ``default_name``, else after its file."""
    path = resolve_spec_path(path)
    text = io.read_text(path, "sweep spec")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"sweep spec {str(path)!r}: not valid TOML: {error}") from None
    return parse_spec(data, path, text, default_name)


def parse_spec(data: dict[str, Any], path: Path, text: str = "", default_name: str | None = None) -> SweepSpec:
    """Validate the parsed TOML ``data`` of the file ``path`` and expand its grid."""
    try:
        model = SpecModel(**data)
    except ValidationError as error:
        raise UserError(f"{path}: {_spec_error(error)}") from None
    seeds = _seeds(model.seeds, path)
    _check_track_keys(model, path)
    config_model = track_config(model.track)
    _build(model.fixed, path, "fixed", config_model)
    axes = {
        name: [_axis_entry(name, value, index, model.fixed, path, config_model) for index, value in enumerate(values)]
        for name, values in model.axes.items()
    }
    for name, entries in axes.items():
        _check_axis(name, entries, model.fixed, path, config_model)
    labels = {name: [label for label, _ in entries] for name, entries in axes.items()}
    cells = _expand(axes, model.fixed, seeds, path, config_model)
    if model.track == LLM:
        cells = [_llm_cell(cell, seed, model.eval or {}, path) for cell in cells for seed in cell.seeds]
    name = model.name or default_name or path.stem
    gpus = 1.0 if model.gpus_per_cell is None else model.gpus_per_cell
    spec = SweepSpec(
        path, text, name, model.description, model.track, seeds, labels, cells, model.figures, model.report, gpus
    )
    _check_references(spec)
    return spec


def track_config(track: str) -> type[BaseModel]:
    """The config model whose fields a spec of ``track`` sets (imported only when used)."""
    if track == LLM:
        from ladbench.llm.config import TrainConfig

        return TrainConfig
    from ladbench.bandit.config import BanditConfig

    return BanditConfig


def _check_track_keys(model: SpecModel, path: Path) -> None:
    """Keys that belong to the other track, and ``seed``, which ``seeds`` sets, are errors."""
    if model.track != LLM:
        for key in ("eval", "gpus_per_cell"):
            if getattr(model, key) is not None:
                raise UserError(
                    f"{path}: {key}: only an llm spec takes it (this spec's track is {model.track!r}; "
                    'set track = "llm")'
                )
        return
    if model.figures:
        raise UserError(
            f"{path}: figures: an llm spec declares no figures (the figure kinds draw bandit results); "
            "use `ladbench report` and ladbench.results.load"
        )
    in_axes = (
        f"axes.{name}"
        for name, values in model.axes.items()
        if name == SEED_FIELD or any(isinstance(value, dict) and SEED_FIELD in value for value in values)
    )
    where = "fixed" if SEED_FIELD in model.fixed else next(in_axes, None)
    if where is not None:
        raise UserError(f"{path}: {where}: {SEED_FIELD!r} is set by the spec's seeds (one cell per seed)")
    if "model" in (model.eval or {}):
        raise UserError(f"{path}: eval.model: an llm cell evaluates the model it trained; remove the key")


def _llm_cell(cell: Cell, seed: int, evaluation: dict[str, Any], path: Path) -> Cell:
    """The cell of one seed of a grid point: its TrainConfig with that seed, and its evaluation's
    settings: [eval], else, for the fields TrainConfig has too (task, split_seed, seed...), the
    training's, else EvalConfig's defaults."""
    from ladbench.llm.config import EvalConfig

    config = _build(
        {**cell.config.model_dump(exclude_unset=True), SEED_FIELD: seed}, path, "seeds", type(cell.config)
    ).config
    inherited = {
        name: getattr(config, name)
        for name in EvalConfig.model_fields
        if name in type(config).model_fields and name not in NOT_INHERITED
    }
    try:
        settings = EvalConfig.build(**{**inherited, **evaluation, "model": "<the cell's trained model>"}).model_dump()
    except UserError as error:
        raise UserError(f"{path}: eval: {error}") from None
    del settings["model"]
    return Cell(config, (seed,), cell.axes, settings)


def _spec_error(error: ValidationError) -> str:
    errors = error.errors()  # an unknown key first: a misspelt key also makes its right spelling "missing"
    first = next((entry for entry in errors if entry["type"] == "extra_forbidden"), errors[0])
    location = ".".join(map(str, first["loc"]))
    if first["type"] == "extra_forbidden":
        model = {"figures": FigureSpec, "report": ReportSpec}.get(str(first["loc"][0]), SpecModel)
        return f"unknown key {location!r}; valid keys: {', '.join(model.model_fields)}"
    if first["type"] == "missing":
        return f"missing key {location!r}"
    return f"{location}: {first['msg'].removeprefix('Value error, ')} (got {first.get('input')!r})"


def _seeds(seeds: int | list[int], path: Path) -> tuple[int, ...]:
    if isinstance(seeds, int):
        if seeds < 1:
            raise UserError(f"{path}: seeds: need at least one seed (got {seeds})")
        # before the seeds exist: a count of a billion is refused here, not by the host running out of memory
        check_fits([Need("the spec's seeds", seeds * RUN_BYTES, f"seeds ({seeds})")], f"{path}: seeds")
        check_seeds([seeds - 1], f"{path}: seeds")
        return tuple(range(seeds))
    if not seeds or len(set(seeds)) != len(seeds):
        raise UserError(f"{path}: seeds: give a count or a non-empty list of distinct seeds (got {seeds!r})")
    check_seeds(seeds, f"{path}: seeds")
    return tuple(seeds)


def load_stored_spec(results_dir: Path) -> SweepSpec:
    """The spec a results directory was run from (its copy in ``spec.toml``)."""
    return load_spec(Path(results_dir) / layout.SPEC_FILE, default_name=store.read_sweep_record(results_dir)["name"])


def _is_grid_key(key: str) -> bool:
    """Keys that reach into the loss table and apply to the cells whose loss takes them."""
    return key in SHORTHANDS or key.startswith(LOSS_PREFIX)


def _config_fields(settings: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Config fields from a cell's settings, and the grid keys that applied to its loss.

    ``loss`` tables are taken as written (an option the loss lacks is an error); the shorthands
    ``method`` / ``divergence`` / ``eta`` and dotted ``loss.<option>`` keys apply only where the
    cell's loss takes them, so crossing ``method`` with ``eta`` gives one GRPO cell, not one per eta."""
    fields = {key: value for key, value in settings.items() if not _is_grid_key(key)}
    shorthands = {key: settings[key] for key in SHORTHANDS if key in settings}
    if LOSS_PREFIX + "name" in settings:  # the same as ``method``
        shorthands["method"] = settings[LOSS_PREFIX + "name"]
    table, applied_shorthands = apply_shorthands(dict(fields.pop("loss", {})), shorthands, strict=False)
    applied = {key for key in settings if key in applied_shorthands or key == LOSS_PREFIX + "name"}
    for key, value in settings.items():
        option = key.removeprefix(LOSS_PREFIX)
        if key.startswith(LOSS_PREFIX) and option != "name" and takes_option(table.get("name", "lad"), option):
            table[option] = value
            applied.add(key)
    return {**fields, "loss": table}, applied


def _as_option_type(key: str, value: Any) -> Any:
    """An integer given for a real-valued loss option as a float (``eta = 1`` is eta 1.0), so
    that axis values compare and display as the loss holds them."""
    option = "eta" if key in SHORTHANDS else key.removeprefix(LOSS_PREFIX)
    defaults = [options[option] for options in available_losses().values() if option in options]
    real = key == "eta" or any(isinstance(default, float) for default in defaults)
    return float(value) if real and isinstance(value, int) and not isinstance(value, bool) else value


@dataclass(frozen=True)
class _Built:
    """The config of some settings, which of those settings it uses, and why it ignores the others."""

    config: BaseModel
    applied: frozenset[str]
    ignored: dict[str, str]


def _build(settings: dict[str, Any], path: Path, key: str, model: type[BaseModel]) -> _Built:
    """The config of ``settings`` with the config fields it ignores left out (they apply to other cells)."""
    try:
        fields, applied = _config_fields(settings)
        config, ignored = build_dropping_ignored(model, fields)
    except UserError as error:
        raise UserError(f"{path}: {key}: {error}") from None
    applied |= {name for name in settings if not _is_grid_key(name) and name not in ignored}
    return _Built(config, frozenset(applied), ignored)


def _axis_entry(
    name: str, value: Any, index: int, fixed: dict[str, Any], path: Path, model: type[BaseModel]
) -> tuple[Any, dict[str, Any]]:
    """(label, fields) of one axis value. A simple axis names a config field, a shorthand
    (method, divergence, eta) or a dotted loss option (``loss.eta``); a compound axis (any other
    name) takes tables of settings, each with an optional ``label``."""
    key = f"axes.{name}[{index}]"
    if isinstance(value, dict) and name != "loss":
        fields = dict(value)
        label = fields.pop(LABEL_KEY, None) or ", ".join(f"{field}={fields[field]}" for field in fields)
        if not fields:
            raise UserError(f"{path}: {key}: a compound axis value needs at least one setting")
        clash = sorted(set(fields) & set(fixed))
        if clash:
            raise UserError(f"{path}: {key}: {clash[0]!r} is also set in [fixed]; set it in one place")
        return label, fields
    if name not in model.model_fields and not _is_grid_key(name):
        valid = ", ".join([*model.model_fields, *SHORTHANDS, LOSS_PREFIX + "<option>"])
        raise UserError(
            f"{path}: axes.{name}: unknown setting {name!r}; valid settings: {valid} "
            "(or make it a compound axis of tables)"
        )
    if name in fixed:
        raise UserError(f"{path}: axes.{name}: {name!r} is also set in [fixed]; set it in one place")
    if name == "loss":  # a table per value, shown by the loss's label
        return _build({**fixed, name: value}, path, key, model).config.label, {name: value}
    if _is_grid_key(name):
        value = _as_option_type(name, value)
        return value, {name: value}
    built = _build({**fixed, name: value}, path, key, model)
    value = getattr(built.config, name) if name in built.applied else value  # as the config holds it (1 -> 1.0)
    return value, {name: value}


def _check_axis(
    name: str, entries: list[tuple[Any, dict[str, Any]]], fixed: dict[str, Any], path: Path, model: type[BaseModel]
) -> None:
    if not entries:
        raise UserError(f"{path}: axes.{name}: empty axis; give at least one value")
    labels = [label for label, _ in entries]
    if len(set(map(str, labels))) != len(labels):
        raise UserError(f"{path}: axes.{name}: repeated value in {labels!r}")
    for index, (_, fields) in enumerate(entries):
        _build({**fixed, **fields}, path, f"axes.{name}[{index}]", model)


@dataclass(frozen=True)
class _GridPoint:
    """One combination of axis values before duplicates merge: its cell, the axes none of whose
    settings applied to it (their value makes no difference to the cell), the settings that
    applied, and why the config ignores the others."""

    cell: Cell
    ignored: frozenset[str]
    applied: frozenset[str]
    reasons: dict[str, str]


def _grid_point(
    combination: tuple,
    axes: dict[str, list],
    fixed: dict[str, Any],
    seeds: tuple[int, ...],
    path: Path,
    model: type[BaseModel],
) -> _GridPoint:
    settings = dict(fixed)
    for name, (_, values) in zip(axes, combination, strict=True):
        overlap = sorted(set(values) & set(settings) - set(fixed))
        if overlap:
            raise UserError(f"{path}: axes.{name}: {overlap[0]!r} is set by two axes; set it in one")
        settings.update(values)
    labels = {name: label for name, (label, _) in zip(axes, combination, strict=True)}
    shown = ", ".join(f"{name}={label}" for name, label in labels.items())
    built = _build(settings, path, f"cell ({shown})", model)
    ignored = frozenset(
        name for name, (_, values) in zip(axes, combination, strict=True) if not set(values) & built.applied
    )
    return _GridPoint(Cell(built.config, seeds, labels), ignored, built.applied, built.ignored)


def _expand(
    axes: dict[str, list], fixed: dict[str, Any], seeds: tuple[int, ...], path: Path, model: type[BaseModel]
) -> list[Cell]:
    """The grid's cells. Combinations that differ only in axes none of whose settings apply to
    them (``eta`` for GRPO) are one cell, whose value on those axes is None."""
    points = [
        _grid_point(combination, axes, fixed, seeds, path, model) for combination in itertools.product(*axes.values())
    ]
    _check_every_setting_applies(points, axes, fixed, path)
    merged: dict[str, _GridPoint] = {}
    for point in points:
        key = point.cell.key
        if key not in merged:
            merged[key] = point
            continue
        first = merged[key]
        differing = {axis for axis in first.cell.axes if first.cell.axes[axis] != point.cell.axes[axis]}
        if not differing <= first.ignored & point.ignored:
            raise UserError(
                f"{path}: axes: cells {first.cell.axes} and {point.cell.axes} have the same resolved config"
            )
        axes_shown = {axis: None if axis in differing else value for axis, value in first.cell.axes.items()}
        merged[key] = _GridPoint(
            Cell(first.cell.config, seeds, axes_shown), first.ignored, first.applied, first.reasons
        )
    return [point.cell for point in merged.values()]


def _check_every_setting_applies(
    points: list[_GridPoint], axes: dict[str, list], fixed: dict[str, Any], path: Path
) -> None:
    """A setting that no cell uses (a shorthand or ``loss.<option>`` no cell's loss takes, a config
    field every cell ignores) is a mistake, not a no-op."""
    applied = set().union(*(point.applied for point in points))
    given = [("fixed", key) for key in fixed]
    given += [(f"axes.{name}", key) for name, entries in axes.items() for _, values in entries for key in values]
    for where, key in given:
        if key in applied:
            continue
        if _is_grid_key(key):
            losses = sorted({point.cell.config.loss.name for point in points})
            raise UserError(
                f"{path}: {where}: {key!r} does nothing for any cell: no cell's loss takes it "
                f"(losses: {', '.join(losses)})"
            )
        reason = next(point.reasons[key] for point in points if key in point.reasons)
        raise UserError(
            f"{path}: {where}: {key}={_given_value(key, fixed, axes)!r} is used by no cell: it does nothing {reason}"
        )


def _given_value(key: str, fixed: dict[str, Any], axes: dict[str, list]) -> Any:
    """The value a setting was given in the spec (the first, on an axis)."""
    if key in fixed:
        return fixed[key]
    return next(values[key] for entries in axes.values() for _, values in entries if key in values)


def _check_references(spec: SweepSpec) -> None:
    """Figure and report entries may only name axes of the spec and known figure kinds/metrics
    (checked against data: the figure kinds' schemas and the metric catalogue)."""
    from ladbench import metric_catalogue
    from ladbench.figure_kinds import check_figure_spec, check_metrics

    for index, figure in enumerate(spec.figures):
        check_figure_spec(figure, spec.axes, f"{spec.path}: figures[{index}]")
    names = [figure.file_stem for figure in spec.figures]
    if len(set(names)) != len(names):
        raise UserError(f"{spec.path}: figures: two figures share the name {names!r}; give each a distinct name")
    where = f"{spec.path}: report"
    if spec.report.thresholds is not None and spec.track != LLM:
        raise UserError(
            f"{where}.thresholds: only an llm spec takes it (accuracy levels of its evaluations during training)"
        )
    if spec.report.compare is not None and spec.report.compare not in spec.axes:
        raise UserError(f"{where}.compare: unknown axis {spec.report.compare!r}; valid choices: {', '.join(spec.axes)}")
    check_metrics(spec.report.metrics, where, metric_catalogue.SWEEP_METRICS[spec.track])
    compared = spec.report.compare or ("method" if "method" in spec.axes else None)
    for index, finding in enumerate(spec.report.findings):
        at = f"{where}.findings[{index}]"
        if compared is None:
            raise UserError(
                f"{at}: a finding lists values of the compared axis; set report.compare (axes: {', '.join(spec.axes)})"
            )
        check_metrics([finding.metric], at, metric_catalogue.SWEEP_METRICS[spec.track])
        for axis, value in finding.where.items():
            if axis not in spec.axes:
                raise UserError(f"{at}.where: unknown axis {axis!r}; valid choices: {', '.join(spec.axes)}")
            if value not in spec.axes[axis]:
                raise UserError(
                    f"{at}.where.{axis}: {value!r} is not a value of the axis; valid choices: "
                    f"{', '.join(map(str, spec.axes[axis]))}"
                )
