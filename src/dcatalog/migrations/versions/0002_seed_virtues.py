"""seed the five virtues of the national moral promotion plan

Reference data every installation needs, not demo data: the four core virtues
(sufficiency, discipline, honesty, volunteering) plus health. The programme
office may edit their texts later; codes are stable.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

virtue = sa.table(
    "virtue",
    sa.column("code", sa.String),
    sa.column("name_th", sa.String),
    sa.column("name_en", sa.String),
    sa.column("description_th", sa.Text),
    sa.column("description_en", sa.Text),
    sa.column("position", sa.Integer),
)

VIRTUES = [
    {
        "code": "sufficiency",
        "name_th": "พอเพียง",
        "name_en": "Sufficiency",
        "description_th": "ใช้ชีวิตอย่างพอประมาณ มีเหตุผล รู้จักออม แบ่งปัน และดูแลทรัพยากร",
        "description_en": "Living within one's means and with reason: saving, sharing and caring for resources.",
        "position": 1,
    },
    {
        "code": "discipline",
        "name_th": "วินัย",
        "name_en": "Discipline",
        "description_th": "รักษากติกาและคำมั่น ทั้งต่อตนเองและต่อส่วนรวม",
        "description_en": "Keeping rules and commitments, to oneself and to the community.",
        "position": 2,
    },
    {
        "code": "honesty",
        "name_th": "สุจริต",
        "name_en": "Honesty",
        "description_th": "ซื่อตรง โปร่งใส ไม่เอาเปรียบผู้อื่น เช่น ส่งคืนของที่เก็บได้",
        "description_en": "Integrity and fairness, such as returning lost property to its owner.",
        "position": 3,
    },
    {
        "code": "volunteering",
        "name_th": "จิตอาสา",
        "name_en": "Volunteering",
        "description_th": "สละเวลาและแรงกายเพื่อผู้อื่นและชุมชน เช่น กิจกรรมอาสา การบริจาคโลหิต",
        "description_en": "Giving time and effort for others and the community, such as volunteer work and blood donation.",
        "position": 4,
    },
    {
        "code": "health",
        "name_th": "สุขภาวะ",
        "name_en": "Health",
        "description_th": "ดูแลสุขภาพกายและใจของตนเองและผู้อื่น เช่น ออกกำลังกาย งดเหล้าเข้าพรรษา",
        "description_en": "Caring for one's own and others' health, such as exercise or abstaining from alcohol through Buddhist Lent.",
        "position": 5,
    },
]


def upgrade() -> None:
    op.bulk_insert(virtue, VIRTUES)


def downgrade() -> None:
    op.execute(virtue.delete().where(virtue.c.code.in_([v["code"] for v in VIRTUES])))
