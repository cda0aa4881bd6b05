"""Background work runs as jobs (dcatalog.jobs), never on a thread a request or a
service starts for itself: such a thread dies with its process, leaves its work
half done and nobody sees it. This reads the package's source for every way of
starting one; the only threads are the workers' own and a read-ahead a job
step joins before it returns."""

from __future__ import annotations

import ast
from pathlib import Path

import dcatalog

PACKAGE = Path(dcatalog.__file__).parent
ALLOWED = {
    # The job system itself: huey's consumer threads and the workers' heartbeat.
    "jobs/queue.py": "the workers' heartbeat (and huey's consumer threads)",
    # Inside a job's step: reads the next chunk while this one is answered, joined
    # before the step returns (reports.service._read_ahead).
    "reports/service.py": "a read-ahead joined before its job step returns",
}
STARTERS = {
    "Thread",  # threading.Thread(...)
    "Timer",  # threading.Timer(...)
    "ThreadPoolExecutor",
    "ProcessPoolExecutor",
    "Process",  # multiprocessing
    "start_new_thread",  # _thread
    "create_task",  # asyncio: a task the request does not await
    "ensure_future",
}


# Starlette's tasks run after the answer, in the web process: named anywhere (a
# route's parameter, an import), they are refused.
NAMED = {"BackgroundTask", "BackgroundTasks"}


def _starts(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        named = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(node, ast.alias):
            named = node.name
        if named in NAMED:
            found.append((getattr(node, "lineno", 0), str(named)))
        if isinstance(node, ast.Call):
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            if name in STARTERS:
                found.append((node.lineno, name))
    return found


def test_nothing_outside_the_job_system_starts_a_thread_or_a_task() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if where in ALLOWED:
            continue
        for line, name in _starts(ast.parse(path.read_text("utf-8"))):
            offenders.append(f"{where}:{line}: {name}(…)")
    assert offenders == [], "background work belongs in a job kind (dcatalog.jobs):\n" + "\n".join(
        offenders
    )


def test_the_check_finds_a_thread() -> None:
    """The check above is only worth something if it sees one."""
    source = "import threading\nthreading.Thread(target=print).start()\n"
    assert _starts(ast.parse(source)) == [(2, "Thread")]
    route = "def page(tasks: BackgroundTasks) -> None:\n    tasks.add_task(print)\n"
    assert _starts(ast.parse(route)) == [(1, "BackgroundTasks")]


def test_the_allowed_places_still_exist() -> None:
    for where in ALLOWED:
        assert _starts(ast.parse((PACKAGE / where).read_text("utf-8"))), where
