"""The one shape of every extension point: a registry of classes per kind, keyed by ``cls.name``.

A loss, a bandit family, a policy and an LLM task are each a class that declares its own facts
(name, options and their defaults, what it accepts, a few ``examples()``) and is added to the
registry of its kind with ``@REGISTRY.register``. Everything else reads the registry: lookups
(an unknown name is a one-line :class:`~ladbench.errors.UserError` listing the valid choices),
help texts, docs tables, memory estimates and the contract tests that every registered class
must pass (``tests/test_contracts.py``).

    FAMILIES = Registry("env")

    @FAMILIES.register
    @dataclass(frozen=True)
    class Ring(TabularEnv):
        name = "ring"
        ...

``temporary`` registers a class for the length of a ``with`` block: how the tests add a
throwaway loss or family and run the contract on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Generic, TypeVar

from ladbench.errors import choices_error

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """The registered classes of one kind (``kind`` names it in messages), in registration order
    (alphabetical with ``ordered=False``).

    A read-only mapping name -> class; ``registry[name]`` of an unknown name raises the one-line
    ``unknown <kind> 'name'; valid choices: ...`` UserError (a ValueError, not a KeyError)."""

    def __init__(self, kind: str, ordered: bool = True, key: Callable[[type[T]], str] = lambda cls: cls.name) -> None:
        self.kind = kind
        self._ordered = ordered
        self._key = key
        self._classes: dict[str, type[T]] = {}

    def register(self, cls: type[T]) -> type[T]:
        """Class decorator adding ``cls`` under its name; a second class of the same name is an error."""
        name = self._key(cls)
        if name in self._classes:
            raise RuntimeError(f"{self.kind} {name!r} registered twice")
        self._classes[name] = cls
        return cls

    def unregister(self, name: str) -> None:
        del self._classes[name]

    @contextmanager
    def temporary(self, cls: type[T]) -> Iterator[type[T]]:
        """``cls`` registered inside the ``with`` block only."""
        self.register(cls)
        try:
            yield cls
        finally:
            self.unregister(self._key(cls))

    def __getitem__(self, name: str) -> type[T]:
        if not isinstance(name, str) or name not in self._classes:
            raise choices_error(self.kind, name, self.names())
        return self._classes[name]

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def get(self, name: str, default=None):
        return self._classes.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._classes)

    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order (or alphabetical)."""
        return tuple(self._classes) if self._ordered else tuple(sorted(self._classes))

    def listed(self) -> str:
        """The names as help texts list them: ``a, b, c``."""
        return ", ".join(self.names())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {self.listed()})"
