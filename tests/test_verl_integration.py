"""ladbench's losses inside verl 0.9.1 (``ladbench.integrations.verl``), against the installed verl.

Every function is called exactly as verl's ``ppo_loss`` (``verl/workers/utils/losses.py``) calls a
registered policy loss: keyword arguments, a bool ``response_mask``, ``rollout_is_weights``, and
``config.global_batch_info`` filled in. Batches are float64, ragged (one row all padding), with
garbage (large finite values) in the padding of every input.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys

import pytest
import torch

pytest.importorskip("verl", reason="the verl extra is not installed (pip install -e '.[verl]')")

from verl.trainer.ppo import core_algos
from verl.workers.config.actor import ActorConfig, PolicyLossConfig

from ladbench.errors import UserError
from ladbench.integrations import verl as plugin
from ladbench.losses import LossBatch, get_loss

F64 = torch.float64
ROWS, LENGTH = 8, 7
MODES = ("token-mean", "token-sum", "seq-mean-token-sum", "seq-mean-token-sum-norm", "seq-mean-token-mean")
TOLERANCE = {"rtol": 0.0, "atol": 1e-6}


def verl_inputs(seed: int, spread: float = 0.3, advantage_scale: float = 1.0) -> dict[str, torch.Tensor]:
    """old_log_prob, log_prob (a leaf), advantages, response_mask (bool) and rollout_is_weights."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, LENGTH + 1, (ROWS,), generator=generator)
    lengths[3] = 0  # a row that is all padding
    mask = torch.arange(LENGTH)[None] < lengths[:, None]
    old = torch.rand(ROWS, LENGTH, generator=generator, dtype=F64).clamp_min(0.02).log()
    new = old + spread * torch.randn(ROWS, LENGTH, generator=generator, dtype=F64)
    new = new.clamp(max=-1e-3)
    advantages = advantage_scale * torch.randn(ROWS, 1, generator=generator, dtype=F64).expand(ROWS, LENGTH)
    weights = 0.5 + torch.rand(ROWS, LENGTH, generator=generator, dtype=F64)
    garbage = 40.0 * torch.randn(ROWS, LENGTH, generator=generator, dtype=F64)
    pad = ~mask
    return {
        "old_log_prob": torch.where(pad, garbage, old),
        "log_prob": torch.where(pad, -garbage.abs(), new).requires_grad_(),
        "advantages": torch.where(pad, garbage, advantages),
        "response_mask": mask,
        "rollout_is_weights": torch.where(pad, garbage.abs(), weights),
    }


def actor_config(mode: str, **fields) -> ActorConfig:
    """verl's ActorConfig (``call`` fills its global_batch_info as ppo_loss does)."""
    policy_loss = fields.pop("policy_loss", {})
    return ActorConfig(
        strategy="fsdp",
        rollout_n=1,
        ppo_micro_batch_size_per_gpu=1,
        loss_agg_mode=mode,
        policy_loss=PolicyLossConfig(**policy_loss),
        **fields,
    )


def call(fn, inputs: dict, config: ActorConfig, weights: bool, batch_info: bool = True) -> tuple[torch.Tensor, ...]:
    """(loss, d loss / d log_prob) of ``fn`` called as ppo_loss calls it (``batch_info`` False: an
    empty global_batch_info, as a caller that does not fill it leaves it, so agg_loss counts the
    micro-batch itself)."""
    log_prob = inputs["log_prob"].detach().clone().requires_grad_()
    mask = inputs["response_mask"]
    config.global_batch_info.clear()
    if batch_info:
        config.global_batch_info.update(
            dp_size=1,
            batch_num_tokens=int(mask.sum()),
            global_batch_size=ROWS,
            loss_scale_factor=config.loss_scale_factor,
        )
    loss, metrics = fn(
        old_log_prob=inputs["old_log_prob"],
        log_prob=log_prob,
        advantages=inputs["advantages"],
        response_mask=mask,
        loss_agg_mode=config.loss_agg_mode,
        config=config,
        rollout_is_weights=inputs["rollout_is_weights"] if weights else None,
    )
    assert all(isinstance(value, float) for value in metrics.values())
    (grad,) = torch.autograd.grad(loss, log_prob)
    return loss.detach(), grad


# (verl's loss, ladbench loss, factory options, actor config fields, whether verl's value is the loss
# (False: verl's value is the surrogate -A sg(w) log pi, whose gradient alone is the method))
PAIRS = {
    "vanilla": ("vanilla", "grpo", {}, {"clip_ratio_low": 0.1, "clip_ratio_high": 0.15, "clip_ratio_c": 1.6}, True),
    "gspo": ("gspo", "gspo", {}, {"clip_ratio_low": 0.02, "clip_ratio_high": 0.03}, True),
    "clip_cov": (
        "clip_cov",
        "clip_cov",
        {},
        {"policy_loss": {"clip_cov_ratio": 0.2, "clip_cov_lb": -0.3, "clip_cov_ub": 0.3}, "clip_ratio": 0.15},
        True,
    ),
    "kl_cov": ("kl_cov", "kl_cov", {}, {"policy_loss": {"kl_cov_ratio": 0.2, "ppo_kl_coef": 0.7}}, True),
    "dppo_tv": ("dppo_tv", "dppo", {"trust_region": "binary_tv"}, {"clip_ratio": 0.05, "clip_ratio_c": 1.3}, False),
    "dppo_kl": ("dppo_kl", "dppo", {"trust_region": "binary_kl"}, {"clip_ratio": 0.01, "clip_ratio_c": 1.3}, False),
    "cispo": ("cispo", "cispo", {}, {"clip_ratio_low": 0.1, "clip_ratio_high": 0.15}, False),
    "gpg": ("gpg", "gpg", {}, {}, True),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pair", list(PAIRS))
@pytest.mark.parametrize("weights", [False, True], ids=["no_is_weights", "is_weights"])
def test_ladbench_loss_through_verl_equals_verls_own(pair, mode, weights):
    verl_name, name, options, fields, same_value = PAIRS[pair]
    ours = plugin.policy_loss_fn(name, **options)
    theirs = core_algos.get_policy_loss_fn(verl_name)
    for seed in range(3):
        inputs = verl_inputs(seed)
        batch_info = seed != 2  # the last seed with an empty global_batch_info
        torch.manual_seed(seed)  # clip_cov draws its random tokens from torch's generator, in both
        expected, expected_grad = call(theirs, inputs, actor_config(mode, **fields), weights, batch_info)
        torch.manual_seed(seed)
        value, grad = call(ours, inputs, actor_config(mode, **fields), weights, batch_info)
        assert torch.isfinite(value) and torch.isfinite(grad).all()
        assert grad.abs().sum() > 0
        torch.testing.assert_close(grad, expected_grad, **TOLERANCE)
        if same_value:
            torch.testing.assert_close(value, expected, **TOLERANCE)


def test_the_modes_tested_are_every_loss_agg_mode_verl_accepts():
    """MODES is verl 0.9.1's list (ActorConfig refuses any other), so a mode a later verl adds fails here."""
    listed = re.search(r"valid_loss_agg_modes = \[(.*?)\]", inspect.getsource(ActorConfig), re.S)
    assert listed and sorted(re.findall(r'"([\w-]+)"', listed.group(1))) == sorted(MODES)
    with pytest.raises(ValueError, match="Invalid loss_agg_mode"):
        actor_config("seq-sum")


def test_clip_cov_detaches_the_same_random_tokens_as_verl_and_other_seeds_differ():
    """The equality above is not luck: with 5 of ~20 candidates detached, another seed detaches
    other tokens, and the gradients differ."""
    _, name, options, fields, _ = PAIRS["clip_cov"]
    inputs = verl_inputs(0)
    torch.manual_seed(1)
    _, verl_grad = call(core_algos.get_policy_loss_fn("clip_cov"), inputs, actor_config("token-mean", **fields), False)
    torch.manual_seed(2)
    _, other_grad = call(plugin.policy_loss_fn(name, **options), inputs, actor_config("token-mean", **fields), False)
    assert (verl_grad - other_grad).abs().max() > 1e-3


# verl's losses that aggregate in a mode of their own whatever loss_agg_mode says: sapo takes
# seq-mean-token-mean; geo_mean a plain mean over its rows, rows of padding included, which is
# seq-mean-token-mean with verl's global batch size. ladbench_sapo and ladbench_gmpo follow the run's
# mode, so they agree with verl's where the run uses that mode. geo_mean's rollout_is_weights are a
# per-sequence geometric mean, not vanilla's per-token product: compared without them.
# verl name -> (ladbench loss, actor config fields, ratio spread, rollout_is_weights to try)
OWN_MODE = {
    "sapo": ("sapo", {"tau_pos": 2.0, "tau_neg": 3.0}, 0.6, (False, True)),
    "geo_mean": ("gmpo", {"clip_ratio_low": 0.1, "clip_ratio_high": 0.2}, 0.4, (False,)),
}


@pytest.mark.parametrize("verl_name", list(OWN_MODE))
def test_sapo_and_gmpo_equal_verls_in_their_own_mode(verl_name):
    name, fields, spread, weight_choices = OWN_MODE[verl_name]
    for weights in weight_choices:
        for seed in range(3):
            inputs = verl_inputs(seed, spread=spread)
            config = actor_config("seq-mean-token-mean", **fields)
            expected, expected_grad = call(core_algos.get_policy_loss_fn(verl_name), inputs, config, weights)
            value, grad = call(plugin.policy_loss_fn(name), inputs, config, weights)
            assert grad.abs().sum() > 0
            torch.testing.assert_close(value, expected, **TOLERANCE)
            torch.testing.assert_close(grad, expected_grad, **TOLERANCE)


def test_gmpo_on_the_clip_edge_equals_verls_geo_mean():
    """On-policy with a zero clip every log ratio sits on the clip's edge, where verl's geo_mean
    passes the gradient: so does ladbench_gmpo (a policy gradient, not a standstill)."""
    inputs = verl_inputs(1)
    inputs["old_log_prob"] = torch.where(inputs["response_mask"], inputs["log_prob"].detach(), inputs["old_log_prob"])
    config = actor_config("seq-mean-token-mean", clip_ratio_low=0.0, clip_ratio_high=0.0)
    expected, expected_grad = call(core_algos.get_policy_loss_fn("geo_mean"), inputs, config, False)
    value, grad = call(plugin.policy_loss_fn("gmpo"), inputs, config, False)
    assert expected_grad.abs().sum() > 0
    torch.testing.assert_close(value, expected, **TOLERANCE)
    torch.testing.assert_close(grad, expected_grad, **TOLERANCE)


def ladbench_batch(inputs: dict, log_prob: torch.Tensor) -> LossBatch:
    mask = inputs["response_mask"]
    return LossBatch(
        logp=log_prob,
        old_logp=inputs["old_log_prob"],
        advantages=torch.where(mask, inputs["advantages"], 0.0).sum(1) / mask.sum(1).clamp_min(1),
        mask=mask,
    )


AGGREGATIONS = {
    "token-mean": "token_mean",
    "seq-mean-token-mean": "seq_mean_token_mean",
    "seq-mean-token-sum-norm": "seq_mean_token_sum_norm",
}


@pytest.mark.parametrize("mode", list(AGGREGATIONS))
@pytest.mark.parametrize("options", [{"divergence": "js", "eta": 0.5}, {"divergence": "kl", "ratio_level": "sequence"}])
def test_lad_through_verl_equals_lad_called_directly(mode, options):
    for seed in range(3):
        inputs = verl_inputs(seed)
        value, grad = call(plugin.policy_loss_fn("lad", **options), inputs, actor_config(mode), False)
        log_prob = inputs["log_prob"].detach().clone().requires_grad_()
        direct, _ = get_loss("lad", aggregation=AGGREGATIONS[mode], **options)(ladbench_batch(inputs, log_prob))
        (direct_grad,) = torch.autograd.grad(direct, log_prob)
        torch.testing.assert_close(value, direct.detach(), **TOLERANCE)
        torch.testing.assert_close(grad, direct_grad, **TOLERANCE)


def test_every_default_loss_is_registered_and_is_the_factorys():
    registered = {name for name in core_algos.POLICY_LOSS_REGISTRY if name.startswith(plugin.PREFIX)}
    assert registered >= set(plugin.default_losses())
    assert {f"ladbench_lad_{divergence}" for divergence in ("js", "kl", "rkl", "tv")} <= registered
    assert {"ladbench_grpo", "ladbench_cispo", "ladbench_gmpo", "ladbench_sapo", "ladbench_gpg"} <= registered
    assert not registered & {"ladbench_flowrl", "ladbench_alpha_dpg", "ladbench_entropy_pg", "ladbench_f_tb"}
    inputs = verl_inputs(4)
    for verl_name, (name, options) in plugin.default_losses().items():
        config = actor_config("token-mean")
        torch.manual_seed(0)
        value, grad = call(core_algos.get_policy_loss_fn(verl_name), inputs, config, True)
        torch.manual_seed(0)
        expected, expected_grad = call(plugin.policy_loss_fn(name, **options), inputs, config, True)
        torch.testing.assert_close(value, expected, rtol=0, atol=0)
        torch.testing.assert_close(grad, expected_grad, rtol=0, atol=0)


def test_import_verl_registers_the_ladbench_losses_in_a_fresh_process():
    """The ``verl.plugins`` entry point: installing the extra is enough, in every worker."""
    code = (
        "import verl\n"
        "from verl.trainer.ppo.core_algos import POLICY_LOSS_REGISTRY\n"
        "print(' '.join(sorted(name for name in POLICY_LOSS_REGISTRY if name.startswith('ladbench_'))))\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "VERL_USE_EXTERNAL_PLUGINS"}
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == sorted(plugin.default_losses())


def test_a_loss_registered_under_a_name_of_ones_choice():
    fn = plugin.register("ladbench_test_lad_eta025", plugin.policy_loss_fn("lad", divergence="js", eta=0.25))
    assert core_algos.get_policy_loss_fn("ladbench_test_lad_eta025") is fn
    assert fn.ladbench_loss.eta == 0.25
    with pytest.raises(UserError, match="verl already has a policy loss 'vanilla'"):
        plugin.register("vanilla", fn)


@pytest.mark.parametrize(
    "name,options,message",
    [
        ("flowrl", {}, "ladbench_flowrl needs a learned log Z head \\(batch.log_z\\)"),
        ("alpha_dpg", {}, "ladbench_alpha_dpg needs reference-model log-probs"),
        ("entropy_pg", {}, "ladbench_entropy_pg needs per-token entropies"),
        ("entropy_adv", {}, "ladbench_entropy_adv needs per-token entropies"),
        ("f_tb", {}, "ladbench_f_tb needs reference-model log-probs"),
        ("grpo", {"beta": 0.04}, "ladbench_grpo needs reference-model log-probs .*use_kl_loss"),
        ("gspo", {"eps_high": 0.1}, "option 'eps_high' of ladbench_gspo comes from verl's config, .*clip_ratio_high"),
        ("lad", {"aggregation": "token_mean"}, "option 'aggregation' of ladbench_lad comes from .*loss_agg_mode"),
        ("lad", {"eta": -1.0}, "eta"),
        ("ppo", {}, "unknown loss 'ppo'; valid choices: "),
    ],
)
def test_what_verl_cannot_feed_is_refused_with_the_reason(name, options, message):
    with pytest.raises(UserError, match=message) as error:
        plugin.policy_loss_fn(name, **options)
    assert "\n" not in str(error.value)


def test_advantages_that_vary_within_a_response_are_refused():
    inputs = verl_inputs(0)
    inputs["advantages"] = inputs["advantages"] + 0.1 * torch.arange(LENGTH, dtype=F64)
    with pytest.raises(UserError, match="one advantage per response"):
        call(plugin.policy_loss_fn("grpo"), inputs, actor_config("token-mean"), False)


def test_shared_options_come_from_verls_config():
    """One YAML means the same for ladbench_<x> and <x>: a change of clip_ratio_high changes the
    loss, and clip_ratio_low / high fall back to clip_ratio as in verl."""
    loss = get_loss("gspo")
    config = actor_config("token-mean", clip_ratio=0.3, clip_ratio_low=None, clip_ratio_high=None)
    assert plugin.shared_options(loss, config) == {"eps_low": 0.3, "eps_high": 0.3}
    config = actor_config("token-mean", policy_loss={"ppo_kl_coef": 0.25, "kl_cov_ratio": 0.01})
    assert plugin.shared_options(get_loss("kl_cov"), config) == {"ratio": 0.01, "coef": 0.25}
    assert plugin.shared_options(get_loss("grpo"), actor_config("token-mean"))["delta"] == 3.0


def test_the_shipped_verl_experiment_composes_and_verl_scores_its_data(tmp_path):
    """experiments/verl: the config composes with verl's own ppo_trainer defaults into an actor
    config whose loss is ladbench_lad_js, and verl's GSM8K rule scores make_data.py's rows (1 for
    the answer after "####", 0 for another)."""
    import importlib.util
    from pathlib import Path

    from hydra import compose, initialize_config_dir
    from verl.utils.config import omega_conf_to_dataclass
    from verl.utils.reward_score import default_compute_score

    directory = Path(__file__).resolve().parents[1] / "experiments" / "verl"
    with initialize_config_dir(config_dir=str(directory), version_base=None):
        config = compose(config_name="lad_js_gsm")
    actor = omega_conf_to_dataclass(config.actor_rollout_ref.actor)
    assert actor.policy_loss.loss_mode == "ladbench_lad_js" and config.algorithm.adv_estimator == "grpo"
    assert core_algos.get_policy_loss_fn(actor.policy_loss.loss_mode).ladbench_loss.divergence == "js"

    spec = importlib.util.spec_from_file_location("make_data", directory / "make_data.py")
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    rows = make_data.rows("train", 4, seed=0)
    for row in rows:
        answer = row["reward_model"]["ground_truth"]
        assert row["prompt"][0]["content"].endswith('output the final answer after "####".')
        assert default_compute_score(row["data_source"], f"so the total is\n#### {answer}", answer) == 1.0
        assert default_compute_score(row["data_source"], f"#### {answer}1", answer) == 0.0


def test_methods_doc_lists_the_registered_losses():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "methods.md").read_text()
    listed = text.split("<!-- verl-losses -->\n", 1)[1].split("\n<!-- /verl-losses -->", 1)[0]
    assert listed == ", ".join(f"`{name}`" for name in plugin.default_losses())
