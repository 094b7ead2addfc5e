"""`qms report`: one self-contained, deterministic HTML file; checked in a real headless Chromium."""

from __future__ import annotations

import base64
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import DATA, ROOT
from qms_standards.cli import app
from qms_standards.dashboard import Dashboard, build_dashboard
from qms_standards.export.per_service import service_trackers
from qms_standards.load import load_framework
from qms_standards.report import render_report
from qms_standards.report.html import pct
from qms_standards.services import load_services
from selfassess_helpers import fill_varied, services_yaml

SMALL = DATA / "framework-small.yaml"
FRAMEWORK = load_framework(SMALL)
ARTEFACTS = Path(os.environ.get("QMS_TEST_ARTEFACTS", ROOT / "tests" / "artefacts"))
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
runner = CliRunner()


@pytest.fixture(scope="module")
def returns_folder(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Eight services' trackers filled with varied statuses, collected twice (for the trend)."""
    root = tmp_path_factory.mktemp("trust")
    services = root / "services.yaml"
    services_yaml(services, 8)
    folder = root / "returned"
    folder.mkdir()
    listed = load_services(services)
    for i, workbook in enumerate(service_trackers(FRAMEWORK, listed, folder)):
        workbook.path.write_bytes(workbook.data)
        fill_varied(workbook.path, seed=i)
    out = root / "returns"
    for day in ("2025-03-31", "2025-06-30"):
        result = runner.invoke(
            app,
            ["tracker", "collect", str(folder), "--framework", str(SMALL), "--services-file", str(services)]
            + ["--out", str(out), "--date", day],
        )
        assert result.exit_code == 0, result.output
        fill_varied(next(iter(sorted(folder.glob("*.xlsx")))), seed=99)  # a service changes its answers
    return {"root": root, "returns": out, "services": services}


def report(returns_folder: dict[str, Path], name: str = "report.html", *extra: str) -> Any:
    return runner.invoke(
        app,
        [
            "report",
            str(returns_folder["returns"]),
            "--framework",
            str(SMALL),
            "-o",
            str(returns_folder["root"] / name),
        ]
        + ["--standards", str(DATA / "sets"), *extra],
        catch_exceptions=False,
    )


def dashboard_json(returns_folder: dict[str, Path]) -> Dashboard:
    result = report(returns_folder, "unused.html", "--json")
    assert result.exit_code == 0, result.output
    return Dashboard.model_validate(json.loads(result.output))


def expected_figures(d: Dashboard) -> dict[str, str]:
    """Every figure the page must show, computed from the JSON."""
    s = d.status
    figures = {
        "overall-compliance": pct(s.overall.compliance),
        "overall-weighted": pct(s.overall.weighted),
        "services-returned": f"{len(s.services)} of {len(s.services) + len(s.missing)}",
        "open-high-risks": str(len(s.at_risk)),
        "overdue-count": str(len(s.overdue)),
        "blank-rows": str(s.blank),
        "domain:all": pct(s.overall.compliance),
    }
    figures |= {f"service:{c.group}": pct(c.compliance) for c in s.services}
    figures |= {f"domain:{c.group}": pct(c.compliance) for c in s.domains}
    figures |= {f"directorate:{c.group}": pct(c.compliance) for c in (*s.directorates, s.overall)}
    for row in s.matrix:
        figures |= {
            f"matrix:{row.service}:{k}": pct(v) for k, v in zip(s.matrix_domains, row.cells, strict=True)
        }
    for one in d.readiness.sets:
        figures[f"readiness:{one.overall.key}"] = pct(one.overall.score)
        figures |= {f"readiness:{one.overall.key}:{g.key}": pct(g.score) for g in one.sections}
    for r in d.service_readiness:
        figures |= {
            f"service-readiness:{r.service}:{k}": pct(v) for k, v in zip(d.set_ids, r.scores, strict=True)
        }
    scored = [r for one in d.readiness.sets for r in one.requirements if r.score is not None]
    furthest = sorted(scored, key=lambda r: (r.score, r.ref))[:15]  # the 15 furthest from ready
    figures |= {f"requirement:{r.ref}": pct(r.score) for r in furthest}
    figures |= {f"risk:{c.severity}x{c.likelihood}": str(c.standards) for c in d.risk_matrix}
    figures |= {f"trend:{p.collected}": pct(p.compliance) for p in d.trend}
    return figures


def figures_in_html(text: str) -> dict[str, str]:
    """data-figure="name">text< pairs, read from the HTML source (risk cells: the leading count)."""
    found = {}
    for name, body in re.findall(r'data-figure="([^"]+)"[^>]*>([^<]*)<', text):
        found[name.replace("&#x27;", "'").replace("&amp;", "&")] = body.replace("&amp;", "&")
    return found


def test_the_report_is_self_contained_and_deterministic(returns_folder: dict[str, Path]) -> None:
    assert report(returns_folder, "a.html").exit_code == 0
    assert report(returns_folder, "b.html").exit_code == 0
    text = (returns_folder["root"] / "a.html").read_text(encoding="utf-8")
    assert (returns_folder["root"] / "b.html").read_bytes() == text.encode("utf-8")
    assert "<script" not in text.lower()
    assert not re.search(r'(src|href)\s*=\s*"(?!#)', text), "nothing may be fetched"
    assert "url(" not in text and "@import" not in text and "@font-face" not in text
    assert "default-src 'none'" in text  # the browser is told to fetch nothing
    for chart in (
        "headline",
        "heatmap",
        "directorates",
        "readiness",
        "risk-matrix",
        "overdue",
        "at-risk",
        "trend",
    ):
        assert f'data-chart="{chart}"' in text


def test_every_figure_in_the_html_equals_the_json(returns_folder: dict[str, Path]) -> None:
    assert report(returns_folder).exit_code == 0
    d = dashboard_json(returns_folder)
    assert [p.collected for p in d.trend] == [date(2025, 3, 31), date(2025, 6, 30)]
    assert len(d.status.services) == 8
    html = figures_in_html((returns_folder["root"] / "report.html").read_text(encoding="utf-8"))
    expected = expected_figures(d)
    assert {k: html.get(k) for k in expected} == expected


def test_the_report_json_status_equals_tracker_status(returns_folder: dict[str, Path]) -> None:
    d = dashboard_json(returns_folder)
    result = runner.invoke(
        app, ["tracker", "status", str(returns_folder["returns"]), "--json", "--today", "2025-06-30"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(d.status.model_dump_json())


def test_render_report_escapes_what_people_typed() -> None:
    html = render_report(build_dashboard(FRAMEWORK, [_set_with_markup()]))
    assert "<b>Ward</b>" not in html and "&lt;b&gt;Ward&lt;/b&gt;" in html


def _set_with_markup() -> Any:
    from test_readiness import returns_of

    return returns_of(FRAMEWORK, {"<b>Ward</b>": {"QS-001": "Not met"}})


def test_report_of_returns_from_another_framework_is_exit_2(returns_folder: dict[str, Path]) -> None:
    result = runner.invoke(
        app, ["report", str(returns_folder["returns"]), "--framework", str(DATA / "framework-v1.yaml")]
    )
    assert result.exit_code == 2
    assert (
        "--framework: the returns were collected against Small test framework version 0.1.0" in result.output
    )


# --- in a real browser ----------------------------------------------------------------------------


def _browser() -> Any:
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("chromium and chromium-driver are not installed (.ci/run installs them)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def check_in_browser(page: Path, d: Dashboard, screenshot: Path) -> None:
    """Open the page: no console message, every chart drawn, each figure on screen equal to the JSON."""
    from selenium.webdriver.common.by import By

    driver = _browser()
    try:
        driver.get(page.resolve().as_uri())
        assert driver.get_log("browser") == []  # no error, no blocked fetch, no warning
        for chart in (
            "headline",
            "heatmap",
            "directorates",
            "readiness",
            "risk-matrix",
            "overdue",
            "at-risk",
            "trend",
        ):
            element = driver.find_element(By.CSS_SELECTOR, f'[data-chart="{chart}"]')
            assert element.is_displayed() and element.size["height"] > 40, chart
        svgs = driver.find_elements(By.CSS_SELECTOR, "svg[role=img]")
        assert len(svgs) >= 3 and all(s.size["width"] > 0 for s in svgs)
        shown = {
            e.get_attribute("data-figure"): driver.execute_script(
                "return arguments[0].firstChild ? arguments[0].firstChild.textContent : ''", e
            )
            for e in driver.find_elements(By.CSS_SELECTOR, "[data-figure]")
        }
        expected = expected_figures(d)
        assert {k: shown.get(k) for k in expected} == expected
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, min(height + 40, 8000))
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(screenshot))
        assert screenshot.stat().st_size > 10_000
        # It prints: Chromium's own print to PDF, A4, with the colours kept (print-color-adjust).
        from selenium.webdriver.common.print_page_options import PrintOptions

        options = PrintOptions()
        options.page_width, options.page_height = 21.0, 29.7
        options.background = True
        pdf = base64.b64decode(driver.print_page(options))
        assert pdf.startswith(b"%PDF")
        screenshot.with_suffix(".pdf").write_bytes(pdf)
        assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 2
    finally:
        driver.quit()


def test_the_report_in_headless_chromium(returns_folder: dict[str, Path]) -> None:
    assert report(returns_folder).exit_code == 0
    check_in_browser(
        returns_folder["root"] / "report.html", dashboard_json(returns_folder), ARTEFACTS / "report-small.png"
    )
