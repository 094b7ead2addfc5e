"""`python -m qms_standards`."""

from .cli import main

main()
