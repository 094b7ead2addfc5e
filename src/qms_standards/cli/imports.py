"""`qms import spreadsheet|ciso-assistant|oscal`: write a standard set file from where a standard lives."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..errors import OutputError
from ..files import refuse_folder, write_atomic
from ..imports.common import PROVENANCE_OPTIONS, REQUIRED_PROVENANCE, ImportSourceError, render_set
from ..models import StandardSet
from ._app import app, console, err_console

import_app = typer.Typer(
    help="Write a standard set file (standards/<id>.yaml) from a spreadsheet, a CISO Assistant library "
    "or an OSCAL catalog.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")

SetIdOpt = Annotated[
    str | None, typer.Option("--set-id", help="Set id with its edition, e.g. nhs-psirs-2022.")
]
NameOpt = Annotated[str | None, typer.Option("--name", help="The standard's full name.")]
PublisherOpt = Annotated[str | None, typer.Option("--publisher", help="Who publishes it, e.g. NHS England.")]
EditionOpt = Annotated[
    str | None, typer.Option("--edition", "--version", help="Edition or version, e.g. 2022 or v3.2.")
]
LicenceOpt = Annotated[
    str | None, typer.Option("--licence", help='Licence of the text, e.g. "OGL v3.0" or "ISO copyright".')
]
TextIsOpt = Annotated[
    str | None,
    typer.Option("--text-is", help="verbatim (quoted from the source) or paraphrase (your own words)."),
]
AttributionOpt = Annotated[
    str | None, typer.Option("--attribution", help="Attribution the licence asks for.")
]
UrlOpt = Annotated[str | None, typer.Option("--url", help="Where the standard is published.")]
PublishedOpt = Annotated[str | None, typer.Option("--published", help="Publication date, e.g. 2022-08.")]
NotesOpt = Annotated[str | None, typer.Option("--notes", help="Anything a reader should know about the set.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="File to write. Default: standards/<set-id>.yaml.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print the set file that would be written; write nothing.")
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Replace an existing, different file at the output path.")
]


def _provenance(**given: Any) -> dict[str, Any]:
    """Provenance from options; on a terminal, ask for each required value not given."""
    values = {name: given.get(name) for name in PROVENANCE_OPTIONS}
    if sys.stdin.isatty():
        for name in REQUIRED_PROVENANCE:
            if not values[name]:
                values[name] = typer.prompt(
                    f"{name.replace('_', ' ').capitalize()} ({PROVENANCE_OPTIONS[name]})"
                )
    return values


def write_set(
    standard_set: StandardSet,
    source: Path,
    command: str,
    output: Path | None,
    *,
    dry_run: bool,
    force: bool,
    extra: str = "",
) -> None:
    """Render the imported set and write it (or print it under --dry-run), never over a different file.

    Raises:
        OutputError: a different file is already at the output path and --force was not given.
    """
    target = output or Path("standards") / f"{standard_set.id}.yaml"
    sha = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    header = [
        f"{standard_set.name}: imported by `qms import {command}` from {source.name}{extra}",
        f"(sha256 {sha}). Check it against the source, then edit freely: re-importing replaces it.",
    ]
    text = render_set(standard_set, header)
    count = len(standard_set.requirements)
    if dry_run:
        typer.echo(text, nl=False)
        err_console.print(
            f"dry run: would write {escape(str(target))} ({count} requirements); nothing written",
            highlight=False,
            soft_wrap=True,
        )
        return
    refuse_folder(target)
    if target.exists() and not force and target.read_bytes() != text.encode("utf-8"):
        raise OutputError(
            "already exists and differs from this import",
            file=target,
            hint="Give another -o, or --force to replace it (its own edits are lost).",
        )
    write_atomic(target, text)
    console.print(
        f"[green]wrote[/] {escape(str(target))}: {escape(standard_set.id)}, {count} requirements",
        highlight=False,
        soft_wrap=True,
    )


def _column(field: str) -> Any:
    return typer.Option(f"--{field}-column", help=f"Header name or column letter of the {field}.")


@import_app.command("spreadsheet")
def import_spreadsheet_cmd(
    source: Annotated[Path, typer.Argument(help="An .xlsx workbook or a .csv file, one requirement a row.")],
    id_column: Annotated[str | None, _column("id")] = None,
    title_column: Annotated[str | None, _column("title")] = None,
    text_column: Annotated[str | None, _column("text")] = None,
    section_column: Annotated[str | None, _column("section")] = None,
    tags_column: Annotated[str | None, _column("tags")] = None,
    severity_column: Annotated[str | None, _column("severity")] = None,
    url_column: Annotated[str | None, _column("url")] = None,
    sheet: Annotated[str | None, typer.Option(help="Workbook sheet to read. Default: the first.")] = None,
    header_row: Annotated[int, typer.Option(min=1, help="Row holding the column headers.")] = 1,
    set_id: SetIdOpt = None,
    name: NameOpt = None,
    publisher: PublisherOpt = None,
    edition: EditionOpt = None,
    licence: LicenceOpt = None,
    text_is: TextIsOpt = None,
    attribution: AttributionOpt = None,
    url: UrlOpt = None,
    published: PublishedOpt = None,
    notes: NotesOpt = None,
    output: OutputOpt = None,
    dry_run: DryRunOpt = False,
    force: ForceOpt = False,
) -> None:
    """Import a spreadsheet: one requirement per row; columns found by header name (Id, Title, Text ...).

    Example: qms import spreadsheet local-policies.xlsx --set-id trust-policies-2025 --dry-run
    """
    from ..imports.spreadsheet import import_spreadsheet

    if not source.is_file():  # before asking for provenance on a terminal
        raise ImportSourceError("no such file", file=source, hint="Check the path to the spreadsheet.")
    provenance = _provenance(
        id=set_id,
        name=name,
        publisher=publisher,
        version=edition,
        licence=licence,
        text_is=text_is,
        attribution=attribution,
        url=url,
        published=published,
        notes=notes,
    )
    columns = {
        "id": id_column,
        "title": title_column,
        "text": text_column,
        "section": section_column,
        "tags": tags_column,
        "severity": severity_column,
        "url": url_column,
    }
    standard_set = import_spreadsheet(source, provenance, columns, sheet=sheet, header_row=header_row)
    where = "" if source.suffix.lower() == ".csv" else f" (sheet {sheet})" if sheet else ""
    write_set(standard_set, source, "spreadsheet", output, dry_run=dry_run, force=force, extra=where)


@import_app.command("ciso-assistant")
def import_ciso_assistant_cmd(
    library: Annotated[Path, typer.Argument(help="A CISO Assistant library YAML holding a framework.")],
    set_id: SetIdOpt = None,
    name: NameOpt = None,
    publisher: PublisherOpt = None,
    edition: EditionOpt = None,
    licence: LicenceOpt = None,
    text_is: TextIsOpt = None,
    attribution: AttributionOpt = None,
    url: UrlOpt = None,
    published: PublishedOpt = None,
    notes: NotesOpt = None,
    output: OutputOpt = None,
    dry_run: DryRunOpt = False,
    force: ForceOpt = False,
) -> None:
    """Import a CISO Assistant library: each assessable requirement node becomes a requirement.

    Provenance defaults to what the library records (ref_id, name, provider, version, copyright as the
    licence, publication date); each option overrides it.

    Example: qms import ciso-assistant library.yaml --dry-run
    """
    from ..imports.ciso_assistant import import_ciso_assistant

    given = dict(
        id=set_id,
        name=name,
        publisher=publisher,
        version=edition,
        licence=licence,
        text_is=text_is,
        attribution=attribution,
        url=url,
        published=published,
        notes=notes,
    )
    standard_set = import_ciso_assistant(library, given)
    write_set(standard_set, library, "ciso-assistant", output, dry_run=dry_run, force=force)


@import_app.command("oscal")
def import_oscal_cmd(
    catalog: Annotated[Path, typer.Argument(help="An OSCAL catalog file (JSON).")],
    set_id: SetIdOpt = None,
    name: NameOpt = None,
    publisher: PublisherOpt = None,
    edition: EditionOpt = None,
    licence: LicenceOpt = None,
    text_is: TextIsOpt = None,
    attribution: AttributionOpt = None,
    url: UrlOpt = None,
    published: PublishedOpt = None,
    notes: NotesOpt = None,
    output: OutputOpt = None,
    dry_run: DryRunOpt = False,
    force: ForceOpt = False,
) -> None:
    """Import an OSCAL catalog: each control and enhancement, with its statement, becomes a requirement.

    The name, edition and date default to the catalog's metadata; withdrawn controls are left out.

    Example: qms import oscal catalog.json --set-id nist-800-53-r5 --publisher NIST --licence PD --dry-run
    """
    from ..imports.oscal import import_oscal

    given = dict(
        id=set_id,
        name=name,
        publisher=publisher,
        version=edition,
        licence=licence,
        text_is=text_is,
        attribution=attribution,
        url=url,
        published=published,
        notes=notes,
    )
    standard_set = import_oscal(catalog, given)
    write_set(standard_set, catalog, "oscal", output, dry_run=dry_run, force=force)
