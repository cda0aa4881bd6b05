"""Verifiable credentials: Open Badges 3.0 awards signed as W3C Data Integrity proofs.

This package holds the cryptographic core only, as pure functions (no database,
no web routes):

- ``multikey``: Ed25519 keys as Multikey / multibase strings and did:key URLs;
- ``keys``: the issuer's signing key and how a verifier finds public keys;
- ``canonical_json`` and ``rdf_canonicalization``: the two ways a document is
  turned into bytes before hashing (RFC 8785 JCS, and RDFC-1.0 over JSON-LD);
- ``cryptosuites`` and ``data_integrity``: ``eddsa-jcs-2022`` and
  ``eddsa-rdfc-2022`` proofs, created and verified;
- ``status_list``: W3C Bitstring Status List (revocation);
- ``open_badges``: the ``OpenBadgeCredential`` a citizen receives.

docs/credentials.md explains the choices.
"""
