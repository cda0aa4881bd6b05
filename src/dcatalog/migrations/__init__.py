"""Alembic migrations, shipped inside the package so that `dcatalog migrate`
works wherever dcatalog is installed."""
