"""The claims, as data: every claim of the LAD paper that the suite can test, and the suite's own
findings, each with its setting, its verdict rule (thresholds stated here, before any number is
read) and the measurement that reads its results.

Sources of the paper's claims: Li & Li, "LAD: Learning Advantage Distribution for Reasoning"
(arXiv 2602.20132), as summarised in the project's reference notes ("Known from the paper").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ladbench.claims.evidence import (
    Evidence,
    NotRun,
    Source,
    estimate_of,
    fmt,
    improvement,
    iqm,
    per_seed_tv,
    truth_entropy,
)
from ladbench.claims.ledger import Claim, Condition, Finding, collect
from ladbench.losses.divergences import GENERATORS
from ladbench.stats import Estimate, probability_of_improvement

# Where the evidence lives.
PROTOCOL = Source("protocol_study", "experiments/protocol_study.toml")
FDIV = Source("fdiv_sweep", "experiments/fdiv_sweep.toml")
ETA = Source("eta_ablation", "experiments/eta_ablation.toml")
FINDINGS = Source("findings", "experiments/findings.toml")
BASELINES = Source("baselines", "experiments/baselines.toml")
LLM_BETWEEN = Source(
    "llm_between",
    "experiments/llm/between.toml",
    local=False,
    command_hint="ladbench sweep experiments/llm/between.toml --executor ray",
)
LLM_CPU = Source(
    "llm_cpu",
    "experiments/llm/cpu.toml",
    local=False,  # about 45 minutes on 2 cores: named, not run by --run
    command_hint="OMP_NUM_THREADS=1 ladbench sweep experiments/llm/cpu.toml --workers 2",
)
MINILM = Source(
    "llm_minilm",
    "experiments/llm/minilm.toml",
    local=False,  # about an hour on 2 shared cores: named, not run by --run
    command_hint="OMP_NUM_THREADS=1 ladbench sweep experiments/llm/minilm.toml --workers 2",
)
STEP_COST = Source("llm_step_cost", script=("benchmarks/llm_step_speed.py", "--threads", "1", "--out", "{out}"))

# Thresholds of the verdict rules (fixed before the results were read; each rule states its own).
RECOVERED_TV = 0.1  # "recovers the distribution": TV to target below this (collapse onto one mode gives ~0.9)
CONVERGED_TV = 0.01  # "reaches its target" (exact estimator): TV to target below this
SAME_TV = 0.01  # "reaches the same distribution": TV between the two final policies below this
COLLAPSED_MAX_PROB = 0.9  # "puts its mass on a single arm": max probability above this
ONE_MODE = 1 / 3  # mode coverage of a policy left on one of the three modes
ONE_ARMED_MAX_PROB = 0.5  # "nearly one-armed": half of the mass or more on one arm of 50
CLIP_REACH = 1.3  # GRPO frozen by its clip: max probability below 1.3 / K (the clip allows 1.2 / K from uniform)
ENTROPY_KEPT = 0.9  # "keeps its entropy": at least this share of the ground truth's entropy
COST_RATIO = 1.05  # "costs no more": LAD / GRPO time at most this (the benchmark's own target)
EVEN = 0.5  # P(X better than Y): better when its interval lies above this, worse when below
MINILM_COLLAPSED = 0.5  # mini-LM "collapses": effective answers IQM at most this share of the base model's
MINILM_MATCHED = 0.8  # mini-LM diversity at matched accuracy: read where exact accuracy first reaches this
MINILM_MIN_RUNS = 5  # ... among at least this many runs of each objective that reach it
MINILM_AMPLIFIED = 0.1  # mini-LM format amplification: a format's share rises by at least this over the base's

PAPER_DIVERGENCES = ("js", "kl", "rkl", "tv", "hd", "jf")  # the paper's ablation (ps is not in it)
STRICT, NON_STRICT = ("tv", "hd", "js"), ("kl", "rkl", "jf")  # the paper's grouping
# the generators' own facts (ladbench/losses/divergences.py), the paper's ablation first
GENERATOR_ORDER = (*PAPER_DIVERGENCES, *(name for name in GENERATORS if name not in PAPER_DIVERGENCES))
STRICTLY_CONVEX = tuple(name for name in GENERATOR_ORDER if GENERATORS[name].strictly_convex)
DIVERGENCE_NAMES = {name: GENERATORS[name].label for name in GENERATOR_ORDER}
ESTIMATORS = ("exact", "sampled")
PROTOCOLS = {
    "fixed": "fixed",
    "k=100": "refreshed every 100 steps",
    "k=10": "refreshed every 10 steps",
    "k=1": "refreshed every step",
}  # protocol_study's pi_old labels
PHRASES = {
    ("pi_old", "fixed"): "a fixed pi_old",
    ("pi_old", "refreshed every step"): "on-policy training (pi_old refreshed every step)",
    ("estimator", "exact"): "the exact estimator",
    ("estimator", "sampled"): "the sampled estimator",
}
BANDIT = "trimodal bandit (50 arms), 4000 Adam steps at lr 5e-3"
LLM_CPU_DEMO = "At CPU size (llm_cpu_size: 20 steps, 5 seeds) the intervals of LAD-JS and GRPO overlap on every metric."


def _holds_p(result: Estimate) -> bool | None:
    """A comparison decided by its interval: True above EVEN, False below, None when it contains it."""
    low, high = (result.low, result.high) if result.has_interval else (result.value, result.value)
    return True if low > EVEN else False if high < EVEN else None


def _full(result: Estimate) -> bool:
    return result.value >= 1 - 1e-9


def _recovery(rows: pd.DataFrame) -> tuple[bool, str]:
    coverage, tv = iqm(rows, "mode_coverage"), iqm(rows, "tv_target")
    return _full(coverage) and tv.value < RECOVERED_TV, f"coverage {fmt(coverage)}, TV to target {fmt(tv)}"


# ---------------------------------------------------------------- the paper's claims

EXTREMES = [(estimator, label) for estimator in ESTIMATORS for label in ("fixed", "k=1")]


def bandit_recovery(evidence: Evidence) -> Finding:
    def build(estimator: str, label: str) -> Condition:
        holds, text = _recovery(evidence.rows(PROTOCOL, method="lad", estimator=estimator, pi_old=label))
        return Condition(
            f"{estimator}, pi_old {PROTOCOLS[label]}", holds, text, {"estimator": estimator, "pi_old": PROTOCOLS[label]}
        )

    conditions, missing = collect(build, EXTREMES)
    return Finding(conditions, missing=missing)


def grpo_collapse(evidence: Evidence) -> Finding:
    def build(estimator: str, label: str) -> Condition:
        rows = evidence.rows(PROTOCOL, method="grpo", estimator=estimator, pi_old=label)
        top, coverage = iqm(rows, "max_prob"), iqm(rows, "mode_coverage")
        return Condition(
            f"{estimator}, pi_old {PROTOCOLS[label]}",
            top.value > COLLAPSED_MAX_PROB,
            f"max prob {fmt(top)}, coverage {fmt(coverage)}",
            {"estimator": estimator, "pi_old": PROTOCOLS[label]},
        )

    conditions, missing = collect(build, EXTREMES)
    return Finding(conditions, missing=missing)


def _generator_tasks(evidence: Evidence, divergences: tuple[str, ...]) -> list[np.ndarray]:
    """Per eta of fdiv_sweep (the tasks), the pooled final TV to target of ``divergences``' runs."""
    rows = evidence.rows(FDIV, divergence=list(divergences))
    return [group["tv_target"].to_numpy(dtype=float) for _, group in rows.groupby("eta", sort=True)]


def js_best_bandit(evidence: Evidence) -> Finding:
    def build(other: str) -> Condition:
        result = improvement(_generator_tasks(evidence, ("js",)), _generator_tasks(evidence, (other,)), "tv_target")
        return Condition(
            f"JS vs {DIVERGENCE_NAMES[other]}",
            _holds_p(result),
            f"P {fmt(result)}",
            {"against": DIVERGENCE_NAMES[other]},
        )

    conditions, missing = collect(build, [(name,) for name in PAPER_DIVERGENCES if name != "js"])
    return Finding(
        conditions,
        missing=missing,
        measurement="P(LAD-JS closer to its target than X), 7 etas as tasks: "
        + "; ".join(f"{c.name.removeprefix('JS vs ')} {c.measurement.removeprefix('P ')}" for c in conditions),
        note="On the bandit every strictly convex generator reaches its target (generator_convergence), so "
        "this ranks the distance left after 4000 steps, i.e. how fast each converges, not which distribution "
        "each reaches. The paper ranks the generators by LLM math accuracy, which the suite has not run for "
        "all six (llm_divergence).",
    )


def strict_beats_non_strict_bandit(evidence: Evidence) -> Finding:
    result = improvement(_generator_tasks(evidence, STRICT), _generator_tasks(evidence, NON_STRICT), "tv_target")
    condition = Condition("TV, HD, JS vs KL, rKL, JF", _holds_p(result), f"P {fmt(result)}")
    return Finding(
        (condition,),
        measurement=f"P(strict closer to target than non-strict), 7 etas as tasks: {fmt(result)}",
        note="TV, one of the 'strict' three, is not strictly convex and stalls "
        "(generator_convergence); the others' lead is in how fast they converge (js_best_bandit).",
    )


def generator_convergence(evidence: Evidence) -> Finding:
    def build(divergence: str) -> Condition:
        tv = iqm(evidence.rows(FDIV, divergence=divergence, eta=1.0), "tv_target")
        convex = divergence in STRICTLY_CONVEX
        return Condition(
            f"{DIVERGENCE_NAMES[divergence]} ({'reaches' if convex else 'stalls'})",
            (tv.value < CONVERGED_TV) == convex,
            f"TV to target {fmt(tv)}",
            {"generator": DIVERGENCE_NAMES[divergence]},
        )

    conditions, missing = collect(build, [(name,) for name in DIVERGENCE_NAMES])
    return Finding(
        conditions,
        missing=missing,
        note="TV's f'(x) = sign(x - 1) / 2 is constant wherever every x lies "
        "on one side of 1, so its optimum is not unique.",
    )


def loss_cost(evidence: Evidence) -> Finding:
    record, timings = evidence.benchmark(STEP_COST, "timings.csv")
    config = record["config"]
    conditions = []
    for part, name in (
        (
            "step",
            f"training step ({config['model']}, {config['batch']} sequences x {config['completion_tokens']} tokens)",
        ),
        ("loss", f"loss alone ({config['loss_shape'][0]} x {config['loss_shape'][1]} tokens)"),
    ):
        rows = timings[timings["part"] == part].sort_values("repeat")
        lad = rows[rows["loss"] == "lad"]["cpu_s"].to_numpy(dtype=float)
        grpo = rows[rows["loss"] == "grpo"]["cpu_s"].to_numpy(dtype=float)
        ratio = estimate_of(lad / grpo)
        conditions.append(
            Condition(
                name,
                ratio.value <= COST_RATIO,
                f"LAD-JS / GRPO CPU time {fmt(ratio)} (medians {np.median(lad):.3g} s vs "
                f"{np.median(grpo):.3g} s, {len(lad)} pairs)",
                {"level": part},
            )
        )
    return Finding(
        tuple(conditions),
        note=f"CPU, {config['threads']} torch thread(s), each pair of calls alternating "
        f"the two losses in one process; load average {config['load_average']:.1f} at the start. The "
        "interval is over the paired repetitions, not over seeds.",
    )


def _llm_comparison(
    evidence: Evidence, x: str, y: str, metrics: tuple[str, ...], source: Source = LLM_BETWEEN
) -> Finding:
    first, second = evidence.rows(source, label=x), evidence.rows(source, label=y)

    def build(metric: str) -> Condition:
        result = improvement([first[metric].to_numpy(dtype=float)], [second[metric].to_numpy(dtype=float)], metric)
        return Condition(metric, _holds_p(result), f"P({x} > {y}) {fmt(result)}", {"metric": metric})

    return Finding(tuple(build(metric) for metric in metrics))


def llm_accuracy(evidence: Evidence) -> Finding:
    return _llm_comparison(evidence, "LAD-JS", "GRPO", ("avg_at_k", "pass_at_k"))


def llm_diversity(evidence: Evidence) -> Finding:
    return _llm_comparison(evidence, "LAD-JS", "GRPO", ("dist_3", "dist_4"))


def llm_divergence(evidence: Evidence) -> Finding:
    return _llm_comparison(evidence, "LAD-JS", "LAD-KL", ("avg_at_k", "pass_at_k"))


def llm_cpu_size(evidence: Evidence) -> Finding:
    return _llm_comparison(
        evidence, "LAD-JS", "GRPO", ("avg_at_k", "pass_at_k", "coverage", "distinct_correct", "dist_4"), LLM_CPU
    )


MINILM_NOTE = (
    "From the mini-LM (a 279k-parameter Llama pretrained here on a `between` corpus with a known answer "
    "prior; docs/llm.md, 'The mini-LM track'), not from SmolLM2: it speaks for a small transformer trained "
    "with the LLM protocol and evaluated exactly, not for 7B models on math."
)
MINILM_SETTING = (
    "mini-LM on `between`, 20 steps of 16 prompts x 8 (lr 5e-4, beta 0), on-policy and PPO x2; exact "
    "evaluation on 32 held-out prompts"
)


def _minilm(evidence: Evidence):
    """The mini-LM sweep's exact results, loaded once per ledger and only when every cell finished."""
    cached = getattr(evidence, "_minilm", None)
    if cached is not None:
        return cached
    from ladbench import layout
    from ladbench.llm_analysis.minilm import load_minilm
    from ladbench.sweep import store

    directory = MINILM.directory(evidence.root)
    if not (directory / layout.SWEEP_FILE).is_file():
        raise NotRun(f"no results in {directory}")
    results = load_minilm(directory)
    expected = len(store.read_sweep_record(directory).get("cells", []))
    finished = results.runs.groupby(["objective", "protocol", "seed"]).ngroups
    if finished < expected:
        raise NotRun(f"{finished} of the {expected} cells of {directory} have finished")
    evidence.seeds_read |= set(results.final.groupby(["objective", "protocol"])["seed"].nunique())
    evidence._minilm = results
    return results


def _minilm_p(results, x: str, y: str, protocol: str, metric: str, higher: bool, final=None) -> Estimate:
    frame = results.final if final is None else final
    first = frame[(frame["objective"] == x) & (frame["protocol"] == protocol)][metric].dropna()
    second = frame[(frame["objective"] == y) & (frame["protocol"] == protocol)][metric].dropna()
    if first.empty or second.empty:
        raise NotRun(f"no finished {x} or {y} cell under {protocol} with {metric}")
    return probability_of_improvement([first.to_numpy(dtype=float)], [second.to_numpy(dtype=float)], higher)


def _protocols(results) -> list[str]:
    from ladbench.llm_analysis.minilm import protocols

    return protocols(results)


def minilm_accuracy(evidence: Evidence) -> Finding:
    results = _minilm(evidence)
    conditions = []
    for protocol in _protocols(results):
        p = _minilm_p(results, "LAD-JS", "GRPO", protocol, "exact_accuracy", True)
        conditions.append(
            Condition(protocol, _holds_p(p), f"P(LAD-JS > GRPO) on exact accuracy {fmt(p)}", {"protocol": protocol})
        )
    return Finding(tuple(conditions))


def minilm_diversity(evidence: Evidence) -> Finding:
    results = _minilm(evidence)
    conditions = []
    for protocol in _protocols(results):
        for metric, higher, words in (
            ("exact_effective_answers", True, "more effective answers"),
            ("exact_tv_base", False, "closer to the filtered base (TV)"),
        ):
            p = _minilm_p(results, "LAD-JS", "GRPO", protocol, metric, higher)
            conditions.append(
                Condition(
                    f"{protocol}, {metric}",
                    _holds_p(p),
                    f"P(LAD-JS {words} than GRPO) {fmt(p)}",
                    {"protocol": protocol, "metric": metric},
                )
            )
    return Finding(tuple(conditions))


def minilm_matched_diversity(evidence: Evidence) -> Finding:
    from ladbench.llm_analysis.minilm import matched_points

    results = _minilm(evidence)
    points = matched_points(results, (MINILM_MATCHED,))
    reached = points[points["reached"]]
    conditions = []
    for protocol in _protocols(results):
        counts = {
            name: int(((reached["objective"] == name) & (reached["protocol"] == protocol)).sum())
            for name in ("LAD-JS", "GRPO")
        }
        if min(counts.values()) < MINILM_MIN_RUNS:
            conditions.append(
                Condition(
                    protocol,
                    None,
                    f"too few runs reach exact accuracy {MINILM_MATCHED} (LAD-JS {counts['LAD-JS']}, GRPO "
                    f"{counts['GRPO']})",
                    {"protocol": protocol},
                )
            )
            continue
        p = _minilm_p(results, "LAD-JS", "GRPO", protocol, "exact_effective_answers", True, reached)
        conditions.append(
            Condition(
                protocol,
                _holds_p(p),
                f"P(LAD-JS > GRPO) on effective answers at exact accuracy {MINILM_MATCHED} {fmt(p)} "
                f"(runs reaching it: LAD-JS {counts['LAD-JS']}, GRPO {counts['GRPO']})",
                {"protocol": protocol},
            )
        )
    return Finding(tuple(conditions))


def minilm_on_policy_collapse(evidence: Evidence) -> Finding:
    results = _minilm(evidence)
    base = float(results.base["exact_effective_answers"])
    final = results.final[results.final["protocol"] == "on-policy"]
    conditions = []
    for name in ("GRPO", "LAD-JS"):
        effective = estimate_of(final[final["objective"] == name]["exact_effective_answers"].dropna())
        conditions.append(
            Condition(
                f"{name} collapses",
                effective.value <= MINILM_COLLAPSED * base,
                f"{name} effective answers {fmt(effective)} vs the base's {base:.3g}",
                {"objective": name},
            )
        )
    p = _minilm_p(results, "LAD-JS", "GRPO", "on-policy", "exact_effective_answers", True)
    conditions.append(
        Condition(
            "LAD-JS no more diverse than GRPO",
            _holds_p(p) is not True,  # the rule: its interval does not lie above 0.5
            f"P(LAD-JS > GRPO) on effective answers {fmt(p)}",
        )
    )
    return Finding(tuple(conditions))


def minilm_pass_at_k_crossover(evidence: Evidence) -> Finding:
    from ladbench.llm_analysis.minilm import crossovers

    results = _minilm(evidence)
    table = crossovers(results)
    conditions = []
    for curve in ("pass@k", "distinct correct"):
        for _, row in table[table["objective"].isin(["GRPO", "LAD-JS"])].iterrows():
            k = row[f"crossover k ({curve})"]
            found = k is not None and not pd.isna(k)
            conditions.append(
                Condition(
                    f"{row['objective']}, {row['protocol']}, {curve}",
                    found,
                    f"base above from k = {int(k) if found else 'never (k <= 256)'}",
                    {"curve": curve},
                )
            )
    return Finding(tuple(conditions))


def minilm_format_amplification(evidence: Evidence) -> Finding:
    results = _minilm(evidence)
    base = results.base
    formats = sorted(column for column in results.runs if column.startswith("exact_share_"))
    conditions = []
    for protocol in _protocols(results):
        for name in ("GRPO", "LAD-JS"):
            runs = results.final[(results.final["objective"] == name) & (results.final["protocol"] == protocol)]
            shares = {column: estimate_of(runs[column].dropna()) for column in formats}
            column = max(shares, key=lambda c: shares[c].value)
            share = shares[column]
            low = share.low if share.has_interval else share.value
            amplified = share.value - base[column] >= MINILM_AMPLIFIED and low > base[column]
            conditions.append(
                Condition(
                    f"{name}, {protocol}",
                    amplified,
                    f"{column.removeprefix('exact_share_')} share {fmt(share)} vs the base's {base[column]:.3g}",
                    {"protocol": protocol},
                )
            )
    return Finding(tuple(conditions))


def llm_reported_numbers(evidence: Evidence) -> Finding:
    return Finding(
        measurement="none",
        verdict="not testable here: the paper's numbers are for Qwen2.5-7B and "
        "DeepSeek-R1-Distill-7B trained on DAPO-MATH and DeepCoder data and evaluated on MATH500, AIME, AMC, "
        "OlympiadBench, Minerva, LiveCodeBench; none of these models or data sets is available here (the "
        "LLM track trains SmolLM2-135M offline)",
    )


def no_entropy_bonus(evidence: Evidence) -> Finding:
    def build(estimator: str, label: str) -> Condition:
        where = {"method": "lad", "estimator": estimator, "pi_old": label}
        rows = evidence.rows(PROTOCOL, **where)
        target = ENTROPY_KEPT * truth_entropy(evidence.rows(PROTOCOL, "policy", **where))
        entropy, coverage = iqm(rows, "entropy"), iqm(rows, "mode_coverage")
        return Condition(
            f"{estimator}, pi_old {PROTOCOLS[label]}",
            entropy.value >= target and _full(coverage),
            f"entropy {fmt(entropy)} nats (needs >= {target:.3g}), coverage {fmt(coverage)}",
            {"estimator": estimator, "pi_old": PROTOCOLS[label]},
        )

    conditions, missing = collect(build, EXTREMES)
    anchored = iqm(evidence.rows(PROTOCOL, method="entropy_pg", estimator="exact", pi_old="k=1"), "entropy")
    return Finding(
        conditions,
        missing=missing,
        note=f"On-policy, entropy-PG (whose entropy term anchors it) keeps "
        f"{fmt(anchored)} nats with the exact estimator.",
    )


def eta_ablation(evidence: Evidence) -> Finding:
    distances: dict[str, list] = {"fixed": [], "refreshed every step": []}

    def build(label: str, protocol: str, eta: float) -> Condition:
        tv = iqm(evidence.rows(ETA, pi_old=label, eta=eta), "tv_target")
        distances[protocol].append(tv)
        return Condition(
            f"eta {eta:g}, pi_old {protocol}",
            tv.value < CONVERGED_TV,
            f"TV to target {fmt(tv)}",
            {"pi_old": protocol, "eta": eta},
        )

    etas = evidence.results(ETA).axes["eta"]
    conditions, missing = collect(
        build,
        [
            (label, protocol, eta)
            for label, protocol in (("fixed", "fixed"), ("refresh k=1", "refreshed every step"))
            for eta in etas
        ],
    )
    summary = [
        f"pi_old {protocol}: TV to target from {fmt(min(tvs, key=lambda e: e.value))} to "
        f"{fmt(max(tvs, key=lambda e: e.value))} over {len(tvs)} etas"
        for protocol, tvs in distances.items()
        if tvs
    ]
    entropy = iqm(evidence.rows(ETA, pi_old="refresh k=1"), "entropy")
    return Finding(
        conditions,
        missing=missing,
        measurement="; ".join(summary),
        note=f"On-policy the entropy of every eta's runs pooled is {fmt(entropy)} nats. The paper's ablation "
        "reports LLM accuracy over the temperature, which the suite has not run (no LLM eta sweep).",
    )


# ---------------------------------------------------------------- the suite's findings


def protocol_dependence(evidence: Evidence) -> Finding:
    def build(estimator: str, label: str) -> Condition:
        rows = evidence.rows(PROTOCOL, method="lad", estimator=estimator, pi_old=label)
        coverage, truth = iqm(rows, "mode_coverage"), iqm(rows, "tv_truth")
        holds = _recovery(rows)[0] if label == "fixed" else coverage.value <= ONE_MODE + 1e-9
        return Condition(
            f"{estimator}, pi_old {PROTOCOLS[label]}",
            holds,
            f"coverage {fmt(coverage)}, TV to truth {fmt(truth)}",
            {"estimator": estimator, "pi_old": PROTOCOLS[label]},
        )

    conditions, missing = collect(build, [(estimator, label) for estimator in ESTIMATORS for label in PROTOCOLS])
    return Finding(conditions, missing=missing)


def entropy_pg_equivalence(evidence: Evidence) -> Finding:
    def build(name: str, tags: dict, source: Source, lad: dict, entropy_pg: dict) -> Condition:
        tv = estimate_of(
            per_seed_tv(evidence.rows(source, "policy", **lad), evidence.rows(source, "policy", **entropy_pg))
        )
        return Condition(name, tv.value < SAME_TV, f"TV(LAD-JS, entropy-PG) {fmt(tv)}", tags)

    lad, entropy_pg = {"objective": "LAD-JS (eta 1)"}, {"objective": "entropy-PG (coef 1)"}
    on_policy = {"estimator": "exact", "pi_old": "k=1"}
    conditions, missing = collect(
        build,
        [
            (
                "pi_old fixed at the uniform initial policy",
                {"init": "uniform", "pi_old": "fixed"},
                FINDINGS,
                {**lad, "init": "uniform"},
                {**entropy_pg, "init": "uniform"},
            ),
            (
                "pi_old fixed at a random initial policy (std 0.1)",
                {"init": "random", "pi_old": "fixed"},
                FINDINGS,
                {**lad, "init": "random"},
                {**entropy_pg, "init": "random"},
            ),
            (
                "on-policy (pi_old refreshed every step), random init",
                {"init": "random", "pi_old": "refreshed every step"},
                PROTOCOL,
                {"method": "lad", **on_policy},
                {"method": "entropy_pg", **on_policy},
            ),
        ],
    )
    return Finding(
        conditions,
        missing=missing,
        note="With pi_old fixed, LAD's fixed point pi_old exp(A / eta) / Z "
        "carries pi_old's shape; entropy-PG's exp(A / coef) / Z does not depend on pi_old, so the two agree "
        "only when pi_old is uniform, and on-policy only entropy-PG keeps the modes.",
    )


def flowrl_beta(evidence: Evidence) -> Finding:
    def build(beta: int, init: str) -> Condition:
        rows = evidence.rows(FINDINGS, objective=f"FlowRL (beta {beta})", init=init)
        if beta == 15:
            top, coverage = iqm(rows, "max_prob"), iqm(rows, "mode_coverage")
            return Condition(
                f"beta 15, {init} init",
                coverage.value <= ONE_MODE + 1e-9 and top.value > ONE_ARMED_MAX_PROB,
                f"max prob {fmt(top)}, coverage {fmt(coverage)}",
                {"beta": 15, "init": init},
            )
        truth, coverage = iqm(rows, "tv_truth"), iqm(rows, "mode_coverage")
        return Condition(
            f"beta 1 = 1/eta, {init} init",
            truth.value < CONVERGED_TV and _full(coverage),
            f"TV to truth {fmt(truth)}, coverage {fmt(coverage)}",
            {"beta": 1, "init": init},
        )

    conditions, missing = collect(build, [(beta, init) for beta in (15, 1) for init in ("uniform", "random")])
    return Finding(conditions, missing=missing)


def grpo_clip_freeze(evidence: Evidence) -> Finding:
    where = {"objective": "GRPO (clip 0.2)", "init": "uniform"}
    rows, policy = evidence.rows(FINDINGS, **where), evidence.rows(FINDINGS, "policy", **where)
    arms = policy.groupby("seed")["arm"].nunique().iloc[0]
    top = estimate_of(policy.groupby("seed")["prob"].max().to_numpy() * arms)
    bottom = estimate_of(policy.groupby("seed")["prob"].min().to_numpy() * arms)
    target = iqm(rows, "tv_target")
    condition = Condition(
        "pi_old fixed at the uniform initial policy, exact",
        top.value < CLIP_REACH and target.value > COLLAPSED_MAX_PROB,
        f"max prob x K {fmt(top)}, min prob x K {fmt(bottom)}, TV to its target (the best arm) {fmt(target)}",
        {"init": "uniform"},
    )
    return Finding(
        (condition,),
        note="The clip stops an arm's own gradient once pi / pi_old leaves [0.8, 1.2] in "
        "the direction of its advantage; through the softmax the arms still inside keep moving the others, so "
        "the extremes end somewhat past the bounds. Exact estimator from a uniform init: every seed is the "
        "same run, hence no interval.",
    )


def baselines_on_policy(evidence: Evidence) -> Finding:
    rows = evidence.rows(BASELINES, pi_old="refresh")

    def build(label: str, group: pd.DataFrame) -> Condition:
        coverages = {estimator: iqm(cell, "mode_coverage") for estimator, cell in group.groupby("estimator", sort=True)}
        return Condition(
            str(label),
            all(_full(coverage) for coverage in coverages.values()),
            "coverage " + ", ".join(f"{estimator} {fmt(c)}" for estimator, c in coverages.items()),
            {"objective": label},
        )

    conditions, missing = collect(build, list(rows.groupby("loss", sort=False)))
    kept = [c.name for c in conditions if c.holds]
    return Finding(
        conditions,
        missing=missing,
        measurement=f"coverage = 1 with pi_old refreshed every step (exact and "
        f"sampled): {', '.join(kept) or 'none'} of {len(conditions)} objectives; "
        + "; ".join(f"{c.name}: {c.measurement}" for c in conditions),
    )


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "bandit_recovery",
        "On the trimodal bandit LAD recovers the multimodal advantage distribution (all three modes).",
        "paper",
        f"{BANDIT}; LAD-JS, eta 1; exact and sampled (G 8); pi_old fixed vs refreshed every step",
        f"recovered where mode coverage IQM = 1 and TV to target IQM < {RECOVERED_TV}",
        (PROTOCOL,),
        bandit_recovery,
        PHRASES,
        cheap=True,
        note="The paper does not say whether its bandit held pi_old fixed. On-policy LAD-JS "
        "ends on the best mode, as GRPO does (protocol_dependence).",
    ),
    Claim(
        "grpo_collapse",
        "GRPO puts its mass on a single arm.",
        "paper",
        f"{BANDIT}; GRPO (clip 0.2); exact and sampled (G 8); pi_old fixed vs refreshed every step",
        f"collapsed where max probability IQM > {COLLAPSED_MAX_PROB}",
        (PROTOCOL,),
        grpo_collapse,
        PHRASES,
        cheap=True,
        note="Under a fixed pi_old GRPO's clip freezes it near its initial policy (grpo_clip_freeze): the collapse "
        "the paper reports is that of on-policy GRPO.",
    ),
    Claim(
        "js_best_bandit",
        "JS is the best of the divergences (bandit: how closely LAD matches its target).",
        "paper",
        f"{BANDIT}; LAD with KL, rKL, JF, TV, HD, JS; eta in 0.25..16 (7 tasks); exact; pi_old fixed",
        f"JS better than X where the 95% interval of P(JS's TV to target < X's) lies above {EVEN}, worse where below",
        (FDIV,),
        js_best_bandit,
        {("against", name): f"the comparison with {name}" for name in DIVERGENCE_NAMES.values()},
        cheap=True,
    ),
    Claim(
        "strict_beats_non_strict_bandit",
        "The 'strict' divergences (TV, HD, JS) beat KL, rKL and JF (bandit: how closely LAD matches its target).",
        "paper",
        f"{BANDIT}; LAD, generators pooled by group; eta in 0.25..16 (7 tasks); exact; pi_old fixed",
        f"reproduced where the 95% interval of P(strict closer to target than non-strict) lies above {EVEN}, "
        "refuted where below",
        (FDIV,),
        strict_beats_non_strict_bandit,
        cheap=True,
    ),
    Claim(
        "generator_convergence",
        "Every strictly convex generator brings LAD to its target; TV, which is not strictly convex, stalls.",
        "suite",
        f"{BANDIT}; LAD with each of the 7 generators, eta 1; exact; pi_old fixed",
        f"reaches where TV to target IQM < {CONVERGED_TV}",
        (FDIV,),
        generator_convergence,
        cheap=True,
    ),
    Claim(
        "llm_divergence",
        "On LLM math JS beats the non-strict divergences (here: LAD-JS vs LAD-KL, the two in the LLM sweep).",
        "paper",
        "SmolLM2-135M on `between`, 100 steps of 16 prompts x 8, Avg@64 / Pass@64 on 32 held-out prompts; 5 seeds",
        f"per metric, reproduced where the 95% interval of P(LAD-JS > LAD-KL) lies above {EVEN}, refuted where below",
        (LLM_BETWEEN,),
        llm_divergence,
        note="The LLM sweep has LAD-JS and LAD-KL only: TV, HD, rKL and JF on an LLM are not run. " + LLM_CPU_DEMO,
    ),
    Claim(
        "loss_cost",
        "LAD costs no more than GRPO.",
        "paper",
        "one process, CPU: SmolLM2-135M training step "
        "(forward, loss, backward, clip, AdamW) and the loss alone (forward and backward) on LLM-shaped tensors",
        f"costs no more where the IQM of the paired LAD-JS / GRPO CPU-time ratio is <= {COST_RATIO}",
        (STEP_COST,),
        loss_cost,
        {("level", "step"): "a whole training step (the loss alone costs more)"},
    ),
    Claim(
        "llm_accuracy",
        "LAD improves accuracy over GRPO in LLM training.",
        "paper",
        "SmolLM2-135M on `between`, 100 steps of 16 prompts x 8, Avg@64 / Pass@64 on 32 held-out prompts; 5 seeds",
        f"per metric, reproduced where the 95% interval of P(LAD-JS > GRPO) lies above {EVEN}, refuted where below",
        (LLM_BETWEEN,),
        llm_accuracy,
        note=LLM_CPU_DEMO,
    ),
    Claim(
        "llm_diversity",
        "LAD improves diversity (dist-n) over GRPO in LLM training.",
        "paper",
        "SmolLM2-135M on `between`, 100 steps of 16 prompts x 8, 64 samples on 32 held-out prompts; 5 seeds",
        f"per metric, reproduced where the 95% interval of P(LAD-JS > GRPO) lies above {EVEN}, refuted where below",
        (LLM_BETWEEN,),
        llm_diversity,
        note=LLM_CPU_DEMO,
    ),
    Claim(
        "llm_cpu_size",
        "LAD improves accuracy and answer diversity over GRPO in LLM training, already at CPU size.",
        "suite",
        "SmolLM2-135M on `between`, 20 steps of 4 prompts x 8 (top 6 blocks, lr 1e-4), "
        "Avg@16 / Pass@16 on 8 held-out prompts",
        f"per metric, reproduced where the 95% interval of P(LAD-JS > GRPO) lies above {EVEN}, refuted where below",
        (LLM_CPU,),
        llm_cpu_size,
        note="The CPU-sized benchmark (paper_figures/llm_cpu.md): the run directories (10 GB with checkpoints) are "
        "not committed, so a fresh clone reads this row as not run until the sweep is rerun.",
    ),
    Claim(
        "minilm_accuracy",
        "LAD improves accuracy over GRPO in LLM training (mini-LM, exact evaluation).",
        "paper",
        MINILM_SETTING,
        f"per protocol, reproduced where the 95% interval of P(LAD-JS > GRPO) on exact accuracy lies above {EVEN}, "
        "refuted where below",
        (MINILM,),
        minilm_accuracy,
        {("protocol", "on-policy"): "on-policy training", ("protocol", "PPO x2"): "PPO x2 (pi_old fixed per batch)"},
        note=MINILM_NOTE,
    ),
    Claim(
        "minilm_diversity",
        "LAD improves answer diversity over GRPO in LLM training (mini-LM: effective answers, TV to the "
        "filtered base).",
        "paper",
        MINILM_SETTING,
        f"per protocol and metric, reproduced where the 95% interval of P(LAD-JS better than GRPO) lies above "
        f"{EVEN} (more effective answers; lower TV to the base restricted to correct answers), refuted where below",
        (MINILM,),
        minilm_diversity,
        {
            ("protocol", "on-policy"): "on-policy training",
            ("protocol", "PPO x2"): "PPO x2 (pi_old fixed per batch)",
            ("metric", "exact_effective_answers"): "effective answers",
            ("metric", "exact_tv_base"): "TV to the filtered base",
        },
        note=MINILM_NOTE,
    ),
    Claim(
        "minilm_matched_diversity",
        "At matched accuracy LAD keeps more answers than GRPO (mini-LM).",
        "suite",
        MINILM_SETTING + f"; effective answers where exact accuracy first reaches {MINILM_MATCHED}",
        f"per protocol, reproduced where the 95% interval of P(LAD-JS > GRPO) on effective answers at exact "
        f"accuracy {MINILM_MATCHED} lies above {EVEN}, refuted where below (needs {MINILM_MIN_RUNS}+ runs of each "
        "reaching it)",
        (MINILM,),
        minilm_matched_diversity,
        {("protocol", "on-policy"): "on-policy training", ("protocol", "PPO x2"): "PPO x2 (pi_old fixed per batch)"},
        note=MINILM_NOTE,
    ),
    Claim(
        "minilm_on_policy_collapse",
        "On-policy, LAD collapses like GRPO on the mini-LM, as it does on the bandit.",
        "suite",
        MINILM_SETTING + "; on-policy cells",
        f"holds where both GRPO's and LAD-JS's effective answers IQM fall to at most {MINILM_COLLAPSED} x the base "
        f"model's and the 95% interval of P(LAD-JS > GRPO) on effective answers does not lie above {EVEN}",
        (MINILM,),
        minilm_on_policy_collapse,
        note=MINILM_NOTE,
    ),
    Claim(
        "minilm_pass_at_k_crossover",
        "RL narrows what the model reaches: the base model's pass@k overtakes the trained model's at large k "
        "(Yue et al. 2025; mini-LM, exact pass@k).",
        "suite",
        MINILM_SETTING + "; exact pass@k = 1 - (1 - acc)^k per prompt, mean over prompts and seeds, k = 1..256",
        "per objective (GRPO, LAD-JS), protocol and curve (exact pass@k; expected distinct correct answers in k "
        "samples), holds where the base's curve lies above the trained model's by more than 1e-4 at some k <= 256",
        (MINILM,),
        minilm_pass_at_k_crossover,
        {("curve", "pass@k"): "exact pass@k", ("curve", "distinct correct"): "distinct correct answers"},
        note=MINILM_NOTE,
    ),
    Claim(
        "minilm_format_amplification",
        "RL amplifies one output format of the pretraining mix (Echo Chamber, Zhao et al. 2025; mini-LM).",
        "suite",
        MINILM_SETTING + "; formats: bare answer and worked sum, their share of the correct mass",
        f"per objective (GRPO, LAD-JS) and protocol, holds where the dominant format's share IQM exceeds the "
        f"base's share of that format by at least {MINILM_AMPLIFIED} and its 95% interval lies above the base's",
        (MINILM,),
        minilm_format_amplification,
        {("protocol", "on-policy"): "on-policy training", ("protocol", "PPO x2"): "PPO x2 (pi_old fixed per batch)"},
        note=MINILM_NOTE,
    ),
    Claim(
        "llm_reported_numbers",
        "The paper's LLM numbers (math Avg@32 40.08; AIME dist-3 / dist-4 0.3498 / 0.4442).",
        "paper",
        "Qwen2.5-7B, DeepSeek-R1-Distill-7B; DAPO-MATH, DeepCoder",
        "none: out of reach",
        (),
        llm_reported_numbers,
    ),
    Claim(
        "no_entropy_bonus",
        "LAD needs no entropy regularisation: it keeps its entropy and the modes without a bonus.",
        "paper",
        f"{BANDIT}; LAD-JS (no entropy term), eta 1; exact and sampled; pi_old fixed vs refreshed every step",
        f"kept where entropy IQM >= {ENTROPY_KEPT} x the ground truth's entropy and mode coverage IQM = 1",
        (PROTOCOL,),
        no_entropy_bonus,
        PHRASES,
        cheap=True,
    ),
    Claim(
        "eta_ablation",
        "LAD's temperature eta sets the target pi_old exp(A / eta) / Z, which LAD reaches at every "
        "eta of the ablation.",
        "paper",
        f"{BANDIT}; LAD-JS, eta in 0.25..16; exact; pi_old fixed vs refreshed every step",
        f"reached where TV to target IQM < {CONVERGED_TV}",
        (ETA,),
        eta_ablation,
        PHRASES,
        cheap=True,
    ),
    Claim(
        "protocol_dependence",
        "Distribution matching survives only a fixed pi_old: refreshed every 100, 10 or 1 "
        "steps, LAD-JS collapses onto one mode.",
        "suite",
        f"{BANDIT}; LAD-JS, eta 1; exact and sampled (G 8); pi_old fixed, refreshed every 100, 10, 1 steps",
        f"holds where pi_old fixed is recovered (coverage IQM = 1, TV to "
        f"target IQM < {RECOVERED_TV}) and every refreshed setting is on one mode (coverage IQM <= 1/3)",
        (PROTOCOL,),
        protocol_dependence,
        PHRASES,
        cheap=True,
    ),
    Claim(
        "entropy_pg_equivalence",
        "Entropy-regularised PG with coef = eta reaches the same distribution as LAD.",
        "suite",
        f"{BANDIT}; LAD-JS eta 1 vs entropy-PG coef 1; exact; uniform or random (std 0.1) initial policy",
        f"same where the IQM over seeds of TV between the two final policies (matched seeds) < {SAME_TV}",
        (FINDINGS, PROTOCOL),
        entropy_pg_equivalence,
        {("init", "uniform"): "a fixed pi_old equal to the uniform initial policy"},
        cheap=True,
    ),
    Claim(
        "flowrl_beta",
        "FlowRL at its released beta = 15 is nearly one-armed on this reward scale; at beta = 1/eta it "
        "reaches LAD's distribution.",
        "suite",
        f"{BANDIT}; FlowRL (learned log Z, lr 0.1) beta 15 and 1; exact; "
        "pi_old fixed; uniform or random initial policy",
        f"beta 15: mode coverage IQM = 1/3 and max probability IQM > "
        f"{ONE_ARMED_MAX_PROB}; beta 1: TV to the ground truth IQM < {CONVERGED_TV} and coverage IQM = 1",
        (FINDINGS,),
        flowrl_beta,
        cheap=True,
    ),
    Claim(
        "grpo_clip_freeze",
        "With a fixed pi_old, GRPO's PPO clip freezes it at about 1.2x the uniform probability.",
        "suite",
        f"{BANDIT}; GRPO (clip 0.2); exact; pi_old fixed at the uniform initial policy",
        f"frozen where max probability x K < {CLIP_REACH} and TV to its target (the best arm) > {COLLAPSED_MAX_PROB}",
        (FINDINGS,),
        grpo_clip_freeze,
        cheap=True,
    ),
    Claim(
        "baselines_on_policy",
        "Some objective keeps all three modes on-policy; which ones?",
        "suite",
        f"{BANDIT}; every registered loss at its defaults; exact and sampled (G 8); pi_old refreshed every step",
        "kept where mode coverage IQM = 1 with both estimators",
        (BASELINES,),
        baselines_on_policy,
    ),
)
