"""`qms consolidate`: standard sets -> framework.yaml (+ tracker and Markdown), and the id lock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import QmsError
from ..files import clean_temp_files, dump_model, file_stamp, run_lock, write_set
from ..load import LOCK_FILE, load_catalogue
from ..progress import Report, step, tick
from ..summary import summarise
from ._app import app, console, engine_settings, err_console
from .progress import progress_bars
from .sets import DEFAULT_FRAMEWORK_DIR, DEFAULT_MAPPINGS, DEFAULT_STANDARDS

if TYPE_CHECKING:
    from ..framework import Consolidation
    from ..models import Framework, Settings
    from ..preview import Preview
    from ..tracker import Carry, FilledTracker

LOCK_HEADER = (
    "# Written by `qms consolidate`: which source refs each standard id held, so ids stay stable\n"
    "# across runs. Commit it with the framework. Edit only to renumber deliberately."
)
FRAMEWORK_HEADER = (
    "# Written by `qms consolidate`. Regenerate rather than edit; human decisions go in mappings/."
)


@app.command()
def consolidate(
    standards: Annotated[
        Path, typer.Option("--standards", "-s", help="Folder of standard set YAML files.")
    ] = (DEFAULT_STANDARDS),
    mappings: Annotated[
        Path,
        typer.Option("--mappings", "-m", help="Folder with domains.yaml, overrides.yaml and ids.lock.yaml."),
    ] = DEFAULT_MAPPINGS,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder for framework.yaml, framework.md, tracker.xlsx; commit it with mappings/.",
        ),
    ] = DEFAULT_FRAMEWORK_DIR,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Average score (0-1) at which requirements share a standard. Default: the engine's."
        ),
    ] = None,
    target: Annotated[
        int | None, typer.Option(help="Cut to this many standards instead of a threshold.")
    ] = None,
    related_threshold: Annotated[
        float | None,
        typer.Option(
            help="Fit (0-1) at which a standard also lists a requirement homed elsewhere as related."
            " Default: the engine's (calibrated; lower lists more, most of them wrong on the crosswalks)."
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="The framework's name.")] = "Consolidated quality framework",
    version: Annotated[
        str | None, typer.Option(help="The framework's version (default: a hash of its inputs).")
    ] = None,
    exports: Annotated[
        bool, typer.Option("--exports/--no-exports", help="Also write framework.md and tracker.xlsx.")
    ] = True,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Hide the progress bars only; the summary and notes still print."),
    ] = False,
    returns: Annotated[
        Path | None,
        typer.Option(
            help="Returns folder (or one set) from `qms tracker collect`: likelihood is then measured as the "
            "share of services not meeting each standard, not the prior. See docs/content-and-risk.md.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show what would change (standards merged, split, retired, renamed; tracker rows "
            "orphaned) and write nothing.",
        ),
    ] = False,
) -> None:
    """Consolidate the standard sets into one risk-weighted framework with stable ids.

    Example: qms consolidate --dry-run
    """
    if threshold is not None and target is not None:
        raise QmsError(
            "--threshold and --target cannot be used together",
            field="--target",
            hint="Give a similarity threshold (0-1) or a number of standards, not both.",
        )
    settings = engine_settings(
        {
            "threshold": ("--threshold", threshold),
            "target": ("--target", target),
            "related_threshold": ("--related-threshold", related_threshold),
        }
    )
    if dry_run:  # reads only: no lock, which would create the folders it guards
        args = (standards, mappings, out, settings, name, version, exports, quiet, target)
        _consolidate(*args, dry_run, returns=returns)
        return
    with run_lock([out, mappings], "qms consolidate"):
        args = (standards, mappings, out, settings, name, version, exports, quiet, target)
        _consolidate(*args, returns=returns)


def _consolidate(
    standards: Path,
    mappings: Path,
    out: Path,
    settings: Settings,
    name: str,
    version: str | None,
    exports: bool,
    quiet: bool,
    target: int | None,
    dry_run: bool = False,
    *,
    returns: Path | None = None,
) -> None:
    from ..embedding import EmbeddingCache, SentenceTransformerEmbedder, default_cache_dir
    from ..framework import consolidate as run
    from ..tracker import read_tracker, refuse_additions

    tracker_path = out / "tracker.xlsx"
    written = [*(out / n for n in ("framework.yaml", "framework.md", "tracker.xlsx")), mappings / LOCK_FILE]
    clean_temp_files(written)  # left by a run that was killed
    with progress_bars(quiet=quiet) as report:
        catalogue = load_catalogue([standards], mappings, step(report, "Reading sets"))
        assert catalogue.mappings is not None
        if exports and tracker_path.exists():
            # Checked before the long run: a workbook that is not a qms tracker, or one holding sheets,
            # columns or comments a re-export would drop, stops the run here.
            refuse_additions(read_tracker(tracker_path))
        embedder = SentenceTransformerEmbedder(settings.model)
        cache = EmbeddingCache(default_cache_dir(), settings.model)
        result = run(
            catalogue.sets,
            catalogue.mappings,
            settings,
            embedder,
            cache,
            name=name,
            version=version,
            progress=report,
        )
        measured = None
        if returns is not None:
            from ..risk_returns import apply_latest_returns

            result.framework, measured = apply_latest_returns(result.framework, returns)
        # Read again after the long run, so entries saved while the engine worked are carried too; and
        # the set is written only if the tracker is still as read (else someone saved it meanwhile).
        stamp = file_stamp(tracker_path) if exports else None
        previous = read_tracker(tracker_path) if stamp is not None else None
        # A real run only warns about filled rows, so it reads the old framework only when there are some
        # (at 5,000 requirements reading it took 9 of a warm run's 47 seconds).
        wanted = dry_run or (previous is not None and bool(previous.filled_entries()))
        preview = (
            preview_against(out / "framework.yaml", result.framework, previous, strict=dry_run)
            if wanted
            else None
        )
        if not dry_run:
            outputs, carry = _render_files(result, out, mappings, previous, exports, report)
    if dry_run:
        _print_dry_run(preview, out, result)
        return
    write_set(outputs, unchanged={tracker_path: stamp} if exports else {})
    if preview is not None:
        from .preview import warn_filled

        warn_filled(preview)
    _render_summary(result, list(outputs))
    reached = len(result.framework.standards)
    if target is not None and reached != target:
        err_console.print(
            f"note: --target {target} gave {reached} standards: "
            + (
                "there are fewer requirements (or must-link groups) than that to place"
                if reached < target
                else "the rest cannot merge: cannot-links keep them apart, or no scored pair joins them"
            ),
            highlight=False,
        )
    from rich.markup import escape as escape_markup

    from ..content_edits import content_notes
    from ..domains import domain_conflicts

    for conflict in domain_conflicts(result.framework):
        err_console.print(f"note: {escape_markup(conflict.message(result.framework))}", highlight=False)
    for note in content_notes(result.framework, catalogue.mappings.content):
        err_console.print(f"note: {escape_markup(note.message)}", highlight=False)
    if measured is not None:
        err_console.print(f"note: {escape_markup(measured)}", highlight=False)
    if carry is not None:
        from .export import print_carry

        print_carry(carry, tracker_path)


def _render_files(
    result: Consolidation,
    out: Path,
    mappings: Path,
    previous: FilledTracker | None,
    exports: bool,
    report: Report,
) -> tuple[dict[Path, str | bytes], Carry | None]:
    """Every file the run writes, rendered in memory first; and what a previous tracker carried."""
    from ..tracker import carry_entries, resolve_services

    services = resolve_services(None, previous)
    renders: list[tuple[Path, Callable[[], str | bytes]]] = [
        (out / "framework.yaml", lambda: dump_model(result.framework, FRAMEWORK_HEADER))
    ]
    if exports:
        from ..export.excel import render_tracker
        from ..export.markdown import render_markdown

        renders.append((out / "framework.md", lambda: render_markdown(result.framework)))
        renders.append(
            (
                out / "tracker.xlsx",
                lambda: render_tracker(result.framework, services=services, carried=previous),
            )
        )
    renders.append((mappings / LOCK_FILE, lambda: dump_model(result.lock, LOCK_HEADER)))
    rendering = step(report, "Rendering files")
    outputs: dict[Path, str | bytes] = {}
    for done, (path, render) in enumerate(renders):
        tick(rendering, done, len(renders))
        outputs[path] = render()
    tick(rendering, len(renders), len(renders))
    carry = carry_entries(result.framework, previous, services) if previous is not None else None
    return outputs, carry


def _render_summary(result: Consolidation, written: list[Path]) -> None:
    summary = summarise(result.framework)
    table = Table(title="Consolidated framework", show_header=True)
    table.add_column("domain")
    table.add_column("standards", justify="right")
    for domain_id, domain_name, count in summary.per_domain:
        table.add_row(f"{domain_id} {domain_name}", str(count))
    table.add_section()
    table.add_row("total", str(summary.standards))
    sets = Table(title="Source sets")
    for column in ("set", "requirements", "standards drawing on it"):
        sets.add_column(column, justify="left" if column == "set" else "right")
    for set_id, requirements, standards in summary.per_set:
        sets.add_row(set_id, str(requirements), str(standards))
    console.print(table)
    console.print(sets)
    spread = summary.by_set_count
    console.print(
        f"{summary.requirements} requirements in ({summary.excluded} excluded) -> "
        f"{summary.standards} standards; "
        f"drawing on 1 set: {spread['1']}, 2 sets: {spread['2']}, 3+ sets: {spread['3+']}. "
        f"Risk: "
        + ", ".join(f"{k} {v}" for k, v in summary.per_rating.items())
        + ". "
        + _embedded_note(result.embedded, result.domains_embedded),
        highlight=False,
    )
    for path in written:
        console.print(f"wrote {path}", highlight=False)


def _embedded_note(embedded: int, domains: int) -> str:
    """What was embedded, counted as the progress bar counts: distinct texts missing from the cache.

    A requirement brings two texts (its wording and its title), so the count is not the number of
    requirements; wording that repeats is embedded once.
    """
    if embedded == 0 and domains == 0:
        return "Every text's embedding came from the cache."
    parts = [f"{embedded} requirement text(s) and title(s)"] if embedded else []
    parts += [f"{domains} text(s) of the domain descriptions"] if domains else []
    return f"Embedded {' and '.join(parts)} not in the cache."


def preview_against(
    path: Path, proposed: Framework, tracker: FilledTracker | None, *, strict: bool
) -> Preview | None:
    """What writing `proposed` over the framework at `path` would change; None when there is none yet.

    A framework there that cannot be read stops a dry run (strict), whose point is the comparison; a
    real run replaces it anyway, so it only loses the warnings.
    """
    from ..load import load_framework
    from ..preview import preview_run

    if not path.exists():
        return None
    try:
        return preview_run(load_framework(path), proposed, tracker)
    except QmsError:
        if strict:
            raise
        return None


def _print_dry_run(preview: Preview | None, out: Path, result: Consolidation) -> None:
    from .preview import print_preview

    current = out / "framework.yaml"
    if preview is None:
        console.print(
            f"No framework at {escape(str(current))} yet: a run would write one with "
            f"{len(result.framework.standards)} standards.",
            highlight=False,
        )
    else:
        print_preview(preview, str(current))
    console.print("Nothing written (--dry-run).", highlight=False)
