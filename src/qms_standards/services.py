"""`mappings/services.yaml`: the services that self-assess against the framework, grouped in directorates.

A service's name is free text (commas included: "Ward 5, Paediatrics"); its tracker's file name is a
slug of it, so two names that slug alike are refused, as are names that differ only in case or spaces.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from pydantic import Field

from .errors import MappingError, Problem, QmsError, raise_if
from .models import Model, ShortText
from .yamlsource import read_yaml, validate_document

SERVICES_FILE = "services.yaml"
HINT_SERVICES = "See docs/self-assessment.md for the format of mappings/services.yaml."


class Service(Model):
    """One service that fills its own tracker."""

    name: ShortText = Field(description="The service's name as its team knows it; commas are fine.")
    directorate: ShortText = Field(description="The directorate (division, care group) it belongs to.")
    groups: dict[str, ShortText] = Field(
        default={}, description="Any other grouping the organisation uses, e.g. {site: Main hospital}."
    )


class Services(Model):
    """`mappings/services.yaml`."""

    organisation: ShortText = Field(description="The organisation's name, shown on the report.")
    services: tuple[Service, ...] = Field(min_length=1)

    def names(self) -> tuple[str, ...]:
        """Service names, in file order."""
        return tuple(s.name for s in self.services)

    def directorates(self) -> tuple[str, ...]:
        """Directorate names, in the order they first appear."""
        return tuple(dict.fromkeys(s.directorate for s in self.services))

    def directorate_of(self, name: str) -> str:
        """The directorate of a service, or "" for a name not in the file."""
        return next((s.directorate for s in self.services if s.name == name), "")


def slug(name: str) -> str:
    """A file-name-safe form of a service name: `Ward 5, Paediatrics` -> `ward-5-paediatrics`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "service"


def split_services(text: str, known: tuple[str, ...] = ()) -> list[str]:
    """Split a comma-separated `--services` value; refuse to cut a known name that holds a comma.

    Raises:
        QmsError: the value holds a service name with a comma (say from services.yaml), which the comma
            split would silently turn into two services.
    """
    cut = [name for name in known if "," in name and name in text]
    if cut:
        raise QmsError(
            f"'{cut[0]}' holds a comma, so --services would split it into two services",
            field="--services",
            hint="Use --services-file mappings/services.yaml, which keeps commas inside names.",
        )
    return text.split(",")


def load_services(path: Path) -> Services:
    """Read and check a services file.

    Raises:
        MappingError: listing every problem, each with the file and line.
    """
    problems: list[Problem] = []
    services = read_services(path, problems)
    raise_if(problems, MappingError)
    assert services is not None  # no problems means it was read
    return services


def read_services(path: Path, problems: list[Problem]) -> Services | None:
    """Read a services file, appending each problem (with its line) to `problems`."""
    path = Path(path)
    if not path.is_file():
        problems.append(
            Problem(
                "no such file",
                path,
                hint="Copy mappings/services.yaml from the qms-standards repository and edit it.",
            )
        )
        return None
    doc = read_yaml(path, problems)
    services = validate_document(doc, Services, problems) if doc is not None else None
    if doc is None or services is None:
        return None
    before = len(problems)
    seen_names: dict[str, int] = {}
    seen_slugs: dict[str, int] = {}
    for i, service in enumerate(services.services):
        line = doc.line_of(("services", i, "name"))
        field = f"services[{i}].name"
        if service.name != service.name.strip() or "\n" in service.name:
            problems.append(
                Problem(
                    f"service name {service.name!r} has spaces at its ends or a line break",
                    path,
                    line,
                    field,
                    "Write the name on one line, without leading or trailing spaces.",
                )
            )
        folded = " ".join(service.name.split()).casefold()
        if folded in seen_names:
            first = seen_names[folded]
            problems.append(
                Problem(
                    f"service '{service.name}' is listed twice (first as services[{first}])",
                    path,
                    line,
                    field,
                    "Each service appears once; remove one, or give the two distinct names.",
                )
            )
            continue
        seen_names[folded] = i
        key = slug(service.name)
        if key in seen_slugs:
            other = services.services[seen_slugs[key]].name
            problems.append(
                Problem(
                    f"service '{service.name}' would share the tracker file {key}.xlsx with '{other}'",
                    path,
                    line,
                    field,
                    "Make the names differ in a letter or digit, not only in punctuation.",
                )
            )
        seen_slugs.setdefault(key, i)
    return services if len(problems) == before else None


__all__ = ["SERVICES_FILE", "Service", "Services", "load_services", "read_services", "slug", "split_services"]
