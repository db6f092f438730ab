"""The claims ledger: verdict rules, missing evidence, the command, and CI's regression of the
committed verdicts (claims.json) on the cheap bandit claims, recomputed from scratch."""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ladbench.claims.evidence import Evidence, NotRun, Source, per_seed_tv
from ladbench.claims.ledger import (
    NOT_RUN,
    REFUTED,
    REPRODUCED,
    Claim,
    Condition,
    Finding,
    build_ledger,
    evaluate,
    markdown,
    verdict_of,
)
from ladbench.claims.registry import CLAIMS
from ladbench.cli import app
from ladbench.manifest import BadResult
from ladbench.sweep.runner import run_sweep
from ladbench.sweep.spec import parse_spec

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = json.loads((ROOT / "claims.json").read_text())


def condition(name: str, holds: bool | None, **tags) -> Condition:
    return Condition(name, holds, "-", tags)


CONDITIONS = (
    condition("exact fixed", True, pi_old="fixed", estimator="exact"),
    condition("exact k=1", False, pi_old="k=1", estimator="exact"),
    condition("sampled fixed", True, pi_old="fixed", estimator="sampled"),
    condition("sampled k=1", False, pi_old="k=1", estimator="sampled"),
)


def test_verdict_reproduced_refuted_and_undecided():
    assert verdict_of(CONDITIONS[:1], {}) == REPRODUCED
    assert verdict_of((CONDITIONS[1], CONDITIONS[3]), {}) == REFUTED
    assert verdict_of((condition("a", None), condition("b", None)), {}).startswith("not testable here")
    assert verdict_of((condition("a", None), condition("b", False)), {}) == REFUTED


def test_only_under_names_the_tag_shared_by_exactly_the_conditions_that_hold():
    assert verdict_of(CONDITIONS, {("pi_old", "fixed"): "a fixed pi_old"}) == "reproduced only under a fixed pi_old"
    assert verdict_of(CONDITIONS, {}) == "reproduced only under pi_old = fixed"
    one = (condition("exact fixed", True, pi_old="fixed", estimator="exact"), *CONDITIONS[1:])
    one = (one[0], one[1], condition("sampled fixed", False, pi_old="fixed", estimator="sampled"), one[3])
    assert verdict_of(one, {}) in (
        "reproduced only under estimator = exact and pi_old = fixed",
        "reproduced only under pi_old = fixed and estimator = exact",
    )
    untagged = (condition("a", True), condition("b", True), condition("c", False))
    assert verdict_of(untagged, {}) == "reproduced only under a; b"


def test_missing_results_read_not_run(tmp_path):
    source = Source("nowhere", "experiments/none.toml")

    def measure(evidence: Evidence) -> Finding:
        evidence.rows(source)
        return Finding((condition("c", True),))

    claim = Claim("x", "a claim", "suite", "a setting", "a rule", (source,), measure)
    row = evaluate(claim, Evidence(tmp_path))
    assert row.kind == NOT_RUN and str(tmp_path / "nowhere") in row.verdict
    assert row.claim.command == "ladbench sweep experiments/none.toml && ladbench claims"


def test_every_claim_reads_not_run_without_results(tmp_path):
    rows = build_ledger(CLAIMS, tmp_path)
    assert {row.kind for row in rows} == {NOT_RUN, "not testable here"}
    assert [row.claim.id for row in rows if row.kind != NOT_RUN] == ["llm_reported_numbers"]
    text = markdown(rows, tmp_path)
    assert text.count("\n| **") == len(CLAIMS)


def test_claims_are_unique_and_cover_the_issue():
    ids = [claim.id for claim in CLAIMS]
    assert len(ids) == len(set(ids))
    for needed in (
        "bandit_recovery",
        "grpo_collapse",
        "js_best_bandit",
        "strict_beats_non_strict_bandit",
        "loss_cost",
        "llm_accuracy",
        "llm_diversity",
        "no_entropy_bonus",
        "eta_ablation",
        "protocol_dependence",
        "entropy_pg_equivalence",
        "flowrl_beta",
        "baselines_on_policy",
    ):
        assert needed in ids
    for claim in CLAIMS:  # every rule states a threshold or a comparison
        assert any(char.isdigit() for char in claim.rule) or claim.id == "llm_reported_numbers"


def test_per_seed_tv_matches_seeds():
    first = pd.DataFrame({"seed": [0, 0, 1, 1], "arm": [0, 1, 0, 1], "prob": [0.5, 0.5, 1.0, 0.0]})
    second = pd.DataFrame({"seed": [1, 1, 0, 0], "arm": [0, 1, 0, 1], "prob": [0.0, 1.0, 0.5, 0.5]})
    np.testing.assert_allclose(per_seed_tv(first, second), [0.0, 1.0])
    with pytest.raises(NotRun):
        per_seed_tv(first, second.assign(seed=second["seed"] + 5))


def test_claims_command_writes_both_files(tmp_path):
    (tmp_path / "results").mkdir()  # empty: every claim reads "not run"
    result = CliRunner().invoke(app, ["claims", "--results", str(tmp_path / "results"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    ledger = json.loads((tmp_path / "claims.json").read_text())
    assert [claim["id"] for claim in ledger["claims"]] == [claim.id for claim in CLAIMS]
    assert (tmp_path / "CLAIMS.md").read_text().startswith("# Claims ledger")


def test_keep_unrun_carries_the_measured_rows_and_measures_the_rest(tmp_path):
    """With no results here, --keep-unrun rewrites the committed ledger's measured rows unchanged but
    for a note saying they were carried over; its not-run rows stay not run; without it, refused."""
    (tmp_path / "results").mkdir()
    (tmp_path / "claims.json").write_text(json.dumps(COMMITTED))
    command = ["claims", "--results", str(tmp_path / "results"), "--out", str(tmp_path)]
    refused = CliRunner().invoke(app, command)
    assert refused.exit_code == 2, refused.output
    result = CliRunner().invoke(app, [*command, "--keep-unrun"])
    assert result.exit_code == 0, result.output
    written = {claim["id"]: claim for claim in json.loads((tmp_path / "claims.json").read_text())["claims"]}
    # claims that read results (the others, e.g. "not testable here" with no source, are measured anew)
    measured = [claim for claim in COMMITTED["claims"] if claim["verdict_kind"] != NOT_RUN and claim["reads"]]
    assert measured
    for before in measured:
        after = written[before["id"]]
        for key in ("verdict", "measurement", "conditions", "seeds"):
            assert after[key] == before[key], (before["id"], key)
        assert "carried over from the previous ledger" in after["note"]
    assert "carried over from the previous ledger" in result.output
    # carried twice: the note is not repeated
    again = CliRunner().invoke(app, [*command, "--keep-unrun"])
    assert again.exit_code == 0, again.output
    twice = json.loads((tmp_path / "claims.json").read_text())["claims"]
    assert all(claim["note"].count("carried over") <= 1 for claim in twice)


def test_a_damaged_cell_is_an_error_unless_skipped(tmp_path):
    """Results are verified on read: a changed file stops the ledger; --skip-bad turns it into 'not run'."""
    spec = parse_spec(
        _reduced("findings", seeds=[0], objective_labels=["GRPO (clip 0.2)"]), ROOT / "experiments" / "findings.toml"
    )
    run_sweep(spec, tmp_path, workers=1, progress=False)
    (uniform,) = [
        cell
        for cell in (tmp_path / "findings" / "cells").iterdir()
        if json.loads((cell / "manifest.json").read_text())["axes"]["init"] == "uniform"
    ]
    summary = uniform / "summary.csv"  # the cell the claim reads; the random-init cell stays intact
    summary.write_text(summary.read_text() + "\n")
    claim = next(claim for claim in CLAIMS if claim.id == "grpo_clip_freeze")
    with pytest.raises(BadResult, match=r"summary\.csv"):
        build_ledger((claim,), tmp_path)
    (row,) = build_ledger((claim,), tmp_path, skip_bad=True)
    assert row.kind == NOT_RUN and "failed verification" in row.verdict


def _reduced(name: str, seeds: list[int] | None = None, objective_labels: list[str] | None = None) -> dict:
    """A shipped spec with only the exact estimator (its cheap cells), optionally fewer seeds."""
    data = tomllib.loads((ROOT / "experiments" / f"{name}.toml").read_text())
    if seeds is not None:
        data["seeds"] = seeds
    if "estimator" in data["axes"]:
        data["axes"]["estimator"] = ["exact"]
        data.get("fixed", {}).pop("group_size", None)  # only sampled cells read it: in none, it is an error
    if objective_labels is not None:
        data["axes"]["objective"] = [value for value in data["axes"]["objective"] if value["label"] in objective_labels]
    data.pop("figures", None)
    return data


@pytest.mark.slow
def test_cheap_claims_keep_their_committed_verdicts(tmp_path):
    """Recompute every cheap claim from scratch (the exact-estimator cells of its specs, all their
    seeds: the comparisons need them) and compare each condition's outcome, and the verdict where
    every condition was recomputed, with claims.json. About 30 s on two busy cores."""
    cheap = tuple(claim for claim in CLAIMS if claim.cheap)
    started = time.perf_counter()
    for name in sorted({source.name for claim in cheap for source in claim.sources}):
        spec = parse_spec(_reduced(name), ROOT / "experiments" / f"{name}.toml")
        run_sweep(spec, tmp_path, workers=1, progress=False)  # one process: no fork server to start
    rows = build_ledger(cheap, tmp_path)
    committed = {claim["id"]: claim for claim in COMMITTED["claims"]}
    for row in rows:
        before = committed[row.claim.id]
        if before["verdict_kind"] == NOT_RUN:
            continue
        held = {entry["name"]: entry["holds"] for entry in before["conditions"]}
        assert row.conditions, f"{row.claim.id}: {row.verdict}"
        for recomputed in row.conditions:
            assert recomputed.holds == held[recomputed.name], (
                f"{row.claim.id}, {recomputed.name}: {recomputed.measurement}; committed holds={held[recomputed.name]}"
            )
        if {c.name for c in row.conditions} == set(held):
            assert row.verdict == before["verdict"], row.claim.id
    print(f"cheap claims recomputed in {time.perf_counter() - started:.1f} s")


@pytest.mark.slow
def test_llm_claims_read_an_llm_sweep(tmp_path):
    """The LLM rows read an LLM sweep's cells: here the smoke spec (tiny random model, LAD-JS and
    GRPO, 2 seeds) stored under the name the ledger reads. Its numbers mean nothing; the rows must
    carry measurements and verdicts, and the row needing LAD-KL, absent here, reads 'not run'."""
    pytest.importorskip("transformers")
    data = tomllib.loads((ROOT / "experiments" / "llm" / "smoke.toml").read_text())
    data["name"] = "llm_between"
    run_sweep(parse_spec(data, ROOT / "experiments" / "llm" / "smoke.toml"), tmp_path, progress=False)
    rows = {row.claim.id: row for row in build_ledger(CLAIMS, tmp_path)}
    for claim in ("llm_accuracy", "llm_diversity"):
        row = rows[claim]
        assert row.kind != NOT_RUN and len(row.conditions) == 2, row.verdict
        assert all(c.measurement.startswith("P(LAD-JS > GRPO) ") for c in row.conditions)
    assert rows["llm_divergence"].kind == NOT_RUN and "label=LAD-KL" in rows["llm_divergence"].verdict
