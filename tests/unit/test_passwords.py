"""The password hashing: the written-out hash for unknown emails stays as costly
as a real one."""

from __future__ import annotations

from argon2 import PasswordHasher

from dcatalog.accounts import passwords


def test_the_hash_for_unknown_emails_has_the_parameters_of_a_real_one() -> None:
    # A stale constant (the library's defaults moved on) would make a wrong email
    # answer faster or slower than a wrong password: a way to tell who has an account.
    assert not PasswordHasher().check_needs_rehash(passwords._DUMMY_HASH)
    assert not PasswordHasher().check_needs_rehash(passwords.hash_password("a long passphrase"))


def test_an_unknown_email_never_signs_in() -> None:
    assert passwords.verify_password(None, "not a real password, only for timing") is False
    assert passwords.verify_password(
        passwords.hash_password("a long passphrase"), "a long passphrase"
    )
