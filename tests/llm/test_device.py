"""--device and --dtype: resolution and its one-line errors, tensors on the policy's device, float32
loss inputs under bfloat16 forward passes, the record in the manifests and summary.json, resume, and the
static KV cache path of the sampler (what CUDA uses) checked on the CPU."""

import json

import pytest
import torch
from llm_helpers import tiny_config
from typer.testing import CliRunner

import ladbench.llm.evaluate as evaluate_module
import ladbench.llm.trainer as trainer_module
from ladbench.cli_llm import llm_app
from ladbench.errors import UserError
from ladbench.llm.config import EvalConfig
from ladbench.llm.device import autocast, resolve_placement
from ladbench.llm.evaluate import evaluate
from ladbench.llm.log_z import LogZHead
from ladbench.llm.models import load_policy
from ladbench.llm.rollout import StaticKVCache, sample, token_logp_and_entropy
from ladbench.llm.tasks.base import ANSWER_ONLY
from ladbench.llm.trainer import train
from ladbench.losses import Loss

DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
QUESTIONS = ["1+1?", "What is 22+3?"]


def fake_gpus(monkeypatch, count: int, bf16: bool = True) -> None:
    """torch.cuda as seen on a machine with ``count`` GPUs (only the queries resolve_placement makes)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=None: f"Fake GPU {index}")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16)


@pytest.mark.parametrize(
    "device, dtype, gpus, message",
    [
        ("tpu", "float32", 0, "unknown --device 'tpu'; valid choices: auto, cpu, cuda, cuda:N"),
        ("cuda:x", "float32", 1, "unknown --device 'cuda:x'; valid choices: auto, cpu, cuda, cuda:N"),
        ("cpu", "float16", 0, "unknown --dtype 'float16'; valid choices: float32, bfloat16"),
        (
            "cuda",
            "float32",
            0,
            "--device 'cuda' needs CUDA, but torch .* sees no CUDA device; valid choices here: auto, cpu$",
        ),
        ("cuda:0", "float32", 0, "--device 'cuda:0' needs CUDA"),
        (
            "cuda:3",
            "float32",
            1,
            "--device 'cuda:3': this machine has 1 CUDA device.*valid choices here: auto, cpu, cuda, cuda:0$",
        ),
        ("cuda", "bfloat16", 1, "--dtype 'bfloat16' is not supported by Fake GPU 0; use float32"),
    ],
)
def test_placement_errors_are_one_line(monkeypatch, device, dtype, gpus, message):
    fake_gpus(monkeypatch, gpus, bf16=False)
    with pytest.raises(UserError, match=message) as error:
        resolve_placement(device, dtype)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "requested, gpus, resolved",
    [("auto", 0, "cpu"), ("cpu", 2, "cpu"), ("auto", 2, "cuda:0"), ("cuda", 2, "cuda:0"), ("cuda:1", 2, "cuda:1")],
)
def test_placement_resolves_to_a_concrete_device(monkeypatch, requested, gpus, resolved):
    fake_gpus(monkeypatch, gpus)
    placement = resolve_placement(requested, "bfloat16")
    assert placement.device == resolved
    assert placement.name == (f"Fake GPU {resolved[-1]}" if gpus and resolved != "cpu" else placement.name)
    assert placement.name and placement.dtype == "bfloat16"
    assert placement.record() == {"requested": requested, "resolved": resolved, "name": placement.name}


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["train", "--model", "tiny", "--device", "cuda", "--out", "RUN"], "--device 'cuda' needs CUDA"),
        (["train", "--model", "tiny", "--device", "tpu", "--out", "RUN"], "unknown --device 'tpu'"),
        (["train", "--model", "tiny", "--dtype", "half", "--out", "RUN"], "unknown --dtype 'half'"),
        (["eval", "tiny", "--device", "cuda:1", "--out", "RUN"], "--device 'cuda:1' needs CUDA"),
        (["eval", "tiny", "--dtype", "float64", "--out", "RUN"], "unknown --dtype 'float64'"),
    ],
)
def test_cli_device_errors_exit_2_before_anything_is_written(monkeypatch, tmp_path, arguments, message):
    fake_gpus(monkeypatch, 0)
    run = tmp_path / "run"
    result = CliRunner().invoke(llm_app, [str(run) if a == "RUN" else a for a in arguments])
    assert result.exit_code == 2, result.output
    assert message in result.output and result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not run.exists()


@pytest.fixture
def spy(monkeypatch):
    """Records the LossBatch of every loss call, the parameters and gradients at every optimizer step,
    and the dtype of the output layer's results (what the model computed in) in training and eval."""
    seen = {"batches": [], "parameters": [], "logits_dtypes": set(), "devices": []}
    original_call, original_step = Loss.__call__, torch.optim.AdamW.step

    def recording_call(self, batch):
        seen["batches"].append(batch)
        return original_call(self, batch)

    def recording_step(self, *args, **kwargs):
        seen["parameters"] += [p for group in self.param_groups for p in group["params"]]
        return original_step(self, *args, **kwargs)

    def hooked(load):
        def load_policy(spec, device="cpu"):
            model, tokenizer = load(spec, device)
            seen["devices"].append(model.device)
            model.get_output_embeddings().register_forward_hook(  # eager passes only (CUDA compiles decoding)
                lambda module, inputs, output: (
                    None if torch.compiler.is_compiling() else seen["logits_dtypes"].add(output.dtype)
                )
            )
            return model, tokenizer

        return load_policy

    monkeypatch.setattr(Loss, "__call__", recording_call)
    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)
    monkeypatch.setattr(trainer_module, "load_policy", hooked(trainer_module.load_policy))
    monkeypatch.setattr(evaluate_module, "load_policy", hooked(evaluate_module.load_policy))
    return seen


def small_config(method, steps=2, options=None, **overrides):
    return tiny_config(loss={"name": method, **(options or {})}, steps=steps, **overrides)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
@pytest.mark.parametrize("method, options", [("lad", {}), ("grpo", {"beta": 0.1}), ("flowrl", {}), ("entropy_pg", {})])
def test_training_hands_float32_tensors_on_the_model_device(
    tmp_path, length_rewards, spy, device, dtype, method, options
):
    train(small_config(method, options=options, device=device, dtype=dtype), tmp_path, progress=False)
    (model_device,) = spy["devices"]
    assert model_device.type == device
    assert spy["logits_dtypes"] == {getattr(torch, dtype)}  # every forward pass ran in the dtype asked for
    assert len(spy["batches"]) == 2
    for batch in spy["batches"]:
        fields = {
            name: getattr(batch, name) for name in ("logp", "old_logp", "advantages", "ref_logp", "log_z", "entropy")
        }
        present = {name: value for name, value in fields.items() if value is not None}
        assert {"logp", "old_logp", "advantages", "entropy"} <= set(present)
        assert ("ref_logp" in present) == (method in ("grpo", "flowrl")) and ("log_z" in present) == (
            method == "flowrl"
        )
        for name, value in present.items():
            assert value.device == model_device, name
            assert value.dtype == torch.float32, name
        assert batch.mask.device == model_device and not batch.mask.dtype.is_floating_point
    assert spy["parameters"]
    for parameter in spy["parameters"]:
        assert parameter.device == model_device and parameter.dtype == torch.float32  # float32 master weights
        assert parameter.grad is None or (
            parameter.grad.device == model_device and parameter.grad.dtype == torch.float32
        )
    saved = json.loads((tmp_path / "manifest.json").read_text())
    assert saved["config"]["device"] == device and saved["config"]["dtype"] == dtype
    (ran_on,) = saved["devices"]
    assert ran_on["from_step"] == 0 and ran_on["requested"] == device and ran_on["resolved"].startswith(device)
    assert ran_on["name"]


def test_bfloat16_eval_records_its_device(tmp_path, length_rewards, spy):
    train(small_config("grpo", steps=1, dtype="bfloat16"), tmp_path / "run", progress=False)
    spy["logits_dtypes"].clear()
    summary = evaluate(
        EvalConfig(model=str(tmp_path / "run"), task="between", k=2, prompts=3, max_new_tokens=5, dtype="bfloat16"),
        tmp_path / "eval",
    )
    assert spy["logits_dtypes"] == {torch.bfloat16}
    placement = resolve_placement("auto", "bfloat16")
    assert summary["device"] == placement.record() and summary["dtype"] == "bfloat16"
    assert json.loads((tmp_path / "eval" / "summary.json").read_text())["device"]["resolved"] == placement.device
    saved = json.loads((tmp_path / "eval" / "manifest.json").read_text())
    assert saved["device"] == placement.record() and saved["config"]["dtype"] == "bfloat16"
    assert summary["train_config"]["dtype"] == "bfloat16"


def test_bfloat16_resume_repeats_an_uninterrupted_run(tmp_path, length_rewards):
    for steps, run in ((2, "resumed"), (3, "resumed"), (3, "straight")):
        train(small_config("flowrl", steps=steps, dtype="bfloat16", device="cpu"), tmp_path / run, progress=False)
    resumed, straight = (
        [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
        for name in ("resumed", "straight")
    )
    assert [r["step"] for r in resumed] == [1, 2, 3]
    for key in ("reward_mean", "loss", "grad_norm"):
        assert [r[key] for r in resumed] == [r[key] for r in straight], key
    with pytest.raises(UserError, match=r"different settings \(dtype\)"):
        train(small_config("flowrl", steps=4, device="cpu"), tmp_path / "resumed", progress=False)
    train(small_config("flowrl", steps=4, dtype="bfloat16"), tmp_path / "resumed", progress=False)  # --device auto
    saved = json.loads((tmp_path / "resumed" / "manifest.json").read_text())
    auto = resolve_placement("auto", "bfloat16").device
    # where it started and where each resume ran: another --device may resume a run
    assert [(d["from_step"], d["requested"], d["resolved"]) for d in saved["devices"]] == [
        (0, "cpu", "cpu"),
        (2, "cpu", "cpu"),
        (3, "auto", auto),
    ]


def test_runs_from_before_device_and_dtype_resume(tmp_path, length_rewards):
    train(small_config("lad", steps=1), tmp_path, progress=False)
    path = tmp_path / "manifest.json"
    saved = json.loads(path.read_text())
    for key in ("device", "dtype"):
        del saved["config"][key]
    del saved["devices"]
    path.write_text(json.dumps(saved))
    train(small_config("lad", steps=2), tmp_path, progress=False)
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 2
    assert [d["from_step"] for d in json.loads(path.read_text())["devices"]] == [1]


def test_bfloat16_scores_are_float32_and_close_to_float32_scores(tiny):
    model, tokenizer = tiny
    torch.manual_seed(3)
    rollout = sample(model, tokenizer, QUESTIONS, 3, 6, ANSWER_ONLY, behaviour_logp=True, dtype="bfloat16")
    assert rollout.behaviour_logp.dtype == torch.float32
    with torch.no_grad():
        exact, exact_entropy, _ = token_logp_and_entropy(model, rollout)
        low, low_entropy, hidden = token_logp_and_entropy(model, rollout, hidden=True, dtype="bfloat16")
    assert low.dtype == low_entropy.dtype == torch.float32
    mask = rollout.completion_mask.bool()
    assert not torch.equal(low[mask], exact[mask])  # the bfloat16 path really ran in bfloat16
    assert torch.allclose(low[mask], exact[mask], atol=0.05) and torch.allclose(low_entropy, exact_entropy, atol=0.05)
    assert torch.allclose(rollout.behaviour_logp[mask], low[mask], atol=0.05)
    head = LogZHead(model.config.hidden_size)
    with autocast("cpu", "bfloat16"):
        assert head(hidden.bfloat16(), rollout.prompt_mask).dtype == torch.float32


@pytest.mark.parametrize("device", DEVICES)
def test_static_cache_sampling_scores_like_the_policy(device):
    """The CUDA path (one reused static KV cache, prompts padded to a bucket; on CUDA a compiled
    decoding step), also on the CPU: the sampler's behaviour log-probs are the policy's log-probs of
    the sampled tokens."""
    model, tokenizer = load_policy("tiny", device)
    tolerance = 1e-5 if device == "cpu" else 1e-3  # compiled kernels round differently from eager ones
    cache = StaticKVCache(model)
    torch.manual_seed(4)
    rollout = sample(model, tokenizer, QUESTIONS, 3, 6, ANSWER_ONLY, behaviour_logp=True, cache=cache)
    assert rollout.prompt_ids.shape[1] % 16 == 0 and rollout.completion_ids.shape == (6, 6)
    with torch.no_grad():
        logp, _, _ = token_logp_and_entropy(model, rollout)
    mask = rollout.completion_mask.bool()
    assert torch.allclose(rollout.behaviour_logp[mask], logp[mask], atol=tolerance)
    first = cache.cache
    keys = [layer.keys.data_ptr() for layer in first.layers]
    again = sample(model, tokenizer, QUESTIONS, 3, 5, ANSWER_ONLY, behaviour_logp=True, cache=cache)  # reused
    assert cache.cache is first and [layer.keys.data_ptr() for layer in first.layers] == keys
    with torch.no_grad():
        logp, _, _ = token_logp_and_entropy(model, again)
    mask = again.completion_mask.bool()
    assert torch.allclose(again.behaviour_logp[mask], logp[mask], atol=tolerance)  # reset: nothing of the last one
    sample(model, tokenizer, QUESTIONS, 2, 5, ANSWER_ONLY, cache=cache)  # another batch size: a new cache
    assert cache.cache is not first and cache.batch_size == 4


def test_static_cache_refuses_bfloat16(tiny):
    model, tokenizer = tiny
    with pytest.raises(ValueError, match="static KV cache needs dtype float32"):
        sample(model, tokenizer, QUESTIONS, 2, 4, ANSWER_ONLY, dtype="bfloat16", cache=StaticKVCache(model))
