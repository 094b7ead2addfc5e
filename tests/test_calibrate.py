"""The rule that reproduces the grouping defaults from labelled crosswalks (`qms evaluate --calibrate`)."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

from conftest import ROOT, SHARED_EVAL, FakeEmbedder
from qms_standards.calibrate import CUTS, RELATED_CUTS, WEIGHTS, calibrate
from qms_standards.cli import app
from qms_standards.evaluate import GoldCrosswalk

sys.path.insert(0, str(ROOT))
from bench.synthetic import generate  # noqa: E402


def _golds() -> list[GoldCrosswalk]:
    return [GoldCrosswalk.model_validate(generate(40, seed=seed).gold()) for seed in (0, 1)]


def test_the_rule_chooses_from_its_grid_and_leaves_each_crosswalk_out() -> None:
    golds = _golds()
    result = calibrate(golds, FakeEmbedder())
    g = result.grouping
    assert (g.meaning, g.title_meaning, g.subject, g.title_words, g.other_heading, g.floor) in WEIGHTS
    assert result.threshold in CUTS and result.related_threshold in RELATED_CUTS
    assert result.worst_f1 == min(result.per_crosswalk.values())
    assert set(result.held_out) == set(result.per_crosswalk) == set(result.plain_cosine)
    assert all(cut in CUTS and 0 <= f1 <= 1 for cut, f1 in result.held_out.values())
    assert calibrate(golds, FakeEmbedder()) == result  # deterministic


def test_one_crosswalk_has_no_held_out_figure() -> None:
    result = calibrate(_golds()[:1], FakeEmbedder())
    assert result.held_out == {}


@pytest.mark.slow
def test_the_defaults_are_what_the_rule_chooses_on_the_shared_crosswalks() -> None:
    if not SHARED_EVAL.exists():
        pytest.skip(f"gold crosswalks not found at {SHARED_EVAL}")
    result = CliRunner().invoke(app, ["evaluate", str(SHARED_EVAL), "--calibrate", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["defaults_reproduced"], data
    # Whatever crosswalk is left out, the defaults beat plain MiniLM cosine at its own best cut there.
    for name, held in data["held_out"].items():
        assert held["f1"] > data["plain_cosine"][name]["f1"], name
