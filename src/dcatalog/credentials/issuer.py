"""The issuer as a request sees it (its key, loaded once and again when the key
file changes), and checking a credential against this service's own keys and
status lists. Pages, the API and award pages share these."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from dcatalog.config import Settings
from dcatalog.credentials import keystore
from dcatalog.credentials import service as credentials
from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.keystore import Issuer
from dcatalog.credentials.limits import Limits
from dcatalog.credentials.verification import (
    Check,
    StatusAnswer,
    check_credential,
    published_key_resolver,
    status_entry_position,
)
from dcatalog.instance import SecretUnavailable
from dcatalog.logs import get_logger
from dcatalog.web.links import public_base_url

log = get_logger(__name__)


def issuer_for(request: Request) -> Issuer:
    """The issuer as this request sees it. The private key is loaded once per app
    and again when its key file changes (``dcatalog credentials rotate-key`` on
    the embedded default takes effect without a restart); a process without a
    key (PostgreSQL, no ``DCATALOG_ISSUER_KEY``) still verifies, but cannot sign."""
    settings = request.app.state.settings
    state = request.app.state
    version = _key_file_version(settings)
    if getattr(state, "issuer_key_version", None) != version or not hasattr(
        state, "issuer_private_key"
    ):
        try:
            state.issuer_private_key = keystore.load_private_key(settings)
        except (SecretUnavailable, CredentialError) as exc:
            log.warning("credentials cannot be signed", reason=str(exc))
            state.issuer_private_key = None
        state.issuer_key_version = version
    return Issuer(
        base_url=public_base_url(request),
        name=settings.issuer_name,
        private_key=state.issuer_private_key,
    )


def _key_file_version(settings: Any) -> int | None:
    """The key file's modification time (None when the key is a setting)."""
    if settings.issuer_key is not None:
        return None
    try:
        version: int = (settings.instance_dir / keystore.KEY_FILE).stat().st_mtime_ns
    except OSError:
        return None
    return version


def check_stored_or_submitted(session: Session, document: Any, settings: Settings) -> Check:
    """Check a credential against this service's published keys and its own
    status lists (read from the database: no request to ourselves). A status
    entry that is not one of ours, or that no credential of ours holds, is
    "status unknown", never "not revoked"."""
    resolver = published_key_resolver([k.public_key for k in keystore.published_keys(session)])

    def status(entry: Any, issuer_id: str | None) -> StatusAnswer:
        position = status_entry_position(entry)
        if position is None:
            return StatusAnswer.unknown("its status entry does not point at one of our lists")
        revoked = credentials.is_revoked(session, *position)
        if revoked is None:
            return StatusAnswer.unknown("no credential of ours holds that status entry")
        if revoked:
            return StatusAnswer("revoked", "the issuer has revoked it")
        return StatusAnswer("ok", "not revoked")

    return check_credential(document, resolver, status, limits=Limits.from_settings(settings))
