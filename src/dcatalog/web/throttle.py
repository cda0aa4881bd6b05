"""Throttling: how many attempts of one kind a client (or an account) may make in a while.

One ``Limiter`` per application (``app.state.limiter``), so every app, and every test's
app, starts with fresh counts. Counts live where ``DCATALOG_RATE_LIMIT_STORAGE`` says:
in the process's memory (embedded default) or in a Redis that every process shares.
The strategy is the moving window of the ``limits`` library: an attempt counts for
exactly the window's length after it was made, so there is no boundary at which a
guesser gets a fresh allowance.

Two ways of counting:
- guesses (passwords, API keys, claim codes) count only when they fail, and are
  checked *before* the guess is looked at: past the limit the answer is 429 whether
  the guess is right or wrong, so a throttled guesser learns nothing more;
- other attempts (sign-in starts, consent changes, credential checks) count every time.

A client is ``request.client.host``: behind a reverse proxy uvicorn takes it from
``X-Forwarded-For`` only when the proxy is named in ``--forwarded-allow-ips``
(``FORWARDED_ALLOW_IPS``), so a client can't pick its own address.

Every refusal is the ``too-many-attempts`` problem with ``Retry-After`` (seconds) and
the ``RateLimit-Policy`` and ``RateLimit`` fields of the IETF draft
draft-ietf-httpapi-ratelimit-headers (revisions 08 to 12: a quoted policy name with
``q`` quota and ``w`` window in seconds; ``r`` remaining and ``t`` seconds until it
frees up), not the older ``RateLimit-Limit``/``-Remaining``/``-Reset`` triple.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from dcatalog.config import Settings
from dcatalog.problems import TooManyAttempts
from dcatalog.web.i18n import gettext as _

# The name of each limit is its setting (``rate_limit_<name>``) and, with dashes, its
# policy name in the RateLimit fields.
LIMIT_NAMES = (
    "sign_in_account_client",
    "sign_in_client",
    "sign_in_account",
    "api_key_failures",
    "claim_codes",
    "citizen_sign_in",
    "consent",
    "verify",
)
KEY_PREFIX = "dcatalog"  # keys in a shared Redis: dcatalog:LIMITER/<limit>/<key…>/<rate>


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    rate: RateLimitItem

    @property
    def policy(self) -> str:
        return f'"{self.name.replace("_", "-")}";q={self.rate.amount};w={self.rate.get_expiry()}'


@dataclass(frozen=True, slots=True)
class Counter:
    limit: Limit
    key: tuple[str, ...]


class Limiter:
    """The counters of one application."""

    def __init__(self, settings: Settings) -> None:
        self.storage = storage_from_string(settings.rate_limit_storage, key_prefix=KEY_PREFIX)
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.limits = {
            name: Limit(name, parse(getattr(settings, f"rate_limit_{name}")))
            for name in LIMIT_NAMES
        }

    def attempts(self, *counters: tuple[str, tuple[str, ...]]) -> Attempts:
        return Attempts(self, [Counter(self.limits[name], key) for name, key in counters])

    def sign_in(self, email: str, client: str) -> Attempts:
        """Staff sign-in failures. Keyed by the e-mail as typed (normalised), never by
        whether an account has it, so unknown and known addresses are throttled alike.
        Per (e-mail, client) rather than per e-mail alone: one client's failures pause
        that client, not the account's owner elsewhere."""
        account = _digest(email.strip().lower())  # no e-mail address in clear in Redis
        return self.attempts(
            ("sign_in_account_client", (account, client)),
            ("sign_in_client", (client,)),
            ("sign_in_account", (account,)),
        )

    def api_key(self, client: str) -> Attempts:
        return self.attempts(("api_key_failures", (client,)))

    def claim_codes(self, client: str, actor_label: str) -> Attempts:
        """Per client, and per staff account or API key (``Actor.label``), so a guesser
        can't spread its guesses over many addresses with one key."""
        return self.attempts(
            ("claim_codes", ("client", client)), ("claim_codes", ("by", _digest(actor_label)))
        )

    def per_client(self, name: str, client: str) -> Attempts:
        return self.attempts((name, (client,)))


class Attempts:
    """The counters one attempt is counted against."""

    def __init__(self, limiter: Limiter, counters: list[Counter]) -> None:
        self.limiter = limiter
        self.counters = counters
        self.localised = False  # say the refusal in the page's language (else English)

    def check(self) -> None:
        """Refuse (429) when any counter is spent; counts nothing."""
        strategy = self.limiter.strategy
        spent = [c for c in self.counters if not strategy.test(c.limit.rate, *_ids(c))]
        if spent:
            raise self._refusal(spent)

    def failed(self) -> None:
        """Count a failed guess against every counter."""
        for counter in self.counters:
            self.limiter.strategy.hit(counter.limit.rate, *_ids(counter))

    def succeeded(self, name: str) -> None:
        """Forget the failures of the counter ``name`` (the person got it right)."""
        for counter in self.counters:
            if counter.limit.name == name:
                self.limiter.strategy.clear(counter.limit.rate, *_ids(counter))

    def hit(self) -> None:
        """Count this attempt; refuse (429) when it is one too many."""
        strategy = self.limiter.strategy
        spent = [c for c in self.counters if not strategy.hit(c.limit.rate, *_ids(c))]
        if spent:
            raise self._refusal(spent)

    def _refusal(self, spent: list[Counter]) -> TooManyAttempts:
        now = time.time()
        waits = []
        for counter in spent:
            stats = self.limiter.strategy.get_window_stats(counter.limit.rate, *_ids(counter))
            waits.append((max(1, math.ceil(stats.reset_time - now)), counter))
        wait, longest = max(waits, key=lambda pair: pair[0])
        name = longest.limit.name.replace("_", "-")
        headers = {
            "Retry-After": str(wait),
            "RateLimit-Policy": longest.limit.policy,
            "RateLimit": f'"{name}";r=0;t={wait}',
        }
        minutes = {"minutes": max(1, math.ceil(wait / 60))}
        if self.localised:
            message = _(
                "Too many attempts in a short time. Please try again in %(minutes)s minutes."
            )
        else:
            message = "Too many attempts in a short time. Please try again in %(minutes)s minutes."
        return TooManyAttempts(message % minutes, headers=headers)


def _ids(counter: Counter) -> tuple[str, ...]:
    return (counter.limit.name, *counter.key)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --- what routes use ------------------------------------------------------------------


def limiter_of(request: Request) -> Limiter:
    limiter: Limiter = request.app.state.limiter
    return limiter


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _for(request: Request, attempts: Attempts) -> Attempts:
    # A page says it in the page's language; the API in English, as its other details.
    # (Imported here: errors → templating → access, which uses this module.)
    from dcatalog.web.errors import wants_problem_json

    attempts.localised = not wants_problem_json(request)
    return attempts


def sign_in_attempts(request: Request, email: str) -> Attempts:
    return _for(request, limiter_of(request).sign_in(email, client_address(request)))


def api_key_attempts(request: Request) -> Attempts:
    return _for(request, limiter_of(request).api_key(client_address(request)))


def claim_code_attempts(request: Request, actor_label: str) -> Attempts:
    return _for(request, limiter_of(request).claim_codes(client_address(request), actor_label))


def per_client(name: str) -> Any:
    """A route dependency: count every call from this client against the limit ``name``."""
    if name not in LIMIT_NAMES:
        raise ValueError(f"no limit named {name!r}")

    def throttle(request: Request) -> None:
        limiter = limiter_of(request)
        _for(request, limiter.per_client(name, client_address(request))).hit()

    throttle.__name__ = f"throttle_{name}"
    return Depends(throttle)
