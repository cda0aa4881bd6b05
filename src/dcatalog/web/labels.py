"""Display helpers every page shares: names people read for the codes we store."""

from __future__ import annotations

from dcatalog.web.i18n import gettext as _


def period_label(key: str) -> str:
    kind, _sep, year = key.partition(":")
    labels = {
        "lifetime": _("All time"),
        "calendar_year": _("Year %(year)s"),
        "fiscal_year": _("Fiscal year %(year)s"),
        "academic_year": _("Academic year %(year)s"),
        "rolling_days": _("the last %(year)s days"),
    }
    label = labels.get(kind, key)
    return label % {"year": year} if year else label
