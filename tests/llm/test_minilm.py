"""The mini-LM track: corpus, pretraining, exact evaluation, training on the mini model."""

from __future__ import annotations

import json
import math
from collections import defaultdict

import numpy as np
import pytest

from ladbench.errors import UserError
from ladbench.llm.minilm.corpus import CORPORA, FORMATS, CorpusOptions, get_corpus, recorded_corpus
from ladbench.llm.minilm.pretrain import Documents, PretrainConfig, minilm_tokenizer, pretrain
from ladbench.llm.tasks import get_task

SMALL = {
    "hidden_size": 32,
    "layers": 2,
    "heads": 4,
    "steps": 150,
    "batch_size": 64,
    "lr": 1e-2,
    "warmup": 10,
    "eval_prompts": 4,
    "check_samples": 4,
}


@pytest.fixture(scope="module")
def small_minilm(tmp_path_factory):
    """A small mini-LM pretrained in seconds (a trained checkpoint, if a weak one)."""
    return pretrain(PretrainConfig.build(**SMALL), tmp_path_factory.mktemp("cache"), progress=False)


@pytest.mark.parametrize("name", list(CORPORA))
def test_corpus_reproduces_prior_error_rates_and_formats(name):
    options = CorpusOptions(prior_exponent=1.2, bare_share=0.7, bare_error=0.5, worked_error=0.2)
    corpus = get_corpus(name, options)
    task = get_task(name)
    for problem in corpus.pretrain_problems()[:: max(1, len(corpus.pretrain_problems()) // 25)]:
        responses = corpus.responses(problem)
        assert math.isclose(sum(r.prob for r in responses), 1.0, rel_tol=1e-9)
        by_format = defaultdict(float)
        wrong = defaultdict(float)
        keys = defaultdict(float)
        for response in responses:
            by_format[response.format] += response.prob
            if response.correct:
                keys[response.key] += response.prob
            else:
                wrong[response.format] += response.prob
            grade = task.grade(problem, response.text)
            assert grade.correct == response.correct, (problem.metadata, response)
            if response.correct:
                assert grade.key == response.key
        assert by_format["bare"] == pytest.approx(0.7) and by_format["worked"] == pytest.approx(0.3)
        assert wrong["bare"] / by_format["bare"] == pytest.approx(0.5)
        assert wrong["worked"] / by_format["worked"] == pytest.approx(0.2)
        total = sum(keys.values())
        assert total == pytest.approx(1 - (0.7 * 0.5 + 0.3 * 0.2))  # 1 - the error rate of each format by its share
        prior = corpus.prior(problem)
        assert {key: value / total for key, value in keys.items()} == pytest.approx(prior)
        ranks = list(prior.values())
        assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1]  # Zipf: skewed, not uniform


def test_zipf_exponent_zero_is_uniform_and_rule_ranks_multiples_of_five_first():
    corpus = get_corpus("between", {"prior_exponent": 0.0})
    problem = next(p for p in corpus.pretrain_problems() if p.metadata == {"low": 12, "high": 27})
    assert list(corpus.prior(problem).values()) == pytest.approx([1 / 14] * 14)
    assert corpus.ranking(problem)[:3] == ["15", "20", "25"]


@pytest.mark.parametrize("name", list(CORPORA))
def test_enumeration_lists_every_valid_answer_in_every_format_and_pretraining_never_sees_eval_prompts(name):
    corpus = get_corpus(name)
    task = get_task(name)
    eval_problems = task.problems("eval", 16)
    for problem in eval_problems:
        enumerated = corpus.correct_responses(problem)
        assert {r.key for r in enumerated} == set(task.valid_answers(problem))
        assert {r.format for r in enumerated} == set(FORMATS)
        assert all(task.grade(problem, r.text).correct for r in enumerated)
        # every response the corpus can produce correctly is enumerated
        produced = {r.text for r in corpus.responses(problem) if r.correct}
        assert produced <= {r.text for r in enumerated}
    held_out = {corpus.prompt(p) for p in eval_problems}
    assert not held_out & {corpus.prompt(p) for p in corpus.pretrain_problems()}


def test_soft_targets_are_the_corpus_next_token_distribution():
    corpus = get_corpus("between")
    tokenizer = minilm_tokenizer()
    problem = corpus.pretrain_problems()[7]
    documents = Documents(corpus, tokenizer, [problem])
    ids, probs, targets, _ = documents.of(0)
    assert np.allclose(targets[:, 0].sum(-1), 1.0)
    first = defaultdict(float)
    for row, p in zip(ids, probs, strict=True):
        first[row[0]] += p
    for token, mass in first.items():
        assert targets[0, 0, token] == pytest.approx(mass)


def test_pretraining_is_deterministic_and_cached(tmp_path, small_minilm, monkeypatch):
    from safetensors.torch import load_file

    from ladbench.llm.minilm import pretrain as module

    again = pretrain(PretrainConfig.build(**SMALL), tmp_path, progress=False)
    first, second = load_file(small_minilm / "model.safetensors"), load_file(again / "model.safetensors")
    assert all((first[name] == second[name]).all() for name in first)
    record = json.loads((again / "manifest.json").read_text())
    assert record["kind"] == "minilm_pretrain" and record["config_hash"] == again.name.rpartition("-")[2]
    assert record["loss_curve"][-1]["loss"] < record["loss_curve"][0]["loss"]
    assert {"exact_accuracy", "exact_tv_prior", "exact_share_bare"} <= set(record["base"]["metrics"])

    def no_training(*args, **kwargs):
        raise AssertionError("a cached mini-LM was trained again")

    monkeypatch.setattr(module, "_train", no_training)
    assert pretrain(PretrainConfig.build(**SMALL), tmp_path, progress=False) == again
    other = PretrainConfig.build(**{**SMALL, "seed": 1})
    assert other.cache_key() != PretrainConfig.build(**SMALL).cache_key()


# Cache keys computed before each corpus declared its own options (issue 23), at 7a0c2d1: the first
# names the committed mini-LM (results/llm_minilm's checkpoints record it as their base).
KEYS_BEFORE = {
    (("corpus", "between"),): "b53efbec124a49c9",
    (("corpus", "multiple_between"),): "9b12bc578f5b1c3d",
    (("corpus", "pair_sum"),): "795a833e04dd3200",
    (("corpus", "pair_sum"), ("corpus_options", (("smaller_first", 0.9), ("prior_exponent", 1.2)))): "0d1f8cb5607e97b6",
    (("corpus", "between"), ("corpus_options", (("prior_exponent", 1.2), ("bare_share", 0.7)))): "a325fae19086b8b5",
    (("corpus", "multiple_between"), ("corpus_options", (("worked_error", 0.3),))): "edccac427ccb255b",
}


@pytest.mark.parametrize("fields,key", list(KEYS_BEFORE.items()))
def test_cache_keys_are_unchanged_in_both_spellings(fields, key):
    """``corpus`` + ``corpus_options`` and the one table ``corpus = {name = ..., ...}`` are the same
    config, keyed as before each corpus declared its options (an option it reads at its default too)."""
    fields = {name: dict(value) if isinstance(value, tuple) else value for name, value in fields}
    table = {"name": fields["corpus"], **fields.get("corpus_options", {})}
    old, new = PretrainConfig.build(**fields), PretrainConfig.build(corpus=table)
    assert old == new and old.cache_key() == new.cache_key() == key
    assert PretrainConfig.build(corpus={"prior_exponent": 1.0, **table}).cache_key() == key
    if fields == {"corpus": "between"}:
        assert PretrainConfig.build().cache_key() == key


def test_a_corpus_refuses_an_option_it_does_not_read_and_the_table_beside_its_options():
    with pytest.raises(UserError, match=r"^unknown option smaller_first=0.5 for corpus 'between'; valid options: "):
        PretrainConfig.build(corpus="between", corpus_options={"smaller_first": 0.5})
    with pytest.raises(UserError, match="not beside it"):
        PretrainConfig.build(corpus={"name": "pair_sum"}, corpus_options={"smaller_first": 0.5})
    with pytest.raises(UserError, match="needs the corpus's name"):
        PretrainConfig.build(corpus={"smaller_first": 0.5})
    with pytest.raises(UserError, match=r"^unknown corpus 'chain_sum'; valid choices: between, multiple_between"):
        PretrainConfig.build(corpus={"name": "chain_sum"})


def test_a_checkpoint_recording_the_formerly_shared_options_reads_as_its_corpus():
    """Checkpoints pretrained before issue 23 record ``smaller_first`` for every corpus (at 0.75
    where it was not read): their corpus is the one they were pretrained on."""
    recorded = {
        "bare_error": 0.65,
        "bare_share": 0.6,
        "prior_exponent": 1.0,
        "smaller_first": 0.75,
        "worked_error": 0.4,
    }
    assert recorded_corpus("between", recorded).options == get_corpus("between", {"worked_error": 0.4}).options
    assert recorded_corpus("pair_sum", {**recorded, "smaller_first": 0.9}).options.smaller_first == 0.9
    with pytest.raises(UserError, match=r"smaller_first=0\.5"):
        recorded_corpus("between", {**recorded, "smaller_first": 0.5})


def test_a_checkpoint_whose_config_hash_differs_from_its_manifest_is_refused(tmp_path, small_minilm):
    import shutil

    from ladbench.llm.models import load_policy

    copy = tmp_path / small_minilm.name
    shutil.copytree(small_minilm, copy)
    record = json.loads((copy / "manifest.json").read_text())
    record["config"]["steps"] += 1
    (copy / "manifest.json").write_text(json.dumps(record))
    with pytest.raises(UserError, match="config hash"):
        load_policy(str(copy))


def test_exact_distribution_agrees_with_sampling(small_minilm):
    """Teacher forcing scores what sampling draws: at n = 512 per prompt, the sampled frequency of
    the enumerated responses and their distinct keys lie within the 99% intervals around the exact
    values; the grader-accepted mass outside the enumeration is measured."""
    from ladbench.llm.minilm.exact import exact_table, sampling_check
    from ladbench.llm.minilm.view import task_for_model
    from ladbench.llm.models import load_policy

    model, tokenizer = load_policy(str(small_minilm))
    task = task_for_model(get_task("between"), model)
    problems = task.problems("eval", 4)
    table = exact_table(model, tokenizer, task, problems)
    check = sampling_check(model, tokenizer, task, problems, table, 512, seed=0)
    for prompt in check["prompts"]:
        assert prompt["enumerated_in_99"], prompt
        assert prompt["distinct_in_99"], prompt
    assert check["samples"] == 4 * 512 and 0 <= check["missed_mass"] <= 1
    graded = sum(p["sampled_accuracy"] for p in check["prompts"]) / 4
    listed = sum(p["sampled_enumerated"] for p in check["prompts"]) / 4
    assert graded - listed == pytest.approx(check["missed_mass"])


def test_exact_metrics_of_a_known_distribution():
    """A hand-made exact table: accuracy, effective answers, TVs and the curves by their formulas."""
    import pandas as pd

    from ladbench.llm.minilm.exact import exact_metrics
    from ladbench.llm.minilm.view import MiniLMTask

    task = MiniLMTask(get_task("pair_sum"), get_corpus("pair_sum"))
    problem = next(p for p in task.problems("eval", 8) if p.metadata["target"] == 4)  # keys 1+3, 2+2
    rows = [
        ("1+3", "1+3", "bare", 0.2),
        ("3+1", "1+3", "bare", 0.1),
        ("2+2", "2+2", "worked", 0.3),
    ]
    table = pd.DataFrame(
        [(0, problem.uid, "", text, key, fmt, math.log(p)) for text, key, fmt, p in rows],
        columns=["step", "prompt_id", "prompt", "response", "answer_key", "format", "logprob"],
    )
    _, metrics, curves = exact_metrics(table, task, [problem], base=table)
    assert metrics["exact_accuracy"] == pytest.approx(0.6)
    assert metrics["exact_effective_answers"] == pytest.approx(2.0)  # 0.3 and 0.3: uniform over 2 keys
    assert metrics["exact_tv_uniform"] == pytest.approx(0.0)
    assert metrics["exact_tv_base"] == pytest.approx(0.0)
    assert metrics["exact_share_worked"] == pytest.approx(0.5)
    prior = get_corpus("pair_sum").prior(problem)
    assert metrics["exact_tv_prior"] == pytest.approx(0.5 * sum(abs(0.5 - v) for v in prior.values()))
    assert curves["exact_pass_at_k"].iloc[1] == pytest.approx(1 - 0.4**2)
    assert curves["exact_distinct_correct"].iloc[0] == pytest.approx(0.6)
    assert curves["exact_distinct_correct"].iloc[-1] == pytest.approx(2 * (1 - 0.7**256))


@pytest.mark.parametrize(
    "protocol",
    [
        {"inner_epochs": 1},
        {"inner_epochs": 2},
        {"loss": {"name": "grpo", "beta": 0.04}},
    ],
    ids=["on-policy", "ppo-inner-epochs", "kl-to-reference"],
)
def test_two_training_steps_on_the_mini_model(tmp_path, small_minilm, protocol):
    from ladbench.llm.config import TrainConfig
    from ladbench.llm.trainer import train

    config = TrainConfig.build(
        model=str(small_minilm),
        task="between",
        steps=2,
        prompts_per_step=4,
        group_size=4,
        lr=1e-3,
        train_embeddings=True,
        max_new_tokens=10,
        curve={"every": 2, "k": 4, "prompts": 4},
        **{"loss": {"name": "lad", "divergence": "js", "eta": 0.25}, **protocol},
    )
    train(config, tmp_path / "run", progress=False)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2] and all(math.isfinite(r["loss"]) for r in records)
    final = json.loads((tmp_path / "run" / "evals" / "step_2" / "exact.json").read_text())
    start = json.loads((tmp_path / "run" / "evals" / "step_0" / "exact.json").read_text())
    assert 0 < final["metrics"]["exact_accuracy"] < 1
    assert start["metrics"]["exact_tv_base"] == pytest.approx(0.0, abs=1e-5)  # the base model itself
    assert final["metrics"]["exact_accuracy"] != start["metrics"]["exact_accuracy"]  # it trained


def _synthetic_results():
    """Two objectives x one protocol x three seeds, evaluated at steps 0, 5, 10 (hand-made numbers)."""
    import pandas as pd

    from ladbench.llm_analysis.minilm import MiniLMResults

    rows = []
    for objective, accuracies, effective in (
        ("GRPO", (0.5, 0.7, 0.9), (8.0, 6.0, 2.0)),
        ("LAD-JS", (0.5, 0.6, 0.8), (8.0, 7.0, 5.0)),
    ):
        for seed in range(3):
            for step, accuracy, answers in zip((0, 5, 10), accuracies, effective, strict=True):
                rows.append(
                    {
                        "objective": objective,
                        "protocol": "on-policy",
                        "seed": seed,
                        "step": step,
                        "exact_accuracy": accuracy + 0.01 * seed * (step > 0),
                        "exact_effective_answers": answers,
                        "exact_tv_base": 0.0 if step == 0 else 0.1 * step / 5,
                        "exact_share_bare": 0.5,
                        "exact_share_worked": 0.5,
                        "dominant_share": 0.5,
                        "missed_mass": 0.0,
                    }
                )
    ks = np.arange(1, 257)
    base_curves = pd.DataFrame({"k": ks, "exact_pass_at_k": 1 - 0.5**ks, "exact_distinct_correct": 8 * (1 - 0.9**ks)})
    curves = pd.concat(
        [
            pd.DataFrame(
                {
                    "k": ks,
                    "exact_pass_at_k": 1 - 0.1**ks,
                    "exact_distinct_correct": 3 * (1 - 0.5**ks),
                    "objective": objective,
                    "protocol": "on-policy",
                    "seed": seed,
                }
            )
            for objective in ("GRPO", "LAD-JS")
            for seed in range(3)
        ]
    )
    base = pd.DataFrame(
        {"prompt_id": ["eval-0"] * 3, "prompt": ["<s>15 19:"] * 3, "answer_key": [16, 17, 18], "mass": [0.2, 0.1, 0.1]}
    )
    distributions = pd.concat(
        [base.assign(objective=o, protocol="on-policy", seed=s) for o in ("GRPO", "LAD-JS") for s in range(3)]
    )
    config = {"model": "minilm", "task": "between", "steps": 10, "prompts_per_step": 16, "group_size": 8, "lr": 5e-4}
    return MiniLMResults(
        "toy", pd.DataFrame(rows), curves, base_curves, distributions, base, {"config": config, "eval": {"prompts": 1}}
    )


def test_minilm_report_matched_accuracy_crossovers_and_files(tmp_path):
    from ladbench.llm_analysis.minilm import crossover, crossovers, matched_points, report_markdown, save_figures

    results = _synthetic_results()
    points = matched_points(results, (0.6, 0.95))
    grpo = points[(points["objective"] == "GRPO") & (points["seed"] == 0)].set_index("threshold")
    assert grpo.loc[0.6, "exact_effective_answers"] == pytest.approx(7.0)  # halfway from 0.5 (8) to 0.7 (6)
    assert not grpo.loc[0.95, "reached"] and np.isnan(grpo.loc[0.95, "exact_effective_answers"])
    assert crossover(np.array([0.9, 0.95, 0.99]), np.array([0.5, 0.96, 0.999])) == 2
    assert crossover(np.array([0.9, 0.95]), np.array([0.5, 0.95])) is None
    table = crossovers(results)
    assert table["crossover k (pass@k)"].isna().all()  # 1 - 0.1^k stays above 1 - 0.5^k
    distinct = 3 * (1 - 0.5 ** np.arange(1, 257)) - 8 * (1 - 0.9 ** np.arange(1, 257))
    assert (table["crossover k (distinct correct)"] == int(np.flatnonzero(distinct < -1e-4)[0]) + 1).all()
    text = report_markdown(results)
    assert "| on-policy | LAD-JS |" in text and "between" in text
    paths = save_figures(results, tmp_path, "toy")
    assert {path.name for path in paths} >= {"toy_exact_pass_at_k.png", "toy_exact_distribution.pdf"}


def test_model_minilm_pretrains_the_default_config_on_first_use(small_minilm, monkeypatch):
    """``--model minilm:<corpus>`` asks for the default config of that corpus (pretrained on first
    use, cached after: ``pretrain`` decides) and loads the directory it returns."""
    from ladbench.llm.minilm import pretrain as module
    from ladbench.llm.minilm.view import minilm_info
    from ladbench.llm.models import load_policy

    asked = []

    def cached(config, cache=None, progress=None, threads=1):
        asked.append(config)
        return small_minilm

    monkeypatch.setattr(module, "pretrain", cached)
    model, tokenizer = load_policy("minilm:pair_sum")
    assert asked == [PretrainConfig(corpus="pair_sum")]
    assert minilm_info(model)["config_hash"] == small_minilm.name.rpartition("-")[2]
    assert tokenizer.chat_template == module.CHAT_TEMPLATE
