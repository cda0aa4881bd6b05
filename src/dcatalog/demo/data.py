"""The demo partners. Real organisations, made-up records; codes are stable
because deed type codes (``kys.volunteer_activity``) are built on them."""

from __future__ import annotations

from typing import Any

from dcatalog.agencies.models import AgencyKind
from dcatalog.benefits.rules import LOAN_RENEWAL_RULE

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
        "code": "korat_hospital",
        "name_th": "โรงพยาบาลมหาราชนครราชสีมา",
        "name_en": "Maharat Nakhon Ratchasima Hospital",
        "kind": AgencyKind.GOVERNMENT,
        "website": "",
    },
    {
        "code": "demouniv",
        "name_th": "มหาวิทยาลัยสาธิต (ข้อมูลสมมติ)",
        "name_en": "Demonstration University (fictional)",
        "kind": AgencyKind.SCHOOL,
        "website": "",
    },
    {
        "code": "greenmart",
        "name_th": "กรีนมาร์ท (ร้านค้าสมมติ)",
        "name_en": "Greenmart (a fictional shop)",
        "kind": AgencyKind.BUSINESS,
        "website": "",
    },
]


# Deed types of the first partners (later issues and their tests rely on these codes).
DEED_TYPES: list[dict[str, Any]] = [
    {
        "owner": "kys",
        "name": "volunteer_activity",
        "virtue": "volunteering",
        "unit": "hour",
        "credits_per_unit": 10,
        "verification_policy": "verifier",
        "evidence_required": True,
        "max_per_record": 12,
        "max_per_day": 12,
        "recorders": ["kind:school"],
        "name_th": "กิจกรรมจิตอาสา (ชั่วโมงจิตอาสา กยศ.)",
        "name_en": "Volunteer activity (Student Loan Fund hours)",
        "description_th": "กิจกรรมที่เป็นประโยชน์ต่อสังคมและส่วนรวม นับเป็นชั่วโมง ผู้กู้ที่ขอกู้ต่อต้องมีอย่างน้อย 36 ชั่วโมงในปีการศึกษาก่อนหน้า",
        "description_en": "Activities that benefit society, counted in hours. Borrowers renewing a loan need at least 36 hours in the previous academic year.",
        "evidence_th": "ใบรับรองการเข้าร่วมกิจกรรม ลงนามโดยผู้รับผิดชอบกิจกรรมและสถานศึกษา",
        "evidence_en": "A certificate of participation signed by the activity's head and the school",
    },
    {
        "owner": "redcross",
        "name": "blood_donation",
        "virtue": "volunteering",
        "unit": "time",
        "credits_per_unit": 10,
        "verification_policy": "agency_attested",
        "max_per_record": 1,
        "min_days_between": 84,
        "health_related": True,
        "recorders": ["korat_hospital"],
        "name_th": "บริจาคโลหิต (โลหิตรวม)",
        "name_en": "Blood donation (whole blood)",
        "description_th": "บริจาคโลหิตรวมได้ทุก 3 เดือน สภากาชาดไทยขอบคุณผู้บริจาคทุกครั้ง และเชิดชูเกียรติเมื่อบริจาคครบตามจำนวน",
        "description_en": "Whole blood can be given every 3 months. The Thai Red Cross thanks every donor and honours milestones.",
        "evidence_th": "บันทึกการบริจาคของศูนย์บริการโลหิตหรือโรงพยาบาล",
        "evidence_en": "The donation record of the blood centre or hospital",
    },
    {
        "owner": "redcross",
        "name": "platelet_donation",
        "virtue": "volunteering",
        "unit": "time",
        "credits_per_unit": 10,
        "verification_policy": "agency_attested",
        "max_per_record": 1,
        "min_days_between": 28,
        "health_related": True,
        "recorders": ["korat_hospital"],
        "name_th": "บริจาคเกล็ดเลือด",
        "name_en": "Platelet donation",
        "description_th": "บริจาคเกล็ดเลือดด้วยเครื่องแยกส่วนประกอบโลหิต",
        "description_en": "Platelets given by apheresis.",
        "evidence_th": "บันทึกการบริจาคของศูนย์บริการโลหิต",
        "evidence_en": "The donation record of the blood centre",
    },
    {
        "owner": "redcross",
        "name": "plasma_donation",
        "virtue": "volunteering",
        "unit": "time",
        "credits_per_unit": 10,
        "verification_policy": "agency_attested",
        "max_per_record": 1,
        "min_days_between": 14,
        "health_related": True,
        "recorders": ["korat_hospital"],
        "name_th": "บริจาคพลาสมา",
        "name_en": "Plasma donation",
        "description_th": "บริจาคพลาสมาด้วยเครื่องแยกส่วนประกอบโลหิต",
        "description_en": "Plasma given by apheresis.",
        "evidence_th": "บันทึกการบริจาคของศูนย์บริการโลหิต",
        "evidence_en": "The donation record of the blood centre",
    },
    {
        "owner": "thaihealth",
        "name": "activity_challenge",
        "virtue": "health",
        "unit": "day",
        "credits_per_unit": 2,
        "verification_policy": "agency_attested",
        "max_per_record": 31,
        "max_per_day": 1,
        "yearly_cap": 365,
        "health_related": True,
        "name_th": "ชาเลนจ์ขยับกาย (วันที่ออกกำลังกายครบตามเป้า)",
        "name_en": "Activity challenge (days on target)",
        "description_th": "วันที่ออกกำลังกายได้ตามเป้าหมายของชาเลนจ์ที่ สสส. รับรอง",
        "description_en": "Days on which the physical-activity goal of a ThaiHealth challenge was met.",
        "evidence_th": "ข้อมูลจากแอปพลิเคชันของชาเลนจ์",
        "evidence_en": "Data from the challenge's app",
    },
    {
        "owner": "thaihealth",
        "name": "lent_abstention",
        "virtue": "health",
        "unit": "time",
        "credits_per_unit": 30,
        "verification_policy": "self_declared",
        "max_per_record": 1,
        "min_days_between": 300,
        "yearly_cap": 1,
        "health_related": True,
        "name_th": "งดเหล้าครบพรรษา",
        "name_en": "Abstaining from alcohol through Buddhist Lent",
        "description_th": "ปฏิญาณงดเครื่องดื่มแอลกอฮอล์ตลอดช่วงเข้าพรรษา 3 เดือน และทำได้สำเร็จ",
        "description_en": "A pledge to abstain from alcohol for the three months of Buddhist Lent, kept.",
        "evidence_th": "คำรับรองของผู้ปฏิญาณ และการยืนยันจากชุมชนหรือหน่วยงาน",
        "evidence_en": "The pledger's declaration, confirmed by the community or an agency",
    },
]

# Demo sign-ins (created only with DCATALOG_DEMO on). Never use these elsewhere.
DEMO_PASSWORD = "demo-password-2569"  # noqa: S105 (published on purpose, demo only)
DEMO_ACCOUNTS: list[dict[str, Any]] = [
    {
        "email": "office@pmdu.demo",
        "display_name": "สมชาย ใจดี",
        "role": "program_admin",
        "agency": None,
    },
    {
        "email": "auditor@pmdu.demo",
        "display_name": "วิภา ตรวจตรา",
        "role": "auditor",
        "agency": None,
    },
    {
        "email": "admin@kys.demo",
        "display_name": "กัญญา (ผู้ดูแล กยศ.)",
        "role": "agency_admin",
        "agency": "kys",
    },
    {
        "email": "admin@redcross.demo",
        "display_name": "ผู้ดูแล สภากาชาดไทย",
        "role": "agency_admin",
        "agency": "redcross",
    },
    {
        "email": "admin@thaihealth.demo",
        "display_name": "ผู้ดูแล สสส.",
        "role": "agency_admin",
        "agency": "thaihealth",
    },
    {
        "email": "counter@greenmart.demo",
        "display_name": "พนักงานเคาน์เตอร์ กรีนมาร์ท",
        "role": "verifier",
        "agency": "greenmart",
    },
    {
        "email": "recorder@demouniv.demo",
        "display_name": "ผู้บันทึก มหาวิทยาลัยสาธิต",
        "role": "recorder",
        "agency": "demouniv",
    },
    {
        "email": "verifier@demouniv.demo",
        "display_name": "ผู้ตรวจสอบ มหาวิทยาลัยสาธิต",
        "role": "verifier",
        "agency": "demouniv",
    },
]

# A made-up student for the citizens' pages: 30 volunteer hours in the previous
# academic year (6 short of the Student Loan Fund's 36), and one blood donation.
# Her ID is synthetic (valid checksum); the demo sign-in takes it with her birth date.
DEMO_STUDENT_ID = "1103700123458"
DEMO_STUDENT_BORN = "2005-06-01"
DEMO_STUDENT_HOURS = [8, 8, 8, 6]

# A made-up regular donor: 17 whole-blood donations, 90 days apart, the last a
# month ago — so the Red Cross milestones at 7 and 16 are awarded, and the fast
# lane (3 in 365 days) is open. She asked to be listed at the 16 ceremony.
DEMO_DONOR_ID = "3109900123453"
DEMO_DONOR_BORN = "1990-03-15"
DEMO_DONOR_DONATIONS = 17
DEMO_DONOR_CEREMONY_NAME = "คุณมาลี ใจบุญ"

# The Red Cross donation milestones (DESIGN.md §2): pins at each step, royally
# bestowed at 36 and 108.
RED_CROSS_MILESTONES = (7, 16, 24, 36, 48, 60, 72, 84, 96, 108)

# Benefits of the first partners (their real rules, DESIGN.md §2). The new
# borrowers' rule is illustrative: 18 hours in the last 365 days.
BENEFITS: list[dict[str, Any]] = [
    {
        "agency": "kys",
        "code": "kys.loan_renewal",
        "kind": "eligibility",
        "name_th": "ต่อสัญญากู้ยืมเงิน กยศ. ปีการศึกษาถัดไป",
        "name_en": "Renew your student loan for the next academic year",
        "description_th": "ผู้กู้ต้องมีชั่วโมงจิตอาสาอย่างน้อย 36 ชั่วโมงในปีการศึกษาที่ผ่านมา",
        "description_en": "Borrowers need at least 36 volunteer hours in the previous academic year.",
        "thanks_th": "ขอบคุณที่อุทิศเวลาให้สังคม คุณมีชั่วโมงจิตอาสาครบสำหรับการต่อสัญญาแล้ว",
        "thanks_en": "Thank you for giving your time: you have the volunteer hours to renew.",
        "rule": LOAN_RENEWAL_RULE,
    },
    {
        "agency": "kys",
        "code": "kys.new_borrower",
        "kind": "eligibility",
        "name_th": "คุณสมบัติผู้กู้รายใหม่ กยศ.",
        "name_en": "Student loan: new borrower",
        "description_th": "ตัวอย่าง: ชั่วโมงจิตอาสาอย่างน้อย 18 ชั่วโมงใน 365 วันที่ผ่านมา",
        "description_en": "Illustrative: at least 18 volunteer hours in the last 365 days.",
        "thanks_th": "ขอบคุณที่เป็นจิตอาสา",
        "thanks_en": "Thank you for volunteering.",
        "rule": {
            "deed_type": "kys.volunteer_activity",
            "measure": "quantity",
            "period": "rolling_days",
            "days": 365,
            "at_least": 18,
        },
    },
    {
        "agency": "thaihealth",
        "code": "thaihealth.challenge_30",
        "kind": "recognition",
        "name_th": "ผู้พิชิตชาเลนจ์ 30 วัน",
        "name_en": "30-day challenge champion",
        "description_th": "ออกกำลังกายครบ 30 วันในปีนี้",
        "description_en": "Active on 30 days this year.",
        "thanks_th": "ขอบคุณที่ดูแลสุขภาพ",
        "thanks_en": "Thank you for looking after your health.",
        "rule": {
            "deed_type": "thaihealth.activity_challenge",
            "measure": "count",
            "period": "calendar_year",
            "offset": 0,
            "at_least": 30,
        },
        "awarded_automatically": True,
    },
    {
        "agency": "redcross",
        "code": "redcross.donor_privilege",
        "kind": "privilege",
        "name_th": "ช่องบริการพิเศษสำหรับผู้บริจาคโลหิตประจำ",
        "name_en": "Regular donors' fast lane",
        "description_th": "ผู้บริจาคโลหิตอย่างน้อย 3 ครั้งใน 365 วันที่ผ่านมา รับบริการตรวจสุขภาพเบื้องต้นผ่านช่องบริการพิเศษที่ศูนย์บริการโลหิตแห่งชาติ",
        "description_en": "Donors who gave blood at least 3 times in the last 365 days get a basic health check through the fast lane at the National Blood Centre.",
        "thanks_th": "ขอบคุณที่ให้โลหิตอย่างสม่ำเสมอ",
        "thanks_en": "Thank you for giving blood regularly.",
        "rule": {
            "deed_type": "redcross.blood_donation",
            "measure": "count",
            "period": "rolling_days",
            "days": 365,
            "at_least": 3,
        },
        "per_citizen_limit": 4,
    },
    {
        "agency": "greenmart",
        "code": "greenmart.volunteer_discount",
        "kind": "privilege",
        "name_th": "ส่วนลด 10% สำหรับจิตอาสา",
        "name_en": "10% off for volunteers",
        "description_th": "ร้านกรีนมาร์ทขอบคุณผู้มีชั่วโมงจิตอาสาอย่างน้อย 10 ชั่วโมงในปีนี้ ด้วยส่วนลด 10% หนึ่งครั้ง (100 สิทธิ์แรก)",
        "description_en": "Greenmart thanks people with at least 10 volunteer hours this year with 10% off once (the first 100).",
        "thanks_th": "ขอบคุณที่เป็นจิตอาสา กรีนมาร์ทขอเป็นส่วนหนึ่งในการขอบคุณ",
        "thanks_en": "Thank you for volunteering: Greenmart would like to thank you too.",
        "rule": {  # hours: a virtue's quantity would mix hours with donations
            "deed_type": "kys.volunteer_activity",
            "measure": "quantity",
            "period": "calendar_year",
            "offset": 0,
            "at_least": 10,
        },
        "quota": 100,
    },
    *[
        {
            "agency": "redcross",
            "code": f"redcross.donor_{times}",
            "kind": "recognition",
            "name_th": (
                f"เข็มที่ระลึกพระราชทานบริจาคโลหิตครบ {times} ครั้ง"
                if times in (36, 108)
                else f"เข็มที่ระลึกบริจาคโลหิตครบ {times} ครั้ง"
            ),
            "name_en": (
                f"Royally bestowed pin for {times} blood donations"
                if times in (36, 108)
                else f"Pin for {times} blood donations"
            ),
            "description_th": f"สภากาชาดไทยเชิดชูเกียรติผู้บริจาคโลหิตครบ {times} ครั้ง มอบในพิธีระดับภูมิภาค",
            "description_en": f"The Thai Red Cross honours donors who have given blood {times} times, at regional ceremonies.",
            "thanks_th": "ขอบคุณที่ให้โลหิต ให้ชีวิต",
            "thanks_en": "Thank you for giving blood, and life.",
            "rule": {
                "deed_type": "redcross.blood_donation",
                "measure": "count",
                "period": "lifetime",
                "at_least": times,
            },
            "awarded_automatically": True,
        }
        for times in RED_CROSS_MILESTONES
    ],
]

# Campaigns of the first partners (approved, on the public thank-you page). Their
# dates follow today (see dcatalog.demo.service._campaign_dates): "lent" is the
# most recent Buddhist Lent, approximately (1 July – 31 October; the real dates
# follow the lunar calendar), "recent" the 60 days before today to 30 days after.
CAMPAIGNS: list[dict[str, Any]] = [
    {
        "agency": "thaihealth",
        "name": "lent_abstention_drive",
        "period": "lent",
        "title_th": "งดเหล้าเข้าพรรษา",
        "title_en": "Abstain from alcohol through Buddhist Lent",
        "description_th": "ชวนคนไทยปฏิญาณงดเครื่องดื่มแอลกอฮอล์ตลอด 3 เดือนของช่วงเข้าพรรษา เพื่อสุขภาพของตัวเองและครอบครัว นับคนที่ทำได้สำเร็จ",
        "description_en": "Inviting people to pledge not to drink alcohol for the three months of Buddhist Lent, for their own health and their families'. It counts the people who kept the pledge.",
        "deed_types": ["thaihealth.lent_abstention"],
        "provinces": [],
        "goal_measure": "citizens",
        "goal": 100,
    },
    {
        "agency": "redcross",
        "name": "blood_drive",
        "period": "recent",
        "title_th": "ให้เลือด ให้ชีวิต: ร่วมบริจาคโลหิตก่อนปีใหม่",
        "title_en": "Give blood, give life: the year-end blood drive",
        "description_th": "โลหิตสำรองมักขาดแคลนช่วงเทศกาล สภากาชาดไทยชวนผู้บริจาคในกรุงเทพฯ นครราชสีมา และเชียงใหม่ มาร่วมให้โลหิต",
        "description_en": "Blood stocks run low over the holidays. The Thai Red Cross invites donors in Bangkok, Nakhon Ratchasima and Chiang Mai to give blood.",
        "deed_types": ["redcross.blood_donation"],
        "provinces": ["TH-10", "TH-30", "TH-50"],
        "goal_measure": "count",
        "goal": 40,
    },
]

# Made-up people whose verified deeds of this year give the public figures
# something to show: a figure counting fewer than 10 people is never published.
DEMO_CROWD_SIZE = 30
DEMO_CROWD_PROVINCES = ("TH-10", "TH-30", "TH-50", "TH-40", "TH-90")
# The demo donor shows her 16-donation pin on the public thank-you page.
DEMO_DONOR_PUBLIC_NAME = "มาลี ใจบุญ"
