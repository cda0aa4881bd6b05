"""W3C Bitstring Status List v1.0: revocation without telling the issuer who checks.

A status list is one published credential holding a long bitstring; each
issued credential points at one bit (its ``statusListIndex``). Bit 1 means
revoked. Because the verifier downloads the whole list, the issuer does not
learn which credential is being checked, and because indexes are drawn at
random from at least 131,072, a list reveals nothing about issue order.

Encoding, as the specification says: index 0 is the left-most bit (the most
significant bit of the first byte); the bitstring is GZIP-compressed, then
base64url-encoded without padding, with the multibase prefix ``u``.

Only ``statusSize`` 1 (one bit per credential) is implemented, which is all
revocation needs.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import secrets
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from random import Random
from typing import Any, Literal

from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.jsonld_contexts import CREDENTIALS_V2
from dcatalog.credentials.timestamps import format_date_time

MIN_ENTRIES = 131_072  # the specification's minimum, 16 KiB: the herd a holder hides in
# A decoder must not inflate an attacker's list without bound (a "zip bomb").
MAX_DECODED_BYTES = 16 * 1024 * 1024
MULTIBASE_BASE64URL = "u"
_BASE64URL_NO_PADDING = re.compile(r"^[A-Za-z0-9_-]*$")

StatusPurpose = Literal["revocation", "suspension"]


def empty_bitstring(entries: int = MIN_ENTRIES) -> bytes:
    if entries < MIN_ENTRIES or entries % 8:
        raise CredentialError(f"a status list has a multiple of 8 entries, at least {MIN_ENTRIES}")
    return bytes(entries // 8)


def entry_count(bitstring: bytes) -> int:
    return len(bitstring) * 8


def is_set(bitstring: bytes, index: int) -> bool:
    _check_index(bitstring, index)
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def with_bits(bitstring: bytes, indexes: Iterable[int], value: bool = True) -> bytes:
    """A copy of ``bitstring`` with the bits at ``indexes`` set to ``value``."""
    changed = bytearray(bitstring)
    for index in indexes:
        _check_index(bitstring, index)
        mask = 0x80 >> (index % 8)
        if value:
            changed[index // 8] |= mask
        else:
            changed[index // 8] &= ~mask & 0xFF
    return bytes(changed)


def encode(bitstring: bytes) -> str:
    """The ``encodedList`` value: ``u`` + base64url(gzip(bitstring)), no padding."""
    if entry_count(bitstring) < MIN_ENTRIES:
        raise CredentialError(f"a status list has at least {MIN_ENTRIES} entries")
    # mtime=0 keeps the output a function of the bits alone, so republishing an
    # unchanged list publishes the same bytes.
    compressed = gzip.compress(bitstring, compresslevel=9, mtime=0)
    return MULTIBASE_BASE64URL + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode(encoded_list: str) -> bytes:
    """The bitstring of an ``encodedList``. Raises ``CredentialError``."""
    if not encoded_list.startswith(MULTIBASE_BASE64URL):
        raise CredentialError("encodedList must be multibase base64url (start with 'u')")
    text = encoded_list[1:]
    # Python's base64url decoder skips characters outside the alphabet; refuse them.
    if not _BASE64URL_NO_PADDING.match(text):
        raise CredentialError("encodedList is not base64url without padding")
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CredentialError("encodedList is not base64url") from exc
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing only
    try:
        bitstring = inflater.decompress(compressed, MAX_DECODED_BYTES)
    except zlib.error as exc:
        raise CredentialError("encodedList is not GZIP data") from exc
    if inflater.unconsumed_tail:
        raise CredentialError(f"the status list is larger than {MAX_DECODED_BYTES} bytes")
    if not inflater.eof:
        raise CredentialError("encodedList is truncated GZIP data")
    if entry_count(bitstring) < MIN_ENTRIES:
        raise CredentialError(f"the status list has fewer than {MIN_ENTRIES} entries")
    return bitstring


def allocate_index(
    used: Iterable[int], entries: int = MIN_ENTRIES, rng: Random | None = None
) -> int:
    """A free index chosen uniformly at random among those not in ``used``.

    Never returns a used index; raises ``CredentialError`` when the list is
    full (time to open a new list). ``rng`` is for tests; the default draws
    from the operating system's CSPRNG so indexes cannot be predicted.
    """
    rng = rng or secrets.SystemRandom()
    taken = used if isinstance(used, (set, frozenset)) else set(used)
    free = entries - sum(1 for index in taken if 0 <= index < entries)
    if free <= 0:
        raise CredentialError("the status list is full")
    if free * 2 >= entries:
        # At least half is free: rejection sampling needs under two draws on
        # average, and a uniform draw that lands on a free index is uniform
        # over the free indexes.
        while True:
            index = rng.randrange(entries)
            if index not in taken:
                return index
    # Mostly full: list what is left (one pass over the list) and pick from it.
    return rng.choice([index for index in range(entries) if index not in taken])


@dataclass(frozen=True)
class StatusListPointer:
    """Where one credential's status bit lives."""

    list_credential_url: str
    index: int
    purpose: StatusPurpose = "revocation"

    def entry(self) -> dict[str, Any]:
        """The credential's ``credentialStatus`` (a ``BitstringStatusListEntry``)."""
        if self.index < 0:
            raise CredentialError("a status list index is not negative")
        return {
            "id": f"{self.list_credential_url}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),  # a string, as the specification requires
            "statusListCredential": self.list_credential_url,
        }


def status_list_credential(
    *,
    list_credential_url: str,
    issuer: str | Mapping[str, Any],
    bitstring: bytes,
    valid_from: datetime,
    valid_until: datetime | None = None,
    purpose: StatusPurpose = "revocation",
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` that publishes ``bitstring``;
    with ``valid_until``, a verifier holding it after then must fetch a new one."""
    dates = {"validFrom": format_date_time(valid_from)}
    if valid_until is not None:
        dates["validUntil"] = format_date_time(valid_until)
    return {
        "@context": [CREDENTIALS_V2],
        "id": list_credential_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer if isinstance(issuer, str) else dict(issuer),
        **dates,
        "credentialSubject": {
            "id": f"{list_credential_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode(bitstring),
        },
    }


def entry_index(entry: Mapping[str, Any]) -> int:
    """The ``statusListIndex`` of an entry. The specification says a string of
    digits; an integer is accepted too (lenient: several issuers write one, and
    it means the same bit). Raises ``CredentialError``."""
    raw = entry.get("statusListIndex")
    if isinstance(raw, bool):
        raise CredentialError("statusListIndex must be a number written in digits")
    if isinstance(raw, int):
        index = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 12:
        index = int(raw)
    else:
        raise CredentialError("statusListIndex must be a number written in digits")
    if index < 0:
        raise CredentialError("statusListIndex is negative")
    return index


def purposes_of(subject: Mapping[str, Any]) -> list[Any]:
    purpose = subject.get("statusPurpose")
    return purpose if isinstance(purpose, list) else [purpose]


def is_flagged(entry: Mapping[str, Any], list_credential: Mapping[str, Any]) -> bool:
    """Whether the bit that ``entry`` (a credential's ``credentialStatus``) points
    at is set in ``list_credential``, the credential at its
    ``statusListCredential`` URL (Bitstring Status List v1.0 §3.2, steps after
    the list's own proof and validity, which the caller checks). The list's
    ``id`` need not repeat the URL: the specification does not ask it. Raises
    ``CredentialError`` when the two do not belong together."""
    if entry.get("type") != "BitstringStatusListEntry":
        raise CredentialError("credentialStatus is not a BitstringStatusListEntry")
    types = list_credential.get("type")
    if "BitstringStatusListCredential" not in (types if isinstance(types, list) else [types]):
        raise CredentialError("the status list is not a BitstringStatusListCredential")
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != "BitstringStatusList":
        raise CredentialError("the status list credential has no BitstringStatusList subject")
    if entry.get("statusPurpose") not in purposes_of(subject):
        raise CredentialError("the status list serves another purpose")
    size = entry.get("statusSize", 1)
    if size != 1 and size != "1":
        raise CredentialError("only statusSize 1 (one bit per credential) is supported")
    index = entry_index(entry)
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise CredentialError("the status list has no encodedList")
    bitstring = decode(encoded)
    if index >= entry_count(bitstring):
        raise CredentialError("statusListIndex is beyond the end of the status list")
    return is_set(bitstring, index)


def _check_index(bitstring: bytes, index: int) -> None:
    if not 0 <= index < entry_count(bitstring):
        raise CredentialError(f"index {index} is outside the status list")
