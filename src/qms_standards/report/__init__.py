"""The trust's dashboard: one self-contained HTML file drawn from a set of returns (`report.html`)."""

from __future__ import annotations

from .html import render_report

__all__ = ["render_report"]
