"""How every ``dcatalog`` command speaks to the person at the terminal: results
on stdout, one-line errors on stderr (exit 1; 2 for bad configuration)."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class CommandError(Exception):
    """A failure the user can act on: printed as one line, exit code 1."""


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)
