"""What a member of the public meets (on SQLite and PostgreSQL): an empty search
that leads to proposing, campaigns past their goal told as a success, error pages
in Thai with a way back (the API keeps its problem documents), HEAD answered like
GET, staff proposals named by their agency, and sign-in as a citizen to propose."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.access import public
from dcatalog.accounts.permissions import Role
from dcatalog.actors import SYSTEM
from dcatalog.agencies.service import get_agency
from dcatalog.app import create_app
from dcatalog.campaigns import service as campaigns
from dcatalog.campaigns.cache import figures
from dcatalog.campaigns.models import Campaign, GoalMeasure
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.deeds import service as deeds
from dcatalog.demo.service import load_demo
from dcatalog.problems import PROBLEM_JSON
from dcatalog.proposals import service as proposals
from tests.factories import csrf_from, make_account, post_form, sign_in, sign_in_citizen
from tests.integration.test_awards import KEYER, hospital
from tests.integration.test_campaigns import RULES, TODAY, approved, hours, person

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

NOT_FOUND_TH = "ไม่พบหน้าที่ที่อยู่นี้"


@pytest.fixture
def demo(session: Session) -> None:
    load_demo(session)


def thai(client: TestClient, path: str, **kwargs: object) -> str:
    client.cookies.set("lang", "th")
    response = client.get(path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.text


def text_of(html: str) -> str:
    """What a person reads: the page without tags, entities resolved."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- 1. an empty search suggests proposing, as a link ----------------------------------


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("partial", [False, True], ids=["page", "htmx"])
def test_an_empty_search_links_to_proposing_it(client: TestClient, partial: bool) -> None:
    words = "ปลูกป่าชายเลน"
    headers = {"hx-request": "true"} if partial else {}
    page = thai(client, f"/catalog?q={quote(words)}", headers=headers)
    assert "ไม่พบประเภทความดีที่ตรงกัน" in page
    link = re.search(r'<a href="([^"]+)">เสนอเป็นความดีประเภทใหม่</a>', page)
    assert link, page
    target = urlsplit(unescape(link.group(1)))
    assert target.path == "/proposals"
    assert parse_qs(target.query) == {"title": [words]}

    # Not signed in: the sign-in keeps the words for the way back.
    proposals_page = thai(client, f"{target.path}?{target.query}")
    sign = re.search(r'href="(/me/sign-in\?next=[^"]+)"', proposals_page)
    assert sign, proposals_page
    back = parse_qs(urlsplit(unescape(sign.group(1))).query)["next"][0]
    assert back == f"/proposals?title={quote(words)}"


@pytest.mark.usefixtures("demo")
def test_the_proposal_form_starts_from_the_searched_words(
    client: TestClient, session: Session
) -> None:
    sign_in_citizen(client, session, "1103700123458")
    page = thai(client, "/proposals?title=" + quote("  ปลูกป่า   ชายเลน "))
    assert re.search(r'<input id="f-title" name="title" type="text" value="ปลูกป่า ชายเลน"', page)
    assert 'id="propose"' in page
    long = thai(client, "/proposals?title=" + "ก" * 500)
    assert 'value="' + "ก" * proposals.TITLE_MAX + '"' in long  # cut, not refused


# --- 2. past its goal, a campaign reads as a success -------------------------------------


def donations(session: Session, people: int, start: int = 0) -> None:
    """One whole-blood donation of each of ``people`` donors last week (the
    hospital attests them: verified at once)."""
    items = [
        deeds.DeedInput(
            person(n),
            "redcross.blood_donation",
            Decimal(1),
            TODAY - timedelta(days=7),
            "TH-30",
            "",
            f"visitor-blood-{n}",
        )
        for n in range(start, start + people)
    ]
    outcomes = deeds.record(session, hospital(session), KEYER, RULES, items)
    assert [o.result for o in outcomes] == ["created"] * people, [o.errors for o in outcomes]


def card(client: TestClient, session: Session, campaign: Campaign, lang: str = "th") -> str:
    figures(session).clear()
    client.cookies.set("lang", lang)
    page = client.get("/thanks").text
    return page.split(f'id="c-{campaign.code}"')[1].split("</li>")[0]


@pytest.mark.usefixtures("demo")
def test_a_campaign_past_its_goal_reads_as_a_success(client: TestClient, session: Session) -> None:
    campaign = approved(session, "past", goal_measure=GoalMeasure.QUANTITY, goal=10)
    for n in range(12):
        hours(session, n, 3, TODAY - timedelta(days=1))  # 36 hours, 360 %
    shown = card(client, session, campaign)
    words = text_of(shown)
    assert "36 ชั่วโมง · เกินเป้า 10 ชั่วโมง" in words
    assert "%" not in words
    assert "ถึงเป้าแล้ว" in words
    # A full bar, marked as reached.
    assert re.search(r'<progress max="10" value="10"[^>]* class="progress-reached"', shown)
    english = text_of(card(client, session, campaign, "en"))
    assert "36 hours · past the goal of 10 hours" in english
    assert "360%" not in english
    # The API keeps the figure for machines.
    (entry,) = [c for c in client.get("/api/v1/campaigns").json() if c["code"] == campaign.code]
    assert entry["progress"]["percent"] == 360


@pytest.mark.usefixtures("demo")
def test_a_campaign_at_its_goal_exactly_and_one_under_it(
    client: TestClient, session: Session
) -> None:
    exact = approved(session, "exact", goal_measure=GoalMeasure.QUANTITY, goal=30)
    under = approved(session, "under", goal_measure=GoalMeasure.CITIZENS, goal=40)
    for n in range(10):
        hours(session, n, 3, TODAY - timedelta(days=1))
    words = text_of(card(client, session, exact))
    assert "30 ชั่วโมง · ครบเป้า 30 ชั่วโมง แล้ว" in words
    assert "100%" not in words
    assert "ถึงเป้าแล้ว" in words
    below = card(client, session, under)
    assert "10 จาก 40 คน" in text_of(below)
    assert '<span class="percent">25%</span>' in below
    assert "progress-reached" not in below
    assert "ถึงเป้าแล้ว" not in text_of(below)


@pytest.mark.usefixtures("demo")
def test_a_count_of_donations_says_times_as_the_catalog_does(
    client: TestClient, session: Session
) -> None:
    campaign = approved(
        session,
        "blood",
        deed_types=["redcross.blood_donation"],
        goal_measure=GoalMeasure.COUNT,
        goal=4,
    )
    donations(session, 12)
    assert campaigns.progress(session, [campaign], fresh=True)[campaign.id].deeds == 12
    assert "12 ครั้ง · เกินเป้า 4 ครั้ง" in text_of(card(client, session, campaign))
    assert "12 times · past the goal of 4 times" in text_of(card(client, session, campaign, "en"))


# --- 3. error pages in Thai with a way back; the API keeps problem documents ---------------


def assert_thai_error(response, status: int, title: str, explanation: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="th">' in page
    words = text_of(page)
    assert title in words
    assert explanation in words
    assert f"ข้อผิดพลาด {status}" in words
    assert '<a class="button" href="/">กลับสู่หน้าแรก</a>' in page
    return page


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    "path",
    [
        "/no/such/page",
        "/catalog/kys.no_such_deed",
        f"/proposals/{uuid.UUID(int=7)}",
        "/proposals/not-a-uuid",
    ],
)
def test_a_missing_page_is_a_thai_404_with_a_way_back(client: TestClient, path: str) -> None:
    client.cookies.set("lang", "th")
    response = client.get(path, headers={"accept": "text/html"})
    page = assert_thai_error(response, 404, "ไม่พบสิ่งที่ร้องขอ", NOT_FOUND_TH)
    assert re.search(r'<form class="card error-search" method="get" action="/catalog"', page)
    assert "Nothing is at" not in page  # the developers' English stays out of Thai pages
    client.cookies.set("lang", "en")
    english = client.get(path, headers={"accept": "text/html"})
    assert english.status_code == 404
    assert "Back to the home page" in english.text


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/no-such-thing", 404),
        ("/api/v1/catalog/deed-types/kys.no_such_deed", 404),
    ],
)
def test_the_api_keeps_problem_documents(client: TestClient, path: str, status: int) -> None:
    client.cookies.set("lang", "th")
    response = client.get(path, headers={"accept": "text/html"})
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["title"] == "Not found"


def test_a_malformed_id_in_the_api_is_still_a_422(app: FastAPI) -> None:
    """Pages answer 404 for /proposals/not-a-uuid; the API keeps its validation problem."""

    @app.get("/api/v1/_probe/{thing_id}", dependencies=[public])
    def probe(thing_id: uuid.UUID) -> dict[str, str]:
        return {"id": str(thing_id)}

    app.router.routes.sort(key=lambda route: "_probe" not in getattr(route, "path", ""))
    with TestClient(app) as api:
        response = api.get("/api/v1/_probe/not-a-uuid", headers={"accept": "text/html"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["errors"][0]["parameter"] == "thing_id"


@pytest.mark.usefixtures("demo")
def test_other_errors_are_thai_pages_too(
    app: FastAPI, client: TestClient, session: Session, settings: Settings, database: Database
) -> None:
    client.cookies.set("lang", "th")
    # 405: an address that does not take this method.
    assert_thai_error(client.delete("/catalog"), 405, "ไม่รองรับวิธีการเรียกนี้", "ที่อยู่นี้ไม่รองรับการเรียกแบบนี้")
    # 403: a form sent without its CSRF token.
    assert_thai_error(
        client.post("/verify", data={"credential": "{}"}),
        403,
        "ไม่มีสิทธิ์ทำรายการนี้",
        "กรุณาโหลดหน้านั้นใหม่แล้วลองอีกครั้ง",
    )
    # 422: a signed-in citizen's proposal without its fields.
    sign_in_citizen(client, session, "1103700123458")
    assert_thai_error(
        post_form(client, "/proposals", {}, page="/proposals"),
        422,
        "คำขอไม่ถูกต้อง",
        "ข้อมูลบางส่วนที่ส่งมาไม่ถูกต้อง",
    )

    # 413 and 429 with limits small enough to reach.
    small = settings.model_copy(update={"max_body_bytes": 2000, "rate_limit_verify": "1/minute"})
    with TestClient(create_app(small, database=database)) as other:
        other.cookies.set("lang", "th")
        token = csrf_from(other, "/verify")
        big = other.post("/proposals", data={"description": "x" * 5000, "csrf_token": token})
        assert_thai_error(big, 413, "คำขอหรือไฟล์มีขนาดใหญ่เกินกำหนด", "มีขนาดใหญ่เกินกว่าที่ระบบรับได้")
        other.post("/verify", data={"credential": "{}", "csrf_token": token})
        again = other.post("/verify", data={"credential": "{}", "csrf_token": token})
        assert_thai_error(again, 429, "พยายามหลายครั้งเกินไป", "กรุณารอสักครู่แล้วลองใหม่")
        assert again.headers["retry-after"]


def test_a_crash_is_a_thai_page_with_a_reference(app: FastAPI) -> None:
    @app.get("/_crash-page", include_in_schema=False, dependencies=[])
    def crash() -> None:
        raise RuntimeError("secret detail")

    app.router.routes.sort(key=lambda route: "_crash-page" not in getattr(route, "path", ""))
    with TestClient(app, raise_server_exceptions=False) as crashing:
        crashing.cookies.set("lang", "th")
        response = crashing.get("/_crash-page", headers={"accept": "text/html"})
    page = assert_thai_error(response, 500, "ระบบขัดข้อง", "โปรดแจ้งรหัสอ้างอิงด้านล่าง")
    assert "secret detail" not in page
    assert response.headers["x-request-id"] in page


# --- HEAD answers like GET --------------------------------------------------------------


@pytest.mark.usefixtures("demo")
def test_public_pages_answer_head_like_get(client: TestClient, session: Session) -> None:
    proposal = proposals.propose(
        session, SYSTEM, title="ปลูกป่าชายเลน", description="ชวนกันปลูกป่าชายเลนทุกปี"
    )
    session.commit()
    paths = [
        "/",
        "/catalog",
        "/catalog?q=blood",
        "/catalog/redcross.blood_donation",
        "/thanks",
        "/proposals",
        f"/proposals/{proposal.id}",
        "/verify",
        "/problems",
        "/me/sign-in",
    ]
    for path in paths:
        got, head = client.get(path), client.head(path)
        assert (path, got.status_code, head.status_code) == (path, 200, 200)
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
    assert client.head("/no/such/page").status_code == 404


# --- 4. staff proposals are named by their agency -------------------------------------------


@pytest.mark.usefixtures("demo")
def test_a_staff_proposal_shows_the_agencys_thai_name(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    redcross = get_agency(session, "redcross")
    staff = TestClient(app)
    sign_in(staff, make_account(session, Role.RECORDER, redcross).email)
    created = post_form(
        staff,
        "/proposals",
        {"title": "ชวนเพื่อนบริจาคโลหิต", "description": "ชวนเพื่อนมาบริจาคโลหิตครั้งแรก"},
        page="/proposals",
    )
    assert created.status_code == 303, created.text
    path = created.headers["location"]
    office = TestClient(app)
    sign_in(office, make_account(session, Role.PROGRAM_ADMIN).email)
    commented = post_form(office, f"{path}/comments", {"text": "ขอบคุณครับ"}, page=path)
    assert commented.status_code == 303, commented.text

    words = text_of(thai(client, path))
    assert f"เสนอโดย {redcross.name_th} เมื่อ" in words
    assert "สำนักงานโครงการ ·" in words  # the comment of the programme office
    for hidden in ("Khun recorder", "Khun program_admin", "redcross", redcross.name_en):
        assert hidden not in words
    client.cookies.set("lang", "en")
    assert f"Proposed by {redcross.name_en} on" in text_of(client.get(path).text)


# --- 5. proposing needs the citizens' sign-in, and comes back ---------------------------


@pytest.mark.usefixtures("demo")
def test_an_anonymous_proposal_goes_to_the_citizens_sign_in(
    client: TestClient, session: Session
) -> None:
    posted = post_form(client, "/proposals", {"title": "ปลูกป่า", "description": "ปลูกป่าชายเลน"})
    assert posted.status_code == 303
    assert posted.headers["location"] == "/me/sign-in?next=/proposals"

    proposal = proposals.propose(session, SYSTEM, title="ปลูกป่า", description="x")
    session.commit()
    page = f"/proposals/{proposal.id}"
    token = csrf_from(client)  # a stale form: the person signed out in another tab
    support = client.post(
        f"{page}/support",
        data={"csrf_token": token},
        headers={"referer": f"http://testserver{page}"},
        follow_redirects=False,
    )
    assert support.status_code == 303
    assert support.headers["location"] == f"/me/sign-in?next={page}"  # back to its page
    elsewhere = client.post(
        f"{page}/support",
        data={"csrf_token": token},
        headers={"referer": "https://evil.example/phish"},
        follow_redirects=False,
    )
    assert urlsplit(elsewhere.headers["location"]).path == "/me/sign-in"
    assert "evil" not in elsewhere.headers["location"]
    # Staff pages still send to the staff sign-in.
    staff = client.get("/staff/deed-types", follow_redirects=False)
    assert staff.headers["location"] == "/login?next=/staff/deed-types"
