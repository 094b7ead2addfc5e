"""Help in plain words: no Python type names, an example in every command's help, a loading bar."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from qms_standards.cli import app
from qms_standards.cli.helptext import plain_label
from qms_standards.cli.progress import LOADING_MODEL, step_label

runner = CliRunner()


def _commands(group, prefix: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    for name, command in sorted(getattr(group, "commands", {}).items()):
        path = (*prefix, name)
        if getattr(command, "commands", None):
            yield from _commands(command, path)
        else:
            yield path


COMMANDS = list(_commands(typer.main.get_command(app)))
# What typer 0.29 prints by default and a quality lead cannot read.
PYTHON_WORDS = re.compile(r"<bool>|<list\[|<%Y|<float|<int|<str>|<path>|<datetime>|\d\.\d<=x")


@pytest.mark.parametrize("path", [" ".join(p) for p in COMMANDS])
def test_help_uses_plain_words_and_shows_an_example(path: str) -> None:
    result = runner.invoke(app, [*path.split(), "--help"], env={"COLUMNS": "200"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert not PYTHON_WORDS.search(result.output), result.output
    assert "[default: no-" not in result.output, (
        "a flag shows its --no- twin: declare it as typer.Option('--x')"
    )
    examples = [line for line in result.output.splitlines() if "Example: qms " in line]
    assert examples, f"qms {path} --help shows no example"
    assert f"qms {path}" in examples[0]


def test_the_top_level_help_has_no_type_names() -> None:
    result = runner.invoke(app, ["--help"], catch_exceptions=False)
    assert not PYTHON_WORDS.search(result.output), result.output


def test_plain_labels() -> None:
    class Param:
        min, max, help = 0.0, 1.0, "Folder of standard set YAML files."

    assert plain_label("<float range>", Param()) == "0-1"
    assert plain_label("<path>", Param()) == "FOLDER"
    Param.help = "Tracker workbook to write (.xlsx)."
    assert plain_label("<path>", Param()) == "FILE"
    assert plain_label("<list[Path]>", Param()) == "FILE ..."
    assert plain_label("<%Y-%m-%d>", Param()) == "YYYY-MM-DD"
    assert plain_label("<bool>", Param()) is None
    assert plain_label("<int range>", Param()) == "N"
    assert plain_label("<xlsx|csv>", Param()) == "xlsx|csv"


def test_the_embedding_bar_says_the_model_is_loading_until_the_first_batch() -> None:
    assert step_label("Embedding", 0, 408) == (LOADING_MODEL, None)
    assert step_label("Embedding", 64, 408) == ("Embedding", 408)
    assert step_label("Embedding", 0, 0) == ("Embedding", 0)
    assert step_label("Scoring pairs", 0, 10) == ("Scoring pairs", 10)


def test_the_embedded_count_is_the_embedding_bars_total(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conftest import FakeEmbedder
    from engine_helpers import make_tree
    from qms_standards.cli.consolidate import _embedded_note
    from qms_standards.embedding import EmbeddingCache
    from qms_standards.framework import consolidate
    from qms_standards.load import load_catalogue
    from qms_standards.models import Settings

    catalogue = load_catalogue(list(make_tree(tmp_path)[:1]), make_tree(tmp_path / "m")[1])
    assert catalogue.mappings is not None
    reports: list[tuple[str, int, int]] = []
    cache = EmbeddingCache(tmp_path / "cache", "all-MiniLM-L6-v2")
    result = consolidate(
        catalogue.sets,
        catalogue.mappings,
        Settings(),
        FakeEmbedder(),
        cache,
        progress=lambda *r: reports.append(r),
    )
    bar_total = [total for step, _, total in reports if step == "Embedding"][-1]
    assert result.embedded == bar_total > 0
    assert result.domains_embedded >= len(catalogue.mappings.domains)  # each description, and its topics
    note = _embedded_note(result.embedded, result.domains_embedded)
    assert note == (
        f"Embedded {bar_total} requirement text(s) and title(s) and {result.domains_embedded} text(s) "
        "of the domain descriptions not in the cache."
    )
    again = consolidate(catalogue.sets, catalogue.mappings, Settings(), FakeEmbedder(), cache)
    assert (
        _embedded_note(again.embedded, again.domains_embedded)
        == "Every text's embedding came from the cache."
    )


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import FakeEmbedder

    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())


def test_review_and_explain_print_titles_next_to_refs(tmp_path, fake_model: None) -> None:  # type: ignore[no-untyped-def]
    from engine_helpers import make_tree
    from qms_standards.load import load_standard_sets

    standards, mappings = make_tree(tmp_path)
    titles = {s.set.ref(r): r.title for s in load_standard_sets([standards]) for r in s.set.requirements}
    args = ["-s", str(standards), "-m", str(mappings), "-q"]
    review = runner.invoke(app, ["review", *args], env={"COLUMNS": "250"}, catch_exceptions=False)
    assert review.exit_code == 0, review.output
    assert "requirement A" in review.output and "ref A" not in review.output
    shown = [ref for ref in titles if ref in review.output]
    assert shown and all(titles[ref] in review.output for ref in shown)
    explain = runner.invoke(
        app, ["explain", "alpha-2020:7.2", *args], env={"COLUMNS": "250"}, catch_exceptions=False
    )
    assert explain.exit_code == 0, explain.output
    neighbours = [ref for ref in titles if ref in explain.output and ref != "alpha-2020:7.2"]
    assert neighbours and all(titles[ref] in explain.output for ref in neighbours)
    assert not re.search(r"┃\s*(emb|fuzzy)\s*┃", explain.output), "a column named by its implementation"
