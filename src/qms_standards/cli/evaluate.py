"""`qms evaluate`: score what the engine gives users against gold crosswalks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import QmsError
from ..files import write_atomic
from ._app import app, console, engine_settings, err_console
from .progress import progress_bars

if TYPE_CHECKING:  # evaluate imports the engine (numpy, scipy, rapidfuzz): 0.25 s on every `qms` start
    from ..evaluate import CrosswalkReport, GoldCrosswalk


def _gold_files(paths: list[Path]) -> list[Path]:
    """Each path as given, or the *.yaml files of a folder in name order."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.glob("*.yaml") if p.is_file())
            if not found:
                raise QmsError(
                    "no gold crosswalk (*.yaml) in this folder",
                    file=path,
                    hint="Give gold crosswalk files, or a folder that holds them.",
                )
            out.extend(found)
        else:
            out.append(path)
    return out


@app.command()
def evaluate(
    gold: Annotated[
        list[Path],
        typer.Argument(help="Gold crosswalk YAML files, or folders of them (format: docs/evaluate.md)."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON on stdout.")] = False,
    sweep: Annotated[
        bool,
        typer.Option("--sweep", help="Also score the standards grouping at thresholds 0.30-0.95."),
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(help="Cut the standards at this threshold instead of the engine's default (0.4)."),
    ] = None,
    match_threshold: Annotated[
        float | None,
        typer.Option("--match-threshold", help="Label requirements equal at this score (default 0.87)."),
    ] = None,
    clusters_out: Annotated[
        Path | None,
        typer.Option("--clusters-out", help="Write the standards grouping as JSON (lists of ids)."),
    ] = None,
    equal_clusters_out: Annotated[
        Path | None,
        typer.Option("--equal-clusters-out", help="Write the equal grouping as JSON (lists of ids)."),
    ] = None,
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate",
            help="Choose the grouping weights and cuts from the crosswalks by the documented rule, "
            "and compare them with the defaults.",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Hide the progress bars only; the summary and notes still print."),
    ] = False,
) -> None:
    """Score the engine on gold crosswalks: the standards users get, equal matches, links, recall at k.

    Example: qms evaluate ../shared/eval/ --sweep
    """
    from ..embedding import EmbeddingCache, SentenceTransformerEmbedder, default_cache_dir
    from ..evaluate import SWEEP, leave_one_out, load_gold, run_evaluation

    settings = engine_settings(
        {"threshold": ("--threshold", threshold), "match_threshold": ("--match-threshold", match_threshold)}
    )
    files = _gold_files(gold)
    if (clusters_out or equal_clusters_out) and len(files) > 1:
        raise QmsError(
            "--clusters-out and --equal-clusters-out take one gold crosswalk",
            field="--clusters-out",
            hint="Run qms evaluate once per crosswalk to write its clusters.",
        )
    golds = [load_gold(path) for path in files]  # every file checked before any work
    embedder = SentenceTransformerEmbedder(settings.model)
    cache = EmbeddingCache(default_cache_dir(), settings.model)
    if calibrate:
        _print_calibration(golds, embedder, cache, as_json)
        return
    results = []
    with progress_bars(quiet=quiet or as_json) as progress:
        for data in golds:
            thresholds = SWEEP if sweep or len(golds) > 1 else ()
            results.append(
                run_evaluation(data, settings, embedder, cache, thresholds=thresholds, progress=progress)
            )
    for path, groups in ((clusters_out, "standards"), (equal_clusters_out, "equal")):
        if path is not None:
            write_atomic(path, json.dumps(getattr(results[0], groups), indent=1) + "\n")
            err_console.print(f"wrote {path}", highlight=False)
    reports = [r.report for r in results]
    held_out = leave_one_out(reports)
    if as_json:
        payload = {
            "crosswalks": [r.model_dump(mode="json") for r in reports],
            "leave_one_out": [h.model_dump(mode="json") for h in held_out],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    for report in reports:
        _print_report(report, sweep)
    if held_out:
        table = Table(title="Leave one crosswalk out: the standards threshold chosen on the others")
        for column in ("left out", "threshold chosen", "any F1 there", "any F1 at the default"):
            table.add_column(column, justify="left" if column == "left out" else "right")
        for h in held_out:
            table.add_row(h.gold, f"{h.threshold:.3f}", f"{h.f1:.3f}", f"{h.default_f1:.3f}")
        console.print(table)


def _print_report(report: CrosswalkReport, sweep: bool) -> None:
    console.print(
        f"[bold]{escape(report.gold)}[/]: {report.requirements} requirements -> "
        f"{report.standards.clusters} standards (cut {report.standards.threshold}), "
        f"{report.equal.clusters} equal (cut {report.equal.threshold}), {report.related} related links",
        highlight=False,
    )
    table = Table()
    for column in ("what", "level", "precision", "recall", "F1", "B-cubed F1"):
        table.add_column(column, justify="left" if column in ("what", "level") else "right")
    for name, grouping in (("standards", report.standards), ("equal", report.equal)):
        for level, scores in grouping.pairwise.items():
            table.add_row(
                name,
                level,
                f"{scores.precision:.3f}",
                f"{scores.recall:.3f}",
                f"{scores.f1:.3f}",
                f"{grouping.bcubed[level].f1:.3f}",
            )
    for level, scores in report.links.items():
        table.add_row(
            "links", level, f"{scores.precision:.3f}", f"{scores.recall:.3f}", f"{scores.f1:.3f}", ""
        )
    console.print(table)
    console.print(
        "recall at k (gold pairs whose partner is among the k best-scored in other sets): "
        + ", ".join(f"k={k}: {v:.3f}" for k, v in report.recall_at.items()),
        highlight=False,
    )
    if sweep and report.sweep:
        sweep_table = Table(title="Standards grouping over thresholds (pairwise F1)")
        for column in ("threshold", "standards", "strict", "lenient", "any", "B-cubed any"):
            sweep_table.add_column(column, justify="right")
        for e in report.sweep:
            sweep_table.add_row(
                f"{e.threshold:.3f}",
                str(e.clusters),
                f"{e.pairwise['strict'].f1:.3f}",
                f"{e.pairwise['lenient'].f1:.3f}",
                f"{e.pairwise['any'].f1:.3f}",
                f"{e.bcubed['any'].f1:.3f}",
            )
        console.print(sweep_table)


def _print_calibration(golds: list[GoldCrosswalk], embedder: object, cache: object, as_json: bool) -> None:
    from ..calibrate import calibrate
    from ..models import Settings

    with console.status("Calibrating over the weight grid (about a minute)"):
        result = calibrate(golds, embedder, cache)
    default = Settings()
    chosen = {
        "grouping": result.grouping.model_dump(),
        "threshold": result.threshold,
        "related_threshold": result.related_threshold,
    }
    current = {
        "grouping": default.grouping.model_dump(),
        "threshold": default.threshold,
        "related_threshold": default.related_threshold,
    }
    if as_json:
        payload = {
            "chosen": chosen,
            "defaults": current,
            "defaults_reproduced": chosen == current,
            "per_crosswalk": result.per_crosswalk,
            "held_out": {k: {"threshold": t, "f1": f} for k, (t, f) in result.held_out.items()},
            "plain_cosine": {k: {"threshold": t, "f1": f} for k, (t, f) in result.plain_cosine.items()},
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    table = Table(title="Defaults chosen from the crosswalks")
    for column in ("setting", "chosen", "default now"):
        table.add_column(column)
    for name in ("meaning", "title_meaning", "subject", "title_words", "other_heading", "floor"):
        table.add_row(
            f"grouping.{name}", f"{getattr(result.grouping, name):g}", f"{getattr(default.grouping, name):g}"
        )
    table.add_row("threshold", f"{result.threshold:g}", f"{default.threshold:g}")
    table.add_row("related_threshold", f"{result.related_threshold:g}", f"{default.related_threshold:g}")
    console.print(table)
    figures = Table(title="Standards grouping, any-level pairwise F1")
    for column in (
        "crosswalk",
        "chosen defaults",
        "weights and cut chosen on the others -> F1 here",
        "plain cosine at its best cut",
    ):
        figures.add_column(column, justify="left" if column == "crosswalk" else "right")
    for name, f1 in result.per_crosswalk.items():
        held = result.held_out.get(name)
        plain = result.plain_cosine[name]
        figures.add_row(
            name,
            f"{f1:.3f}",
            f"{held[0]:g} -> {held[1]:.3f}" if held else "",
            f"{plain[1]:.3f} at {plain[0]:g}",
        )
    console.print(figures)
    console.print(
        "The defaults are reproduced."
        if chosen == current
        else "The defaults differ from what the rule chose.",
        highlight=False,
    )
