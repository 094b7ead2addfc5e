"""Risk on the NHS 5x5 matrix: consequence (severity) x likelihood, scored 1-25 and banded.

Bands follow the NPSA risk matrix for risk managers (2008): low 1-3, moderate 4-6, high 8-12,
extreme 15-25. A standard's weight is its score over the sum of all scores.
"""

from __future__ import annotations

from .models import Risk

BANDS = ((3, "low"), (6, "moderate"), (12, "high"), (25, "extreme"))


def rating(score: int) -> str:
    """The band of a 1-25 score."""
    return next(name for top, name in BANDS if score <= top)


def assess_risk(severity: int, likelihood: int, weight: float) -> Risk:
    """Risk of one standard with its precomputed weight."""
    score = severity * likelihood
    return Risk(
        severity=severity,
        likelihood=likelihood,
        score=score,
        rating=rating(score),  # type: ignore[arg-type]
        weight=weight,
    )


def normalise_weights(scores: list[int]) -> list[float]:
    """Score / sum of scores, rounded to 4 places (stable text in YAML)."""
    total = sum(scores)
    return [round(s / total, 4) if total else 0.0 for s in scores]
