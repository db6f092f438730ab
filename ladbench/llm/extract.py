"""Answer extraction from free-form model output. Never raises: malformed output gives None.

- ``extract_final_answer``: the content of the last ``\\boxed{...}`` if there is one, else the last
  number in the text (an optional minus sign, digits, an optional decimal or fraction part).
- ``extract_pair``: the first two non-negative integers written ``a + b``, ``a, b`` or ``a and b``,
  as (a, b).

Only the first ``MAX_CHARS`` characters are read, so a huge output costs bounded time.
"""

from __future__ import annotations

import re

MAX_CHARS = 4000
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:/\d+)?")
PAIR = re.compile(r"(\d{1,9})\s*(?:\+|,|and)\s*(\d{1,9})")
BOXED = "\\boxed{"


def extract_final_answer(text: str | None) -> str | None:
    """Last boxed content, else the last number, else None."""
    if not text:
        return None
    text = text[:MAX_CHARS]
    boxed = _last_boxed(text)
    if boxed:
        return boxed
    numbers = NUMBER.findall(text)
    return numbers[-1] if numbers else None


def _last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} with balanced braces, or None."""
    start = text.rfind(BOXED)
    if start < 0:
        return None
    depth, position = 1, start + len(BOXED)
    for index in range(position, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[position:index].strip() or None
    return None


def extract_pair(text: str | None) -> tuple[int, int] | None:
    """The first ``a + b`` / ``a, b`` / ``a and b`` in the text as two integers, or None."""
    if not text:
        return None
    match = PAIR.search(text[:MAX_CHARS])
    return (int(match.group(1)), int(match.group(2))) if match else None
