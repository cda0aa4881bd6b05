"""Public proposals: propose, support, comment, accept into the catalog or decline."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import Role
from dcatalog.actors import SYSTEM
from dcatalog.agencies.models import Agency
from dcatalog.catalog.models import DeedType
from dcatalog.catalog.schemas import NewDeedType
from dcatalog.db import transaction
from dcatalog.identity.national_id import with_check_digit
from dcatalog.problems import Conflict, Forbidden, ValidationProblem
from dcatalog.proposals import service
from dcatalog.proposals.models import ProposalStatus, ProposalSupport
from dcatalog.review import ReviewStatus
from tests.factories import make_account, make_agency, post_form, sign_in, sign_in_citizen


def _draft(name: str = "river_cleanup") -> NewDeedType:
    return NewDeedType(
        name=name,
        name_th="เก็บขยะริมแม่น้ำ",
        name_en="River clean-up",
        virtue="volunteering",
        unit="hour",
        credits_per_unit=10,
        verification_policy="verifier",
    )


def test_propose_support_comment_accept(session: Session) -> None:
    kys = make_agency(session, "kys")
    one = accounts.actor_for(make_account(session, Role.RECORDER, kys, email="one@kys.or.th"))
    two = accounts.actor_for(make_account(session, Role.VERIFIER, kys, email="two@kys.or.th"))
    proposal = service.propose(
        session,
        one,
        title="เก็บขยะริมแม่น้ำ",
        description="ชวนกันเก็บขยะริมแม่น้ำทุกเดือน",
        virtue="volunteering",
    )
    assert proposal.proposer_name == "Khun recorder"  # the name, never the email
    service.support(session, two, proposal)
    service.support(session, two, proposal)  # twice counts once
    count = session.scalar(select(func.count()).select_from(ProposalSupport))
    assert count == 2  # the proposer supports their own proposal
    service.comment(session, two, proposal, "ดีมากครับ")
    with pytest.raises(ValidationProblem):
        service.comment(session, two, proposal, "   ")
    with pytest.raises(Forbidden):
        service.accept(session, one, proposal, kys, _draft())
    deed_type = service.accept(session, SYSTEM, proposal, kys, _draft())
    assert deed_type.code == "kys.river_cleanup"
    assert deed_type.versions[0].status is ReviewStatus.DRAFT
    assert proposal.status is ProposalStatus.ACCEPTED
    with pytest.raises(Conflict):
        service.support(session, one, proposal)


def test_decline_needs_a_public_reason(session: Session) -> None:
    proposal = service.propose(session, SYSTEM, title="x", description="y")
    with pytest.raises(ValidationProblem):
        service.decline(session, SYSTEM, proposal, " ")
    service.decline(session, SYSTEM, proposal, "มีอยู่แล้วในแค็ตตาล็อก")
    assert proposal.status is ProposalStatus.DECLINED
    assert proposal.decision_reason == "มีอยู่แล้วในแค็ตตาล็อก"


def test_accepting_is_all_or_nothing(session: Session) -> None:
    """If the draft cannot be created, the proposal stays open and nothing is written."""
    kys = make_agency(session, "kys")
    taken = service.propose(session, SYSTEM, title="a", description="b")
    service.accept(session, SYSTEM, taken, kys, _draft("taken"))
    proposal = service.propose(session, SYSTEM, title="c", description="d")
    with pytest.raises(Conflict):
        service.accept(session, SYSTEM, proposal, kys, _draft("taken"))
    session.expire_all()
    assert proposal.status is ProposalStatus.OPEN
    assert session.scalar(select(func.count()).select_from(DeedType)) == 1


def test_a_failed_unit_of_work_leaves_nothing(session: Session) -> None:
    def work() -> None:
        with transaction(session):
            make_agency(session, "nested")  # its own unit of work joins this one
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        work()
    assert session.scalar(select(Agency).where(Agency.code == "nested")) is None


def test_proposal_pages(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    kys = make_agency(session, "kys")
    person = make_account(session, Role.RECORDER, kys)
    office = make_account(session, Role.PROGRAM_ADMIN)
    anonymous = TestClient(app)
    assert "เข้าสู่ระบบเพื่อเสนอ" in anonymous.get("/proposals").text
    with TestClient(app) as client:
        sign_in(client, person.email)
        created = post_form(
            client,
            "/proposals",
            {
                "title": "ช่วยสอนหนังสือเด็กในชุมชน",
                "description": "สอนการบ้านเด็กวันเสาร์",
                "virtue": "volunteering",
            },
            page="/proposals",
        )
        assert created.status_code == 303
        path = created.headers["location"]
        empty = post_form(
            client, "/proposals", {"title": " ", "description": "x"}, page="/proposals"
        )
        assert empty.status_code == 422
        post_form(client, f"{path}/comments", {"text": "เห็นด้วยค่ะ"}, page=path)
        page = client.get(path).text
        assert "เห็นด้วยค่ะ" in page
        assert "ผู้สนับสนุน 1 คน" in page
        assert person.email not in page  # only the display name is public
        forbidden = post_form(client, f"{path}/decline", {"reason": "no"}, page=path)
        assert forbidden.status_code == 403
    with TestClient(app) as client:
        sign_in(client, office.email)
        declined = post_form(client, f"{path}/decline", {"reason": "มีประเภทนี้แล้ว"}, page=path)
        assert declined.status_code == 303
    public = anonymous.get(path).text
    assert "มีประเภทนี้แล้ว" in public
    assert "ไม่รับ" in anonymous.get("/proposals").text


def _form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to ``action``, as the page serves them."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form[1]))


def test_a_signed_in_citizen_proposes_supports_and_comments(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    """Citizens propose with their own sign-in; an anonymous visitor is sent to it,
    not to the staff's e-mail and password sign-in."""
    anonymous = TestClient(app).get("/proposals").text
    assert 'href="/me/sign-in?next=/proposals"' in anonymous
    assert 'href="/login?next=/proposals"' not in anonymous
    with TestClient(app) as client:
        principal = sign_in_citizen(client, session, with_check_digit("110370012345"))
        page = client.get("/proposals").text
        assert 'action="/proposals"' in page  # the form, not "sign in to propose"
        fields = _form_fields(page, "/proposals")
        created = client.post(
            "/proposals",
            data={**fields, "title": "ปลูกป่าชายเลน", "description": "ปลูกโกงกางกับชุมชน"},
            follow_redirects=False,
        )
        assert created.status_code == 303, created.text
        path = created.headers["location"]
        detail = client.get(path).text
        assert "ปลูกป่าชายเลน" in detail
        assert "เสนอโดย ประชาชนผู้หนึ่ง" in detail  # "Proposed by a citizen"
        assert principal.alias not in detail  # no pseudonym shown either
        comment = _form_fields(detail, f"{path}/comments")
        commented = client.post(
            f"{path}/comments", data={**comment, "text": "ร่วมด้วยค่ะ"}, follow_redirects=False
        )
        assert commented.status_code == 303
        detail = client.get(path).text
        assert "ร่วมด้วยค่ะ" in detail
        assert "ผู้สนับสนุน 1 คน" in detail  # the proposer supports their own proposal
