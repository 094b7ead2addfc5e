"""Standard sets in from where they already live: spreadsheets, CISO Assistant libraries, OSCAL catalogs.

Each reader returns a validated `StandardSet` or raises one error listing every located problem;
`common.render_set` writes it as a standard set file. The readers load on first use, so commands that
read no workbook (`qms --help`, `qms diff`) never import openpyxl.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "import_ciso_assistant": ".ciso_assistant",
    "ImportSourceError": ".common",
    "render_set": ".common",
    "import_oscal": ".oscal",
    "import_spreadsheet": ".spreadsheet",
}

__all__ = ["ImportSourceError", "import_ciso_assistant", "import_oscal", "import_spreadsheet", "render_set"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
