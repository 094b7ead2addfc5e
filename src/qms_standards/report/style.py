"""The report's look: one inline style sheet and the colour scales (light, readable under black text).

Compliance bands use a blue-orange scale that reads for red-green colour blindness; every coloured cell
also shows its figure, and the key names each band.
"""

from __future__ import annotations

BAND_COLOURS: dict[str, str] = {
    "no figure": "#eeeeee",
    "under 25%": "#f4a582",
    "25% to under 50%": "#fddbc7",
    "50% to under 75%": "#d1e5f0",
    "75% and over": "#92c5de",
}
LEVEL_COLOURS: dict[str, str] = {
    "met": "#67a9cf",
    "partly": "#d1e5f0",
    "not met": "#ef8a62",
    "not applicable": "#e0e0e0",
}


def band(value: float | None) -> str:
    """The key entry a compliance figure falls in."""
    if value is None:
        return "no figure"
    if value < 0.25:
        return "under 25%"
    if value < 0.5:
        return "25% to under 50%"
    return "50% to under 75%" if value < 0.75 else "75% and over"


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: #111; margin: 0;
  background: #fff; line-height: 1.35; }
header { background: #1f4e79; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 4px; font-size: 1.6em; }
.sub { margin: 0; }
main { padding: 8px 24px 32px; max-width: 1200px; }
section { margin: 24px 0; break-inside: avoid-page; }
h2 { border-bottom: 2px solid #1f4e79; padding-bottom: 2px; font-size: 1.25em; }
h3 { font-size: 1.05em; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #888; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.big { font-size: 1.8em; font-weight: bold; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.9em; }
th, td { border: 1px solid #999; padding: 3px 6px; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
td.num { text-align: right; white-space: nowrap; }
tr.total th, tr.total td, tr.set th { font-weight: bold; }
th.indent { padding-left: 22px; font-weight: normal; }
table.risk td { width: 110px; height: 64px; text-align: center; font-size: 1.3em; font-weight: bold; }
.small { font-size: 0.6em; font-weight: normal; }
.note { color: #333; font-size: 0.9em; }
ul.key { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 14px; font-size: 0.85em; }
svg text { font-size: 12px; font-family: inherit; fill: #111; }
svg[role=img] { max-width: 100%; height: auto; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  header { background: #fff; color: #000; border-bottom: 3px solid #000; }
  main { max-width: none; }
  section { page-break-inside: avoid; }
  table { page-break-inside: auto; }
  tr { page-break-inside: avoid; }
}
""".strip()
