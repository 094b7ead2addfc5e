"""Exporters: the framework as a Markdown document and as a tracker workbook.

`render_markdown(framework) -> str` lives in `export.markdown` and `render_tracker(framework, ...) -> bytes`
in `export.excel`. Both are pure; the CLI writes their output with `files.write_atomic`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_markdown", "render_tracker"]


def __getattr__(name: str) -> Any:
    # Imported lazily (PEP 562): `tracker` imports `export.layout`, and `export.excel` imports `tracker`,
    # so importing `excel` here eagerly would make `import qms_standards.tracker` circular.
    if name == "render_markdown":
        from .markdown import render_markdown

        return render_markdown
    if name == "render_tracker":
        from .excel import render_tracker

        return render_tracker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
