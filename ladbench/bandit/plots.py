"""Figures of a bandit run."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from ladbench.bandit.env import TrimodalBandit


def draw_recovery(axis, policy: pd.DataFrame, env: TrimodalBandit) -> None:
    """Draw on ``axis`` the learned distribution over the arms (mean across seeds, band =
    min..max) over the method's target and the ground-truth mixture, mode centres marked.

    ``policy`` has the columns of policy.csv: seed, arm, prob, target, truth."""
    by_arm = policy.groupby("arm")
    probs = by_arm["prob"]
    arms = probs.mean().index
    axis.fill_between(arms, probs.min(), probs.max(), step="mid", alpha=0.3, color="C0", label="learned (min-max over seeds)")
    axis.step(arms, probs.mean(), where="mid", color="C0", lw=1.5, label="learned (mean over seeds)")
    axis.plot(arms, by_arm["target"].mean(), color="black", lw=1.0, ls="--", label="method's target")
    axis.plot(arms, by_arm["truth"].mean(), color="C3", lw=1.0, ls=":", label="ground-truth mixture")
    for centre in env.centres:
        axis.axvline(centre, color="grey", lw=0.6, alpha=0.6)
    axis.set_xlim(-0.5, env.n_arms - 0.5)


def recovery_figure(policy: pd.DataFrame, env: TrimodalBandit, title: str):
    """One run's recovery plot (see ``draw_recovery``), titled."""
    sns.set_theme(style="whitegrid", context="paper")
    figure, axis = plt.subplots(figsize=(6.0, 3.0), constrained_layout=True)
    draw_recovery(axis, policy, env)
    axis.set_xlabel("arm")
    axis.set_ylabel("probability")
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7, loc="upper right")
    return figure
