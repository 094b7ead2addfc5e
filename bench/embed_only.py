"""The embedding step alone: load the model and embed texts, with no cache and no engine.

`python bench/embed_only.py TEXTS.json` reads a JSON list of embedding calls (each a list of texts, as
`consolidate` makes them on a cold cache), makes the same calls on the engine's embedder and prints
`{"texts": n, "load_s": ..., "encode_s": ...}` (load_s covers importing the model library and reading the
weights). `bench/run.py` times this script as a whole, in a fresh interpreter, and sets it beside
`qms consolidate` on a cold cache, so the engine's overhead above the model's own cost shows as a ratio.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    calls = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    start = time.perf_counter()
    from qms_standards.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder._load()  # split the model's load from its encoding in the figures
    loaded = time.perf_counter()
    texts = sum(len(embedder.encode(call)) for call in calls)
    done = time.perf_counter()
    figures = {"texts": texts, "load_s": round(loaded - start, 3), "encode_s": round(done - loaded, 3)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
