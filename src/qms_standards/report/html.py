"""The trust's dashboard as one self-contained HTML file: `render_report(dashboard) -> str`.

No script, no font, no image or style from anywhere else (a Content-Security-Policy says so to the
browser), so it opens from a shared drive or an email attachment. Charts are inline SVG and tables.
Every coloured cell also carries its figure or word, so colour is never the only signal, and it prints.
Each figure carries a `data-figure` attribute naming it, which the browser test reads back.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from ..dashboard import Dashboard, RiskCell, TrendPoint
from ..export import layout as L
from ..readiness import LEVELS, GroupReadiness
from ..tracker import Compliance, RowRef
from .style import BAND_COLOURS, CSS, LEVEL_COLOURS, band

_ROWS_SHOWN = 50  # overdue actions and open risks listed; the counts give the rest
_FURTHEST_SHOWN = 15
SEVERITY = {5: "Catastrophic", 4: "Major", 3: "Moderate", 2: "Minor", 1: "Negligible"}
LIKELIHOOD = {1: "Rare", 2: "Unlikely", 3: "Possible", 4: "Likely", 5: "Almost certain"}


def pct(value: float | None) -> str:
    """A share as people read it: `45.3%`, or `-` when there is nothing to measure."""
    return "-" if value is None else f"{value:.1%}"


def render_report(d: Dashboard) -> str:
    """Render the dashboard; identical input gives identical text."""
    s = d.status
    title = f"{s.organisation}: quality self-assessment, {s.collected}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(s.organisation)}</h1>",
        f'<p class="sub">Quality self-assessment against {escape(s.framework)} version '
        f"{escape(s.version)}. Returns collected {s.collected}; overdue judged on {s.today}.</p>",
        "</header>",
        "<main>",
        _headline(d),
        _heat_map(d),
        _directorates(s.directorates, s.overall),
        _readiness(d),
        _risk_matrix(d.risk_matrix),
        _rows_table(
            "overdue",
            f"Overdue actions ({len(s.overdue)})",
            f"Due before {s.today} and not Met or Not applicable, oldest first.",
            s.overdue,
        ),
        _rows_table(
            "at-risk",
            f"Open high and extreme risks ({len(s.at_risk)})",
            "Not yet Met, worst first: extreme before high, Not met before In progress.",
            s.at_risk,
        ),
        _trend(d.trend),
        _notes(d),
        "</main>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _figure(name: str, text: str, tag: str = "span") -> str:
    return f'<{tag} data-figure="{escape(name)}">{escape(text)}</{tag}>'


def _headline(d: Dashboard) -> str:
    s = d.status
    cards = [
        ("overall-compliance", pct(s.overall.compliance), "compliance, all services"),
        ("overall-weighted", pct(s.overall.weighted), "weighted by risk"),
        (
            "services-returned",
            f"{len(s.services)} of {len(s.services) + len(s.missing)}",
            "services returned",
        ),
        ("open-high-risks", str(len(s.at_risk)), "open high and extreme risks"),
        ("overdue-count", str(len(s.overdue)), "overdue actions"),
        ("blank-rows", str(s.blank), "rows with no status yet"),
    ]
    body = "".join(
        f'<div class="card"><div class="big">{_figure(name, value)}</div><div>{escape(label)}</div></div>'
        for name, value, label in cards
    )
    return (
        '<section id="headline" data-chart="headline"><h2>Headline</h2>'
        f'<div class="cards">{body}</div></section>'
    )


def _cell(value: float | None, figure: str) -> str:
    colour = BAND_COLOURS[band(value)]
    return f'<td class="num" style="background:{colour}" data-figure="{escape(figure)}">{pct(value)}</td>'


def _heat_map(d: Dashboard) -> str:
    s = d.status
    head = "".join(f'<th scope="col" title="{escape(c.name)}">{escape(c.group)}</th>' for c in s.domains)
    rows = []
    by_service = {c.group: c for c in s.services}
    for row in s.matrix:
        cells = "".join(
            _cell(v, f"matrix:{row.service}:{domain}")
            for domain, v in zip(s.matrix_domains, row.cells, strict=True)
        )
        total = by_service[row.service].compliance
        rows.append(
            f'<tr><th scope="row">{escape(row.service)}</th><td>{escape(row.directorate)}</td>{cells}'
            f"{_cell(total, f'service:{row.service}')}</tr>"
        )
    domain_totals = "".join(_cell(c.compliance, f"domain:{c.group}") for c in s.domains)
    rows.append(
        f'<tr class="total"><th scope="row">All services</th><td></td>{domain_totals}'
        f"{_cell(s.overall.compliance, 'domain:all')}</tr>"
    )
    key = "".join(f"<li>{_swatch(colour)} {escape(label)}</li>" for label, colour in BAND_COLOURS.items())
    names = "; ".join(f"{c.group} {c.name}" for c in s.domains)
    return (
        '<section id="heatmap" data-chart="heatmap"><h2>Compliance by service and domain</h2>'
        f'<p class="note">Domains: {escape(names)}.</p>'
        '<table class="heat"><thead><tr><th scope="col">Service</th><th scope="col">Directorate</th>'
        f'{head}<th scope="col">All</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f'<ul class="key">{key}</ul></section>'
    )


def _swatch(colour: str) -> str:
    return (
        '<svg width="14" height="14" aria-hidden="true">'
        f'<rect width="14" height="14" fill="{colour}" stroke="#555"/></svg>'
    )


def _directorates(groups: Iterable[Compliance], overall: Compliance) -> str:
    items = [*groups, overall]
    bar_h, gap, label_w, width = 22, 8, 260, 720
    height = len(items) * (bar_h + gap)
    bars = []
    for i, c in enumerate(items):
        y = i * (bar_h + gap)
        w = round((c.compliance or 0.0) * (width - label_w - 70), 1)
        name = "All services" if c.group == "all" else c.group
        bars.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(name)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" '
            f'fill="{BAND_COLOURS[band(c.compliance)]}" stroke="#333"/>'
            f'<text x="{label_w + w + 6}" y="{y + 15}" data-figure="directorate:{escape(c.group)}">'
            f"{pct(c.compliance)}</text>"
        )
    svg = (
        f'<svg role="img" aria-label="Compliance by directorate" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">{"".join(bars)}</svg>'
    )
    table = "".join(
        f'<tr><th scope="row">{escape("All services" if c.group == "all" else c.group)}</th>'
        f'<td class="num">{c.rows}</td><td class="num">{c.counts[L.MET]}</td>'
        f'<td class="num">{c.counts[L.PARTIALLY_MET]}</td><td class="num">{c.counts[L.NOT_MET]}</td>'
        f'<td class="num">{c.counts["Blank"]}</td><td class="num">{pct(c.weighted)}</td></tr>'
        for c in items
    )
    return (
        '<section id="directorates" data-chart="directorates"><h2>Directorates</h2>'
        f"{svg}<table><thead><tr><th>Directorate</th><th>Rows</th><th>Met</th><th>Partly met</th>"
        "<th>Not met</th><th>Blank</th><th>Weighted</th></tr></thead>"
        f"<tbody>{table}</tbody></table></section>"
    )


def _stacked(group: GroupReadiness, figure: str, width: int = 360) -> str:
    """A bar split into met / partly / not met / not applicable, each part labelled with its count."""
    total = max(group.requirements, 1)
    x = 0.0
    parts = []
    for level in LEVELS:
        count = group.counts[level]
        if not count:
            continue
        w = round(count / total * width, 1)
        parts.append(
            f'<rect x="{x}" y="0" width="{w}" height="20" fill="{LEVEL_COLOURS[level]}" stroke="#333">'
            f"<title>{level}: {count}</title></rect>"
        )
        if w >= 18:
            parts.append(f'<text x="{x + w / 2}" y="14" text-anchor="middle">{count}</text>')
        x += w
    return (
        f'<svg role="img" aria-label="{escape(figure)}" viewBox="0 0 {width} 20" width="{width}" height="20">'
        f"{''.join(parts)}</svg>"
    )


def _readiness(d: Dashboard) -> str:
    rows = []
    for s in d.readiness.sets:
        g = s.overall
        rows.append(
            f'<tr class="set"><th scope="row">{escape(g.name)}</th>'
            f"<td>{_stacked(g, f'readiness bar {g.key}')}</td>"
            + "".join(f'<td class="num">{g.counts[level]}</td>' for level in LEVELS)
            + f'<td class="num"><strong>{_figure(f"readiness:{g.key}", pct(g.score))}</strong></td></tr>'
        )
        for section in s.sections:
            rows.append(
                f'<tr><th scope="row" class="indent">{escape(section.name)}</th><td>'
                f"{_stacked(section, f'readiness bar {g.key} {section.key}', 240)}</td>"
                + "".join(f'<td class="num">{section.counts[level]}</td>' for level in LEVELS)
                + f'<td class="num">{_figure(f"readiness:{g.key}:{section.key}", pct(section.score))}'
                + "</td></tr>"
            )
    key = "".join(f"<li>{_swatch(LEVEL_COLOURS[level])} {level}</li>" for level in LEVELS)
    head = "".join(f'<th scope="col">{level}</th>' for level in LEVELS)
    services = "".join(
        f'<tr><th scope="row">{escape(r.service)}</th>'
        + "".join(
            _cell(v, f"service-readiness:{r.service}:{k}") for k, v in zip(d.set_ids, r.scores, strict=True)
        )
        + "</tr>"
        for r in d.service_readiness
    )
    set_head = "".join(f'<th scope="col">{escape(k)}</th>' for k in d.set_ids)
    return (
        '<section id="readiness" data-chart="readiness"><h2>Readiness for each source standard</h2>'
        '<p class="note">What one self-assessment says about each regulator and certification, through '
        "the crosswalk: a requirement is met when every standard covering it is met.</p>"
        f'<table class="readiness"><thead><tr><th>Source set / section</th><th>Requirements</th>{head}'
        f'<th>Readiness</th></tr></thead><tbody>{"".join(rows)}</tbody></table><ul class="key">{key}</ul>'
        '<h3>By service</h3><table class="heat"><thead><tr><th scope="col">Service</th>'
        f"{set_head}</tr></thead><tbody>{services}</tbody></table>{_furthest(d)}</section>"
    )


def _furthest(d: Dashboard) -> str:
    """The source requirements furthest from ready, with the standards that cover them."""
    scored = [r for s in d.readiness.sets for r in s.requirements if r.score is not None]
    worst = sorted(scored, key=lambda r: (r.score or 0.0, r.ref))[:_FURTHEST_SHOWN]
    body = "".join(
        f"<tr><td>{escape(r.ref)}</td><td>{escape(r.title)}</td><td>{r.level}</td>"
        f'<td class="num">{_figure(f"requirement:{r.ref}", pct(r.score))}</td>'
        f"<td>{escape(', '.join([r.home or '', *r.related]))}</td>"
        f'<td class="num">{r.met} of {r.covering}</td></tr>'
        for r in worst
    )
    return (
        f"<h3>The {len(worst)} source requirements furthest from ready</h3>"
        "<table><thead><tr><th>Requirement</th><th>Title</th><th>Level</th><th>Readiness</th>"
        "<th>Covering standards (home first)</th><th>Met in every service</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _risk_matrix(cells: tuple[RiskCell, ...]) -> str:
    by = {(c.severity, c.likelihood): c for c in cells}
    head = "".join(f'<th scope="col">{n} {LIKELIHOOD[n]}</th>' for n in range(1, 6))
    body = []
    for sev in range(5, 0, -1):
        tds = []
        for lik in range(1, 6):
            c = by[(sev, lik)]
            text_colour = "#fff" if c.rating == "extreme" else "#000"
            tds.append(
                f'<td style="background:#{L.RISK_COLOURS[c.rating]};color:{text_colour}" '
                f'data-figure="risk:{sev}x{lik}">{c.standards}'
                f'<span class="small"> standards<br>{c.open_rows} open<br>{c.rating} {sev * lik}</span></td>'
            )
        body.append(f'<tr><th scope="row">{sev} {SEVERITY[sev]}</th>{"".join(tds)}</tr>')
    return (
        '<section id="risk" data-chart="risk-matrix"><h2>Risk matrix (NHS 5x5)</h2>'
        '<p class="note">Standards by severity (rows) and likelihood (columns), and their rows across '
        "services not yet Met.</p>"
        f'<table class="risk"><thead><tr><th>Severity \\ likelihood</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></section>"
    )


def _rows_table(name: str, title: str, note: str, rows: tuple[RowRef, ...]) -> str:
    shown = rows[:_ROWS_SHOWN]
    more = (
        f'<p class="note">{len(rows) - len(shown)} more: '
        "<code>qms tracker status returns/ --json</code> lists them all.</p>"
        if len(rows) > len(shown)
        else ""
    )
    body = "".join(
        f"<tr><td>{escape(r.standard_id)}</td><td>{escape(r.service)}</td><td>{escape(r.title)}</td>"
        f"<td>{escape(r.rating)}</td><td>{escape(r.status or 'blank')}</td><td>{escape(r.owner or '')}</td>"
        f"<td>{r.due or ''}</td></tr>"
        for r in shown
    )
    table = (
        "<table><thead><tr><th>Standard</th><th>Service</th><th>Title</th><th>Risk</th><th>Status</th>"
        f"<th>Owner</th><th>Due</th></tr></thead><tbody>{body}</tbody></table>"
        if shown
        else "<p>None.</p>"
    )
    return (
        f'<section id="{name}" data-chart="{name}"><h2>{escape(title)}</h2><p class="note">{escape(note)}</p>'
        f"{table}{more}</section>"
    )


def _trend(points: tuple[TrendPoint, ...]) -> str:
    width, height, left, top, bottom = 720, 220, 60, 20, 40
    plot_w, plot_h = width - left - 60, height - top - bottom  # room for a date label at each end
    step = plot_w / max(len(points) - 1, 1)
    grid = "".join(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h * (1 - v)}" y2="{top + plot_h * (1 - v)}" '
        f'stroke="#ccc"/><text x="{left - 6}" y="{top + plot_h * (1 - v) + 4}" text-anchor="end">'
        f"{v:.0%}</text>"
        for v in (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    xy = [
        (
            round(left + i * step if len(points) > 1 else left + plot_w / 2, 1),
            round(top + plot_h * (1 - (p.compliance or 0)), 1),
        )
        for i, p in enumerate(points)
    ]
    line = " ".join(f"{x},{y}" for x, y in xy)
    marks = "".join(
        f'<circle cx="{x}" cy="{y}" r="4" fill="#1f4e79"/>'
        f'<text x="{x}" y="{y - 8}" text-anchor="middle" data-figure="trend:{p.collected}">'
        f"{pct(p.compliance)}</text>"
        f'<text x="{x}" y="{top + plot_h + 18}" text-anchor="middle">{p.collected}</text>'
        for (x, y), p in zip(xy, points, strict=True)
    )
    svg = (
        f'<svg role="img" aria-label="Compliance at each collection" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">{grid}<polyline points="{line}" fill="none" stroke="#1f4e79" '
        f'stroke-width="2"/>{marks}</svg>'
    )
    table = "".join(
        f'<tr><td>{p.collected}</td><td class="num">{p.services}</td><td class="num">{p.rows}</td>'
        f'<td class="num">{pct(p.compliance)}</td><td class="num">{pct(p.weighted)}</td></tr>'
        for p in points
    )
    return (
        f'<section id="trend" data-chart="trend"><h2>Trend across collections ({len(points)})</h2>{svg}'
        "<table><thead><tr><th>Collected</th><th>Services</th><th>Rows</th><th>Compliance</th>"
        f"<th>Weighted</th></tr></thead><tbody>{table}</tbody></table></section>"
    )


def _notes(d: Dashboard) -> str:
    s = d.status
    missing = escape(", ".join(s.missing)) if s.missing else "none"
    rejected = escape(", ".join(s.rejected)) if s.rejected else "none"
    return (
        '<section id="notes"><h2>How the figures are worked out</h2>'
        f"<p>{escape(s.rule)}</p><p>{escape(d.readiness.rule)}</p>"
        f"<p>Not returned: {missing}. Rejected at collection: {rejected}.</p></section>"
    )


__all__ = ["pct", "render_report"]
