"""The PDF certificate of a credential, typeset with WeasyPrint.

Thai first, in the self-hosted Sarabun at 16 pt (the Thai government's
convention for official documents), English beneath; the QR code of the
credential's public address; the signed credential itself attached to the PDF
as ``credential.json`` (an embedded file), so the paper and the proof travel
together and anyone can check the attachment with ``dcatalog verify``.

WeasyPrint may only read the font files and ``data:`` URLs: the HTML is ours,
but a renderer that fetches whatever a document names is a server-side request
forgery waiting for a template mistake.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import segno
from weasyprint import HTML, Attachment, URLFetcher
from weasyprint.urls import URLFetcherResponse

from dcatalog.calendars.buddhist_era import BANGKOK, format_date
from dcatalog.credentials.offline import ATTACHMENT_NAME
from dcatalog.credentials.verification import attestation_of
from dcatalog.web.templating import templates

# WeasyPrint reports each rendering step at INFO: noise in the service's logs.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

FONT_FILES = (
    "sarabun-thai-400-normal.woff2",
    "sarabun-thai-700-normal.woff2",
    "sarabun-latin-400-normal.woff2",
    "sarabun-latin-700-normal.woff2",
)


class _FontsOnly(URLFetcher):  # type: ignore[misc]
    """Serves the Sarabun files and data: URLs; refuses every other address."""

    def __init__(self, fonts: dict[str, Path]) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
        self._fonts = fonts

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        font = self._fonts.get(url)
        if font is None:
            raise ValueError(f"the certificate may not load {url[:80]!r}")
        return URLFetcherResponse(url, font.read_bytes(), {"Content-Type": "font/woff2"})


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as an SVG data URL (error correction M, quiet zone 4)."""
    data_uri: str = segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=4)
    return data_uri


def render_pdf(document: dict[str, Any], short_url: str, *, issued_at: datetime) -> bytes:
    """The certificate of a signed credential ``document`` whose public address is
    ``short_url``."""
    folder = files("dcatalog.web").joinpath("static", "fonts", "sarabun")
    with as_file(folder) as fonts_dir:
        fonts = {
            (Path(fonts_dir) / name).resolve().as_uri(): Path(fonts_dir) / name
            for name in FONT_FILES
        }
        uris = {name: (Path(fonts_dir) / name).resolve().as_uri() for name in FONT_FILES}
        attestation = attestation_of(document)
        issued_day: date = issued_at.astimezone(BANGKOK).date()
        html = templates.env.get_template("credentials/certificate.html").render(
            fonts=uris,
            attestation=attestation,
            document=document,
            short_url=short_url,
            qr=qr_svg(short_url),
            issued_th=format_date(issued_day, "th", "long"),
            issued_en=format_date(issued_day, "en", "long"),
        )
        credential_json = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        attachment = Attachment(
            string=credential_json,
            name=ATTACHMENT_NAME,
            description="Signed Open Badges 3.0 credential (W3C Verifiable Credential)",
            relationship="Source",
        )
        pdf: bytes = HTML(string=html, url_fetcher=_FontsOnly(fonts)).write_pdf(
            attachments=[attachment],
            custom_metadata=True,
        )
    return pdf
