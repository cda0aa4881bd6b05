"""Fuzz target: the credential verifier (``check_credential``). It must never raise:
every input gets an answer (valid, invalid, revoked or unknown).

Bytes that are JSON are checked as they are; other bytes drive structural mutations
of a signed W3C vector (a value replaced by text, a number, null, a list, an object,
deep nesting or another part of the credential; a key dropped), which reach the
signature, data-model, date and status checks that byte-level noise rarely does.

Run by tests/fuzz/test_fuzz_credentials.py; by hand:
``.venv/bin/python tests/fuzz/fuzz_credentials.py CORPUS_DIR -runs=100000``.
"""

import json
import sys
from pathlib import Path
from typing import Any

import atheris
import pyld  # noqa: F401 (imported before: only our verifier is instrumented)
import rfc8785  # noqa: F401

with atheris.instrument_imports(include=["dcatalog.credentials"]):
    from dcatalog.credentials.offline import given_keys_resolver
    from dcatalog.credentials.verification import Outcome, check_credential

# The vectors' key: a mutated signed vector still reaches the signature check.
RESOLVE = given_keys_resolver(["z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"])
VECTORS = Path(__file__).resolve().parents[1] / "data" / "credentials" / "vectors"
SEEDS = [json.loads(path.read_text("utf-8")) for path in sorted(VECTORS.rglob("signed*.json"))]


def _nodes(value: Any, found: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """(container, key) of every value inside ``value``."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in list(items):
        found.append((value, key))
        if isinstance(item, (dict, list)) and item:
            _nodes(item, found)
    return found


def _mutant(fdp: atheris.FuzzedDataProvider) -> Any:
    document = json.loads(json.dumps(SEEDS[fdp.ConsumeIntInRange(0, len(SEEDS) - 1)]))
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        nodes = _nodes(document, [])
        container, key = nodes[fdp.ConsumeIntInRange(0, len(nodes) - 1)]
        choice = fdp.ConsumeIntInRange(0, 7)
        if choice == 0 and isinstance(container, dict):
            del container[key]
            continue
        deep: Any = {}
        for _ in range(fdp.ConsumeIntInRange(1, 60)):
            deep = {"related": deep}
        other = nodes[fdp.ConsumeIntInRange(0, len(nodes) - 1)]
        container[key] = [
            fdp.ConsumeUnicodeNoSurrogates(40),
            fdp.ConsumeInt(8),
            None,
            [fdp.ConsumeUnicodeNoSurrogates(20)],
            {fdp.ConsumeUnicodeNoSurrogates(10): fdp.ConsumeUnicodeNoSurrogates(10)},
            deep,
            json.loads(json.dumps(other[0][other[1]])),
            fdp.ConsumeBool(),
        ][choice]
    return document


def one_input(data: bytes) -> None:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        document = _mutant(atheris.FuzzedDataProvider(data))
    answer = check_credential(document, RESOLVE, None)
    assert answer.outcome in set(Outcome), answer


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
