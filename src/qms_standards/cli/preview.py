"""Rendering a `Preview`: what a run would change, for --dry-run, and plain warnings for a real run."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from ..preview import Preview
from ._app import console, err_console


def print_preview(preview: Preview, against: str) -> None:
    """Print what a run would change compared with `against` (a file or a description)."""
    if preview.unchanged:
        console.print(f"No standard would change compared with {escape(against)}.", highlight=False)
    elif preview.changes:
        table = Table(title=f"What would change compared with {escape(against)}")
        for column in ("change", "standard", "title", "detail", "filled rows"):
            table.add_column(column, overflow="fold", justify="right" if column == "filled rows" else "left")
        for c in preview.changes:
            table.add_row(
                c.kind,
                c.standard,
                escape(c.title),
                escape(c.detail),
                str(c.filled_rows) if c.filled_rows else "",
            )
        console.print(table)
        counts = ", ".join(f"{n} {kind}" for kind, n in preview.counts.items() if n)
        console.print(f"Standards: {counts}.", highlight=False)
    if preview.related_added or preview.related_removed:
        console.print(
            f"Related links: {preview.related_added} added, {preview.related_removed} removed"
            " (`qms diff` lists them).",
            highlight=False,
        )
    for old_id, new_id, service in preview.moved:
        where = f" ({escape(service)})" if service else ""
        console.print(f"Tracker row {old_id}{where} would move to {new_id}, which holds its requirements.")
    for sid, service, why in preview.orphaned:
        where = f" ({escape(service)})" if service else ""
        console.print(
            f"[yellow]Tracker row {sid}{where} would be orphaned[/]: {escape(why)}. "
            "It would be kept on the 'Orphaned entries' sheet, not deleted.",
            highlight=False,
        )
    if preview.still_orphaned:
        console.print(
            f"{preview.still_orphaned} row(s) already on the 'Orphaned entries' sheet would stay there.",
            highlight=False,
        )


def warn_filled(preview: Preview) -> None:
    """Say plainly when a run retired or merged a standard that people had filled tracker rows for."""
    for c in preview.touching_filled_rows():
        verb = "was retired" if c.kind == "retired" else "was merged"
        err_console.print(
            f"[bold yellow]warning[/]: {c.standard} '{escape(c.title)}' {verb} ({escape(c.detail)}); "
            f"it had {c.filled_rows} filled tracker row(s). Check where they went: moved rows follow their "
            "requirements, the rest are on the 'Orphaned entries' sheet. To undo, pin the requirements "
            "with a must-link in mappings/overrides.yaml and run again.",
            highlight=False,
        )
