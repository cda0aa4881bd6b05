"""``dcatalog`` commands run as processes of their own, forked from a process that
has already imported the package.

Starting Python and importing D-Catalog takes a few seconds on a small machine,
and the suite runs the command line well over a hundred times. A multiprocessing
fork server imports ``dcatalog.cli`` once per test worker; each command is then a
fork of it with its own environment (only the settings the test gives), working
folder, stdin, stdout, stderr and exit code, as ``python -m dcatalog`` has. Only
the import is shared, and importing reads no setting (settings are read when a
command runs). A server with one worker is forked the same way
(``tests.helpers.server``). What starts Python afresh: ``serve --workers N`` (its
metrics library reads the multiprocess folder when imported), ``worker``, and a
test of the entry point itself (``run_cli(..., new_process=True)``).

This module imports only the standard library: the fork server loads it before
the package, and a child must not inherit the test suite's imports.
"""

from __future__ import annotations

import os
import sys


def run(
    args: list[str], env: dict[str, str], cwd: str, out: str, err: str, append: bool = False
) -> None:
    """The body of a forked command (the child's exit code is the command's); its
    stdout and stderr go to the files ``out`` and ``err`` (may be one file)."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    os.close(stdin)
    mode = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    file = os.open(out, mode, 0o600)
    os.dup2(file, 1)
    if err != out:
        os.close(file)
        file = os.open(err, mode, 0o600)
    os.dup2(file, 2)
    os.close(file)
    sys.argv = ["dcatalog", *args]
    import atexit
    import logging
    import traceback

    from dcatalog.config import get_settings
    from dcatalog.console import err as error_console
    from dcatalog.console import out as output_console

    get_settings.cache_clear()  # nothing read them before the fork; be sure
    for console in (output_console, error_console):
        # Rich measured the fork server's terminal; a command's sees COLUMNS.
        console.width = int(env.get("COLUMNS", "80"))
    code = 0
    try:
        from dcatalog.cli import main

        main()
    except SystemExit as exit_:
        if isinstance(exit_.code, int) or exit_.code is None:
            code = exit_.code or 0
        else:  # as Python prints a sys.exit("message")
            print(exit_.code, file=sys.stderr)
            code = 1
    except BaseException:  # as the interpreter would: a traceback, exit 1
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()  # what a process that ends normally runs
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
