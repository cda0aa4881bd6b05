import hashlib
import hmac
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dcatalog.config import Settings
from dcatalog.identity.citizen_key import CitizenKeyer, load_pepper
from dcatalog.identity.national_id import InvalidNationalId, with_check_digit
from dcatalog.instance import SecretUnavailable

PEPPER = b"p" * 32


def test_key_is_hmac_sha256_of_the_normalised_id_under_the_pepper() -> None:
    expected = hmac.new(PEPPER, b"1234545678781", hashlib.sha256).hexdigest()
    keyer = CitizenKeyer(PEPPER)
    assert keyer.key("1234545678781") == expected
    assert keyer.key("1-2345-45678-78-1") == expected
    assert keyer.key("๑๒๓๔๕๔๕๖๗๘๗๘๑") == expected


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_keys_depend_on_the_pepper_and_differ_between_people(first12: str) -> None:
    number = with_check_digit(first12)
    other = with_check_digit(first12[:11] + str((int(first12[11]) + 1) % 10))
    one, two = CitizenKeyer(b"a" * 32), CitizenKeyer(b"b" * 32)
    assert one.key(number) != two.key(number)
    assert one.key(number) != one.key(other)
    assert number not in one.key(number)


def test_invalid_ids_get_no_key() -> None:
    with pytest.raises(InvalidNationalId):
        CitizenKeyer(PEPPER).key("1-2345-45678-78-9")


def test_short_peppers_are_refused_and_never_shown() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        CitizenKeyer(b"short")
    assert "p" * 8 not in repr(CitizenKeyer(PEPPER))


def test_embedded_default_generates_one_private_pepper_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(instance_dir=tmp_path / "var")
    first = load_pepper(settings)
    assert len(first) == 32
    path = tmp_path / "var" / "pepper"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_pepper(settings) == first


def test_processes_starting_together_agree_on_one_pepper(tmp_path: Path) -> None:
    settings = Settings(instance_dir=tmp_path / "var")
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(load_pepper(settings))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["pepper"]  # no temporary left


def test_postgresql_needs_an_explicit_pepper(tmp_path: Path) -> None:
    settings = Settings(
        instance_dir=tmp_path / "var", database_url="postgresql://postgres@127.0.0.1/x"
    )
    with pytest.raises(SecretUnavailable, match="DCATALOG_PEPPER"):
        load_pepper(settings)
    configured = Settings(
        instance_dir=tmp_path / "var",
        database_url="postgresql://postgres@127.0.0.1/x",
        pepper="s" * 40,  # type: ignore[arg-type]
    )
    assert load_pepper(configured) == b"s" * 40
