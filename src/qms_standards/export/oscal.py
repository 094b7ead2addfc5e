"""The framework as an OSCAL catalog (JSON): each domain a group, each standard a control.

OSCAL 1.1 catalog model (NIST): `catalog.metadata` (title, last-modified, version, oscal-version),
`groups[].controls[]`, each control's requirement in its `statement` part. What OSCAL has no field for
(risk, QMS component, the source requirements with their NIST OLIR relationship) goes into `props` in
the qms namespace, so OSCAL tools keep it and ignore what they do not know.

OSCAL requires a `last-modified` time; the same framework must give the same bytes, so it is passed in
(`--last-modified`) rather than read from the clock. The catalog's uuid is derived from the framework's
name and version for the same reason.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from ..models import Framework, Standard

OSCAL_VERSION = "1.1.2"
NS = "urn:qms-standards:oscal"  # the namespace of qms props, so OSCAL tools can tell them apart
DEFAULT_LAST_MODIFIED = "2000-01-01T00:00:00Z"
_TOKEN_FORBIDDEN = re.compile(r"[^\w.\-]")


def token(value: str) -> str:
    """An OSCAL token (a letter or _ first, then letters, digits, '.', '-', '_')."""
    cleaned = _TOKEN_FORBIDDEN.sub("-", value)
    return cleaned if re.match(r"^[^\W\d]", cleaned) else f"_{cleaned}"


def render_catalog(framework: Framework, last_modified: str = DEFAULT_LAST_MODIFIED) -> str:
    """The framework as OSCAL catalog JSON text (2-space indented, keys in OSCAL's order)."""
    return json.dumps(build_catalog(framework, last_modified), indent=2, ensure_ascii=False) + "\n"


def build_catalog(framework: Framework, last_modified: str = DEFAULT_LAST_MODIFIED) -> dict[str, Any]:
    """The catalog as plain data (see `render_catalog`)."""
    info = framework.framework
    groups = []
    for domain in framework.domains:
        controls = [_control(s) for s in framework.standards if s.domain == domain.id]
        group: dict[str, Any] = {
            "id": token(domain.id),
            "class": "domain",
            "title": domain.name,
            "parts": [{"id": token(f"{domain.id}_ovw"), "name": "overview", "prose": domain.description}],
        }
        if controls:
            group["controls"] = controls
        groups.append(group)
    sources = "; ".join(f"{s.id} ({s.name}, {s.version}; {s.licence})" for s in info.sources)
    return {
        "catalog": {
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"qms-standards:{info.name}:{info.version}")),
            "metadata": {
                "title": info.name,
                "last-modified": last_modified,
                "version": info.version,
                "oscal-version": OSCAL_VERSION,
                "remarks": f"Consolidated by {info.generated_by} from: {sources}.",
            },
            "groups": groups,
        }
    }


def _control(standard: Standard) -> dict[str, Any]:
    risk = standard.risk
    props = [
        {"name": "label", "value": standard.id},
        {"name": "risk-rating", "ns": NS, "value": risk.rating},
        {"name": "risk-score", "ns": NS, "value": str(risk.score)},
        {"name": "severity", "ns": NS, "value": str(risk.severity)},
        {"name": "likelihood", "ns": NS, "value": str(risk.likelihood)},
        {"name": "qms-component", "ns": NS, "value": standard.qms_component},
    ]
    for link in standard.sources:
        props.append(_source_prop("source-requirement", link.ref, link.relationship, link.strength))
    for related in standard.related:
        props.append(_source_prop("related-requirement", related.ref, related.relationship, related.strength))
    return {
        "id": token(standard.id),
        "class": "qms-standard",
        "title": standard.title,
        "props": props,
        "parts": [{"id": token(f"{standard.id}_smt"), "name": "statement", "prose": standard.statement}],
    }


def _source_prop(name: str, ref: str, relationship: str, strength: int) -> dict[str, Any]:
    return {
        "name": name,
        "ns": NS,
        "value": ref,
        "class": relationship,
        "remarks": f"{relationship}, strength {strength}/10 (NIST OLIR)",
    }
