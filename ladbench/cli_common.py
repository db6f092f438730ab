"""What both command lines (``ladbench.cli`` and ``ladbench.llm.cli``) share: the one-line
error exit and ``key=value`` option parsing. Both import this module; neither imports the other's
helpers, so the two command-line modules form no cycle."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from ladbench.errors import UserError


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a UserError into ``ladbench: error: <message>`` on stderr and exit status 2."""
    try:
        yield
    except UserError as error:
        typer.echo(f"ladbench: error: {str(error).splitlines()[0]}", err=True)
        raise typer.Exit(2) from None


def parse_option(text: str, what: str = "loss option") -> tuple[str, object]:
    """``key=value`` with value read as JSON when it parses (numbers, true/false, null), else text."""
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise UserError(f"{what} {text!r} is not of the form key=value")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value
