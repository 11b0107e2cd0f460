"""Synthetic teams, products, network, customers and services for demos and benchmarks.

Customers live in real Australian localities (``data/localities.csv``), drawn with
population-like weights, and each service hangs off a node (fixed line) or cell (mobile) under
the exchange of its locality. The output depends only on the arguments: a single
``random.Random(seed)`` makes every draw, in a fixed order, so the same arguments give
byte-identical files.

Customers are made in fixed-size chunks: categorical attributes are drawn for a whole chunk at
once with ``Random.choices(k=...)`` and rows are plain tuples of strings handed to
``csv.writer.writerows``, which keeps a million customers well under a minute.
"""

from __future__ import annotations

import csv
import json
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import TextIO, TypeVar

Row = tuple[str, ...]
T = TypeVar("T")

TEAM_COLUMNS = ("external_id", "name", "email")
PRODUCT_COLUMNS = ("code", "name", "kind", "monthly_charge")
NETWORK_COLUMNS = (
    "external_id",
    "name",
    "kind",
    "parent_external_id",
    "state",
    "latitude",
    "longitude",
)
CUSTOMER_COLUMNS = (
    "external_id",
    "name",
    "preferred_name",
    "segment",
    "language",
    "email",
    "mobile",
    "phone",
    "push_token",
    "channel_order",
    "consent_email",
    "consent_sms",
    "consent_push",
    "consent_voice",
    "time_zone",
    "quiet_hours_start",
    "quiet_hours_end",
    "priority_assistance",
    "accessibility_needs",
    "team_external_id",
    "is_former",
    "payment_reference",
)
SERVICE_COLUMNS = (
    "external_id",
    "customer_external_id",
    "product_code",
    "monthly_charge",
    "address",
    "postcode",
    "locality",
    "state",
    "remoteness",
    "latitude",
    "longitude",
    "element_external_id",
    "sla_tier",
    "is_active",
)
FILE_COLUMNS = {
    "teams": TEAM_COLUMNS,
    "products": PRODUCT_COLUMNS,
    "network": NETWORK_COLUMNS,
    "customers": CUSTOMER_COLUMNS,
    "services": SERVICE_COLUMNS,
}
FORMATS = ("csv", "jsonl")
BOOLEAN_COLUMNS = frozenset(
    {
        "consent_email",
        "consent_sms",
        "consent_push",
        "consent_voice",
        "priority_assistance",
        "is_former",
        "is_active",
    }
)
NUMBER_COLUMNS = frozenset({"latitude", "longitude"})

TRUE, FALSE = "true", "false"
CHUNK_SIZE = 50_000
SERVICES_PER_LEAF = 300

STATE_NAMES = {
    "NSW": "New South Wales",
    "VIC": "Victoria",
    "QLD": "Queensland",
    "WA": "Western Australia",
    "SA": "South Australia",
    "TAS": "Tasmania",
    "ACT": "Australian Capital Territory",
    "NT": "Northern Territory",
}
TIME_ZONES = {
    "NSW": "Australia/Sydney",
    "ACT": "Australia/Sydney",
    "VIC": "Australia/Melbourne",
    "TAS": "Australia/Hobart",
    "QLD": "Australia/Brisbane",
    "WA": "Australia/Perth",
    "SA": "Australia/Adelaide",
    "NT": "Australia/Darwin",
}
# Number prefixes (after +61) inside ranges the numbering plan has allocated, so that every
# generated number passes the importer's phonenumbers validation. All of one list have the
# same length.
MOBILE_PREFIXES = ("40", "41", "42", "43", "46")
LANDLINE_PREFIXES = {
    "NSW": ("292", "293", "298"),
    "ACT": ("261", "262"),
    "VIC": ("392", "395", "398"),
    "TAS": ("362", "363"),
    "QLD": ("732", "733", "738"),
    "WA": ("892", "893", "894"),
    "SA": ("882", "883"),
    "NT": ("889",),
}
# (external id, name, latitude, longitude), and which core serves each state.
CORES = (
    ("CORE-SYD", "Sydney core", -33.86882, 151.20929),
    ("CORE-MEL", "Melbourne core", -37.81360, 144.96310),
)
CORE_OF_STATE = {
    "NSW": "CORE-SYD",
    "ACT": "CORE-SYD",
    "QLD": "CORE-SYD",
    "NT": "CORE-SYD",
    "VIC": "CORE-MEL",
    "TAS": "CORE-MEL",
    "SA": "CORE-MEL",
    "WA": "CORE-MEL",
}
# Non-metro localities of a state are split in two regions once there are this many.
SPLIT_REGION_AT = 8


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    name: str
    kind: str
    cents: int


PRODUCTS = (
    Product("MOB-BASIC", "Mobile Basic", "mobile", 3500),
    Product("MOB-PLUS", "Mobile Plus", "mobile", 5500),
    Product("NBN-50", "Home Internet 50", "fixed_broadband", 8900),
    Product("NBN-100", "Home Internet 100", "fixed_broadband", 10900),
    Product("NBN-1000", "Home Internet 1000", "fixed_broadband", 14900),
    Product("VOICE-HOME", "Home Phone", "voice", 3000),
    Product("TV-STD", "TV Standard", "tv", 2500),
    Product("BIZ-NBN-100", "Business Internet 100", "fixed_broadband", 12900),
    Product("BIZ-MOB", "Business Mobile", "mobile", 6500),
    Product("ENT-FIBRE", "Enterprise Fibre", "fixed_broadband", 89900),
)
PRODUCT_BY_CODE = {product.code: product for product in PRODUCTS}


@dataclass(frozen=True, slots=True)
class Segment:
    """A customer segment: how common it is, its care team, SLA tier and product mix."""

    name: str
    weight: float
    team: str
    sla_tier: str
    products: tuple[Product, ...]
    product_weights: tuple[float, ...]
    product_cum_weights: tuple[float, ...]


def _segment(name: str, weight: float, team: str, sla_tier: str, mix: dict[str, float]) -> Segment:
    products = tuple(PRODUCT_BY_CODE[code] for code in mix)
    weights = tuple(mix.values())
    return Segment(name, weight, team, sla_tier, products, weights, tuple(accumulate(weights)))


SEGMENTS = (
    _segment(
        "consumer",
        90.0,
        "CONSUMER",
        "standard",
        {
            "MOB-BASIC": 25,
            "MOB-PLUS": 20,
            "NBN-50": 22,
            "NBN-100": 15,
            "NBN-1000": 4,
            "VOICE-HOME": 7,
            "TV-STD": 7,
        },
    ),
    _segment("small_business", 8.0, "BUSINESS", "business", {"BIZ-NBN-100": 50, "BIZ-MOB": 50}),
    _segment("enterprise", 1.2, "ENTERPRISE", "enterprise", {"ENT-FIBRE": 45, "BIZ-MOB": 55}),
    _segment("government", 0.8, "ENTERPRISE", "enterprise", {"ENT-FIBRE": 45, "BIZ-MOB": 55}),
)
TEAMS = (
    ("CONSUMER", "Consumer Care"),
    ("BUSINESS", "Business Care"),
    ("ENTERPRISE", "Enterprise & Government"),
)
SERVICE_COUNTS = (1, 2, 3, 4)
SERVICE_COUNT_WEIGHTS = (77.0, 17.0, 4.5, 1.5)
CHANNEL_ORDERS = (
    ("email;sms;push;voice", 40.0),
    ("sms;email;push;voice", 30.0),
    ("push;sms;email;voice", 15.0),
    ("sms;voice;email;push", 10.0),
    ("voice;sms;email;push", 5.0),
)
ACCESSIBILITY_NEEDS = ("large_print", "tty", "screen_reader", "hearing", "interpreter")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
BUSINESS_MAILBOXES = ("accounts", "admin", "office", "info")
STREET_SUFFIXES = ("St", "Rd", "Ave", "Cres", "Pl", "Dr", "Ct", "Pde", "Way", "Tce", "Lane")
STREET_NAMES = (
    "George", "King", "Queen", "Victoria", "Elizabeth", "Albert", "Church", "High", "Station",
    "Railway", "Park", "Bridge", "Mill", "Hill", "Beach", "Ocean", "River", "Forest", "Banksia",
    "Wattle", "Acacia", "Jacaranda", "Waratah", "Bottlebrush", "Ironbark", "Coolabah", "Bunya",
    "Lilly Pilly", "Kurrajong", "Grevillea", "Boronia", "Flinders", "Cook", "Macquarie",
    "Hume", "Sturt", "Mitchell", "Oxley", "Lawson", "Wentworth", "Blaxland", "Parkes",
    "Barton", "Deakin", "Chifley", "Curtin", "Menzies", "Hawke", "Cathy Freeman", "Bradman",
    "Jubilee", "Federation", "Anzac", "Anderson", "Murray", "Darling", "Lachlan", "Namoi",
    "Yarra", "Torrens", "Swan", "Derwent", "Todd", "Fitzroy", "Burdekin", "Hastings",
)  # fmt: skip
TRADES = (
    "Plumbing", "Electrical", "Carpentry", "Accounting", "Legal", "Dental", "Physiotherapy",
    "Cafe", "Bakery", "Motors", "Landscaping", "Building", "Cleaning", "Removals", "Florist",
    "Pharmacy", "Veterinary Clinic", "Hair Studio", "Real Estate", "IT Services", "Transport",
    "Painting", "Roofing", "Pool Services", "Pest Control", "Optometry", "Catering",
)  # fmt: skip
ENTERPRISE_WORDS = (
    "Southern Cross", "Pacific", "Austral", "Coastal", "Summit", "Harbour", "Red Gum",
    "Ironbark", "Outback", "Great Southern", "Bluewater", "Eureka", "Sunburnt", "Kookaburra",
)  # fmt: skip
INDUSTRIES = (
    "Logistics", "Mining", "Health", "Energy", "Insurance", "Construction", "Agriculture",
    "Foods", "Retail", "Property", "Engineering", "Freight", "Water", "Education",
)  # fmt: skip
PORTFOLIOS = ("Education", "Health", "Transport", "Justice", "Planning", "Emergency Services")


@dataclass(frozen=True, slots=True)
class Language:
    """A language and the names of people who prefer it: (display, email slug) pairs."""

    code: str
    weight: float
    first_names: tuple[tuple[str, str], ...]
    last_names: tuple[tuple[str, str], ...]


def _names(text: str) -> tuple[tuple[str, str], ...]:
    names = text.split(",")
    return tuple((name, "".join(c for c in name.lower() if c.isalnum())) for name in names)


LANGUAGES = (
    Language(
        "en",
        80.0,
        _names(
            "Oliver,Jack,William,Noah,Thomas,James,Lucas,Henry,Charlie,Leo,Ethan,Liam,Mason,"
            "Samuel,Harrison,Lachlan,Cooper,Isaac,Hudson,Archie,Joshua,Daniel,Matthew,Benjamin,"
            "Ryan,Michael,David,Andrew,Peter,Mark,Paul,Stephen,John,Robert,Christopher,Scott,"
            "Craig,Shane,Brett,Darren,Glenn,Wayne,Kevin,Ian,Graham,Neil,Bruce,Trevor,Charlotte,"
            "Olivia,Amelia,Isla,Mia,Ava,Grace,Chloe,Sophie,Ruby,Emily,Zoe,Ella,Harper,Matilda,"
            "Evie,Willow,Ivy,Sienna,Lily,Jessica,Sarah,Emma,Hannah,Rebecca,Laura,Amy,Rachel,"
            "Michelle,Lisa,Karen,Kylie,Melissa,Nicole,Jennifer,Susan,Margaret,Patricia,Helen,"
            "Julie,Deborah,Sharon,Catherine,Elizabeth,Anne,Joanne,Kate,Tahlia,Jarrah,Kirra,"
            "Jedda,Mikayla,Priya,Aisha,Mei,Wei,Anh,Minh,Omar,Ali,Nikos,Marco,Giulia,Arjun"
        ),
        _names(
            "Smith,Jones,Williams,Brown,Wilson,Taylor,Johnson,White,Martin,Anderson,Thompson,"
            "Nguyen,Thomas,Walker,Harris,Lee,Ryan,Robinson,Kelly,King,Davis,Wright,Evans,"
            "Roberts,Green,Hall,Wood,Jackson,Clarke,Patel,Khan,Lewis,James,Phillips,Mitchell,"
            "Turner,Campbell,O'Brien,Murphy,Hughes,Edwards,Scott,Young,Allen,Baker,Stewart,"
            "Morris,Cook,Bennett,Cooper,Murray,Ward,Collins,Russell,Bell,Kennedy,Sullivan,"
            "McDonald,Graham,Fraser,Hunter,Hill,Watson,Carter,Chapman,Reid,Morgan,Shaw,Price,"
            "Gibson,Lawson,Doyle,Quinn,Brennan,Walsh,Fitzgerald,O'Connor,Byrne,Singh,Chen,"
            "Wang,Li,Zhang,Tran,Le,Pham,Rossi,Papadopoulos,Kaur,Kim,Haddad,Goodwin,Mundine,"
            "Bamblett,Briggs,Watego,Thorpe,Mansell,Dodson,Pearson,Moran,Anning,Djerrkura"
        ),
    ),
    Language(
        "zh",
        5.0,
        _names(
            "Wei,Jing,Li,Xin,Hui,Yan,Ming,Jun,Hao,Lei,Fang,Yu,Xiaoming,Mei,Ying,Jie,Tao,Lin,"
            "Qing,Zhen,Kevin,Jenny,Vivian,Eric"
        ),
        _names(
            "Wang,Li,Zhang,Liu,Chen,Yang,Huang,Zhao,Wu,Zhou,Xu,Sun,Ma,Zhu,Hu,Guo,He,Lin,Luo,"
            "Gao,Wong,Chan,Lam,Cheung,Ho,Leung"
        ),
    ),
    Language(
        "vi",
        3.0,
        _names(
            "Anh,Minh,Thanh,Linh,Huong,Tuan,Hung,Duc,Lan,Mai,Hoa,Nam,Quang,Trang,Phuong,Thao,"
            "Khoa,Bao,Vy,Long"
        ),
        _names("Nguyen,Tran,Le,Pham,Hoang,Huynh,Phan,Vu,Vo,Dang,Bui,Do,Ho,Ngo,Duong,Ly,Truong"),
    ),
    Language(
        "ar",
        3.0,
        _names(
            "Mohammed,Ahmad,Ali,Omar,Hassan,Hussein,Khaled,Youssef,Ibrahim,Karim,Fatima,Mariam,"
            "Aisha,Layla,Zainab,Rania,Nour,Sara,Hana,Leila,Jamal,Bilal,Rami,Samir"
        ),
        _names(
            "Haddad,Khoury,Nasser,Saleh,Hamdan,Mansour,Aziz,Khalil,Ibrahim,Hassan,Abdallah,"
            "Farah,Habib,Issa,Kassem,Saad,Rahman,Ahmed,Taha,Youssef,El-Masri,Chahine"
        ),
    ),
    Language(
        "el",
        2.5,
        _names(
            "Georgios,Nikolaos,Dimitrios,Konstantinos,Ioannis,Christos,Panagiotis,Vasilios,"
            "Maria,Eleni,Aikaterini,Sofia,Anastasia,Despina,Georgia,Angeliki,Stavros,Kostas,"
            "Nick,Peter,Helen,Voula"
        ),
        _names(
            "Papadopoulos,Georgiou,Dimitriou,Nikolaidis,Konstantinidis,Karagiannis,Vlahos,"
            "Pappas,Christodoulou,Michailidis,Economou,Antoniou,Kouris,Stavrou,Alexiou,Galanis,"
            "Mavros,Theodorou"
        ),
    ),
    Language(
        "it",
        2.5,
        _names(
            "Giuseppe,Antonio,Giovanni,Salvatore,Francesco,Luigi,Marco,Luca,Alessandro,Matteo,"
            "Maria,Giulia,Francesca,Rosa,Anna,Lucia,Chiara,Sofia,Giovanna,Carmela,Tony,Frank,Joe"
        ),
        _names(
            "Rossi,Russo,Ferrari,Esposito,Bianchi,Romano,Colombo,Ricci,Marino,Greco,Bruno,"
            "Gallo,Conti,De Luca,Costa,Giordano,Mancini,Rizzo,Lombardi,Moretti,Santoro,Caruso,"
            "Fontana,Barbieri"
        ),
    ),
    Language(
        "hi",
        2.5,
        _names(
            "Aarav,Arjun,Rohan,Rahul,Vikram,Amit,Sanjay,Raj,Anil,Suresh,Priya,Ananya,Aditi,"
            "Kavya,Neha,Pooja,Sunita,Deepa,Anjali,Meera,Harpreet,Gurpreet,Manpreet,Simran"
        ),
        _names(
            "Sharma,Patel,Singh,Kumar,Gupta,Mehta,Reddy,Rao,Iyer,Nair,Joshi,Shah,Agarwal,"
            "Chopra,Malhotra,Kaur,Gill,Sandhu,Verma,Desai"
        ),
    ),
    Language(
        "ko",
        1.5,
        _names(
            "Min-jun,Seo-yeon,Ji-ho,Ha-eun,Do-yun,Ji-woo,Seo-jun,Su-bin,Ye-jin,Hyun-woo,Eun-ji,"
            "Jae-won,Sung-min,Young-hee,Dong-hyun,Ji-hye"
        ),
        _names("Kim,Lee,Park,Choi,Jung,Kang,Cho,Yoon,Jang,Lim,Han,Oh,Seo,Shin,Kwon,Hwang,Song,Ahn"),
    ),
)

# Rates, as probabilities.
EMAIL_MISSING = 0.08
MOBILE_MISSING = 0.05
LANDLINE = 0.25
PUSH_TOKEN = 0.40
QUIET_HOURS = 0.60
EMAIL_OPT_OUT = 0.05
SMS_OPT_OUT = 0.03
PUSH_OPT_OUT = 0.02
VOICE_OPT_OUT = 0.02
# Priority assistance and accessibility needs are people's, so only consumers get them; the
# consumer rates are scaled so the overall rates come out near 0.5 % and 3 %.
PRIORITY_ASSISTANCE = 0.0055
ACCESSIBILITY = 0.033
FORMER = 0.03
FORMER_PAYMENT_REFERENCE = 0.5
DISCOUNTED = 0.10
SECOND_SITE = 0.30  # of businesses with more than one service
JITTER_DEGREES = {"major_city": 0.02, "regional": 0.03, "remote": 0.05}


@dataclass(frozen=True, slots=True)
class Locality:
    name: str
    postcode: str
    state: str
    remoteness: str
    latitude: float
    longitude: float
    weight: float


@dataclass(frozen=True, slots=True)
class Area:
    """A locality with the network leaves that serve it."""

    locality: Locality
    nodes: tuple[str, ...]
    cells: tuple[str, ...]


def load_localities() -> list[Locality]:
    """The shipped table of Australian localities, in file order."""
    text = resources.files("amends.network").joinpath("data", "localities.csv").read_text("utf-8")
    return [
        Locality(
            row["locality"],
            row["postcode"],
            row["state"],
            row["remoteness"],
            float(row["latitude"]),
            float(row["longitude"]),
            float(row["weight"]),
        )
        for row in csv.DictReader(text.splitlines())
    ]


def generate(*, customers: int, out_dir: Path, seed: int = 1, fmt: str = "csv") -> dict[str, int]:
    """Write the five files for ``customers`` customers into ``out_dir``; return row counts."""
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = Random(seed)  # noqa: S311 - reproducible test data, not secrets
    localities = load_localities()
    network_rows, areas = _network(rng, localities, customers)
    counts = {
        "teams": _write(out_dir, "teams", fmt, _team_rows()),
        "products": _write(out_dir, "products", fmt, _product_rows()),
        "network": _write(out_dir, "network", fmt, network_rows),
    }
    population = _Population(rng, areas)
    with (
        _Sink(out_dir, "customers", fmt) as customer_sink,
        _Sink(out_dir, "services", fmt) as service_sink,
    ):
        for start in range(1, customers + 1, CHUNK_SIZE):
            customer_rows, service_rows = population.chunk(
                start, min(CHUNK_SIZE, customers - start + 1)
            )
            customer_sink.write(customer_rows)
            service_sink.write(service_rows)
    counts["customers"] = customer_sink.count
    counts["services"] = service_sink.count
    return counts


class _Sink:
    """Writes rows of strings to ``<kind>.<fmt>``, typing booleans and numbers for JSON Lines."""

    def __init__(self, out_dir: Path, kind: str, fmt: str) -> None:
        self.columns = FILE_COLUMNS[kind]
        self.fmt = fmt
        self.count = 0
        self.file: TextIO = (out_dir / f"{kind}.{fmt}").open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.file, lineterminator="\n")
        if fmt == "csv":
            self.writer.writerow(self.columns)
        self.booleans = [i for i, name in enumerate(self.columns) if name in BOOLEAN_COLUMNS]
        self.numbers = [i for i, name in enumerate(self.columns) if name in NUMBER_COLUMNS]

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.file.close()

    def write(self, rows: Sequence[Row]) -> None:
        self.count += len(rows)
        if self.fmt == "csv":
            self.writer.writerows(rows)
        else:
            self.file.writelines(self._json_line(row) for row in rows)

    def _json_line(self, row: Row) -> str:
        values: list[str | bool | float] = list(row)
        for i in self.booleans:
            values[i] = row[i] == TRUE
        for i in self.numbers:
            values[i] = float(row[i]) if row[i] else ""
        return json.dumps(dict(zip(self.columns, values, strict=True))) + "\n"


def _write(out_dir: Path, kind: str, fmt: str, rows: list[Row]) -> int:
    with _Sink(out_dir, kind, fmt) as sink:
        sink.write(rows)
    return sink.count


def _team_rows() -> list[Row]:
    return [
        (
            f"TEAM-{state}-{group}",
            f"{state} {label}",
            f"{state.lower()}.{group.lower()}@care.example.net",
        )
        for state in STATE_NAMES
        for group, label in TEAMS
    ]


def _product_rows() -> list[Row]:
    return [(p.code, p.name, p.kind, _money(p.cents)) for p in PRODUCTS]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _slug(text: str) -> str:
    """An external-id fragment: upper case letters and digits joined by single hyphens."""
    words = "".join(c if c.isalnum() else " " for c in text.upper()).split()
    return "-".join(words)


def _coord(value: float) -> str:
    return f"{value:.5f}"


def _network(
    rng: Random, localities: list[Locality], customers: int
) -> tuple[list[Row], list[Area]]:
    """Cores, regions, one exchange per locality, then nodes and cells sized to the load.

    Leaf counts come from the expected number of services of each kind in the locality, so a
    leaf carries about SERVICES_PER_LEAF services; every exchange has at least one of each.
    """
    rows: list[Row] = [
        (core_id, name, "core", "", "", _coord(lat), _coord(lon))
        for core_id, name, lat, lon in CORES
    ]
    region_of: dict[Locality, str] = {}
    for state in STATE_NAMES:
        in_state = [loc for loc in localities if loc.state == state]
        for suffix, members in _regions(in_state):
            region_id = f"REG-{state}-{suffix}"
            lat = sum(loc.latitude for loc in members) / len(members)
            lon = sum(loc.longitude for loc in members) / len(members)
            name = f"{STATE_NAMES[state]} {suffix.title()}"
            rows.append(
                (region_id, name, "region", CORE_OF_STATE[state], state, _coord(lat), _coord(lon))
            )
            region_of.update((loc, region_id) for loc in members)
    exchange_ids = [f"EX-{loc.state}-{loc.postcode}-{_slug(loc.name)}" for loc in localities]
    for loc, exchange_id in zip(localities, exchange_ids, strict=True):
        rows.append(
            (
                exchange_id,
                f"{loc.name} Exchange",
                "exchange",
                region_of[loc],
                loc.state,
                _coord(loc.latitude),
                _coord(loc.longitude),
            )
        )
    areas = _leaves(rng, localities, exchange_ids, customers, rows)
    return rows, areas


def _regions(in_state: list[Locality]) -> list[tuple[str, list[Locality]]]:
    """Metro localities form one region; the rest one, or two halves along their longer axis."""
    metro = [loc for loc in in_state if loc.remoteness == "major_city"]
    country = [loc for loc in in_state if loc.remoteness != "major_city"]
    regions = [("METRO", metro)] if metro else []
    if len(country) < SPLIT_REGION_AT:
        return regions + ([("COUNTRY", country)] if country else [])
    lat_span = max(loc.latitude for loc in country) - min(loc.latitude for loc in country)
    lon_span = max(loc.longitude for loc in country) - min(loc.longitude for loc in country)
    if lat_span >= lon_span:
        ordered = sorted(country, key=lambda loc: (-loc.latitude, loc.postcode))
        names = ("NORTH", "SOUTH")
    else:
        ordered = sorted(country, key=lambda loc: (loc.longitude, loc.postcode))
        names = ("WEST", "EAST")
    half = len(ordered) // 2
    return [*regions, (names[0], ordered[:half]), (names[1], ordered[half:])]


def _leaves(
    rng: Random,
    localities: list[Locality],
    exchange_ids: list[str],
    customers: int,
    rows: list[Row],
) -> list[Area]:
    """Append nodes and cells under each exchange to ``rows``; return each locality's leaves."""
    mobile_share = _mobile_share()
    services = customers * _mean(SERVICE_COUNTS, SERVICE_COUNT_WEIGHTS)
    total_weight = sum(loc.weight for loc in localities)
    areas = []
    for loc, exchange_id in zip(localities, exchange_ids, strict=True):
        expected = services * loc.weight / total_weight
        leaves: dict[str, tuple[str, ...]] = {}
        for kind, share in (("node", 1 - mobile_share), ("cell", mobile_share)):
            count = max(1, round(expected * share / SERVICES_PER_LEAF))
            base = exchange_id.removeprefix("EX-")
            leaves[kind] = tuple(f"{kind.upper()}-{base}-{n:03d}" for n in range(1, count + 1))
            jitter = JITTER_DEGREES[loc.remoteness]
            rows.extend(
                (
                    leaf_id,
                    f"{loc.name} {kind.title()} {n:03d}",
                    kind,
                    exchange_id,
                    loc.state,
                    _coord(loc.latitude + rng.uniform(-jitter, jitter)),
                    _coord(loc.longitude + rng.uniform(-jitter, jitter)),
                )
                for n, leaf_id in enumerate(leaves[kind], start=1)
            )
        areas.append(Area(loc, leaves["node"], leaves["cell"]))
    return areas


def _mean(values: Sequence[int], weights: Sequence[float]) -> float:
    return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


def _mobile_share() -> float:
    """Expected fraction of services that are mobile, from the segment and product mixes."""
    total = sum(segment.weight for segment in SEGMENTS)
    share = 0.0
    for segment in SEGMENTS:
        pairs = zip(segment.products, segment.product_weights, strict=True)
        mobile = sum(weight for product, weight in pairs if product.kind == "mobile")
        share += segment.weight / total * mobile / sum(segment.product_weights)
    return share


Site = tuple[Row, str, str]
"""Where services are: (address..longitude columns of a service row, node id, cell id)."""

SEGMENT_CUM_WEIGHTS = tuple(accumulate(segment.weight for segment in SEGMENTS))
LANGUAGE_CUM_WEIGHTS = tuple(accumulate(language.weight for language in LANGUAGES))
SERVICE_COUNT_CUM_WEIGHTS = tuple(accumulate(SERVICE_COUNT_WEIGHTS))
CHANNEL_ORDER_VALUES = tuple(order for order, _ in CHANNEL_ORDERS)
CHANNEL_ORDER_CUM_WEIGHTS = tuple(accumulate(weight for _, weight in CHANNEL_ORDERS))
PRICES = {product.code: _money(product.cents) for product in PRODUCTS}
NUMBER_SPACE = 10**8  # key offsets are taken modulo the (smaller) space of each number kind
NumberKey = tuple[int, int, int, int]


class _Population:
    """Draws customers and their services, a chunk at a time, from one random stream."""

    def __init__(self, rng: Random, areas: list[Area]) -> None:
        self.rng = rng
        self.areas = areas
        self.area_cum_weights = tuple(accumulate(area.locality.weight for area in areas))
        self.next_service = 1
        self.mobile_key = _number_key(rng)
        self.phone_key = _number_key(rng)

    def chunk(self, start: int, count: int) -> tuple[list[Row], list[Row]]:
        """Customers ``start`` .. ``start + count - 1`` and all their services."""
        rng = self.rng
        segments = rng.choices(SEGMENTS, cum_weights=SEGMENT_CUM_WEIGHTS, k=count)
        languages = rng.choices(LANGUAGES, cum_weights=LANGUAGE_CUM_WEIGHTS, k=count)
        homes = rng.choices(self.areas, cum_weights=self.area_cum_weights, k=count)
        service_counts = rng.choices(SERVICE_COUNTS, cum_weights=SERVICE_COUNT_CUM_WEIGHTS, k=count)
        channel_orders = rng.choices(
            CHANNEL_ORDER_VALUES, cum_weights=CHANNEL_ORDER_CUM_WEIGHTS, k=count
        )
        customers: list[Row] = []
        services: list[Row] = []
        for i in range(count):
            number = start + i
            former = rng.random() < FORMER
            row = self._customer(
                number, segments[i], languages[i], homes[i], channel_orders[i], former
            )
            customers.append(row)
            self._services(row[0], segments[i], homes[i], service_counts[i], former, services)
        return customers, services

    def _customer(
        self,
        number: int,
        segment: Segment,
        language: Language,
        home: Area,
        channel_order: str,
        former: bool,
    ) -> Row:
        r = self.rng.random
        first, first_slug = _pick(language.first_names, r())
        last, last_slug = _pick(language.last_names, r())
        state = home.locality.state
        consumer = segment.name == "consumer"
        if consumer:
            name = f"{first} {last}"
            mailbox = _person_mailbox(first_slug, last_slug, number, r())
        else:
            name = self._business_name(segment, last, home.locality)
            mailbox = f"{_pick(BUSINESS_MAILBOXES, r())}.{last_slug}{number}"
        quiet = r() < QUIET_HOURS
        return (
            f"C{number:08d}",
            name,
            first,
            segment.name,
            language.code,
            "" if r() < EMAIL_MISSING else f"{mailbox}@{_pick(EMAIL_DOMAINS, r())}",
            "" if r() < MOBILE_MISSING else _number(MOBILE_PREFIXES, self.mobile_key, number),
            _number(LANDLINE_PREFIXES[state], self.phone_key, number) if r() < LANDLINE else "",
            f"{self.rng.getrandbits(256):064x}" if r() < PUSH_TOKEN else "",
            channel_order,
            _flag(r() >= EMAIL_OPT_OUT),
            _flag(r() >= SMS_OPT_OUT),
            _flag(r() >= PUSH_OPT_OUT),
            _flag(r() >= VOICE_OPT_OUT),
            TIME_ZONES[state],
            "21:00" if quiet else "",
            "08:00" if quiet else "",
            _flag(consumer and r() < PRIORITY_ASSISTANCE),
            self._accessibility_needs() if consumer and r() < ACCESSIBILITY else "",
            f"TEAM-{state}-{segment.team}",
            _flag(former),
            f"PAY-{self.rng.getrandbits(40):010X}"
            if former and r() < FORMER_PAYMENT_REFERENCE
            else "",
        )

    def _business_name(self, segment: Segment, last: str, locality: Locality) -> str:
        r = self.rng.random
        if segment.name == "small_business":
            trade = _pick(TRADES, r())
            return f"{last} {trade} Pty Ltd" if r() < 0.7 else f"{locality.name} {trade}"
        if segment.name == "enterprise":
            return f"{_pick(ENTERPRISE_WORDS, r())} {_pick(INDUSTRIES, r())} Ltd"
        kind = r()
        if kind < 0.4:
            return f"{STATE_NAMES[locality.state]} Department of {_pick(PORTFOLIOS, r())}"
        if kind < 0.7:
            return f"{locality.name} Hospital"
        if locality.remoteness == "major_city":
            return f"City of {locality.name}"
        return f"{locality.name} Regional Council"

    def _accessibility_needs(self) -> str:
        count = 1 if self.rng.random() < 0.8 else 2
        chosen = sorted(self.rng.sample(range(len(ACCESSIBILITY_NEEDS)), count))
        return ";".join(ACCESSIBILITY_NEEDS[i] for i in chosen)

    def _services(
        self,
        customer_id: str,
        segment: Segment,
        home: Area,
        count: int,
        former: bool,
        out: list[Row],
    ) -> None:
        """Append ``count`` services; a business's later ones may be at a second site."""
        r = self.rng.random
        sites = [self._site(home)]
        if count > 1 and segment.name != "consumer" and r() < SECOND_SITE:
            sites.append(self._site(self._random_area()))
        active = _flag(not former)
        total = segment.product_cum_weights[-1]
        for k in range(count):
            fields, node, cell = sites[min(k, len(sites) - 1)]
            product = segment.products[bisect(segment.product_cum_weights, r() * total)]
            charge = PRICES[product.code]
            if r() < DISCOUNTED:
                percent_off = 10 + int(r() * 11)
                charge = _money((product.cents * (100 - percent_off) + 50) // 100)
            element = cell if product.kind == "mobile" else node
            service_id = f"S{self.next_service:09d}"
            self.next_service += 1
            out.append(
                (service_id, customer_id, product.code, charge, *fields, element)
                + (segment.sla_tier, active)
            )

    def _site(self, area: Area) -> Site:
        r = self.rng.random
        loc = area.locality
        jitter = JITTER_DEGREES[loc.remoteness]
        address = f"{1 + int(r() * 250)} {_pick(STREET_NAMES, r())} {_pick(STREET_SUFFIXES, r())}"
        fields = (
            address,
            loc.postcode,
            loc.name,
            loc.state,
            loc.remoteness,
            _coord(loc.latitude + (2 * r() - 1) * jitter),
            _coord(loc.longitude + (2 * r() - 1) * jitter),
        )
        return fields, _pick(area.nodes, r()), _pick(area.cells, r())

    def _random_area(self) -> Area:
        return self.rng.choices(self.areas, cum_weights=self.area_cum_weights)[0]


def _pick(options: Sequence[T], u: float) -> T:
    """The option a uniform draw ``u`` in [0, 1) lands on."""
    return options[int(u * len(options))]


def _person_mailbox(first: str, last: str, number: int, u: float) -> str:
    """A realistic mailbox; the customer number keeps addresses unique."""
    if u < 0.5:
        return f"{first}.{last}{number}"
    if u < 0.8:
        return f"{first[0]}{last}{number}"
    return f"{first}{last[0]}{number}"


def _flag(value: bool) -> str:
    return TRUE if value else FALSE


def _number(prefixes: Sequence[str], key: NumberKey, number: int) -> str:
    """An E.164 number unique to customer ``number`` among those drawn from ``prefixes``.

    The customer number picks a prefix (``number % len``) and, through a bijection of the
    remaining digits' space (two affine maps with the digits reversed in between, so that
    consecutive customers are not a constant step apart), the rest of the national number.
    """
    digits = 9 - len(prefixes[0])
    space = 10**digits
    a1, b1, a2, b2 = key
    index, slot = divmod(number, len(prefixes))
    reversed_digits = int(f"{(a1 * index + b1) % space:0{digits}d}"[::-1])
    return f"+61{prefixes[slot]}{(a2 * reversed_digits + b2) % space:0{digits}d}"


def _number_key(rng: Random) -> NumberKey:
    return (_unit(rng), rng.randrange(NUMBER_SPACE), _unit(rng), rng.randrange(NUMBER_SPACE))


def _unit(rng: Random) -> int:
    """A multiplier coprime with 10**8 (odd, not a multiple of 5), so it permutes 0..10**8-1."""
    multiplier = rng.randrange(NUMBER_SPACE // 10, NUMBER_SPACE)
    while multiplier % 2 == 0 or multiplier % 5 == 0:
        multiplier += 1
    return multiplier
