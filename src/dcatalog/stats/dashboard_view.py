"""What the programme dashboard shows, as the page, its CSV and the PDF progress
report all show it: columns, rows, labels, the map and the charts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from dcatalog.catalog.labels import unit_label
from dcatalog.catalog.schemas import UNITS
from dcatalog.geo.provinces import PROVINCES, province_name
from dcatalog.stats import charts, periods, service, thailand_map
from dcatalog.stats.models import RefreshStatus
from dcatalog.stats.service import Figure, Filters, GroupBy, Labels, Table
from dcatalog.web.i18n import gettext as _
from dcatalog.web.i18n import ngettext, translated


@dataclass(frozen=True)
class Column:
    key: str  # a measure of ``Figure``, or ``unit:hour`` for a quantity in one unit
    title: str
    csv: str = ""  # the CSV heading, when not the key

    @property
    def heading(self) -> str:
        return self.csv or self.key

    @property
    def unit(self) -> str:
        return self.key.removeprefix("unit:") if self.key.startswith("unit:") else ""


@dataclass(frozen=True)
class Row:
    code: str
    label: str
    cells: dict[str, str]
    hidden: bool


def _number(value: int | Decimal | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        value = value.normalize()
        return f"{value:,f}" if value != value.to_integral_value() else f"{int(value):,}"
    return f"{value:,}"


def unit_column(unit: str) -> Column:
    """A quantity in one unit, titled in the page's language ("ปริมาณ (ชั่วโมง)");
    in CSV the unit's English name ("hours", "days")."""
    english = UNITS.get(unit, (unit, unit))[1]
    return Column(f"unit:{unit}", _("Quantity (%(unit)s)") % {"unit": unit_label(unit)}, english)


def columns(table: Table) -> list[Column]:
    """Counts, which add up across deed types, and a quantity per unit, which
    adds up only within its unit (``service.quantities``)."""
    return columns_of(table.units, table.claims_apply)


def columns_of(units: tuple[str, ...], claims_apply: bool) -> list[Column]:
    found = [
        Column("deeds", _("Verified deeds")),
        *(unit_column(u) for u in units),
        Column("donations", _("Donations")),
        Column("citizens", _("Citizens taking part")),
        Column("credits", _("Credits")),
    ]
    if claims_apply:
        found += [Column("claims", _("Benefits claimed")), Column("claimants", _("Claimants"))]
    return found


def value_of(figure: Figure, col: Column) -> Any:
    return figure.quantity(col.unit) if col.unit else getattr(figure, col.key)


def cells_of(figure: Figure, cols: list[Column], own_unit: str = "") -> dict[str, str]:
    """What each column shows; a deed type's row shows no quantity in another unit."""
    cells = {}
    for col in cols:
        if col.key in ("claims", "claimants"):
            shown = figure.claims_shown_as or _number(getattr(figure, col.key))
        elif col.unit and own_unit and col.unit != own_unit:
            shown = ""
        else:
            shown = figure.shown_as or _number(value_of(figure, col))
        cells[col.key] = shown
    return cells


def label_of(group_by: GroupBy, code: str, names: Labels, lang: str) -> str:
    if group_by == "month":
        return periods.label(code, lang)
    if group_by == "province":
        return province_name(code, lang)
    found = {"virtue": names.virtues, "deed_type": names.deed_types, "agency": names.agencies}[
        group_by
    ]
    return found.get(code, code)


def rows_of(table: Table, names: Labels, lang: str) -> list[Row]:
    cols = columns(table)
    found = []
    for figure in table.rows:
        own = names.units.get(figure.value, "") if table.group_by == "deed_type" else ""
        found.append(
            Row(
                figure.value,
                label_of(table.group_by, figure.value, names, lang),
                cells_of(figure, cols, own),
                figure.hidden,
            )
        )
    if table.group_by not in ("month",):
        order = list(names.virtues) if table.group_by == "virtue" else []
        found.sort(key=lambda r: (order.index(r.code) if r.code in order else len(order), r.label))
    return found


def filters_from(
    session: Session, period: str, virtue: str, deed_type: str, agency: str, province: str
) -> Filters:
    return Filters(
        period.strip() or service.default_period(session),
        virtue.strip(),
        deed_type.strip(),
        agency.strip(),
        province.strip().upper(),
    )


def query(filters: Filters) -> str:
    return urlencode({"period": filters.period, **{k: v for k, v in filters.values().items() if v}})


NO_DATA_FILL = "#d6d2c8"  # grey: nothing recorded there (not the white of a counted zero)
ZERO_FILL = "#ffffff"


def _map(table: Table, lang: str) -> dict[str, Any]:
    """The choropleth's provinces, each named with its figure (its tooltip and the
    table beside the map), in one of five kinds: coloured by class, zero (white),
    hidden (hatched), or no data at all (grey) — a province with no deed recorded
    is not a province of zero people."""
    by_code = {f.value: f for f in table.rows}
    shown = [f.citizens for f in table.rows if f.citizens is not None]
    legend = charts.classes([v for v in shown if v is not None])
    provinces = []
    for map_id, code in thailand_map.ISO_CODE.items():
        figure = by_code.get(code)
        name = province_name(code, lang)
        if figure is None:
            kind, fill, text = "no-data", NO_DATA_FILL, _("no data")
        elif figure.hidden:
            kind, fill, text = "hidden", "url(#hatch)", figure.shown_as
        elif not figure.citizens:
            kind, fill, text = "zero", ZERO_FILL, "0"
        else:
            kind, fill, text = "shown", charts.colour(figure.citizens, legend), ""
            text = _number(figure.citizens)
        provinces.append(
            {
                "id": map_id,
                "code": code,
                "name": name,
                "kind": kind,
                "fill": fill,
                "hidden": kind == "hidden",
                "text": text,
                "title": f"{name}: {text}",
            }
        )
    kinds = {p["kind"] for p in provinces}
    return {
        "provinces": provinces,
        "by_name": sorted(provinces, key=lambda p: str(p["name"])),
        "legend": legend,
        "zero": "zero" in kinds,
        "no_data": "no-data" in kinds,
        "no_data_fill": NO_DATA_FILL,
        "zero_fill": ZERO_FILL,
        "href": f"/static/{thailand_map.MAP_FILE}",
        "view_box": thailand_map.VIEW_BOX,
        "water": [f"/static/{thailand_map.MAP_FILE}#{w}" for w in thailand_map.WATER],
    }


def _year_of(period: str) -> int:
    parsed = periods.parse(period)
    return parsed.fiscal_year if parsed is not None else 0


def filter_names(chosen: Filters, names: Labels, lang: str) -> list[str]:
    """The chosen filters by their names in the page's language (never their codes)."""
    found = [
        names.virtues.get(chosen.virtue, chosen.virtue),
        names.deed_types.get(chosen.deed_type, chosen.deed_type),
        names.agencies.get(chosen.agency, chosen.agency),
        province_name(chosen.province, lang) if chosen.province else "",
    ]
    return [name for name in found if name]


def refresh_message(outcome: service.RefreshOutcome | None, lang: str) -> str:
    """The confirmation after the refresh button, naming the fiscal years refreshed."""
    if outcome is None or outcome.status is not RefreshStatus.DONE:
        return ""  # running or failed: the freshness line says so
    if not outcome.fiscal_years:
        return _("Figures checked: nothing had changed since the last refresh.")
    years = ", ".join(str(y) for y in outcome.fiscal_years)  # Buddhist Era, as the office says them
    message = ngettext(
        "Figures refreshed for fiscal year %(years)s.",
        "Figures refreshed for fiscal years %(years)s.",
        len(outcome.fiscal_years),
    )
    return message % {"years": years}


def dashboard_context(session: Session, data: service.Dashboard, lang: str) -> dict[str, Any]:
    names = service.labels(session, lang)
    tables = {}
    for name, table in data.tables.items():
        tables[name] = {
            "columns": columns(table),
            "rows": rows_of(table, names, lang),
            "total": cells_of(table.total, columns(table)),
            "csv": f"/admin/dashboard.csv?table={name}&{query(data.filters)}",
        }
    month = data.tables["month"]
    trend = charts.columns(
        [
            charts.Item(
                periods.month_name(f.value, lang),
                f.deeds,
                f.shown_as,
                periods.year_of(f.value, lang) if n == 0 or f.value.endswith("-01") else "",
                f.future,
            )
            for n, f in enumerate(month.rows)
        ]
    )
    by_virtue = sorted(
        data.tables["virtue"].rows,
        key=lambda f: list(names.virtues).index(f.value) if f.value in names.virtues else 99,
    )
    virtue_bars = charts.rows(
        [charts.Item(names.virtues.get(f.value, f.value), f.deeds, f.shown_as) for f in by_virtue]
    )
    chosen = data.filters
    period_label = periods.label(chosen.period, lang)
    return {
        "data": data,
        "heading": " · ".join([period_label, *filter_names(chosen, names, lang)]),
        "filters": chosen,
        "query": query(chosen),
        "tables": tables,
        "trend": trend,
        "virtue_bars": virtue_bars,
        "map": _map(data.tables["province"], lang),
        "totals": cells_of(data.total, columns(data.tables["month"])),
        "total_columns": columns(data.tables["month"]),
        "period_label": period_label,
        "period_options": [(key, periods.label(key, lang)) for key in data.periods],
        "year_options": [
            (f"fy:{y}", periods.label(f"fy:{y}", lang))
            for y in sorted({*data.fiscal_years, _year_of(chosen.period)}, reverse=True)
        ],
        "virtue_options": list(names.virtues.items()),
        "deed_type_options": list(names.deed_types.items()),
        "agency_options": list(names.agencies.items()),
        "province_options": [(c, province_name(c, lang)) for c in sorted(PROVINCES)],
        "attribution": translated(thailand_map.ATTRIBUTION),
        "licence_url": thailand_map.LICENCE_URL,
    }
