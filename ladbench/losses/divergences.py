"""The f-divergence generators used by LAD, evaluated in log space.

Each generator is a convex f with f(1) = 0, written as a function of log x so that x = rho *
exp(-A/eta) never has to be formed when it would overflow. The table is the one in the LAD paper
(Li & Li, arXiv 2602.20132) and its released code ("ps" is the authors' name for Neyman
chi-square, which is not in the paper's ablation):

| name | f(x)                                   | f'(x)                | strictly convex |
|------|----------------------------------------|----------------------|-----------------|
| kl   | x log x                                | log x + 1            | yes             |
| rkl  | -log x                                 | -1/x                 | yes             |
| js   | 1/2 [x log x - (x+1) log((x+1)/2)]     | 1/2 log(2x/(x+1))    | yes             |
| tv   | 1/2 |x - 1|                            | 1/2 sign(x - 1)      | no              |
| hd   | (sqrt(x) - 1)^2                        | 1 - 1/sqrt(x)        | yes             |
| jf   | (x - 1) log x                          | log x + 1 - 1/x      | yes             |
| ps   | (x - 1)^2 / x                          | 1 - 1/x^2            | yes             |
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable

import torch
from torch import Tensor

from ladbench.errors import choices_error

LOG_2 = math.log(2.0)


@dataclass(frozen=True)
class Generator:
    """A convex generator f, as functions of log x."""

    name: str
    formula: str
    value: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]
    strictly_convex: bool


def _js_value(log_x: Tensor) -> Tensor:
    # log((x + 1) / 2) = logaddexp(log x, 0) - log 2 stays finite for any log x.
    x = log_x.exp()
    return 0.5 * (x * log_x - (x + 1.0) * (torch.logaddexp(log_x, torch.zeros_like(log_x)) - LOG_2))


def _js_derivative(log_x: Tensor) -> Tensor:
    return 0.5 * (LOG_2 + log_x - torch.logaddexp(log_x, torch.zeros_like(log_x)))


GENERATORS: dict[str, Generator] = {
    generator.name: generator
    for generator in (
        Generator("kl", "x log x", lambda lx: lx.exp() * lx, lambda lx: lx + 1.0, True),
        Generator("rkl", "-log x", lambda lx: -lx, lambda lx: -(-lx).exp(), True),
        Generator("js", "1/2 [x log x - (x+1) log((x+1)/2)]", _js_value, _js_derivative, True),
        Generator("tv", "1/2 |x - 1|", lambda lx: 0.5 * lx.expm1().abs(), lambda lx: 0.5 * lx.sign(), False),
        Generator("hd", "(sqrt(x) - 1)^2", lambda lx: (0.5 * lx).expm1().square(), lambda lx: -(-0.5 * lx).expm1(), True),
        Generator("jf", "(x - 1) log x", lambda lx: lx.expm1() * lx, lambda lx: lx - (-lx).expm1(), True),
        Generator("ps", "(x - 1)^2 / x", lambda lx: lx.expm1().square() * (-lx).exp(), lambda lx: -(-2.0 * lx).expm1(), True),
    )
}
DIVERGENCES = tuple(GENERATORS)


def get_generator(name: str) -> Generator:
    """The generator called ``name``; a ValueError lists the valid names otherwise."""
    if name not in GENERATORS:
        raise choices_error("divergence", name, DIVERGENCES)
    return GENERATORS[name]
