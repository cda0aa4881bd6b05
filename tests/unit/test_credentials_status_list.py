"""W3C Bitstring Status List v1.0, held to the specification's own example."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime
from random import Random, SystemRandom
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dcatalog.credentials import status_list
from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.status_list import (
    MIN_ENTRIES,
    StatusListPointer,
    allocate_index,
    decode,
    empty_bitstring,
    encode,
    is_flagged,
    is_set,
    status_list_credential,
    with_bits,
)

# Example 2 of the specification (BitstringStatusListCredential): an empty list
# of 131,072 entries, written by another implementation (its GZIP header says
# Unix), and the index of Example 1's credentialStatus.
SPEC_ENCODED_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
SPEC_INDEX = 94567

LIST_URL = "https://dcatalog.example/credentials/status/1"


def test_the_specification_example_decodes_to_131072_clear_bits() -> None:
    bits = decode(SPEC_ENCODED_LIST)
    assert len(bits) * 8 == MIN_ENTRIES
    assert bits == bytes(MIN_ENTRIES // 8)
    assert not is_set(bits, SPEC_INDEX)


def test_our_empty_list_decodes_like_the_specification_example() -> None:
    encoded = encode(empty_bitstring())
    assert encoded.startswith("u")
    assert "=" not in encoded
    assert decode(encoded) == decode(SPEC_ENCODED_LIST)
    assert encode(empty_bitstring()) == encoded  # same bits, same bytes: no timestamp


def test_index_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    bits = with_bits(empty_bitstring(), [0, 9, MIN_ENTRIES - 1])
    assert bits[0] == 0b1000_0000
    assert bits[1] == 0b0100_0000
    assert bits[-1] == 0b0000_0001


@given(st.sets(st.integers(min_value=0, max_value=MIN_ENTRIES - 1), max_size=40))
def test_set_bits_survive_encoding(indexes: set[int]) -> None:
    decoded = decode(encode(with_bits(empty_bitstring(), indexes)))
    assert {i for i in range(MIN_ENTRIES) if is_set(decoded, i)} == indexes
    cleared = with_bits(decoded, indexes, value=False)
    assert cleared == empty_bitstring()


@pytest.mark.parametrize(
    ("encoded", "problem"),
    [
        (SPEC_ENCODED_LIST[1:], "multibase"),
        ("u!!!", "base64url"),
        ("u" + base64.urlsafe_b64encode(b"not gzip").decode().rstrip("="), "GZIP"),
        (
            "u" + base64.urlsafe_b64encode(gzip.compress(bytes(100), mtime=0)).decode().rstrip("="),
            "fewer",
        ),
    ],
)
def test_bad_lists_are_refused_with_a_reason(encoded: str, problem: str) -> None:
    with pytest.raises(CredentialError, match=problem):
        decode(encoded)


def test_a_compressed_bomb_is_not_inflated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status_list, "MAX_DECODED_BYTES", MIN_ENTRIES // 8)
    bomb = gzip.compress(bytes(MIN_ENTRIES // 8 + 1))
    with pytest.raises(CredentialError, match="larger"):
        decode("u" + base64.urlsafe_b64encode(bomb).decode().rstrip("="))


def test_lists_are_at_least_the_specification_minimum() -> None:
    with pytest.raises(CredentialError):
        empty_bitstring(MIN_ENTRIES - 8)
    with pytest.raises(CredentialError):
        encode(bytes(100))
    assert len(empty_bitstring(2 * MIN_ENTRIES)) == 2 * MIN_ENTRIES // 8


def test_allocation_never_reuses_an_index_until_the_list_is_full() -> None:
    rng = Random(7)
    used: set[int] = set()
    entries = 512  # small, so filling it is quick; the algorithm does not depend on size
    # Fill a list completely through both strategies (sparse, then mostly full).
    for _ in range(entries):
        index = allocate_index(used, entries, rng)
        assert 0 <= index < entries
        assert index not in used
        used.add(index)
    with pytest.raises(CredentialError, match="full"):
        allocate_index(used, entries, rng)


def test_allocation_is_uniform_over_free_indexes() -> None:
    rng = Random(11)
    entries = 4096
    # A mostly full list: 4,088 used, 8 free; every free index should come up.
    free = {0, 5, 1000, 2047, 2048, 3000, 4000, 4095}
    used = set(range(entries)) - free
    counts = dict.fromkeys(free, 0)
    for _ in range(4000):
        counts[allocate_index(used, entries, rng)] += 1
    assert set(counts) == free
    assert min(counts.values()) > 350  # expected 500 each; far from any bias


def test_default_allocation_uses_the_system_random_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """Predictable indexes would let a verifier link a holder's credentials: the
    default must draw from the operating system's CSPRNG, not ``random``'s."""
    drawn: list[int] = []

    class Watched(SystemRandom):
        def randrange(self, *args: Any, **kwargs: Any) -> int:
            value = super().randrange(*args, **kwargs)
            drawn.append(value)
            return value

    monkeypatch.setattr(status_list.secrets, "SystemRandom", Watched)
    index = allocate_index(set())
    assert drawn == [index]
    assert 0 <= index < MIN_ENTRIES


def test_entry_and_list_credential_fit_together() -> None:
    pointer = StatusListPointer(LIST_URL, SPEC_INDEX)
    entry = pointer.entry()
    assert entry == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }
    valid_from = datetime(2026, 11, 1, tzinfo=UTC)
    clear = status_list_credential(
        list_credential_url=LIST_URL,
        issuer="https://dcatalog.example/issuer",
        bitstring=empty_bitstring(),
        valid_from=valid_from,
    )
    assert clear["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert clear["credentialSubject"]["type"] == "BitstringStatusList"
    assert not is_flagged(entry, clear)
    revoked = status_list_credential(
        list_credential_url=LIST_URL,
        issuer="https://dcatalog.example/issuer",
        bitstring=with_bits(empty_bitstring(), [SPEC_INDEX]),
        valid_from=valid_from,
    )
    assert is_flagged(entry, revoked)


def test_the_list_is_read_by_its_url_and_an_integer_index_is_read_too() -> None:
    """Bitstring Status List v1.0 asks no ``id`` == URL (the URL fetched is the
    list); the index is a string of digits, and an integer means the same bit."""
    entry = StatusListPointer(LIST_URL, 3).entry()
    elsewhere = status_list_credential(
        list_credential_url=LIST_URL + "-served-under-another-id",
        issuer="https://dcatalog.example/issuer",
        bitstring=with_bits(empty_bitstring(), [3]),
        valid_from=datetime(2026, 11, 1, tzinfo=UTC),
    )
    assert is_flagged(entry, elsewhere)
    assert is_flagged({**entry, "statusListIndex": 3}, elsewhere)
    assert not is_flagged({**entry, "statusListIndex": 4}, elsewhere)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"statusPurpose": "suspension"}, "purpose"),
        ({"statusListIndex": "3a"}, "digits"),
        ({"statusListIndex": -3}, "negative"),
        ({"statusListIndex": True}, "digits"),
        ({"statusSize": 2}, "statusSize"),
        ({"type": "StatusList2021Entry"}, "BitstringStatusListEntry"),
    ],
)
def test_an_entry_that_does_not_fit_the_list_is_refused(
    change: dict[str, Any], problem: str
) -> None:
    entry = {**StatusListPointer(LIST_URL, 3).entry(), **change}
    listed = status_list_credential(
        list_credential_url=LIST_URL,
        issuer="https://dcatalog.example/issuer",
        bitstring=empty_bitstring(),
        valid_from=datetime(2026, 11, 1, tzinfo=UTC),
    )
    with pytest.raises(CredentialError, match=problem):
        is_flagged(entry, listed)
