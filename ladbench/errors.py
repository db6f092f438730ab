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
