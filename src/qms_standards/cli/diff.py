"""`qms diff`: compare two framework versions; exit 1 when a change matches --fail-on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..diff import KINDS, Change, Changes, diff_frameworks, parse_fail_on
from ..diff_render import (
    format_value,
    heading,
    next_steps,
    render_changes_json,
    render_changes_markdown,
    word_diff,
    wording,
)
from ..files import write_atomic
from ..gitrev import is_revision, load_framework_at
from ..load import load_framework
from ._app import ExitCode, app, console, err_console

_STYLES = {
    "source-lost": "bold red",
    "removed": "red",
    "source-excluded": "yellow",
    "risk-up": "yellow",
    "related-removed": "yellow",
}


@app.command()
def diff(
    old: Annotated[
        str,
        typer.Argument(
            help="Framework YAML before the change, or a git revision and path such as "
            "HEAD:framework/framework.yaml (read with git show, byte for byte)."
        ),
    ],
    new: Annotated[Path, typer.Argument(help="Framework YAML after the change.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the changes as JSON on stdout; messages go to stderr.")
    ] = False,
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", metavar="FILE", help="Also write a Markdown report (a PR comment)."),
    ] = None,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on",
            metavar="KINDS",
            help=f"Comma list of change kinds that make the exit code 1, or 'any'. Default: never fail. "
            f"Kinds: {', '.join(KINDS)}.",
        ),
    ] = "",
) -> None:
    """Compare two framework versions: standards, risk, source requirements, domains, sets, engine.

    Exit 0 when no change matches --fail-on, 1 when one does, 2 on bad input.

    Example: qms diff HEAD:framework/framework.yaml framework/framework.yaml --fail-on source-lost,removed
    """
    kinds = parse_fail_on(fail_on)
    before = load_framework_at(old) if is_revision(old) else load_framework(Path(old))
    changes = diff_frameworks(before, load_framework(new))
    messages = err_console if as_json else console
    if as_json:
        typer.echo(render_changes_json(changes), nl=False)
    else:
        _print_table(changes, console)
    if markdown is not None:
        write_atomic(markdown, render_changes_markdown(changes, kinds))
        messages.print(f"wrote {escape(str(markdown))}", highlight=False)
    matched = changes.matching(kinds)
    if matched:
        names = ", ".join(dict.fromkeys(c.kind for c in matched))
        messages.print(
            f"[bold red]fail[/]: {len(matched)} change(s) match --fail-on: {names}", highlight=False
        )
        for line in next_steps(matched):
            messages.print(escape(line), highlight=False)
    raise typer.Exit(code=ExitCode.CHANGES if matched else ExitCode.OK)


def _print_table(changes: Changes, target: Console) -> None:
    lost = changes.of_kind("source-lost")
    if lost:
        target.print(
            f"[bold red]{len(lost)} source requirement(s) lost[/]: in the old framework, "
            "in no standard and not excluded in the new one (kind source-lost).",
            highlight=False,
        )
    if not changes.changes:
        target.print(f"No changes: {escape(heading(changes))}", highlight=False)
        return
    table = Table(title=escape(heading(changes)))
    table.add_column("change", no_wrap=True)
    table.add_column("standard", no_wrap=True)
    for column in ("ref / item", "old", "new"):
        table.add_column(column, overflow="fold")
    for change in changes.changes:
        style = _STYLES.get(change.kind, "")
        table.add_row(
            f"[{style}]{change.kind}[/]" if style else change.kind,
            escape(change.standard or ""),
            escape(change.ref or change.item or ""),
            *_old_new(change),
        )
    target.print(table)
    counts = ", ".join(f"{count} {kind}" for kind, count in changes.counts().items())
    target.print(f"{len(changes.changes)} change(s): {escape(counts)}", highlight=False)


def _old_new(change: Change) -> tuple[str, str]:
    """Old and new cells; a changed source text shows its words, removed struck red, added green."""
    if change.kind == "source-text-changed" and isinstance(change.old, dict) and isinstance(change.new, dict):
        old, new = word_diff(wording(change.old), wording(change.new))
        return (
            " ".join(f"[red strike]{escape(text)}[/]" if changed else escape(text) for changed, text in old),
            " ".join(f"[green bold]{escape(text)}[/]" if changed else escape(text) for changed, text in new),
        )
    return escape(format_value(change.old)), escape(format_value(change.new))
