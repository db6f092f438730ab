"""The one exception type for mistakes a user can fix (bad option, bad value, bad file).

The command line turns a :class:`UserError` into a one-line message and a non-zero exit, with
no traceback. It subclasses :class:`ValueError`, so library callers can catch either.
"""


class UserError(ValueError):
    """A bad input named in a one-line message that lists the valid choices where there are any."""


def choices_error(what: str, value: object, valid) -> UserError:
    """``unknown <what> 'value'; valid choices: a, b, c``."""
    listed = ", ".join(str(v) for v in valid)
    return UserError(f"unknown {what} {value!r}; valid choices: {listed}")


LENIENT = "lenient"  # validation context key: settings the config ignores are dropped, not refused


def validated(model, data: dict, lenient: bool = False):
    """``model(**data)`` for a pydantic model, its first problem turned into a one-line UserError:
    ``field: message (got value)``, or the valid settings for an unknown one. ``lenient``: see
    ``refuse_ignored``."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data, context={LENIENT: lenient})
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "config"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            valid = ", ".join(_model_at(model, first["loc"][:-1]).model_fields)
            raise UserError(f"unknown setting {location!r}; valid settings: {valid}") from None
        if first["type"] == "value_error":
            raise UserError(message) from None
        raise UserError(f"{location}: {message} (got {first.get('input')!r})") from None


def _model_at(model, location: tuple):
    """The pydantic model of the table at ``location`` (a nested config such as ``curve``), else ``model``."""
    from typing import get_args

    from pydantic import BaseModel

    for part in location:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        annotations = () if field is None else get_args(field.annotation) or (field.annotation,)
        nested = [kind for kind in annotations if isinstance(kind, type) and issubclass(kind, BaseModel)]
        if not nested:
            return model
        model = nested[0]
    return model


def refuse_ignored(config, context: dict | None) -> None:
    """A setting given explicitly that does nothing for this config (``config.ignored_settings()``:
    field -> why) is a UserError saying why, unless validating leniently (a sweep grid, where a
    setting applies to the cells that use it)."""
    if (context or {}).get(LENIENT):
        return
    for field, reason in config.ignored_settings().items():
        raise UserError(f"{field}={getattr(config, field)!r} does nothing {reason}")


def build_dropping_ignored(model, data: dict):
    """``(config, ignored)``: ``data`` validated with the settings the config ignores left out
    (they would be refused by a strict build), and those settings, each with why."""
    ignored = validated(model, data, lenient=True).ignored_settings()
    return validated(model, {key: value for key, value in data.items() if key not in ignored}), ignored
