"""End to end, as a trust would run it: 67 service trackers out, filled, collected, rolled up, reported.

Every figure must agree: `qms tracker status --json`, each returned workbook's Summary sheet (computed by
LibreOffice) and the HTML report (read in headless Chromium). Marked slow: it writes, fills and reads 67
workbooks (about a minute), so `make test-fast` leaves it out and `make test` (CI) runs it.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import MAPPINGS, STANDARDS
from engine_helpers import run
from qms_standards.cli import app
from qms_standards.dashboard import Dashboard
from qms_standards.files import dump_model
from qms_standards.models import Settings
from qms_standards.services import load_services, slug
from selfassess_helpers import fill_varied, services_yaml
from test_report import ARTEFACTS, check_in_browser, expected_figures, figures_in_html

pytestmark = pytest.mark.slow
SERVICES = 67
runner = CliRunner()


def qms(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("trust")
    framework = run(STANDARDS, MAPPINGS, Settings(target=60)).framework  # the shipped standard sets
    (root / "framework.yaml").write_text(dump_model(framework), encoding="utf-8")
    names = services_yaml(root / "services.yaml", SERVICES)
    paths = {"root": root, "framework": str(root / "framework.yaml"), "services": str(root / "services.yaml")}
    out = qms(
        "export", "tracker", paths["framework"], "--per-service", str(root / "returned"),
        "--services-file", paths["services"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    workbooks = sorted((root / "returned").glob("*.xlsx"))
    assert len(workbooks) == SERVICES
    for i, path in enumerate(workbooks):
        fill_varied(path, seed=i)
    return {**paths, "names": names, "standards": len(framework.standards), "workbooks": workbooks}


def collect(trust: dict[str, Any], day: str) -> Any:
    return qms(
        "tracker", "collect", str(trust["root"] / "returned"), "--framework", trust["framework"],
        "--services-file", trust["services"], "--out", str(trust["root"] / "returns"), "--date", day,
    )  # fmt: skip


@pytest.fixture(scope="module")
def collected(trust: dict[str, Any]) -> dict[str, Any]:
    """A first collection with one bad return (66 kept), then the corrected one (all 67)."""
    bad = trust["root"] / "returned" / f"{slug('Ward 5, Paediatrics')}.xlsx"
    book = load_workbook(bad)
    book["Tracker"]["J7"] = "Done, mostly"
    book.save(bad)
    first = collect(trust, "2025-03-31")
    book = load_workbook(bad)
    book["Tracker"]["J7"] = "Met"
    book.save(bad)
    second = collect(trust, "2025-06-30")
    assert second.exit_code == 0, second.output
    status = qms("tracker", "status", str(trust["root"] / "returns"), "--json", "--today", "2025-06-30")
    assert status.exit_code == 0, status.output
    report = qms(
        "report", str(trust["root"] / "returns"), "--framework", trust["framework"],
        "-o", str(trust["root"] / "report.html"), "--standards", str(STANDARDS),
    )  # fmt: skip
    assert report.exit_code == 0, report.output
    as_json = qms(
        "report", str(trust["root"] / "returns"), "--framework", trust["framework"], "--json",
        "--standards", str(STANDARDS),
    )  # fmt: skip
    return {
        "first": first,
        "bad": bad,
        "status": json.loads(status.output),
        "dashboard": Dashboard.model_validate(json.loads(as_json.output)),
    }


def test_a_bad_return_is_rejected_by_name_and_cell_and_the_other_66_are_kept(
    trust: dict[str, Any], collected: dict[str, Any]
) -> None:
    first = collected["first"]
    assert first.exit_code == 2
    assert f"error: {collected['bad']}: Tracker!J7: status 'Done, mostly' is not allowed" in first.output
    kept = json.loads((trust["root"] / "returns" / "2025-03-31.json").read_text(encoding="utf-8"))
    assert len(kept["returns"]) == SERVICES - 1
    assert [r["file"] for r in kept["rejected"]] == [collected["bad"].name]
    assert "Ward 5, Paediatrics" not in {r["service"] for r in kept["returns"]}


def test_status_covers_every_service_and_row(trust: dict[str, Any], collected: dict[str, Any]) -> None:
    status = collected["status"]
    assert [s["group"] for s in status["services"]] == trust["names"]
    assert status["overall"]["rows"] == SERVICES * trust["standards"]
    assert sum(d["rows"] for d in status["directorates"]) == status["overall"]["rows"]
    assert status["missing"] == [] and status["rejected"] == []
    counts = status["overall"]["counts"]
    assert all(counts[s] > 100 for s in counts)  # varied: every status, blanks included, many times


def test_report_json_status_equals_tracker_status(collected: dict[str, Any]) -> None:
    assert json.loads(collected["dashboard"].status.model_dump_json()) == collected["status"]
    assert [str(p.collected) for p in collected["dashboard"].trend] == ["2025-03-31", "2025-06-30"]


def test_every_figure_in_the_html_equals_the_json(trust: dict[str, Any], collected: dict[str, Any]) -> None:
    html = figures_in_html((trust["root"] / "report.html").read_text(encoding="utf-8"))
    expected = expected_figures(collected["dashboard"])
    assert len(expected) > SERVICES * 8
    assert {k: html.get(k) for k in expected} == expected


def test_every_summary_sheet_agrees_with_status(trust: dict[str, Any], collected: dict[str, Any]) -> None:
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed (.ci/run installs it)")
    out = trust["root"] / "summary-csv"
    command = [
        "soffice", f"-env:UserInstallation=file://{trust['root']}/lo-profile", "--headless", "--convert-to",
        "csv:Text - txt - csv (StarCalc):44,34,UTF8,1,,0,false,true,false,false,false,2",  # sheet 2: Summary
        "--outdir", str(out), *map(str, trust["workbooks"]),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    status = collected["status"]
    by_service = {s["group"]: s for s in status["services"]}
    matrix = {
        row["service"]: dict(zip(status["matrix_domains"], row["cells"], strict=True))
        for row in status["matrix"]
    }
    totals = dict.fromkeys(("rows", "Met", "Partially met", "Not applicable", "Blank"), 0)
    services = load_services(Path(trust["services"]))
    for name in services.names():
        rows = list(csv.reader((out / f"{slug(name)}-Summary.csv").read_text(encoding="utf-8").splitlines()))
        service_row = next(r for r in rows if r and r[0] == name)
        expected = by_service[name]
        assert int(service_row[2]) == expected["rows"], name
        assert float(service_row[10].rstrip("%")) == pytest.approx(100 * expected["compliance"], abs=0.01)
        assert float(service_row[11].rstrip("%")) == pytest.approx(100 * expected["weighted"], abs=0.01)
        for domain, value in matrix[name].items():
            cell = next(r for r in rows if r and r[0] == domain)[10]
            if value is None:
                assert cell == "", (name, domain)
            else:
                assert float(cell.rstrip("%")) == pytest.approx(100 * value, abs=0.01), (name, domain)
        totals["rows"] += int(service_row[2])
        for column, key in ((6, "Met"), (5, "Partially met"), (8, "Not applicable"), (9, "Blank")):
            totals[key] += int(service_row[column])
    overall = status["overall"]
    assert totals == {"rows": overall["rows"], **{k: overall["counts"][k] for k in totals if k != "rows"}}


def test_the_67_service_report_in_headless_chromium(trust: dict[str, Any], collected: dict[str, Any]) -> None:
    check_in_browser(
        trust["root"] / "report.html", collected["dashboard"], ARTEFACTS / "report-67-services.png"
    )
