"""Small helpers shared by tests."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Protocol

import httpx2 as httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dcatalog.models import Base
from tests import forked_cli

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DCATALOG_")}


# Commands whose own process is what a test looks at (the server, the worker, their
# signals and metrics folders): always a new interpreter.
_NEW_PROCESS = frozenset({"serve", "worker"})


def run_cli(
    *args: str, env: Mapping[str, str], timeout: float = 120, new_process: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run a ``dcatalog`` command for real, as a user would, with only our settings:
    a process of its own with its own exit code and output. It is forked from a
    process that imported the package once (``tests.forked_cli``), unless
    ``new_process`` or the command is a server: then ``python -m dcatalog``."""
    environment = {**_clean_environment(), "COLUMNS": "200", **env}
    command = [sys.executable, "-m", "dcatalog", *args]
    if new_process or (args and args[0] in _NEW_PROCESS):
        return subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=timeout, check=False
        )
    with tempfile.TemporaryDirectory(prefix="dcatalog-cli-") as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        child = _fork_server().Process(
            target=forked_cli.run, args=(list(args), environment, os.getcwd(), str(out), str(err))
        )
        child.start()
        child.join(timeout)
        if child.exitcode is None:
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired(command, timeout, _read(out), _read(err))
        return subprocess.CompletedProcess(command, child.exitcode, _read(out), _read(err))


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace") if path.exists() else ""


@cache
def _fork_server() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.forked_cli", "dcatalog.cli"])
    return context


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


# How long a test server may take to start. No fixed deadline is right on every
# machine: a cold start (imports, migrations, demo data) on a busy 2-core machine
# is many times slower than on a quiet one. The bound only stops a server that
# will never come up; raise it with DCATALOG_TEST_START_SECONDS.
START_SECONDS = float(os.environ.get("DCATALOG_TEST_START_SECONDS", "600"))


def wait_until_ready(
    ready: Callable[[], bool], *, what: str, alive: Callable[[], bool], log: Callable[[], str]
) -> None:
    """Poll ``ready`` until it says yes; fail at once if the server died, or after
    START_SECONDS, saying which server, how long it was given and what it logged."""
    started = time.monotonic()
    while not ready():
        waited = time.monotonic() - started
        if not alive():
            raise RuntimeError(f"{what} stopped before it was ready:\n{log()}")
        if waited > START_SECONDS:
            raise RuntimeError(
                f"{what} was not ready after {waited:.0f} s (DCATALOG_TEST_START_SECONDS="
                f"{START_SECONDS:.0f}); is the machine very busy?\n{log()}"
            )
        time.sleep(0.1)


@contextmanager
def serving(env: Mapping[str, str], log_path: Path, *args: str) -> Iterator[str]:
    """``dcatalog serve`` in a real process until /readyz says ready; yields its base URL."""
    with server(env, log_path, *args) as (base, _process):
        yield base


@contextmanager
def server(
    env: Mapping[str, str], log_path: Path, *args: str, port: int | None = None
) -> Iterator[tuple[str, ServerProcess]]:
    """``serving``, with the process (a test that kills it)."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    command = ["serve", "--port", str(port), *args]
    environment = {**_clean_environment(), **env}
    if any(arg.startswith("--workers") for arg in args):  # see tests.forked_cli
        with log_path.open("a") as log:
            process: ServerProcess = subprocess.Popen(
                [sys.executable, "-m", "dcatalog", *command],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    else:
        process = Forked(command, environment, log_path)
    try:
        wait_until_ready(
            lambda: _ready(base),
            what=f"dcatalog serve on port {port}",
            alive=lambda: process.poll() is None,
            log=log_path.read_text,
        )
        yield base, process
    finally:
        process.terminate()
        process.wait(10)


class ServerProcess(Protocol):
    """What a test does with a server's process: a ``Popen`` or a ``Forked``."""

    pid: int

    def poll(self) -> int | None: ...
    def send_signal(self, sig: int) -> None: ...
    def terminate(self) -> None: ...
    def wait(self, timeout: float | None = None) -> int: ...


class Forked:
    """A ``dcatalog`` command forked from the fork server (``tests.forked_cli``),
    running on beside the test, its stdout and stderr appended to ``log_path``;
    used as a ``subprocess.Popen`` is."""

    def __init__(self, args: list[str], env: Mapping[str, str], log_path: Path) -> None:
        log = str(log_path)
        self._child = _fork_server().Process(
            target=forked_cli.run, args=(args, dict(env), os.getcwd(), log, log, True)
        )
        self._child.start()
        assert self._child.pid is not None
        self.pid: int = self._child.pid

    def poll(self) -> int | None:
        return self._child.exitcode

    def send_signal(self, sig: int) -> None:
        if self._child.exitcode is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def wait(self, timeout: float | None = None) -> int:
        self._child.join(timeout)
        if self._child.exitcode is None:
            raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
        return self._child.exitcode


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
