"""`qms tracker collect` and `qms tracker status` over a set of returns: the self-assessment of a trust."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import QmsError
from ..files import ensure_folder, write_atomic
from ._app import ExitCode, app, console, render_error
from .export import DEFAULT_SERVICES, _percent, _print_compliance, _print_rows, tracker_app

if TYPE_CHECKING:
    from ..rollup import ReturnsStatus

DEFAULT_RETURNS = Path("returns")
DEFAULT_FRAMEWORK = Path("framework/framework.yaml")
_ROWS_SHOWN = 20  # of the risk and overdue lists; --json has them all


@tracker_app.command("collect")
def collect(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Folder(s) of returned service trackers, or the workbooks themselves."),
    ],
    framework: Annotated[
        Path, typer.Option(help="The framework the trackers were exported from.")
    ] = DEFAULT_FRAMEWORK,
    services_file: Annotated[
        Path, typer.Option(help="Services and their directorates (YAML).")
    ] = DEFAULT_SERVICES,
    out: Annotated[
        Path, typer.Option(help="Returns folder: the set is written as OUT/YYYY-MM-DD.json.")
    ] = DEFAULT_RETURNS,
    on: Annotated[
        datetime | None,
        typer.Option("--date", formats=["%Y-%m-%d"], help="Date of this collection. Default: today."),
    ] = None,
) -> None:
    """Collect returned trackers into one dated set of returns; a bad return is rejected by name.

    Example: qms tracker collect returned/
    """
    from ..load import load_framework
    from ..returns import collect_returns, dump_returns, returns_path
    from ..services import load_services

    loaded = load_framework(framework)
    services = load_services(services_file)
    collected = on.date() if on else date.today()
    result = collect_returns(loaded, services, paths, collected)
    returns = result.returns
    if not returns.returns:
        raise QmsError(
            f"no return could be collected ({len(returns.rejected)} rejected)",
            problems=list(result.problems),
        )
    ensure_folder(out)
    target = returns_path(out, collected)
    replaced = target.exists()
    write_atomic(target, dump_returns(returns))
    for skipped in result.skipped:
        console.print(f"[dim]skipped (not a tracker .xlsx):[/] {escape(str(skipped))}", highlight=False)
    rows = sum(len(r.entries) for r in returns.returns)
    console.print(
        f"[green]{'replaced' if replaced else 'wrote'}[/] {escape(str(target))}: "
        f"{len(returns.returns)} of {len(returns.services)} services, {rows} rows"
        + (f"; earlier sets in {escape(str(out))} are kept" if not replaced else ""),
        highlight=False,
        soft_wrap=True,
    )
    missing = returns.missing()
    if missing:
        console.print(
            f"no return collected ({len(missing)}): {escape(', '.join(missing))}",
            highlight=False,
            soft_wrap=True,
        )
    if result.problems:
        console.print(
            f"[red]rejected ({len(returns.rejected)}):[/] "
            + escape(", ".join(r.file for r in returns.rejected))
            + ". Fix each and collect again; the others are in the set.",
            highlight=False,
            soft_wrap=True,
        )
        render_error(QmsError("rejected returns", problems=list(result.problems)))
        raise typer.Exit(code=ExitCode.BAD_INPUT)


def returns_status_command(
    path: Path,
    today: date,
    as_json: bool,
    services: list[str],
    directorates: list[str],
    domains: list[str],
    groups: list[str],
) -> None:
    """`qms tracker status RETURNS`: the latest set in a returns folder, or one set file."""
    from ..returns import read_returns, returns_sets
    from ..rollup import returns_status

    latest = returns_sets(path)[-1]
    result = returns_status(
        read_returns(latest),
        today,
        services=services,
        directorates=directorates,
        domains=domains,
        groups=groups,
    )
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    print_returns_status(result, latest)


def print_returns_status(result: ReturnsStatus, source: Path) -> None:
    """Render a status over returns: headline, roll-ups, the domain x service table, risks, overdue."""
    console.print(
        f"[bold]{escape(result.organisation)}[/]: {escape(result.framework)} {escape(result.version)}, "
        f"returns collected {result.collected} ({escape(source.name)}), status on {result.today}",
        highlight=False,
        soft_wrap=True,
    )
    narrowed = [
        f"{name} {', '.join(values)}"
        for name, values in (
            ("service", result.filters.services),
            ("directorate", result.filters.directorates),
            ("domain", result.filters.domains),
            ("group", result.filters.groups),
        )
        if values
    ]
    if narrowed:
        console.print(f"narrowed to {escape('; '.join(narrowed))}", highlight=False)
    _print_compliance("Compliance by directorate", [*result.directorates, result.overall])
    _print_compliance("Compliance by domain", [*result.domains, result.overall])
    table = Table(title="Compliance by service and domain")
    table.add_column("service", overflow="fold")
    table.add_column("directorate", overflow="fold")
    for domain in result.matrix_domains:
        table.add_column(domain, justify="right", no_wrap=True)
    table.add_column("all", justify="right", no_wrap=True)
    for row, service in zip(result.matrix, result.services, strict=True):
        table.add_row(
            escape(row.service),
            escape(row.directorate),
            *(_percent(c) for c in row.cells),
            _percent(service.compliance),
        )
    console.print(table)
    _print_rows(
        f"Open high and extreme risks ({len(result.at_risk)}), worst first", result.at_risk[:_ROWS_SHOWN]
    )
    _more(len(result.at_risk))
    _print_rows(
        f"Overdue ({len(result.overdue)}): due before {result.today}, "
        "not Met or Not applicable, oldest first",
        result.overdue[:_ROWS_SHOWN],
    )
    _more(len(result.overdue))
    console.print(f"Blank rows (no status yet): {result.blank}", highlight=False)
    if result.missing:
        console.print(
            f"[yellow]Not returned ({len(result.missing)}):[/] {escape(', '.join(result.missing))}",
            highlight=False,
            soft_wrap=True,
        )
    if result.rejected:
        console.print(
            f"[red]Rejected at collection ({len(result.rejected)}):[/] {escape(', '.join(result.rejected))}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"[dim]{escape(result.rule)}[/]", highlight=False)


def _more(count: int) -> None:
    if count > _ROWS_SHOWN:
        console.print(
            f"... and {count - _ROWS_SHOWN} more: narrow with --service, --directorate or --domain, "
            "or see them all with --json.",
            highlight=False,
            soft_wrap=True,
        )


@app.command("report")
def report(
    returns: Annotated[
        Path,
        typer.Argument(
            help="Returns folder from `qms tracker collect` (its latest set, with the trend), or one set."
        ),
    ] = DEFAULT_RETURNS,
    framework: Annotated[
        Path, typer.Option(help="The framework the returns were collected against.")
    ] = DEFAULT_FRAMEWORK,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path("report.html"),
    standards: Annotated[
        Path | None,
        typer.Option(
            help="Standard sets, for the sections readiness is grouped by. Default: standards/ if present."
        ),
    ] = None,
    today: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Judge due dates as of this day. Default: the collection date, so a report is reproducible.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report's figures as JSON on stdout.")
    ] = False,
) -> None:
    """One self-contained HTML dashboard: compliance, readiness for every source set, risks, trend.

    Example: qms report -o report.html
    """
    from ..dashboard import build_dashboard
    from ..load import load_framework, load_standard_sets
    from ..readiness import sections_of
    from ..report import render_report
    from ..returns import read_returns, returns_sets

    sets = [read_returns(p) for p in returns_sets(returns)]
    loaded = load_framework(framework)
    folder = standards if standards is not None else Path("standards")
    sections = None
    if standards is not None or folder.is_dir():
        sections = sections_of([s.set for s in load_standard_sets([folder])])
    dashboard = build_dashboard(loaded, sets, today.date() if today else None, sections)
    if as_json:
        typer.echo(dashboard.model_dump_json(indent=2))
        return
    write_atomic(output, render_report(dashboard))
    status = dashboard.status
    console.print(
        f"[green]wrote[/] {escape(str(output))}: {len(status.services)} services, collected "
        f"{status.collected}, compliance {_percent(status.overall.compliance)}, "
        f"{len(dashboard.trend)} collection{'s' if len(dashboard.trend) != 1 else ''} in the trend",
        highlight=False,
        soft_wrap=True,
    )
