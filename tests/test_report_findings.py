"""A spec's [[report.findings]]: statements the report derives from the results."""

from __future__ import annotations

import numpy as np
import pytest
from sweep_helpers import write_spec

from ladbench.errors import UserError
from ladbench.report import build_report, finding_table
from ladbench.results import load
from ladbench.sweep.runner import run_sweep
from ladbench.sweep.spec import load_spec

SPEC = """
name = "findings"
seeds = 2
[fixed]
steps = 300
log_interval = 100
init_std = 0.5
eta = 1.0
[axes]
method = ["lad", "grpo", "entropy_pg"]
pi_old = [{ label = "fixed", protocol = "fixed" }, { label = "refresh", protocol = "refresh" }]
[report]
compare = "method"
[[report.findings]]
title = "Methods whose entropy stays high on-policy"
metric = "entropy"
at_least = 3.5
statistic = "min"
where = { pi_old = "refresh" }
[[report.findings]]
title = "Methods close to their target"
metric = "tv_target"
at_most = 0.2
statistic = "iqm"
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("findings")
    spec = load_spec(write_spec(root, SPEC))
    return spec, load(run_sweep(spec, root / "results", workers=1, progress=False).directory)


def test_a_finding_lists_exactly_the_values_that_meet_it(results):
    spec, loaded = results
    on_policy, close = spec.report.findings
    table = finding_table(loaded, "method", on_policy)
    assert list(table.columns) == ["meets", "does not"] and len(table) == 1
    summary = loaded.summary[loaded.summary["pi_old"] == "refresh"]
    labels = dict(zip(loaded.cells["method"], loaded.cells["label"], strict=True))
    lowest = summary.groupby("method")["entropy"].min()
    expected = {labels[method] for method, value in lowest.items() if value >= 3.5}
    listed = {entry.rsplit(" (", 1)[0] for entry in table.loc[0, "meets"].split(", ") if entry != "none"}
    assert listed == expected and 0 < len(expected) < 3  # the threshold separates the methods
    per_protocol = finding_table(loaded, "method", close)
    assert per_protocol["pi_old"].tolist() == ["fixed", "refresh"]  # one row per value of the other axes
    for row in per_protocol.itertuples(index=False):
        for entry in row.meets.split(", "):
            if entry != "none":
                assert float(entry.rsplit("(", 1)[1].rstrip(")")) <= 0.2
    markdown = build_report(loaded, "method", None, spec.report.findings).markdown
    assert "## Methods whose entropy stays high on-policy" in markdown
    assert "min over seeds of `entropy` >= 3.5, among the cells with pi_old = refresh" in markdown
    assert np.isfinite(lowest).all()


@pytest.mark.parametrize(
    ("finding", "message"),
    [
        ('title = "x"\nmetric = "entropy"', "give exactly one of at_least and at_most"),
        ('title = "x"\nmetric = "entropy"\nat_least = 1\nat_most = 2', "give exactly one of at_least and at_most"),
        ('title = "x"\nmetric = "entropie"\nat_least = 1', "unknown metric 'entropie'"),
        (
            'title = "x"\nmetric = "entropy"\nat_least = 1\nwhere = { pi_old = "sometimes" }',
            "'sometimes' is not a value",
        ),
        ('title = "x"\nmetric = "entropy"\nat_least = 1\nstatistic = "median"', "statistic"),
    ],
)
def test_bad_findings_are_one_line_errors(tmp_path, finding, message):
    text = SPEC.split("[[report.findings]]", maxsplit=1)[0] + "[[report.findings]]\n" + finding + "\n"
    with pytest.raises(UserError, match=message):
        load_spec(write_spec(tmp_path, text))
