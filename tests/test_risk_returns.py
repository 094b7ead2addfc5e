"""Likelihood measured from returns: the share of services not meeting a standard replaces the prior."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import FakeEmbedder
from engine_helpers import make_tree, run
from qms_standards.cli import app
from qms_standards.export import layout as L
from qms_standards.load import load_framework
from qms_standards.models import Framework
from qms_standards.returns import ReturnedEntry, ReturnsSet, ServiceReturn, dump_returns
from qms_standards.risk_returns import apply_returns, measure


def _returns(framework: Framework, statuses: dict[str, list[str | None]]) -> ReturnsSet:
    """One return per service; `statuses` gives, per standard id, each service's status in order."""
    count = max(len(v) for v in statuses.values())
    services = [f"Ward {k}" for k in range(count)]
    return ReturnsSet(
        framework=framework.framework.name,
        version=framework.framework.version,
        organisation="Test Trust",
        collected=date(2026, 12, 1),
        domains=(),
        standards=(),
        services=(),
        returns=tuple(
            ServiceReturn(
                service=service,
                directorate="Medicine",
                file=f"{service}.xlsx",
                sha256="0" * 64,
                entries=tuple(
                    ReturnedEntry(standard=sid, status=values[k])
                    for sid, values in sorted(statuses.items())
                    if k < len(values)
                ),
            )
            for k, service in enumerate(services)
        ),
    )


def test_measure_counts_services_not_fully_meeting_a_standard(tmp_path: Path) -> None:
    framework = run(*make_tree(tmp_path)).framework
    sid = framework.standards[0].id
    returns = _returns(framework, {sid: [L.MET, L.NOT_MET, L.PARTIALLY_MET, L.NOT_APPLICABLE, None, L.MET]})
    measured = measure(returns)[sid]
    assert (measured.not_met, measured.assessed, measured.likelihood) == (2, 4, 5)


def test_returns_replace_the_prior_only_where_enough_services_assessed(tmp_path: Path) -> None:
    framework = run(*make_tree(tmp_path)).framework
    first, second = framework.standards[0], framework.standards[1]
    returns = _returns(framework, {first.id: [L.MET] * 9 + [L.NOT_MET], second.id: [L.NOT_MET, L.NOT_MET]})
    rerated, changed = apply_returns(framework, returns)
    assert changed == 1
    risk = rerated.standards[0].risk
    assert (risk.likelihood, risk.likelihood_basis) == (2, "returns")
    assert risk.score == risk.severity * 2
    assert risk.reason is not None
    assert risk.reason.endswith("likelihood 2: returns of 2026-12-01, 1 of 10 services not meeting it")
    assert rerated.standards[1].risk == second.risk.model_copy(
        update={"weight": rerated.standards[1].risk.weight}
    )
    assert sum(s.risk.weight for s in rerated.standards) == pytest.approx(1.0, abs=1e-3)


def test_consolidate_measures_likelihood_from_a_returns_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())
    standards, mappings = make_tree(tmp_path)
    framework = run(standards, mappings).framework
    sid = framework.standards[0].id
    folder = tmp_path / "returns"
    folder.mkdir()
    (folder / "2026-12-01.json").write_text(dump_returns(_returns(framework, {sid: [L.NOT_MET] * 3})))
    args = ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(tmp_path / "out"), "-q"]
    result = CliRunner().invoke(app, [*args, "--returns", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "note: likelihood measured from the returns of 2026-12-01 for 1 of" in " ".join(
        result.output.split()
    )
    risk = next(s for s in load_framework(tmp_path / "out" / "framework.yaml").standards if s.id == sid).risk
    assert (risk.likelihood, risk.likelihood_basis) == (5, "returns")
    missing = CliRunner().invoke(app, [*args, "--returns", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert "nowhere: no such file or folder" in " ".join(missing.output.split())
