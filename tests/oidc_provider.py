"""A real OpenID Connect provider for the tests, standing in for ThaiD.

Built on Authlib's server side (the authorization code grant, its OpenID Connect
extension and PKCE) with a tiny Starlette app, served by uvicorn on a free port
in a background thread. D-Catalog talks HTTP to it exactly as it would to ThaiD:
discovery, the authorization redirect, the token endpoint, the JWKS.

The authorization endpoint signs in one configured test person without a form.
A test can make it misbehave the ways a real provider (or an attacker) might:
refuse (``deny``), leave out a claim (``claims``), or sign ID tokens with a key
it does not publish (``sign_with_unpublished_key``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import uvicorn
from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, JsonRequest
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.helpers import free_port, wait_until_ready

CLIENT_ID = "dcatalog-test"
CLIENT_SECRET = "test-client-secret-0123456789"
KEY_ID = "provider-key-1"


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return client_secret == self.client_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"  # what the discovery document offers

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    claims: dict[str, Any]
    auth_time: int

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


class _Request(OAuth2Request):
    """A Starlette request as Authlib's grants read it (query and form already read)."""

    def __init__(self, request: Request, form: Mapping[str, str]) -> None:
        super().__init__(request.method, str(request.url), headers=request.headers)
        self._args = dict(request.query_params)
        self._form = dict(form)
        self.payload = BasicOAuth2Payload({**self._args, **self._form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class TestProvider:
    """The provider's state, which tests adjust; reset() between tests."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
        # Same key id, different key: what a forger would send.
        self.unpublished_key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
        self.client = Client(CLIENT_ID, CLIENT_SECRET)
        self.codes: dict[str, Code] = {}
        self.issuer = ""
        self.reset()

    def reset(self) -> None:
        self.claims: dict[str, Any] = {}
        self.deny = False
        self.sign_with_unpublished_key = False
        self.codes.clear()
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests = 0

    def sign_in_as(self, national_id: str | None, birthdate: str | None = "2004-03-15") -> None:
        """Who the next authorization signs in (None leaves the claim out)."""
        self.claims = {"name": "Somchai Test"}
        if national_id is not None:
            self.claims["pid"] = national_id
        if birthdate is not None:
            self.claims["birthdate"] = birthdate

    @property
    def signing_key(self) -> RSAKey:
        return self.unpublished_key if self.sign_with_unpublished_key else self.key


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: TestProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return any(code.nonce == nonce for code in self.provider.codes.values())

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.provider.signing_key

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.provider.issuer, "aud": [client.client_id]}

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": KEY_ID}

    def generate_user_info(self, user: dict[str, Any], scope: str) -> dict[str, Any]:
        return dict(user)


def _grant(provider: TestProvider) -> type[AuthorizationCodeGrant]:
    class CodeGrant(AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic"]

        def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
            data = request.payload.data
            provider.codes[code] = Code(
                code=code,
                client_id=request.client.client_id,
                redirect_uri=data.get("redirect_uri", ""),
                scope=request.scope or "",
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                claims={"sub": "test-subject-1", **request.user},
                auth_time=int(time.time()),
            )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = provider.codes.get(code)
            return found if found and found.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
            return authorization_code.claims

    return CodeGrant


class _Server(AuthorizationServer):
    def __init__(self, provider: TestProvider) -> None:
        super().__init__(scopes_supported=["openid", "pid", "birthdate", "profile"])
        self.provider = provider
        self.register_token_generator(
            "default", BearerTokenGenerator(lambda *_args, **_kwargs: generate_token(42))
        )
        self.register_grant(_grant(provider), [CodeChallenge(required=True), _OpenIDCode(provider)])

    def query_client(self, client_id: str) -> Client | None:
        return self.provider.client if client_id == self.provider.client.client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.provider.token_requests += 1

    def create_oauth2_request(self, request: _Request) -> _Request:
        return request

    def create_json_request(self, request: Any) -> JsonRequest:
        raise NotImplementedError

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=dict(headers))
        return Response(body or "", status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


def build_app(provider: TestProvider) -> Starlette:
    server = _Server(provider)

    async def discovery(_request: Request) -> Response:
        issuer = provider.issuer
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "pid", "birthdate", "profile"],
                "claims_supported": ["sub", "pid", "birthdate", "name"],
            }
        )

    async def jwks(_request: Request) -> Response:
        return JSONResponse({"keys": [provider.key.as_dict(private=False)]})

    async def authorize(request: Request) -> Response:
        oauth_request = _Request(request, {})
        provider.authorize_requests.append(dict(request.query_params))
        # Like ThaiD for a confidential client, but stricter: PKCE with S256 only.
        if request.query_params.get("code_challenge_method") != "S256":
            return PlainTextResponse("PKCE with S256 is required", status_code=400)
        try:
            grant = server.get_consent_grant(oauth_request, end_user=provider.claims)
        except OAuth2Error as error:
            return PlainTextResponse(f"{error.error}: {error.description}", status_code=400)
        user = None if provider.deny else provider.claims
        return server.create_authorization_response(oauth_request, grant_user=user, grant=grant)

    async def token(request: Request) -> Response:
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        return server.create_token_response(_Request(request, values))

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
            Route("/authorize", authorize),
            Route("/token", token, methods=["POST"]),
        ]
    )


@contextmanager
def running_provider() -> Iterator[TestProvider]:
    """The provider served on 127.0.0.1 on a free port until the block ends."""
    provider = TestProvider()
    port = free_port()
    provider.issuer = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        build_app(provider), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="oidc-provider", daemon=True)
    thread.start()
    try:
        wait_until_ready(
            lambda: server.started,
            what=f"the test OpenID Connect provider on port {port}",
            alive=thread.is_alive,
            log=lambda: "(it logs warnings to the test's output)",
        )
        yield provider
    finally:
        server.should_exit = True
        thread.join(10)
