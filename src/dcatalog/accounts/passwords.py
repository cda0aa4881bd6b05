"""Password hashing (argon2id, the library's defaults) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
_hasher = PasswordHasher()
# Verified against when an email is unknown, so a wrong email takes as long as a
# wrong password and response times do not reveal who has an account. Written out,
# not hashed at import (a tenth of a second for every process); it carries the
# hasher's parameters, so it costs what a real one does (tests/integration/test_accounts.py
# checks they are still the library's defaults).
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$EoN4pUDx+WGDv/Bh/mHGjw$gUhQfSb/h5qEonTtCj9LRQo2JenWEhzZFbduzo8ZCuE"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def policy_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None. Length beats complexity rules."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if password.strip() != password:
        return "a password cannot start or end with a space"
    return None
