"""`qms content export` and `qms content apply`: a framework's words to a workbook and agreed words back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..files import write_atomic
from ._app import app, err_console
from .sets import DEFAULT_MAPPINGS

content_app = typer.Typer(
    help="Edit and agree standards' words in Excel; kept in mappings/content.yaml.", no_args_is_help=True
)
app.add_typer(content_app, name="content")


@content_app.command("export")
def export_content(
    framework: Annotated[Path, typer.Argument(help="The framework.yaml to take the words from.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The workbook to write.")] = Path("content.xlsx"),
) -> None:
    """Write one row per standard: members, title, statement, what good looks like, evidence.

    Example: qms content export framework/framework.yaml -o content.xlsx
    """
    from ..content_workbook import render_content_workbook
    from ..load import load_framework

    write_atomic(out, render_content_workbook(load_framework(framework)))
    err_console.print(
        f"wrote {escape(str(out))}: edit the words, put a name in Agreed by on each row you agree, then "
        f"`qms content apply {escape(str(out))}`",
        highlight=False,
    )


@content_app.command("apply")
def apply_content(
    workbook: Annotated[Path, typer.Argument(help="The content workbook, edited and signed.")],
    mappings: Annotated[
        Path, typer.Option("--mappings", "-m", help="Folder whose content.yaml takes the agreed words.")
    ] = DEFAULT_MAPPINGS,
) -> None:
    """Write every row signed in Agreed by into mappings/content.yaml; other entries stay as they are.

    Example: qms content apply content.xlsx
    """
    from ..content_edits import CONTENT_FILE
    from ..content_workbook import check_merged, merge_content, read_agreed

    agreed = read_agreed(workbook)
    target = mappings / CONTENT_FILE
    existing = target.read_text(encoding="utf-8") if target.exists() else None
    if not agreed:
        err_console.print(
            f"{escape(str(workbook))}: no row has a name in Agreed by; nothing written", highlight=False
        )
        return
    text, replaced, added = merge_content(existing, agreed)
    check_merged(text)
    write_atomic(target, text)
    err_console.print(
        f"wrote {escape(str(target))}: {len(added)} standard(s) added"
        + (f" ({', '.join(added)})" if added else "")
        + f", {len(replaced)} replaced"
        + (f" ({', '.join(replaced)})" if replaced else "")
        + "; the next `qms consolidate` uses them",
        highlight=False,
    )
