"""The instance folder and the secrets generated into it.

On the embedded SQLite default a secret left unset is generated once into the
instance folder (mode 0600) and kept: a school or a demo needs no setup. On
PostgreSQL, where several machines serve one database, every process must be
given the same secret explicitly, so nothing is generated.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from dcatalog.config import Settings


class SecretUnavailable(RuntimeError):
    """A secret must be configured explicitly and is not."""


def instance_secret(settings: Settings, name: str, configured: SecretStr | None) -> bytes:
    """The configured secret, else (on SQLite) one generated once into the instance folder."""
    if configured is not None:
        return configured.get_secret_value().encode("utf-8")
    path = settings.instance_dir / name
    if path.exists():
        return _read(path)
    variable = f"DCATALOG_{name.upper()}"
    if not settings.is_sqlite:
        raise SecretUnavailable(
            f"{variable} must be set when the database is not the embedded SQLite: "
            "every app process must use the same value. Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` and keep it safe."
        )
    return _create(path)


def _read(path: Path) -> bytes:
    return base64.urlsafe_b64decode(path.read_text(encoding="ascii").strip())


def _create(path: Path) -> bytes:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = secrets.token_bytes(32)
    # Write a private temporary file, then link it into place: linking fails if
    # another process got there first, and nobody ever reads a half-written file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(base64.urlsafe_b64encode(value).decode("ascii") + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read(path)
    finally:
        tmp.unlink()
    return value
