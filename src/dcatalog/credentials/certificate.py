"""The PDF certificate of a credential, typeset with WeasyPrint.

Thai first, in the self-hosted Sarabun at 16 pt (the Thai government's
convention for official documents), English beneath; the QR code of the
credential's public address; the signed credential itself attached to the PDF
as ``credential.json`` (an embedded file), so the paper and the proof travel
together and anyone can check the attachment with ``dcatalog verify``.

The typesetting (fonts, the fetcher that reads nothing else) is dcatalog.web.pdf.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import segno

from dcatalog.calendars.buddhist_era import BANGKOK, format_date
from dcatalog.credentials.offline import ATTACHMENT_NAME
from dcatalog.credentials.verification import attestation_of
from dcatalog.web.pdf import EmbeddedFile, html_to_pdf
from dcatalog.web.templating import templates


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as an SVG data URL (error correction M, quiet zone 4)."""
    data_uri: str = segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=4)
    return data_uri


def render_pdf(
    document: dict[str, Any], short_url: str, *, issued_at: datetime, holder: str | None = None
) -> bytes:
    """The certificate of a signed credential ``document`` whose public address is
    ``short_url``; ``holder``, the name its holder asked to have printed (said on
    the certificate to be hers, not the signed credential's)."""
    attestation = attestation_of(document)
    issued_day: date = issued_at.astimezone(BANGKOK).date()
    ended = attestation.activity_ended_at if attestation else None
    reached = ended.astimezone(BANGKOK).date() if ended else None  # an award's: the day reached

    def html_for(fonts: dict[str, str]) -> str:
        return templates.env.get_template("credentials/certificate.html").render(
            fonts=fonts,
            attestation=attestation,
            document=document,
            short_url=short_url,
            holder=holder,
            qr=qr_svg(short_url),
            issued_th=format_date(issued_day, "th", "long"),
            issued_en=format_date(issued_day, "en", "long"),
            reached_th=format_date(reached, "th", "long") if reached else None,
            reached_en=format_date(reached, "en", "long") if reached else None,
        )

    credential_json = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    attachment = EmbeddedFile(
        content=credential_json,
        name=ATTACHMENT_NAME,
        description="Signed Open Badges 3.0 credential (W3C Verifiable Credential)",
        relationship="Source",
    )
    return html_to_pdf(html_for, [attachment])
