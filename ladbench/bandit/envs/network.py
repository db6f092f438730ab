"""The families that need a network policy: contexts, continuous actions, token sequences.

Each exposes, on its evaluation set of N outcomes for each of C contexts (see ``base``):

- ``rewards()`` [C, N], ``ground_truth()`` [C, N], ``membership()`` [C, N, M]
- ``tokens``: T, log-probabilities per outcome (L for sequences, 1 otherwise)
- ``ref_token_logp()`` [C, N, T]: the uniform base policy (FlowRL's pi_ref; the networks'
  initial policy, whose output layer starts at zero)
- ``log_cell_volume``: log of the measure of one outcome (0 for finite sets; the grid cell's
  volume for continuous actions, so that a cell's probability is density * volume)
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ladbench.bandit.envs.base import (
    FAMILIES,
    Family,
    check_finite,
    float64,
    mixture_log_density,
    nearest_membership,
    parse_floats,
    require,
)
from ladbench.errors import UserError
from ladbench.resources import MAX_SEED

if TYPE_CHECKING:
    import torch
    from torch import Tensor

DEFAULT_GRID = {1: 512, 2: 64}
MAX_SEQUENCES = 4096


class NetworkEnv(Family):
    """Shared behaviour: rewards are log p* - max log p* per context, p* = softmax of ``_log_truth``."""

    n_contexts: int = 1
    tokens: int = 1
    log_cell_volume: float = 0.0

    def ground_truth(self, dtype: torch.dtype | None = None) -> Tensor:
        import torch

        return torch.softmax(self._log_truth(float64(dtype)), dim=-1)

    def rewards(self, dtype: torch.dtype | None = None) -> Tensor:
        import torch

        log_truth = torch.log_softmax(self._log_truth(float64(dtype)), dim=-1)
        return log_truth - log_truth.max(dim=-1, keepdim=True).values

    @property
    def n_outcomes(self) -> int:
        return self.n_arms // self.n_contexts

    def mode_masses(self, probs: Tensor) -> Tensor:
        """[..., C, M] mass of each mode in each context, probs [..., C, N]."""
        import torch

        return torch.einsum("...cn,cnm->...cm", probs, self.membership(probs.dtype))

    def validate(self) -> None:
        check_finite(self.name, self.rewards())


def check_layout_seed(seed: int) -> None:
    require(0 <= seed <= MAX_SEED, f"env option layout_seed must be in 0..{MAX_SEED}, got {seed}")


@FAMILIES.register
@dataclass(frozen=True)
class ContextualBandit(NetworkEnv):
    """C contexts, each with its own K-arm trimodal target; the policy sees a fixed context
    embedding (E numbers drawn from N(0, 1) with ``layout_seed``), so its parameters are shared.

    Context c's ground truth is a mixture of ``modes`` Gaussians over the arm index, centres at
    (i + 1/2) K / modes shifted by a per-context integer offset in [-K/(4 modes), K/(4 modes)],
    widths in [1, 1.5] and weights softmax(N(0, 0.5^2)) drawn per context with ``layout_seed``;
    r(c, a) = log p*_c(a) - max_a log p*_c(a). Metrics are averages over contexts (a uniform
    context distribution). Isolates parameter sharing: can one network hold every context's
    modes at once, and what a capacity limit (``width``) costs each objective."""

    name = "contextual"
    policies = ("mlp",)  # the policy classes it accepts, the default first
    size_options = ("contexts", "arms", "embed_dim")  # the options that set its sizes (bandit.memory)
    contexts: int = 4
    arms: int = 20
    embed_dim: int = 8
    modes: int = 3
    layout_seed: int = 0

    @classmethod
    def examples(cls) -> list[dict]:
        return [{}, {"contexts": 2, "arms": 8, "embed_dim": 3, "modes": 2, "layout_seed": 1}]

    def __post_init__(self) -> None:
        require(self.contexts >= 1 and self.embed_dim >= 1, "env options contexts and embed_dim must be positive")
        require(self.modes >= 1 and self.arms >= 2 * self.modes, "env option arms must be at least 2 * modes")
        check_layout_seed(self.layout_seed)

    @property
    def n_contexts(self) -> int:
        return self.contexts

    @property
    def n_arms(self) -> int:
        return self.contexts * self.arms

    def _layout(self, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """embeddings [C, E], centres [C, M], widths [C, M], weights [C, M]."""
        import torch

        generator = torch.Generator().manual_seed(self.layout_seed)
        embeddings = torch.randn(self.contexts, self.embed_dim, generator=generator, dtype=dtype)
        spacing = self.arms / self.modes
        reach = max(int(spacing / 4), 0)
        offsets = torch.randint(-reach, reach + 1, (self.contexts, 1), generator=generator).to(dtype)
        centres = (torch.arange(self.modes, dtype=dtype) + 0.5) * spacing + offsets
        widths = 1.0 + 0.5 * torch.rand(self.contexts, self.modes, generator=generator, dtype=dtype)
        weights = torch.softmax(0.5 * torch.randn(self.contexts, self.modes, generator=generator, dtype=dtype), dim=-1)
        return embeddings, centres, widths, weights

    def embeddings(self, dtype: torch.dtype | None = None) -> Tensor:
        return self._layout(float64(dtype))[0]

    def _log_truth(self, dtype: torch.dtype) -> Tensor:
        import torch

        _, centres, widths, weights = self._layout(dtype)
        arms = torch.arange(self.arms, dtype=dtype)[:, None]
        return torch.stack(
            [mixture_log_density(arms, c[:, None], s, w) for c, s, w in zip(centres, widths, weights, strict=True)]
        )

    def membership(self, dtype: torch.dtype | None = None) -> Tensor:
        import torch

        dtype = float64(dtype)
        centres = self._layout(dtype)[1]
        arms = torch.arange(self.arms, dtype=dtype)[:, None]
        return torch.stack([nearest_membership(arms, c[:, None]) for c in centres])

    def ref_token_logp(self, dtype: torch.dtype | None = None) -> Tensor:
        import torch

        return torch.full((self.contexts, self.arms, 1), -math.log(self.arms), dtype=float64(dtype))

    @property
    def centres(self) -> list[int]:
        centres = self._layout(float64(None))[1]
        return [int(c * self.arms + round(float(centre))) for c in range(self.contexts) for centre in centres[c]]


@FAMILIES.register
@dataclass(frozen=True)
class ContinuousBandit(NetworkEnv):
    """Actions y in [-1, 1]^d (d = ``dim``, 1 or 2); reward r(y) = log q(y) - max_grid log q, with
    q a mixture of isotropic Gaussians (centres below, widths 0.12 / 0.15 / 0.1, weights
    0.5 / 0.3 / 0.2). The ground truth is q restricted to the box.

    Evaluation grid: ``grid`` cells per dimension (default 512 for d = 1, 64 x 64 for d = 2),
    cell centres -1 + (i + 1/2) 2 / grid, row-major. A distribution's cell probability is its
    density at the cell centre times the cell volume, renormalised over the grid (the midpoint
    rule); every metric is computed on these cell probabilities, and the ``exact`` estimator is
    this quadrature of the expected loss. Modes: a cell belongs to its nearest centre.
    Isolates policy classes that cannot represent the target (a single Gaussian: mode-seeking
    versus mass-covering objectives differ here) against ones that can (mixture, discretised)."""

    name = "continuous"
    policies = ("gaussian", "mdn", "discretised")  # the policy classes it accepts, the default first
    size_options = ("grid",)  # the options that set the size of the evaluation set (bandit.memory)
    dim: int = 1
    grid: int | None = None

    CENTRES: ClassVar[dict[int, tuple]] = {1: ((-0.6,), (0.05,), (0.65,)), 2: ((-0.5, -0.5), (0.5, -0.3), (0.0, 0.55))}
    WIDTHS: ClassVar[tuple[float, ...]] = (0.12, 0.15, 0.1)
    WEIGHTS: ClassVar[tuple[float, ...]] = (0.5, 0.3, 0.2)

    @classmethod
    def examples(cls) -> list[dict]:
        return [{}, {"dim": 2, "grid": 16}, {"grid": 64}]

    def sample_draws(self) -> int:
        """A sampled action's ``dim`` coordinates."""
        return self.dim

    def __post_init__(self) -> None:
        require(self.dim in DEFAULT_GRID, f"env option dim must be 1 or 2, got {self.dim}")
        if self.grid is None:
            object.__setattr__(self, "grid", DEFAULT_GRID[self.dim])
        require(
            self.grid >= 8 and self.grid**self.dim <= 2**18,
            f"env option grid must give 8 to 2^18 cells, got {self.grid}",
        )

    @property
    def n_arms(self) -> int:
        return self.grid**self.dim

    @property
    def log_cell_volume(self) -> float:
        return self.dim * math.log(2.0 / self.grid)

    def grid_points(self, dtype: torch.dtype | None = None) -> Tensor:
        """[N, d] cell centres, row-major (the last coordinate varies fastest)."""
        import torch

        axis = -1.0 + (torch.arange(self.grid, dtype=float64(dtype)) + 0.5) * 2.0 / self.grid
        return torch.cartesian_prod(*[axis] * self.dim).reshape(-1, self.dim)

    def log_q(self, points: Tensor) -> Tensor:
        """log q at points [..., d] (up to a constant)."""
        import torch

        dtype = points.dtype
        flat = points.reshape(-1, self.dim)
        values = mixture_log_density(
            flat,
            torch.tensor(self.CENTRES[self.dim], dtype=dtype),
            torch.tensor(self.WIDTHS, dtype=dtype),
            torch.tensor(self.WEIGHTS, dtype=dtype),
        )
        return values.reshape(points.shape[:-1])

    def reward_at(self, points: Tensor) -> Tensor:
        """r(y) for actions [..., d], with the grid's max as offset (so the grid's best cell has 0)."""
        return self.log_q(points) - self.log_q(self.grid_points(points.dtype)).max()

    def _log_truth(self, dtype: torch.dtype) -> Tensor:
        return self.log_q(self.grid_points(dtype))[None]

    def membership(self, dtype: torch.dtype | None = None) -> Tensor:
        import torch

        dtype = float64(dtype)
        return nearest_membership(self.grid_points(dtype), torch.tensor(self.CENTRES[self.dim], dtype=dtype))[None]

    def ref_token_logp(self, dtype: torch.dtype | None = None) -> Tensor:
        import torch

        return torch.full((1, self.n_arms, 1), -self.dim * math.log(2.0), dtype=float64(dtype))

    @property
    def centres(self) -> list[int]:
        import torch

        points = self.grid_points()
        return [
            int(torch.cdist(torch.tensor([centre], dtype=points.dtype), points).argmin())
            for centre in self.CENTRES[self.dim]
        ]


@FAMILIES.register
@dataclass(frozen=True)
class SequenceBandit(NetworkEnv):
    """Actions are token sequences y of length L over a vocabulary of V tokens (V^L <= 4096,
    enumerated in base-V order, first token most significant), generated autoregressively.

    Optimal sequences s_1..s_M (M = number of weights) are drawn with ``layout_seed``, pairwise
    Hamming distance at least ceil(L/2). Ground truth p*(y) proportional to
    sum_i w_i exp(-sharpness d_H(y, s_i)), reward r(y) = log p*(y) - max log p*, so the s_i are
    the optimal sequences (several, of different target mass). A sequence belongs to the mode of
    its nearest s_i; sequences equidistant from two optima belong to no mode.
    Isolates the LLM shape in miniature: per-token versus per-sequence ratios and length
    normalisation, with a policy that must share parameters across prefixes."""

    name = "sequence"
    policies = ("gru", "transformer")  # the policy classes it accepts, the default first
    size_options = ("vocab", "length")  # the options that set the size of the evaluation set (bandit.memory)
    vocab: int = 4
    length: int = 4
    weights: tuple[float, ...] | str = (0.5, 0.3, 0.2)
    sharpness: float = 2.0
    layout_seed: int = 0

    @classmethod
    def examples(cls) -> list[dict]:
        return [{}, {"vocab": 3, "length": 3, "weights": "0.6,0.4", "sharpness": 1.0, "layout_seed": 2}]

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", parse_floats("weights", self.weights))
        require(self.vocab >= 2 and self.length >= 1, "env options vocab >= 2 and length >= 1 are required")
        # compared in logs first: vocab ** length itself could be a number of a billion digits
        require(
            self.length * math.log(self.vocab) <= math.log(MAX_SEQUENCES) + 1e-9
            and self.vocab**self.length <= MAX_SEQUENCES,
            f"env options vocab={self.vocab}, length={self.length}: vocab^length sequences must be at most "
            f"{MAX_SEQUENCES} (they are enumerated)",
        )
        require(min(self.weights) > 0, "env option weights must be positive")
        require(math.isfinite(self.sharpness) and self.sharpness > 0, "env option sharpness must be positive")
        check_layout_seed(self.layout_seed)

    def validate(self) -> None:
        self.optimal()  # raises when the optima cannot be placed
        super().validate()

    @property
    def tokens(self) -> int:
        return self.length

    @property
    def n_arms(self) -> int:
        return self.vocab**self.length

    def sequences(self) -> Tensor:
        """[N, L] every sequence, in base-V order."""
        import torch

        return torch.tensor(list(itertools.product(range(self.vocab), repeat=self.length)), dtype=torch.long)

    def optimal(self) -> Tensor:
        """[M, L] the optimal sequences."""
        import torch

        generator = torch.Generator().manual_seed(self.layout_seed)
        needed = math.ceil(self.length / 2)
        chosen: list[Tensor] = []
        for candidate in self.sequences()[torch.randperm(self.n_arms, generator=generator)]:
            if all(int((candidate != other).sum()) >= needed for other in chosen):
                chosen.append(candidate)
            if len(chosen) == len(self.weights):
                return torch.stack(chosen)
        raise UserError(
            f"env sequence: cannot place {len(self.weights)} optimal sequences at Hamming distance >= {needed}"
        )

    def distances(self) -> Tensor:
        """[N, M] Hamming distance of every sequence to every optimum."""
        return (self.sequences()[:, None, :] != self.optimal()[None]).sum(dim=-1)

    def _log_truth(self, dtype: torch.dtype) -> Tensor:
        import torch

        weights = torch.tensor(self.weights, dtype=dtype)
        return torch.logsumexp(weights.log() - self.sharpness * self.distances().to(dtype), dim=1)[None]

    def membership(self, dtype: torch.dtype | None = None) -> Tensor:
        distances = self.distances()
        nearest = distances == distances.min(dim=1, keepdim=True).values
        return (nearest & (nearest.sum(dim=1, keepdim=True) == 1)).to(float64(dtype))[None]

    def ref_token_logp(self, dtype: torch.dtype | None = None) -> Tensor:
        import torch

        return torch.full((1, self.n_arms, self.length), -math.log(self.vocab), dtype=float64(dtype))

    @property
    def centres(self) -> list[int]:
        import torch

        powers = self.vocab ** torch.arange(self.length - 1, -1, -1)
        return [int((sequence * powers).sum()) for sequence in self.optimal()]
