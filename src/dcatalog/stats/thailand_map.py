"""The choropleth map of Thailand's 77 provinces: the vendored ``@svg-maps/thailand``
map (CC BY 4.0, see static/vendor/svg-maps-thailand/NOTICE.md) and its path ids
mapped to ISO 3166-2:TH codes. A test holds the mapping to the SVG file and to
``dcatalog.geo.provinces``."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

from dcatalog.web.i18n import N_

MAP_FILE = "vendor/svg-maps-thailand/thailand.svg"  # under /static
VIEW_BOX = "0 0 560 1025"
ATTRIBUTION = N_(
    "Map: @svg-maps/thailand by Tae Noppakun Wongsrinoppakun, after MapSVG (CC BY 4.0)"
)
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
WATER = ("lksg",)  # Songkhla Lake: drawn as water, not a province

# The map's id → the province's ISO 3166-2:TH code (the map's own names in comments).
ISO_CODE: dict[str, str] = {
    "bkk": "TH-10",  # Bangkok
    "spk": "TH-11",  # Samut Prakan
    "nbi": "TH-12",  # Nonthaburi
    "pte": "TH-13",  # Pathum Thani
    "aya": "TH-14",  # Phra Nakhon Si Ayutthaya
    "atg": "TH-15",  # Ang Thong
    "lri": "TH-16",  # Lop Buri
    "sbr": "TH-17",  # Sing Buri
    "cnt": "TH-18",  # Chai Nat
    "sri": "TH-19",  # Saraburi
    "cbi": "TH-20",  # Chon Buri
    "ryg": "TH-21",  # Rayong
    "cti": "TH-22",  # Chanthaburi
    "trt": "TH-23",  # Trat
    "cco": "TH-24",  # Chachoengsao
    "pri": "TH-25",  # Prachin Buri
    "nyk": "TH-26",  # Nakhon Nayok
    "skw": "TH-27",  # Sa Kaeo
    "nma": "TH-30",  # Nakhon Ratchasima
    "brm": "TH-31",  # Buriram
    "srn": "TH-32",  # Surin
    "ssk": "TH-33",  # Si Sa Ket
    "ubn": "TH-34",  # Ubon Ratchathani
    "yst": "TH-35",  # Yasothon
    "cpm": "TH-36",  # Chaiyaphum
    "acr": "TH-37",  # Amnat Charoen
    "bkn": "TH-38",  # Bueng Kan
    "nbp": "TH-39",  # Nong Bua Lam Phu
    "kkn": "TH-40",  # Khon Kaen
    "udn": "TH-41",  # Udon Thani
    "lei": "TH-42",  # Loei
    "nki": "TH-43",  # Nong Khai
    "mkm": "TH-44",  # Maha Sarakham
    "ret": "TH-45",  # Roi Et
    "ksn": "TH-46",  # Kalasin
    "snk": "TH-47",  # Sakon Nakhon
    "npm": "TH-48",  # Nakhon Phanom
    "mdh": "TH-49",  # Mukdahan
    "cmi": "TH-50",  # Chiang Mai
    "lpn": "TH-51",  # Lamphun
    "lpg": "TH-52",  # Lampang
    "utd": "TH-53",  # Uttaradit
    "pre": "TH-54",  # Phrae
    "nan": "TH-55",  # Nan
    "pyo": "TH-56",  # Phayao
    "cri": "TH-57",  # Chiang Rai
    "msn": "TH-58",  # Mae Hong Son
    "nsn": "TH-60",  # Nakhon Sawan
    "uti": "TH-61",  # Uthai Thani
    "kpt": "TH-62",  # Kamphaeng Phet
    "tak": "TH-63",  # Tak
    "sti": "TH-64",  # Sukhothai
    "plk": "TH-65",  # Phitsanulok
    "pct": "TH-66",  # Phichit
    "pnb": "TH-67",  # Phetchabun
    "rbr": "TH-70",  # Ratchaburi
    "kri": "TH-71",  # Kanchanaburi
    "spb": "TH-72",  # Suphan Buri
    "npt": "TH-73",  # Nakhon Pathom
    "skn": "TH-74",  # Samut Sakhon
    "skm": "TH-75",  # Samut Songkhram
    "pbi": "TH-76",  # Phetchaburi
    "pkn": "TH-77",  # Prachuap Khiri Khan
    "nrt": "TH-80",  # Nakhon Si Thammarat
    "kbi": "TH-81",  # Krabi
    "pna": "TH-82",  # Phangnga
    "pkt": "TH-83",  # Phuket
    "sni": "TH-84",  # Surat Thani
    "rng": "TH-85",  # Ranong
    "cpn": "TH-86",  # Chumphon
    "ska": "TH-90",  # Songkhla
    "stn": "TH-91",  # Satun
    "trg": "TH-92",  # Trang
    "plg": "TH-93",  # Phatthalung
    "ptn": "TH-94",  # Pattani
    "yla": "TH-95",  # Yala
    "nwt": "TH-96",  # Narathiwat
}


@cache
def map_ids() -> dict[str, str]:
    """The ids and names (``aria-label``) of the paths in the vendored SVG file."""
    return dict(re.findall(r'id="([^"]+)"\s+aria-label="([^"]+)"', _svg_text()))


@cache
def _svg_text() -> str:
    return (files("dcatalog.web") / "static" / MAP_FILE).read_text(encoding="utf-8")


def inline_svg(fills: dict[str, str], *, water: str = "#cfe3f0", border: str = "#ffffff") -> str:
    """The whole map as one ``<svg>`` element with each province's colour written on
    its path, for a document that cannot load the file by reference (the PDF
    renderer reads only its fonts). ``fills``: map id → colour; a province left
    out is drawn grey (no data)."""

    def painted(match: re.Match[str]) -> str:
        map_id = match[1]
        colour = water if map_id in WATER else fills.get(map_id, "#d6d2c8")
        return f'id="{map_id}" fill="{colour}" stroke="{border}" stroke-width="0.6"'

    svg = re.sub(r'id="([^"]+)"', painted, _svg_text())
    return svg.replace("<svg", '<svg class="map" role="img"', 1)
