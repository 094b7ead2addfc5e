"""One tracker workbook per service, named after the service: what each team fills in and sends back.

An earlier workbook of the same service in the output folder is carried across (by standard id), never
overwritten blank, so the folder can be re-exported when the framework changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, TrackerError, raise_if
from ..models import Framework
from ..services import Services, slug
from ..tracker import FilledTracker, read_tracker
from .excel import render_tracker


@dataclass(frozen=True)
class ServiceTracker:
    """A service's workbook: where it goes, its bytes, and the filled tracker carried into it (if any)."""

    service: str
    directorate: str
    path: Path
    data: bytes
    carried: FilledTracker | None


def service_trackers(
    framework: Framework, services: Services, folder: Path, only: Sequence[str] | None = None
) -> list[ServiceTracker]:
    """Render one tracker per service into memory, carrying any earlier workbook found in `folder`.

    Args:
        framework: The consolidated framework.
        services: The services file; each service gets `<folder>/<slug of its name>.xlsx`.
        folder: Where the workbooks will be written (read here for earlier workbooks to carry).
        only: Service names to export; None for all.

    Returns:
        The workbooks, in services-file order; nothing is written.

    Raises:
        TrackerError: an earlier file in `folder` is not a readable tracker, or `only` names a service
            that is not in the file; every problem is listed.
    """
    problems: list[Problem] = []
    names = services.names()
    for name in only or ():
        if name not in names:
            problems.append(
                Problem(
                    f"service '{name}' is not in the services file",
                    field="--service",
                    hint="Use a name exactly as mappings/services.yaml spells it.",
                )
            )
    out: list[ServiceTracker] = []
    for service in services.services:
        if only and service.name not in only:
            continue
        path = folder / f"{slug(service.name)}.xlsx"
        previous = None
        if path.exists():
            try:
                previous = read_tracker(path)
            except TrackerError as exc:
                problems.extend(exc.problems)
                continue
        data = render_tracker(framework, services=[service.name], carried=previous)
        out.append(ServiceTracker(service.name, service.directorate, path, data, previous))
    raise_if(problems, TrackerError)
    return out


__all__ = ["ServiceTracker", "service_trackers"]
