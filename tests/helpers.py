"""Small helpers shared by tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dcatalog.models import Base

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DCATALOG_")}


def run_cli(
    *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m dcatalog`` for real, as a user would, with only our settings."""
    return subprocess.run(
        [sys.executable, "-m", "dcatalog", *args],
        env={**_clean_environment(), "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def dump_all_rows(source: Engine | Session) -> str:
    """Every row of every application table as text: what a database dump would show
    (through a session: also what its open transaction wrote)."""
    if isinstance(source, Engine):
        with Session(source) as session:
            return dump_all_rows(session)
    lines = []
    for table in Base.metadata.sorted_tables:
        for row in source.execute(select(table)):
            lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines)


@contextmanager
def serving(env: Mapping[str, str], log_path: Path, *args: str) -> Iterator[str]:
    """``dcatalog serve`` in a real process until /readyz says ready; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dcatalog", "serve", "--port", str(port), *args],
            env={**_clean_environment(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # Generous: on a busy 2-core machine a cold start (imports, migrations) is slow.
            deadline = time.monotonic() + 120
            while not _ready(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(10)


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
