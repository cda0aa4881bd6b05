"""Credentials on the web: the citizen's own (``/me/credentials``: ask for a
transcript, download its PDF or JSON, share or stop sharing it), the public
verification pages (``/c/<short id>``, ``/verify``) and the issuer's published
documents (``/.well-known/did.json``, ``/credentials/issuer``,
``/credentials/keys``, ``/credentials/status/<n>``)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dcatalog.access import CurrentCitizen, public
from dcatalog.catalog.labels import subject_labels
from dcatalog.citizens import service as citizens
from dcatalog.credentials import keystore, status_lists
from dcatalog.credentials import service as credentials
from dcatalog.credentials.certificate import qr_svg, render_pdf
from dcatalog.credentials.issuer import check_stored_or_submitted, issuer_for
from dcatalog.credentials.keystore import Issuer
from dcatalog.credentials.limits import Limits
from dcatalog.credentials.models import IssuedCredential
from dcatalog.credentials.verification import (
    Outcome,
    too_deeply_nested,
)
from dcatalog.identity.names import NAME_MAX, given_name
from dcatalog.logs import get_logger
from dcatalog.problems import Problem
from dcatalog.web import throttle
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep, SettingsDep
from dcatalog.web.i18n import N_, current_language
from dcatalog.web.i18n import gettext as _
from dcatalog.web.labels import period_label
from dcatalog.web.templating import render

log = get_logger(__name__)
router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
JSON_LD = "application/json"
MAX_UPLOAD_BYTES = 256 * 1024  # a credential is a few kilobytes


# --- the citizen's own credentials ----------------------------------------------


def _options(session: Session, citizen: Any) -> list[tuple[str, str]]:
    """Every total the citizen can ask a transcript of: ``subject|period`` → label."""
    labels = subject_labels(session, current_language())
    options = []
    for tally in citizens.tallies(session, citizen):
        if tally.period == "lifetime" and tally.subject.startswith("virtue:"):
            continue  # all-time totals of a virtue mix units; the per-type ones say more
        label = f"{labels.get(tally.subject, tally.subject)} · {period_label(tally.period)}"
        options.append((f"{tally.subject}|{tally.period}", label))
    return sorted(options, key=lambda option: (not option[0].startswith("type:"), option[1]))


def _credential_label(credential: IssuedCredential, labels: dict[str, str]) -> str:
    if credential.kind == "award":  # its document names the milestone, in Thai and English
        document = credentials.signed_document(credential)
        achievement = document["credentialSubject"]["achievement"]
        if current_language() == "th":
            return str(achievement["name"])
        return str(achievement["related"][0]["name"])
    return (
        f"{labels.get(credential.subject, credential.subject)} · {period_label(credential.period)}"
    )


@router.get("/me/credentials", response_class=HTMLResponse)
def my_credentials(request: Request, citizen: CurrentCitizen, session: SessionDep) -> HTMLResponse:
    return _my_credentials(request, citizen, session)


def _my_credentials(
    request: Request,
    citizen: Any,
    session: Session,
    *,
    problem: Problem | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    issuer = issuer_for(request)
    labels = subject_labels(session, current_language())
    items = [
        {
            "credential": credential,
            "label": _credential_label(credential, labels),
            "url": credentials.short_url(issuer, credential),
            "qr": qr_svg(credentials.short_url(issuer, credential)) if credential.shared else None,
        }
        for credential in credentials.credentials_of(session, citizen)
    ]
    context = {
        "items": items,
        "options": _options(session, citizen),
        "problem": problem,
        "done": request.query_params.get("done"),
        "name_max": NAME_MAX,
    }
    return render(request, "credentials/mine.html", context, status_code=status_code)


@router.post("/me/credentials", response_class=HTMLResponse)
def ask_for_transcript(
    request: Request,
    citizen: CurrentCitizen,
    database: DatabaseDep,
    settings: SettingsDep,
    total: Annotated[str, Form()] = "",
    share: Annotated[bool, Form()] = False,
) -> Response:
    subject, _sep, period = total.partition("|")
    with database.write_session() as session:
        try:
            issued = credentials.issue_transcript(
                session,
                citizen,
                issuer_for(request),
                subject=subject,
                period=period,
                academic_start=settings.academic_year_start_month_day,
            )
            if share:
                credentials.set_shared(session, citizen, issued.id, True)
        except Problem as problem:
            session.rollback()
            return _my_credentials(
                request, citizen, session, problem=problem, status_code=problem.status
            )
        target = f"/me/credentials?done=issued#c-{issued.id}"
    return RedirectResponse(target, status_code=303)


@router.post("/me/credentials/{credential_id}/share")
def share_credential(
    credential_id: uuid.UUID,
    citizen: CurrentCitizen,
    database: DatabaseDep,
    shared: Annotated[bool, Form()] = False,
) -> Response:
    with database.write_session() as session:
        credentials.set_shared(session, citizen, credential_id, shared)
    done = "shared" if shared else "withdrawn"
    return RedirectResponse(f"/me/credentials?done={done}#c-{credential_id}", status_code=303)


@router.get("/me/credentials/{credential_id}/certificate.pdf", response_model=None)
def certificate_pdf(
    request: Request,
    credential_id: uuid.UUID,
    citizen: CurrentCitizen,
    session: SessionDep,
    name: str | None = None,
) -> Response:
    """The certificate; ``name``, if the holder typed one, is printed on it as hers
    (it is not part of the signed credential, which names nobody)."""
    credential = credentials.own_credential(session, citizen, credential_id)
    holder = None
    if name is not None and name.strip():
        try:
            holder = given_name(
                name, pointer="#/name", message=N_("Type the name to print, or leave it empty.")
            )
        except Problem as problem:
            return _my_credentials(
                request, citizen, session, problem=problem, status_code=problem.status
            )
    pdf = render_pdf(
        credentials.signed_document(credential),
        credentials.short_url(issuer_for(request), credential),
        issued_at=credential.issued_at,
        holder=holder,
    )
    name = f"certificate-{credential.short_id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/me/credentials/{credential_id}/credential.json")
def credential_json(
    credential_id: uuid.UUID, citizen: CurrentCitizen, session: SessionDep
) -> Response:
    credential = credentials.own_credential(session, citizen, credential_id)
    name = f"credential-{credential.short_id}.json"
    return Response(
        credential.document,
        media_type="application/vc+ld+json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- public verification -----------------------------------------------------------


def _outcome_texts() -> dict[str, tuple[str, str]]:
    """Outcome → (headline, what it means), in the page's language."""
    return {
        Outcome.VALID: (
            _("Valid"),
            _(
                "This credential was issued by this service, has not been changed and has not been revoked."
            ),
        ),
        Outcome.REVOKED: (
            _("Revoked"),
            _(
                "This credential was genuine, but it has been revoked: a record it rested on was corrected. Do not rely on it."
            ),
        ),
        Outcome.INVALID: (
            _("Not valid"),
            _("This credential failed a check (see below). Do not rely on it."),
        ),
        Outcome.UNKNOWN: (
            _("Cannot be confirmed"),
            _(
                "A check could not be made, so this credential cannot be confirmed as valid here (see below why)."
            ),
        ),
    }


def _check_texts() -> dict[str, str]:
    """Check name and result → words, in the page's language."""
    return {
        "structure": _("Structure"),
        "signature": _("Signature"),
        "issuer": _("Issuer"),
        "data_model": _("Open Badges data model"),
        "endorsements": _("Endorsements"),
        "dates": _("Validity dates"),
        "status": _("Revocation status"),
        "passed": _("passed"),
        "failed": _("failed"),
        "unknown": _("could not be checked"),
        "not_applicable": _("not applicable"),
    }


def _problem_texts() -> dict[str, str]:
    """Why, for people, in the page's language (the English reason stays in the details)."""
    return {
        "malformed": _("It is not a signed credential that can be checked."),
        "too_complex": _("It is too large or too deeply nested to check."),
        "tampered": _("It has been changed since it was signed."),
        "issuer_mismatch": _(
            "It is signed with a key that does not belong to the issuer it names."
        ),
        "data_model": _("It is not a complete Open Badges 3.0 credential."),
        "endorsement": _("One of its endorsements does not hold."),
        "endorsement_unknown": _("One of its endorsements could not be checked."),
        "not_yet_valid": _("It is not valid yet: its validity starts later."),
        "expired": _("It has expired."),
        "unknown_issuer": _(
            "It is not signed with a key this service has published, so it cannot be trusted here."
        ),
        "status_unknown": _("Its revocation status could not be checked."),
        "revoked": _("The issuer has revoked it."),
        "suspended": _("The issuer has suspended it."),
    }


def _verification_context() -> dict[str, Any]:
    return {"texts": _outcome_texts(), "check_texts": _check_texts(), "problems": _problem_texts()}


@router.get("/c/{short_id}", response_class=HTMLResponse, dependencies=[public])
def public_credential(request: Request, short_id: str, session: SessionDep) -> HTMLResponse:
    credential = credentials.by_short_id(session, short_id)
    if credential is None or not credential.shared:
        withdrawn = credential is not None and credential.share_withdrawn_at is not None
        return render(
            request,
            "credentials/not_shared.html",
            {"withdrawn": withdrawn},
            status_code=410 if withdrawn else 404,
        )
    check = check_stored_or_submitted(
        session, credentials.signed_document(credential), request.app.state.settings
    )
    context = {
        **_verification_context(),
        "check": check,
        "credential": credential,
        "json_url": f"/c/{short_id}/credential.json",
    }
    return render(request, "credentials/public.html", context)


@router.get("/c/{short_id}/credential.json", dependencies=[public])
def public_credential_json(short_id: str, session: SessionDep) -> Response:
    credential = credentials.by_short_id(session, short_id)
    if credential is None or not credential.shared:
        status = 410 if credential is not None and credential.share_withdrawn_at else 404
        return JSONResponse({"detail": "This credential is not shared."}, status_code=status)
    return Response(credential.document, media_type="application/vc+ld+json; charset=utf-8")


@router.get("/verify", response_class=HTMLResponse, dependencies=[public])
def verify_page(request: Request) -> HTMLResponse:
    return render(request, "credentials/verify.html", _verification_context())


@router.post(
    "/verify",
    response_class=HTMLResponse,
    dependencies=[public, throttle.per_client("verify")],
)
async def verify_submitted(
    request: Request,
    session: SessionDep,
    credential: Annotated[str, Form()] = "",
    file: UploadFile | None = None,
) -> HTMLResponse:
    text = credential
    if file is not None and file.filename:
        text = (await file.read(MAX_UPLOAD_BYTES + 1)).decode("utf-8", errors="replace")
    context: dict[str, Any] = {**_verification_context(), "submitted": True}
    if not text.strip() or len(text) > MAX_UPLOAD_BYTES:
        context["error"] = _("Paste a credential (JSON) or choose its file.")
        return render(request, "credentials/verify.html", context, status_code=422)
    try:
        document = json.loads(text)
    except ValueError:
        context["error"] = _("This is not JSON. A credential is a JSON file.")
        return render(request, "credentials/verify.html", context, status_code=422)
    except RecursionError:  # nested past the JSON parser's own limit: an answer, not a 500
        context["check"] = too_deeply_nested(Limits.from_settings(request.app.state.settings))
        return render(request, "credentials/verify.html", context)
    context["check"] = check_stored_or_submitted(session, document, request.app.state.settings)
    return render(request, "credentials/verify.html", context)


# --- the issuer's published documents ------------------------------------------------


def _json(body: Any, media_type: str = "application/json") -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, indent=2),
        media_type=f"{media_type}; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/.well-known/did.json", dependencies=[public])
def did_document(request: Request, session: SessionDep) -> Response:
    """The issuer's did:web document: every key it ever signed with."""
    issuer = issuer_for(request)
    _publish_current(session, issuer)
    document = keystore.did_document(issuer.did, keystore.published_keys(session))
    return _json(document, "application/did+json")


@router.get("/credentials/issuer", dependencies=[public])
def issuer_profile(request: Request) -> Response:
    """The issuer's Open Badges Profile."""
    issuer = issuer_for(request)
    return _json(
        {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            ],
            "id": issuer.did,
            "type": ["Profile"],
            "name": issuer.name,
            "url": issuer.base_url,
            "description": "D-Catalog: the catalog of recognised good deeds (ศูนย์รวมพฤติกรรมความดี)",
        }
    )


@router.get("/credentials/keys", dependencies=[public])
def issuer_keys(request: Request, session: SessionDep) -> Response:
    """The issuer's public keys with their dates, current first."""
    issuer = issuer_for(request)
    _publish_current(session, issuer)
    return _json(
        {
            "issuer": issuer.did,
            "did_document": issuer.url("/.well-known/did.json"),
            "keys": [
                {
                    "id": keystore.verification_method(issuer.did, key.public_key),
                    "type": "Multikey",
                    "publicKeyMultibase": key.public_key,
                    "created": key.created_at.isoformat(),
                    "retired": key.retired_at.isoformat() if key.retired_at else None,
                }
                for key in keystore.published_keys(session)
            ],
        }
    )


@router.get("/credentials/status/{number}", dependencies=[public])
def status_list(
    request: Request, number: int, session: SessionDep, settings: SettingsDep
) -> Response:
    """A signed W3C Bitstring Status List credential (revocation), as published."""
    valid_for = status_lists.valid_for(settings)
    document = status_lists.document(session, issuer_for(request), number, valid_for=valid_for)
    return Response(
        json.dumps(document, ensure_ascii=False),
        media_type="application/vc+ld+json; charset=utf-8",
        headers={"Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*"},
    )


def _publish_current(session: Session, issuer: Issuer) -> None:
    """The key this process signs with is published before anyone asks for it."""
    if issuer.private_key is not None:
        keystore.publish(session, issuer.private_key.public_key())
        session.commit()
