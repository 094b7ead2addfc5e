"""Everything the trust's report shows, as one model: `qms report --json` prints it, the HTML draws it.

The status and readiness are those of `qms tracker status` and `readiness.readiness` for the latest set of
returns; the trend reads every earlier set in the returns folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from .export import layout as L
from .models import Framework, Model
from .readiness import GroupReadiness, Readiness, readiness
from .returns import ReturnsSet
from .rollup import ReturnsStatus, returns_entries, returns_status


class RiskCell(Model):
    """One cell of the 5x5 matrix: the standards there and their rows not yet Met across services."""

    severity: int
    likelihood: int
    rating: str
    standards: int
    open_rows: int  # rows neither Met nor Not applicable


class TrendPoint(Model):
    """One collected set of returns, for the trend."""

    collected: date
    services: int
    rows: int
    compliance: float | None
    weighted: float | None


class ServiceReadiness(Model):
    """A service's readiness score for each source set (columns are `Dashboard.set_ids`)."""

    service: str
    directorate: str
    scores: tuple[float | None, ...]


class Dashboard(Model):
    """The report's data."""

    status: ReturnsStatus
    readiness: Readiness  # the trust's
    set_ids: tuple[str, ...]
    service_readiness: tuple[ServiceReadiness, ...]
    risk_matrix: tuple[RiskCell, ...]  # severity 5..1, then likelihood 1..5
    trend: tuple[TrendPoint, ...]  # oldest first


def build_dashboard(
    framework: Framework,
    sets: Sequence[ReturnsSet],
    today: date | None = None,
    sections: Mapping[str, str] | None = None,
) -> Dashboard:
    """The report's figures for the latest of `sets` (oldest first), with the trend over all of them.

    Args:
        framework: The framework the latest set was collected against.
        sets: Every set of returns to draw the trend from, oldest first; the last is reported on.
        today: The day overdue actions are judged against; default the latest set's collection date, so
            the same returns always give the same report.
        sections: Sections of source requirements (`readiness.sections_of`).

    Raises:
        QmsError: the framework is not the one the latest set was collected against.
    """
    latest = sets[-1]
    status = returns_status(latest, today or latest.collected)
    trust = readiness(framework, latest, None, sections)
    set_ids = tuple(s.overall.key for s in trust.sets)
    per_service = []
    for one in latest.returns:
        scored = readiness(framework, latest, one.service, sections)
        by_set: dict[str, GroupReadiness] = {s.overall.key: s.overall for s in scored.sets}
        per_service.append(
            ServiceReadiness(
                service=one.service,
                directorate=one.directorate,
                scores=tuple(by_set[k].score for k in set_ids),
            )
        )
    return Dashboard(
        status=status,
        readiness=trust,
        set_ids=set_ids,
        service_readiness=tuple(per_service),
        risk_matrix=_risk_matrix(latest),
        trend=tuple(_trend_point(s) for s in sets),
    )


def _risk_matrix(returns: ReturnsSet) -> tuple[RiskCell, ...]:
    rows = returns_entries(returns)
    placed: dict[tuple[int, int], list[str]] = {}
    for s in returns.standards:
        placed.setdefault((s.severity, s.likelihood), []).append(s.id)
    open_by_standard: dict[str, int] = {}
    for e in rows:
        if e.status not in (L.MET, L.NOT_APPLICABLE):
            open_by_standard[e.standard_id] = open_by_standard.get(e.standard_id, 0) + 1
    return tuple(
        RiskCell(
            severity=sev,
            likelihood=lik,
            rating=L.rating_for(sev * lik),
            standards=len(placed.get((sev, lik), [])),
            open_rows=sum(open_by_standard.get(i, 0) for i in placed.get((sev, lik), [])),
        )
        for sev in range(5, 0, -1)
        for lik in range(1, 6)
    )


def _trend_point(returns: ReturnsSet) -> TrendPoint:
    overall = returns_status(returns, returns.collected).overall
    return TrendPoint(
        collected=returns.collected,
        services=len(returns.returns),
        rows=overall.rows,
        compliance=overall.compliance,
        weighted=overall.weighted,
    )


__all__ = ["Dashboard", "RiskCell", "ServiceReadiness", "TrendPoint", "build_dashboard"]
