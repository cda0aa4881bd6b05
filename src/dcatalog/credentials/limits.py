"""Bounds on the work one credential may cost the verifier.

Anyone may send a credential to ``POST /api/v1/credentials/verify`` or the
/verify page, so its shape is hostile until measured: JSON nested a few hundred
levels deep overflows the recursive JSON-LD processor and JSON Schema validator
(a RecursionError, once a 500), and a graph of look-alike blank nodes makes RDF
canonicalisation exponential. The walk here is iterative and runs first, before
anything recursive touches the document; canonicalisation has its own work
bound (``rdf_canonicalization``). Every bound is a setting (``config.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dcatalog.credentials.errors import CredentialError


class TooComplex(CredentialError):
    """A document beyond one of the bounds: answered, never processed."""


class _LimitSettings(Protocol):
    credential_max_depth: int
    credential_max_nodes: int
    credential_max_blank_nodes: int
    credential_canonicalization_work: int
    credential_fetch_timeout_seconds: float
    credential_fetch_max_bytes: int
    credential_fetch_allow_private: bool
    credential_fetch_ca_file: Path | None


@dataclass(frozen=True)
class Limits:
    """The defaults are the settings' defaults (see ``config.Settings``)."""

    max_depth: int = 32
    max_nodes: int = 20_000
    max_blank_nodes: int = 500
    canonicalization_work: int = 10_000
    fetch_timeout_seconds: float = 5.0
    fetch_max_bytes: int = 1_048_576
    fetch_allow_private: bool = False  # tests and labs only (fetching.py)
    fetch_ca_file: str | None = None  # an extra CA to trust for fetches

    @classmethod
    def from_settings(cls, settings: _LimitSettings) -> Limits:
        return cls(
            max_depth=settings.credential_max_depth,
            max_nodes=settings.credential_max_nodes,
            max_blank_nodes=settings.credential_max_blank_nodes,
            canonicalization_work=settings.credential_canonicalization_work,
            fetch_timeout_seconds=settings.credential_fetch_timeout_seconds,
            fetch_max_bytes=settings.credential_fetch_max_bytes,
            fetch_allow_private=settings.credential_fetch_allow_private,
            fetch_ca_file=(
                str(settings.credential_fetch_ca_file)
                if settings.credential_fetch_ca_file
                else None
            ),
        )


DEFAULT_LIMITS = Limits()


def check_shape(document: Any, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise ``TooComplex`` when ``document`` (parsed JSON) is nested deeper than
    ``limits.max_depth`` or holds more than ``limits.max_nodes`` values. Iterative,
    so it cannot overflow the stack itself."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise TooComplex(f"too large: more than {limits.max_nodes} JSON values")
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= limits.max_depth and children:
            raise TooComplex(f"too deeply nested: more than {limits.max_depth} levels")
        stack.extend((child, depth + 1) for child in children)
