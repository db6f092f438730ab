"""The mini-LM sweep's exact table and figures (``ladbench llm table`` on a sweep whose cells hold
exact evaluations, see ``ladbench.llm.minilm.exact``).

Every cell of the sweep is one (objective, protocol, seed) run; its exact evaluations before
training, every ``curve_every`` steps and after the last step are read from its files (verified
against the cell's manifest). Per (protocol, objective), over seeds (IQM and a 95% percentile
bootstrap interval, ``ladbench.stats``; one task, so the stratified bootstrap has one stratum):

- final exact accuracy, effective answers exp(H), TV to the filtered base, the worked format's
  share of the correct mass and the dominant format's share (max over formats), the mass the
  enumeration missed (sampled);
- diversity at matched accuracy: along each run's evaluations, the effective answers and TV to
  the filtered base interpolated linearly at the first point where the exact accuracy reaches each
  threshold (runs that never reach it are counted, not used);
- exact pass@k and expected distinct correct answers for k = 1..256 (means over seeds) against the
  base model's, and the crossover k: the smallest k at which the base is at least as high;
- P(X better than Y) of the compared objectives (``COMPARE``) per protocol.

Files (into ``out``, stem S = the sweep's name): ``S_exact.md`` (the table, the matched-accuracy
table, the crossovers and P(improve)), ``S_exact.csv`` (per run, final), ``S_exact_curves.csv``
(per run and step), ``S_exact_pass_at_k.csv``, and the figures ``S_exact_pass_at_k``,
``S_exact_training`` and ``S_exact_distribution`` (.png and .pdf), each stating its conditions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ladbench import io, layout, manifest
from ladbench.errors import UserError
from ladbench.layout import EXACT_CURVES, EXACT_SUMMARY, EXACT_TABLE
from ladbench.stats import Estimate, estimate, probability_of_improvement
from ladbench.sweep import store

METRICS = {  # column -> (label, higher is better)
    "exact_accuracy": ("exact accuracy", True),
    "exact_effective_answers": ("effective answers", True),
    "exact_tv_base": ("TV to filtered base", False),
    "exact_share_worked": ("worked share", None),
    "dominant_share": ("dominant format share", None),
    "missed_mass": ("missed mass", False),
}
MATCHED = ("exact_effective_answers", "exact_tv_base")
THRESHOLDS = (0.6, 0.7, 0.8)
COMPARE = (("LAD-JS", "GRPO"),)
BASE = "base"


@dataclass
class MiniLMResults:
    name: str
    runs: pd.DataFrame  # one row per run and evaluated step: objective, protocol, seed, step, metrics
    curves: pd.DataFrame  # final exact curves per run: objective, protocol, seed, k, exact_pass_at_k, ...
    base_curves: pd.DataFrame  # the base model's exact curves (k, exact_pass_at_k, exact_distinct_correct)
    distributions: pd.DataFrame  # final per-prompt key masses: objective, protocol, seed, prompt_id, key, mass
    base_distribution: pd.DataFrame  # the base's: prompt_id, prompt, key, mass
    conditions: dict = field(default_factory=dict)

    @property
    def final(self) -> pd.DataFrame:
        last = self.runs.groupby(["objective", "protocol", "seed"])["step"].transform("max")
        return self.runs[self.runs["step"] == last]

    @property
    def base(self) -> pd.Series:
        return self.runs[self.runs["step"] == 0].iloc[0]


def has_exact(directory: Path) -> bool:
    """Whether a sweep's results hold exact evaluations (a mini-LM sweep)."""
    return any((Path(directory) / layout.CELLS_DIR).glob(f"*/{layout.EVAL_DIR}/{EXACT_SUMMARY}"))


def _axis(axes: dict, names: tuple[str, ...], default: str) -> str:
    return next((str(axes[name]) for name in names if name in axes and axes[name] is not None), default)


def load_minilm(directory: str | Path) -> MiniLMResults:
    """Every finished cell of the sweep in ``directory`` (verified), its exact evaluations read."""
    directory = Path(directory)
    record = store.read_sweep_record(directory)
    rows, curves, distributions = [], [], []
    base_curves = base_distribution = None
    conditions = {}
    cells = sorted(path for path in (directory / layout.CELLS_DIR).glob("*") if manifest.exists(path))
    if not cells:
        raise UserError(f"{str(directory)!r} holds no finished cell; run the sweep first")
    for cell in cells:
        info = manifest.verify(cell)
        objective = _axis(info.get("axes", {}), ("objective", "method"), info["label"])
        protocol = _axis(info.get("axes", {}), ("protocol",), f"inner_epochs={info['config'].get('inner_epochs')}")
        seed = info["seeds"][0]
        conditions.setdefault("config", info["config"])
        steps = {step: cell / path.rpartition("/")[0] for step, path in store.curve_files(info["files"]).items()}
        final_step = info["config"]["steps"]
        steps.setdefault(final_step, cell / layout.EVAL_DIR)
        for step, where in sorted(steps.items()):
            summary = json.loads((where / EXACT_SUMMARY).read_text())
            metrics = {key: value for key, value in summary["metrics"].items() if key.startswith("exact_")}
            shares = [value for key, value in metrics.items() if key.startswith("exact_share_") and value is not None]
            rows.append(
                {
                    "objective": objective,
                    "protocol": protocol,
                    "seed": seed,
                    "step": step,
                    **{key: np.nan if value is None else value for key, value in metrics.items()},
                    "dominant_share": max(shares) if shares else np.nan,
                    "missed_mass": summary.get("missed_mass", np.nan),
                }
            )
        last = steps[max(steps)]
        curve = pd.read_csv(last / EXACT_CURVES)
        curves.append(curve.assign(objective=objective, protocol=protocol, seed=seed))
        distributions.append(
            _masses(pd.read_csv(last / EXACT_TABLE)).assign(objective=objective, protocol=protocol, seed=seed)
        )
        if base_curves is None and 0 in steps:
            base_curves = pd.read_csv(steps[0] / EXACT_CURVES)
            base_distribution = _masses(pd.read_csv(steps[0] / EXACT_TABLE))
    if base_curves is None:
        raise UserError(f"{str(directory)!r}: no cell evaluated its model before training (curve_every = 0)")
    conditions["eval"] = json.loads((cells[0] / layout.EVAL_DIR / EXACT_SUMMARY).read_text())
    return MiniLMResults(
        record.get("name", directory.name),
        pd.DataFrame(rows),
        pd.concat(curves, ignore_index=True),
        base_curves,
        pd.concat(distributions, ignore_index=True),
        base_distribution,
        conditions,
    )


def _masses(table: pd.DataFrame) -> pd.DataFrame:
    """Per prompt and answer key: the probability mass (summed over formats and spellings)."""
    table = table.assign(mass=np.exp(table["logprob"]))
    return table.groupby(["prompt_id", "prompt", "answer_key"], as_index=False, sort=False)["mass"].sum()


def condition_text(results: MiniLMResults, protocol: str | None = None) -> str:
    """Task, steps, batch, lr, beta, protocol, seeds and evaluation: what every figure states."""
    config = results.conditions["config"]
    loss_beta = "0 (no KL to the reference; GRPO's beta = 0)"
    seeds = results.runs.groupby(["objective", "protocol"])["seed"].nunique()
    evaluation = results.conditions["eval"]
    return (
        f"mini-LM ({config['model']}) on `{config['task']}`: {config['steps']} steps of "
        f"{config['prompts_per_step']} prompts x {config['group_size']} samples, lr {config['lr']}, beta {loss_beta}; "
        f"protocols {protocol or ' and '.join(protocols(results))} "
        "(on-policy: one update per batch; PPO xN: N updates per batch, pi_old fixed within it); "
        f"{seeds.min() if seeds.min() == seeds.max() else f'{seeds.min()}-{seeds.max()}'} seeds per objective and "
        "protocol; exact evaluation (teacher forcing) on "
        f"{evaluation['prompts']} held-out prompts"
    )


def protocols(results: MiniLMResults) -> list[str]:
    """The sweep's protocols, on-policy first (the order of the figures' rows and the claims)."""
    return sorted(results.runs["protocol"].unique(), key=lambda protocol: (protocol != "on-policy", protocol))


def _estimate(values) -> Estimate:
    values = np.asarray(values, dtype=float)
    return estimate(values[~np.isnan(values)], "iqm")


def _fmt(result: Estimate) -> str:
    if not np.isfinite(result.value):
        return "-"
    if not result.has_interval:
        return f"{result.value:.3g} ({result.note})"
    return f"{result.value:.3g} [{result.low:.3g}, {result.high:.3g}]"


def summary_table(results: MiniLMResults) -> pd.DataFrame:
    """Per (protocol, objective): IQM [95% CI] of each final metric; the base first."""
    base = results.base
    rows = [{"protocol": "-", "objective": BASE, "seeds": "-", **{METRICS[m][0]: f"{base[m]:.3g}" for m in METRICS}}]
    for (protocol, objective), group in results.final.groupby(["protocol", "objective"], sort=True):
        rows.append(
            {
                "protocol": protocol,
                "objective": objective,
                "seeds": group["seed"].nunique(),
                **{METRICS[m][0]: _fmt(_estimate(group[m])) for m in METRICS},
            }
        )
    return pd.DataFrame(rows)


def matched_points(results: MiniLMResults, thresholds=THRESHOLDS) -> pd.DataFrame:
    """Per run and threshold: the MATCHED metrics interpolated where exact accuracy first reaches it."""
    rows = []
    for (objective, protocol, seed), unsorted in results.runs.groupby(["objective", "protocol", "seed"]):
        run = unsorted.sort_values("step")
        accuracy = run["exact_accuracy"].to_numpy()
        for threshold in thresholds:
            hit = np.flatnonzero(accuracy >= threshold)
            point = {"objective": objective, "protocol": protocol, "seed": seed, "threshold": threshold}
            if len(hit) == 0 or hit[0] == 0:
                point.update({metric: np.nan for metric in MATCHED}, reached=len(hit) > 0)
            else:
                i = hit[0]
                weight = (threshold - accuracy[i - 1]) / (accuracy[i] - accuracy[i - 1])
                for metric in MATCHED:
                    values = run[metric].fillna(0.0).to_numpy()
                    point[metric] = values[i - 1] + weight * (values[i] - values[i - 1])
                point["reached"] = True
            rows.append(point)
    return pd.DataFrame(rows)


def matched_table(points: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (protocol, objective, threshold), group in points.groupby(["protocol", "objective", "threshold"]):
        reached = group[group["reached"]]
        rows.append(
            {
                "protocol": protocol,
                "objective": objective,
                "accuracy": threshold,
                "reached": f"{len(reached)}/{len(group)}",
                **{f"{METRICS[m][0]} at matched accuracy": _fmt(_estimate(reached[m])) for m in MATCHED},
            }
        )
    return pd.DataFrame(rows)


CROSSOVER_MARGIN = 1e-4  # the base must be above by more than this (both pass@k curves reach 1 numerically)


def crossover(trained: np.ndarray, base: np.ndarray) -> int | None:
    """The smallest k (1-based) at which the base's curve lies above the trained one's by more
    than ``CROSSOVER_MARGIN``; None if it never does."""
    at = np.flatnonzero(base - trained > CROSSOVER_MARGIN)
    return int(at[0]) + 1 if len(at) else None


def pass_at_k_means(results: MiniLMResults) -> pd.DataFrame:
    columns = ["exact_pass_at_k", "exact_distinct_correct"]
    means = results.curves.groupby(["protocol", "objective", "k"], as_index=False)[columns].mean()
    base = results.base_curves.assign(protocol="-", objective=BASE)[["protocol", "objective", "k", *columns]]
    return pd.concat([base, means], ignore_index=True)


def crossovers(results: MiniLMResults) -> pd.DataFrame:
    means = pass_at_k_means(results)
    base = means[means["objective"] == BASE].sort_values("k")
    rows = []
    for (protocol, objective), unsorted in means[means["objective"] != BASE].groupby(["protocol", "objective"]):
        group = unsorted.sort_values("k")
        rows.append(
            {
                "protocol": protocol,
                "objective": objective,
                **{
                    f"crossover k ({label})": crossover(group[column].to_numpy(), base[column].to_numpy())
                    for column, label in (("exact_pass_at_k", "pass@k"), ("exact_distinct_correct", "distinct correct"))
                },
                "pass@256": round(float(group["exact_pass_at_k"].iloc[-1]), 4),
                "distinct@256": round(float(group["exact_distinct_correct"].iloc[-1]), 2),
            }
        )
    frame = pd.DataFrame(rows)
    for column in [c for c in frame if c.startswith("crossover")]:
        frame[column] = frame[column].astype("Int64")  # k, or <NA>: never
    return frame


def _crossover_table(results: MiniLMResults) -> pd.DataFrame:
    """``crossovers`` as the report prints it: "never" for no crossover, the base's values first."""
    table = crossovers(results)
    columns = [c for c in table if c.startswith("crossover")]
    table = table.astype(dict.fromkeys(columns, object))
    table[columns] = table[columns].where(table[columns].notna(), "never")
    base = results.base_curves.sort_values("k").iloc[-1]
    first = {
        "protocol": "-",
        "objective": BASE,
        **dict.fromkeys(columns, "-"),
        "pass@256": round(float(base["exact_pass_at_k"]), 4),
        "distinct@256": round(float(base["exact_distinct_correct"]), 2),
    }
    return pd.concat([pd.DataFrame([first]), table], ignore_index=True)


def improvements(results: MiniLMResults, compare=COMPARE) -> pd.DataFrame:
    final = results.final
    rows = []
    for x, y in compare:
        for protocol in sorted(final["protocol"].unique()):
            first = final[(final["objective"] == x) & (final["protocol"] == protocol)]
            second = final[(final["objective"] == y) & (final["protocol"] == protocol)]
            if first.empty or second.empty:
                continue
            for metric in ("exact_accuracy", "exact_effective_answers", "exact_tv_base"):
                p = probability_of_improvement(
                    [first[metric].dropna().to_numpy()], [second[metric].dropna().to_numpy()], METRICS[metric][1]
                )
                rows.append(
                    {"protocol": protocol, "X": x, "Y": y, "metric": METRICS[metric][0], "P(X better)": _fmt(p)}
                )
    return pd.DataFrame(rows)


def _markdown(frame: pd.DataFrame) -> str:
    from ladbench.tables import markdown_table

    return markdown_table(frame)


def report_markdown(results: MiniLMResults) -> str:
    base = results.base
    parts = [
        f"# {results.name}: exact evaluation of the mini-LM",
        "",
        condition_text(results) + ". IQM over seeds [95% percentile bootstrap interval]; the base row is the "
        f"pretrained model (exact accuracy {base['exact_accuracy']:.3f}, effective answers "
        f"{base['exact_effective_answers']:.2f}, worked share {base['exact_share_worked']:.3f}). TV to filtered base: "
        "TV between the model's and the base model's distributions over the valid answers (the target of "
        "filtering and of KL-regularised RL). Missed mass: correct samples the enumeration does not list.",
        "",
        _markdown(summary_table(results)),
        "",
        "## Diversity at matched accuracy",
        "",
        "Effective answers and TV to the filtered base where a run's exact accuracy first reaches the level "
        "(linear interpolation between evaluations); reached: runs that got there.",
        "",
        _markdown(matched_table(matched_points(results))),
        "",
        "## Exact pass@k and distinct correct answers against the base",
        "",
        "Crossover k: the smallest k in 1..256 at which the base model's curve lies above the trained one's "
        f"(by more than {CROSSOVER_MARGIN}; means over seeds; empty: never).",
        "",
        _markdown(_crossover_table(results)),
        "",
        "## P(X better than Y)",
        "",
        _markdown(improvements(results)),
        "",
    ]
    return "\n".join(parts)


def _bootstrap_band(curves: np.ndarray, resamples: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """95% percentile bootstrap interval of the mean over runs (rows), per column."""
    rng = np.random.default_rng(0)
    picks = rng.integers(len(curves), size=(resamples, len(curves)))
    means = curves[picks].mean(axis=1)
    return np.percentile(means, 2.5, axis=0), np.percentile(means, 97.5, axis=0)


def _objectives(results: MiniLMResults) -> list[str]:
    return list(dict.fromkeys(results.runs["objective"]))


def save_figures(results: MiniLMResults, out: Path, stem: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order, objectives = protocols(results), _objectives(results)
    palette = [plt.get_cmap("tab10")(i) for i in (0, 1, 2, 3, 4, 5, 6, 8, 9)] + ["#000080"]  # no grey: the base's
    colours = {name: palette[i % len(palette)] for i, name in enumerate(objectives)}
    return [
        *_pass_at_k_figure(results, out, stem, order, objectives, colours),
        *_training_figure(results, out, stem, order, objectives, colours),
        *_distribution_figure(results, out, stem, order, objectives, colours),
    ]


def _pass_at_k_figure(results, out, stem, protocols, objectives, colours) -> list[Path]:
    """Exact pass@k and expected distinct correct answers against k, each protocol a row, the base dashed."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(protocols), 2, figsize=(12, 4.2 * len(protocols)), squeeze=False)
    for row, protocol in enumerate(protocols):
        for col, (column, label) in enumerate(
            (("exact_pass_at_k", "exact pass@k"), ("exact_distinct_correct", "expected distinct correct answers"))
        ):
            axis = axes[row][col]
            base = results.base_curves.sort_values("k")
            axis.plot(base["k"], base[column], color="black", linestyle="--", linewidth=2, label="base")
            for objective in objectives:
                runs = results.curves[
                    (results.curves["objective"] == objective) & (results.curves["protocol"] == protocol)
                ]
                if runs.empty:
                    continue
                table = runs.pivot(index="seed", columns="k", values=column)
                low, high = _bootstrap_band(table.to_numpy())
                axis.plot(table.columns, table.mean().to_numpy(), color=colours[objective], label=objective)
                axis.fill_between(table.columns, low, high, color=colours[objective], alpha=0.15)
            axis.set_xscale("log", base=2)
            axis.set_xlabel("k")
            axis.set_ylabel(label)
            axis.set_title(f"{protocol}: {label}")
        axes[row][0].legend(fontsize=7, ncol=2)
    figure.suptitle(
        _wrap(
            condition_text(results)
            + ". Lines: mean over seeds; bands: 95% bootstrap interval of the mean; dashed: base.",
            figure,
        ),
        fontsize=8,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.93))
    return _save(figure, out / f"{stem}_exact_pass_at_k")


def _training_figure(results, out, stem, protocols, objectives, colours) -> list[Path]:
    """Exact accuracy against step, effective answers against exact accuracy, the worked share against step."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(protocols), 3, figsize=(16, 4.2 * len(protocols)), squeeze=False)
    for row, protocol in enumerate(protocols):
        for objective in objectives:
            runs = results.runs[(results.runs["objective"] == objective) & (results.runs["protocol"] == protocol)]
            if runs.empty:
                continue
            mean = runs.groupby("step")[["exact_accuracy", "exact_effective_answers", "exact_share_worked"]].mean()
            table = runs.pivot(index="seed", columns="step", values="exact_accuracy")
            low, high = _bootstrap_band(table.to_numpy())
            axes[row][0].plot(mean.index, mean["exact_accuracy"], color=colours[objective], label=objective)
            axes[row][0].fill_between(table.columns, low, high, color=colours[objective], alpha=0.15)
            axes[row][1].plot(
                mean["exact_accuracy"],
                mean["exact_effective_answers"],
                marker="o",
                markersize=3,
                color=colours[objective],
            )
            axes[row][2].plot(mean.index, mean["exact_share_worked"], color=colours[objective])
        axes[row][0].set(xlabel="step", ylabel="exact accuracy", title=f"{protocol}: exact accuracy")
        axes[row][1].set(
            xlabel="exact accuracy", ylabel="effective answers exp(H)", title=f"{protocol}: diversity against accuracy"
        )
        axes[row][2].set(
            xlabel="step", ylabel="worked format's share of correct mass", title=f"{protocol}: format share"
        )
        axes[row][0].legend(fontsize=7, ncol=2)
    figure.suptitle(
        _wrap(
            condition_text(results)
            + ". Lines: means over seeds at each evaluation; band (left): 95% bootstrap interval of the mean.",
            figure,
        ),
        fontsize=8,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.93))
    return _save(figure, out / f"{stem}_exact_training")


def _distribution_figure(results, out, stem, protocols, objectives, colours) -> list[Path]:
    """For one held-out prompt: the base distribution over its valid answers beside each objective's after training."""
    import matplotlib.pyplot as plt

    prompt_id = results.base_distribution["prompt_id"].iloc[0]
    base = results.base_distribution[results.base_distribution["prompt_id"] == prompt_id]
    keys = sorted(base["answer_key"].astype(str).unique(), key=lambda key: [int(part) for part in key.split("+")])
    base_q = base.set_index(base["answer_key"].astype(str))["mass"].reindex(keys).fillna(0)
    base_q = base_q / base_q.sum()
    figure, axes = plt.subplots(
        len(protocols),
        len(objectives),
        figsize=(2.2 * len(objectives), 2.6 * len(protocols)),
        squeeze=False,
        sharey=True,
    )
    for row, protocol in enumerate(protocols):
        for col, objective in enumerate(objectives):
            axis = axes[row][col]
            chosen = results.distributions[
                (results.distributions["objective"] == objective)
                & (results.distributions["protocol"] == protocol)
                & (results.distributions["prompt_id"] == prompt_id)
            ]
            per_seed = chosen.assign(key=chosen["answer_key"].astype(str)).pivot(
                index="seed", columns="key", values="mass"
            )
            per_seed = per_seed.reindex(columns=keys).fillna(0)
            q = (per_seed.div(per_seed.sum(axis=1), axis=0)).mean()
            x = np.arange(len(keys))
            axis.bar(x - 0.2, base_q.to_numpy(), width=0.4, color="0.6", label="base")
            axis.bar(x + 0.2, q.to_numpy(), width=0.4, color=colours[objective], label=objective)
            axis.set_xticks(x, keys, rotation=90, fontsize=6)
            axis.set_title(f"{objective}\n{protocol}", fontsize=8)
        axes[row][0].set_ylabel("share of correct mass")
    prompt = base["prompt"].iloc[0]
    caption = (
        f"Prompt {prompt!r} (held out): the base model's distribution over its valid answers (grey) and each "
        "objective's after training (mean over seeds of the normalised distribution). "
    )
    figure.suptitle(_wrap(caption + condition_text(results) + ".", figure), fontsize=8)
    figure.tight_layout(rect=(0, 0, 1, 0.9))
    return _save(figure, out / f"{stem}_exact_distribution")


def _wrap(text: str, figure=None) -> str:
    """``text`` in lines that fit the figure's width (about 14 characters per inch at 8 points)."""
    import textwrap

    width = 190 if figure is None else int(figure.get_figwidth() * 14)
    return "\n".join(textwrap.wrap(text, width))


def _save(figure, stem: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from ladbench.figures.common import save

    paths = save(figure, stem.parent, stem.name, dpi=130)
    plt.close(figure)
    return paths


def write_minilm_report(directory: str | Path, out: Path) -> tuple[str, list[Path]]:
    """The files of the module docstring for the sweep in ``directory``; (its markdown, the files)."""
    results = load_minilm(directory)
    stem = results.name
    out = Path(out)
    markdown = report_markdown(results)
    io.write_text(out / f"{stem}_exact.md", markdown)
    io.write_csv(out / f"{stem}_exact.csv", results.final.reset_index(drop=True))
    io.write_csv(out / f"{stem}_exact_curves.csv", results.runs)
    io.write_csv(out / f"{stem}_exact_pass_at_k.csv", pass_at_k_means(results))
    paths = [
        out / f"{stem}_exact.md",
        out / f"{stem}_exact.csv",
        out / f"{stem}_exact_curves.csv",
        out / f"{stem}_exact_pass_at_k.csv",
    ]
    return markdown, paths + save_figures(results, out, stem)


def minilm_reports(paths: list[Path], out: Path | None) -> tuple[list[str], list[Path]]:
    """The exact report of every mini-LM sweep among ``paths`` (written into ``out`` when given):
    (their markdown, the files written)."""
    markdown, written = [], []
    for path in map(Path, paths):
        if (path / layout.SWEEP_FILE).is_file() and has_exact(path):
            if out is None:
                markdown.append(report_markdown(load_minilm(path)))
            else:
                text, files = write_minilm_report(path, out)
                markdown.append(text)
                written += files
    return markdown, written
