"""Sending a file kept in the database (``dcatalog.jobs.files``) as a download."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import StreamingResponse

from dcatalog.jobs.files import Download


def attachment(name: str) -> str:
    """A Content-Disposition for ``name``, Thai included (RFC 6266 ``filename*``),
    with an ASCII fallback for old clients."""
    fallback = name.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "")
    if fallback == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{fallback}\"; filename*=utf-8''{quote(name)}"


def streamed(download: Download) -> StreamingResponse:
    """The file, chunk by chunk (never whole in memory), private to its reader."""
    return StreamingResponse(
        download.chunks,
        media_type=download.media_type,
        headers={
            "Content-Disposition": attachment(download.name),
            "Content-Length": str(download.size),
            "Cache-Control": "private, no-store",
        },
    )
