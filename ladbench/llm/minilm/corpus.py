"""The mini-LM's pretraining corpora: a multi-answer task's prompts with a known answer prior.

A corpus is a class registered in ``CORPORA`` (``@CORPORA.register``; ``CORPORA[name]``): it
declares its ``name`` (the task whose problems it draws, e.g. ``between``), the options it reads
(``options_model``, pydantic, with their defaults and checks: :class:`CorpusOptions`, the knobs
every corpus shares, or a subclass adding its own, e.g. ``pair_sum``'s ``smaller_first``; an option
it does not read is refused) and ``examples()``, option sets that reach its branches, which the
contract tests build (``tests/test_contracts.py``). It knows, for every problem of its task:

- ``prompt(problem)``: the compact question the mini-LM reads (fixed width, e.g. ``"12 27:"`` for
  "an integer strictly between 12 and 27"), rendered by the mini-LM's chat template as
  ``"<s>12 27:"``;
- ``ranking(problem)``: the valid answer keys in the order of a rule that generalises to unseen
  prompts: the values divisible by 5 ascending, then the rest ascending (``pair_sum``: by the
  pair's smaller term);
- ``prior(problem)``: the answer prior, Zipf with exponent s over that ranking,
  P(rank r) = (r + 1)^-s / sum_j (j + 1)^-s (s = 0: uniform). With the defaults (s = 1) the
  prior is far from uniform and multi-modal in value (every multiple of 5 is preferred);
- ``responses(problem)``: the corpus's exact distribution over whole responses. A response has a
  format, ``bare`` (the answer alone, e.g. ``17``) with probability ``bare_share`` or ``worked``
  (a short derivation, e.g. ``12+5=17``, whose arithmetic is always right); within a format it is
  invalid with that format's error rate (``bare_error``, ``worked_error``: the error is uniform
  over a fixed list of the format's typical mistakes), else valid with its key drawn from the
  prior. The corpus accuracy is bare_share (1 - bare_error) + (1 - bare_share) (1 - worked_error)
  (0.43 with the defaults);
- ``correct_responses(problem)``: every correct response the corpus can produce, each valid
  key in each format (both orders of a pair for ``pair_sum``): what exact evaluation scores;
- ``pretrain_problems()``: the pretraining prompts, a wider range than the task's (so that
  held-out prompts are interpolations, not unseen bounds), with every prompt of the task's
  held-out rule removed (``(A + B) % 4 == 0``; ``N % 4 == 0``): the eval split is never seen.

Formats per task (``format``: text; the grader of the task accepts the valid ones):

    between           bare "V"        worked "A+k=V"      (V = A + k)
    multiple_between  bare "V"        worked "M*j=V"      (V = M j)
    pair_sum          bare "a+b"      worked "a+b=N"
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ladbench.errors import UserError, validated
from ladbench.llm.tasks.base import Problem
from ladbench.registry import Registry

FORMATS = ("bare", "worked")
CORPORA: Registry[Corpus] = Registry("corpus", ordered=False)

# Options one shared options model gave every corpus before each corpus declared its own,
# at their defaults then. The pretraining cache key still carries them for every corpus, so that the
# mini-LMs pretrained then keep their keys, and the checkpoints pretrained then record them.
FORMERLY_SHARED = {"smaller_first": 0.75}


class CorpusOptions(BaseModel):
    """The knobs every corpus reads (``corpus = {name = ..., ...}`` of a pretraining config); a corpus
    with knobs of its own declares a subclass as its ``options_model``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prior_exponent: float = Field(
        1.0,
        allow_inf_nan=False,
        description="Zipf exponent s of the answer prior over the rule ranking (0: uniform; must be >= 0).",
    )
    bare_share: float = Field(
        0.6, allow_inf_nan=False, description="Share of bare-format responses (worked: the rest)."
    )
    bare_error: float = Field(0.65, allow_inf_nan=False, description="Error rate of bare responses, in [0, 1).")
    worked_error: float = Field(0.45, allow_inf_nan=False, description="Error rate of worked responses, in [0, 1).")

    @model_validator(mode="after")
    def _check(self) -> CorpusOptions:
        if self.prior_exponent < 0:
            raise UserError(
                f"prior_exponent={self.prior_exponent} makes no prior (Zipf needs an exponent >= 0; 0 is uniform)"
            )
        for name in ("bare_error", "worked_error"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise UserError(f"{name}={value} is not an error rate in [0, 1) (1 would leave no correct response)")
        if not 0 <= self.bare_share <= 1:
            raise UserError(f"bare_share={self.bare_share} is not a probability in [0, 1]")
        return self


class PairSumOptions(CorpusOptions):
    """``pair_sum``'s knobs: the shared ones and the order in which a pair is written."""

    smaller_first: float = Field(
        0.75, allow_inf_nan=False, description="pair_sum: probability that a pair is written smaller term first."
    )

    @model_validator(mode="after")
    def _check_order(self) -> PairSumOptions:
        if not 0 <= self.smaller_first <= 1:
            raise UserError(f"smaller_first={self.smaller_first} is not a probability in [0, 1]")
        return self


@dataclass(frozen=True)
class Response:
    """One response the corpus can produce, with its probability under the corpus."""

    text: str
    key: str | None  # the grader's key of the answer (None: nothing valid)
    format: str
    correct: bool
    prob: float = 0.0


class Corpus(ABC):
    """Base class of registered corpora (see the module docstring)."""

    name: ClassVar[str]
    options_model: ClassVar[type[CorpusOptions]] = CorpusOptions

    def __init__(self, options: CorpusOptions | dict[str, Any] | None = None):
        self.options = self.checked_options(options)

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        """The options this corpus reads, with their defaults."""
        return {name: field.default for name, field in cls.options_model.model_fields.items()}

    @classmethod
    def checked_options(cls, options: CorpusOptions | dict[str, Any] | None = None) -> CorpusOptions:
        """``options`` as this corpus's ``options_model`` (defaults filled in, values checked); an
        option it does not read is a one-line UserError naming it, its value and the valid ones."""
        if type(options) is cls.options_model:
            return options
        if not isinstance(options, BaseModel | Mapping | None):
            raise UserError(f"corpus_options: expected a table of options, got {options!r}")
        values = options.model_dump() if isinstance(options, BaseModel) else dict(options or {})
        valid = cls.option_defaults()
        for option, value in values.items():
            if option not in valid:
                raise UserError(
                    f"unknown option {option}={value!r} for corpus {cls.name!r}; valid options: {', '.join(valid)}"
                )
        return validated(cls.options_model, values)

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        """Option sets that reach the shared branches: the defaults; a uniform prior with bare
        responses only, never wrong; worked responses only (the bare format's share 0)."""
        return [
            {},
            {"prior_exponent": 0.0, "bare_share": 1.0, "bare_error": 0.0},
            {"prior_exponent": 2.0, "bare_share": 0.0, "worked_error": 0.2},
        ]

    @abstractmethod
    def prompt(self, problem: Problem) -> str: ...

    @abstractmethod
    def ranking(self, problem: Problem) -> list[str]:
        """The valid keys in rule order (most preferred first)."""

    @abstractmethod
    def renderings(self, problem: Problem, key: str, fmt: str) -> list[tuple[str, float]]:
        """The texts of a valid key in a format, with their probabilities given (key, format)."""

    @abstractmethod
    def mistakes(self, problem: Problem, fmt: str) -> list[str]:
        """The format's typical invalid responses (uniform when the format errs)."""

    @abstractmethod
    def pretrain_problems(self) -> list[Problem]: ...

    def prior(self, problem: Problem) -> dict[str, float]:
        """Zipf over the ranking: P(rank r) proportional to (r + 1)^-s."""
        keys = self.ranking(problem)
        weights = [(rank + 1) ** -self.options.prior_exponent for rank in range(len(keys))]
        total = math.fsum(weights)
        return {key: weight / total for key, weight in zip(keys, weights, strict=True)}

    def format_shares(self) -> dict[str, float]:
        return {"bare": self.options.bare_share, "worked": 1 - self.options.bare_share}

    def format_errors(self) -> dict[str, float]:
        return {"bare": self.options.bare_error, "worked": self.options.worked_error}

    def responses(self, problem: Problem) -> list[Response]:
        """The exact response distribution (probabilities summing to 1; equal texts merged)."""
        merged: dict[str, Response] = {}
        prior = self.prior(problem)
        errors = self.format_errors()
        for fmt, share in self.format_shares().items():
            if share == 0:
                continue
            for key, p_key in prior.items():
                for text, p_text in self.renderings(problem, key, fmt):
                    _add(merged, Response(text, key, fmt, True, share * (1 - errors[fmt]) * p_key * p_text))
            wrong = self.mistakes(problem, fmt)
            for text in wrong:
                _add(merged, Response(text, None, fmt, False, share * errors[fmt] / len(wrong)))
        return [response for response in merged.values() if response.prob > 0]

    def correct_responses(self, problem: Problem) -> list[Response]:
        """Every correct response in every format (the enumeration exact evaluation scores)."""
        return [
            Response(text, key, fmt, True)
            for fmt in FORMATS
            for key in self.ranking(problem)
            for text, _ in self.renderings(problem, key, fmt)
        ]

    def sample_documents(self, count: int = 3) -> list[tuple[str, str]]:
        """A few (prompt, response) documents, the most likely response of each of the first problems."""
        problems = self.pretrain_problems()[:count]
        return [(self.prompt(p), max(self.responses(p), key=lambda r: r.prob).text) for p in problems]


def _add(merged: dict[str, Response], response: Response) -> None:
    if response.text in merged:
        old = merged[response.text]
        merged[response.text] = Response(old.text, old.key, old.format, old.correct, old.prob + response.prob)
    else:
        merged[response.text] = response


def _rule_order(values: list[int]) -> list[int]:
    """Multiples of 5 ascending, then the rest ascending."""
    return sorted(values, key=lambda value: (value % 5 != 0, value))


def get_corpus(name: str, options: dict[str, Any] | CorpusOptions | None = None) -> Corpus:
    """The corpus ``name`` with ``options`` (unknown corpus, unread option or bad value: one-line UserError)."""
    return CORPORA[name](options)


def recorded_corpus(name: str, options: dict[str, Any] | None) -> Corpus:
    """The corpus a mini-LM checkpoint records (``ladbench_minilm``: name and options). A formerly
    shared option that the corpus does not read, at its former default, is left out: checkpoints
    pretrained when every corpus shared these options record them all."""
    cls = CORPORA[name]
    options = {
        option: value
        for option, value in (options or {}).items()
        if option in cls.option_defaults() or FORMERLY_SHARED.get(option, object()) != value
    }
    return cls(options)


def options_help() -> str:
    """The corpus options as help texts list them, each with the corpora that read it when not all do."""
    readers: dict[str, list[str]] = {}
    for name, cls in CORPORA.items():
        for option in cls.option_defaults():
            readers.setdefault(option, []).append(name)
    return ", ".join(
        option if len(names) == len(CORPORA) else f"{option} ({', '.join(names)})" for option, names in readers.items()
    )


@CORPORA.register
class BetweenCorpus(Corpus):
    """``between``: "an integer strictly between A and B". Pretraining prompts: A in 1..70, B - A in
    4..25 (the task's: A in 1..40, B - A in 6..20)."""

    name = "between"
    lows, widths = range(1, 71), range(4, 26)

    def prompt(self, problem: Problem) -> str:
        return f"{problem.metadata['low']:02d} {problem.metadata['high']:02d}:"

    def _values(self, problem: Problem) -> list[int]:
        return list(range(problem.metadata["low"] + 1, problem.metadata["high"]))

    def ranking(self, problem: Problem) -> list[str]:
        return [str(v) for v in _rule_order(self._values(problem))]

    def renderings(self, problem: Problem, key: str, fmt: str) -> list[tuple[str, float]]:
        low = problem.metadata["low"]
        return [(key, 1.0)] if fmt == "bare" else [(f"{low}+{int(key) - low}={key}", 1.0)]

    def mistakes(self, problem: Problem, fmt: str) -> list[str]:
        low, high = problem.metadata["low"], problem.metadata["high"]
        if fmt == "bare":
            return [str(v) for v in (low, high, low - 1, high + 1, high + 2) if v >= 0]
        return [f"{low}+{k}={low + k}" for k in (0, high - low, high - low + 1)]

    def _bounds(self) -> list[tuple[int, int]]:
        return [(low, low + width) for low in self.lows for width in self.widths if (2 * low + width) % 4]

    def pretrain_problems(self) -> list[Problem]:
        return [
            Problem(f"pretrain-{i}", "", "", {"low": low, "high": high}) for i, (low, high) in enumerate(self._bounds())
        ]


@CORPORA.register
class MultipleBetweenCorpus(Corpus):
    """``multiple_between``: "a multiple of M strictly between A and B". Pretraining prompts: the
    task's ranges (M in 3..9, A in 1..200, B - A = M w, w in 6..30) but held-out ones."""

    name = "multiple_between"
    lows, widths, divisors = range(1, 201), range(6, 31), range(3, 10)

    def prompt(self, problem: Problem) -> str:
        m = problem.metadata
        return f"{m['divisor']} {m['low']:03d} {m['high']:03d}:"

    def _values(self, problem: Problem) -> list[int]:
        m = problem.metadata
        return [v for v in range(m["low"] + 1, m["high"]) if v % m["divisor"] == 0]

    def ranking(self, problem: Problem) -> list[str]:
        return [str(v) for v in _rule_order(self._values(problem))]

    def renderings(self, problem: Problem, key: str, fmt: str) -> list[tuple[str, float]]:
        divisor = problem.metadata["divisor"]
        return [(key, 1.0)] if fmt == "bare" else [(f"{divisor}*{int(key) // divisor}={key}", 1.0)]

    def mistakes(self, problem: Problem, fmt: str) -> list[str]:
        m = problem.metadata
        low, high, divisor = m["low"], m["high"], m["divisor"]
        below, above = low // divisor, -(-high // divisor)  # multiples at or under A, at or over B
        if fmt == "bare":
            off = low + 1 if (low + 1) % divisor else low + 2  # a value in range that is no multiple
            return [str(v) for v in (low, high, below * divisor, above * divisor, off)]
        return [f"{divisor}*{j}={divisor * j}" for j in (below, above, above + 1)]

    def pretrain_problems(self) -> list[Problem]:
        bounds = [
            (low, low + m * width, m)
            for low in self.lows
            for width in self.widths
            for m in self.divisors
            if (2 * low + m * width) % 4
        ]
        return [
            Problem(f"pretrain-{i}", "", "", {"low": low, "high": high, "divisor": m})
            for i, (low, high, m) in enumerate(bounds)
        ]


@CORPORA.register
class PairSumCorpus(Corpus):
    """``pair_sum``: "two positive integers that add up to N". Pretraining prompts: N in 4..60
    (the task's: 4..33) but multiples of 4 (held out)."""

    name = "pair_sum"
    options_model = PairSumOptions
    options: PairSumOptions
    targets = range(4, 61)

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        """The shared ones, and each pair written in one order only (smaller first; larger first)."""
        return [*super().examples(), {"smaller_first": 1.0}, {"smaller_first": 0.0, "prior_exponent": 0.5}]

    def prompt(self, problem: Problem) -> str:
        return f"{problem.metadata['target']:02d}:"

    def ranking(self, problem: Problem) -> list[str]:
        target = problem.metadata["target"]
        return [f"{a}+{target - a}" for a in _rule_order(list(range(1, target // 2 + 1)))]

    def renderings(self, problem: Problem, key: str, fmt: str) -> list[tuple[str, float]]:
        a, b = (int(part) for part in key.split("+"))
        tail = "" if fmt == "bare" else f"={a + b}"
        if a == b:
            return [(f"{a}+{b}{tail}", 1.0)]
        first = self.options.smaller_first
        return [(f"{a}+{b}{tail}", first), (f"{b}+{a}{tail}", 1 - first)]

    def mistakes(self, problem: Problem, fmt: str) -> list[str]:
        target = problem.metadata["target"]
        if fmt == "bare":
            return [f"0+{target}", f"1+{target}", f"2+{target - 3}"]
        return [f"1+{target}={target + 1}", f"2+{target - 3}={target - 1}", f"0+{target}={target}"]

    def pretrain_problems(self) -> list[Problem]:
        return [Problem(f"pretrain-{i}", "", "", {"target": n}) for i, n in enumerate(n for n in self.targets if n % 4)]


def shuffled(problems: list[Problem], seed: int) -> list[Problem]:
    problems = list(problems)
    random.Random(seed).shuffle(problems)
    return problems
