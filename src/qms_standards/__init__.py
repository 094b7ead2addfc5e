"""qms-standards: consolidate overlapping healthcare quality standards into one risk-weighted framework."""

from .errors import QmsError
from .load import load_catalogue, load_framework, load_mappings, load_standard_sets
from .models import Framework, Mappings, Requirement, Settings, Standard, StandardSet

__version__ = "0.1.0"

__all__ = [
    "Framework",
    "Mappings",
    "QmsError",
    "Requirement",
    "Settings",
    "Standard",
    "StandardSet",
    "__version__",
    "load_catalogue",
    "load_framework",
    "load_mappings",
    "load_standard_sets",
]
