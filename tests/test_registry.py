"""The registries' one shape (ladbench/registry.py): register, look up, list, temporary entries."""

from __future__ import annotations

import pytest

from ladbench.errors import UserError
from ladbench.registry import Registry


def named(name: str) -> type:
    return type(name.title(), (), {"name": name})


def test_lookup_lists_the_valid_choices_in_one_line():
    registry = Registry("widget")
    for name in ("b", "a", "c"):
        registry.register(named(name))
    assert registry.names() == ("b", "a", "c") and list(registry) == ["b", "a", "c"]
    assert registry["a"].name == "a" and "a" in registry and "z" not in registry and registry.get("z") is None
    with pytest.raises(UserError, match=r"^unknown widget 'z'; valid choices: b, a, c$"):
        registry["z"]
    with pytest.raises(UserError, match="unknown widget 3"):
        registry[3]
    assert Registry("widget", ordered=False).names() == ()


def test_alphabetical_registry_and_listing():
    registry = Registry("widget", ordered=False)
    for name in ("b", "a"):
        registry.register(named(name))
    assert registry.names() == ("a", "b") and registry.listed() == "a, b" and len(registry) == 2


def test_a_name_registers_once():
    registry = Registry("widget")
    registry.register(named("a"))
    with pytest.raises(RuntimeError, match="widget 'a' registered twice"):
        registry.register(named("a"))


def test_temporary_entries_leave_even_when_the_block_fails():
    registry = Registry("widget")
    with pytest.raises(ValueError, match="inside"):
        with registry.temporary(named("t")):
            assert "t" in registry
            raise ValueError("inside")
    assert "t" not in registry
