"""`qms export tracker|markdown` and `qms tracker status`: write a framework out, read a tracker back."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from ..errors import QmsError
from ..export.markdown import render_markdown
from ..files import ensure_folder, write_atomic
from ..load import load_framework
from ..services import load_services, split_services
from ._app import app, console

if TYPE_CHECKING:
    from ..tracker import Carry, Compliance, RowRef


export_app = typer.Typer(
    help="Write a framework out as a tracker workbook or a Markdown document.", no_args_is_help=True
)
tracker_app = typer.Typer(help="Read a filled tracker workbook back.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(tracker_app, name="tracker")

FrameworkArg = Annotated[Path, typer.Argument(help="Framework YAML written by `qms consolidate`.")]
_LIST_LIMIT = 12
DEFAULT_SERVICES = Path("mappings/services.yaml")


@export_app.command("tracker")
def export_tracker(
    framework: FrameworkArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Tracker workbook to write (.xlsx).")
    ] = None,
    per_service: Annotated[
        Path | None,
        typer.Option(
            help="Write one workbook per service of --services-file into this folder, named after the "
            "service; a workbook already there is carried across, never overwritten blank."
        ),
    ] = None,
    services_file: Annotated[
        Path | None,
        typer.Option(
            help="Services and directorates (YAML; names may hold commas). Used by --per-service "
            "(default mappings/services.yaml), or for one workbook with a block of rows per service."
        ),
    ] = None,
    services: Annotated[
        str | None,
        typer.Option(
            help='Comma-separated services, e.g. "Ward A,Ward B": one row per standard per service. '
            "Default: the services of the --from tracker, else one row per standard."
        ),
    ] = None,
    from_given: Annotated[
        list[Path] | None,
        typer.Option(
            "--from",
            metavar="FILLED.xlsx",
            help="A filled tracker whose entries are carried across by standard id (and service).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a filled tracker at -o without carrying it.")
    ] = False,
) -> None:
    """Write the tracker workbook: a row per standard (per service) for status, owner, due date, evidence.

    Example: qms export tracker framework/framework.yaml -o tracker.xlsx --from tracker.xlsx
    """
    # openpyxl is imported here, not at start-up: every other command (diff in CI) stays light.
    from ..export.excel import render_tracker
    from ..tracker import carry_entries, check_overwrite, read_tracker, resolve_services

    if from_given and len(from_given) > 1:
        raise QmsError(
            f"--from is given {len(from_given)} times; one tracker is carried into an export",
            field="--from",
            hint="To gather many services' returned trackers, use `qms tracker collect FOLDER`.",
        )
    from_ = from_given[0] if from_given else None
    if per_service is not None:
        export_per_service(framework, per_service, services_file, output, services, from_)
        return
    if output is None:
        raise QmsError(
            "missing --output (or --per-service)",
            field="--output",
            hint="Add -o tracker.xlsx for one workbook, or --per-service DIR for one per service.",
        )
    if services_file is not None and services is not None:
        raise QmsError(
            "--services and --services-file both name the services",
            field="--services",
            hint="Keep one: --services-file reads names with commas safely.",
        )
    loaded = load_framework(framework)
    if services_file is not None:
        services = None
        wanted_names: list[str] | None = list(load_services(services_file).names())
    else:
        wanted_names = split_services(services, _known_services()) if services is not None else None
    previous = read_tracker(from_) if from_ is not None else None
    same_file = from_ is not None and output.exists() and output.resolve() == from_.resolve()
    if not force and not same_file:
        check_overwrite(output)
    wanted = resolve_services(wanted_names, previous)
    write_atomic(output, render_tracker(loaded, services=wanted, carried=previous))
    rows = len(loaded.standards) * max(len(wanted), 1)
    per = f" x {len(wanted)} service{'s' if len(wanted) != 1 else ''}" if wanted else ""
    console.print(
        f"[green]wrote[/] {escape(str(output))}: {rows} rows ({len(loaded.standards)} standards{per})",
        highlight=False,
        soft_wrap=True,
    )
    if previous is not None:
        print_carry(carry_entries(loaded, previous, wanted), from_)


def _known_services() -> tuple[str, ...]:
    """Names in mappings/services.yaml, to catch one with a comma typed into --services; () if unreadable."""
    from ..errors import MappingError

    try:
        return load_services(DEFAULT_SERVICES).names() if DEFAULT_SERVICES.is_file() else ()
    except MappingError:
        return ()  # a broken services file is reported by the commands that read it


def export_per_service(
    framework: Path,
    folder: Path,
    services_file: Path | None,
    output: Path | None,
    services: str | None,
    from_: Path | None,
) -> None:
    """`export tracker --per-service DIR`: one workbook per service, each carried from its earlier file."""
    from ..export.per_service import service_trackers

    if output is not None or services is not None or from_ is not None:
        given = "-o" if output is not None else "--services" if services is not None else "--from"
        raise QmsError(
            f"{given} cannot be combined with --per-service",
            field=given,
            hint="--per-service takes the services from --services-file and carries each service's "
            "earlier workbook from the folder itself.",
        )
    loaded = load_framework(framework)
    listed = load_services(services_file or DEFAULT_SERVICES)
    ensure_folder(folder)
    workbooks = service_trackers(loaded, listed, folder)
    for workbook in workbooks:  # all rendered and checked first: a bad earlier file stops before any write
        write_atomic(workbook.path, workbook.data)
    table = Table(title=f"{len(workbooks)} service trackers in {escape(str(folder))}")
    for column in ("service", "directorate", "file", "carried"):
        table.add_column(column, overflow="fold", no_wrap=column == "file")
    for w in workbooks:
        filled = len(w.carried.filled_entries()) if w.carried is not None else 0
        carried = f"{filled} filled entries" if w.carried is not None else "new"
        table.add_row(escape(w.service), escape(w.directorate), escape(w.path.name), carried)
    console.print(table)
    console.print(
        f"{len(loaded.standards)} standards each; send each team its file, then collect the returns "
        f"with `qms tracker collect {escape(str(folder))}`.",
        highlight=False,
        soft_wrap=True,
    )


def _ids(keys: list[tuple[str, str]]) -> str:
    shown = [k[0] + (f" / {k[1]}" if k[1] else "") for k in keys[:_LIST_LIMIT]]
    more = f", ... (+{len(keys) - _LIST_LIMIT})" if len(keys) > _LIST_LIMIT else ""
    return escape(", ".join(shown) + more)


def print_carry(carry: Carry, source: Path | None) -> None:
    """Show what a re-export carried across, what is new and what was orphaned."""
    table = Table(title=f"Entries from {escape(str(source))}")
    table.add_column("", style="bold")
    table.add_column("rows", justify="right")
    table.add_column("standard (/ service)", overflow="fold")
    table.add_row("carried", str(len(carry.carried)), _ids([e.key for e in carry.carried]))
    table.add_row("not filled in yet", str(len(carry.new)), _ids(list(carry.new)))
    table.add_row(
        "[red]orphaned[/]" if carry.orphaned else "orphaned",
        str(len(carry.orphaned)),
        _ids([e.key for e, _ in carry.orphaned]),
    )
    if carry.moved:
        table.add_row(
            "[yellow]moved[/]",
            str(len(carry.moved)),
            ", ".join(f"{old} -> {e.label}" for old, e in carry.moved),
        )
    console.print(table)
    if carry.moved:
        console.print(
            f"{len(carry.moved)} entr{'y' if len(carry.moved) == 1 else 'ies'} moved to the standard that "
            "now holds the requirements its row listed: the old id names another standard now.",
            highlight=False,
            soft_wrap=True,
        )
    if carry.orphaned:
        console.print(
            f"{len(carry.orphaned)} entr{'y' if len(carry.orphaned) == 1 else 'ies'} kept on the "
            "'Orphaned entries' sheet, each with the reason.",
            highlight=False,
            soft_wrap=True,
        )


@export_app.command("markdown")
def export_markdown(
    framework: FrameworkArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Markdown file to write; default stdout.")
    ] = None,
) -> None:
    """Write the framework as Markdown: contents, domains and standards, an appendix per source set.

    Example: qms export markdown framework/framework.yaml -o framework.md
    """
    text = render_markdown(load_framework(framework))
    if output is None:
        typer.echo(text, nl=False)
        return
    write_atomic(output, text)
    console.print(f"[green]wrote[/] {escape(str(output))}", highlight=False, soft_wrap=True)


@tracker_app.command("status")
def status(
    workbook: Annotated[
        Path,
        typer.Argument(
            help="A tracker workbook filled in by people (.xlsx), or a returns folder (its latest set) "
            "or set (.json) written by `qms tracker collect`."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON on stdout.")] = False,
    service: Annotated[
        list[str] | None, typer.Option(help="Only this service (repeat for more); returns only.")
    ] = None,
    directorate: Annotated[
        list[str] | None, typer.Option(help="Only services of this directorate (repeatable); returns only.")
    ] = None,
    domain: Annotated[
        list[str] | None,
        typer.Option(help="Only this domain, by id (D3) or name (repeatable); returns only."),
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            help="Only services with this grouping, e.g. site=Community (repeatable); returns only."
        ),
    ] = None,
    today: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="Judge due dates as of this day (YYYY-MM-DD). Default: today."
        ),
    ] = None,
) -> None:
    """Compliance by domain and service, overdue actions, open high risks and blank rows.

    Example: qms tracker status framework/tracker.xlsx
    """
    from ..tracker import read_tracker, tracker_status

    day = today.date() if today else date.today()
    suffix = workbook.suffix.lower()
    if workbook.is_dir() or suffix == ".json" or (suffix == "" and not workbook.exists()):
        from .returns import returns_status_command

        returns_status_command(
            workbook, day, as_json, service or [], directorate or [], domain or [], group or []
        )
        return
    if service or directorate or domain or group:
        given = [
            n
            for n, v in (
                ("service", service),
                ("directorate", directorate),
                ("domain", domain),
                ("group", group),
            )
            if v
        ]
        raise QmsError(
            "--service, --directorate, --domain and --group narrow a set of returns, not one workbook",
            field=f"--{given[0]}",
            hint="Collect the returned trackers with `qms tracker collect DIR`, then run "
            "`qms tracker status returns/` with the filter.",
        )
    result = tracker_status(read_tracker(workbook), day)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    console.print(
        f"[bold]{escape(result.framework)}[/] {escape(result.version)}: status on {result.today}",
        highlight=False,
    )
    _print_compliance("Compliance by domain", [*result.domains, result.overall])
    if result.services:
        _print_compliance("Compliance by service", [*result.services, result.overall])
    _print_rows(
        f"Overdue ({len(result.overdue)}): due before {result.today}, not Met or Not applicable",
        result.overdue,
    )
    _print_rows(f"High and extreme risk not yet Met ({len(result.at_risk)})", result.at_risk)
    blank = [(r.standard_id, r.service) for r in result.blank]
    console.print(
        f"Blank rows (no status yet): {len(blank)}" + (f": {_ids(blank)}" if blank else ""), highlight=False
    )
    console.print(f"[dim]{escape(result.rule)}[/]", highlight=False)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _print_compliance(title: str, groups: list[Compliance]) -> None:
    """One row per group; where that is wider than the terminal, a compact form that fits it."""
    rows = []
    for group in groups:
        c = group.counts
        name = group.name if group.name.startswith(group.group) else f"{group.group} {group.name}"
        counts = (c["Met"], c["Partially met"], c["Not met"], c["Not applicable"], c["Blank"])
        rows.append(
            (
                escape(name),
                str(group.rows),
                *map(str, counts),
                _percent(group.compliance),
                _percent(group.weighted),
            )
        )
    bold = [group.group == "all" for group in groups]
    table = _compliance_table(title, rows, bold, compact=False)
    if _wider_than_terminal(table):  # the group column would fold to a few letters a line
        table = _compliance_table(title, rows, bold, compact=True)
    console.print(table)


def _compliance_table(title: str, rows: list[tuple[str, ...]], bold: list[bool], *, compact: bool) -> Table:
    """The compact form has no side borders and two-line headers; group names wrap by words."""
    table = _table(title, compact=compact)
    table.add_column("group", overflow="fold")
    for column in _NARROW_HEADERS if compact else _HEADERS:
        table.add_column(column, justify="right", no_wrap=True)
    for row, strong in zip(rows, bold, strict=True):
        table.add_row(*row, style="bold" if strong else None)
    if compact:
        _fit_columns(table, ["group", *_NARROW_HEADERS], rows)
    return table


_HEADERS = ("rows", "met", "partly met", "not met", "n/a", "blank", "compliance", "weighted")
_NARROW_HEADERS = ("rows", "met", "partly\nmet", "not\nmet", "n/a", "blank", "compli-\nance", "weigh-\nted")


def _table(title: str, *, compact: bool) -> Table:
    if not compact:
        return Table(title=title)
    return Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))


def _wider_than_terminal(table: Table) -> bool:
    unbounded = console.options.update_width(10_000)  # console.measure caps at the terminal's width
    return Measurement.get(console, unbounded, table).maximum > console.width


def _fit_columns(table: Table, headers: list[str], values: list[tuple[str, ...]]) -> None:
    """Fix each column's width so the table fits the terminal with no word, id or date cut.

    Rich's own squeeze narrows every column alike once wrapping is not enough, which cuts dates; here
    only wrapping columns give up width, the widest first, never below their longest word. Where even
    that cannot fit, rich's squeeze is left to do what it can.
    """
    whole = [column.no_wrap for column in table.columns]
    cells = [[*headers[i].split("\n"), *(row[i] for row in values)] for i in range(len(headers))]
    widest = [max(len(cell) for cell in column) for column in cells]
    narrowest = [
        widest[i] if whole[i] else max(len(word) for cell in cells[i] for word in cell.split() or [""])
        for i in range(len(headers))
    ]
    room = console.width - 2 * (len(headers) - 1)  # a padding space and a separator between columns
    if sum(narrowest) > room:
        return
    widths = list(widest)
    while sum(widths) > room:
        i = max((i for i in range(len(widths)) if widths[i] > narrowest[i]), key=lambda i: widths[i])
        widths[i] -= 1
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width


def _print_rows(title: str, rows: tuple[RowRef, ...]) -> None:
    if not rows:
        console.print(f"{escape(title)}: none", highlight=False)
        return
    with_service = any(r.service for r in rows)  # one workbook without services: no empty column
    values = [
        (
            escape(r.standard_id),
            *((escape(r.service),) if with_service else ()),
            escape(r.title),
            r.rating,
            escape(r.status or ""),
            escape(r.owner or ""),
            str(r.due or ""),
        )
        for r in rows
    ]
    columns = ["standard", *(["service"] if with_service else []), "title", "risk", "status", "owner", "due"]
    table = _rows_table(title, columns, values, compact=False)
    if _wider_than_terminal(table):
        table = _rows_table(title, columns, values, compact=True)
    console.print(table)


def _rows_table(title: str, columns: list[str], values: list[tuple[str, ...]], *, compact: bool) -> Table:
    """Ids, risk and dates never wrap (a date broken over two lines misreads); titles wrap by words."""
    table = _table(escape(title), compact=compact)
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in ("standard", "risk", "due"))
    for row in values:
        table.add_row(*row)
    if compact:
        _fit_columns(table, columns, values)
    return table
