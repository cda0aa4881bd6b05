"""Benchmarks: ``python -m benchmarks generate|import`` (see docs/benchmarks.md)."""

from benchmarks.cli import app

app()
