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


def validated(model, data: dict):
    """``model(**data)`` for a pydantic model, its first problem turned into a one-line UserError:
    ``field: message (got value)``, or the valid settings for an unknown one."""
    from pydantic import ValidationError

    try:
        return model(**data)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "config"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            raise UserError(f"unknown setting {location!r}; valid settings: {', '.join(model.model_fields)}") from None
        if first["type"] == "value_error":
            raise UserError(message) from None
        raise UserError(f"{location}: {message} (got {first.get('input')!r})") from None
