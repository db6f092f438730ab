"""The claims ledger: each claim measured on the results on disk, given a verdict by its stated
rule, and written as CLAIMS.md and claims.json.

A claim (:class:`Claim`) is data: an id, the claim in one line, where it comes from (the paper
or the suite), the setting it is tested in, its verdict rule in words (thresholds included),
the results it reads (:class:`~ladbench.claims.evidence.Source`) and a measurement function.
The measurement returns a :class:`Finding`: the conditions it checked, each with its numbers
(IQM over seeds with a 95% stratified bootstrap interval, or P(X better than Y) with its
interval) and whether the rule holds there.

Verdicts, from the conditions (or set by the measurement where the conditions cannot decide):

- ``reproduced``: the rule holds in every condition;
- ``reproduced only under <condition>``: in some; <condition> names the tag they share (e.g.
  "a fixed pi_old"), else lists them;
- ``refuted``: in none, and at least one condition contradicts it;
- ``not testable here: <why>``: the suite cannot decide it (nothing separates the runs, or the
  setting is out of reach);
- ``not run: <why>``: a result the claim reads is not on disk (``ladbench claims --run``
  computes what runs on this machine).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import pandas as pd

from ladbench import io, manifest
from ladbench.claims.evidence import Evidence, NotRun, Source
from ladbench.errors import UserError
from ladbench.results import load
from ladbench.tables import markdown_table

REPRODUCED = "reproduced"
ONLY_UNDER = "reproduced only under"
REFUTED = "refuted"
NOT_TESTABLE = "not testable here"
NOT_RUN = "not run"
VERDICTS = (REPRODUCED, ONLY_UNDER, REFUTED, NOT_TESTABLE, NOT_RUN)
# How a condition's outcome reads in the markdown ledger.
CONDITION_WORDS = {True: "holds", False: "does not hold", None: "undecided"}
SCHEMA = "ladbench.claims/1"
MARKDOWN_FILE, JSON_FILE = "CLAIMS.md", "claims.json"  # the ledger, in ``--out``


@dataclass(frozen=True)
class Condition:
    """One setting in which a claim's rule is checked. ``holds`` is None when the numbers do
    not decide (e.g. an interval of P(X > Y) that contains 0.5)."""

    name: str
    holds: bool | None
    measurement: str
    tags: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A rule computed on numpy scalars gives numpy.bool_, which JSON would write as the string "True".
        if self.holds is not None:
            object.__setattr__(self, "holds", bool(self.holds))


@dataclass(frozen=True)
class Finding:
    """What a measurement returns. ``measurement`` summarises it (default: every condition's);
    ``verdict`` overrides the verdict the conditions give (``not testable here: ...``);
    ``missing`` says why a condition could not be measured (the claim is then "not run", and
    shows the conditions that were)."""

    conditions: tuple[Condition, ...] = ()
    measurement: str | None = None
    verdict: str | None = None
    note: str = ""
    missing: tuple[str, ...] = ()


def collect(build: Callable[..., Condition], cases: Iterable[tuple]) -> tuple[tuple[Condition, ...], tuple[str, ...]]:
    """``build(*case)`` for every case: the conditions measured, and why the others could not be."""
    conditions, missing = [], []
    for case in cases:
        try:
            conditions.append(build(*case))
        except NotRun as reason:
            missing.append(str(reason))
    return tuple(conditions), tuple(missing)


@dataclass(frozen=True)
class Claim:
    id: str
    claim: str  # one line
    origin: str  # "paper" or "suite"
    setting: str
    rule: str
    sources: tuple[Source, ...]
    measure: Callable[[Evidence], Finding]
    phrases: dict[tuple[str, Any], str] = field(default_factory=dict)  # (tag, value) -> how "only under" names it
    cheap: bool = False  # recomputed by CI from exact-estimator cells in seconds (tests/test_claims.py)
    note: str = ""  # shown with the row whatever the results

    @property
    def command(self) -> str:
        if not self.sources:
            return "none (not testable here)"
        return " && ".join([*(source.command for source in self.sources), "ladbench claims"])


@dataclass(frozen=True)
class Row:
    claim: Claim
    verdict: str
    measurement: str
    note: str
    conditions: tuple[Condition, ...]
    seeds: tuple[int, ...]  # seed counts of the settings read

    @property
    def kind(self) -> str:
        """The verdict's category (one of VERDICTS)."""
        return next(kind for kind in VERDICTS if self.verdict.startswith(kind))

    def as_json(self) -> dict[str, Any]:
        claim = self.claim
        return {
            "id": claim.id,
            "claim": claim.claim,
            "origin": claim.origin,
            "setting": claim.setting,
            "seeds": list(self.seeds),
            "rule": claim.rule,
            "measurement": self.measurement,
            "verdict": self.verdict,
            "verdict_kind": self.kind,
            "note": self.note,
            "command": claim.command,
            "reads": [source.name for source in claim.sources],
            "conditions": [
                {"name": c.name, "holds": c.holds, "measurement": c.measurement, "tags": c.tags}
                for c in self.conditions
            ],
        }


def verdict_of(conditions: tuple[Condition, ...], phrases: dict[tuple[str, Any], str]) -> str:
    """The verdict the conditions give (see the module docstring)."""
    if not conditions:
        raise ValueError("a finding without conditions must set its verdict")
    held = [condition for condition in conditions if condition.holds]
    if len(held) == len(conditions):
        return REPRODUCED
    if held:
        return f"{ONLY_UNDER} {only_under(conditions, held, phrases)}"
    if any(condition.holds is False for condition in conditions):
        return REFUTED
    return f"{NOT_TESTABLE}: the runs do not separate the settings compared (every interval contains 0.5)"


def only_under(conditions: tuple[Condition, ...], held: list[Condition], phrases: dict[tuple[str, Any], str]) -> str:
    """Name the conditions that hold: a tag value (or two) that picks exactly them, else their names."""
    names = {condition.name for condition in held}
    tags = sorted({(tag, value) for condition in conditions for tag, value in condition.tags.items()}, key=str)
    for size in (1, 2):
        for chosen in combinations(tags, size):
            picked = {c.name for c in conditions if all(c.tags.get(tag) == value for tag, value in chosen)}
            if picked == names:
                return " and ".join(phrases.get(pair, f"{pair[0]} = {pair[1]}") for pair in chosen)
    return "; ".join(condition.name for condition in held)


def evaluate(claim: Claim, evidence: Evidence) -> Row:
    """Measure one claim; missing results give "not run" with the reason."""
    evidence.track()
    try:
        finding = claim.measure(evidence)
    except NotRun as missing:
        return Row(claim, f"{NOT_RUN}: {missing}", "not run", claim.note, (), ())
    measurement = finding.measurement or "; ".join(f"{c.name}: {c.measurement}" for c in finding.conditions)
    if finding.missing:
        verdict = f"{NOT_RUN}: {finding.missing[0]}"
    else:
        verdict = finding.verdict or verdict_of(finding.conditions, claim.phrases)
    note = " ".join(part for part in (finding.note, claim.note) if part)
    return Row(claim, verdict, measurement, note, finding.conditions, tuple(sorted(evidence.seeds_read)))


def build_ledger(claims: tuple[Claim, ...], results_root: str | Path, skip_bad: bool = False) -> list[Row]:
    evidence = Evidence(results_root, skip_bad)
    return [evaluate(claim, evidence) for claim in claims]


def pending_sources(claims: tuple[Claim, ...], results_root: str | Path) -> list[Source]:
    """The sources whose results are absent or unfinished (what ``--run`` would produce), in order."""
    pending: dict[str, Source] = {}
    for source in (source for claim in claims for source in claim.sources):
        directory = source.directory(results_root)
        if source.spec is None:
            done = manifest.exists(directory)
        else:
            try:
                done = not load(directory, skip_bad=True).missing
            except UserError:  # absent, no finished cell, not a results directory: run it
                done = False
        if not done:
            pending.setdefault(source.name, source)
    return list(pending.values())


def produce_missing(claims: tuple[Claim, ...], results_root: str | Path, workers: int | None = None) -> None:
    """Run the sweeps and benchmarks whose results the claims lack (sweeps resume; what ``ladbench
    claims --run`` does first); name the rest on stderr."""
    import subprocess
    import sys

    from ladbench.sweep.runner import run_sweep
    from ladbench.sweep.spec import load_spec

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    for source in pending_sources(claims, results_root):
        if not source.local:
            say(f"{source.name}: not run here (GPU work): {source.command}")
        elif source.spec is not None and not Path(source.spec).is_file():
            say(f"{source.name}: no spec {source.spec} in this tree; its claims read 'not run'")
        elif source.spec is not None:
            run_sweep(load_spec(source.spec), results_root, workers=workers)
        else:
            say(f"{source.name}: {source.command}")
            completed = subprocess.run([sys.executable, *source.script_arguments(results_root)], check=False)
            if completed.returncode != 0:
                say(f"{source.name}: exited with status {completed.returncode}; its claims read 'not run'")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(rows: list[Row], results_root: str | Path) -> str:
    """CLAIMS.md: the table, then each row's rule, conditions and note."""
    table = [
        {
            "claim": f"**{row.claim.id}** {row.claim.claim}",
            "setting": _setting(row),
            "measurement [95% CI]": row.measurement,
            "verdict": f"**{row.verdict.split(':')[0]}**",
            "command": f"`{row.claim.command}`",
        }
        for row in rows
    ]
    lines = [
        "# Claims ledger",
        "",
        "Which claims of the LAD paper (Li & Li, arXiv 2602.20132) hold in this suite, and the suite's own "
        f"findings, each measured on the results in `{results_root}/` and judged by the rule stated with it. "
        "Generated by `ladbench claims` (do not edit by hand; `ladbench claims --run` first computes the results "
        "that are missing and can run on this machine).",
        "",
        "Numbers are the interquartile mean (IQM) over seeds with a 95% stratified bootstrap interval, or "
        "rliable's probability of improvement P(X better than Y) with its interval (`ladbench.stats`). "
        "Verdicts: **reproduced** (the rule holds in every condition checked), **reproduced only under** "
        "<condition>, **refuted**, **not testable here** (with why), **not run** (the results are not on disk; "
        "the command produces them).",
        "",
        markdown_table(pd.DataFrame([{key: _cell(value) for key, value in entry.items()} for entry in table])),
        "",
        "## Rules, conditions and notes",
    ]
    for row in rows:
        lines += [
            "",
            f"### {row.claim.id} ({row.claim.origin})",
            "",
            row.claim.claim,
            "",
            f"- **Verdict:** {row.verdict}",
            f"- **Rule:** {row.claim.rule}",
            f"- **Reads:** {', '.join(f'`{results_root}/{s.name}`' for s in row.claim.sources) or 'nothing'}",
        ]
        lines += [f"- {c.name}: {c.measurement} ({CONDITION_WORDS[c.holds]})" for c in row.conditions]
        if row.note:
            lines.append(f"- **Note:** {row.note}")
    return "\n".join(lines) + "\n"


def _setting(row: Row) -> str:
    if not row.seeds:
        return row.claim.setting
    seeds = "/".join(map(str, row.seeds))
    return f"{row.claim.setting}; {seeds} seed{'s' if row.seeds != (1,) else ''}"


def ledger_json(rows: list[Row], results_root: str | Path) -> dict[str, Any]:
    return {"schema": SCHEMA, "results": str(results_root), "claims": [row.as_json() for row in rows]}


def check_ledger_overwrite(rows: list[Row], out_dir: str | Path, force: bool = False) -> list[str]:
    """Compare ``rows`` with the ledger already in ``out_dir`` (its claims.json), before it is
    replaced: a claim measured there that would read "not run" (its results are not on disk here,
    e.g. in a fresh clone or under a mistyped ``--results``) is refused in one line naming those
    claims, unless ``force``. Returns one line per claim whose verdict changes (``id: old -> new``;
    not between two "not run" verdicts, whose reasons name the results root)."""
    path = Path(out_dir) / JSON_FILE
    if not path.is_file():
        return []
    committed = _committed_rows(out_dir)
    if committed is None:
        if force:
            return [f"{path} was not a readable ledger"]
        raise UserError(
            f"--out {str(out_dir)!r}: {path} is not a readable ledger; pass --force to replace it"
        ) from None
    changed, lost = [], []
    for row in rows:
        before = committed.get(row.claim.id)
        if before is None:
            changed.append(f"{row.claim.id}: new -> {row.verdict}")
            continue
        both_not_run = row.kind == NOT_RUN and before.get("verdict_kind") == NOT_RUN  # only the reason may differ
        if before.get("verdict") != row.verdict and not both_not_run:
            changed.append(f"{row.claim.id}: {before.get('verdict')} -> {row.verdict}")
        if row.kind == NOT_RUN and before.get("verdict_kind") != NOT_RUN:
            lost.append(row.claim.id)
    if lost and not force:
        raise UserError(
            f"--out {str(out_dir)!r}: the ledger there has measured verdicts that would become 'not run' "
            f"({len(lost)}: {', '.join(lost)}): their results are not under --results; run `ladbench claims "
            "--run`, give another --out, or pass --force to replace it"
        )
    return changed


CARRIED = "carried over from the previous ledger: its results are not under the results root here"


def _committed_rows(out_dir: str | Path) -> dict[str, dict[str, Any]] | None:
    """The claims of the ledger (claims.json) in ``out_dir`` by id; None if it is absent or unreadable."""
    try:
        return {claim["id"]: claim for claim in json.loads((Path(out_dir) / JSON_FILE).read_text())["claims"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def keep_unrun(rows: list[Row], out_dir: str | Path) -> tuple[list[Row], list[str]]:
    """``rows`` with each "not run" row replaced by the previous ledger's measured row for that claim
    (in ``out_dir``), its note saying it was carried over, so that updating the ledger on a machine
    that has only some of the results keeps the others' last measurement. The claim's text, rule and
    setting are today's; the verdict, measurement, conditions and seeds are the ledger's. Returns
    the rows and the ids carried."""
    committed = _committed_rows(out_dir)
    if committed is None:
        raise UserError(f"--keep-unrun: {Path(out_dir) / JSON_FILE} is not a readable ledger to keep rows from")
    kept, carried = [], []
    for row in rows:
        before = committed.get(row.claim.id)
        if row.kind != NOT_RUN or before is None or before.get("verdict_kind") == NOT_RUN:
            kept.append(row)
            continue
        conditions = tuple(
            Condition(c["name"], c["holds"], c["measurement"], dict(c.get("tags", {})))
            for c in before.get("conditions", [])
        )
        note = before.get("note", "")
        note = note if CARRIED in note else " ".join(part for part in (note, f"({CARRIED}.)") if part)
        kept.append(
            Row(row.claim, before["verdict"], before["measurement"], note, conditions, tuple(before.get("seeds", ())))
        )
        carried.append(row.claim.id)
    return kept, carried


def write_ledger(rows: list[Row], out_dir: str | Path, results_root: str | Path) -> list[Path]:
    """CLAIMS.md and claims.json in ``out_dir``, each written atomically."""
    out_dir = Path(out_dir)
    paths = [out_dir / MARKDOWN_FILE, out_dir / JSON_FILE]
    io.write_text(paths[0], markdown(rows, results_root))
    io.write_json(paths[1], ledger_json(rows, results_root))
    return paths
