"""JSON-LD → RDF Dataset Canonicalization (RDFC-1.0), the transformation of
eddsa-rdfc-2022.

pyld does the work (expansion with our local contexts, then its URDNA2015
implementation: RDFC-1.0 is URDNA2015 renamed, with the same output for the
N-Quads that credentials produce). Two guards are ours:

- **Safe mode.** Plain JSON-LD silently drops what it cannot map to an IRI (a
  term no context defines, a relative URL). Dropped data would not be signed,
  so a verifier would call a changed document valid. Like jsonld.js's
  ``safe`` mode, we refuse such documents instead.
- **Work.** The canonicalisation algorithm is exponential on crafted graphs of
  look-alike blank nodes ("poison graphs"), and pyld has no work limit
  (measured: a complete bipartite graph of 3 and 7 blank nodes took 15 s, a
  clique of 8 took 84 s). As RDFC-1.0 recommends (its section on dataset
  poisoning), the work is bounded instead: every call of Hash N-Degree Quads,
  and every permutation it may try, counts against ``Limits.canonicalization_work``;
  past it the document is refused. Ordinary credentials never reach Hash
  N-Degree Quads at all (first-degree hashes tell their blank nodes apart).
  A count of blank-node mentions (``Limits.max_blank_nodes``) stays as a
  cheap guard against sheer size.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from typing import Any

from pyld import jsonld  # type: ignore[import-untyped]
from pyld.canon import URDNA2015  # type: ignore[import-untyped]

from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.jsonld_contexts import SHIPPED_CONTEXTS, ContextLibrary, UnknownContext
from dcatalog.credentials.limits import DEFAULT_LIMITS, Limits, TooComplex, check_shape

# pyld keeps module-level caches (cachetools LRU caches) that are not safe to
# use from several threads at once, and the web app signs and verifies from a
# thread pool.
_PYLD_LOCK = threading.Lock()

# The same test pyld applies before it drops a value from the RDF output.
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):[^\s]*$")


class _BoundedURDNA2015(URDNA2015):  # type: ignore[misc]
    """pyld's RDFC-1.0 (URDNA2015) with a work budget."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self._budget = budget

    def _spend(self, units: int) -> None:
        self._budget -= units
        if self._budget < 0:
            raise TooComplex(
                "too complex to canonicalise: its blank nodes would take more work than allowed"
            )

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self._spend(1)
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_: str, issuer: Any) -> Any:
        related = super().create_hash_to_related(id_, issuer)
        # The caller tries every permutation of each group: charge them up front,
        # before the factorial is paid.
        for blank_nodes in related.values():
            self._spend(math.factorial(min(len(blank_nodes), 20)))
        return related


def canonicalize(
    document: Mapping[str, Any],
    contexts: ContextLibrary = SHIPPED_CONTEXTS,
    limits: Limits = DEFAULT_LIMITS,
) -> bytes:
    """The canonical N-Quads (UTF-8) of ``document``, a JSON-LD document."""
    check_shape(document, limits)  # before the recursive JSON-LD processor sees it
    expanded = _expand_safely(document, contexts)
    mentions = _count_blank_node_mentions(expanded)
    if mentions > limits.max_blank_nodes:
        raise TooComplex(
            f"the document mentions blank nodes {mentions} times; "
            f"at most {limits.max_blank_nodes} are accepted"
        )
    try:
        with _PYLD_LOCK:
            dataset = jsonld.to_rdf(expanded, {"base": None, "produceGeneralizedRdf": False})
            nquads: str = _BoundedURDNA2015(limits.canonicalization_work).main(
                dataset, {"format": "application/n-quads"}
            )
    except TooComplex:
        raise
    except RecursionError as exc:
        raise TooComplex("too deeply nested to canonicalise") from exc
    except Exception as exc:  # pyld is not written for hostile input: any failure is ours to name
        raise CredentialError(f"cannot canonicalise as RDF: {exc}") from exc
    return nquads.encode("utf-8")


def _expand_safely(document: Mapping[str, Any], contexts: ContextLibrary) -> list[Any]:
    dropped: list[str] = []

    def load_document(url: str, options: object = None) -> dict[str, Any]:
        return {"contextUrl": None, "documentUrl": url, "document": contexts.document(url)}

    processor = jsonld.JsonLdProcessor(on_property_dropped=lambda name: dropped.append(str(name)))
    try:
        with _PYLD_LOCK:
            # base None: pyld would otherwise resolve relative IRIs against
            # http://example.org/base/ and sign a meaning nobody wrote.
            expanded: list[Any] = processor.expand(
                dict(document), {"documentLoader": load_document, "base": None}
            )
    except RecursionError as exc:
        raise TooComplex("too deeply nested to expand as JSON-LD") from exc
    except Exception as exc:  # see canonicalize
        unknown = _find_cause(exc, UnknownContext)
        if unknown is not None:
            raise CredentialError(f"unknown JSON-LD context: {unknown}") from exc
        raise CredentialError(f"not valid JSON-LD: {exc}") from exc
    if dropped:
        raise CredentialError(
            "properties not defined by the document's contexts: " + ", ".join(sorted(dropped))
        )
    _require_absolute_iris(expanded)
    return expanded


def _require_absolute_iris(node: Any) -> None:
    """Every IRI that would become part of the RDF must be absolute, or pyld
    drops the statement from the canonical form without a word."""
    if isinstance(node, list):
        for item in node:
            _require_absolute_iris(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "@id" or (key == "@type" and "@value" not in node):
            for iri in value if isinstance(value, list) else [value]:
                _check_iri(iri, key)
        elif key == "@type":  # a literal's datatype
            _check_iri(value, "datatype")
        elif not key.startswith("@"):
            _check_iri(key, "property")
        if key != "@value":
            _require_absolute_iris(value)


def _check_iri(value: Any, role: str) -> None:
    if not (isinstance(value, str) and _ABSOLUTE_IRI.match(value)):
        raise CredentialError(f"{role} {value!r} is not an absolute IRI")


def _count_blank_node_mentions(node: Any) -> int:
    if isinstance(node, list):
        return sum(_count_blank_node_mentions(item) for item in node)
    if not isinstance(node, dict) or "@value" in node:
        return 0
    own = 0
    if "@list" not in node and "@set" not in node:
        identifier = node.get("@id")
        own = 1 if identifier is None or str(identifier).startswith("_:") else 0
    return own + sum(
        _count_blank_node_mentions(value) for key, value in node.items() if key != "@id"
    )


def _find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
