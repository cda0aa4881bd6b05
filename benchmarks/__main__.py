"""Benchmarks: ``python -m benchmarks generate|import`` (see docs/benchmarks.md)."""

from benchmarks.cli import app
from dcatalog import assembly

assembly.assemble()  # what follows counted deeds, as in every dcatalog process
app()
