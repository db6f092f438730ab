"""The TRL plug-in is faithful or refuses: every GRPOConfig field that TRL 1.16's loss reads is
applied, refused with a one-line error naming it, or read only under a refused setting; a new
field fails here until it is classified. Where it refuses, TRL's own loss really differs; where it
accepts gspo and sapo, it equals TRL's own GSPO and SAPO. docs/methods.md shows what the code
accepts."""

import dataclasses
import inspect
import re
from pathlib import Path

import pytest
import torch
import transformers
import trl
from test_trl_plugin import make_trainer, micro_batch
from trl import GRPOConfig

from ladbench.errors import UserError
from ladbench.llm import trl_plugin
from ladbench.llm.tiny import tiny_tokenizer
from ladbench.llm.trl_plugin import APPLIED, INERT, REFUSED, loss_for_config
from ladbench.losses import get_loss

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # transformers 5 renames inside TRL
ROOT = Path(__file__).resolve().parents[2]

# GRPOConfig's own fields that do not enter TRL's loss given its inputs: the plug-in uses TRL's own
# advantages (rewards, groups, scaling), completion mask (truncation, tools), and log-probs
# (temperature, fp32 head), so these act on the plug-in's loss exactly as on TRL's.
NOT_LOSS = {
    "learning_rate", "model_init_kwargs", "trust_remote_code", "disable_dropout", "cast_lm_head_to_fp32",
    "remove_unused_columns", "num_generations", "num_generations_eval", "ds3_gather_for_generation",
    "shuffle_dataset", "pad_to_multiple_of", "generation_batch_size", "temperature", "top_p", "top_k", "min_p",
    "generation_kwargs", "chat_template_kwargs", "repetition_penalty", "cache_implementation", "vllm_mode",
    "vllm_model_impl", "vllm_enable_sleep_mode", "vllm_structured_outputs_regex", "vllm_server_base_url",
    "vllm_server_host", "vllm_server_port", "vllm_server_timeout", "vllm_group_port", "vllm_gpu_memory_utilization",
    "vllm_max_model_length", "vllm_tensor_parallel_size", "num_iterations", "reward_weights",
    "multi_objective_aggregation", "scale_rewards", "mask_truncated_completions", "sync_ref_model",
    "ref_model_mixup_alpha", "ref_model_sync_steps", "max_tool_calling_iterations", "log_completions",
    "log_multimodal", "num_completions_to_print", "log_unique_prompts", "log_completions_hub_repo",
    "use_transformers_continuous_batching", "transformers_continuous_batching_config", "use_transformers_paged",
}  # fmt: skip
# trainer attributes of _compute_loss that stand for a GRPOConfig field under another name
ALIASES = {
    "epsilon_low": "epsilon",
    "aux_loss_enabled": "router_aux_loss_coef",
    "_entropy_bonus_enabled": "entropy_coef",
}


def grpo_config_fields() -> set[str]:
    """The dataclass fields that GRPOConfig's own class body declares (TrainingArguments' that it
    redeclares with another default included)."""
    return set(inspect.get_annotations(GRPOConfig)) & {field.name for field in dataclasses.fields(GRPOConfig)}


def test_every_grpo_config_field_is_classified_once():
    tables = [set(APPLIED), set(REFUSED), set(INERT), NOT_LOSS]
    assert sum(len(table) for table in tables) == len(set().union(*tables)), "a field is in two tables"
    unclassified = grpo_config_fields() - set().union(*tables)
    assert not unclassified, f"GRPOConfig fields neither applied, refused, inert nor loss-free: {sorted(unclassified)}"
    assert set().union(*tables) - grpo_config_fields() == set(), "a table names a field GRPOConfig no longer has"


def test_every_field_that_trls_loss_reads_is_applied_refused_or_inert():
    source = inspect.getsource(trl.GRPOTrainer._compute_loss)
    read = set(re.findall(r"self\.args\.(\w+)", source)) | set(re.findall(r"self\.(\w+)", source))
    fields = {ALIASES.get(name, name) for name in read} & grpo_config_fields()
    assert {"top_entropy_quantile", "off_policy_mask_threshold", "entropy_coef", "router_aux_loss_coef"} <= fields
    assert fields - NOT_LOSS == fields, f"read by TRL's loss but listed as loss-free: {sorted(fields & NOT_LOSS)}"
    unhandled = fields - set(APPLIED) - set(REFUSED) - set(INERT)
    assert not unhandled, f"TRL's loss reads GRPOConfig fields the plug-in neither applies nor refuses: {unhandled}"


def config(tmp_path, **fields):
    return GRPOConfig(output_dir=str(tmp_path), report_to=[], use_cpu=True, **fields)


@pytest.mark.parametrize(
    "fields,named",
    [
        ({"top_entropy_quantile": 0.8}, "top_entropy_quantile=0.8"),
        ({"off_policy_mask_threshold": 0.5}, "off_policy_mask_threshold=0.5"),
        ({"entropy_coef": 0.01}, "entropy_coef=0.01"),
        ({"use_adaptive_entropy": True}, "use_adaptive_entropy=True"),
        ({"use_vllm": True}, "vllm_importance_sampling_correction=True"),
        ({"loss_type": "cispo"}, "loss_type='cispo'"),
        ({"sapo_temperature_neg": 2.0}, "sapo_temperature_neg=2.0 has no counterpart in ladbench loss 'lad'"),
        ({"importance_sampling_level": "sequence"}, "importance_sampling_level='sequence' is not"),
    ],
)
def test_refused_settings_name_their_field_in_one_line(tmp_path, fields, named):
    with pytest.raises(UserError, match=re.escape(f"GRPOConfig.{named}")) as error:
        loss_for_config(get_loss("lad"), config(tmp_path, **fields))
    assert "\n" not in str(error.value)


def test_vllm_without_its_correction_is_accepted(tmp_path):
    args = config(tmp_path, use_vllm=True, vllm_importance_sampling_correction=False)
    assert loss_for_config(get_loss("lad"), args).aggregation == "token_mean"


@pytest.mark.parametrize(
    "attributes",
    [
        {"top_entropy_quantile": 0.6},
        {"off_policy_mask_threshold": 0.01},
        {"entropy_coef": 0.5, "_entropy_bonus_enabled": True},
        {"use_vllm": True, "vllm_importance_sampling_correction": True},
    ],
    ids=lambda attributes: next(iter(attributes)),
)
def test_what_the_plugin_refuses_changes_trls_own_loss(tmp_path, attributes):
    """The refusals are not overcautious: TRL's own _compute_loss on one micro-batch changes when
    each refused setting is switched on (the issue measured 0.005 to 0.12)."""
    trainer = make_trainer(tmp_path, get_loss("grpo"), max_completion_length=8)
    model = trainer.model
    model.eval()
    inputs = micro_batch(torch.Generator().manual_seed(5), model=model)
    inputs["num_items_in_batch"] = inputs["completion_mask"].sum()
    inputs["sampling_per_token_logps"] = inputs["old_per_token_logps"] + 1.0
    inputs["importance_sampling_ratio"] = 0.5 + torch.rand(4, 5, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        plain = trl.GRPOTrainer._compute_loss(trainer, model, inputs)
        for name, value in attributes.items():
            setattr(trainer, name, value)
        changed = trl.GRPOTrainer._compute_loss(trainer, model, inputs)
    assert abs(float(changed - plain)) > 1e-4


def test_moe_auxiliary_loss_is_refused(tmp_path):
    tokenizer = tiny_tokenizer()
    moe = transformers.MixtralForCausalLM(
        transformers.MixtralConfig(
            vocab_size=len(tokenizer),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            num_local_experts=2,
            num_experts_per_tok=1,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    )
    with pytest.raises(UserError, match=r"GRPOConfig.router_aux_loss_coef=None \(the model's own 0.001\) adds the MoE"):
        make_trainer(tmp_path, get_loss("lad"), model=moe)
    assert make_trainer(tmp_path, get_loss("lad"), model=moe, router_aux_loss_coef=0.0).aux_loss_enabled is False


@pytest.mark.parametrize(
    "loss,own",
    [
        (
            get_loss("gspo"),
            {"loss_type": "grpo", "importance_sampling_level": "sequence", "epsilon": 0.05, "epsilon_high": 0.08},
        ),
        (get_loss("sapo"), {"loss_type": "grpo", "sapo_temperature_pos": 2.0, "sapo_temperature_neg": 3.0}),
    ],
    ids=["gspo", "sapo"],
)
def test_gspo_and_sapo_equal_trls_own(tmp_path, loss, own):
    """ladbench's gspo with loss_type='grpo' and importance_sampling_level='sequence' is TRL's GSPO;
    ladbench's sapo with loss_type='grpo' (its sequence mean) is TRL's loss_type='sapo'. A row of
    padding only adds 0 in both."""
    trainer = make_trainer(tmp_path, loss, max_completion_length=8, gradient_accumulation_steps=2, **own)
    model = trainer.model
    model.train()
    trainer.current_gradient_accumulation_steps = 2
    inputs = micro_batch(torch.Generator().manual_seed(7), lengths=(5, 3, 0, 2), model=model)
    parameter = model.model.layers[-1].mlp.down_proj.weight
    plugin = trainer._compute_loss(model, inputs)
    (plugin_gradient,) = torch.autograd.grad(plugin, parameter)
    if loss.name == "sapo":
        trainer.loss_type = "sapo"
    trl_own = trl.GRPOTrainer._compute_loss(trainer, model, inputs)
    (own_gradient,) = torch.autograd.grad(trl_own, parameter)
    assert float(trl_own.detach()) != 0.0
    torch.testing.assert_close(plugin, trl_own, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(plugin_gradient, own_gradient, rtol=1e-4, atol=1e-7)


def test_clip_cov_and_the_new_losses_train_through_the_plugin(tmp_path):
    for name in ("clip_cov", "cispo", "gpg", "sapo"):
        trainer = make_trainer(tmp_path / name, get_loss(name), steps=1)
        trainer.train()
        assert any("ladbench/ratio_mean" in entry for entry in trainer.state.log_history)


def test_methods_doc_lists_exactly_what_the_plugin_accepts(tmp_path):
    text = (ROOT / "docs" / "methods.md").read_text()
    block = re.search(r"<!-- trl-plugin -->\n(.*?)\n<!-- /trl-plugin -->", text, re.S)
    assert block, "docs/methods.md has no trl-plugin block"
    expected = trl_plugin.support_table(lambda **fields: config(tmp_path, **fields))
    assert block.group(1) == expected, "regenerate the block: python -m ladbench.llm.trl_plugin"
