"""Shared fixtures: a deterministic fake embedder, an isolated cache, golden-file regeneration."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
STANDARDS = ROOT / "standards"
MAPPINGS = ROOT / "mappings"
DATA = Path(__file__).resolve().parent / "data"
GOLDEN = Path(__file__).resolve().parent / "golden"
SHARED_EVAL = ROOT.parent / "shared" / "eval"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true", help="Rewrite tests/golden/ from current output.")


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden"))


def check_golden(name: str, actual: bytes | str, regen: bool) -> None:
    """Compare output with tests/golden/NAME, or rewrite it under --regen-golden."""
    path = GOLDEN / name
    data = actual.encode("utf-8") if isinstance(actual, str) else actual
    if regen or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if not regen:
            pytest.fail(f"golden file {name} did not exist; written now, review it and re-run")
    expected = path.read_bytes()
    if isinstance(actual, str):
        assert actual == expected.decode("utf-8")
    else:
        assert data == expected, f"{name} differs from the golden file (pytest --regen-golden to update)"


class FakeEmbedder:
    """Deterministic bag-of-words embedder: each word stem maps to a fixed random vector.

    Texts sharing words get a high cosine, so clustering behaves sensibly without loading a model.
    """

    name = "fake-bag-of-words"
    dimension = 64

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]{3,}", text.lower()):
                seed = int.from_bytes(hashlib.sha256(word[:6].encode()).digest()[:4], "little")
                out[i] += np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            norm = float(np.linalg.norm(out[i]))
            out[i] = out[i] / norm if norm else out[i]
        if progress is not None:
            progress(len(texts), len(texts))
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the embedding cache at a temp folder so tests never touch the user's cache."""
    monkeypatch.setenv("QMS_CACHE_DIR", str(tmp_path_factory.mktemp("qms-cache")))
