"""Small helpers shared by tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import Engine, select

from dcatalog.models import Base

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(
    *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m dcatalog`` for real, as a user would, with only our settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DCATALOG_")}
    return subprocess.run(
        [sys.executable, "-m", "dcatalog", *args],
        env={**clean, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def dump_all_rows(engine: Engine) -> str:
    """Every row of every application table as text: what a database dump would show."""
    lines = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines)
