"""A set of returns as it is kept: `returns/<YYYY-MM-DD>.json`, one per collection, earlier ones kept.

The models say what a set holds (every service's rows as typed, the standards and domains needed to roll
them up, the services file's services and the rejected files); the functions write, find and read sets.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from pydantic import Field, ValidationError

from .errors import QmsError
from .models import Model

RETURNS_SUFFIX = ".json"
SET_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")


class ReturnedEntry(Model):
    """One row of a returned tracker: what the service filled in for one standard."""

    standard: str
    status: str | None = None
    owner: str | None = None
    due: date | None = None
    evidence: str | None = None
    actions: str | None = None
    notes: str | None = None
    orphaned: str | None = Field(default=None, description="Why it sat on the 'Orphaned entries' sheet.")


class ServiceReturn(Model):
    """The workbook one service sent back."""

    service: str
    directorate: str
    file: str = Field(description="The workbook's file name as received.")
    sha256: str
    entries: tuple[ReturnedEntry, ...] = Field(description="The Tracker rows, in framework order.")
    orphaned: tuple[ReturnedEntry, ...] = Field(default=(), description="Kept so that nothing is lost.")


class StandardInfo(Model):
    """What a returns set needs of each standard to roll up compliance and risk."""

    id: str
    domain: str
    title: str
    severity: int
    likelihood: int
    score: int
    rating: str
    weight: float


class DomainInfo(Model):
    """A domain's id and name."""

    id: str
    name: str


class ServiceInfo(Model):
    """A service of the services file, its directorate and any other grouping (`site: Community`)."""

    name: str
    directorate: str
    groups: dict[str, str] = {}


class Rejected(Model):
    """A returned workbook that was not collected, and why (each problem rendered with its cell)."""

    file: str
    problems: tuple[str, ...]


class ReturnsSet(Model):
    """One collection of returns: `returns/<date>.json`."""

    framework: str
    version: str
    organisation: str
    collected: date
    domains: tuple[DomainInfo, ...]
    standards: tuple[StandardInfo, ...]
    services: tuple[ServiceInfo, ...] = Field(description="Every service of the services file.")
    returns: tuple[ServiceReturn, ...]
    rejected: tuple[Rejected, ...] = ()

    def missing(self) -> tuple[str, ...]:
        """Services of the services file with no accepted return."""
        returned = {r.service for r in self.returns}
        return tuple(s.name for s in self.services if s.name not in returned)


def dump_returns(returns: ReturnsSet) -> str:
    """The set as canonical JSON: fields in model order, empty values left out, byte-stable."""
    data = returns.model_dump(mode="json", exclude_defaults=True)
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def returns_path(folder: Path, collected: date) -> Path:
    """Where the set collected on a day is written: `<folder>/<YYYY-MM-DD>.json`."""
    return folder / f"{collected.isoformat()}{RETURNS_SUFFIX}"


def returns_sets(path: Path) -> list[Path]:
    """The sets a path names: one file, or every `YYYY-MM-DD.json` in a folder, oldest first.

    Raises:
        QmsError: the path does not exist, or the folder holds no set.
    """
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if SET_NAME.match(p.name))
        if found:
            return found
        raise QmsError(
            "no set of returns (YYYY-MM-DD.json) in this folder",
            file=path,
            hint="Collect the returned trackers first: `qms tracker collect FOLDER`.",
        )
    raise QmsError(
        "no such file or folder",
        file=path,
        hint="Give the returns folder written by `qms tracker collect` (default returns/).",
    )


def read_returns(path: Path) -> ReturnsSet:
    """Read one set of returns written by `qms tracker collect`.

    Raises:
        QmsError: the file cannot be read or is not a set of returns.
    """
    hint = "A set of returns is written by `qms tracker collect`; collect again rather than editing it."
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise QmsError(f"cannot read it ({type(exc).__name__})", file=path, hint=hint) from exc
    except json.JSONDecodeError as exc:
        raise QmsError(f"not JSON: {exc.msg}", file=path, line=exc.lineno, hint=hint) from exc
    try:
        return ReturnsSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise QmsError(
            f"not a set of returns: {first['msg']}", file=path, field=where or None, hint=hint
        ) from exc


__all__ = [
    "DomainInfo",
    "Rejected",
    "ReturnedEntry",
    "ReturnsSet",
    "ServiceInfo",
    "ServiceReturn",
    "StandardInfo",
    "dump_returns",
    "read_returns",
    "returns_path",
    "returns_sets",
]
