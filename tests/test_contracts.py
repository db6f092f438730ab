"""Contract tests over the registries, so that registering a class is enough for it to be tested.

- Every loss, on each of its ``examples()``: the checks of ``loss_contract`` (closed form =
  autograd, fixed-batch gradients, batch fields, padding, stacked runs, declared fixed points). A
  loss whose closed-form gradient is wrong is rejected (the deliberately broken loss below); the
  throwaway loss of the README's checklist passes.
- Every bandit family, on each of its ``examples()``: a valid ground truth and LAD target; each
  policy it accepts builds and trains; ``--help`` lists it; a bad option is one line.
- Every LLM task: fixed, disjoint splits; its reference response grades correct; every answer it
  enumerates is graded correct under its own key.
- Every mini-LM corpus, on each of its ``examples()``: its documents generate (fixed-width prompts
  and responses in the mini-LM's vocabulary, response probabilities summing to 1); every response
  it writes as correct grades correct under its task's grader and key, every other one wrong; its
  enumeration is the task's valid answers; the mini-LM's view of the task shows its prompts, and
  pretraining never sees a held-out one; an option it does not read is refused in one line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import loss_contract
import pytest
import torch
from bandit_helpers import assert_engine_equals_autograd
from typer.testing import CliRunner

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import runs_of, train
from ladbench.bandit.envs import FAMILIES, TabularEnv, make_env
from ladbench.bandit.envs.base import require
from ladbench.bandit.policies import POLICIES
from ladbench.bandit.targets import method_target
from ladbench.cli import app
from ladbench.errors import UserError
from ladbench.llm.minilm.corpus import CORPORA, FORMATS, Corpus, CorpusOptions, get_corpus, options_help
from ladbench.llm.minilm.pretrain import CHARACTERS, PretrainConfig
from ladbench.llm.minilm.view import MiniLMTask
from ladbench.llm.tasks import TASKS, Grade, Problem, get_task
from ladbench.llm.tasks.base import ResponseTask
from ladbench.losses import Loss, LossBatch, aggregation_weights, get_loss
from ladbench.losses.registry import LOSSES

LOSS_CASES = loss_contract.cases(LOSSES)


def example(name: str, index: int):
    return LOSSES[name], LOSSES[name].examples()[index]


@pytest.mark.parametrize("name,index", LOSS_CASES)
@pytest.mark.parametrize("weights", [False, True])
def test_loss_input_grads_equal_autograd(name, index, weights):
    loss_contract.check_input_grads(*example(name, index), weights)


@pytest.mark.parametrize("name,index", LOSS_CASES)
def test_loss_fixed_batch_grads_equal_autograd(name, index):
    loss_contract.check_fixed_batch_grads(*example(name, index))


@pytest.mark.parametrize("name,index", LOSS_CASES)
def test_loss_batch_fields_name_exactly_what_it_reads(name, index):
    loss_contract.check_batch_fields(*example(name, index))


@pytest.mark.parametrize("name,index", LOSS_CASES)
def test_loss_padding_cannot_reach_the_value(name, index):
    loss_contract.check_padding(*example(name, index))


@pytest.mark.parametrize("name,index", LOSS_CASES)
def test_loss_runs_stacked_in_one_batch_train_as_if_alone(name, index):
    loss_contract.check_runs_stacked(*example(name, index))


@pytest.mark.parametrize("name,index", LOSS_CASES)
def test_loss_is_stationary_at_its_target_where_it_declares_so(name, index):
    loss_contract.check_fixed_point(*example(name, index))


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_trains_the_batched_bandit_engine_as_the_per_seed_autograd_reference(name):
    """The engine's closed-form gradients with runs stacked (per-run options, per-run
    statistics) reproduce autograd and torch's Adam run by run, at the loss's defaults."""
    assert_engine_equals_autograd({"loss": {"name": name}, "init_std": 0.5}, "tv_truth")


def test_the_contract_checks_the_declared_fixed_points():
    assert {name for name in LOSSES if LOSSES[name]().stationary_at_target()} >= {"lad", "f_tb"}


def test_every_loss_has_examples_that_build():
    for name in LOSSES:
        examples = LOSSES[name].examples()
        assert examples and all(isinstance(options, dict) for options in examples), name
        for options in examples:
            loss_contract.build(LOSSES[name], options)


# ---- a throwaway loss: the README's "add a loss" checklist, and its deliberately broken twin ------


@dataclass(frozen=True)
class ThrowawayLoss(Loss):
    """REINFORCE with an importance ratio: -mean(rho A), rho = exp(logp - old_logp) (a test loss)."""

    name: ClassVar[str] = "throwaway"
    display_name: ClassVar[str] = "Throwaway"
    aggregation: str = "token_mean"

    def _terms(self, batch: LossBatch):
        rho = batch.log_ratio().exp()
        return rho, aggregation_weights(batch, self.aggregation)

    def loss_and_metrics(self, batch: LossBatch):
        rho, weights = self._terms(batch)
        return -(weights * rho * batch.advantages[:, None]).sum(), {"rho": (weights * rho).sum().detach()}

    def input_grads(self, batch: LossBatch):
        rho, weights = self._terms(batch)
        return {"logp": -weights * rho * batch.advantages[:, None]}


@dataclass(frozen=True)
class BrokenGradientLoss(ThrowawayLoss):
    """The same value, with a closed-form gradient twice the true one."""

    name: ClassVar[str] = "broken_gradient"

    def input_grads(self, batch: LossBatch):
        return {"logp": 2 * super().input_grads(batch)["logp"]}


def test_a_registered_throwaway_loss_passes_the_contract():
    with LOSSES.temporary(ThrowawayLoss):
        assert loss_contract.cases(LOSSES).count(("throwaway", 0)) == 1
        assert loss_contract.failures(LOSSES["throwaway"]) == {}


def test_the_contract_rejects_a_closed_form_gradient_twice_the_true_one():
    with LOSSES.temporary(BrokenGradientLoss):
        failed = loss_contract.failures(LOSSES["broken_gradient"])
    assert {"input_grads", "fixed_batch_grads", "padding"} <= set(failed), failed
    assert "broken_gradient" not in LOSSES


def test_the_throwaway_loss_value_is_reinforce():
    batch = loss_contract.make_batch()
    value, _ = ThrowawayLoss()(batch)
    rho = (batch.logp - batch.old_logp).exp() * batch.mask
    expected = -(rho * batch.advantages[:, None]).sum() / batch.mask.sum()
    torch.testing.assert_close(value, expected)


# ---- bandit families -----------------------------------------------------------------------------

FAMILY_CASES = [(name, index) for name in FAMILIES for index in range(len(FAMILIES[name].examples()))]
runner = CliRunner()


def check_family_target(name: str, options: dict) -> None:
    """The ground truth is a distribution per context, the rewards are finite, every outcome has a
    reward, and LAD's target at eta = 1 from the base policy is a distribution too."""
    env = make_env(name, options)
    truth, rewards = env.ground_truth(), env.rewards()
    assert truth.shape == rewards.shape and truth.shape[-1] * getattr(env, "n_contexts", 1) == env.n_arms
    assert torch.isfinite(rewards).all() and (truth >= 0).all()
    torch.testing.assert_close(truth.sum(-1), torch.ones(truth.shape[:-1], dtype=truth.dtype))
    assert env.membership().shape[:-1] == truth.shape
    base = torch.softmax(env.base_logits(), 0) if isinstance(env, TabularEnv) else env.ref_token_logp().sum(-1).exp()
    target = method_target(get_loss("lad"), "dr_grpo", rewards, base)
    torch.testing.assert_close(target.sum(-1), torch.ones(target.shape[:-1], dtype=target.dtype))


def check_family_policies(name: str, options: dict) -> None:
    """Each policy the family accepts is registered, builds (with each of the policy's examples),
    and trains two steps to a finite policy."""
    for policy in FAMILIES[name].policies:
        assert policy in POLICIES, f"env {name!r} accepts the unregistered policy {policy!r}"
        for capacity in POLICIES[policy].examples():
            config = BanditConfig.build(
                env={"name": name, **options}, policy={"name": policy, **capacity}, steps=2, log_interval=1
            )
            output = train(config, runs_of(config, [0]))
            assert torch.isfinite(torch.as_tensor(output.final_policy)).all(), (name, policy, capacity)


def check_family_bad_option(name: str) -> None:
    try:
        make_env(name, {"no_such_option": 1})
    except UserError as error:
        message = str(error)
        assert "\n" not in message and "no_such_option" in message
        assert all(option in message for option in FAMILIES[name].options()), message
    else:
        raise AssertionError(f"env {name!r} accepted an unknown option")


def fresh_bandit_help() -> str:
    """``ladbench run bandit --help`` as the registries hold now (typer builds it on each invocation)."""
    result = runner.invoke(app, ["run", "bandit", "--help"], env={"COLUMNS": "400"}, terminal_width=400)
    assert result.exit_code == 0
    return " ".join(result.output.split())


bandit_help = cache(fresh_bandit_help)


@pytest.mark.parametrize("name,index", FAMILY_CASES)
def test_family_has_a_valid_target(name, index):
    check_family_target(name, FAMILIES[name].examples()[index])


@pytest.mark.parametrize("name,index", FAMILY_CASES)
def test_family_policies_build_and_train(name, index):
    check_family_policies(name, FAMILIES[name].examples()[index])


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_is_listed_by_help_and_refuses_a_bad_option_in_one_line(name):
    assert name in bandit_help()
    check_family_bad_option(name)
    result = runner.invoke(app, ["run", "bandit", "--env", name, "-e", "no_such_option=1", "--steps", "2"])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "no_such_option" in result.stderr


def test_the_docs_families_table_is_the_registry():
    """docs/families.md's table of families names each registered family with exactly the policies
    it accepts (the default first) and their capacity knobs."""
    rows = {}
    for line in (Path(__file__).resolve().parents[1] / "docs" / "families.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.replace("\\|", "/").strip().strip("|").split("|")]
        if line.startswith("| `") and not line.startswith("| `--") and len(cells) == 4:
            rows[cells[0].strip("`")] = (re.findall(r"`(\w+)`", cells[2]), re.findall(r"--(\w+)", cells[3]))
    assert set(rows) == set(FAMILIES)
    for name, (policies, knobs) in rows.items():
        assert tuple(policies) == FAMILIES[name].policies, name
        assert knobs == list(
            dict.fromkeys(option for policy in policies for option in POLICIES[policy].option_names())
        ), name


def test_one_family_declares_itself_the_default_and_configs_train_it():
    """``default`` is declared by the class itself: the trimodal family's subclasses (noisy,
    unequal_modes) do not inherit it."""
    defaults = [name for name, cls in FAMILIES.items() if cls.default]
    assert defaults == [BanditConfig().env]
    assert all(not cls.default for name, cls in FAMILIES.items() if name not in defaults)


def test_help_lists_every_policy():
    assert all(policy in bandit_help() for policy in POLICIES)


def test_help_lists_every_generator_and_temperature_option():
    """``--divergence`` and ``--eta`` name what the registry holds: every generator, every loss
    with a temperature option and that option."""
    from ladbench.losses.divergences import GENERATORS
    from ladbench.losses.registry import LOSSES

    assert ", ".join(GENERATORS) in bandit_help()
    for name, loss in LOSSES.items():
        if loss.temperature_option is not None:
            assert re.search(rf"loss\.{loss.temperature_option} of [a-z_, ]*\b{name}\b", bandit_help()), name


@FAMILIES.register
@dataclass(frozen=True)
class ThrowawayFamily(TabularEnv):
    """A throwaway tabular family (the README's "add a family" checklist): ``n_arms`` arms with
    reward -|a - best| / 2, ground truth softmax of the rewards."""

    name = "throwaway_ramp"
    n_arms: int = 8
    best: int = 2

    def __post_init__(self) -> None:
        require(0 <= self.best < self.n_arms, f"env option best must be in 0..{self.n_arms - 1}, got {self.best}")

    @classmethod
    def examples(cls) -> list[dict]:
        return [{}, {"n_arms": 5, "best": 4}]

    def rewards(self, dtype=None):
        return -(torch.arange(self.n_arms, dtype=torch.float64) - self.best).abs() / 2

    def ground_truth(self, dtype=None):
        return torch.softmax(self.rewards(), 0)

    def membership(self, dtype=None):
        return torch.nn.functional.one_hot(torch.tensor([self.best]), self.n_arms).T.to(torch.float64)

    @property
    def centres(self):
        return (self.best,)


FAMILIES.unregister(ThrowawayFamily.name)  # registered only inside the test below


def test_a_registered_throwaway_family_passes_the_contract():
    with FAMILIES.temporary(ThrowawayFamily):
        for options in ThrowawayFamily.examples():
            check_family_target("throwaway_ramp", options)
            check_family_policies("throwaway_ramp", options)
        check_family_bad_option("throwaway_ramp")
        assert "throwaway_ramp" in fresh_bandit_help()  # --help is built from the registry as it is now
    assert "throwaway_ramp" not in FAMILIES
    assert "throwaway_ramp" not in fresh_bandit_help()


# ---- LLM tasks -----------------------------------------------------------------------------------

SPLIT_SEED = 3


def trainable(name: str) -> bool:
    return "train" in TASKS[name].splits


def check_task_splits(name: str) -> None:
    """The same split seed gives the same problems; no eval question is a train question."""
    task = get_task(name, split_seed=SPLIT_SEED)
    evaluation = task.problems("eval", 6)
    assert evaluation == get_task(name, split_seed=SPLIT_SEED).problems("eval", 6)
    assert len({problem.question for problem in evaluation}) == 6
    if trainable(name):
        train_split = task.problems("train", 10)
        assert train_split == get_task(name, split_seed=SPLIT_SEED).problems("train", 10)
        assert not {problem.question for problem in train_split} & {problem.question for problem in evaluation}
    else:
        with pytest.raises(UserError, match="no train split"):
            task.problems("train", 1)


def check_task_reference(name: str) -> bool:
    """The reference response of each problem grades correct (False: the task declares none)."""
    task = get_task(name)
    problems = task.problems("train" if trainable(name) else "eval", 3)
    responses = [task.reference_response(problem) for problem in problems]
    if all(response is None for response in responses):
        return False
    grades = task.grade_many(problems, responses)
    assert all(grade.correct for grade in grades), [(p.question, r) for p, r in zip(problems, responses, strict=True)]
    assert task.grade(problems[0], None).correct is False and task.grade(problems[0], "").correct is False
    return True


def check_task_enumerated(name: str) -> bool:
    """Every answer the task enumerates is graded correct under its own key (False: it enumerates none)."""
    task = get_task(name)
    problems = task.problems("eval", 4)
    valid = [task.valid_answers(problem) for problem in problems]
    if all(answers is None for answers in valid):
        return False
    for problem, answers in zip(problems, valid, strict=True):
        assert answers, problem
        for key in sorted(answers)[:50]:
            grade = task.grade(problem, key)
            assert grade.correct and grade.key == key, (problem.question, key, grade)
    return True


def with_extras(check, name: str):
    """``check(name)``, skipped where the task needs an extra that is not installed (the llm extra)."""
    try:
        return check(name)
    except UserError as error:
        if "needs the Python module" in str(error):
            pytest.skip(str(error))
        raise


@pytest.mark.parametrize("name", list(TASKS))
def test_task_splits_are_fixed_and_disjoint(name):
    with_extras(check_task_splits, name)


@pytest.mark.parametrize("name", list(TASKS))
def test_task_reference_response_grades_correct(name):
    if not with_extras(check_task_reference, name):
        pytest.skip(f"{name} declares no reference response (its problems carry tests)")


@pytest.mark.parametrize("name", list(TASKS))
def test_task_enumerated_answers_are_graded_correct_under_their_own_key(name):
    if not with_extras(check_task_enumerated, name):
        pytest.skip(f"{name} does not enumerate its answers")


class ThrowawayTask(ResponseTask):
    """A throwaway task (the README's "add a task" checklist): "Name an even number below N"."""

    name = "throwaway_even"

    def _problems(self, split: str, size: int) -> list[Problem]:
        limits = [n for n in range(4, 400) if (n % 3 == 0) == (split == "eval")][self.split_seed :]
        return [
            Problem(f"{split}-{i}", f"Name an even number below {n}.", "0", {"n": n})
            for i, n in enumerate(limits[:size])
        ]

    def grade_response(self, problem: Problem, response: str | None) -> Grade:
        text = (response or "").strip()
        value = int(text) if text.isdigit() else None
        key = str(value) if value is not None else text or None
        return Grade(value is not None and value % 2 == 0 and value < problem.metadata["n"], key)

    def valid_answers(self, problem: Problem) -> frozenset[str]:
        return frozenset(str(value) for value in range(0, problem.metadata["n"], 2))


def test_a_registered_throwaway_task_passes_the_contract():
    with TASKS.temporary(ThrowawayTask):
        check_task_splits("throwaway_even")
        assert check_task_reference("throwaway_even") and check_task_enumerated("throwaway_even")
    assert "throwaway_even" not in TASKS


def test_every_task_declares_its_facts():
    for name, cls in TASKS.items():
        assert cls.name == name and set(cls.splits) <= {"train", "eval"} and "eval" in cls.splits
        assert cls.max_new_tokens > 0 and cls.eval_prompts > 0 and isinstance(cls.system_message, str)
        assert not math.isnan(cls.max_new_tokens)


def stated_defaults(description: str) -> dict[str, int]:
    """task -> default, from a help text's ``(64 for codeio; ...; 24 for the others)``."""
    stated = {}
    for part in description.rsplit("(", 1)[1].removesuffix(").").split("; "):
        value, _, names = part.partition(" for ")
        stated.update((name, int(value)) for name in names.split(", "))
    return stated


@pytest.mark.parametrize(("field", "fact"), [("max_new_tokens", "max_new_tokens"), ("prompts", "eval_prompts")])
def test_the_llm_help_states_every_tasks_defaults(field, fact):
    """``ladbench llm eval --help`` (and train's, for the trainable tasks) states each task's
    default as its class declares it."""
    from ladbench.llm.config import EvalConfig, TrainConfig

    stated = stated_defaults(EvalConfig.model_fields[field].description)
    for name, cls in TASKS.items():
        assert stated.get(name, stated["the others"]) == getattr(cls, fact), (name, stated)
    if field == "max_new_tokens":
        stated = stated_defaults(TrainConfig.model_fields[field].description)
        for name, cls in TASKS.items():
            if "train" in cls.splits:
                assert stated.get(name, stated["the others"]) == cls.max_new_tokens, (name, stated)


# ---- mini-LM corpora -----------------------------------------------------------------------------


def corpus_cases() -> list[tuple[str, int]]:
    return [(name, index) for name in CORPORA for index in range(len(CORPORA[name].examples()))]


CORPUS_CASES = corpus_cases()


def some(problems: list[Problem], count: int = 24) -> list[Problem]:
    """About ``count`` problems spread over the list (a corpus has up to thousands of pretraining prompts)."""
    return problems[:: max(1, len(problems) // count)]


def check_corpus_documents(name: str, options: dict) -> None:
    """The pretraining prompts are many, of one width, distinct; each prompt's responses are a
    distribution, in the mini-LM's vocabulary; the most likely documents generate."""
    corpus = get_corpus(name, options)
    problems = corpus.pretrain_problems()
    prompts = [corpus.prompt(problem) for problem in problems]
    assert len(problems) >= 10 and len(set(prompts)) == len(prompts), name
    assert len({len(prompt) for prompt in prompts}) == 1 and set("".join(prompts)) <= set(CHARACTERS), prompts[:3]
    for problem in some(problems):
        responses = corpus.responses(problem)
        assert math.isclose(sum(r.prob for r in responses), 1.0, rel_tol=1e-9) and all(r.prob > 0 for r in responses)
        assert len({r.text for r in responses}) == len(responses)
        assert all(r.text and set(r.text) <= set(CHARACTERS) and r.format in FORMATS for r in responses), responses
        prior = corpus.prior(problem)
        assert list(prior) == corpus.ranking(problem) and math.isclose(math.fsum(prior.values()), 1.0)
    documents = corpus.sample_documents(3)
    assert [prompt for prompt, _ in documents] == prompts[:3] and all(response for _, response in documents)


def check_corpus_grading(name: str, options: dict) -> None:
    """Every response the corpus writes as correct grades correct under its task's grader, with the
    corpus's key; every other response grades wrong; on held-out prompts the correct responses it
    enumerates are those it writes, in every format, covering the task's valid answers."""
    corpus, task = get_corpus(name, options), get_task(name)
    held_out = task.problems("eval", 8)
    for problem in [*some(corpus.pretrain_problems(), 12), *held_out]:
        responses = corpus.responses(problem)
        grades = task.grade_many([problem] * len(responses), [r.text for r in responses])
        for response, grade in zip(responses, grades, strict=True):
            assert grade.correct == response.correct, (problem.metadata, response, grade)
            assert not response.correct or grade.key == response.key, (problem.metadata, response, grade)
    for problem in held_out:
        enumerated = corpus.correct_responses(problem)
        grades = task.grade_many([problem] * len(enumerated), [r.text for r in enumerated])
        assert all(g.correct and g.key == r.key for r, g in zip(enumerated, grades, strict=True)), problem.metadata
        assert {r.format for r in enumerated} == set(FORMATS)
        assert {r.text for r in corpus.responses(problem) if r.correct} <= {r.text for r in enumerated}
        valid = task.valid_answers(problem)
        assert valid is None or {r.key for r in enumerated} == set(valid), problem.metadata


def check_corpus_view(name: str, options: dict) -> None:
    """The mini-LM's view of the task is the task with the corpus's prompts (same problems, same
    grades), and no held-out prompt is a pretraining prompt."""
    corpus, task = get_corpus(name, options), get_task(name)
    view = MiniLMTask(task, corpus)
    for split in task.splits:
        problems, seen = task.problems(split, 8), view.problems(split, 8)
        assert [p.uid for p in seen] == [p.uid for p in problems]
        assert [p.metadata for p in seen] == [p.metadata for p in problems]
        assert [p.question for p in seen] == [corpus.prompt(p) for p in problems]
        texts = [corpus.correct_responses(p)[0].text for p in seen]
        assert view.grade_many(seen, texts) == task.grade_many(problems, texts)
    width = {len(corpus.prompt(p)) for p in corpus.pretrain_problems()}
    held_out = {corpus.prompt(p) for p in task.problems("eval", task.eval_prompts)}
    assert {len(prompt) for prompt in held_out} == width
    assert not held_out & {corpus.prompt(p) for p in corpus.pretrain_problems()}


def check_corpus_refuses_unread_options(name: str) -> None:
    """An option the corpus does not read (another corpus's or none's) is a one-line error naming
    it, its value and the corpus's options, in the corpus and in a pretraining config."""
    valid = CORPORA[name].option_defaults()
    others = {option for cls in CORPORA.values() for option in cls.option_defaults()} - set(valid)
    for option in sorted(others | {"no_such_option"}):
        for build, arguments in (
            (get_corpus, {"name": name, "options": {option: 0.5}}),
            (PretrainConfig.build, {"corpus": {"name": name, option: 0.5}}),
            (PretrainConfig.build, {"corpus": name, "corpus_options": {option: 0.5}}),
        ):
            with pytest.raises(UserError) as error:
                build(**arguments)
            message = str(error.value)
            assert "\n" not in message and f"{option}=0.5" in message and f"corpus {name!r}" in message, message
            assert message.endswith(f"valid options: {', '.join(valid)}"), message


@pytest.mark.parametrize("name,index", CORPUS_CASES)
def test_corpus_documents_generate(name, index):
    check_corpus_documents(name, CORPORA[name].examples()[index])


@pytest.mark.parametrize("name,index", CORPUS_CASES)
def test_corpus_correct_responses_grade_correct_under_its_task(name, index):
    check_corpus_grading(name, CORPORA[name].examples()[index])


@pytest.mark.parametrize("name,index", CORPUS_CASES)
def test_corpus_prompts_are_the_mini_lm_view_of_its_task(name, index):
    check_corpus_view(name, CORPORA[name].examples()[index])


@pytest.mark.parametrize("name", list(CORPORA))
def test_corpus_refuses_an_option_it_does_not_read_and_is_listed_by_help(name):
    check_corpus_refuses_unread_options(name)
    help_text = " ".join(
        runner.invoke(app, ["llm", "pretrain", "--help"], env={"COLUMNS": "400"}, terminal_width=400).output.split()
    )
    assert name in help_text and options_help() in help_text
    result = runner.invoke(app, ["llm", "pretrain", "--corpus", name, "-C", "no_such_option=1"])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "no_such_option=1" in result.stderr and f"corpus {name!r}" in result.stderr


def test_every_corpus_draws_a_registered_task_and_has_examples_that_build():
    for name, cls in CORPORA.items():
        assert cls.name == name and name in TASKS
        examples = cls.examples()
        assert examples and examples[0] == {} and all(isinstance(options, dict) for options in examples), name
        for options in examples:
            assert get_corpus(name, options).options == cls.options_model(**options)


class ThrowawayCorpusOptions(CorpusOptions):
    descending: bool = False  # rank the larger even numbers first


class ThrowawayCorpus(Corpus):
    """A throwaway corpus for the throwaway task (an even number below N): prompt ``"NNN:"``, bare
    ``"V"``, worked ``"0V"`` (which the task reads as V); pretraining on N in 4..99 but the
    multiples of 3 (the task's eval split)."""

    name = "throwaway_even"
    options_model = ThrowawayCorpusOptions
    options: ThrowawayCorpusOptions

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [*super().examples(), {"descending": True}]

    def prompt(self, problem: Problem) -> str:
        return f"{problem.metadata['n']:03d}:"

    def ranking(self, problem: Problem) -> list[str]:
        values = range(0, problem.metadata["n"], 2)
        return [str(value) for value in (reversed(values) if self.options.descending else values)]

    def renderings(self, problem: Problem, key: str, fmt: str) -> list[tuple[str, float]]:
        return [(key if fmt == "bare" else f"0{key}", 1.0)]

    def mistakes(self, problem: Problem, fmt: str) -> list[str]:
        n = problem.metadata["n"]
        return ["1", str(n + n % 2)] if fmt == "bare" else [f"0{n + n % 2}"]

    def pretrain_problems(self) -> list[Problem]:
        limits = [n for n in range(4, 100) if n % 3]
        return [Problem(f"pretrain-{i}", "", "", {"n": n}) for i, n in enumerate(limits)]


def test_a_registered_throwaway_corpus_passes_the_contract():
    with TASKS.temporary(ThrowawayTask), CORPORA.temporary(ThrowawayCorpus):
        assert corpus_cases().count(("throwaway_even", 1)) == 1
        for options in ThrowawayCorpus.examples():
            check_corpus_documents("throwaway_even", options)
            check_corpus_grading("throwaway_even", options)
            check_corpus_view("throwaway_even", options)
        check_corpus_refuses_unread_options("throwaway_even")
        assert "descending (throwaway_even)" in options_help()
        config = PretrainConfig.build(corpus={"name": "throwaway_even", "descending": True})
        assert config.make_corpus().ranking(Problem("x", "", "", {"n": 7})) == ["6", "4", "2", "0"]
    assert "throwaway_even" not in CORPORA


class LeakyCorpus(ThrowawayCorpus):
    """The throwaway corpus pretraining on every N, the held-out ones included."""

    name = "leaky_even"

    def pretrain_problems(self) -> list[Problem]:
        return [Problem(f"pretrain-{i}", "", "", {"n": n}) for i, n in enumerate(range(4, 100))]


class OddCorpus(ThrowawayCorpus):
    """The throwaway corpus writing N - 1 (odd for an even N) among its correct answers."""

    name = "odd_even"

    def ranking(self, problem: Problem) -> list[str]:
        return [*super().ranking(problem), str(problem.metadata["n"] - 1)]


@pytest.mark.parametrize("broken,check", [(LeakyCorpus, check_corpus_view), (OddCorpus, check_corpus_grading)])
def test_the_corpus_contract_rejects_a_leaked_held_out_prompt_and_a_wrong_answer_written_as_correct(broken, check):
    class Task(ThrowawayTask):
        name = broken.name

    with TASKS.temporary(Task), CORPORA.temporary(broken), pytest.raises(AssertionError):
        check(broken.name, {})
    assert broken.name not in CORPORA
