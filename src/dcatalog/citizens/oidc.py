"""OpenID Connect sign-in of citizens (ThaiD, or any OpenID Connect provider), with Authlib.

The authorization code flow with PKCE (S256), ``state`` and ``nonce``. What has to
survive between the redirect to the provider and its callback (state, nonce, the
PKCE verifier, where to go afterwards) travels in a short-lived, signed, HttpOnly
cookie, so any worker can finish a sign-in that another one started. The ID
token's signature is checked against the provider's JWKS (found by discovery),
then its issuer, audience, times and nonce (Authlib's ``CodeIDToken`` rules).

The national ID claim is handed to the caller, which keys it at once; it is never
logged, and no error message repeats it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import httpx2
from authlib.common.security import generate_token, is_secure_transport
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.config import Settings
from dcatalog.identity.national_id import InvalidNationalId, normalise
from dcatalog.logs import get_logger

log = get_logger(__name__)

FLOW_COOKIE = "dcatalog_oidc"
FLOW_COOKIE_PATH = "/me/sign-in/callback"
FLOW_SECONDS = 600  # the time a person has to finish signing in at the provider
METADATA_SECONDS = 3600  # discovery and keys are fetched again after this
HTTP_TIMEOUT = 10.0
LEEWAY_SECONDS = 120  # clock difference tolerated on the ID token's times
# Asymmetric signatures only: "none" proves nothing, and an HMAC would be keyed
# with the client secret, not with the provider's published keys.
_REFUSED_ALGORITHMS = {"none", "HS256", "HS384", "HS512"}

Reason = Literal[
    "not_configured",  # no issuer set
    "unreachable",  # the provider did not answer
    "misconfigured",  # the provider's discovery document is not usable
    "denied",  # the person cancelled or refused at the provider
    "provider_error",  # the provider answered with an error
    "expired",  # no (valid) flow cookie: too slow, another browser, or tampered
    "bad_state",  # the state in the callback is not the one we sent
    "invalid_token",  # the ID token failed a check (signature, issuer, audience, nonce, time)
    "no_id",  # the ID token has no national ID claim
    "invalid_id",  # the claim is not a valid Thai national ID
]


class SignInFailed(Exception):
    """Sign-in did not complete. ``reason`` is safe to log and to show."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        self.reason: Reason = reason
        self.detail = detail  # for the log only; never holds a national ID
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True, slots=True)
class Flow:
    """What the callback needs to finish what the redirect began."""

    state: str
    nonce: str
    verifier: str
    next_url: str


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider says signed in. Not printable: the ID stays out of logs."""

    national_id: str = field(repr=False)
    born_on: date | None


# The flow cookie --------------------------------------------------------------


def _flow_mac(secret: bytes, payload: str) -> str:
    return hmac.new(secret, f"oidc-flow:{payload}".encode(), hashlib.sha256).hexdigest()


def seal_flow(flow: Flow, secret: bytes, now: float | None = None) -> str:
    """The cookie value: the flow as base64url JSON, with an expiry, and its HMAC."""
    expires = int(now if now is not None else time.time()) + FLOW_SECONDS
    data = {"s": flow.state, "n": flow.nonce, "v": flow.verifier, "r": flow.next_url}
    raw = json.dumps({**data, "e": expires}, separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{payload}.{_flow_mac(secret, payload)}"


def open_flow(value: str | None, secret: bytes, now: float | None = None) -> Flow:
    """The flow from the cookie, or ``SignInFailed("expired")`` when it is missing,
    altered or too old."""
    if not value or "." not in value:
        raise SignInFailed("expired", "no sign-in in progress on this browser")
    payload, mac = value.rsplit(".", 1)
    if not hmac.compare_digest(mac, _flow_mac(secret, payload)):
        raise SignInFailed("expired", "the sign-in cookie was altered")
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        flow = Flow(str(data["s"]), str(data["n"]), str(data["v"]), str(data["r"]))
        expires = int(data["e"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SignInFailed("expired", "the sign-in cookie is unreadable") from exc
    if expires < (now if now is not None else time.time()):
        raise SignInFailed("expired", "the sign-in took too long")
    return flow


# Claims -------------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_BUDDHIST_ERA_OFFSET = 543


def parse_birthdate(value: object, today: date | None = None) -> date | None:
    """``YYYY-MM-DD`` (OpenID Connect's format); a Buddhist Era year (Thai systems
    sometimes send one) is converted. Anything else, a year 0000 (year withheld) or
    a date in the future gives None: unknown."""
    if not isinstance(value, str):
        return None
    match = _DATE.fullmatch(value.strip())
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    if year > 2400:
        year -= _BUDDHIST_ERA_OFFSET
    try:
        born = date(year, month, day) if year >= 1800 else None
    except ValueError:
        return None
    if born is None or born > (today or today_in_thailand()):
        return None
    return born


def identity_from_claims(
    claims: Mapping[str, Any], id_claim: str, birthdate_claim: str
) -> Identity:
    raw = claims.get(id_claim)
    if isinstance(raw, int):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        raise SignInFailed("no_id", f"the ID token has no {id_claim!r} claim")
    try:
        national_id = normalise(raw)
    except InvalidNationalId as exc:
        raise SignInFailed(
            "invalid_id", f"the {id_claim!r} claim is not valid ({exc.problem})"
        ) from None
    return Identity(national_id, parse_birthdate(claims.get(birthdate_claim)))


# The provider ---------------------------------------------------------------------


def _fetch_json(url: str) -> dict[str, Any]:
    if not is_secure_transport(url):
        raise SignInFailed("misconfigured", f"{url} is not https")
    try:
        response = httpx2.get(url, timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
    except httpx2.HTTPError as exc:
        raise SignInFailed("unreachable", f"{url}: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise SignInFailed("unreachable", f"{url} answered {response.status_code}")
    try:
        data = response.json()
    except ValueError as exc:
        raise SignInFailed("misconfigured", f"{url} did not answer JSON") from exc
    if not isinstance(data, dict):
        raise SignInFailed("misconfigured", f"{url} did not answer a JSON object")
    return data


class OidcClient:
    """One provider, as the settings name it. Discovery and keys are kept for an
    hour per process; the keys are fetched again at once when a token names a key
    we don't know (the provider rotated its keys)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.issuer = (settings.oidc_issuer or "").rstrip("/")
        self._lock = threading.Lock()
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, KeySet] | None = None

    @property
    def configured(self) -> bool:
        return bool(self.issuer and self.settings.oidc_client_id)

    @property
    def method(self) -> str:
        """How a session says it began (the column holds 32 characters)."""
        name = re.sub(r"[^a-z0-9]+", "-", self.settings.oidc_name.lower()).strip("-")
        return f"oidc:{name or 'provider'}"[:32]

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata and time.monotonic() - self._metadata[0] < METADATA_SECONDS:
                return self._metadata[1]
        data = _fetch_json(f"{self.issuer}/.well-known/openid-configuration")
        if str(data.get("issuer", "")).rstrip("/") != self.issuer:
            raise SignInFailed("misconfigured", "the discovery document names another issuer")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(data.get(name), str) or not is_secure_transport(data[name]):
                raise SignInFailed("misconfigured", f"no usable {name} in the discovery document")
        with self._lock:
            self._metadata = (time.monotonic(), data)
        return data

    def keys(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            fresh = self._keys and time.monotonic() - self._keys[0] < METADATA_SECONDS
            if self._keys and fresh and not refresh:
                return self._keys[1]
        data = _fetch_json(self.metadata()["jwks_uri"])
        try:
            key_set = KeySet.import_key_set(data)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise SignInFailed("misconfigured", "the provider's JWKS is not usable") from exc
        with self._lock:
            self._keys = (time.monotonic(), key_set)
        return key_set

    def _client(self, redirect_uri: str) -> OAuth2Client:
        secret = self.settings.oidc_client_secret
        supported = self.metadata().get(
            "token_endpoint_auth_methods_supported", ["client_secret_basic"]
        )
        if secret is None:
            auth_method = "none"
        elif "client_secret_basic" not in supported and "client_secret_post" in supported:
            auth_method = "client_secret_post"
        else:
            auth_method = "client_secret_basic"
        return OAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            token_endpoint_auth_method=auth_method,
            scope=self.settings.oidc_scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT,
        )

    def begin(self, redirect_uri: str, next_url: str, *, language: str = "th") -> tuple[str, Flow]:
        """The provider's authorization address, and the flow to keep in the cookie."""
        if not self.configured:
            raise SignInFailed("not_configured")
        flow = Flow(generate_token(32), generate_token(32), generate_token(64), next_url)
        endpoint = self.metadata()["authorization_endpoint"]
        with self._client(redirect_uri) as client:
            url, _state = client.create_authorization_url(
                endpoint,
                state=flow.state,
                nonce=flow.nonce,
                code_verifier=flow.verifier,
                ui_locales=language,
            )
        return str(url), flow

    def finish(self, flow: Flow, params: Mapping[str, str], redirect_uri: str) -> Identity:
        """Check the callback, trade the code for tokens, check the ID token and
        return who signed in."""
        if not self.configured:
            raise SignInFailed("not_configured")
        error = params.get("error")
        if error:
            reason: Reason = "denied" if error == "access_denied" else "provider_error"
            raise SignInFailed(reason, f"the provider answered error={error[:60]!r}")
        state, code = params.get("state", ""), params.get("code", "")
        if not state or not hmac.compare_digest(state, flow.state):
            raise SignInFailed("bad_state", "the state does not match this browser's sign-in")
        if not code:
            raise SignInFailed("provider_error", "the callback has no code")
        token = self._exchange(flow, code, redirect_uri)
        claims = self._verify(token, flow.nonce)
        return identity_from_claims(
            claims, self.settings.oidc_id_claim, self.settings.oidc_birthdate_claim
        )

    def _exchange(self, flow: Flow, code: str, redirect_uri: str) -> dict[str, Any]:
        endpoint = self.metadata()["token_endpoint"]
        try:
            with self._client(redirect_uri) as client:
                token = client.fetch_token(
                    endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=flow.verifier,
                    redirect_uri=redirect_uri,
                )
        except httpx2.TransportError as exc:
            raise SignInFailed("unreachable", f"token endpoint: {type(exc).__name__}") from exc
        except OAuthError as exc:
            raise SignInFailed("provider_error", f"token endpoint: {exc.error}") from exc
        except (httpx2.HTTPError, ValueError) as exc:
            raise SignInFailed("provider_error", f"token endpoint: {type(exc).__name__}") from exc
        if not isinstance(token, Mapping) or not isinstance(token.get("id_token"), str):
            raise SignInFailed("invalid_token", "the token response has no ID token")
        return dict(token)

    def _verify(self, token: Mapping[str, Any], nonce: str) -> dict[str, Any]:
        metadata = self.metadata()
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if isinstance(a, str) and a not in _REFUSED_ALGORITHMS]
        try:
            try:
                decoded = jwt.decode(token["id_token"], self.keys(), algorithms=algorithms)
            except InvalidKeyIdError:
                decoded = jwt.decode(
                    token["id_token"], self.keys(refresh=True), algorithms=algorithms
                )
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": metadata["issuer"]},
                    "aud": {"essential": True, "value": self.settings.oidc_client_id},
                },
                {
                    "nonce": nonce,
                    "client_id": self.settings.oidc_client_id,
                    "access_token": token.get("access_token"),
                },
            )
            claims.validate(leeway=LEEWAY_SECONDS)
        except (JoseError, ValueError) as exc:
            # The error's class names the failed check; its text is not logged
            # because a claim error can quote the claim.
            raise SignInFailed("invalid_token", type(exc).__name__) from exc
        return dict(claims)
