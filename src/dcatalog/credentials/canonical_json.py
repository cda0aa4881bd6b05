"""RFC 8785 JSON Canonicalization Scheme (JCS), the transformation of eddsa-jcs-2022.

The work is done by ``rfc8785`` (Trail of Bits); this wrapper only turns its
errors into ours. JCS serialises numbers as IEEE doubles, so it refuses
integers beyond ±(2**53 - 1) and NaN or infinities: such a document cannot be
signed in a way other implementations would reproduce.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785

from dcatalog.credentials.errors import CredentialError


def canonicalize(document: Mapping[str, Any]) -> bytes:
    """The canonical UTF-8 bytes of ``document``."""
    try:
        return rfc8785.dumps(dict(document))
    # UnicodeError: a lone surrogate in an object key, which no UTF-8 text can hold.
    except (rfc8785.CanonicalizationError, UnicodeError) as exc:
        raise CredentialError(f"cannot canonicalise as JSON (RFC 8785): {exc}") from exc
