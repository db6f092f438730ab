"""The loss module both tracks share: tensors in, ``(loss, metrics)`` out.

from ladbench.losses import LossBatch, get_loss, available_losses
batch = LossBatch(logp=..., old_logp=..., advantages=..., mask=None, ref_logp=None)
loss, metrics = get_loss("lad", divergence="js", eta=1.0)(batch)
"""

from ladbench.losses import (  # noqa: F401  (register the losses)
    alpha_dpg,
    cispo,
    covariance,
    dppo,
    entropy_adv,
    entropy_pg,
    f_tb,
    flowrl,
    gmpo,
    gpg,
    grpo,
    gspo,
    lad,
    sapo,
)
from ladbench.losses.advantages import ADVANTAGE_ESTIMATORS, expected_advantages, group_advantages
from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch, aggregation_weights
from ladbench.losses.divergences import DIVERGENCES, GENERATORS, get_generator
from ladbench.losses.registry import Loss, available_losses, get_loss, loss_class, register_loss

__all__ = [
    "ADVANTAGE_ESTIMATORS",
    "AGGREGATIONS",
    "DIVERGENCES",
    "GENERATORS",
    "ActionSet",
    "Loss",
    "LossBatch",
    "aggregation_weights",
    "available_losses",
    "expected_advantages",
    "get_generator",
    "get_loss",
    "group_advantages",
    "loss_class",
    "register_loss",
]
