"""Read a standard set from a CISO Assistant library (YAML): its framework's assessable requirement nodes.

A library (intuitem/ciso-assistant-community, `backend/library/libraries/*.yaml`) holds one framework as a
flat list of requirement nodes, each with a `urn`, an optional `parent_urn`, `ref_id`, `name`,
`description` and `assessable`. The assessable nodes are what an audit answers: each becomes a
requirement, its section is its parent node, and the library's `copyright` becomes the set's licence.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..models import StandardSet
from ..yamlsource import Document, read_yaml
from .common import Draft, ImportSourceError, build_set

LIBRARY_HINT = "Give a CISO Assistant library file: a YAML with `objects: framework: requirement_nodes:`."


def read_library(path: Path) -> Document:
    """Parse a library file, keeping line numbers.

    Raises:
        ImportSourceError: the file is missing, not YAML, or not a library holding a framework.
    """
    problems: list[Problem] = []
    doc = read_yaml(path, problems)
    if doc is None:
        raise ImportSourceError(f"{len(problems)} problem(s) found", problems=problems)
    frameworks = _frameworks(doc.data)
    if len(frameworks) > 1:
        names = ", ".join(str(f.get("ref_id") or f.get("urn")) for f in frameworks if isinstance(f, dict))
        raise ImportSourceError(
            f"the library holds {len(frameworks)} frameworks ({names})",
            file=path,
            hint="qms imports one framework per library: save each framework as a library of its own.",
        )
    nodes = _nodes(doc.data)
    if nodes is None:
        raise ImportSourceError(
            "not a CISO Assistant framework library (no objects.framework)", file=path, hint=LIBRARY_HINT
        )
    return doc


def _frameworks(data: Any) -> list[Any]:
    """The library's frameworks: `objects.frameworks` (a list, the current spelling) or `framework`."""
    objects = data.get("objects") if isinstance(data, dict) else None
    if not isinstance(objects, dict):
        return []
    found = objects.get("frameworks") or objects.get("framework")
    return found if isinstance(found, list) else [found] if isinstance(found, dict) else []


def _framework(data: Any) -> dict[str, Any] | None:
    frameworks = _frameworks(data)
    return frameworks[0] if len(frameworks) == 1 and isinstance(frameworks[0], dict) else None


def _nodes(data: Any) -> list[Any] | None:
    framework = _framework(data)
    nodes = framework.get("requirement_nodes") if framework is not None else None
    return nodes if isinstance(nodes, list) else None


def paragraphs(value: Any) -> str:
    """Text as a set keeps it: line breaks kept, spaces inside a line collapsed.

    A line separator (U+2028), left inside sentences by PDF extraction, reads as a space.
    """
    if value is None:
        return ""
    lines = str(value).replace("\u2028", " ").replace("\r\n", "\n").split("\n")
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def library_provenance(data: dict[str, Any]) -> dict[str, Any]:
    """Set-level fields the library itself records: name, provider, version, copyright, publication date."""
    ref_id = str(data.get("ref_id") or "")
    set_id = re.sub(r"[^a-z0-9]+", "-", ref_id.lower()).strip("-") or None
    published = data.get("publication_date")
    return {
        "id": set_id,
        "name": paragraphs(data.get("name")) or None,
        "publisher": paragraphs(data.get("provider")) or None,
        # A library's `version` counts its own revisions, not the standard's edition (--edition gives that).
        "version": f"library v{data['version']}" if data.get("version") not in (None, "") else None,
        "licence": paragraphs(data.get("copyright")) or None,
        "text_is": "verbatim",
        "published": str(published) if published else None,
    }


def node_drafts(doc: Document) -> tuple[list[Draft], list[Problem]]:
    """One draft per assessable node, its section taken from its parent node; problems with their lines."""
    nodes = _nodes(doc.data) or []
    objects = doc.data["objects"]
    key = "frameworks" if "frameworks" in objects else "framework"
    base: tuple[str | int, ...] = (
        ("objects", key, 0, "requirement_nodes")
        if isinstance(objects[key], list)
        else (
            "objects",
            key,
            "requirement_nodes",
        )
    )
    by_urn: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("urn"), str):
            problems.append(
                Problem(
                    "requirement node without a urn",
                    doc.path,
                    doc.line_of((*base, index)),
                    f"requirement_nodes[{index}]",
                    LIBRARY_HINT,
                )
            )
            continue
        by_urn[node["urn"].lower()] = node
    drafts: list[Draft] = []
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or not node.get("assessable"):
            continue
        line = doc.line_of((*base, index))
        origin = f"requirement_nodes[{index}]"
        parent = by_urn.get(str(node.get("parent_urn") or "").lower())
        if node.get("parent_urn") and parent is None:
            problems.append(
                Problem(
                    f"parent_urn {node['parent_urn']} is not a node of this framework",
                    doc.path,
                    doc.line_of((*base, index, "parent_urn")),
                    f"{origin}.parent_urn",
                    "Fix the parent_urn, or take the library from its source again.",
                )
            )
        name, description = paragraphs(node.get("name")), paragraphs(node.get("description"))
        values = {
            "id": _req_id(node),
            "title": name if description else None,
            "text": description or name,
            "section": _label(parent) if parent is not None else None,
        }
        where = {k: f"{origin}.{key}" for k, key in _NODE_KEYS.items()}
        drafts.append(Draft(values, origin=origin, where=where, line=line))
    return drafts, problems


_NODE_KEYS = {"id": "ref_id", "title": "name", "text": "description", "section": "parent_urn"}


def _req_id(node: dict[str, Any]) -> str:
    """The node's own reference: its ref_id, else the last part of its urn."""
    ref_id = " ".join(str(node.get("ref_id") or "").split())
    return ref_id.replace(" ", "-") if ref_id else str(node["urn"]).rsplit(":", 1)[-1]


def _label(node: dict[str, Any]) -> str | None:
    ref_id, name = " ".join(str(node.get("ref_id") or "").split()), paragraphs(node.get("name"))
    return " ".join(p for p in (ref_id, name) if p) or None


def import_ciso_assistant(path: Path, provenance: dict[str, Any]) -> StandardSet:
    """Read a CISO Assistant library into a validated standard set.

    Args:
        path: The library YAML.
        provenance: Set-level fields given by the user; each overrides what the library records.

    Raises:
        ImportSourceError: every problem, each with its line in the library; nothing is returned.
    """
    doc = read_library(path)
    recorded = library_provenance(doc.data)
    merged = {**recorded, **{k: v for k, v in provenance.items() if v not in (None, "")}}
    drafts, problems = node_drafts(doc)
    return build_set(merged, drafts, path, problems)
