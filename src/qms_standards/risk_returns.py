"""Likelihood measured from returns: the share of services not meeting a standard replaces the prior.

Once services have self-assessed (`qms tracker collect`), how often a standard is not met is no longer a
guess. For each standard, the services that assessed it (Met, Partially met or Not met) are counted, and
the share not fully meeting it (Partially met or Not met) becomes the likelihood by `RETURNS_BANDS`. A
standard fewer than `MIN_ASSESSED` services assessed keeps its prior; an override still wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .export import layout as L
from .models import Framework
from .returns import ReturnsSet, read_returns, returns_sets
from .risk import assess_risk, likelihood_from_returns, normalise_weights

MIN_ASSESSED = 3  # fewer services than this say too little to replace the prior
_ASSESSED = (L.MET, L.PARTIALLY_MET, L.NOT_MET)
_NOT_MET = (L.PARTIALLY_MET, L.NOT_MET)


@dataclass(frozen=True)
class Measured:
    """One standard's returns: how many services assessed it and how many do not fully meet it."""

    standard: str
    not_met: int
    assessed: int

    @property
    def likelihood(self) -> int:
        """The likelihood these returns give."""
        return likelihood_from_returns(self.not_met, self.assessed)


def measure(returns: ReturnsSet) -> dict[str, Measured]:
    """Per standard id, the services that assessed it and those not fully meeting it."""
    counts: dict[str, list[int]] = {}
    for one in returns.returns:
        for entry in one.entries:
            if entry.status in _ASSESSED:
                tally = counts.setdefault(entry.standard, [0, 0])
                tally[0] += entry.status in _NOT_MET
                tally[1] += 1
    return {sid: Measured(sid, not_met, assessed) for sid, (not_met, assessed) in sorted(counts.items())}


def apply_returns(framework: Framework, returns: ReturnsSet) -> tuple[Framework, int]:
    """The framework with likelihoods measured from `returns` where enough services assessed a standard.

    Returns:
        The framework (scores, ratings and weights recomputed) and how many likelihoods were measured.
    """
    measured = measure(returns)
    standards = []
    changed = 0
    for standard in framework.standards:
        risk = standard.risk
        m = measured.get(standard.id)
        if m is None or m.assessed < MIN_ASSESSED or risk.likelihood_basis == "override":
            standards.append(standard)
            continue
        changed += 1
        kept = (risk.reason or "").split("; likelihood")[0]
        reason = (
            f"{kept}; likelihood {m.likelihood}: returns of {returns.collected.isoformat()}, "
            f"{m.not_met} of {m.assessed} services not meeting it"
        )
        update = risk.model_copy(update={"likelihood": m.likelihood, "likelihood_basis": "returns"})
        standards.append(standard.model_copy(update={"risk": update.model_copy(update={"reason": reason})}))
    weights = normalise_weights([s.risk.severity * s.risk.likelihood for s in standards])
    rerated = tuple(
        s.model_copy(
            update={
                "risk": assess_risk(s.risk.severity, s.risk.likelihood, w).model_copy(
                    update={
                        "recurrence": s.risk.recurrence,
                        "severity_basis": s.risk.severity_basis,
                        "likelihood_basis": s.risk.likelihood_basis,
                        "reason": s.risk.reason,
                    }
                )
            }
        )
        for s, w in zip(standards, weights, strict=True)
    )
    return framework.model_copy(update={"standards": rerated}), changed


def apply_latest_returns(framework: Framework, path: Path) -> tuple[Framework, str]:
    """`apply_returns` with the latest set of returns a file or folder holds, and a line saying what it did.

    Raises:
        QmsError: no set of returns there, or it cannot be read.
    """
    latest = read_returns(returns_sets(path)[-1])
    measured, changed = apply_returns(framework, latest)
    kept = len(framework.standards) - changed
    return measured, (
        f"likelihood measured from the returns of {latest.collected.isoformat()} for {changed} of "
        f"{len(framework.standards)} standards"
        + (
            f"; {kept} (assessed by fewer than {MIN_ASSESSED} services, or overridden) keep theirs"
            if kept
            else ""
        )
    )
