"""Help in plain words: option values shown as FILE, FOLDER, NUMBER or YYYY-MM-DD, not Python types.

typer 0.29 labels every option with its Python type (`<bool>`, `<list[Path]>`, `<%Y-%m-%d>`,
`<float range> [0.0<=x<=1.0]`), which means nothing to a quality lead, and it has no setting to turn
that off. `install()` replaces the label typer computes with a plain one; an option given a `metavar`
keeps it. On a typer without these hooks (older releases print click's own labels) it does nothing.
"""

from __future__ import annotations

import re
from typing import Any

# typer's label, without its angle brackets -> the plain label. A flag shows no label at all.
_PLAIN = {
    "bool": None,
    "path": "PATH",
    "list[Path]": "PATH ...",
    "str": "TEXT",
    "list[str]": "TEXT ...",
    "int": "N",
    "int range": "N",
    "float": "NUMBER",
    "%Y-%m-%d": "YYYY-MM-DD",
}


def plain_label(typer_label: str | None, param: Any) -> str | None:
    """The plain label for a parameter whose typer label is `typer_label` (such as `<float range>`)."""
    if typer_label is None:
        return None
    inner = typer_label[1:-1] if typer_label.startswith("<") and typer_label.endswith(">") else typer_label
    if inner == "float range":
        low, high = getattr(param, "min", None), getattr(param, "max", None)
        return f"{_number(low)}-{_number(high)}" if low is not None and high is not None else "NUMBER"
    if inner in ("path", "list[Path]"):
        return _path_label(str(getattr(param, "help", "") or "")) + (" ..." if inner != "path" else "")
    if inner in _PLAIN:
        return _PLAIN[inner]
    if re.fullmatch(r"[\w-]+(\|[\w-]+)+", inner):
        return inner  # a choice: its values are the plainest label there is
    return inner.upper()


def _path_label(help_text: str) -> str:
    """FOLDER or FILE as the option's help describes it; PATH when it takes either."""
    if help_text.startswith("Folder"):
        return "FOLDER"
    return "PATH" if "folder" in help_text.lower() else "FILE"


def _number(value: float) -> str:
    return f"{value:g}"


def install() -> None:
    """Give typer's options and arguments plain labels in `--help` (idempotent)."""
    from typer import core

    for cls in (core.TyperOption, core.TyperArgument):
        original = getattr(cls, "display_type_rich", None)
        if original is None or getattr(original, "_qms_plain", False):
            continue

        def display_type_rich(self: Any, ctx: Any, _original: Any = original) -> str | None:
            if isinstance(self, core.TyperOption) and self.metavar is not None:
                return str(self.metavar)
            if getattr(self, "is_flag", False) or getattr(self, "count", False):
                return None
            label = plain_label(_original(self, ctx), self)
            return label

        display_type_rich._qms_plain = True  # type: ignore[attr-defined]
        cls.display_type_rich = display_type_rich  # type: ignore[method-assign]
        if hasattr(cls, "_get_number_range_help_str"):
            # The range is in the label (0-1) or in the option's own help ("1 or more"): not twice.
            cls._get_number_range_help_str = lambda self: None  # type: ignore[method-assign]
