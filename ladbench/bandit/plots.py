"""Figures of a bandit run.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``), not pyplot: no
backend is chosen and no global figure state is kept, so importing or calling this module has
no side effect on the caller's matplotlib.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from ladbench.bandit.envs import NetworkEnv, TabularEnv


def outcome_index(policy: pd.DataFrame) -> pd.Series:
    """Each row's position on the plotted axis: its arm, or with contexts context * arms + arm
    (the contexts side by side, in the flattened order of ``env.centres``)."""
    if "context" not in policy:
        return policy["arm"]
    return policy["context"] * (policy["arm"].max() + 1) + policy["arm"]


def draw_recovery(axis, policy: pd.DataFrame, env: TabularEnv | NetworkEnv) -> None:
    """Draw on ``axis`` the learned distribution over the outcomes (mean across seeds, band =
    min..max) over the method's target and the ground-truth mixture, mode centres marked; with
    contexts, the contexts side by side, separated by dashed lines.

    ``policy`` has the columns of policy.csv: seed, [context,] arm, prob, target, truth."""
    by_outcome = policy.groupby(outcome_index(policy))
    probs = by_outcome["prob"]
    outcomes = probs.mean().index
    axis.fill_between(
        outcomes, probs.min(), probs.max(), step="mid", alpha=0.3, color="C0", label="learned (min-max over seeds)"
    )
    axis.step(outcomes, probs.mean(), where="mid", color="C0", lw=1.5, label="learned (mean over seeds)")
    axis.plot(outcomes, by_outcome["target"].mean(), color="black", lw=1.0, ls="--", label="method's target")
    axis.plot(outcomes, by_outcome["truth"].mean(), color="C3", lw=1.0, ls=":", label="ground-truth mixture")
    for centre in env.centres:
        axis.axvline(centre, color="grey", lw=0.6, alpha=0.6)
    if "context" in policy:
        arms = policy["arm"].max() + 1
        for context in range(1, policy["context"].max() + 1):
            axis.axvline(context * arms - 0.5, color="black", lw=0.5, ls="--", alpha=0.5)
    axis.set_xlim(-0.5, env.n_arms - 0.5)


def recovery_figure(policy: pd.DataFrame, env: TabularEnv | NetworkEnv, title: str) -> Figure:
    """One run's recovery plot (see ``draw_recovery``), titled."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper")
    figure = Figure(figsize=(6.0, 3.0), layout="constrained")
    axis = figure.subplots()
    draw_recovery(axis, policy, env)
    axis.set_xlabel("context x arm" if "context" in policy else "arm")
    axis.set_ylabel("probability")
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7, loc="upper right")
    return figure
