"""Messages as one line of text (for logs, run manifests and reports)."""

from __future__ import annotations

__all__ = ["one_line"]


def one_line(message: object, limit: int | None = None) -> str:
    """``message`` as one line: every line of it, whitespace collapsed (a message whose first line
    ends in ``:`` says what failed on the next); cut at ``limit`` characters with ``…`` when given."""
    text = " ".join(str(message).split())
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
