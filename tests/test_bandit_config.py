"""A bandit config's components as one table each, ``env = {name = ..., ...}`` and
``policy = {name = ..., width = ...}``, equal to the older spellings; mixing them is one line."""

from __future__ import annotations

import pytest

from ladbench.bandit.config import BanditConfig, config_hash
from ladbench.bandit.envs import FAMILIES
from ladbench.bandit.policies import POLICIES
from ladbench.errors import UserError


@pytest.mark.parametrize(
    "tables,older",
    [
        ({"env": {"name": "noisy", "level": 0.5}}, {"env": "noisy", "env_options": {"level": 0.5}}),
        ({"env": {"name": "trimodal"}}, {"env": "trimodal"}),
        (
            {"env": {"name": "contextual", "contexts": 3}, "policy": {"name": "mlp", "width": 8}},
            {"env": "contextual", "env_options": {"contexts": 3}, "policy": "mlp", "width": 8},
        ),
        (
            {"env": {"name": "continuous"}, "policy": {"name": "mdn", "components": 5}},
            {"env": "continuous", "policy": "mdn", "components": 5},
        ),
        ({"env": {"name": "sequence"}, "policy": {"width": 4}}, {"env": "sequence", "width": 4}),
    ],
)
def test_component_tables_are_the_older_spellings(tables, older):
    new, old = BanditConfig.build(**tables), BanditConfig.build(**older)
    assert new == old and config_hash(new, [0, 1]) == config_hash(old, [0, 1])
    assert new.resolved() == old.resolved()


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"env": {"level": 0.5}}, "env: a table needs the family's name"),
        ({"env": {"name": "noisy"}, "env_options": {"level": 0.5}}, "inside the env table"),
        ({"env": {"name": "contextual"}, "policy": {"name": "mlp", "depth": 2}}, "unknown policy option 'depth'"),
        ({"env": {"name": "contextual"}, "policy": {"name": "mlp", "width": 8}, "width": 4}, "not both"),
        (
            {"env": {"name": "contextual"}, "policy": {"name": "mlp", "bins": 4}},
            "bins=4 does nothing for the mlp policy",
        ),
        ({"env": {"name": "nowhere"}}, "unknown env 'nowhere'; valid choices: " + ", ".join(FAMILIES)),
        ({"env": "trimodal", "policy": {"name": "mlp"}}, "unknown policy 'mlp' for env 'trimodal'"),
    ],
)
def test_bad_tables_are_one_line_errors(fields, message):
    with pytest.raises(UserError) as error:
        BanditConfig.build(**fields)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_descriptions_list_the_registries():
    fields = BanditConfig.model_fields
    assert all(name in fields["env"].description for name in FAMILIES)
    assert all(name in fields["policy"].description for name in POLICIES)
    for knob in ("width", "components", "bins"):
        readers = [name for name, policy in POLICIES.items() if knob in policy.options]
        assert readers and all(name in fields[knob].description for name in readers)
