"""Inputs that are not plain files: never skipped, never opened blocking, always named (issue 17).

A dangling link, a folder, a named pipe or a loop of links, standing where a standard set, a mappings file,
a framework or a workbook should be, is an exit-2 error naming the path; none of them can be kept in git,
so each case is made here. Before the fix a named pipe hung the run for ever: `make test` has a time limit.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DATA
from qms_standards.cli import app
from test_errors import BAD, Case, _expect_cli, _expect_library

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="named pipes and symlinks as on POSIX")

SET = (BAD / "mappings" / "set.yaml").read_text(encoding="utf-8")
DOMAINS = (BAD / "mappings" / "unknown-ref" / "domains.yaml").read_text(encoding="utf-8")


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "moved-away.yaml")


def _folder(path: Path) -> None:
    path.mkdir()
    (path / "inside.yaml").write_text(SET, encoding="utf-8")


def _pipe(path: Path) -> None:
    os.mkfifo(path)


def _loop(path: Path) -> None:
    other = path.parent / f"{path.name}.other"
    path.symlink_to(other)
    other.symlink_to(path)


KINDS: dict[str, tuple[Callable[[Path], None], str]] = {
    "dangling-link": (_dangling, "is a symbolic link to "),
    "folder": (_folder, "is a folder, not a file"),
    "named-pipe": (_pipe, "is a named pipe, not a regular file"),
    "link-loop": (_loop, "is a loop of symbolic links"),
}


def _tree(root: Path) -> Path:
    """standards/ with one good set, and mappings/ with a domains.yaml."""
    (root / "standards").mkdir()
    (root / "standards" / "good.yaml").write_text(SET, encoding="utf-8")
    (root / "mappings").mkdir()
    (root / "mappings" / "domains.yaml").write_text(DOMAINS, encoding="utf-8")
    return root


@pytest.mark.parametrize("kind", KINDS)
def test_a_set_file_that_is_not_a_file_is_reported_not_skipped(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, message = KINDS[kind]
    _tree(tmp_path)
    make(tmp_path / "standards" / "broken.yaml")
    case = Case(kind, ["standards"], "standards/broken.yaml", None, None, message)
    _expect_library(tmp_path, case, monkeypatch)
    _expect_cli(tmp_path, case, monkeypatch)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["domains.yaml", "overrides.yaml", "ids.lock.yaml"])
def test_a_mappings_file_that_is_not_a_file_is_reported_not_taken_as_absent(
    kind: str, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, message = KINDS[kind]
    _tree(tmp_path)
    target = tmp_path / "mappings" / name
    target.unlink(missing_ok=True)
    make(target)
    case = Case(kind, ["standards", "mappings"], f"mappings/{name}", None, None, message)
    _expect_library(tmp_path, case, monkeypatch)
    _expect_cli(tmp_path, case, monkeypatch)


def test_a_named_pipe_given_as_a_path_does_not_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    case = Case("pipe-path", ["pipe.yaml"], "pipe.yaml", None, None, "is a named pipe, not a regular file")
    _expect_library(tmp_path, case, monkeypatch)
    _expect_cli(tmp_path, case, monkeypatch)


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "{pipe}", str(DATA / "framework-small.yaml")],
        ["export", "markdown", "{pipe}"],
        ["tracker", "status", "{pipe}"],
        ["export", "tracker", str(DATA / "framework-small.yaml"), "-o", "{out}", "--from", "{pipe}"],
    ],
    ids=["diff", "export-markdown", "tracker-status", "export-from"],
)
def test_a_named_pipe_given_to_any_reader_is_exit_2(tmp_path: Path, args: list[str]) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    out = tmp_path / "new.xlsx"
    result = CliRunner().invoke(app, [a.format(pipe=pipe, out=out) for a in args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    said = " ".join(result.output.split())
    assert f"error: {pipe}: is a named pipe, not a regular file" in said, said
    assert "hint:" in said
    assert not out.exists()


def test_a_dangling_overrides_file_does_not_drop_the_decisions_in_consolidate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import FakeEmbedder

    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())
    _tree(tmp_path)
    (tmp_path / "mappings" / "overrides.yaml").symlink_to(tmp_path / "shared-drive" / "overrides.yaml")
    out = tmp_path / "out"
    standards, mappings = tmp_path / "standards", tmp_path / "mappings"
    args = ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"{tmp_path / 'mappings' / 'overrides.yaml'}: is a symbolic link to " in said
    assert not (out / "framework.yaml").exists()
    assert not (tmp_path / "mappings" / "ids.lock.yaml").exists()  # no fresh lock either


def test_the_corpus_folder_is_untouched(tmp_path: Path) -> None:
    # The cases above build their trees in tmp_path; the shipped corpus must stay plain files only.
    for path in BAD.rglob("*"):
        assert not path.is_symlink() and (path.is_file() or path.is_dir()), path
    shutil.rmtree(tmp_path)
