"""Helpers shared by the engine tests: a small tree of sets and mappings, and a fast consolidation."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import DATA, MAPPINGS, FakeEmbedder
from qms_standards.framework import Consolidation, consolidate
from qms_standards.load import load_catalogue
from qms_standards.models import Settings


def make_tree(tmp_path: Path, sets: Path = DATA / "sets") -> tuple[Path, Path]:
    """Copy the small test sets and the repo's domains.yaml into tmp; return (standards, mappings)."""
    standards = tmp_path / "standards"
    mappings = tmp_path / "mappings"
    shutil.copytree(sets, standards)
    mappings.mkdir()
    shutil.copy(MAPPINGS / "domains.yaml", mappings / "domains.yaml")
    return standards, mappings


def run(standards: Path, mappings: Path, settings: Settings | None = None) -> Consolidation:
    """Consolidate with the fake embedder and no cache."""
    catalogue = load_catalogue([standards], mappings)
    assert catalogue.mappings is not None
    return consolidate(catalogue.sets, catalogue.mappings, settings or Settings(), FakeEmbedder())
