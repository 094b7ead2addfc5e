"""Promises under faults: nothing half-written, filled trackers carried, a shared cache, determinism."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import MAPPINGS, STANDARDS, FakeEmbedder
from engine_helpers import make_tree
from qms_standards import files
from qms_standards.cli import app
from qms_standards.embedding import EmbeddingCache, embed_texts
from qms_standards.tracker import read_tracker

runner = CliRunner()


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())


def _consolidate(standards: Path, mappings: Path, out: Path, *extra: str):
    return runner.invoke(
        app, ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(out), "-q", *extra]
    )


@pytest.mark.parametrize("victim", ["framework.yaml", "tracker.xlsx", "framework.md", "ids.lock.yaml"])
def test_a_failure_while_writing_leaves_the_old_file_intact(
    tmp_path: Path, fake_model: None, monkeypatch: pytest.MonkeyPatch, victim: str
) -> None:
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    assert _consolidate(standards, mappings, out).exit_code == 0
    target = (mappings if victim == "ids.lock.yaml" else out) / victim
    before = target.read_bytes()
    (standards / "alpha.yaml").write_text(
        (standards / "alpha.yaml").read_text().replace("Competence", "Competence of staff")
    )
    real = files.write_atomic

    def failing(path: Path, data, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path).name == victim:

            def boom(tmp: Path) -> None:
                raise RuntimeError("killed mid-write")

            return real(path, data, before_replace=boom)
        return real(path, data, **kwargs)

    monkeypatch.setattr("qms_standards.cli.consolidate.write_atomic", failing)
    with pytest.raises(RuntimeError, match="killed mid-write"):
        runner.invoke(
            app,
            ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(out), "-q"],
            catch_exceptions=False,
        )
    assert target.read_bytes() == before
    leftovers = [p.name for p in (*out.iterdir(), *mappings.iterdir()) if p.name.endswith(".tmp")]
    assert leftovers == []


def test_output_to_a_path_under_a_file_is_a_clear_error(tmp_path: Path, fake_model: None) -> None:
    standards, mappings = make_tree(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = _consolidate(standards, mappings, blocker / "out")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not (mappings / "ids.lock.yaml").exists()


def test_consolidate_carries_a_filled_tracker_across(tmp_path: Path, fake_model: None) -> None:
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    assert _consolidate(standards, mappings, out).exit_code == 0
    book = load_workbook(out / "tracker.xlsx")
    sheet = book["Tracker"]
    headers = {c.value: c.column for c in sheet[1]}
    first_id = sheet.cell(2, 1).value
    sheet.cell(2, headers["Status"]).value = "Met"
    sheet.cell(2, headers["Owner"]).value = "Jit Olk"
    sheet.cell(2, headers["Evidence"]).value = "Audit report 2026/14"
    book.save(out / "tracker.xlsx")
    result = _consolidate(standards, mappings, out)
    assert result.exit_code == 0, result.output
    assert "carried" in result.output
    entry = read_tracker(out / "tracker.xlsx").entries[(first_id, "")]
    assert (entry.status, entry.owner, entry.evidence) == ("Met", "Jit Olk", "Audit report 2026/14")


def test_a_workbook_that_is_not_a_tracker_stops_consolidate_before_any_write(
    tmp_path: Path, fake_model: None
) -> None:
    from openpyxl import Workbook

    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    Workbook().save(out / "tracker.xlsx")
    result = _consolidate(standards, mappings, out)
    assert result.exit_code == 2
    assert "tracker.xlsx" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == ["tracker.xlsx"]
    assert not (mappings / "ids.lock.yaml").exists()


def _writer(folder: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cache = EmbeddingCache(Path(folder), "m")
    for round_ in range(30):
        keys = [f"{seed}-{round_}-{k}" for k in range(5)] + [f"shared-{round_}"]
        cache.save(keys, rng.standard_normal((len(keys), 8)).astype(np.float32))
        cache.load()


def test_two_processes_sharing_a_cache_do_not_corrupt_it(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(tmp_path), seed)) for seed in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    loaded = EmbeddingCache(tmp_path, "m").load()
    for seed in (1, 2):
        for round_ in range(30):
            assert all(f"{seed}-{round_}-{k}" in loaded for k in range(5))
    assert len(list((tmp_path / "embeddings" / "m").glob("*.npz"))) <= EmbeddingCache.MAX_SHARDS + 1


def test_cache_returns_what_was_embedded(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "fake")
    texts = ["Competence of staff", "Infection control", "Competence of staff"]
    first, embedded = embed_texts(texts, FakeEmbedder(), cache)
    second, again = embed_texts(texts, FakeEmbedder(), cache)
    assert (embedded, again) == (2, 0)
    assert np.array_equal(first, second)


@pytest.mark.slow
def test_consolidate_is_byte_identical_across_processes_folders_and_hash_seeds(tmp_path: Path) -> None:
    outputs = []
    for n, seed in enumerate(("0", "12345")):
        work = tmp_path / f"run{n}"
        work.mkdir()
        shutil.copytree(STANDARDS, work / "standards")
        shutil.copytree(MAPPINGS, work / "mappings")
        (work / "mappings" / "ids.lock.yaml").unlink(missing_ok=True)
        env = {
            **os.environ,
            "PYTHONHASHSEED": seed,
            "QMS_CACHE_DIR": str(tmp_path / "cache"),
            "HF_HUB_OFFLINE": "1",
        }
        done = subprocess.run(
            [sys.executable, "-m", "qms_standards", "consolidate", "-q"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(
            {
                name: (work / "out" / name).read_bytes()
                for name in ("framework.yaml", "framework.md", "tracker.xlsx")
            }
        )
        outputs[-1]["ids.lock.yaml"] = (work / "mappings" / "ids.lock.yaml").read_bytes()
    for name in outputs[0]:
        assert outputs[0][name] == outputs[1][name], f"{name} differs between runs"
