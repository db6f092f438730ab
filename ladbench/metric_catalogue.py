"""The metric catalogue: every metric's name, direction, label and definition, in one place.

Statistics, reports, figures, specs, the command line and the LLM table read metrics from here;
nothing else lists metric names or parses them for a direction. Adding a metric is adding an
entry (the code that computes it lives with its track: ``bandit/metrics.py``,
``llm/metrics.py``); its ``track`` and ``views`` decide where it appears by default.

Direction: ``higher_is_better`` is True or False where one value is better than another in
itself, and None where it is not. The entropy of a bandit policy is None: the uniform policy
has the most, the target fixes the right amount, and a distance to the target says how close a
policy is. ``max_prob`` is None for the same reason (the uniform policy has the least). A
metric without a direction is still tabulated and drawn, but is not ranked (probability of
improvement refuses it) and gets no "better" colour or log scale.

Views (default selections, in catalogue order):

- ``reference``: the per-seed columns of ``results/reference/*.csv`` (the regression test)
- ``report``: the table of ``ladbench report`` (of a bandit or an LLM sweep, by the metrics' track)
  and of ``ladbench llm table``, which builds it; ``compare``: its probability of improvement
- ``console``: what ``ladbench run bandit`` prints

A label may hold ``{k}`` (the LLM eval's samples per prompt) and, for a pattern entry, ``{i}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BANDIT = "bandit"  # a column of a bandit run's curves.csv and summary.csv (``bandit/metrics.py``)
LLM_EVAL = "llm_eval"  # a per-prompt column of per_prompt.csv and a mean in summary.json (``llm/evaluate.py``)
TRACKS = (BANDIT, LLM_EVAL)
SWEEP_METRICS = {"bandit": BANDIT, "llm": LLM_EVAL}  # a sweep's track -> the track of its cells' summary metrics
VIEWS = ("reference", "report", "compare", "console")


@dataclass(frozen=True)
class Metric:
    name: str  # a column name, or a pattern such as ``mass_mode_<i>`` (see ``pattern``)
    track: str
    higher_is_better: bool | None
    label: str
    definition: str
    views: frozenset[str] = frozenset()
    pattern: str | None = None  # regex of the column names a pattern entry stands for

    def matches(self, column: str) -> bool:
        return column == self.name if self.pattern is None else re.fullmatch(self.pattern, column) is not None


_REFERENCES = {  # suffix -> (name in labels, short name in formulas, meaning)
    "target": ("target", "target", "the method's exact target (its fixed point)"),
    "truth": ("ground truth", "truth", "the environment's ground-truth mixture"),
}
_DISTANCES = {  # name -> (label with {ref} or {short}, definition with {p}, views by reference)
    "tv": (
        "TV to {ref}",
        "total variation 1/2 sum_a |pi(a) - p(a)| to {p}",
        {"target": {"reference", "report", "console"}, "truth": {"reference", "report", "compare", "console"}},
    ),
    "kl": (
        "KL({short} || pi)",
        "forward KL(p || pi) = sum_a p log(p / pi), p = {p} (mass-covering)",
        {"truth": {"reference", "console"}},
    ),
    "rkl": ("KL(pi || {short})", "reverse KL(pi || p) = sum_a pi log(pi / p), p = {p} (mode-seeking)", {}),
    "js": (
        "JS to {ref}",
        "Jensen-Shannon 1/2 KL(p || m) + 1/2 KL(pi || m), m = (p + pi) / 2, p = {p}",
        {"truth": {"reference"}},
    ),
    "hellinger": ("Hellinger to {ref}", "Hellinger sqrt(1/2 sum_a (sqrt(pi) - sqrt(p))^2) to {p}", {}),
}


def _bandit_distances() -> list[Metric]:
    """The five distances, each to the target and to the ground truth (``bandit.metrics.distances``)."""
    return [
        Metric(
            f"{name}_{reference}",
            BANDIT,
            False,
            label.format(ref=shown, short=short),
            definition.format(p=meaning),
            frozenset(views.get(reference, ())),
        )
        for reference, (shown, short, meaning) in _REFERENCES.items()
        for name, (label, definition, views) in _DISTANCES.items()
    ]


CATALOGUE: tuple[Metric, ...] = (
    *_bandit_distances(),
    Metric(
        "entropy",
        BANDIT,
        None,
        "entropy (nats)",
        "-sum_a pi(a) log pi(a) (per context, averaged)",
        frozenset({"reference", "report", "console"}),
    ),
    Metric(
        "max_prob",
        BANDIT,
        None,
        "max probability",
        "max_a pi(a): 1 when the policy has collapsed to one arm",
        frozenset({"reference", "report", "console"}),
    ),
    Metric("expected_reward", BANDIT, True, "expected reward", "sum_a pi(a) r(a)", frozenset({"reference"})),
    Metric(
        "mass_mode_<i>",
        BANDIT,
        None,
        "mass on mode {i}",
        "pi's mass on the outcomes of mode i",
        pattern=r"mass_mode_(?P<i>\d+)",
    ),
    Metric(
        "mode_coverage",
        BANDIT,
        True,
        "mode coverage",
        "fraction of modes whose mass under pi is at least half their ground-truth mass",
        frozenset({"reference", "report", "compare", "console"}),
    ),
    Metric(
        "avg_at_k",
        LLM_EVAL,
        True,
        "Avg@{k}",
        "mean accuracy of the k sampled responses",
        frozenset({"report", "compare"}),
    ),
    Metric("pass_at_1", LLM_EVAL, True, "Pass@1", "unbiased pass@1 (Chen et al. 2021) from the k samples"),
    Metric(
        "pass_at_k",
        LLM_EVAL,
        True,
        "Pass@{k}",
        "unbiased pass@k (Chen et al. 2021): some sample is correct",
        frozenset({"report", "compare"}),
    ),
    Metric("dist_3", LLM_EVAL, True, "dist-3", "distinct word 3-grams / all 3-grams over a prompt's responses"),
    Metric(
        "dist_4",
        LLM_EVAL,
        True,
        "dist-4",
        "distinct word 4-grams / all 4-grams over a prompt's responses",
        frozenset({"report"}),
    ),
    Metric(
        "distinct_correct",
        LLM_EVAL,
        True,
        "distinct correct",
        "number of different answers among a prompt's correct responses",
        frozenset({"report", "compare"}),
    ),
    Metric("mean_length", LLM_EVAL, None, "length", "mean completion length in tokens", frozenset({"report"})),
    # answer-set metrics (``llm/metrics.py``): tasks that enumerate a prompt's valid answers V; NaN where undefined
    Metric("valid_answers", LLM_EVAL, None, "|V|", "number of valid answers of the prompt"),
    Metric("coverage", LLM_EVAL, True, "coverage", "distinct correct answers / |V|", frozenset({"report", "compare"})),
    Metric(
        "tv_uniform",
        LLM_EVAL,
        False,
        "TV to uniform",
        "total variation between the correct answers' empirical distribution and uniform over V",
        frozenset({"report"}),
    ),
    Metric(
        "tv_uniform_floor",
        LLM_EVAL,
        None,
        "TV to uniform, floor",
        "expected tv_uniform of c uniform draws from V (c: the prompt's correct samples)",
    ),
    Metric(
        "kl_uniform",
        LLM_EVAL,
        False,
        "KL(uniform || pi)",
        "KL from uniform over V to the correct answers' add-1/2 smoothed empirical distribution",
    ),
    Metric(
        "tv_base_correct",
        LLM_EVAL,
        False,
        "TV to base|correct",
        "total variation between the correct answers' empirical distribution and the base model's "
        "(--base-eval); finite-sample floor > 0",
        frozenset({"report"}),
    ),
    Metric(
        "kl_base_correct",
        LLM_EVAL,
        False,
        "KL(base|correct || pi)",
        "KL from the base model's empirical correct-answer distribution to the add-1/2 smoothed model's",
    ),
)


def names(track: str, view: str | None = None) -> tuple[str, ...]:
    """The column names of ``track`` (in ``view``, if given), in catalogue order; pattern
    entries, which stand for a family of columns, are left out."""
    return tuple(
        metric.name
        for metric in CATALOGUE
        if metric.track == track and metric.pattern is None and (view is None or view in metric.views)
    )


def find(column: str) -> Metric | None:
    """The entry a column belongs to (a name or a pattern's match), or None."""
    return next((metric for metric in CATALOGUE if metric.matches(column)), None)


def metric(column: str) -> Metric:
    found = find(column)
    if found is None:
        raise KeyError(f"{column!r} is not in the metric catalogue")
    return found


def higher_is_better(column: str) -> bool | None:
    return metric(column).higher_is_better


def label(column: str, k: int | None = None) -> str:
    """What figures and tables print for ``column``; a column outside the catalogue prints as itself."""
    found = find(column)
    if found is None:
        return column.replace("_", " ")
    fields = {"k": "k" if k is None else k}
    if found.pattern is not None:
        fields |= re.fullmatch(found.pattern, column).groupdict()
    return found.label.format(**fields)
