"""The TRL plug-in: GRPOTrainer with a shared loss gives the direct get_loss value, follows
GRPOConfig's loss settings as TRL's own loss does, and trains."""

import pytest
import torch
import trl
from datasets import Dataset
from trl import GRPOConfig
from trl_reference import trl_grpo_loss

from ladbench.errors import UserError
from ladbench.llm.tiny import tiny_model, tiny_tokenizer
from ladbench.llm.trl_plugin import SharedLossGRPOTrainer, loss_for_config
from ladbench.losses import LossBatch, get_loss

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # transformers 5 renames inside TRL


def make_trainer(tmp_path, loss, steps=1, model=None, **config):
    tokenizer = tiny_tokenizer()
    dataset = Dataset.from_list([{"prompt": f"Question: {i} + 1?\nAnswer:"} for i in range(8)])
    args = GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=config.pop("max_completion_length", 5),
        max_steps=steps,
        report_to=[],
        use_cpu=True,
        logging_steps=1,
        save_strategy="no",
        learning_rate=1e-2,
        **config,
    )
    return SharedLossGRPOTrainer(
        model=tiny_model(tokenizer) if model is None else model,
        reward_funcs=lambda completions, **_: [float(len(c) % 2) for c in completions],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        ladbench_loss=loss,
    )


def test_plugin_loss_equals_direct_call(tmp_path):
    loss = get_loss("lad", divergence="js", eta=0.25)
    trainer = make_trainer(tmp_path, loss)
    model = trainer.model
    generator = torch.Generator().manual_seed(0)
    prompt_ids = torch.randint(4, 100, (4, 3), generator=generator)
    completion_ids = torch.randint(4, 100, (4, 5), generator=generator)
    completion_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [1, 0, 0, 0, 0]])
    advantages = torch.tensor([1.0, -1.0, 0.5, -0.5])
    old_logp = -torch.rand(4, 5, generator=generator) - 3.0
    inputs = {
        "prompt_ids": prompt_ids,
        "prompt_mask": torch.ones_like(prompt_ids),
        "completion_ids": completion_ids,
        "completion_mask": completion_mask,
        "advantages": advantages,
        "old_per_token_logps": old_logp,
        "num_items_in_batch": completion_mask.sum(),
    }
    model.eval()
    plugin_value = trainer._compute_loss(model, inputs)
    logits = model(torch.cat([prompt_ids, completion_ids], dim=1)).logits[:, 2:-1]
    logp = logits.log_softmax(-1).gather(-1, completion_ids[..., None]).squeeze(-1)
    direct, _ = loss(LossBatch(logp=logp, old_logp=old_logp, advantages=advantages, mask=completion_mask))
    assert torch.allclose(plugin_value, direct, atol=1e-5)
    assert float(direct.detach()) != 0.0


def test_plugin_trains_and_logs_loss_metrics(tmp_path):
    trainer = make_trainer(tmp_path, get_loss("lad", divergence="js", eta=0.25), steps=2)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.train()
    logged = [entry for entry in trainer.state.log_history if "ladbench/ratio_mean" in entry]
    assert len(logged) == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=True))


def test_plugin_refuses_flowrl(tmp_path):
    with pytest.raises(UserError, match="log Z"):
        make_trainer(tmp_path, get_loss("flowrl"))
    with pytest.raises(UserError, match=r"alpha_dpg needs .*batch.rewards.*lacks"):
        make_trainer(tmp_path, get_loss("alpha_dpg"))
    with pytest.raises(UserError, match=r"f_tb needs reference log-probs .*only with beta > 0"):
        make_trainer(tmp_path, get_loss("f_tb"))


def micro_batch(generator, rows=4, width=5, lengths=(5, 3, 4, 1), model=None):
    """TRL's inputs for one micro-batch: random ids, a right-padded mask, ratios from ~0.4 to 2.5
    around the tiny model's own log-probs (so every clip binds somewhere), a reference policy."""
    prompt_ids = torch.randint(4, 100, (rows, 3), generator=generator)
    completion_ids = torch.randint(4, 100, (rows, width), generator=generator)
    mask = (torch.arange(width)[None] < torch.tensor(lengths)[:, None]).long()
    with torch.no_grad():
        logits = model(torch.cat([prompt_ids, completion_ids], dim=1)).logits[:, 2:-1]
        logp = logits.log_softmax(-1).gather(-1, completion_ids[..., None]).squeeze(-1)
    return {
        "prompt_ids": prompt_ids,
        "prompt_mask": torch.ones_like(prompt_ids),
        "completion_ids": completion_ids,
        "completion_mask": mask,
        "advantages": torch.randn(rows, generator=generator),
        "old_per_token_logps": logp + 0.5 * torch.randn(rows, width, generator=generator),
        "ref_per_token_logps": logp + 0.4 * torch.randn(rows, width, generator=generator),
    }


def trl_logp(trainer, inputs):
    """TRL's own per-token log-probs of the completion tokens (its fused log-softmax path)."""
    input_ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
    attention_mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
    width = inputs["completion_ids"].shape[1]
    return trainer._get_per_token_logps_and_entropies(trainer.model, input_ids, attention_mask, width)[0]


CONFIG_VARIANTS = [
    {"beta": 0.04},
    {"beta": 0.04, "use_bias_correction_kl": False},
    {"delta": 1.3, "epsilon_high": 0.28},
]


@pytest.mark.parametrize("loss_type", ["grpo", "bnpo", "dr_grpo", "dapo"])
@pytest.mark.parametrize("variant", CONFIG_VARIANTS, ids=str)
def test_plugin_grpo_equals_trl_own_loss(tmp_path, loss_type, variant):
    """ladbench's grpo through the plug-in and TRL's own ``_compute_loss``, on the same trainer and
    micro-batch (training mode, 2 accumulation steps, completions shorter than
    max_completion_length): same value, same gradient; and both equal the formula reference."""
    model_path = tmp_path / "tiny"
    tiny_model(tiny_tokenizer()).save_pretrained(model_path)  # TRL loads a reference model from a path when beta > 0
    trainer = make_trainer(
        tmp_path,
        get_loss("grpo"),
        model=str(model_path),
        loss_type=loss_type,
        max_completion_length=8,
        gradient_accumulation_steps=2,
        **variant,
    )
    model = trainer.model
    model.train()
    trainer.current_gradient_accumulation_steps = 2  # set by Trainer.train() in a real run
    inputs = micro_batch(torch.Generator().manual_seed(3), model=model)
    inputs["num_items_in_batch"] = torch.tensor(2.5 * float(inputs["completion_mask"].sum()))  # other micro-batches
    parameter = model.model.layers[-1].mlp.down_proj.weight

    plugin = trainer._compute_loss(model, inputs)
    (plugin_gradient,) = torch.autograd.grad(plugin, parameter)
    own = trl.GRPOTrainer._compute_loss(trainer, model, inputs)
    (own_gradient,) = torch.autograd.grad(own, parameter)
    assert float(own.detach()) != 0.0
    torch.testing.assert_close(plugin, own, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(plugin_gradient, own_gradient, rtol=1e-4, atol=1e-7)

    logp = trl_logp(trainer, inputs)
    # dapo: num_items_in_batch / processes * accumulation steps / steps_per_generation (= 2 / 2)
    expected = trl_grpo_loss(
        logp,
        inputs["old_per_token_logps"],
        inputs["advantages"],
        inputs["completion_mask"],
        loss_type=loss_type,
        ref_logp=inputs["ref_per_token_logps"],
        max_completion_length=8,
        dapo_normaliser=inputs["num_items_in_batch"],
        **variant,
    )
    expected = expected if loss_type == "dapo" else expected / 2
    torch.testing.assert_close(plugin, expected, rtol=1e-5, atol=1e-7)


def test_plugin_dapo_is_the_token_mean_of_the_whole_accumulated_and_distributed_batch(tmp_path, monkeypatch):
    """Two micro-batches of different token counts, accumulated (one process) or one per process
    (two processes, gradients averaged): the plug-in's dapo losses add up to the token mean of all
    tokens, as TRL's dapo does; a per-micro-batch token mean (bnpo) does not."""
    loss = get_loss("lad", divergence="js", eta=0.5)
    trainer = make_trainer(tmp_path, loss, gradient_accumulation_steps=2)
    model = trainer.model
    model.train()
    trainer.current_gradient_accumulation_steps = 2
    generator = torch.Generator().manual_seed(4)
    parts = [
        micro_batch(generator, lengths=(5, 5, 5, 4), model=model),
        micro_batch(generator, lengths=(1, 2, 1, 1), model=model),
    ]
    total_tokens = sum(part["completion_mask"].sum() for part in parts)
    for part in parts:
        part["num_items_in_batch"] = total_tokens
    accumulated = sum(trainer._compute_loss(model, part) for part in parts)

    def per_token_terms(part):
        logp = trl_logp(trainer, part)
        u = part["advantages"][:, None] / 0.5
        x = (logp - part["old_per_token_logps"] - u).exp()
        f = 0.5 * (x * x.log() - (x + 1) * ((x + 1) / 2).log())  # JS, the LAD paper's table
        return u.exp() * f * part["completion_mask"]

    whole = sum(per_token_terms(part).sum() for part in parts) / total_tokens
    per_micro_batch = sum(per_token_terms(part).sum() / part["completion_mask"].sum() for part in parts) / 2
    torch.testing.assert_close(accumulated, whole, rtol=1e-5, atol=1e-7)
    assert abs(float((per_micro_batch - whole).detach())) > 1e-3 * abs(float(whole.detach()))

    monkeypatch.setattr(type(trainer.accelerator), "num_processes", property(lambda self: 2))
    trainer.current_gradient_accumulation_steps = 1
    trainer.args.steps_per_generation = 1
    averaged = sum(trainer._compute_loss(model, part) for part in parts) / 2  # DDP averages the processes
    torch.testing.assert_close(averaged, whole, rtol=1e-5, atol=1e-7)


def test_loss_type_and_config_fields_set_the_loss_options(tmp_path):
    def config(**fields):
        return GRPOConfig(output_dir=str(tmp_path), report_to=[], use_cpu=True, **fields)

    expected = {
        "grpo": "seq_mean_token_mean",
        "bnpo": "token_mean",
        "dr_grpo": "seq_mean_token_sum_norm",
        "dapo": "token_mean",
    }
    for loss_type, aggregation in expected.items():
        assert loss_for_config(get_loss("lad"), config(loss_type=loss_type)).aggregation == aggregation
    grpo = loss_for_config(
        get_loss("grpo"), config(beta=0.04, use_bias_correction_kl=False, delta=1.5, epsilon=0.1, epsilon_high=0.28)
    )
    assert (grpo.beta, grpo.kl_bias_correction, grpo.delta, grpo.eps_low, grpo.eps_high) == (
        0.04,
        False,
        1.5,
        0.1,
        0.28,
    )
    assert loss_for_config(get_loss("grpo", delta=1.5), config(delta=1.5)).delta == 1.5


@pytest.mark.parametrize(
    "loss,fields,message",
    [
        (
            get_loss("lad"),
            {"loss_type": "sapo"},
            "GRPOConfig.loss_type='sapo' has no ladbench equivalent; valid choices",
        ),
        (get_loss("grpo"), {"importance_sampling_level": "sequence"}, "importance_sampling_level='sequence' is not"),
        (get_loss("lad"), {"delta": 2.0}, "GRPOConfig.delta=2.0 has no counterpart in ladbench loss 'lad'"),
        (get_loss("lad"), {"beta": 0.04}, "GRPOConfig.beta=0.04 has no counterpart in ladbench loss 'lad'"),
        (get_loss("grpo", aggregation="seq_mean_token_mean"), {}, "GRPOConfig.loss_type='dapo' asks for aggregation"),
        (
            get_loss("grpo", delta=3.0),
            {"delta": 2.0},
            "asks for delta=2.0, but ladbench loss 'grpo' was given delta=3.0",
        ),
    ],
)
def test_plugin_refuses_config_it_cannot_honour(tmp_path, loss, fields, message):
    args = GRPOConfig(output_dir=str(tmp_path), report_to=[], use_cpu=True, **fields)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        loss_for_config(loss, args)
