"""The LAD paper's controlled bandit: 50 arms whose advantage distribution is trimodal.

Ground truth. A mixture of three Gaussians over the arm index a = 0..K-1,

    p*(a) = sum_i w_i N(a; c_i, s_i^2) / sum_a' sum_i w_i N(a'; c_i, s_i^2),

with centres c = (9, 25, 40), widths s = (2.5, 3.0, 2.0) and unequal weights w = (0.5, 0.3, 0.2):
well separated modes of different heights and widths, so a method that keeps only the biggest
mode, or flattens the mode masses, is visible in every metric.

Rewards. r(a) = log p*(a) - max_a log p*(a) (the best arm has reward 0). Under a uniform pi_old
and the mean-baseline advantage A = r - E_{pi_old}[r] (``dr_grpo``), the advantage-induced
distribution exp(A / eta) / Z is p*^(1/eta) normalised: exactly the ground-truth mixture at
eta = 1, sharper below, flatter above.

Modes. Arm a belongs to the mode whose centre is nearest; the mass of mode i is the probability
of its arms.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ladbench.losses import expected_advantages


@dataclass(frozen=True)
class TrimodalBandit:
    """K-armed bandit with a three-Gaussian ground-truth distribution over arm indices."""

    n_arms: int = 50
    centres: tuple[float, ...] = (9.0, 25.0, 40.0)
    widths: tuple[float, ...] = (2.5, 3.0, 2.0)
    weights: tuple[float, ...] = (0.5, 0.3, 0.2)

    @property
    def n_modes(self) -> int:
        return len(self.centres)

    def ground_truth(self, dtype: torch.dtype = torch.float64) -> Tensor:
        """p*(a) [K], the normalised mixture over arm indices."""
        arms = torch.arange(self.n_arms, dtype=dtype)[:, None]
        centres = torch.tensor(self.centres, dtype=dtype)
        widths = torch.tensor(self.widths, dtype=dtype)
        weights = torch.tensor(self.weights, dtype=dtype)
        log_components = (
            weights.log() - widths.log() - 0.5 * ((arms - centres) / widths).square()
        )  # the common 1/sqrt(2 pi) cancels in the normalisation
        log_mixture = torch.logsumexp(log_components, dim=1)
        return torch.softmax(log_mixture, dim=0)

    def rewards(self, dtype: torch.dtype = torch.float64) -> Tensor:
        """r(a) = log p*(a) - max log p*  [K]."""
        log_truth = self.ground_truth(dtype).log()
        return log_truth - log_truth.max()

    def mode_of_arm(self) -> Tensor:
        """[K] index of the mode (nearest centre) each arm belongs to."""
        arms = torch.arange(self.n_arms, dtype=torch.float64)[:, None]
        return (arms - torch.tensor(self.centres, dtype=torch.float64)).abs().argmin(dim=1)

    def mode_masses(self, probs: Tensor) -> Tensor:
        """[..., n_modes] probability mass on each mode's arms, for probs [..., K]."""
        membership = torch.nn.functional.one_hot(self.mode_of_arm(), self.n_modes).to(probs.dtype)
        return probs @ membership

    def target_distribution(self, eta: float | Tensor, behaviour_probs: Tensor | None = None, advantage: str = "dr_grpo") -> Tensor:
        """LAD's target pi_old(a) exp(A(a) / eta) / Z, with A the exact advantage under pi_old.

        ``behaviour_probs`` defaults to the uniform policy; eta may be a tensor broadcasting
        against the leading dimensions of ``behaviour_probs`` (shape [..., 1])."""
        if behaviour_probs is None:
            behaviour_probs = torch.full((self.n_arms,), 1.0 / self.n_arms, dtype=torch.float64)
        advantages = expected_advantages(self.rewards(behaviour_probs.dtype), behaviour_probs, advantage)
        return torch.softmax(behaviour_probs.log() + advantages / eta, dim=-1)


ENVIRONMENTS = {"trimodal": TrimodalBandit}
