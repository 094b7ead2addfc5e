"""The framework as a CISO Assistant library: the framework object plus a mapping set from each source set.

The format is CISO Assistant's library YAML (intuitem/ciso-assistant-community, `backend/library/`):
`objects.frameworks` holds the consolidated framework as requirement nodes (each domain a section, each
standard an assessable node under it), and `objects.requirement_mapping_sets` holds one set per source
standard set, mapping each source requirement to the standard that is its home (and to the standards
that partly cover it) in NIST OLIR terms: relationship, strength 0-10 and a rationale.

A mapping set's source framework must be loaded in CISO Assistant too: `render_set_library` writes each
source set as a library of its own, and the framework library names them as dependencies.
`check_library` holds a library to the rules CISO Assistant's loader enforces (see its docstring).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import QmsError
from ..files import dump_yaml
from ..models import Framework, StandardSet, split_ref

PACKAGER = "qms"
# core.models.URN_REGEX in CISO Assistant: urn:<packager>:<domain>:<type>[:<ref>]:<id>.
URN_PATTERN = re.compile(
    r"^urn:([a-zA-Z0-9_-]+):([a-zA-Z0-9_-]+):([a-zA-Z0-9_-]+)(?::([a-zA-Z0-9_-]+))?:([0-9A-Za-z\[\]\(\)\-\._:]+)$"
)
_LEAF_FORBIDDEN = re.compile(r"[^0-9a-z\[\]\(\)\-\._]+")
RELATIONSHIPS = ("equal", "subset", "superset", "intersect", "not_related")
RATIONALES = ("syntactic", "semantic", "functional")
LIBRARY_KEYS = (
    "urn",
    "locale",
    "ref_id",
    "name",
    "description",
    "copyright",
    "version",
    "provider",
    "packager",
)


def urn_leaf(value: str) -> str:
    """A ref as the last part of a urn: lower case, characters CISO Assistant forbids as '-'."""
    return _LEAF_FORBIDDEN.sub("-", value.lower().strip()).strip("-")


def library_ref(name: str) -> str:
    """A library ref_id from a name: lower-case words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "framework"


def _urn(kind: str, ref: str, leaf: str | None = None) -> str:
    return f"urn:{PACKAGER}:risk:{kind}:{ref}" + (f":{leaf}" if leaf is not None else "")


def _leaves(ids: list[tuple[str, str]], owner: str) -> dict[str, str]:
    """Each id's urn leaf; two ids with one leaf (`a/b` and `a-b`) would merge in CISO Assistant."""
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key, value in ids:
        leaf = urn_leaf(value)
        if leaf in seen and seen[leaf] != key:
            raise QmsError(
                f"'{seen[leaf]}' and '{key}' in {owner} would share the urn leaf '{leaf}'",
                field="id",
                hint="CISO Assistant keeps letters, digits and .-_()[] in urns; rename one of the two ids.",
            )
        seen[leaf] = key
        out[key] = leaf
    return out


def render_library(framework: Framework, ref_id: str | None = None, version: int = 1) -> str:
    """The consolidated framework and its mapping sets as one CISO Assistant library (YAML text).

    Raises:
        QmsError: two ids would share a urn.
    """
    return dump_yaml(build_library(framework, ref_id, version))


def build_library(framework: Framework, ref_id: str | None = None, version: int = 1) -> dict[str, Any]:
    """The library as plain data (see `render_library`)."""
    info = framework.framework
    ref = ref_id or library_ref(info.name)
    fw_urn = _urn("framework", ref)
    node = _node_urns(framework, ref)
    nodes: list[dict[str, Any]] = []
    for domain in framework.domains:
        nodes.append(
            {
                "urn": node[domain.id],
                "assessable": False,
                "depth": 1,
                "ref_id": domain.id,
                "name": domain.name,
                "description": domain.description,
            }
        )
        for standard in (s for s in framework.standards if s.domain == domain.id):
            nodes.append(
                {
                    "urn": node[standard.id],
                    "assessable": True,
                    "depth": 2,
                    "parent_urn": node[domain.id],
                    "ref_id": standard.id,
                    "name": standard.title,
                    "description": standard.statement,
                    "annotation": f"Risk {standard.risk.rating} ({standard.risk.score}/25: severity "
                    f"{standard.risk.severity} x likelihood {standard.risk.likelihood}); QMS component: "
                    f"{standard.qms_component}.",
                }
            )
    sources = ", ".join(f"{s.name} ({s.licence})" for s in info.sources)
    return {
        "urn": _urn("library", ref),
        "locale": "en",
        "ref_id": ref,
        "name": info.name,
        "description": f"{info.name}, version {info.version}: {len(framework.standards)} standards "
        f"consolidated by {info.generated_by} from {len(info.sources)} source sets, with a mapping set "
        "from each.",
        "copyright": f"Consolidated framework; source texts: {sources}",
        "version": version,
        "provider": info.generated_by,
        "packager": PACKAGER,
        "dependencies": [_urn("library", s.id) for s in info.sources],
        "objects": {
            "frameworks": [
                {
                    "urn": fw_urn,
                    "ref_id": ref,
                    "name": info.name,
                    "description": f"Version {info.version}.",
                    "requirement_nodes": nodes,
                }
            ],
            "requirement_mapping_sets": _mapping_sets(framework, ref, fw_urn, node),
        },
    }


def _node_urns(framework: Framework, ref: str) -> dict[str, str]:
    ids = [(d.id, d.id) for d in framework.domains] + [(s.id, s.id) for s in framework.standards]
    leaves = _leaves(ids, "the framework")
    return {key: _urn("req_node", ref, leaf) for key, leaf in leaves.items()}


def _mapping_sets(framework: Framework, ref: str, fw_urn: str, node: dict[str, str]) -> list[dict[str, Any]]:
    by_set: dict[str, list[dict[str, Any]]] = {s.id: [] for s in framework.framework.sources}
    refs = sorted(
        {link.ref for s in framework.standards for link in s.sources}
        | {link.ref for s in framework.standards for link in s.related}
    )
    leaves: dict[str, str] = {}
    for set_id in by_set:
        ids = [(r, split_ref(r)[1]) for r in refs if split_ref(r)[0] == set_id]
        leaves.update(_leaves(ids, set_id))
    for standard in framework.standards:
        links = [(link, "home") for link in standard.sources] + [
            (link, "related") for link in standard.related
        ]
        for link, kind in links:
            set_id = split_ref(link.ref)[0]
            if set_id not in by_set:
                continue
            why = "its home standard" if kind == "home" else "a standard that partly covers it (related)"
            by_set[set_id].append(
                {
                    "source_requirement_urn": _urn("req_node", set_id, leaves[link.ref]),
                    "target_requirement_urn": node[standard.id],
                    "relationship": link.relationship,
                    "strength_of_relationship": link.strength,
                    "rationale": "semantic",
                    "annotation": f"{link.ref} -> {standard.id}: {why}; similarity {link.similarity:.2f}.",
                }
            )
    out = []
    for source in framework.framework.sources:
        mappings = sorted(
            by_set[source.id], key=lambda m: (m["source_requirement_urn"], m["target_requirement_urn"])
        )
        out.append(
            {
                "urn": _urn("req_mapping_set", f"{source.id}-to-{ref}"),
                "ref_id": f"{source.id}-to-{ref}",
                "name": f"{source.name} -> {framework.framework.name}",
                "description": f"Each requirement of {source.id} mapped to its home standard and to the "
                "standards that partly cover it (NIST OLIR relationships).",
                "source_framework_urn": _urn("framework", source.id),
                "target_framework_urn": fw_urn,
                "requirement_mappings": mappings,
            }
        )
    return out


def render_set_library(standard_set: StandardSet, version: int = 1) -> str:
    """One source standard set as a CISO Assistant library, the source of its mapping set (YAML text).

    Sections become non-assessable nodes; requirements are assessable nodes under them.

    Raises:
        QmsError: two ids would share a urn.
    """
    ref = standard_set.id
    sections = sorted({r.section for r in standard_set.requirements if r.section})
    section_ids = [(f"section {s}", f"section.{s}") for s in sections]
    leaves = _leaves([*section_ids, *((r.id, r.id) for r in standard_set.requirements)], ref)
    nodes: list[dict[str, Any]] = []
    placed: set[str] = set()
    for requirement in standard_set.requirements:
        parent = None
        if requirement.section:
            parent = _urn("req_node", ref, leaves[f"section {requirement.section}"])
            if requirement.section not in placed:
                placed.add(requirement.section)
                nodes.append({"urn": parent, "assessable": False, "depth": 1, "name": requirement.section})
        entry: dict[str, Any] = {
            "urn": _urn("req_node", ref, leaves[requirement.id]),
            "assessable": True,
            "depth": 2 if parent else 1,
        }
        if parent:
            entry["parent_urn"] = parent
        entry.update({"ref_id": requirement.id, "name": requirement.title, "description": requirement.text})
        nodes.append(entry)
    licence = standard_set.licence + (f". {standard_set.attribution}" if standard_set.attribution else "")
    data = {
        "urn": _urn("library", ref),
        "locale": "en",
        "ref_id": ref,
        "name": standard_set.name,
        "description": f"{standard_set.name}, {standard_set.version}"
        + (f": {standard_set.url}" if standard_set.url else ""),
        "copyright": licence,
        "version": version,
        "provider": standard_set.publisher,
        "packager": PACKAGER,
        "objects": {
            "frameworks": [
                {
                    "urn": _urn("framework", ref),
                    "ref_id": ref,
                    "name": standard_set.name,
                    "description": f"Edition {standard_set.version}; text is {standard_set.text_is}.",
                    "requirement_nodes": nodes,
                }
            ]
        },
    }
    return dump_yaml(data)


def missing_sources(framework: Framework, sets: list[StandardSet]) -> list[str]:
    """Refs the framework links to that the given sets no longer hold (a set edited since consolidating).

    A mapping onto such a ref would name a node its source library does not define, and CISO Assistant
    would refuse the library.
    """
    held = {standard_set.ref(r) for standard_set in sets for r in standard_set.requirements}
    ids = {standard_set.id for standard_set in sets}
    refs = {link.ref for s in framework.standards for link in s.sources}
    refs |= {link.ref for s in framework.standards for link in s.related}
    return sorted(r for r in refs if split_ref(r)[0] in ids and r not in held)


def check_library(data: Any) -> list[str]:
    """What CISO Assistant's library loader would reject, as `path: problem` lines (empty when none).

    The rules, from its loader (`core.models`, `library/utils.py`) and library builder: the library's own
    keys are present and `version` is an integer; every urn matches `URN_REGEX` with the right type token
    and is unique (ignoring case); a node's `parent_urn` names an earlier node of its framework and its
    `depth` is one more than its parent's; a mapping set maps between two different frameworks, its
    targets are nodes of its target framework, its sources carry the source framework's node prefix,
    relationships and rationales are from the loader's choices and strength is a whole number 0-10.
    """
    problems: list[str] = []
    if not isinstance(data, dict):
        return ["library: not a mapping"]
    for key in LIBRARY_KEYS:
        if data.get(key) in (None, ""):
            problems.append(f"{key}: missing")
    if not isinstance(data.get("version"), int):
        problems.append("version: must be a whole number")
    seen: dict[str, str] = {}

    def urn(value: Any, kind: str, where: str) -> None:
        match = URN_PATTERN.match(value) if isinstance(value, str) else None
        if match is None:
            problems.append(f"{where}: {value!r} is not a CISO Assistant urn")
            return
        if match.group(3) != kind:
            problems.append(f"{where}: {value} should be a {kind} urn")
        if value.lower() in seen:
            problems.append(f"{where}: duplicate urn {value} (also {seen[value.lower()]})")
        seen[value.lower()] = where

    urn(data.get("urn"), "library", "urn")
    found = data.get("objects")
    objects: dict[str, Any] = found if isinstance(found, dict) else {}
    nodes_of: dict[str, set[str]] = {}
    key = "frameworks" if "frameworks" in objects else "framework"  # the singular is the older spelling
    frameworks = objects.get(key) or []
    for i, framework in enumerate(frameworks if isinstance(frameworks, list) else [frameworks]):
        where = f"objects.{key}[{i}]" if isinstance(frameworks, list) else f"objects.{key}"
        urn(framework.get("urn"), "framework", f"{where}.urn")
        nodes_of[str(framework.get("urn"))] = _check_nodes(framework, where, urn, problems)
    for i, mapping_set in enumerate(objects.get("requirement_mapping_sets") or []):
        _check_mapping_set(mapping_set, f"objects.requirement_mapping_sets[{i}]", urn, nodes_of, problems)
    return problems


def _check_nodes(framework: dict[str, Any], where: str, urn: Any, problems: list[str]) -> set[str]:
    depth: dict[str, int] = {}
    for j, node in enumerate(framework.get("requirement_nodes") or []):
        at = f"{where}.requirement_nodes[{j}]"
        urn(node.get("urn"), "req_node", f"{at}.urn")
        if not isinstance(node.get("assessable"), bool):
            problems.append(f"{at}.assessable: must be true or false")
        parent = node.get("parent_urn")
        expected = 1 if parent is None else depth.get(str(parent).lower(), 0) + 1
        if parent is not None and str(parent).lower() not in depth:
            problems.append(f"{at}.parent_urn: {parent} is not an earlier node of this framework")
        if node.get("depth") != expected:
            problems.append(f"{at}.depth: {node.get('depth')} but its parent makes it {expected}")
        depth[str(node.get("urn")).lower()] = expected
    return set(depth)


def _check_mapping_set(
    mapping_set: dict[str, Any], at: str, urn: Any, nodes_of: dict[str, set[str]], problems: list[str]
) -> None:
    urn(mapping_set.get("urn"), "req_mapping_set", f"{at}.urn")
    source, target = mapping_set.get("source_framework_urn"), mapping_set.get("target_framework_urn")
    if source == target:
        problems.append(f"{at}: source and target framework are the same")
    targets = nodes_of.get(str(target))
    source_prefix = str(source).replace(":framework:", ":req_node:", 1) + ":"
    for k, mapping in enumerate(mapping_set.get("requirement_mappings") or []):
        where = f"{at}.requirement_mappings[{k}]"
        if targets is not None and str(mapping.get("target_requirement_urn")).lower() not in targets:
            problems.append(f"{where}.target_requirement_urn: not a node of {target}")
        if not str(mapping.get("source_requirement_urn")).startswith(source_prefix):
            problems.append(f"{where}.source_requirement_urn: not a node of {source}")
        if mapping.get("relationship") not in RELATIONSHIPS:
            problems.append(
                f"{where}.relationship: {mapping.get('relationship')!r} is not one of {RELATIONSHIPS}"
            )
        if mapping.get("rationale") not in (None, *RATIONALES):
            problems.append(f"{where}.rationale: {mapping.get('rationale')!r} is not one of {RATIONALES}")
        strength = mapping.get("strength_of_relationship")
        if strength is not None and (not isinstance(strength, int) or not 0 <= strength <= 10):
            problems.append(f"{where}.strength_of_relationship: {strength!r} is not a whole number 0-10")
