"""The one settings object: every knob comes from a ``DCATALOG_*`` environment variable.

Each field's description is the documentation: ``dcatalog config --markdown`` prints the
table kept in docs/configuration.md, and a test fails when the two drift apart.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import limits
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DCATALOG_", extra="ignore")

    instance_dir: Path = Field(
        default=Path("var"),
        description=(
            "Folder for this instance's own files: the embedded SQLite database, the "
            "generated pepper, secret key and issuer key. Created on first use with mode 0700."
        ),
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the database. Empty means the embedded SQLite file "
            "`<instance_dir>/dcatalog.sqlite3`. For PostgreSQL use "
            "`postgresql+psycopg://user@host:5432/dbname`."
        ),
    )
    pepper: SecretStr | None = Field(
        default=None,
        description=(
            "Secret key of the keyed hash (HMAC-SHA256) that turns a national ID into the "
            "citizen key; at least 32 characters. Empty on SQLite: generated once into "
            "`<instance_dir>/pepper`. Required on PostgreSQL (every app process must share it). "
            "Never change it on a live database: every citizen key depends on it."
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Secret that signs sign-in sessions and CSRF tokens; at least 32 characters. "
            "Empty on SQLite: generated once into `<instance_dir>/secret_key`. Required on "
            "PostgreSQL. Changing it signs everybody out."
        ),
    )
    session_hours: int = Field(
        default=12, ge=1, le=24 * 30, description="Hours a staff sign-in lasts before it expires."
    )
    demo: bool = Field(
        default=False,
        description="Demo mode: enables demo-only conveniences. Never on in production.",
    )
    citizen_session_hours: int = Field(
        default=2,
        ge=1,
        le=24 * 7,
        description=(
            "Hours a citizen's sign-in lasts before it expires (signing in again with the "
            "identity provider is quick; a short session protects a shared phone)."
        ),
    )
    oidc_issuer: str | None = Field(
        default=None,
        description=(
            "Issuer of the citizens' OpenID Connect provider; its discovery document is "
            "`<issuer>/.well-known/openid-configuration`. ThaiD: "
            "`https://imauth.bora.dopa.go.th`. Empty: citizen sign-in is not set up "
            "(the sign-in page says so; in demo mode it offers the demo sign-in)."
        ),
    )
    oidc_client_id: str | None = Field(
        default=None,
        description="Client ID this service was registered with at the OpenID Connect provider.",
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Client secret from the provider (sent with HTTP Basic authentication, or in "
            "the form when the provider accepts only that). Empty: a public client, "
            "protected by PKCE alone."
        ),
    )
    oidc_redirect_uri: str | None = Field(
        default=None,
        description=(
            "Address of `/me/sign-in/callback` exactly as registered with the provider, e.g. "
            "`https://dcatalog.example.go.th/me/sign-in/callback`. Empty: taken from the "
            "request (set it behind a proxy that changes the host or the scheme)."
        ),
    )
    oidc_scopes: str = Field(
        default="openid pid birthdate",
        description=(
            "Scopes asked of the provider, separated by spaces (`openid` is needed). ThaiD "
            "gives the national ID for `pid` and the birth date for `birthdate`."
        ),
    )
    oidc_id_claim: str = Field(
        default="pid",
        description=(
            "Claim of the ID token that holds the Thai national ID (ThaiD: `pid`). It is "
            "keyed into the citizen key at once and never stored or logged."
        ),
    )
    oidc_birthdate_claim: str = Field(
        default="birthdate",
        description=(
            "Claim that holds the birth date (`YYYY-MM-DD`; a Buddhist Era year is "
            "converted). It decides whether a guardian must consent (under 20)."
        ),
    )
    oidc_name: str = Field(
        default="ThaiD",
        description="Name of the provider on the sign-in button, e.g. `ThaiD`.",
    )
    host: str = Field(default="127.0.0.1", description="Address `dcatalog serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `dcatalog serve` uses.")
    workers: int = Field(
        default=2,
        ge=1,
        description="Worker processes of `dcatalog serve` (one worker has a much worse p99).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level of log records written."
    )
    log_format: Literal["json", "console"] = Field(
        default="json",
        description="`json`: one JSON object per line (for log shippers); `console`: for people.",
    )
    default_language: Literal["th", "en"] = Field(
        default="th", description="Language of pages for a visitor who has not chosen one."
    )
    academic_year_start: str = Field(
        default="05-16",
        description=(
            "First day (MM-DD) of the academic year; the year is named by the Buddhist Era "
            "year in which it starts (Thai schools: 16 May)."
        ),
    )

    stats_refresh_minutes: int = Field(
        default=15,
        ge=0,
        description=(
            "How often the workers refresh the dashboard's figures by themselves (only "
            "fiscal years whose deeds or claims changed are recomputed). 0: never (then "
            "run `dcatalog stats refresh` yourself)."
        ),
    )

    snapshot_seconds: float = Field(
        default=5.0,
        ge=0,
        description=(
            "How long a worker reuses its copy of rarely changing rows read on every "
            "API request (deed types in force, agencies, API keys). A change made by "
            "the same worker applies at once; other workers see it (a revoked key, a "
            "newly approved deed type) within this many seconds. 0 turns the copies off."
        ),
    )

    deed_max_age_days: int = Field(
        default=730,
        ge=1,
        description="A deed that happened longer ago than this many days is refused as implausible.",
    )

    public_url: str | None = Field(
        default=None,
        description=(
            "Public address of this service, e.g. `https://dcatalog.example.go.th` (a host, "
            "no path). Credentials name it: their issuer is `did:web:<host>` and their links "
            "and QR codes point to it, as do the consent requests a partner's counter shows. "
            "Empty: taken from each request (fine for a demo). Set "
            "it in production and keep it: credentials issued under another address name "
            "another issuer."
        ),
    )
    issuer_key: SecretStr | None = Field(
        default=None,
        description=(
            "The issuer's current Ed25519 signing key as a secret Multikey (`z3u2…`), as "
            "printed by `dcatalog credentials rotate-key`. Empty on SQLite: generated once "
            "into `<instance_dir>/issuer_key` (mode 0600). Required on PostgreSQL to issue "
            "credentials (every app process must share it). Never logged; older keys stay "
            "published, so what they signed stays valid."
        ),
    )
    issuer_name: str = Field(
        default="D-Catalog · ศูนย์รวมพฤติกรรมความดี",
        min_length=1,
        description="Name of the issuer in credentials and on certificates.",
    )
    # Input bounds (see dcatalog.web.request_guard and docs/operations.md "Limits").
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description=(
            "Largest request body accepted, in bytes, except file uploads: API JSON (a batch "
            "of 1,000 deeds with every field at its longest is about 2.3 MB) and page forms. "
            "A larger body is refused with 413 before it is read or its sender authenticated."
        ),
    )
    max_upload_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description=(
            "Largest request body accepted by routes that take a file (deed imports, "
            "eligibility reports, a certificate to verify), in bytes. A CSV of 1,000,000 "
            "national IDs is about 15 MB. Refused with 413 while it arrives."
        ),
    )
    max_json_depth: int = Field(
        default=32,
        ge=4,
        le=200,
        description=(
            "Deepest nesting of arrays and objects accepted in a JSON body (a deed batch "
            "needs 3, a credential about 8); deeper is refused with 422 before parsing."
        ),
    )
    # --- credential verification limits (credentials/limits.py) ---
    credential_max_depth: int = Field(
        default=32,
        ge=8,
        le=200,
        description=(
            "Deepest nesting of JSON objects and lists a credential given to the verifier may "
            "have (ours have 7). Deeper ones are answered `invalid: too deeply nested` before "
            "anything else reads them."
        ),
    )
    credential_max_nodes: int = Field(
        default=20_000,
        ge=100,
        description="Most JSON values (objects, lists, strings, numbers) in one credential checked.",
    )
    credential_max_blank_nodes: int = Field(
        default=500,
        ge=16,
        description=(
            "Most blank-node mentions one credential may have for RDF canonicalisation "
            "(eddsa-rdfc-2022 and the other rdfc suites); ours have 5."
        ),
    )
    credential_canonicalization_work: int = Field(
        default=10_000,
        ge=1_000,
        description=(
            "Work bound of RDF canonicalisation (calls of Hash N-Degree Quads plus the "
            "permutations they may try), as RDFC-1.0 recommends against poison graphs: a "
            "credential needing more is answered `invalid`. Ordinary credentials need 0."
        ),
    )
    credential_fetch_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description=(
            "`dcatalog verify`: time allowed to fetch one issuer key document or status list."
        ),
    )
    credential_fetch_max_bytes: int = Field(
        default=1_048_576,
        ge=16_384,
        description="`dcatalog verify`: largest key document or status list fetched.",
    )
    # --- uploaded tables (deed imports, eligibility reports) ---
    upload_max_rows: int = Field(
        default=1_048_575,
        ge=1,
        description=(
            "Most rows (under the heading) in an uploaded CSV or XLSX file of deeds or of "
            "citizens for an eligibility report; the default is what one Excel sheet holds. "
            "A bigger file is refused with 413 before anything is imported: split it."
        ),
    )
    upload_max_cell_chars: int = Field(
        default=32_767,
        ge=1,
        description=(
            "Most characters in one cell of an uploaded CSV or XLSX file (the default is "
            "Excel's own limit). A longer cell is refused with 422 naming its row, before "
            "anything is imported."
        ),
    )
    upload_xlsx_max_unpacked_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1,
        description=(
            "Most bytes an uploaded XLSX file (a zip archive) may hold once unpacked, checked "
            "before the file is opened. A bigger one is refused with 413."
        ),
    )
    upload_xlsx_max_ratio: int = Field(
        default=200,
        ge=1,
        description=(
            "Most times bigger a part of an uploaded XLSX file may be once unpacked than "
            "packed (parts over 1 MiB unpacked; real sheets stay under about 50). A more "
            "compressed file (a zip bomb) is refused with 413."
        ),
    )
    import_errors_listed: int = Field(
        default=1000,
        ge=1,
        description=(
            "Refused rows' errors listed in the answer of `POST /api/v1/deeds/import` (the "
            "first ones, by row); the answer also gives the total and how many were not "
            "listed."
        ),
    )
    import_wait_seconds: float = Field(
        default=30,
        ge=0,
        le=300,
        description=(
            "Longest `POST /api/v1/deeds/import?wait=true` waits for the import to end "
            "before it answers 202 with the job's address (as without `wait`)."
        ),
    )
    import_errors_reported: int = Field(
        default=100_000,
        ge=1,
        description=(
            "Refused rows' errors kept in an import's downloadable error report (the first "
            "ones, by row); its last line says how many more there were. Fix them and import "
            "the same file again: rows recorded already come back as sent before."
        ),
    )

    # --- operations: who may read /metrics
    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "A bearer token for `/metrics`: when set, Prometheus must send "
            "`Authorization: Bearer <token>`. Empty: `/metrics` answers only to clients on "
            "this machine (loopback), 403 to others; behind a proxy on the same machine that "
            "does not set X-Forwarded-For, set a token. Never logged."
        ),
    )

    # --- security headers and trusted hosts ---
    allowed_hosts: str | None = Field(
        default=None,
        description=(
            "Host names this service answers to, separated by commas (`dcatalog.example.go.th`, "
            "`*.example.go.th` for its subdomains, `*` for any). A request naming another host "
            "in its `Host` header gets 400, so a forged host never reaches a link, an asset "
            "address or a credential's `did:web` issuer. Empty: the host of "
            "`DCATALOG_PUBLIC_URL` when it is set, otherwise `127.0.0.1`, `localhost`, `::1` "
            "and `DCATALOG_HOST`; set it when `dcatalog serve` listens on `0.0.0.0` without a "
            "public URL. `/healthz`, `/readyz` and `/metrics` answer any host (probes use the "
            "machine's address)."
        ),
    )

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, value: str | None) -> str | None:
        for host in _split_hosts(value):
            name = host[2:] if host.startswith("*.") else host.strip("[]")
            if host != "*" and not _HOST_NAME.match(name):
                raise ValueError(
                    f"{host!r} is not a host name: write example.org, *.example.org or *"
                )
        return value

    @property
    def trusted_hosts(self) -> list[str]:
        """The hosts a request may name, as its ``Host`` header writes them (an IPv6
        address in brackets): ``allowed_hosts``, or else the public URL's host, or
        else this machine's loopback names and the address it listens on."""
        hosts = _split_hosts(self.allowed_hosts)
        if not hosts and self.public_url:
            hosts = [urlsplit(self.public_url).hostname or ""]
        elif not hosts:
            hosts = ["127.0.0.1", "localhost", "::1", self.host.lower()]
        bracketed = [f"[{host}]" if ":" in host and "[" not in host else host for host in hosts]
        return list(dict.fromkeys(bracketed))

    job_results_keep_days: int = Field(
        default=30,
        ge=1,
        le=366,
        description=(
            "Days an agency's finished import (its rows to fix, the IDs in them sealed) and "
            "eligibility report (its CSV and XLSX) are kept, then deleted with their job. "
            "Uploads go as soon as their job ends."
        ),
    )

    # --- published status lists (docs/credentials.md) ---
    status_list_valid_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 30,
        description=(
            "How long a signed status list is valid (its `validUntil`): a verifier holding "
            "an older copy fetches a new one. A list is signed again when a bit changes, "
            "the key changes or less than half of this is left."
        ),
    )
    status_list_republish_minutes: int = Field(
        default=60,
        ge=1,
        description=(
            "How often the workers sign again every status list that needs it (needs "
            "`DCATALOG_PUBLIC_URL`; without it, a reader's request signs)."
        ),
    )

    # --- background jobs (dcatalog.jobs; docs/operations.md, "Web and worker processes") ---
    jobs_queue: Literal["auto", "sqlite", "postgres", "redis", "immediate"] = Field(
        default="auto",
        description=(
            "Where jobs wait for a worker (huey). `auto`: beside the database (on SQLite the "
            "file `<instance_dir>/queue.sqlite3`, on PostgreSQL tables `huey_*` in the same "
            "database); `redis`: `jobs_redis_url`; `immediate`: run each job at once in the "
            "process that asked (tests and debugging only)."
        ),
    )
    jobs_redis_url: str = Field(
        default="redis://127.0.0.1:6379/1",
        description="The Redis of the job queue when `jobs_queue` is `redis`.",
    )
    jobs_in_process: bool = Field(
        default=True,
        description=(
            "`dcatalog serve` also runs jobs, in threads of its own (the embedded default: one "
            "command does everything). At national scale set it to false and run "
            "`dcatalog worker` processes: web processes then do no background work."
        ),
    )
    jobs_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Jobs one process runs at once (`dcatalog worker --threads` overrides it).",
    )
    jobs_per_agency: int = Field(
        default=2,
        ge=1,
        description=(
            "Jobs of one agency running at once, over every worker: one partner's large "
            "upload never holds every worker. The others wait their turn in the queue."
        ),
    )
    jobs_running_max: int = Field(
        default=8,
        ge=1,
        description="Jobs running at once over every worker and host (protects the database).",
    )
    jobs_stale_after_seconds: float = Field(
        default=60.0,
        ge=1,
        description=(
            "A running job whose worker gave no sign of life for this long is taken for "
            "dead and run again (PostgreSQL; on SQLite a job's worker is known dead when "
            "its process is gone). Workers write a sign of life every quarter of it."
        ),
    )

    # --- throttling (dcatalog.web.throttle; docs/operations.md, "Throttling") ---
    rate_limit_storage: str = Field(
        default="memory://",
        description=(
            "Where throttling counts attempts. `memory://`: in each app process (fine for one "
            "process; with N workers or hosts a client gets up to N times each limit). At "
            "scale, a Redis shared by every process: `redis://127.0.0.1:6379/0` "
            "(also `rediss://`, `redis+sentinel://`, `redis+cluster://`)."
        ),
    )
    rate_limit_sign_in_account_client: str = Field(
        default="5/15minutes",
        description=(
            "Failed staff sign-ins for one e-mail address from one client address; past it "
            "that client gets 429 for that address (others can still sign in). Every "
            "limit is written as in the `limits` library: `5/15minutes`, `30/minute`, "
            "`100/hour`, `1000/day`."
        ),
    )
    rate_limit_sign_in_client: str = Field(
        default="20/15minutes",
        description="Failed staff sign-ins from one client address, whatever the e-mail.",
    )
    rate_limit_sign_in_account: str = Field(
        default="100/hour",
        description=(
            "Failed staff sign-ins for one e-mail address from all clients together "
            "(against guessing spread over many addresses)."
        ),
    )
    rate_limit_api_key_failures: str = Field(
        default="10/15minutes",
        description=(
            "Failed `Authorization: Bearer` API keys from one client address; past it every "
            "API call with a key from that address gets 429 until the window moves on."
        ),
    )
    rate_limit_claim_codes: str = Field(
        default="20/15minutes",
        description=(
            "Unknown or malformed claim codes at redemption (counter page and API), counted "
            "per client address and separately per staff account or API key."
        ),
    )
    rate_limit_citizen_sign_in: str = Field(
        default="30/minute",
        description="Citizens' sign-in starts and demo sign-ins from one client address.",
    )
    rate_limit_consent: str = Field(
        default="30/minute",
        description="Consents granted or withdrawn from one client address.",
    )
    rate_limit_verify: str = Field(
        default="30/minute",
        description="Credential checks (`POST /api/v1/credentials/verify`, `/verify`) per client.",
    )

    @field_validator(
        "rate_limit_sign_in_account_client",
        "rate_limit_sign_in_client",
        "rate_limit_sign_in_account",
        "rate_limit_api_key_failures",
        "rate_limit_claim_codes",
        "rate_limit_citizen_sign_in",
        "rate_limit_consent",
        "rate_limit_verify",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError as exc:
            raise ValueError("must be a rate such as 5/15minutes or 30/minute") from exc
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _rate_limit_storage(cls, value: str) -> str:
        schemes = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")
        if value.partition("://")[0] not in schemes or "://" not in value:
            raise ValueError("must be memory:// or a Redis URL such as redis://127.0.0.1:6379/0")
        return value

    # --- credential fetching: the address guard (credentials/fetching.py) ---
    credential_fetch_allow_private: bool = Field(
        default=False,
        description=(
            "`dcatalog verify`: allow fetching keys and status lists from private, loopback, "
            "link-local and other non-public addresses, and over plain http. For tests and "
            "labs only: off, a credential cannot make the verifier reach into a local network."
        ),
    )
    credential_fetch_ca_file: Path | None = Field(
        default=None,
        description=(
            "`dcatalog verify`: a PEM file of extra certificate authorities trusted when "
            "fetching keys and status lists over https (a test or lab CA), besides the "
            "system's. Empty: the system's CAs only."
        ),
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        match = re.match(r"^(https?)://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\])(:\d{1,5})?/?$", value)
        if not match:
            raise ValueError("must be http(s)://host[:port] with no path, e.g. https://example.org")
        return value.rstrip("/")

    @field_validator("academic_year_start")
    @classmethod
    def _valid_month_day(cls, value: str) -> str:
        match = _MONTH_DAY.match(value)
        if not match:
            raise ValueError("must be MM-DD, for example 05-16")
        month, day = int(match[1]), int(match[2])
        try:
            date(2001, month, day)  # 2001 is not a leap year: 02-29 is refused on purpose
        except ValueError as exc:
            raise ValueError(f"{value} is not a day of the year") from exc
        return value

    @field_validator("oidc_issuer", "oidc_redirect_uri")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an https:// address")
        return value

    @field_validator("pepper", "secret_key")
    @classmethod
    def _long_pepper(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters long")
        return value

    @property
    def academic_year_start_month_day(self) -> tuple[int, int]:
        month, day = self.academic_year_start.split("-")
        return int(month), int(day)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.instance_dir / 'dcatalog.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


_HOST_NAME = re.compile(r"^([a-z0-9\-]+(\.[a-z0-9\-]+)*|[0-9a-f:.]+)$")


def _split_hosts(value: str | None) -> list[str]:
    return [host.strip().lower() for host in (value or "").split(",") if host.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
