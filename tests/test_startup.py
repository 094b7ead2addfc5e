"""Start-up cost: `qms --help` and `qms validate` import none of the engine's numerical libraries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

MINI_A = Path(__file__).resolve().parent / "data" / "mini-a.yaml"
# numpy, scipy and rapidfuzz took `qms --help` from 0.26 s to 0.51 s when `qms evaluate`'s module imported
# the engine at start-up (docs/performance.md); torch and openpyxl cost more still.
HEAVY = ("numpy", "scipy", "rapidfuzz", "torch", "sentence_transformers", "openpyxl")


@pytest.mark.parametrize("args", [["--help"], ["validate", str(MINI_A)]], ids=["help", "validate"])
def test_start_up_imports_no_engine_library(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from qms_standards.cli import app\n"
        f"result = CliRunner().invoke(app, {args!r})\n"
        "assert result.exit_code == 0, result.output\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules) or 'clean')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "clean"
