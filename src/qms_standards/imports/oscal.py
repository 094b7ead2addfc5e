"""Read a standard set from an OSCAL catalog (JSON): each control, with its statement part, is a requirement.

OSCAL (NIST's Open Security Controls Assessment Language) nests controls in groups, control enhancements
in controls, and a control's requirement text in its `statement` part, whose items carry `label` props
(a., 1., (a)). Parameters appear in prose as `{{ insert: param, ID }}`; they are written out as NIST's
own renderings do: `[Assignment: <label>]` or `[Selection: a; b]`. Withdrawn controls are skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..files import read_input
from ..models import StandardSet
from ..yamlsource import read_yaml
from .common import Draft, ImportSourceError, build_set

CATALOG_HINT = (
    'Give an OSCAL catalog (JSON or YAML): an object with a "catalog" holding "groups" or "controls".'
)
MAX_BYTES = 50 * 1024 * 1024
_INSERT = re.compile(r"\{\{\s*insert:\s*param,\s*([^\s}]+)\s*\}\}")


def read_catalog(path: Path) -> dict[str, Any]:
    """Parse the catalog JSON.

    Raises:
        ImportSourceError: missing, not JSON, or not an OSCAL catalog.
    """
    if path.suffix.lower() in (".yaml", ".yml"):  # OSCAL's YAML form: same model, read with line numbers
        problems: list[Problem] = []
        doc = read_yaml(path, problems)
        if doc is None:
            raise ImportSourceError(f"{len(problems)} problem(s) found", problems=problems)
        data = doc.data
    else:
        raw = read_input(path, MAX_BYTES)
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise ImportSourceError("not UTF-8 text", file=path, hint=CATALOG_HINT) from None
        except json.JSONDecodeError as exc:
            raise ImportSourceError(
                f"not JSON: {exc.msg} (column {exc.colno})", file=path, line=exc.lineno, hint=CATALOG_HINT
            ) from None
    catalog = data.get("catalog") if isinstance(data, dict) else None
    if not isinstance(catalog, dict):
        found = f"top-level keys: {', '.join(sorted(data))}" if isinstance(data, dict) else "not an object"
        raise ImportSourceError(f"not an OSCAL catalog ({found})", file=path, hint=CATALOG_HINT)
    return catalog


def catalog_provenance(catalog: dict[str, Any]) -> dict[str, Any]:
    """Set-level fields the catalog records: its title, version and publication date."""
    found = catalog.get("metadata")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    published = meta.get("published") or meta.get("last-modified")
    return {
        "name": " ".join(str(meta.get("title") or "").split()) or None,
        "version": str(meta["version"]) if meta.get("version") else None,
        "published": str(published)[:10] if published else None,
        "text_is": "verbatim",
    }


def control_drafts(catalog: dict[str, Any]) -> tuple[list[Draft], list[Problem]]:
    """Every control and enhancement not withdrawn, in catalog order, each located by its JSON path."""
    drafts: list[Draft] = []
    problems: list[Problem] = []
    params: dict[str, dict[str, Any]] = {}
    _collect_params(catalog, params)

    def visit(container: dict[str, Any], path: str, section: str | None) -> None:
        for i, group in enumerate(_list(container.get("groups"))):
            title = " ".join(str(group.get("title") or "").split())
            visit(group, f"{path}.groups[{i}]", title or section)
        for i, control in enumerate(_list(container.get("controls"))):
            where = f"{path}.controls[{i}]"
            if _prop(control, "status") != "withdrawn":
                drafts.append(_draft(control, where, section, params))
            visit({"controls": control.get("controls")}, where, section)

    visit(catalog, "catalog", None)
    return drafts, problems


def _draft(control: dict[str, Any], where: str, section: str | None, params: dict[str, Any]) -> Draft:
    statement = next((p for p in _list(control.get("parts")) if p.get("name") == "statement"), None)
    lines = _part_lines(statement, params) if statement is not None else []
    values = {
        "id": control.get("id"),
        "title": " ".join(str(control.get("title") or "").split()) or None,
        "text": "\n".join(lines) or None,
        "section": section,
    }
    keys = {"id": "id", "title": "title", "text": "parts.statement", "section": "(group)"}
    label = _prop(control, "label") or control.get("id") or "?"
    return Draft(
        values, origin=f"{where} ({label})", where={k: f"{where}.{v} ({label})" for k, v in keys.items()}
    )


def _part_lines(part: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """A part's prose and its items' prose, one line each, items prefixed with their labels."""
    resolved = _resolve(str(part.get("prose") or ""), params).splitlines()
    prose = "\n".join(" ".join(line.split()) for line in resolved if line.strip())
    label = _prop(part, "label")
    lines = [f"{label} {prose}".strip() if label else prose] if prose or label else []
    for child in _list(part.get("parts")):
        if child.get("name") in (None, "item", "statement"):
            lines.extend(_part_lines(child, params))
    return [line for line in lines if line]


def _resolve(prose: str, params: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        param = params.get(match.group(1))
        if param is None:
            return f"[Assignment: {match.group(1)}]"
        select = param.get("select")
        if isinstance(select, dict):
            found = select.get("choice")
            raw: list[Any] = found if isinstance(found, list) else []
            choices = "; ".join(" ".join(_INSERT.sub(one, str(c)).split()) for c in raw)
            many = " (one or more)" if select.get("how-many") == "one-or-more" else ""
            return f"[Selection{many}: {choices}]"
        label = param.get("label") or match.group(1)
        return f"[Assignment: {' '.join(str(label).split())}]"

    return _INSERT.sub(one, prose)


def _collect_params(node: Any, out: dict[str, dict[str, Any]]) -> None:
    if isinstance(node, dict):
        for param in _list(node.get("params")):
            if isinstance(param.get("id"), str):
                out[param["id"]] = param
        for key in ("groups", "controls"):
            for child in _list(node.get(key)):
                _collect_params(child, out)


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _prop(node: dict[str, Any], name: str) -> str | None:
    for prop in _list(node.get("props")):
        if prop.get("name") == name and "value" in prop:
            return str(prop["value"])
    return None


def import_oscal(path: Path, provenance: dict[str, Any]) -> StandardSet:
    """Read an OSCAL catalog (JSON) into a validated standard set.

    Args:
        path: The catalog file.
        provenance: Set-level fields given by the user; each overrides what the catalog records.

    Raises:
        ImportSourceError: every problem, each located by its JSON path; nothing is returned.
    """
    catalog = read_catalog(path)
    recorded = catalog_provenance(catalog)
    merged = {**recorded, **{k: v for k, v in provenance.items() if v not in (None, "")}}
    drafts, problems = control_drafts(catalog)
    return build_set(merged, drafts, path, problems)
