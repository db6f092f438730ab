"""DAPO's dynamic sampling (Yu et al. 2025, arXiv 2503.14476): groups whose rewards are all equal
carry no group-relative signal (their GRPO advantages are all zero), so they are dropped from
the update. DAPO then samples more prompts to refill the batch; here the step trains on what is
left (``TrainConfig.dynamic_sampling``), and skips its update when nothing is.
"""

from __future__ import annotations

import dataclasses

from torch import Tensor

from ladbench.llm.rollout import Rollout


def informative_rows(rewards: Tensor, group_size: int) -> Tensor:
    """[B] bool: the rows of groups (consecutive ``group_size`` rows) whose rewards are not all equal."""
    groups = rewards.view(-1, group_size)
    informative = (groups != groups[:, :1]).any(dim=1)
    return informative.repeat_interleave(group_size)


def select_rows(rollout: Rollout, rows: Tensor) -> Rollout:
    """The rollout restricted to the rows where ``rows`` [B] is True (groups stay consecutive)."""
    index = rows.nonzero().squeeze(1)
    tensors = {
        field.name: getattr(rollout, field.name)[index]
        for field in dataclasses.fields(rollout)
        if isinstance(getattr(rollout, field.name), Tensor)
    }
    return dataclasses.replace(rollout, texts=[rollout.texts[i] for i in index.tolist()], **tensors)


def drop_equal_reward_groups(rollout: Rollout, group_size: int) -> tuple[Rollout, dict[str, float]]:
    """The scored rollout's informative groups only (rewards and advantages with them), and what to
    log: the number of groups dropped and whether the update is skipped (nothing left)."""
    rows = informative_rows(rollout.rewards, group_size)
    logged = {"groups_dropped": float((~rows).sum()) / group_size, "update_skipped": float(not rows.any())}
    return select_rows(rollout, rows), logged
