"""Files in the database: uploads waiting for their job, and what jobs make.

A file is a ``stored_file`` row and its bytes in ``file_chunk`` rows of
``CHUNK_BYTES`` (bytea on PostgreSQL, BLOB on SQLite): every app and worker
process on any host reads the same file, and a file goes with its job when the
job expires. Reading streams chunk by chunk, so a large file is never whole in
memory. A file that holds national IDs in clear (an upload) is stored sealed:
each chunk under AES-GCM with a key the caller derives from the pepper, bound to
the file and the chunk's place, so the database never holds an ID in clear and a
chunk cannot be moved to another file or place.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dcatalog import sealing
from dcatalog.db import Database
from dcatalog.jobs.models import CHUNK_BYTES, FileChunk, StoredFile
from dcatalog.problems import NotFound


def store(
    session: Session,
    name: str,
    media_type: str,
    data: bytes | IO[bytes],
    *,
    job_id: uuid.UUID | None = None,
    expires_at: datetime | None = None,
    secret: bytes | None = None,
    is_input: bool = False,
) -> StoredFile:
    """Write a file in the caller's transaction; sealed with ``secret`` when given."""
    source: IO[bytes] = io.BytesIO(data) if isinstance(data, bytes) else data
    stored = StoredFile(
        job_id=job_id,
        name=name,
        media_type=media_type,
        expires_at=expires_at,
        sealed=secret is not None,
        is_input=is_input,
    )
    session.add(stored)
    session.flush()
    digest, size, seq = hashlib.sha256(), 0, 0
    while chunk := source.read(CHUNK_BYTES):
        kept = chunk if secret is None else _seal(secret, stored.id, seq, chunk)
        row = FileChunk(file_id=stored.id, seq=seq, data=kept)
        session.add(row)
        session.flush()
        session.expunge(row)  # one chunk in memory at a time
        digest.update(chunk)
        size += len(chunk)
        seq += 1
    stored.size, stored.sha256 = size, digest.hexdigest()
    return stored


def append(
    session: Session, file_id: uuid.UUID, seq: int, data: bytes, secret: bytes | None = None
) -> int:
    """Add ``data`` at the end of a file written piece by piece (a job's refused rows,
    a batch at a time), in the caller's transaction, from chunk ``seq`` on: the
    caller keeps where the file ends, in the same transaction. Returns the next
    chunk's number. Such a file has no ``sha256``."""
    for offset in range(0, len(data), CHUNK_BYTES):
        chunk = data[offset : offset + CHUNK_BYTES]
        kept = chunk if secret is None else _seal(secret, file_id, seq, chunk)
        session.add(FileChunk(file_id=file_id, seq=seq, data=kept))
        seq += 1
    if data:
        session.execute(
            update(StoredFile)
            .where(StoredFile.id == file_id)
            .values(size=StoredFile.size + len(data), sha256="")
        )
    session.flush()
    return seq


_PURPOSE = "stored file chunk"


def _place(file_id: uuid.UUID, seq: int) -> bytes:
    return file_id.bytes + seq.to_bytes(4, "big")


def _seal(secret: bytes, file_id: uuid.UUID, seq: int, chunk: bytes) -> bytes:
    return sealing.seal_bytes(secret, _PURPOSE, chunk, bound_to=_place(file_id, seq))


def _opened(secret: bytes | None, file_id: uuid.UUID, seq: int, data: bytes) -> bytes:
    if secret is None:
        return data
    return sealing.unseal_bytes(secret, _PURPOSE, data, bound_to=_place(file_id, seq))


def chunks(database: Database, file_id: uuid.UUID, secret: bytes | None = None) -> Iterator[bytes]:
    """The file's bytes, a chunk at a time, each read in a short session of its own
    (a download may be slow; it holds no transaction meanwhile). A sealed file needs
    its ``secret``."""
    seq = 0
    while True:
        with database.session() as session:
            data = session.scalar(
                select(FileChunk.data).where(FileChunk.file_id == file_id, FileChunk.seq == seq)
            )
        if data is None:
            return
        yield _opened(secret, file_id, seq, bytes(data))
        seq += 1


def read(session: Session, file_id: uuid.UUID, secret: bytes | None = None) -> bytes:
    """The whole file (for small files: a report, an error list)."""
    parts = session.execute(
        select(FileChunk.seq, FileChunk.data)
        .where(FileChunk.file_id == file_id)
        .order_by(FileChunk.seq)
    )
    return b"".join(_opened(secret, file_id, seq, bytes(data)) for seq, data in parts)


def to_temporary(
    database: Database, file_id: uuid.UUID, suffix: str = "", secret: bytes | None = None
) -> IO[bytes]:
    """A temporary copy on local disk, for readers that need a path or to seek (XLSX).
    The caller closes it; it is deleted then."""
    out = tempfile.NamedTemporaryFile(suffix=suffix)  # noqa: SIM115 (the caller closes it)
    for chunk in chunks(database, file_id, secret):
        out.write(chunk)
    out.flush()
    out.seek(0)
    return out


@dataclass(frozen=True)
class Download:
    """A stored file on its way to a reader."""

    name: str
    media_type: str
    size: int
    chunks: Iterator[bytes]


def download(database: Database, file_id: uuid.UUID) -> Download:
    with database.session() as session:
        stored = session.get(StoredFile, file_id)
    if stored is None:
        raise NotFound("The file is no longer kept.")
    return Download(stored.name, stored.media_type, stored.size, chunks(database, file_id))
