"""The framework as an OSCAL catalog (JSON): each domain a group, each standard a control.

OSCAL 1.1 catalog model (NIST): `catalog.metadata` (title, last-modified, version, oscal-version),
`groups[].controls[]`, each control's requirement in its `statement` part. What OSCAL has no field for
(risk, QMS component, the source requirements with their NIST OLIR relationship) goes into `props` in
the qms namespace, so OSCAL tools keep it and ignore what they do not know.

`build_mapping` writes the crosswalk in OSCAL 1.2's mapping model: one mapping per source set, each source
requirement mapped to its home standard and to the standards that partly cover it, with the NIST IR 8477
relationship (equal-to, subset-of, superset-of, intersects-with) and the engine's similarity as confidence.

OSCAL requires a `last-modified` time; the same framework must give the same bytes, so it is passed in
(`--last-modified`) rather than read from the clock. The catalog's uuid is derived from the framework's
name and version for the same reason.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from ..models import Framework, Standard, split_ref

OSCAL_VERSION = "1.1.2"
MAPPING_OSCAL_VERSION = "1.2.0"  # the mapping model first appears in OSCAL 1.2
# NIST IR 8477 set-theory relationships, as OSCAL's mapping model spells them.
RELATIONSHIPS = {
    "equal": "equal-to",
    "subset": "subset-of",
    "superset": "superset-of",
    "intersect": "intersects-with",
}
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


def _uuid(*parts: str) -> str:
    """A uuid that is the same for the same parts: OSCAL asks for uuids, the output must be byte-stable."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "qms-standards:" + ":".join(parts)))


def _map_key(entry: dict[str, Any]) -> tuple[str, str]:
    return (str(entry["sources"][0]["id-ref"]), str(entry["targets"][0]["id-ref"]))


def render_mapping(
    framework: Framework, last_modified: str = DEFAULT_LAST_MODIFIED, catalog_href: str = "catalog.json"
) -> str:
    """The crosswalk as an OSCAL mapping collection (JSON text): source requirements -> standards."""
    return (
        json.dumps(build_mapping(framework, last_modified, catalog_href), indent=2, ensure_ascii=False) + "\n"
    )


def build_mapping(
    framework: Framework, last_modified: str = DEFAULT_LAST_MODIFIED, catalog_href: str = "catalog.json"
) -> dict[str, Any]:
    """The mapping collection as plain data (see `render_mapping`).

    Args:
        framework: The consolidated framework.
        last_modified: The document's last-modified time (ISO 8601 with a time zone).
        catalog_href: Where the framework's own OSCAL catalog is (`qms export oscal -o`), the target.
    """
    info = framework.framework
    maps: dict[str, list[dict[str, Any]]] = {s.id: [] for s in info.sources}
    for standard in framework.standards:
        links = [(x.ref, x.relationship, x.strength, x.similarity, "home") for x in standard.sources]
        links += [(x.ref, x.relationship, x.strength, x.similarity, "related") for x in standard.related]
        for ref, relationship, strength, similarity, kind in links:
            set_id, req_id = split_ref(ref)
            if set_id not in maps:
                continue
            maps[set_id].append(
                {
                    "uuid": _uuid(info.name, ref, standard.id),
                    "matching-rationale": "semantic",
                    "relationship": RELATIONSHIPS[relationship],
                    "sources": [{"type": "control", "id-ref": req_id}],
                    "targets": [{"type": "control", "id-ref": token(standard.id)}],
                    "confidence-score": {"percentage": round(min(max(similarity, 0.0), 1.0), 2)},
                    "props": [
                        {"name": "strength", "ns": NS, "value": str(strength)},
                        {"name": "link", "ns": NS, "value": kind},
                    ],
                }
            )
    resources: list[dict[str, Any]] = []
    mappings: list[dict[str, Any]] = []
    for source in info.sources:
        resource = _uuid(info.name, "resource", source.id)
        resources.append(
            {
                "uuid": resource,
                "title": source.name,
                "description": f"{source.id}, {source.version}; {source.licence}",
            }
        )
        if maps[source.id]:
            mappings.append(
                {
                    "uuid": _uuid(info.name, "mapping", source.id),
                    "source-resource": {"type": "catalog", "href": f"#{resource}"},
                    "target-resource": {"type": "catalog", "href": catalog_href},
                    "maps": sorted(maps[source.id], key=_map_key),
                }
            )
    return {
        "mapping-collection": {
            "uuid": _uuid(info.name, info.version, "mapping-collection"),
            "metadata": {
                "title": f"{info.name}: crosswalk from its source sets",
                "last-modified": last_modified,
                "version": info.version,
                "oscal-version": MAPPING_OSCAL_VERSION,
            },
            "provenance": {
                "method": "hybrid",
                "matching-rationale": "semantic",
                "status": "draft",
                "mapping-description": f"Each requirement of each source set mapped to its home standard "
                f"in {info.name} and to the standards that partly cover it, by {info.generated_by} "
                "(similarity of meaning, with people's must-link and cannot-link decisions). Draft until "
                "people have reviewed it (`qms review`).",
            },
            "mappings": mappings,
            "back-matter": {"resources": resources},
        }
    }
