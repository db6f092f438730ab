"""The TRL plug-in: GRPOTrainer with the shared LAD loss gives the direct get_loss value and trains."""

import pytest
import torch
from datasets import Dataset
from trl import GRPOConfig

from ladbench.errors import UserError
from ladbench.losses import LossBatch, get_loss
from ladbench.llm.tiny import tiny_model, tiny_tokenizer
from ladbench.llm.trl_plugin import SharedLossGRPOTrainer

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # transformers 5 renames inside TRL


def make_trainer(tmp_path, loss, steps=1):
    tokenizer = tiny_tokenizer()
    dataset = Dataset.from_list([{"prompt": f"Question: {i} + 1?\nAnswer:"} for i in range(8)])
    args = GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=5,
        max_steps=steps,
        report_to=[],
        use_cpu=True,
        logging_steps=1,
        save_strategy="no",
        learning_rate=1e-2,
    )
    return SharedLossGRPOTrainer(
        model=tiny_model(tokenizer),
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
