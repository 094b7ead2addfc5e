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


OUTPUTS = ["framework.yaml", "framework.md", "tracker.xlsx", "ids.lock.yaml"]


def _snapshot(out: Path, mappings: Path) -> dict[str, bytes]:
    return {n: ((mappings if n == "ids.lock.yaml" else out) / n).read_bytes() for n in OUTPUTS}


@pytest.mark.parametrize("victim", OUTPUTS)
@pytest.mark.parametrize("fault", ["killed", "disk full"])
def test_a_failure_while_writing_leaves_the_old_set_intact(
    tmp_path: Path, fake_model: None, monkeypatch: pytest.MonkeyPatch, victim: str, fault: str
) -> None:
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    assert _consolidate(standards, mappings, out).exit_code == 0
    before = _snapshot(out, mappings)
    (standards / "alpha.yaml").write_text(
        (standards / "alpha.yaml").read_text().replace("Competence", "Competence of staff")
    )
    real = files.write_set

    def failing(outputs, **kwargs):  # type: ignore[no-untyped-def]
        def boom(path: Path, tmp: Path) -> None:
            if path.name == victim:  # every file before it in the set has been replaced by now
                if fault == "killed":
                    raise RuntimeError("killed mid-write")
                raise OSError(28, "No space left on device")

        return real(outputs, before_replace=boom, **kwargs)

    monkeypatch.setattr("qms_standards.cli.consolidate.write_set", failing)
    if fault == "killed":
        with pytest.raises(RuntimeError, match="killed mid-write"):
            runner.invoke(
                app,
                ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(out), "-q"],
                catch_exceptions=False,
            )
    else:
        result = _consolidate(standards, mappings, out)
        assert result.exit_code == 2, result.output
        said = " ".join(result.output.split())
        assert f"cannot replace {(mappings if victim == 'ids.lock.yaml' else out) / victim}" in said
        assert "every output is as it was before the run" in said
    assert _snapshot(out, mappings) == before  # the whole old set, not a mix
    leftovers = [p.name for p in (*out.iterdir(), *mappings.iterdir()) if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names the failing file through /proc")
def test_a_full_disk_before_any_replace_says_nothing_was_replaced(
    tmp_path: Path, fake_model: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    assert _consolidate(standards, mappings, out).exit_code == 0
    before = _snapshot(out, mappings)
    (standards / "alpha.yaml").write_text(
        (standards / "alpha.yaml").read_text().replace("Competence", "Competence of staff")
    )
    real_fdopen = os.fdopen

    def full(fd, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        handle = real_fdopen(fd, mode, *args, **kwargs)
        # The disk fills while the tracker's temp file is written, after those of framework.yaml and .md.
        if "w" in mode and Path(os.readlink(f"/proc/self/fd/{fd}")).name.startswith(".tracker.xlsx."):

            def no_space(data):  # type: ignore[no-untyped-def]
                raise OSError(28, "No space left on device")

            handle.write = no_space
        return handle

    monkeypatch.setattr(files.os, "fdopen", full)
    result = _consolidate(standards, mappings, out)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "No space left on device; nothing was replaced: every output is as it was before the run" in said
    assert _snapshot(out, mappings) == before
    assert [p.name for p in (*out.iterdir(), *mappings.iterdir()) if p.name.startswith(".")] == []


def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path, fake_model: None) -> None:
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    with files.run_lock([out], "qms consolidate"):
        result = _consolidate(standards, mappings, out)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"another qms run is writing to {out} (qms consolidate, process {os.getpid()})" in said
    assert "hint: Wait for it to finish" in said
    assert not (out / "framework.yaml").exists() and not (mappings / "ids.lock.yaml").exists()
    assert _consolidate(standards, mappings, out).exit_code == 0  # released: the next run goes ahead
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def _hold_lock(folder: str, ready, done) -> None:  # type: ignore[no-untyped-def]
    with files.run_lock([Path(folder)], "qms consolidate"):
        ready.set()
        done.wait(60)


def test_a_run_in_another_process_holds_the_folder_until_it_ends(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready, done = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path), ready, done))
    holder.start()
    try:
        assert ready.wait(60)
        with (
            pytest.raises(files.OutputError, match="another qms run is writing to"),
            files.run_lock([tmp_path], "second"),
        ):
            pass
    finally:
        done.set()
        holder.join(60)
    with files.run_lock([tmp_path], "third"):  # the lock went with the process
        pass


def test_a_killed_run_leaves_no_lock_and_its_temp_files_are_cleaned(tmp_path: Path, fake_model: None) -> None:
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    context = multiprocessing.get_context("spawn")
    ready, done = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(out), ready, done))
    holder.start()
    assert ready.wait(60)
    holder.kill()  # as kill -9 would: no cleanup code runs
    holder.join(60)
    stale = [out / ".tracker.xlsx.k2j4h1.tmp", mappings / ".ids.lock.yaml.77.old.tmp"]
    for path in stale:
        path.write_bytes(b"half a file")
    result = _consolidate(standards, mappings, out)
    assert result.exit_code == 0, result.output
    assert not any(p.exists() for p in stale)
    assert [p.name for p in (*out.iterdir(), *mappings.iterdir()) if p.name.startswith(".")] == []


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
                name: (work / "framework" / name).read_bytes()
                for name in ("framework.yaml", "framework.md", "tracker.xlsx")
            }
        )
        outputs[-1]["ids.lock.yaml"] = (work / "mappings" / "ids.lock.yaml").read_bytes()
    for name in outputs[0]:
        assert outputs[0][name] == outputs[1][name], f"{name} differs between runs"


def _fill_first_row(path: Path, **values: str) -> str:
    book = load_workbook(path)
    sheet = book["Tracker"]
    headers = {c.value: c.column for c in sheet[1]}
    for header, value in values.items():
        sheet.cell(2, headers[header]).value = value
    book.save(path)
    return str(sheet.cell(2, 1).value)


def test_entries_saved_while_the_engine_runs_are_carried(
    tmp_path: Path, fake_model: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    assert _consolidate(standards, mappings, out).exit_code == 0
    import qms_standards.framework as framework

    real = framework.consolidate
    saved: list[str] = []

    def slow_engine(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(*args, **kwargs)
        saved.append(_fill_first_row(out / "tracker.xlsx", Status="Met", Owner="Saved mid-run"))
        return result

    monkeypatch.setattr(framework, "consolidate", slow_engine)
    result = _consolidate(standards, mappings, out)
    assert result.exit_code == 0, result.output
    entry = read_tracker(out / "tracker.xlsx").entries[(saved[0], "")]
    assert (entry.status, entry.owner) == ("Met", "Saved mid-run")


def test_a_tracker_saved_between_reading_and_writing_stops_the_write(
    tmp_path: Path, fake_model: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qms_standards.cli.consolidate as command

    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    assert _consolidate(standards, mappings, out).exit_code == 0
    real = command._render_files

    def render_then_save(*args, **kwargs):  # type: ignore[no-untyped-def]
        rendered = real(*args, **kwargs)
        _fill_first_row(out / "tracker.xlsx", Owner="Saved at the last moment")
        return rendered

    monkeypatch.setattr(command, "_render_files", render_then_save)
    (standards / "alpha.yaml").write_text(
        (standards / "alpha.yaml").read_text().replace("Competence", "Competence of staff")
    )
    before = {n: (out / n).read_bytes() for n in ("framework.yaml", "framework.md")}
    result = _consolidate(standards, mappings, out)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"{out / 'tracker.xlsx'}: was saved by someone while this run worked; nothing was replaced" in said
    assert {n: (out / n).read_bytes() for n in before} == before
    assert any(
        e.owner == "Saved at the last moment" for e in read_tracker(out / "tracker.xlsx").entries.values()
    )


@pytest.mark.parametrize("addition", ["sheet", "column", "comment"])
@pytest.mark.parametrize("command", ["consolidate", "export-from"])
def test_what_people_added_to_a_tracker_stops_a_re_export(
    tmp_path: Path, fake_model: None, addition: str, command: str
) -> None:
    from openpyxl.comments import Comment

    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    assert _consolidate(standards, mappings, out).exit_code == 0
    tracker = out / "tracker.xlsx"
    book = load_workbook(tracker)
    sheet = book["Tracker"]
    if addition == "sheet":
        book.create_sheet("Ward notes")["A1"] = "Audit dates agreed with matron"
        said_part = "sheet 'Ward notes'"
    elif addition == "column":
        sheet.cell(1, sheet.max_column + 1).value = "RAG"
        sheet.cell(3, sheet.max_column).value = "Amber"
        said_part = f"column {sheet.cell(1, sheet.max_column).column_letter} on Tracker"
    else:
        sheet["I3"].comment = Comment("Check with estates before marking Met", "Ana")
        said_part = "a comment on Tracker!I3"
    book.save(tracker)
    before = tracker.read_bytes()
    if command == "consolidate":
        result = _consolidate(standards, mappings, out)
    else:
        args = ["export", "tracker", str(out / "framework.yaml"), "-o", str(tracker), "--from", str(tracker)]
        result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"{tracker}: holds what people added that a re-export would not keep: {said_part}" in said, said
    assert "hint: Copy those sheets, columns or comments to another workbook" in said
    assert tracker.read_bytes() == before


class _Wide:
    """A stand-in for another model written under the same name: vectors of another width."""

    name = "fake"

    def __init__(self, width: int) -> None:
        self.width = width

    def encode(self, texts: list[str], progress=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        out = np.zeros((len(texts), self.width), dtype=np.float32)
        out[:, 0] = 1.0
        return out


def test_a_cache_shard_of_another_width_costs_a_re_embedding_not_a_crash(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "fake")
    embed_texts(["Consent"], _Wide(64), cache)  # a stray shard under this model's name
    vectors, embedded = embed_texts(["Consent", "Medicines"], _Wide(384), cache)
    assert vectors.shape == (2, 384) and embedded == 2
    # The real model's vectors now outnumber the stray ones, so they are the ones read back.
    again, embedded = embed_texts(["Consent", "Medicines"], _Wide(384), cache)
    assert again.shape == (2, 384) and embedded == 0


def test_review_apply_is_refused_while_another_run_holds_the_mappings(tmp_path: Path) -> None:
    from test_review import _row, _workbook

    standards, mappings = make_tree(tmp_path)
    workbook = _workbook(
        tmp_path / "review.xlsx", [_row(1, "beta-2023:4.1", "alpha-2020:4.1")], {1: ("same", "QA lead")}
    )
    args = ["review", "-s", str(standards), "-m", str(mappings), "--apply", str(workbook)]
    with files.run_lock([mappings], "qms consolidate"):
        result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"another qms run is writing to {mappings} (qms consolidate" in " ".join(result.output.split())
    assert not (mappings / "overrides.yaml").exists()
    assert runner.invoke(app, args).exit_code == 0
    assert (mappings / "overrides.yaml").exists()
    assert [p.name for p in mappings.iterdir() if p.name.startswith(".")] == []
