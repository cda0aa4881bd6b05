"""The demo partners. Real organisations, made-up records; codes are stable
because deed type codes (``kys.volunteer_activity``) are built on them."""

from __future__ import annotations

from dcatalog.agencies.models import AgencyKind

AGENCIES: list[dict[str, object]] = [
    {
        "code": "kys",
        "name_th": "กองทุนเงินให้กู้ยืมเพื่อการศึกษา (กยศ.)",
        "name_en": "Student Loan Fund (SLF)",
        "kind": AgencyKind.GOVERNMENT,
        "website": "https://www.studentloan.or.th",
    },
    {
        "code": "redcross",
        "name_th": "สภากาชาดไทย",
        "name_en": "Thai Red Cross Society",
        "kind": AgencyKind.NGO,
        "website": "https://www.redcross.or.th",
    },
    {
        "code": "thaihealth",
        "name_th": "สำนักงานกองทุนสนับสนุนการสร้างเสริมสุขภาพ (สสส.)",
        "name_en": "Thai Health Promotion Foundation (ThaiHealth)",
        "kind": AgencyKind.GOVERNMENT,
        "website": "https://www.thaihealth.or.th",
    },
    {
        "code": "moral",
        "name_th": "ศูนย์คุณธรรม (องค์การมหาชน)",
        "name_en": "Moral Promotion Center (Public Organization)",
        "kind": AgencyKind.GOVERNMENT,
        "website": "https://www.moralcenter.or.th",
    },
    {
        "code": "demouniv",
        "name_th": "มหาวิทยาลัยสาธิต (ข้อมูลสมมติ)",
        "name_en": "Demonstration University (fictional)",
        "kind": AgencyKind.SCHOOL,
        "website": "",
    },
]
