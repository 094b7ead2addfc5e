"""`qms review` (list the decisions worth a person's time; apply them) and `qms explain REF`."""

from __future__ import annotations

from datetime import date as Date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import QmsError
from ..files import run_lock, write_atomic
from ..load import OVERRIDES_FILE, load_catalogue
from ._app import app, console, engine_settings
from .progress import progress_bars
from .sets import DEFAULT_FRAMEWORK_DIR, DEFAULT_MAPPINGS, DEFAULT_STANDARDS

if TYPE_CHECKING:
    from ..explain import Explanation, Neighbour
    from ..framework import Consolidation
    from ..load import Catalogue
    from ..overrides_edit import AppliedReview
    from ..review import ReviewRow

StandardsOption = Annotated[
    Path, typer.Option("--standards", "-s", help="Folder of standard set YAML files.")
]
MappingsOption = Annotated[
    Path, typer.Option("--mappings", "-m", help="Folder with domains.yaml, overrides.yaml and ids.lock.yaml.")
]
ThresholdOption = Annotated[
    float | None,
    typer.Option(
        help="The consolidation threshold to review against (as given to `qms consolidate`).",
        min=0.0,
        max=1.0,
    ),
]
FrameworkOption = Annotated[
    Path,
    typer.Option(
        "--framework",
        help="Use the engine settings this framework was built with (its engine: block: threshold or"
        " target, related threshold, weights); the defaults when the file does not exist.",
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Hide the progress bars only; the summary and notes still print."),
]
DEFAULT_LIMIT = 50
DEFAULT_FRAMEWORK_FILE = DEFAULT_FRAMEWORK_DIR / "framework.yaml"


def _consolidate(
    standards: Path, mappings: Path, threshold: float | None, quiet: bool, framework: Path
) -> tuple[Catalogue, Consolidation]:
    """Run the engine as `qms consolidate` built `framework` (its recorded settings), writing nothing.

    `threshold`, when given, replaces the recorded cut.
    """
    from ..embedding import EmbeddingCache, SentenceTransformerEmbedder, default_cache_dir
    from ..framework import consolidate, recorded_settings

    settings = recorded_settings(framework)
    if threshold is not None:
        given = engine_settings({"threshold": ("--threshold", threshold)})
        settings = settings.model_copy(update={"threshold": given.threshold, "target": None})
    catalogue = load_catalogue([standards], mappings)
    assert catalogue.mappings is not None
    with progress_bars(quiet=quiet) as progress:
        result = consolidate(
            catalogue.sets,
            catalogue.mappings,
            settings,
            SentenceTransformerEmbedder(settings.model),
            EmbeddingCache(default_cache_dir(), settings.model),
            progress=progress,
        )
    return catalogue, result


@app.command()
def review(
    standards: StandardsOption = DEFAULT_STANDARDS,
    mappings: MappingsOption = DEFAULT_MAPPINGS,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the review workbook (.xlsx).")
    ] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write the rows as Markdown instead.")] = None,
    limit: Annotated[
        int | None, typer.Option(help=f"At most this many rows (default {DEFAULT_LIMIT}).", min=1)
    ] = None,
    threshold: ThresholdOption = None,
    framework: FrameworkOption = DEFAULT_FRAMEWORK_FILE,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a workbook at --out holding unapplied decisions.")
    ] = False,
    apply: Annotated[
        Path | None,
        typer.Option(help="Read a filled review workbook and write its decisions to overrides.yaml."),
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who decided, for rows whose By cell is empty.")] = None,
    date: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help="Date recorded with applied decisions (default: today)."),
    ] = None,
    quiet: QuietOption = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="With --apply: show what the decisions would change in the framework (standards merged, "
            "split, retired, renamed; tracker rows orphaned) and write nothing.",
        ),
    ] = False,
) -> None:
    """List the pairs worth a person's decision, most uncertain first; or --apply a filled workbook.

    Example: qms review -o review.xlsx, then: qms review --apply review.xlsx --dry-run
    """
    if apply is not None:
        given = [
            name
            for name, value in (
                ("--out", out),
                ("--markdown", markdown),
                ("--limit", limit),
                ("--threshold", threshold),
            )
            if value is not None
        ]
        if given or force:
            raise QmsError(
                f"--apply cannot be combined with {(given or ['--force'])[0]}",
                field="--apply",
                hint="Apply a workbook in one run; list new rows in another.",
            )
        _apply(apply, standards, mappings, by, date or Date.today().isoformat(), dry_run, quiet, framework)
        return
    if dry_run:
        raise QmsError(
            "--dry-run goes with --apply",
            field="--dry-run",
            hint="Preview a filled workbook's effect: qms review --apply review.xlsx --dry-run",
        )
    if by is not None or date is not None:
        raise QmsError(
            "--by and --date go with --apply",
            field="--by" if by is not None else "--date",
            hint="Record who decided in the workbook's By column, or pass --by with --apply.",
        )
    if out is not None and markdown is not None:
        raise QmsError(
            "--out and --markdown cannot be used together",
            field="--markdown",
            hint="Write the workbook (to decide in) or the Markdown (to read), one per run.",
        )
    from ..review import render_review_markdown, render_review_xlsx, review_candidates

    catalogue, result = _consolidate(standards, mappings, threshold, quiet, framework)
    assert catalogue.mappings is not None
    if out is not None and not force:
        from ..overrides_edit import check_review_overwrite

        check_review_overwrite(out, catalogue.mappings.overrides, catalogue.refs())
    rows = review_candidates(result, catalogue.mappings.overrides, limit or DEFAULT_LIMIT)
    if out is not None:
        write_atomic(out, render_review_xlsx(rows))
    elif markdown is not None:
        write_atomic(markdown, render_review_markdown(rows))
    _render_rows(rows, _titles(catalogue))
    for path in (p for p in (out, markdown) if p is not None):
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)


def _titles(catalogue: Catalogue) -> dict[str, str]:
    """Each requirement's title by ref, to print next to the ref."""
    return {s.set.ref(r): r.title for s in catalogue.sets for r in s.set.requirements}


def _labelled(ref: str, titles: dict[str, str]) -> str:
    title = titles.get(ref)
    return f"{escape(ref)}\n[dim]{escape(title)}[/]" if title else escape(ref)


def _render_rows(rows: list[ReviewRow], titles: dict[str, str]) -> None:
    table = Table(title=f"{len(rows)} pair(s) to review, most uncertain first")
    for column in ("#", "kind", "requirement A", "requirement B", "score", "same standard now", "why listed"):
        table.add_column(column, justify="right" if column in ("#", "score") else "left", overflow="fold")
    for r in rows:
        now = f"yes {r.standard_a}" if r.together else f"no {r.standard_a} / {r.standard_b}"
        table.add_row(
            str(r.rank),
            r.kind,
            _labelled(r.ref_a, titles),
            _labelled(r.ref_b, titles),
            f"{r.score:.3f}",
            now,
            escape(r.why),
        )
    console.print(table)


def _apply(
    workbook: Path,
    standards: Path,
    mappings: Path,
    by: str | None,
    today: str,
    dry_run: bool,
    quiet: bool,
    framework: Path,
) -> None:
    from ..overrides_edit import apply_review

    refs = load_catalogue([standards], None).refs()
    path = mappings / OVERRIDES_FILE
    if dry_run:
        result = apply_review(workbook, mappings, refs, by=by, date=today)
        _render_applied(result)
        _preview_decisions(result.text, standards, mappings, quiet, framework)
        console.print(f"Nothing written (--dry-run): {path} unchanged.", highlight=False, soft_wrap=True)
        return
    # Read, edit and write overrides.yaml as one step: two applies at once would each drop the other's.
    with run_lock([mappings], "qms review --apply"):
        result = apply_review(workbook, mappings, refs, by=by, date=today)
        if result.text is not None:
            write_atomic(path, result.text)
    _render_applied(result)
    console.print(
        f"wrote {path}" if result.text is not None else f"{path} unchanged", highlight=False, soft_wrap=True
    )


def _render_applied(result: AppliedReview) -> None:
    summary = Table(title="Review applied")
    summary.add_column("result")
    summary.add_column("decisions", justify="right")
    for outcome in ("added must-link", "added cannot-link", "skipped", "already present"):
        summary.add_row(outcome, str(result.count(outcome)))
    console.print(summary)
    added = [o for o in result.outcomes if o.result.startswith("added")]
    if added:
        table = Table(title="Added to overrides.yaml")
        for column in ("cell", "entry", "refs"):
            table.add_column(column, overflow="fold")
        for o in added:
            table.add_row(o.cell, o.result.removeprefix("added "), escape(f"{o.ref_a}, {o.ref_b}"))
        console.print(table)


@app.command()
def explain(
    ref: Annotated[str, typer.Argument(help="Requirement ref, <set-id>:<requirement-id>.")],
    standards: StandardsOption = DEFAULT_STANDARDS,
    mappings: MappingsOption = DEFAULT_MAPPINGS,
    neighbours: Annotated[int, typer.Option(help="How many nearest neighbours to show.", min=1)] = 5,
    threshold: ThresholdOption = None,
    framework: FrameworkOption = DEFAULT_FRAMEWORK_FILE,
    quiet: QuietOption = False,
) -> None:
    """Explain why a requirement sits where it is: its standard, neighbours, overrides and fellow members.

    Example: qms explain iso-9001-2015:7.2
    """
    from ..explain import explain as explain_ref

    catalogue, result = _consolidate(standards, mappings, threshold, quiet, framework)
    assert catalogue.mappings is not None
    _render_explanation(explain_ref(result, catalogue.mappings.overrides, ref, neighbours))


def _render_explanation(e: Explanation) -> None:
    head = Table(show_header=False, title=escape(e.ref))
    head.add_column(style="bold")
    head.add_column(overflow="fold")
    if e.standard is None:
        head.add_row("standard", "none: excluded by overrides.yaml")
    else:
        head.add_row("text", escape(e.text))
        head.add_row("standard", escape(f"{e.standard} {e.standard_title} (domain {e.domain})"))
        cohesion = (
            "alone in its standard" if e.cohesion is None else f"{e.cohesion:.3f} mean score to the members"
        )
        head.add_row("cohesion", f"{cohesion}; threshold {e.threshold:g}")
    console.print(head)
    if e.standard is not None:
        console.print(
            _score_table(f"Nearest {len(e.neighbours)} requirement(s)", e.neighbours, True, e.formula)
        )
        console.print(
            _score_table(f"Other members of {e.standard}", e.members, False, e.formula)
            if e.members
            else f"No other members in {e.standard}."
        )
        _print_related(e)
        _print_closest(e)
    if e.constraints:
        table = Table(title="Overrides naming it")
        for column in ("kind", "refs", "reason", "by", "date"):
            table.add_column(column, overflow="fold")
        for c in e.constraints:
            table.add_row(
                c.kind, escape(", ".join(c.refs)), escape(c.reason or ""), escape(c.by or ""), c.date or ""
            )
        console.print(table)
    else:
        console.print(f"No overrides name {escape(e.ref)}.", highlight=False)


def _print_closest(e: Explanation) -> None:
    """The other standards the requirement fits best: why it did not join one."""
    if not e.closest:
        return
    table = Table(
        title=f"Closest other standards (besides {e.standard})",
        caption="fit: mean score to that standard's members. Two standards merge when the mean score over"
        f" all their pairs reaches the threshold ({e.threshold:g}); for a requirement alone, this fit.",
    )
    for column in ("standard", "members", "fit"):
        table.add_column(column, justify="left" if column == "standard" else "right", overflow="fold")
    for c in e.closest:
        table.add_row(f"{escape(c.standard)}\n[dim]{escape(c.title)}[/]", str(c.members), f"{c.fit:.3f}")
    console.print(table)


def _print_related(e: Explanation) -> None:
    """The standards besides its home that also partly cover the requirement (its related links)."""
    if not e.related:
        console.print(
            f"No other standard partly covers {escape(e.ref)} (a related link needs a fit of at least "
            f"{e.related_threshold:g}).",
            highlight=False,
        )
        return
    table = Table(
        title=f"Also partly covered by (besides {e.standard})",
        caption="related links; fit: mean score to that standard's members; strength 0-10",
    )
    for column in ("standard", "domain", "relationship", "strength", "fit"):
        table.add_column(
            column, justify="right" if column in ("strength", "fit") else "left", overflow="fold"
        )
    for r in e.related:
        table.add_row(
            f"{escape(r.standard)}\n[dim]{escape(r.title)}[/]",
            r.domain,
            r.relationship,
            str(r.strength),
            f"{r.fit:.3f}",
        )
    console.print(table)


# Plain names for a score's parts: "meaning" is the embedding cosine (how close two texts are in
# meaning), "words" the fuzzy ratio (how many words they share).
SCORE_COLUMNS = ("score", "meaning", "title\nmeaning", "subject\nwords", "title\nwords", "local")
SCORE_LEGEND = (
    "meaning: closeness in meaning (embedding cosine, each set's house style removed); subject words:"
    " rare words in common (TF-IDF); title words: words in common (fuzzy ratio); local: how close each"
    " one usually is to its best matches; * same set; ** same set, under another heading (penalised);"
    " § the same clause number in two sets numbered alike"
)


def _same_set_mark(n: Neighbour) -> str:
    return (" **" if n.other_heading else " *" if n.same_set else "") + (" §" if n.same_clause else "")


def _score_table(title: str, rows: tuple[Neighbour, ...], with_standard: bool, formula: str) -> Table:
    table = Table(title=title, caption=f"{formula}\n{SCORE_LEGEND}")
    columns = ["requirement", *(["standard"] if with_standard else []), *SCORE_COLUMNS]
    for column in columns:
        table.add_column(
            column, justify="left" if column in ("requirement", "standard") else "right", overflow="fold"
        )
    for n in rows:
        standard = [n.standard + (" (same)" if n.same_standard else "")] if with_standard else []
        table.add_row(
            f"{escape(n.ref)}{_same_set_mark(n)}\n[dim]{escape(n.title)}[/]",
            *standard,
            *(f"{x:.3f}" for x in (n.score, n.meaning, n.title_meaning, n.subject, n.title_ratio, n.local)),
        )
    return table


def _preview_decisions(
    text: str | None, standards: Path, mappings: Path, quiet: bool, framework: Path
) -> None:
    """Consolidate with and without the decisions' overrides.yaml, and print what would change."""
    import shutil
    import tempfile

    from ..preview import preview_run
    from ..tracker import read_tracker
    from .preview import print_preview
    from .sets import DEFAULT_FRAMEWORK_DIR

    if text is None:
        console.print("No decision would change overrides.yaml, so the framework would not change.")
        return
    _, before = _consolidate(standards, mappings, None, quiet, framework)
    with tempfile.TemporaryDirectory(prefix="qms-review-") as folder:
        trial = Path(folder) / "mappings"
        shutil.copytree(mappings, trial)
        (trial / OVERRIDES_FILE).write_text(text, encoding="utf-8")  # a scratch copy, never the user's
        _, after = _consolidate(standards, trial, None, quiet, framework)
    tracker_path = DEFAULT_FRAMEWORK_DIR / "tracker.xlsx"
    tracker = read_tracker(tracker_path) if tracker_path.exists() else None
    print_preview(preview_run(before.framework, after.framework, tracker), "the framework without them")
