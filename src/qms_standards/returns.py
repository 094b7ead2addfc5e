"""Collect the trackers services send back into one dated set of returns; earlier sets are kept.

A returned workbook is accepted whole or rejected whole: a file with a problem (not a tracker, an edited id,
an invalid cell, another framework version, a service not in the services file or returned twice) is
rejected by name, each problem with its sheet and cell, and the other returns are still collected.
Everything people typed is kept, their evidence links and notes included, and so are their orphaned entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from .errors import Problem, QmsError, TrackerError
from .export import layout as L
from .export.cells import column_letter
from .export.crosswalk import domains_with_standards
from .models import Framework
from .returns_set import (
    DomainInfo,
    Rejected,
    ReturnedEntry,
    ReturnsSet,
    ServiceInfo,
    ServiceReturn,
    StandardInfo,
    dump_returns,
    read_returns,
    returns_path,
    returns_sets,
)
from .services import Services
from .tracker import FilledTracker, read_tracker


@dataclass(frozen=True)
class Collection:
    """What `collect_returns` found: the set to write, the problems of the rejected files, skipped files."""

    returns: ReturnsSet
    problems: tuple[Problem, ...]
    skipped: tuple[Path, ...]


def workbook_paths(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """The workbooks that paths name (folders are searched, not recursively) and the files skipped.

    Excel's lock files (`~$name.xlsx`) and hidden files are skipped, as are files that are not .xlsx.
    """
    found: list[Path] = []
    skipped: list[Path] = []
    for path in paths:
        if not path.exists():
            raise QmsError(
                "no such file or folder",
                file=path,
                hint="Give the folder the returned trackers were saved in, or the workbooks themselves.",
            )
        candidates = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for candidate in candidates:
            hidden = candidate.name.startswith(("~$", "."))
            if candidate.suffix.lower() == ".xlsx" and not hidden:
                found.append(candidate)
            elif path.is_dir():
                skipped.append(candidate)
            else:
                found.append(candidate)  # named explicitly: read it and say what is wrong with it
    return list(dict.fromkeys(found)), skipped


def collect_returns(
    framework: Framework, services: Services, paths: Sequence[Path], collected: date
) -> Collection:
    """Read every returned workbook and gather the good ones into one set of returns.

    Args:
        framework: The framework the trackers were exported from (its version is checked).
        services: The services file: every return must be one of its services.
        paths: Folders of returned workbooks, or the workbooks themselves.
        collected: The date of this collection (passed in, so the output is reproducible).

    Returns:
        The set of accepted returns (the rejected listed in it by file) and each rejected file's problems.

    Raises:
        QmsError: a path does not exist, or no workbook was found.
    """
    files, skipped = workbook_paths(paths)
    if not files:
        raise QmsError(
            "no tracker workbooks (.xlsx) found",
            file=paths[0] if paths else None,
            hint="Save the returned trackers into one folder and give that folder.",
        )
    names = services.names()
    accepted: dict[str, list[tuple[Path, ServiceReturn]]] = {}
    problems: list[Problem] = []
    rejected: dict[Path, list[Problem]] = {}
    for path in files:
        try:
            filled = read_tracker(path)
        except TrackerError as exc:
            rejected[path] = list(exc.problems)
            continue
        found = _check_return(path, filled, framework, names)
        if found:
            rejected[path] = found
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        unreadable: list[Problem] = []
        for service in filled.services:
            one = _service_return(path, filled, service, services.directorate_of(service), digest, unreadable)
            accepted.setdefault(service, []).append((path, one))
        if unreadable:
            rejected[path] = unreadable
            for service in filled.services:
                accepted[service] = [c for c in accepted[service] if c[0] != path]
                if not accepted[service]:
                    del accepted[service]
    kept: dict[str, tuple[Path, ServiceReturn]] = {}
    for service, copies in accepted.items():
        if len(copies) == 1:
            kept[service] = copies[0]
            continue
        others = ", ".join(p.name for p, _ in copies)
        for path, _ in copies:
            rejected.setdefault(path, []).append(
                Problem(
                    f"service '{service}' is returned in more than one file ({others})",
                    path,
                    field=f"{L.TRACKER_SHEET}!B2",
                    hint="Keep the file the service means to send, move the others out, and collect again.",
                )
            )
    for path in sorted(rejected):
        problems.extend(rejected[path])
    result = ReturnsSet(
        framework=framework.framework.name,
        version=framework.framework.version,
        organisation=services.organisation,
        collected=collected,
        domains=tuple(DomainInfo(id=d.id, name=d.name) for d in framework.domains),
        standards=_standards(framework),
        services=tuple(
            ServiceInfo(name=s.name, directorate=s.directorate, groups=s.groups) for s in services.services
        ),
        # A workbook of several services is accepted or rejected whole: one duplicated service rejects it.
        returns=tuple(kept[n][1] for n in names if n in kept and kept[n][0] not in rejected),
        rejected=tuple(
            Rejected(file=p.name, problems=tuple(x.render() for x in rejected[p])) for p in sorted(rejected)
        ),
    )
    return Collection(result, tuple(problems), tuple(skipped))


def _check_return(
    path: Path, filled: FilledTracker, framework: Framework, names: tuple[str, ...]
) -> list[Problem]:
    """Problems that make a readable tracker unacceptable here: another framework, unknown services."""
    out: list[Problem] = []
    info = framework.framework
    if (filled.framework, filled.version) != (info.name, info.version):
        out.append(
            Problem(
                f"exported from {filled.framework} version {filled.version}; this collection is for "
                f"{info.name} version {info.version}",
                path,
                field=f"{L.META_SHEET}!{L.META_VERSION_CELL}",
                hint="Re-export the service's tracker from this framework with `qms export tracker "
                "FRAMEWORK --per-service DIR` (entries are carried across), then collect again.",
            )
        )
    if not filled.services:
        out.append(
            Problem(
                "has no Service column: it is not a service's tracker",
                path,
                field=f"{L.TRACKER_SHEET}!B1",
                hint="Export the services' trackers with `qms export tracker FRAMEWORK --per-service DIR`.",
            )
        )
    for service in filled.services:
        if service not in names:
            out.append(
                Problem(
                    f"service '{service}' is not in the services file",
                    path,
                    field=f"{L.TRACKER_SHEET}!B2",
                    hint="Add it to mappings/services.yaml (with its directorate), or fix the name there.",
                )
            )
    return out


def _service_return(
    path: Path,
    filled: FilledTracker,
    service: str,
    directorate: str,
    digest: str,
    problems: list[Problem],
) -> ServiceReturn:
    entries = [_checked(path, e, None, problems) for e in filled.entries.values() if e.service == service]
    orphaned = [
        _checked(path, e, "orphaned in the returned tracker", problems)
        for e in filled.orphaned
        if e.service == service
    ]
    return ServiceReturn(
        service=service,
        directorate=directorate,
        file=path.name,
        sha256=digest,
        entries=tuple(e for e in entries if e is not None),
        orphaned=tuple(e for e in orphaned if e is not None),
    )


def _checked(path: Path, entry: L.Entry, why: str | None, problems: list[Problem]) -> ReturnedEntry | None:
    """The entry as returned, or None with a problem at its cell for text the models refuse."""
    try:
        return _returned(entry, why)
    except ValidationError as exc:  # a control character pasted into a cell, say
        columns = L.tracker_columns(True) if entry.sheet == L.TRACKER_SHEET else L.ORPHAN_COLUMNS
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else ""
            letter = next((column_letter(i) for i, c in enumerate(columns) if c.key == key), "A")
            problems.append(
                Problem(
                    f"{key or 'cell'}: {err['msg']}",
                    path,
                    field=f"{entry.sheet}!{letter}{entry.row}",
                    hint="Retype the cell's text: characters pasted from elsewhere may hide in it.",
                )
            )
        return None


def _returned(entry: L.Entry, orphaned: str | None = None) -> ReturnedEntry:
    return ReturnedEntry(
        standard=entry.standard_id,
        status=entry.status,
        owner=entry.owner,
        due=entry.due,
        evidence=entry.evidence,
        actions=entry.actions,
        notes=entry.notes,
        orphaned=orphaned,
    )


def _standards(framework: Framework) -> tuple[StandardInfo, ...]:
    ordered = [s for _, standards in domains_with_standards(framework) for s in standards]
    return tuple(
        StandardInfo(
            id=s.id,
            domain=s.domain,
            title=s.title,
            severity=s.risk.severity,
            likelihood=s.risk.likelihood,
            score=s.risk.score,
            rating=s.risk.rating,
            weight=s.risk.weight,
        )
        for s in ordered
    )


__all__ = [
    "Collection",
    "DomainInfo",
    "Rejected",
    "ReturnedEntry",
    "ReturnsSet",
    "ServiceInfo",
    "ServiceReturn",
    "StandardInfo",
    "collect_returns",
    "dump_returns",
    "read_returns",
    "returns_path",
    "returns_sets",
    "workbook_paths",
]
