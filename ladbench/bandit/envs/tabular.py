"""The tabular families: one context, K arms, a softmax-over-arms policy (the fast engine).

- ``trimodal``       the LAD paper's bandit (see :class:`TrimodalBandit`)
- ``unequal_modes``  the same construction with one dominant and two minor modes
- ``noisy``          the trimodal bandit with rewards observed through zero-mean noise
- ``multi_correct``  the RLVR shape: binary rewards and a non-uniform "base model" pi_old

Every tabular family gives the engine ``rewards()`` (expected rewards [K]), ``base_logits()``
(the initial pi_old and FlowRL's pi_ref; zeros mean uniform), and ``observe(expected, u)``
(the reward a sampled arm reports, from ``noise_draws`` uniforms per sample).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ladbench.bandit.envs.base import (
    FAMILIES,
    Family,
    check_finite,
    float64,
    mixture_log_density,
    nearest_membership,
    parse_floats,
    parse_ints,
    require,
)

if TYPE_CHECKING:
    import torch
    from torch import Tensor

NOISE_KINDS = ("gaussian", "bernoulli")


class TabularEnv(Family):
    """Shared behaviour of the tabular families (subclasses are frozen dataclasses)."""

    policies = ("tabular",)
    n_arms: int

    def base_logits(self, dtype: torch.dtype | None = None) -> Tensor:
        """Logits of the base policy: the initial pi_old and FlowRL's pi_ref (uniform here)."""
        import torch

        return torch.zeros(self.n_arms, dtype=float64(dtype))

    def observe(self, expected: Tensor, uniforms: Tensor) -> Tensor:
        """Observed rewards of sampled arms with expected rewards ``expected`` (noise-free here)."""
        return expected

    def mode_masses(self, probs: Tensor) -> Tensor:
        """[..., n_modes] probability mass on each mode's arms, for probs [..., K]."""
        return probs @ self.membership(probs.dtype)

    def validate(self) -> None:
        check_finite(self.name, self.rewards())
        check_finite(self.name, self.ground_truth())


@FAMILIES.register
@dataclass(frozen=True)
class TrimodalBandit(TabularEnv):
    """K-armed bandit whose ground truth is a mixture of Gaussians over the arm index a = 0..K-1,

        p*(a) = sum_i w_i N(a; c_i, s_i^2) / sum_a' sum_i w_i N(a'; c_i, s_i^2),

    with (paper defaults) centres c = (9, 25, 40), widths s = (2.5, 3.0, 2.0) and weights
    w = (0.5, 0.3, 0.2): well separated modes of different heights and widths.

    Rewards r(a) = log p*(a) - max_a log p*(a) (the best arm has reward 0). Under a uniform
    pi_old and the mean-baseline advantage A = r - E_{pi_old}[r] (``dr_grpo``), the
    advantage-induced distribution exp(A / eta) / Z is p*^(1/eta) normalised: exactly the
    ground-truth mixture at eta = 1, sharper below, flatter above.

    Modes: arm a belongs to the mode whose centre is nearest; a mode's mass is that of its arms.
    Options (``env_options``): n_arms, and centres / widths / weights as comma-separated strings.
    """

    name = "trimodal"
    default = True  # the paper's family: what a config without env trains
    size_options = ("n_arms",)  # the options that set the size of the evaluation set (bandit.memory)
    n_arms: int = 50
    centres: tuple[float, ...] | str = (9.0, 25.0, 40.0)
    widths: tuple[float, ...] | str = (2.5, 3.0, 2.0)
    weights: tuple[float, ...] | str = (0.5, 0.3, 0.2)

    def __post_init__(self) -> None:
        for field in ("centres", "widths", "weights"):
            object.__setattr__(self, field, parse_floats(field, getattr(self, field)))
        require(self.n_arms >= 2, f"env option n_arms must be at least 2, got {self.n_arms}")
        require(
            len(self.centres) == len(self.widths) == len(self.weights),
            "env options centres, widths and weights must have the same length",
        )
        require(min(self.widths) > 0 and min(self.weights) > 0, "env options widths and weights must be positive")

    @classmethod
    def examples(cls) -> list[dict]:
        return [{}, {"n_arms": 30, "centres": "5,20", "widths": "2,3", "weights": "0.6,0.4"}]

    def _points(self, dtype: torch.dtype | None) -> Tensor:
        import torch

        return torch.arange(self.n_arms, dtype=float64(dtype))[:, None]

    def ground_truth(self, dtype: torch.dtype | None = None) -> Tensor:
        """p*(a) [K], the normalised mixture over arm indices."""
        import torch

        dtype = float64(dtype)
        log_mixture = mixture_log_density(
            self._points(dtype),
            torch.tensor(self.centres, dtype=dtype)[:, None],
            torch.tensor(self.widths, dtype=dtype),
            torch.tensor(self.weights, dtype=dtype),
        )
        return torch.softmax(log_mixture, dim=0)

    def rewards(self, dtype: torch.dtype | None = None) -> Tensor:
        """r(a) = log p*(a) - max log p*  [K]."""
        log_truth = self.ground_truth(dtype).log()
        return log_truth - log_truth.max()

    def membership(self, dtype: torch.dtype | None = None) -> Tensor:
        import torch

        dtype = float64(dtype)
        return nearest_membership(self._points(dtype), torch.tensor(self.centres, dtype=dtype)[:, None])


@FAMILIES.register
@dataclass(frozen=True)
class UnequalModesBandit(TrimodalBandit):
    """The trimodal construction with one dominant mode: target masses 0.7 / 0.2 / 0.1 by default
    (``env_options={"weights": "0.9,0.08,0.02"}`` is the harder setting). Isolates whether
    minor valid modes survive, which the paper's 0.5 / 0.3 / 0.2 masses cannot show."""

    name = "unequal_modes"
    weights: tuple[float, ...] | str = (0.7, 0.2, 0.1)

    @classmethod
    def examples(cls) -> list[dict]:
        return [{}, {"weights": "0.9,0.08,0.02"}]


@FAMILIES.register
@dataclass(frozen=True)
class NoisyBandit(TrimodalBandit):
    """The paper's trimodal bandit with rewards observed through zero-mean noise of std ``level``:

    - ``gaussian``:   observed = r(a) + level * e,      e ~ N(0, 1)
    - ``bernoulli``:  observed = r(a) + level * (2b - 1), b ~ Bernoulli(1/2)  (a fair +-level coin)

    Targets, ground truth and metrics are defined on the expected rewards r(a), so noise only
    enters through the sampled estimator (the exact estimator averages it out exactly).
    Isolates how each objective's sample efficiency and fixed point degrade with reward noise."""

    name = "noisy"
    noise: str = "gaussian"
    level: float = 1.0
    noise_draws = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.noise in NOISE_KINDS, f"unknown noise {self.noise!r}; valid choices: {', '.join(NOISE_KINDS)}")
        require(
            math.isfinite(self.level) and self.level >= 0, f"env option level must be finite and >= 0, got {self.level}"
        )

    @classmethod
    def examples(cls) -> list[dict]:
        return [{}, {"noise": "bernoulli", "level": 0.5}, {"level": 0.0}]

    def observe(self, expected: Tensor, uniforms: Tensor) -> Tensor:
        import torch

        if self.noise == "gaussian":
            return expected + self.level * math.sqrt(2.0) * torch.erfinv(
                (2.0 * uniforms - 1.0).clamp(-1 + 1e-12, 1 - 1e-12)
            )
        return expected + self.level * torch.where(uniforms < 0.5, -1.0, 1.0).to(expected.dtype)


@FAMILIES.register
@dataclass(frozen=True)
class MultiCorrectBandit(TabularEnv):
    """The RLVR shape: arms in ``correct`` have reward 1, all others 0, and pi_old is a fixed,
    non-uniform "base model" pi_base(a) proportional to exp(-a / base_temperature).

    Ground truth: pi_base restricted to the correct arms, p*(a) = pi_base(a) 1[a correct] / Z
    (the filtered base model). LAD's target pi_base exp(A / eta) / Z keeps the correct arms in
    proportion to pi_base and tends to p* as eta -> 0 (incorrect arms keep relative weight
    exp(-1/eta)). Each correct arm is its own mode; incorrect arms belong to none.
    Isolates which objectives keep the correct answers in the base model's proportions, which
    collapse onto one correct answer, and how fast."""

    name = "multi_correct"
    size_options = ("n_arms",)
    n_arms: int = 20
    correct: tuple[int, ...] | str = (1, 4, 9, 15)
    base_temperature: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "correct", parse_ints("correct", self.correct))
        require(self.n_arms >= 2, f"env option n_arms must be at least 2, got {self.n_arms}")
        require(
            all(0 <= arm < self.n_arms for arm in self.correct) and len(set(self.correct)) == len(self.correct),
            f"env option correct must list distinct arms in 0..{self.n_arms - 1}, got {self.correct}",
        )
        require(
            math.isfinite(self.base_temperature) and self.base_temperature > 0,
            f"env option base_temperature must be positive, got {self.base_temperature}",
        )

    @classmethod
    def examples(cls) -> list[dict]:
        return [{}, {"n_arms": 10, "correct": "0,9", "base_temperature": 1.0}]

    @property
    def centres(self) -> tuple[int, ...]:
        return self.correct

    def base_logits(self, dtype: torch.dtype | None = None) -> Tensor:
        import torch

        return -torch.arange(self.n_arms, dtype=float64(dtype)) / self.base_temperature

    def rewards(self, dtype: torch.dtype | None = None) -> Tensor:
        return self.membership(dtype).sum(dim=1)

    def ground_truth(self, dtype: torch.dtype | None = None) -> Tensor:
        import torch

        filtered = torch.softmax(self.base_logits(dtype), dim=0) * self.rewards(dtype)
        return filtered / filtered.sum()

    def membership(self, dtype: torch.dtype | None = None) -> Tensor:
        import torch

        membership = torch.zeros(self.n_arms, len(self.correct), dtype=float64(dtype))
        membership[list(self.correct), range(len(self.correct))] = 1.0
        return membership
