"""The metric catalogue names exactly the metrics the tracks compute, and everything reads it."""

from __future__ import annotations

import pytest

from ladbench import metric_catalogue
from ladbench.bandit.config import BanditConfig
from ladbench.bandit.run import run_bandit
from ladbench.figure_kinds import FIGURE_KINDS
from ladbench.figures import drawings
from ladbench.metric_catalogue import BANDIT, CATALOGUE, LLM_EVAL, VIEWS, Metric


@pytest.fixture(scope="module")
def summary_columns():
    run = run_bandit(BanditConfig(steps=4, log_interval=2), [0], write=False)
    assert list(run.curves.columns[2:]) == list(run.summary.columns[1:])
    return list(run.summary.columns[1:])


def test_every_bandit_column_is_in_the_catalogue_and_every_entry_is_computed(summary_columns):
    assert all(metric_catalogue.find(column) is not None for column in summary_columns)
    assert [c for c in summary_columns if not c.startswith("mass_mode_")] == list(metric_catalogue.names(BANDIT))
    assert metric_catalogue.find("mass_mode_2").name == "mass_mode_<i>"


def test_every_llm_eval_metric_is_a_per_prompt_column():
    from ladbench.llm.evaluate import SUMMARY_COLUMNS, _prompt_row
    from ladbench.llm.tasks import Grade, Problem

    grades = [Grade(True, "3"), Grade(False, "4"), Grade(True, "5")]
    row = _prompt_row(Problem("p0", "q", "3"), ["a b c d", "a b c d", "e f g h"], grades, 4.0, 3)
    assert SUMMARY_COLUMNS == metric_catalogue.names(LLM_EVAL)
    assert set(SUMMARY_COLUMNS) <= set(row)
    assert row["distinct_correct"] == 2 and row["avg_at_k"] == pytest.approx(2 / 3)


def test_entries_are_complete_and_unique():
    assert len({metric.name for metric in CATALOGUE}) == len(CATALOGUE)
    for metric in CATALOGUE:
        assert metric.track in metric_catalogue.TRACKS and metric.label and metric.definition
        assert metric.higher_is_better in (True, False, None) and metric.views <= set(VIEWS)


def test_directions():
    assert (
        metric_catalogue.higher_is_better("tv_truth") is False
        and metric_catalogue.higher_is_better("js_target") is False
    )
    assert metric_catalogue.higher_is_better("mode_coverage") is True
    assert metric_catalogue.higher_is_better("pass_at_k") is True
    assert (
        metric_catalogue.higher_is_better("entropy") is None and metric_catalogue.higher_is_better("max_prob") is None
    )
    with pytest.raises(KeyError):
        metric_catalogue.higher_is_better("tv_nothing")


def test_labels_fill_k_and_pattern_fields():
    assert metric_catalogue.label("avg_at_k", 8) == "Avg@8" and metric_catalogue.label("pass_at_1", 8) == "Pass@1"
    assert metric_catalogue.label("mass_mode_1") == "mass on mode 1"
    assert metric_catalogue.label("kl_truth") == "KL(truth || pi)"
    assert metric_catalogue.label("log_z") == "log z"  # outside the catalogue: the column's own name


def test_the_reference_view_keeps_the_committed_columns():
    assert metric_catalogue.names(BANDIT, "reference") == (
        "tv_target",
        "tv_truth",
        "kl_truth",
        "js_truth",
        "entropy",
        "max_prob",
        "expected_reward",
        "mode_coverage",
    )


def test_compared_metrics_have_a_direction():
    assert all(
        metric_catalogue.higher_is_better(name) is not None for name in metric_catalogue.names(BANDIT, "compare")
    )


def test_figure_kinds_have_drawings_and_catalogue_defaults():
    assert set(drawings()) == set(FIGURE_KINDS)
    for kind in FIGURE_KINDS.values():
        assert set(kind.default_metrics or ()) <= set(metric_catalogue.names(BANDIT))


THROWAWAY_SPEC = """
name = "throwaway"
seeds = 2
[fixed]
steps = 4
log_interval = 2
[axes]
method = ["lad", "grpo"]
[report]
metrics = ["arm_zero", "tv_target"]
"""


def test_a_throwaway_metric_added_as_the_checklist_says(monkeypatch, tmp_path):
    """The README's "Adding a metric", followed for a throwaway bandit metric, pi's mass on arm 0:
    (1) one more entry of the dict ``policy_metrics`` returns, (2) a ``Metric`` in ``CATALOGUE``.
    It is then a column of every run's curves and summary, in catalogue order; a sweep spec may
    name it; the report tables it (by default: its view); a name outside the catalogue is
    refused in one line listing the valid choices, the new one among them."""
    from ladbench.bandit import loop
    from ladbench.errors import UserError
    from ladbench.figure_kinds import check_metrics
    from ladbench.report import build_report
    from ladbench.results import load
    from ladbench.sweep.runner import run_sweep
    from ladbench.sweep.spec import load_spec

    computed = loop.policy_metrics

    def with_arm_zero(policy, *args, **kwargs):  # step 1: computed where the track computes metrics
        return {**computed(policy, *args, **kwargs), "arm_zero": policy[..., 0]}

    monkeypatch.setattr(loop, "policy_metrics", with_arm_zero)
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(THROWAWAY_SPEC)
    with pytest.raises(
        UserError, match=r"spec.toml: report.metrics: unknown metric 'arm_zero'; valid choices: tv_target, "
    ):
        load_spec(spec_path)  # computed but not yet catalogued: refused

    entry = Metric("arm_zero", BANDIT, None, "mass on arm 0", "pi(0)", frozenset({"report"}))
    monkeypatch.setattr(metric_catalogue, "CATALOGUE", (*CATALOGUE, entry))  # step 2: its entry

    run = run_bandit(BanditConfig(steps=4, log_interval=2), [0], write=False)
    columns = list(run.summary.columns[1:])
    assert "arm_zero" in columns and list(run.curves.columns[2:]) == columns
    assert [c for c in columns if not c.startswith("mass_mode_")] == list(metric_catalogue.names(BANDIT))
    assert run.summary["arm_zero"].iloc[0] == pytest.approx(run.policy.set_index("arm")["prob"][0])
    check_metrics(["arm_zero"], "report")
    with pytest.raises(UserError) as error:
        check_metrics(["arm_one"], "report")
    assert "\n" not in str(error.value) and "arm_zero" in str(error.value).split("valid choices: ")[1]

    spec = load_spec(spec_path)
    outcome = run_sweep(spec, tmp_path / "results", workers=1, progress=False)
    results = load(outcome.directory)
    assert "arm_zero" in results.summary and "arm_zero" in build_report(results).markdown
    assert "| arm_zero |" in build_report(results, metrics=spec.report.metrics).markdown
