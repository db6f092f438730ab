"""The memory a bandit run needs, estimated from its config before anything is allocated.

R runs (seeds, or a sweep batch's runs) advance together as float64 tensors with a leading run
axis. With N outcomes in the family's evaluation set (all contexts), T tokens per outcome, C
contexts, G the sampled estimator's group size, the largest allocations are, in bytes:

- the policies over the evaluation set    R N T x 8 x POLICY_FIELDS (logits, probabilities,
                                          pi_old, target, optimiser moments, kept logs), plus a
                                          network policy's activations and parameters (declared
                                          by its class in ``bandit.policies``; parameters with
                                          gradients and Adam's two moments)
- a step's loss batch                     R x rows x T x 8 x ROW_FIELDS, rows = N (exact) or C G
                                          (sampled): the batch's fields, the loss's intermediates
                                          and their gradients
- the sampled estimator's draws           2 x SAMPLE_CHUNK x R x C G x (1 + extra draws) x 8 (the
                                          engines draw the uniforms of SAMPLE_CHUNK steps at once;
                                          the factor 2: the per-run draws and their stack)
- the logged curves                       (steps / log_interval + 2) x R x CURVE_COLUMNS x
                                          CURVE_BYTES (metric arrays, data frame and CSV text)
- policy.csv                              R N x POLICY_ROW_BYTES
- per-run state                           R x RUN_BYTES (``resources``: a generator, settings, objects)

The constants are upper-ish averages measured on the shipped engines (``tests/test_memory.py``
checks the estimate against the measured peak of small runs: within a factor of 3). The
estimate decides only whether a run is refused (``resources.check_fits``), so it errs high.
"""

from __future__ import annotations

from ladbench import layout
from ladbench.bandit.config import BanditConfig
from ladbench.bandit.envs import NetworkEnv, make_env
from ladbench.bandit.policies import policy_class
from ladbench.resources import RUN_BYTES, Need, check_fits

FLOAT = 8
POLICY_FIELDS = 16
ROW_FIELDS = 12
CURVE_COLUMNS = 32
CURVE_BYTES = 20  # measured: about 10 (the numpy metric columns, data frame and CSV text)
POLICY_ROW_BYTES = 150


def estimate(config: BanditConfig, n_runs: int, runs: str | None = None) -> list[Need]:
    """The largest allocations of training ``n_runs`` runs of ``config`` and writing their tables;
    ``runs`` names what sets the number of runs (default ``--seeds (n)``)."""
    env = make_env(config.env, config.env_options, compute_checks=False)
    network = isinstance(env, NetworkEnv)
    outcomes, tokens = env.n_arms, env.tokens if network else 1
    contexts = env.n_contexts if network else 1
    size = ", ".join(f"-e {option}={getattr(env, option)}" for option in env.size_options)
    runs = runs or f"--seeds ({n_runs})"
    policy, settings = policy_class(config.env, config.policy), config.policy_settings()
    knobs = [f"--{name} ({value})" for name, value in settings.items()]
    activations = policy.activations(settings, env) if network else 0
    needs = [
        Need("per-run state", n_runs * RUN_BYTES, runs),
        Need(
            "the policies over the evaluation set",
            n_runs * FLOAT * (outcomes * tokens * POLICY_FIELDS + activations),
            " or ".join([*knobs, f"the family's size ({size})", runs]),
        ),
        Need(
            "the logged curves",
            (config.steps // config.log_interval + 2) * n_runs * CURVE_COLUMNS * CURVE_BYTES,
            f"{runs}, --steps ({config.steps}) or raise --log-interval ({config.log_interval})",
        ),
        Need(
            layout.BANDIT_FILES["policy"], n_runs * outcomes * POLICY_ROW_BYTES, f"{runs} or the family's size ({size})"
        ),
    ]
    if knobs:
        needs.append(
            Need(
                "the network policies' parameters",
                n_runs * policy.parameters(settings, env) * FLOAT * 4,
                f"{', '.join(knobs)}, the family's size ({size}) or {runs}",
            )
        )
    if config.estimator == "sampled":
        from ladbench.bandit.loop import SAMPLE_CHUNK

        rows = contexts * config.group_size
        extra = env.sample_draws()
        group = f"--group-size ({config.group_size}) or {runs}"
        needs.append(
            Need("the sampled estimator's draws", 2 * SAMPLE_CHUNK * n_runs * rows * (1 + extra) * FLOAT, group)
        )
        needs.append(Need("a step's loss batch", n_runs * rows * tokens * FLOAT * ROW_FIELDS, group))
    else:
        needs.append(
            Need(
                "a step's loss batch",
                n_runs * outcomes * tokens * FLOAT * ROW_FIELDS,
                f"the family's size ({size}) or {runs}",
            )
        )
    return needs


def check_memory(config: BanditConfig, n_runs: int, what: str = "this run", runs: str | None = None) -> None:
    """A one-line UserError when ``n_runs`` runs of ``config`` would not fit in the available memory."""
    check_fits(estimate(config, n_runs, runs), what)
