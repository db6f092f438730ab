"""The one reader of results: any producer's directory, verified, as tidy pandas frames.

    from ladbench.results import load
    results = load("results/paper_bandit")   # a sweep, a bandit run, an LLM training run or evaluation
    results.summary     # one row per (cell, seed): identifying columns, final metrics; an LLM
                        # evaluation or LLM sweep cell (one seed each): its evaluation's metrics
    results.curves      # one row per (cell, seed, step); an LLM training run or cell: metrics.jsonl
    results.policy      # one row per (cell, seed, [context,] arm)
    results.per_prompt  # an LLM evaluation or cell: one row per (cell, prompt)
    results.eval_curves # an LLM training run or cell evaluated during training (``curve_every``):
                        # one row per (cell, evaluated step), the step and its evaluation's metrics
    results.pass_at_k   # an LLM evaluation, training run or cell: one row per (cell, evaluation, k), the
                        # pass@k curves of its evaluations: ``final`` (the cell's evaluation, or the
                        # evaluation directory itself) or not (one during training), ``step`` (the
                        # evaluated model's training step: 0 untrained; NaN where an older evaluation
                        # did not record it), ``at_k`` (the curve's k), pass_at_k
    results.cells       # one row per cell read: key, identifying columns, n_seeds, seeds_identical
    results.configs     # cell key -> its resolved config (as in its manifest)

A *cell* is a sweep's cell, or the one run of a run or evaluation directory (keyed by the
directory's name). Its identifying columns come from its manifest (``config_columns``): its
``setting`` (shared by the cells that differ only in seed: an LLM sweep's cells of one grid
point; a bandit cell, which holds all its seeds, is its own), the config's scalar fields,
``method`` (the loss), ``label`` (the method label the producer wrote) and the loss options,
then a sweep's axis values; an LLM evaluation adds its settings (task, k, seed...), the
evaluated run's fields that share a name with them prefixed ``train_``; an LLM sweep cell adds
its evaluation's settings, those that share a name with a training field prefixed ``eval_``
(``eval_task``, ``eval_seed``...).

Every cell is verified against its manifest (``ladbench.manifest``) before it is read. A cell
that fails is a one-line error naming the cell and the file; with ``skip_bad=True`` it is left
out and listed in ``results.excluded``. Cells of a sweep's grid without a manifest have not
finished and are listed in ``results.missing``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ladbench import io, layout, manifest, metric_catalogue
from ladbench.errors import UserError
from ladbench.sweep import store

REFERENCE_METRICS = metric_catalogue.names(metric_catalogue.BANDIT, "reference")
SWEEP = "sweep"  # the kind of a sweep's results; other results have their manifest's kind
FRAMES = ("summary", "curves", "policy", "per_prompt", "eval_curves", "pass_at_k")


@dataclass
class Results:
    directory: Path
    kind: str  # "sweep", or the manifest kind of a single directory (bandit_run, llm_train, ...)
    track: str  # "bandit" or "llm" (``ladbench.metric_catalogue.SWEEP_METRICS`` maps it to its metrics)
    name: str
    axes: dict[str, list[Any]]  # a sweep's axes in spec order; {} otherwise
    cells: pd.DataFrame
    configs: dict[str, dict[str, Any]]
    manifests: dict[str, dict[str, Any]]
    summary: pd.DataFrame
    curves: pd.DataFrame
    policy: pd.DataFrame
    per_prompt: pd.DataFrame
    eval_curves: pd.DataFrame
    pass_at_k: pd.DataFrame
    missing: list[dict[str, Any]] = field(default_factory=list)  # unfinished cells: key, axes
    excluded: list[dict[str, Any]] = field(default_factory=list)  # failed cells: key, axes, file, reason

    @property
    def axis_columns(self) -> list[str]:
        return list(self.axes)


def config_columns(config: dict[str, Any], label: str) -> dict[str, Any]:
    """The columns that identify a config in the tidy frames: its scalar fields, ``method`` (the
    loss's name), ``label`` and the loss's options (which win over a field of the same name)."""
    columns = {name: value for name, value in config.items() if _scalar(value)}
    loss = config["loss"]  # {"name": ..., **options}
    method, options = loss["name"], {key: value for key, value in loss.items() if key != "name"}
    columns.update({name: value for name, value in options.items() if _scalar(value)})
    columns.update(method=method, label=label)
    return columns


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _identity(key: str, record: dict[str, Any]) -> dict[str, Any]:
    """Identifying columns of one cell from its manifest."""
    if record["kind"] != "llm_eval":
        evaluation = record.get("evaluation")
        # an LLM cell's setting is recomputed, not read: cells written before its definition
        # stopped depending on the spec's seed list (layout.llm_setting) pool with the newer ones
        setting = record.get("setting", key) if evaluation is None else layout.llm_setting(record["config"], evaluation)
        columns = {
            "cell": key,
            "setting": setting,
            **config_columns(record["config"], record["label"]),
        }
        evaluation = {name: value for name, value in (record.get("evaluation") or {}).items() if _scalar(value)}
        columns |= {f"eval_{name}" if name in columns else name: value for name, value in evaluation.items()}
        return {**columns, **record.get("axes", {})}
    settings = {name: value for name, value in record["config"].items() if _scalar(value)}
    trained = record.get("train_config")
    columns = config_columns(trained, record["label"]) if trained else {"method": "base", "label": record["label"]}
    columns = {f"train_{name}" if name in settings else name: value for name, value in columns.items()}
    return {"cell": key, **columns, **settings}


def _tables(directory: Path, record: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The frames a verified directory holds (only files its manifest lists are read), by the
    layout of its manifest's kind (``layout.where``): its tables, its training run (log and
    evaluations during training) and its evaluation, each where that kind keeps them."""
    listed, where = record["files"], layout.where(record)
    frames = {name: pd.read_csv(directory / file) for name, file in where.tables.items() if file in listed}
    during: dict[int, Path] = {}
    final, final_step = None, None
    if where.train is not None:
        if where.path(where.train, layout.TRAIN_LOG) in listed:
            frames["curves"] = pd.read_json(directory / where.path(where.train, layout.TRAIN_LOG), lines=True)
        if "curves" in record:  # a training run: each evaluation verified against its own manifest
            during = {step: directory / where.train / layout.curve_dir_name(step) for step in record["curves"] or []}
            for evaluation in during.values():
                manifest.verify(evaluation)
        else:  # an LLM cell: its manifest lists the evaluations' files
            during = {
                step: directory / Path(name).parent
                for step, name in store.curve_files(listed, where.path(where.train, layout.CURVES_DIR)).items()
            }
        frames["eval_curves"] = _eval_curves(during)
        final_step = record["config"]["steps"]
    if where.evaluation is not None:
        root = directory / where.evaluation
        if where.path(where.evaluation, layout.PER_PROMPT) in listed:
            frames["per_prompt"] = pd.read_csv(root / layout.PER_PROMPT)
        if where.path(where.evaluation, layout.EVAL_SUMMARY) in listed:
            frames["summary"] = _eval_metrics(root / layout.EVAL_SUMMARY)
        if where.path(where.evaluation, layout.PASS_AT_K) in listed:
            final = root
            if where.train is None:  # an evaluation directory: the evaluated model's step
                final_step = record.get("train_step")
                if final_step is None and not record.get("train_config"):
                    final_step = 0  # an untrained model (``ladbench llm eval <model>`` records train_step None)
    if where.train is not None or final is not None:
        frames["pass_at_k"] = _pass_at_k(during, final, final_step)
    return frames


def _eval_metrics(path: Path) -> pd.DataFrame:
    """The metrics of an evaluation's summary.json as one row (a metric defined for no prompt: NaN)."""
    return pd.DataFrame([json.loads(path.read_text())["metrics"]], dtype=float)


def _eval_curves(evaluations: dict[int, Path]) -> pd.DataFrame:
    """One row per evaluation during training (step -> its directory): ``step`` and the metrics of its summary.json."""
    if not evaluations:
        return pd.DataFrame(columns=["step"])
    rows = [_eval_metrics(directory / layout.EVAL_SUMMARY).assign(step=step) for step, directory in evaluations.items()]
    frame = pd.concat(rows, ignore_index=True)
    return frame[["step", *(column for column in frame.columns if column != "step")]]


def _pass_at_k(during: dict[int, Path], final: Path | None = None, final_step: int | None = None) -> pd.DataFrame:
    """The pass@k curves of the evaluations during training (step -> directory) and of the final
    evaluation (``final``, of the model after ``final_step`` steps): final, step, at_k (the curve's
    k, named apart from the evaluation's own ``k``, its samples per prompt), pass_at_k."""
    parts = [
        pd.read_csv(directory / layout.PASS_AT_K).assign(final=False, step=step)
        for step, directory in during.items()
        if (directory / layout.PASS_AT_K).is_file()
    ]
    if final is not None:
        parts.append(pd.read_csv(final / layout.PASS_AT_K).assign(final=True, step=final_step))
    columns = ["final", "step", "at_k", "pass_at_k"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True).rename(columns={"k": "at_k"})[columns]


class _Collector:
    """Accumulates cells into the tidy frames (identifying columns first)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.parts: dict[str, list[pd.DataFrame]] = {name: [] for name in FRAMES}
        self.configs: dict[str, dict[str, Any]] = {}
        self.manifests: dict[str, dict[str, Any]] = {}
        self.identity: dict[str, None] = {}  # ordered union of identifying column names

    def add(
        self, key: str, record: dict[str, Any], frames: dict[str, pd.DataFrame], override: dict[str, Any] | None = None
    ) -> None:
        columns = _identity(key, record) | (override or {})
        self.identity |= dict.fromkeys(columns)
        self.configs[key], self.manifests[key] = record["config"], record
        self.rows.append({**columns, "n_seeds": len(record["seeds"]), "seeds_identical": record.get("seeds_identical")})
        for name, frame in frames.items():
            self.parts[name].append(frame.assign(**columns))

    def frames(self) -> dict[str, pd.DataFrame]:
        first = list(self.identity)
        tidy = {}
        for name, parts in self.parts.items():
            frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=first)
            tidy[name] = frame[first + [column for column in frame.columns if column not in first]]
        return {"cells": pd.DataFrame(self.rows), **tidy, "configs": self.configs, "manifests": self.manifests}


def load(path: str | Path, skip_bad: bool = False) -> Results:
    """Every verified cell under ``path``: a sweep's results directory, or one directory with a
    manifest (a bandit run, a sweep cell, an LLM training run or evaluation)."""
    path = Path(path)
    if (path / layout.SWEEP_FILE).is_file():
        return load_sweep(path, skip_bad)
    if manifest.exists(path):
        return load_directory(path)
    raise UserError(
        f"{str(path)!r} is not a results directory (no {layout.SWEEP_FILE} or {manifest.FILE}); "
        "run `ladbench sweep <spec>`, `ladbench run bandit` or `ladbench llm train|eval` first"
    )


def load_directory(directory: str | Path) -> Results:
    """One producer's directory, verified; the directory's name is its cell key."""
    directory = Path(directory)
    check_finished(directory, manifest.read(directory))
    record = manifest.verify(directory)
    if record["kind"] == "benchmark":
        raise UserError(
            f"{str(directory)!r} holds a benchmark's timings, not a run; read its files "
            "(listed in its manifest.json) directly"
        )
    collector = _Collector()
    collector.add(directory.name, record, _tables(directory, record))
    return Results(directory, record["kind"], layout.where(record).track, directory.name, {}, **collector.frames())


def check_finished(directory: Path, record: dict[str, Any]) -> None:
    """An LLM training run stopped before its last step (Ctrl-C, a killed process) is not damaged:
    its manifest describes its last checkpoint, and rerunning its command resumes it. Say so, in
    one line, rather than reporting the log rows it wrote after that checkpoint as a mismatch."""
    if record.get("kind") != "llm_train":
        return
    step, steps = record.get("step"), (record.get("config") or {}).get("steps")
    if isinstance(step, int) and isinstance(steps, int) and step < steps:
        command = record.get("command") or []
        if command and Path(str(command[0])).name == "ladbench":
            again = shlex.join(["ladbench", *command[1:]])
        else:  # started from Python, not the command line
            again = f"ladbench llm train --out {directory} with the settings of its {manifest.FILE}"
        raise UserError(f"{directory}: interrupted at step {step} of {steps}; resume with: {again}")


def load_sweep(directory: str | Path, skip_bad: bool = False) -> Results:
    """Every finished cell of the sweep in ``directory`` (``results/<spec name>``), verified."""
    directory = Path(directory)
    sweep = store.read_sweep_record(directory)
    collector, missing, excluded = _Collector(), [], []
    for listed in sweep["cells"]:
        cell_path = store.cell_dir(directory, listed["key"])
        if not store.is_complete(cell_path):
            missing.append(listed)
            continue
        try:
            record = manifest.verify(cell_path, store.describe_cell(listed["key"], listed["axes"]))
        except manifest.BadResult as error:
            if not skip_bad:
                raise manifest.BadResult(
                    error.what,
                    error.file,
                    error.reason,
                    hint=(
                        f"rerun it with `ladbench sweep {sweep['spec_path']} --repair`, "
                        "or pass --skip-bad to leave it out"
                    ),
                ) from None
            excluded.append({**listed, "file": error.file, "reason": error.reason})
            continue
        collector.add(listed["key"], record, _tables(cell_path, record))
    if not collector.rows:
        reason = f"{len(excluded)} failed verification" if excluded else "none has finished"
        raise UserError(
            f"no cells to read in {str(directory)!r} ({reason}); run `ladbench sweep {sweep['spec_path']}`"
            + (" --repair" if excluded else "")
        )
    axes = {axis["name"]: axis["values"] for axis in sweep["axes"]}
    return Results(
        directory,
        SWEEP,
        sweep.get("track", "bandit"),
        sweep["name"],
        axes,
        **collector.frames(),
        missing=missing,
        excluded=excluded,
    )


def _evaluation_identity(record: dict[str, Any]) -> tuple:
    """What makes two evaluations the same sample: the evaluated model (a trained run's whole
    configuration, training seed included, and its step; else the model's name), and the
    evaluation's settings, sampling seed included."""
    trained = record.get("train_config")
    model = json.dumps(trained, sort_keys=True, default=str) if trained else record["config"].get("model")
    settings = {key: value for key, value in record["config"].items() if key not in ("model", "base_eval")}
    return model, record.get("train_step"), json.dumps(settings, sort_keys=True, default=str)


def load_evaluations(paths: list[str | Path]) -> Results:
    """LLM evaluation directories (``ladbench llm eval``), verified, as one result: each is a cell
    keyed by its path, and the evaluations of one task and method label (those that differ only
    in the training seed, or the untrained model's "base") share a setting. The axes are ``task``
    and ``method``, whose values are the method labels (also the ``method`` column), so that the
    report pools seeds and compares methods as it does across a sweep's loss axis."""
    collector = _Collector()
    seen: dict[Path, str] = {}
    for path in map(Path, paths):  # before anything is read
        if path.resolve() in seen:
            raise UserError(
                f"{str(path)!r} is given twice (also as {seen[path.resolve()]!r}); each evaluation counts as one "
                "seed: pass it once"
            )
        seen[path.resolve()] = str(path)
    independent: dict[tuple, str] = {}
    for path in map(Path, paths):
        if not manifest.exists(path):
            raise UserError(
                f"{path} has no {manifest.FILE}; pass directories written by `ladbench llm eval` (or a "
                "sweep's results directory)"
            )
        record = manifest.verify(path)
        if record["kind"] != "llm_eval":
            raise UserError(
                f"{str(path)!r} holds a {record['kind']} result; pass directories written by "
                "`ladbench llm eval` (or a sweep's results directory)"
            )
        identity = _evaluation_identity(record)
        if identity in independent:
            trained = record.get("train_config") or {}
            what = f"training seed {trained.get('seed')}" if trained else f"model {record['config'].get('model')!r}"
            raise UserError(
                f"{str(path)!r} and {independent[identity]!r} evaluate the same model ({record['label']}, {what}) "
                f"with the same sampling seed {record['config'].get('seed')}: not independent seeds; pass one of "
                "them, or evaluate with another --seed"
            )
        independent[identity] = str(path)
        override = {"setting": f"{record['task']}/{record['label']}", "method": record["label"]}
        collector.add(str(path), record, _tables(path, record), override)
    if not collector.rows:
        raise UserError("no evaluation directories given")
    frames = collector.frames()
    axes = {name: list(dict.fromkeys(frames["cells"][name])) for name in ("task", "method")}
    return Results(Path(paths[0]).parent, "llm_eval", "llm", "llm_evaluations", axes, **frames)


def verify(path: str | Path) -> list[manifest.BadResult]:
    """Every verification failure under ``path``: each finished cell of a sweep, or the one
    directory; empty when everything matches its manifest. (What ``report``, ``plot`` and
    ``load`` check, as a list rather than a first error.)"""
    path = Path(path)
    if not (path / layout.SWEEP_FILE).is_file():
        try:
            manifest.verify(path)
        except manifest.BadResult as error:
            return [error]
        return []
    problems = []
    for listed in store.read_sweep_record(path)["cells"]:
        if store.is_complete(store.cell_dir(path, listed["key"])):
            problem = store.cell_problem(path, listed["key"], listed["axes"])
            if problem is not None:
                problems.append(problem)
    return problems


def reference_table(results: Results) -> pd.DataFrame:
    """Per-seed final metrics of every cell, keyed by axis values and seed: the content of a
    committed reference file (seeds are independent, so any subset of seeds can be checked)."""
    key = [*results.axis_columns, "seed"]
    return results.summary[[*key, *REFERENCE_METRICS]].sort_values(key, ignore_index=True)


def write_reference(results: Results, path: Path, force: bool = False, option: str = "--save-reference") -> None:
    """The per-seed final metrics as a reference CSV. An existing reference (results/reference/ is
    committed) is replaced only by one with at least its rows, unless ``force``: a sweep with
    unfinished or excluded cells must not shrink it without a word."""
    table = reference_table(results)
    path = Path(path)
    if path.is_file() and not force:
        rows = manifest.count_rows(path)
        if rows is not None and len(table) < rows:
            raise UserError(
                f"{option} {str(path)!r}: the reference there has {rows} rows, these results {len(table)} "
                "(unfinished or excluded cells); finish the sweep, or pass --force to replace it"
            )
    io.write_csv(path, table)
