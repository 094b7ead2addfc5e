"""`qms evaluate`: score the engine against a gold crosswalk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..files import write_atomic
from ._app import app, console, engine_settings, err_console
from .progress import progress_bars


@app.command()
def evaluate(
    gold: Annotated[Path, typer.Argument(help="Gold crosswalk YAML (format: shared/eval/README.md).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON on stdout.")] = False,
    sweep: Annotated[
        bool, typer.Option("--sweep", help="Also score a range of thresholds (0.30-0.95).")
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(help="Score at this match threshold instead of the engine's calibrated one."),
    ] = None,
    clusters_out: Annotated[
        Path | None,
        typer.Option("--clusters-out", help="Write the predicted clusters as JSON (lists of ids)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Score the engine's clusters against a gold crosswalk: pairwise and B-cubed precision, recall, F1."""
    from ..embedding import EmbeddingCache, SentenceTransformerEmbedder, default_cache_dir
    from ..evaluate import SWEEP, load_gold, run_evaluation

    settings = engine_settings({"match_threshold": ("--threshold", threshold)})  # options before files
    data = load_gold(gold)
    with progress_bars(quiet=quiet or as_json) as progress:
        main, clusters, swept = run_evaluation(
            data,
            settings,
            SentenceTransformerEmbedder(settings.model),
            EmbeddingCache(default_cache_dir(), settings.model),
            thresholds=SWEEP if sweep else (),
            progress=progress,
        )
    if clusters_out is not None:
        write_atomic(clusters_out, json.dumps(clusters, indent=1) + "\n")
        err_console.print(f"wrote {clusters_out}", highlight=False)
    if as_json:
        payload = {
            "evaluation": main.model_dump(mode="json"),
            "sweep": [e.model_dump(mode="json") for e in swept],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    table = Table(
        title=f"{main.gold}: {main.requirements} requirements -> {main.clusters} clusters "
        f"(match threshold {main.threshold})"
    )
    for column in (
        "level",
        "pairwise P",
        "pairwise R",
        "pairwise F1",
        "B-cubed P",
        "B-cubed R",
        "B-cubed F1",
    ):
        table.add_column(column, justify="left" if column == "level" else "right")
    for level, scores in main.pairwise.items():
        b = main.bcubed[level]
        table.add_row(
            level,
            *(f"{x:.3f}" for x in (scores.precision, scores.recall, scores.f1, b.precision, b.recall, b.f1)),
        )
    console.print(table)
    if swept:
        sweep_table = Table(title="Sweep over thresholds (pairwise F1)")
        for column in ("threshold", "clusters", "strict", "lenient", "any", "B-cubed strict"):
            sweep_table.add_column(column, justify="right")
        for e in swept:
            sweep_table.add_row(
                f"{e.threshold:.2f}",
                str(e.clusters),
                f"{e.pairwise['strict'].f1:.3f}",
                f"{e.pairwise['lenient'].f1:.3f}",
                f"{e.pairwise['any'].f1:.3f}",
                f"{e.bcubed['strict'].f1:.3f}",
            )
        console.print(sweep_table)
