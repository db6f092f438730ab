"""A bandit config's components as one table each, ``env = {name = ..., ...}`` and
``policy = {name = ..., width = ...}``, equal to the older spellings; mixing them is one line."""

from __future__ import annotations

import pytest

from ladbench.bandit.config import ALWAYS_RESOLVED, BanditConfig, config_hash
from ladbench.bandit.envs import FAMILIES
from ladbench.bandit.policies import POLICIES, policy_options, readers
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
        (
            {"env": {"name": "contextual"}, "policy": {"name": "mlp", "depth": 2}},
            "unknown policy option depth=2; valid options of the mlp policy: width",
        ),
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


def test_each_policy_option_is_a_field_as_its_class_declares_it():
    """The policy classes own their options: each is a BanditConfig field (and so a ``--flag``)
    with the declared default, lower bound and description, naming the policies that read it."""
    options = policy_options()
    assert {option.name for policy in POLICIES.values() for option in policy.options} == set(options)
    for name, option in options.items():
        field = BanditConfig.model_fields[name]
        assert field.default == option.default and field.is_required() is False
        assert option.description in field.description
        assert all(policy in field.description for policy in readers(name)) and readers(name)
        with pytest.raises(UserError, match=f"{name}"):
            BanditConfig.build(**{name: option.minimum - 1})


@pytest.mark.parametrize("env,policy", [(env, policy) for env in FAMILIES for policy in FAMILIES[env].policies])
def test_an_option_the_policy_does_not_read_is_one_line_naming_its_options(env, policy):
    own = POLICIES[policy].option_names()
    for name, option in policy_options().items():
        if name in own:
            continue
        with pytest.raises(UserError) as error:
            BanditConfig.build(env=env, policy=policy, **{name: option.default + 1})
        message = str(error.value)
        assert "\n" not in message and f"{name}={option.default + 1}" in message, message
        assert f"the {policy} policy (its options: {', '.join(own) or 'none'};" in message, message


def test_the_resolved_form_keeps_the_committed_keys():
    """Cell keys are hashes of the resolved config: every config keeps width, components and bins
    there (the committed cells were keyed so), whichever policy it trains."""
    for env in FAMILIES:
        resolved = BanditConfig.build(env=env).resolved()
        assert all(name in resolved for name in ALWAYS_RESOLVED)
        assert resolved["width"] == 32 and resolved["components"] == 3 and resolved["bins"] == 16
