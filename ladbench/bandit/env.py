"""Bandit environments: the families live in ``ladbench.bandit.envs``; this module keeps the
import path of the original trimodal bandit and the registry."""

from ladbench.bandit.envs import ENVIRONMENTS, TrimodalBandit, build_env, make_env

__all__ = ["ENVIRONMENTS", "TrimodalBandit", "build_env", "make_env"]
