"""`qms validate`, `qms list`, `qms show`: look at the loaded standard sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import QmsError
from ..load import load_standard_sets, validate_paths
from ..models import split_ref
from ._app import app, console

DEFAULT_STANDARDS = Path("standards")
DEFAULT_MAPPINGS = Path("mappings")
# The framework a team agrees: committed beside standards/ and mappings/, out of `make clean`'s reach.
DEFAULT_FRAMEWORK_DIR = Path("framework")

StandardsOption = Annotated[
    Path, typer.Option("--standards", "-s", help="Folder (or file) of standard set YAML files.")
]


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Standard set files or folders, and/or a mappings folder. Default: standards/ and mappings/."
        ),
    ] = None,
) -> None:
    """Check standard sets and mappings; report every problem with file and line. Writes nothing.

    Example: qms validate standards/ mappings/
    """
    targets = paths or [p for p in (DEFAULT_STANDARDS, DEFAULT_MAPPINGS) if p.exists()] or [DEFAULT_STANDARDS]
    catalogue = validate_paths(targets)
    requirements = sum(len(s.set.requirements) for s in catalogue.sets)
    parts = [f"{len(catalogue.sets)} standard set(s)", f"{requirements} requirements"]
    if catalogue.mappings is not None:
        m = catalogue.mappings
        parts.append(
            f"mappings: {len(m.domains)} domains, {len(m.overrides.must_link)} must-link, "
            f"{len(m.overrides.cannot_link)} cannot-link, {len(m.overrides.exclude)} excluded, "
            f"{len(m.lock.standards)} locked ids"
        )
    console.print(f"[green]ok[/]: {escape('; '.join(parts))}", highlight=False, soft_wrap=True)


WIDE_LIST = 110  # columns a terminal needs for the table form of `qms list`


@app.command("list")
def list_sets(standards: StandardsOption = DEFAULT_STANDARDS) -> None:
    """List the loaded standard sets: id, name, edition, publisher, licence, requirement count.

    Example: qms list
    """
    loaded = load_standard_sets([standards])
    if console.width < WIDE_LIST:  # seven columns fold to a few letters a line: one block per set instead
        total = sum(len(i.set.requirements) for i in loaded)
        console.print(
            f"[bold]Standard sets in {escape(str(standards))}[/]: {len(loaded)} sets, {total} requirements"
        )
        for item in loaded:
            s = item.set
            grid = Table.grid(padding=(0, 1))
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column(overflow="fold")
            for label in ("name", "version", "publisher", "licence"):
                grid.add_row(label, escape(getattr(s, label)))
            console.print(f"\n[bold]{escape(s.id)}[/]  {len(s.requirements)} requirements, text {s.text_is}")
            console.print(grid)
        return
    table = Table(title=f"Standard sets in {standards}")
    table.add_column("id", no_wrap=True)
    for column in ("name", "version", "publisher", "licence"):
        table.add_column(column, overflow="fold")
    table.add_column("text", no_wrap=True)
    table.add_column("requirements", justify="right")
    for item in loaded:
        s = item.set
        table.add_row(
            *(escape(v) for v in (s.id, s.name, s.version, s.publisher, s.licence, s.text_is)),
            str(len(s.requirements)),
        )
    table.add_section()
    table.add_row(
        "", f"{len(loaded)} sets", "", "", "", "", str(sum(len(i.set.requirements) for i in loaded))
    )
    console.print(table)


@app.command()
def show(
    ref: Annotated[
        str, typer.Argument(help="Requirement ref, <set-id>:<requirement-id>, e.g. iso-9001-2015:7.2.")
    ],
    standards: StandardsOption = DEFAULT_STANDARDS,
) -> None:
    """Show one requirement with its set's provenance.

    Example: qms show iso-9001-2015:7.2
    """
    set_id, req_id = split_ref(ref)
    for item in load_standard_sets([standards]):
        if item.set.id != set_id:
            continue
        for requirement in item.set.requirements:
            if requirement.id == req_id:
                s = item.set
                table = Table(show_header=False, title=escape(ref))
                table.add_column(style="bold")
                table.add_column(overflow="fold")
                rows = [
                    ("title", requirement.title),
                    ("text", requirement.text),
                    ("section", requirement.section or ""),
                    ("tags", ", ".join(requirement.tags)),
                    ("severity", str(requirement.severity or "")),
                    ("verified", "yes" if requirement.verified else "no (title not confirmed)"),
                    ("set", f"{s.name} ({s.id})"),
                    ("edition", s.version),
                    ("publisher", s.publisher),
                    ("licence", s.licence),
                    ("text is", s.text_is),
                    ("attribution", s.attribution or ""),
                    ("url", requirement.url or s.url or ""),
                    ("file", str(item.path)),
                ]
                for key, value in rows:
                    if value:
                        table.add_row(key, escape(value))
                console.print(table)
                return
        raise QmsError(
            f"set '{set_id}' has no requirement '{req_id}'",
            field="ref",
            hint=f"`qms list` shows the sets; requirement ids are in {item.path}.",
        )
    raise QmsError(
        f"no standard set '{set_id}' in {standards}",
        field="ref",
        hint="Write refs as <set-id>:<requirement-id>; `qms list` shows the set ids.",
    )
