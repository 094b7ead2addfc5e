"""Suggestions for mistyped choices: `--fail-on removd` answers "did you mean 'removed'?"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice nearest to `word` when one is close enough to be a typo, else None.

    Case is ignored, and a choice the word is a prefix of counts (`risk` -> `risk-up`), since people
    abbreviate as often as they mistype.
    """
    options = sorted(set(choices))
    lowered = {choice.lower(): choice for choice in options}
    key = word.strip().lower()
    if key in lowered:
        return lowered[key]
    match = difflib.get_close_matches(key, list(lowered), n=1, cutoff=0.6)
    if match:
        return lowered[match[0]]
    starting = [choice for choice in options if choice.lower().startswith(key)] if len(key) >= 3 else []
    return starting[0] if starting else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for a near choice, or an empty string, to append to an error message."""
    match = closest(word, choices)
    return f"; did you mean {match!r}?" if match is not None and match != word else ""
