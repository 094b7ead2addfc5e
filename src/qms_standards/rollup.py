"""Status over a set of returns: the trust, each directorate, service and domain, under one rule.

Every figure uses the compliance rule of a single tracker's Summary sheet (`layout.COMPLIANCE_RULE`), so
a service's row here equals the Summary sheet of the workbook it returned.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import date

from .errors import Problem, QmsError, raise_if
from .export import layout as L
from .export.layout import Entry
from .models import Model
from .returns import ReturnsSet
from .tracker import Compliance, RowRef, group_compliance, row_ref

# Open high risks are listed worst first: the rating, then how far from Met the row is.
_RATING_ORDER = {"extreme": 0, "high": 1}
_OPEN_ORDER = {L.NOT_MET: 0, None: 1, L.NOT_STARTED: 1, L.IN_PROGRESS: 2, L.PARTIALLY_MET: 3}


class MatrixRow(Model):
    """One service's compliance in each domain (None where every row is Not applicable, or none)."""

    service: str
    directorate: str
    cells: tuple[float | None, ...]


class Filters(Model):
    """What a status was narrowed to; empty means everything."""

    services: tuple[str, ...] = ()
    directorates: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # `site=Community`: services whose grouping has that value


class ReturnsStatus(Model):
    """What `qms tracker status RETURNS` reports: compliance at every level, risks and overdue actions."""

    framework: str
    version: str
    organisation: str
    collected: date
    today: date
    rule: str = L.COMPLIANCE_RULE
    filters: Filters = Filters()
    overall: Compliance
    directorates: tuple[Compliance, ...]
    services: tuple[Compliance, ...]
    service_directorates: dict[str, str]
    domains: tuple[Compliance, ...]
    matrix_domains: tuple[str, ...]  # the columns of `matrix`: domain ids
    matrix: tuple[MatrixRow, ...]
    at_risk: tuple[RowRef, ...]  # high or extreme, not Met or Not applicable: worst first
    overdue: tuple[RowRef, ...]  # due before today, not Met or Not applicable: oldest first
    blank: int
    missing: tuple[str, ...]  # services with no accepted return
    rejected: tuple[str, ...]  # files rejected at collection


def returns_entries(returns: ReturnsSet) -> list[Entry]:
    """Every returned Tracker row as an entry carrying its standard's domain, title, rating and weight."""
    standards = {s.id: s for s in returns.standards}
    out: list[Entry] = []
    for one in returns.returns:
        for e in one.entries:
            s = standards.get(e.standard)
            out.append(
                Entry(
                    standard_id=e.standard,
                    service=one.service,
                    status=e.status,
                    owner=e.owner,
                    due=e.due,
                    evidence=e.evidence,
                    actions=e.actions,
                    notes=e.notes,
                    domain=s.domain if s else "",
                    title=s.title if s else "",
                    rating=s.rating if s else "",
                    weight=s.weight if s else 0.0,
                )
            )
    return out


def returns_status(
    returns: ReturnsSet,
    today: date,
    *,
    services: Sequence[str] = (),
    directorates: Sequence[str] = (),
    domains: Sequence[str] = (),
    groups: Sequence[str] = (),
) -> ReturnsStatus:
    """Roll a set of returns up to trust, directorate, service and domain, optionally narrowed.

    Args:
        returns: A set read with `returns.read_returns`.
        today: The day due dates are judged against (passed in, so the result is reproducible).
        services: Keep only these services (names as in the services file).
        directorates: Keep only services of these directorates.
        domains: Keep only standards of these domains (id such as D3, or the domain's name).
        groups: Keep only services with these groupings, each `name=value` as in the services file
            (`site=Community`); several values of one name add up, different names narrow.

    Raises:
        QmsError: a filter names a service, directorate or domain the set does not have; all are listed.
    """
    filters = _resolve_filters(returns, services, directorates, domains, groups)
    directorate_of = {s.name: s.directorate for s in returns.services}
    for r in returns.returns:
        directorate_of.setdefault(r.service, r.directorate)
    grouped = _grouped(returns, filters.groups)
    rows = [
        e
        for e in returns_entries(returns)
        if _kept(e.service, directorate_of, filters, grouped)
        and (not filters.domains or e.domain in filters.domains)
    ]
    names = {d.id: d.name for d in returns.domains}
    service_order = [r.service for r in returns.returns if any(e.service == r.service for e in rows)]
    directorate_order = list(dict.fromkeys(directorate_of[s] for s in service_order))
    domain_order = [d.id for d in returns.domains if any(e.domain == d.id for e in rows)]
    closed = (L.MET, L.NOT_APPLICABLE)
    by_service = {s: [e for e in rows if e.service == s] for s in service_order}
    return ReturnsStatus(
        framework=returns.framework,
        version=returns.version,
        organisation=returns.organisation,
        collected=returns.collected,
        today=today,
        filters=filters,
        overall=group_compliance("all", "All rows", rows),
        directorates=tuple(
            group_compliance(d, d, [e for e in rows if directorate_of[e.service] == d])
            for d in directorate_order
        ),
        services=tuple(group_compliance(s, s, by_service[s]) for s in service_order),
        service_directorates={s: directorate_of[s] for s in service_order},
        domains=tuple(
            group_compliance(d, names[d], [e for e in rows if e.domain == d]) for d in domain_order
        ),
        matrix_domains=tuple(domain_order),
        matrix=tuple(
            MatrixRow(
                service=s,
                directorate=directorate_of[s],
                cells=tuple(
                    group_compliance(d, d, [e for e in by_service[s] if e.domain == d]).compliance
                    for d in domain_order
                ),
            )
            for s in service_order
        ),
        at_risk=tuple(
            row_ref(e)
            for e in sorted(
                (e for e in rows if e.rating in _RATING_ORDER and e.status not in closed),
                key=lambda e: (
                    _RATING_ORDER[e.rating],
                    _OPEN_ORDER.get(e.status, 1),
                    service_order.index(e.service),
                    e.standard_id,
                ),
            )
        ),
        overdue=tuple(
            row_ref(e)
            for e in sorted(
                (e for e in rows if e.due and e.due < today and e.status not in closed),
                key=lambda e: (e.due or today, service_order.index(e.service), e.standard_id),
            )
        ),
        blank=sum(1 for e in rows if not e.status),
        missing=tuple(m for m in returns.missing() if _kept(m, directorate_of, filters, grouped)),
        rejected=tuple(r.file for r in returns.rejected),
    )


def _kept(service: str, directorate_of: dict[str, str], filters: Filters, grouped: set[str] | None) -> bool:
    return (
        (not filters.services or service in filters.services)
        and (not filters.directorates or directorate_of.get(service) in filters.directorates)
        and (grouped is None or service in grouped)
    )


def _grouped(returns: ReturnsSet, groups: Sequence[str]) -> set[str] | None:
    """Services matching every grouping named (any of its values); None when no grouping is asked for."""
    if not groups:
        return None
    wanted: dict[str, set[str]] = {}
    for item in groups:
        name, _, value = item.partition("=")
        wanted.setdefault(name, set()).add(value)
    return {
        s.name
        for s in returns.services
        if all(s.groups.get(name) in values for name, values in wanted.items())
    }


def _resolve_filters(
    returns: ReturnsSet,
    services: Sequence[str],
    directorates: Sequence[str],
    domains: Sequence[str],
    groups: Sequence[str] = (),
) -> Filters:
    """Check each filter value against the set; a domain may be given by id or by name."""
    problems: list[Problem] = []
    known_services = [s.name for s in returns.services]
    known_directorates = list(dict.fromkeys(s.directorate for s in returns.services))
    domain_ids = {d.id.casefold(): d.id for d in returns.domains}
    domain_ids.update({d.name.casefold(): d.id for d in returns.domains})

    def check(option: str, value: str, known: list[str]) -> str | None:
        if value in known:
            return value
        folded = {k.casefold(): k for k in known}
        if value.casefold() in folded:
            return folded[value.casefold()]
        close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
        problems.append(
            Problem(
                f"{value!r} is not one of the {len(known)} in this set of returns",
                field=option,
                hint=f"Did you mean '{close[0]}'?" if close else f"Use one of: {', '.join(known[:12])}.",
            )
        )
        return None

    picked_services = [check("--service", v, known_services) for v in services]
    picked_directorates = [check("--directorate", v, known_directorates) for v in directorates]
    picked_domains: list[str | None] = []
    for value in domains:
        if value.casefold() in domain_ids:
            picked_domains.append(domain_ids[value.casefold()])
        else:
            check("--domain", value, [d.id for d in returns.domains])
    picked_groups: list[str | None] = []
    for item in groups:
        name, equals, value = item.partition("=")
        known_names = sorted({k for s in returns.services for k in s.groups})
        if not equals or not name.strip():
            problems.append(
                Problem(
                    f"{item!r} is not name=value",
                    field="--group",
                    hint="Write a grouping and its value as the services file does: --group site=Community.",
                )
            )
            continue
        values = sorted({s.groups[name.strip()] for s in returns.services if name.strip() in s.groups})
        if not known_names:
            problems.append(
                Problem(
                    "no service in this set of returns has a grouping",
                    field="--group",
                    hint="Give services groups in mappings/services.yaml (groups: {site: Community}), "
                    "then collect again.",
                )
            )
            continue
        if not values:
            check("--group", name.strip(), known_names)
            continue
        picked = check("--group", value.strip(), values)
        picked_groups.append(f"{name.strip()}={picked}" if picked else None)
    raise_if(problems, QmsError)
    return Filters(
        services=tuple(v for v in picked_services if v),
        directorates=tuple(v for v in picked_directorates if v),
        domains=tuple(v for v in picked_domains if v),
        groups=tuple(v for v in picked_groups if v),
    )


__all__ = ["Filters", "MatrixRow", "ReturnsStatus", "returns_entries", "returns_status"]
