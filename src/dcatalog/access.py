"""Who may call a route. Every route states it: ``public``, ``signed_in`` or
``require(scope)``. A test walks every route of the application and fails when
one states nothing, so a new route can't be open by accident.

The caller is found once per request: an ``Authorization: Bearer`` API key, or
the staff sign-in cookie. API keys act only on the API; cookies only on pages
(and their forms carry a CSRF token).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.db import Database
from dcatalog.identity import sessions as citizen_sessions
from dcatalog.identity.sessions import CITIZEN_COOKIE, CitizenPrincipal
from dcatalog.problems import CitizenSignInNeeded, Unauthorized, missing_permission
from dcatalog.web import templating, throttle

Rule = TypeVar("Rule", bound=Callable[..., Any])
SESSION_COOKIE = "dcatalog_session"


def access_rule(function: Rule) -> Rule:
    """Mark a dependency as an access rule (what the route guard test looks for)."""
    function.__dcatalog_access_rule__ = True  # type: ignore[attr-defined]
    return function


def is_access_rule(function: object) -> bool:
    return bool(getattr(function, "__dcatalog_access_rule__", False))


def current_actor(request: Request) -> Actor | None:
    """The caller, or None for an anonymous one (cached on the request)."""
    if hasattr(request.state, "actor"):
        cached: Actor | None = request.state.actor
        return cached
    actor = _resolve(request)
    request.state.actor = actor
    return actor


def _resolve(request: Request) -> Actor | None:
    database: Database = request.app.state.database
    if request.url.path.startswith("/api/"):
        return _api_key_actor(request, database)
    # Pages know only the sign-in cookie; their forms carry a CSRF token.
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with database.session() as session:
            account = accounts.account_for_session(session, token)
            return accounts.actor_for(account) if account else None
    return None


def _api_key_actor(request: Request, database: Database) -> Actor | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials:
        return None
    # A client that sent too many bad keys is refused before its key is looked at,
    # so guessing on past the limit tells it nothing, right key or wrong.
    attempts = throttle.api_key_attempts(request)
    attempts.check()
    # Kept for a few seconds per worker (see dcatalog.snapshots), under a digest of
    # the key, never the key itself; a revocation in this worker applies at once.
    digest = hashlib.sha256(credentials.encode()).digest()
    actor = database.snapshots.get(
        ("api_key", digest), lambda: _authenticate(database, credentials)
    )
    if actor is None:
        attempts.failed()
        raise Unauthorized(
            "The API key is not valid (unknown, revoked, or its agency is suspended).",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return actor


def _authenticate(database: Database, credentials: str) -> Actor | None:
    with database.session() as session:
        key = accounts.authenticate_api_key(session, credentials)
        if key is None:
            return None
        actor = Actor.api_key(key.prefix, key.agency_id, frozenset(Scope(s) for s in key.scopes))
        stale = accounts.key_use_is_stale(key)
    if stale:
        with database.write_session() as session:
            accounts.note_key_use(session, key.id)
    return actor


def _signed_in(request: Request) -> Actor:
    actor = current_actor(request)
    if actor is None:
        raise Unauthorized(
            "Sign in, or send an API key as `Authorization: Bearer <key>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return actor


@access_rule
def _anyone() -> None:
    """Open to everyone, signed in or not."""


@access_rule
def _any_staff(request: Request) -> Actor:
    return _signed_in(request)


def require(scope: Scope, *alternatives: Scope) -> Any:
    """A dependency that lets through only callers holding ``scope`` (or one of the
    alternatives)."""
    accepted = frozenset((scope, *alternatives))

    @access_rule
    def rule(request: Request) -> Actor:
        actor = _signed_in(request)
        if not any(actor.can(s) for s in accepted):
            raise missing_permission(*(s.value for s in accepted))
        return actor

    rule.__name__ = "require_" + "_or_".join(sorted(s.value.replace(":", "_") for s in accepted))
    rule.__dcatalog_scopes__ = accepted  # type: ignore[attr-defined]
    return Depends(rule)


def current_citizen(request: Request) -> CitizenPrincipal | None:
    """The citizen signed in on this browser (pages only: the API knows agencies)."""
    if hasattr(request.state, "citizen"):
        cached: CitizenPrincipal | None = request.state.citizen
        return cached
    found = None
    token = request.cookies.get(CITIZEN_COOKIE)
    if token and not request.url.path.startswith("/api/"):
        with request.app.state.database.session() as session:
            found = citizen_sessions.principal_for(session, token)
    request.state.citizen = found
    return found


@access_rule
def _citizen(request: Request) -> CitizenPrincipal:
    """A citizen's own pages: only the citizen's sign-in cookie opens them."""
    found = current_citizen(request)
    if found is None:
        raise CitizenSignInNeeded("Sign in to see your good deeds.")
    return found


@access_rule
def _staff_or_citizen(request: Request) -> Actor:
    """Public proposals: a staff member, or a citizen signed in with their own cookie."""
    actor = current_actor(request)
    if actor is not None:
        return actor
    found = current_citizen(request)
    if found is None:
        raise CitizenSignInNeeded("Sign in to propose, support or comment.")
    return Actor.citizen(found.label)


public: Any = Depends(_anyone)
citizen: Any = Depends(_citizen)
CurrentCitizen = Annotated[CitizenPrincipal, citizen]
signed_in: Any = Depends(_any_staff)
CurrentActor = Annotated[Actor, signed_in]
StaffOrCitizen = Annotated[Actor, Depends(_staff_or_citizen)]
MaybeActor = Annotated[Actor | None, Depends(current_actor)]


def _page_context(request: Request) -> dict[str, Any]:
    """Who is signed in, for every page's header."""
    return {"actor": current_actor(request), "signed_in": current_citizen(request)}


templating.add_context_processor("access", _page_context)
