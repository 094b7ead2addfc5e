"""Standard sets in from where they already live: spreadsheets, CISO Assistant libraries, OSCAL catalogs.

Each reader returns a validated `StandardSet` or raises one error listing every located problem;
`common.render_set` writes it as a standard set file.
"""

from .ciso_assistant import import_ciso_assistant
from .common import ImportError_, render_set
from .oscal import import_oscal
from .spreadsheet import import_spreadsheet

__all__ = ["ImportError_", "import_ciso_assistant", "import_oscal", "import_spreadsheet", "render_set"]
