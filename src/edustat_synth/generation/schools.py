"""The school population of one county, created once and evolved year by year.

A school keeps its code, name, type, staffing habits and buildings across years; enrolment drifts
with the county trend, junior cohorts move through 初一→初三 (so graduates in year Y follow the
intake of Y-3), assets grow, bandwidth is upgraded, and now and then a 教学点 closes, two small
village schools merge or a new urban school opens. Derived yearly values live in `records`.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from edustat_synth.generation.counties import CountyProfile, CountyUnit
from edustat_synth.generation.names import NameBook

# The simulation always starts here, so a given year's file does not depend on which other
# years were requested (2018 is before any year a platform run is expected to ask for).
BASE_YEAR = 2018
BANDWIDTH_LADDER = (10, 20, 50, 100, 200, 300, 500, 1000)
CODE_BLOCK = 4000  # school-code sequence numbers reserved per county within its province

HAS_PRIMARY = frozenset({"211", "218", "312", "345"})
HAS_JUNIOR = frozenset({"311", "312", "341", "345"})
HAS_SENIOR = frozenset({"341", "345"})
CATEGORY = {"211": "21", "218": "21", "311": "31", "312": "31", "341": "34", "345": "34"}

TYPES = ("211", "218", "311", "312", "341", "345")
# Relative frequency of each type by area group; 218 is scaled by the county's bias.
TYPE_WEIGHTS = {
    "city": (60, 0, 11, 8, 6, 1.5),
    "town": (52, 6, 11, 9, 6, 1.5),
    "r210": (45, 18, 10, 13, 2, 0.3),
    "r220": (50, 85, 1, 2, 0, 0),
}
# Enrolment (low, high, mode) by type, section and area group, before the county size factor
# and ENROLMENT_SCALE (which brings the country to ~108 million primary and ~52 million junior).
ENROLMENT: dict[tuple[str, str], dict[str, tuple[int, int, int]]] = {
    ("211", "primary"): {"city": (1000, 2500, 1600), "town": (400, 1800, 900),
                         "r210": (150, 900, 380), "r220": (30, 400, 110)},
    ("312", "primary"): {"city": (600, 1500, 1000), "town": (300, 1100, 600),
                         "r210": (100, 600, 280), "r220": (60, 350, 150)},
    ("345", "primary"): {"city": (500, 1300, 900), "town": (300, 1000, 600),
                         "r210": (150, 600, 300), "r220": (100, 400, 200)},
    ("311", "junior"): {"city": (900, 2200, 1400), "town": (500, 2000, 1100),
                        "r210": (250, 1100, 550), "r220": (100, 450, 220)},
    ("312", "junior"): {"city": (400, 1000, 650), "town": (200, 800, 450),
                        "r210": (80, 500, 230), "r220": (45, 300, 120)},
    ("341", "junior"): {"city": (600, 1600, 1000), "town": (400, 1400, 800),
                        "r210": (200, 800, 400), "r220": (150, 500, 300)},
    ("345", "junior"): {"city": (400, 1000, 650), "town": (250, 800, 450),
                        "r210": (100, 500, 250), "r220": (80, 300, 150)},
    ("341", "senior"): {"city": (900, 2600, 1500), "town": (600, 2200, 1200),
                        "r210": (200, 900, 450), "r220": (150, 600, 300)},
    ("345", "senior"): {"city": (300, 1200, 600), "town": (200, 900, 450),
                        "r210": (100, 500, 250), "r220": (80, 300, 150)},
}
# City primary schools keep their full size (1,000-2,500 pupils); the countryside shrinks.
ENROLMENT_SCALE = {"primary": 0.62, "junior": 1.08, "senior": 0.8}
# 2017 thresholds (primary, junior) extended to 高中 for whole-school assets.
TEACHING_AREA = (4.5, 5.8, 6.5)
SPORTS_AREA = (7.5, 10.2, 11.0)
EQUIPMENT_YUAN = (2000, 2500, 3000)


def group_of(area: str) -> str:
    if area in ("111", "112"):
        return "city"
    if area in ("121", "122", "123"):
        return "town"
    return f"r{area}"  # r210 乡中心区, r220 村庄


@dataclass(slots=True)
class School:
    code: str
    name: str
    type: str
    area: str
    opened: int
    primary: float = 0.0
    senior: float = 0.0
    intakes: dict[int, float] = field(default_factory=dict)
    retention: float = 1.0
    ratio_p: float = 15.0
    ratio_j: float = 12.0
    qual_p: float = 0.9
    qual_j: float = 0.85
    title_p: float = 0.5
    title_j: float = 0.5
    backbone_p: float = 0.1
    backbone_j: float = 0.1
    pe_p: float = 0.12
    pe_j: float = 0.12
    class_p: float = 40.0
    class_j: float = 45.0
    max_factor: float = 1.1
    crowded: bool = False
    teaching_area: float = 0.0
    sports_area: float = 0.0
    equipment: float = 0.0  # 万元
    books: float = 0.0
    computers: float = 0.0
    spare_rooms: int = 0
    music_rooms: int = 0
    art_rooms: int = 0
    multimedia: float = 0.8  # share of classrooms with network multimedia
    internet: bool = True
    bw_index: int = 3

    @property
    def group(self) -> str:
        return group_of(self.area)


def _lognormal(rng: random.Random, sigma: float) -> float:
    return math.exp(rng.gauss(0, sigma) - sigma * sigma / 2)


def _pick(rng: random.Random, options: tuple[str, ...], weights: tuple[float, ...]) -> str:
    return rng.choices(options, weights)[0]


class County:
    """One county's schools; `years()` yields them as they stand in each statistics year."""

    def __init__(self, unit: CountyUnit, profile: CountyProfile, seed: int) -> None:
        self.unit = unit
        self.p = profile
        self.rng = random.Random(f"edustat:{seed}:schools:{unit.code}")
        self.names = NameBook(unit.name, self.rng)
        self.codes: set[str] = set()
        self.year = BASE_YEAR
        self.schools: list[School] = []

    # -- creation ---------------------------------------------------------------------------
    def _code(self, school_type: str) -> str:
        base = self.unit.index_in_province * CODE_BLOCK
        prefix = CATEGORY[school_type] + self.unit.province
        while True:
            code = f"{prefix}{base + self.rng.randrange(CODE_BLOCK):06d}"
            if code not in self.codes:
                self.codes.add(code)
                return code

    def _area(self) -> str:
        u = self.p.urbanity
        city = min(0.98, u**1.5 * 1.05)
        town = (1 - city) * min(1.0, 0.2 + 0.3 * u)
        r = self.rng.random()
        if r < city:
            return "111" if self.rng.random() < 0.75 else "112"
        if r < city + town:
            return _pick(self.rng, ("121", "122", "123"), (0.8, 0.18, 0.02))
        return "210" if self.rng.random() < 0.3 else "220"

    def _plan(self, n: int) -> list[tuple[str, str]]:
        """(area, type) for the base year, fixed so that 小学 lead and a junior school exists."""
        plan = []
        for _ in range(n):
            area = self._area()
            weights = list(TYPE_WEIGHTS[group_of(area)])
            weights[1] *= self.p.teaching_point_bias
            school_type = _pick(self.rng, TYPES, tuple(weights))
            if school_type == "218" and area.startswith("12"):
                area = "122"  # a town's 教学点 sits in its rural fringe (镇乡结合区)
            plan.append((area, school_type))
        # Small counties can draw an odd mix; 小学 are the most common type everywhere.
        while True:
            counts = Counter(t for _, t in plan)
            top = max((t for t in TYPES if t != "211"), key=lambda t: (counts[t], t))
            if counts["211"] > counts[top]:
                break
            i = max(i for i, (_, t) in enumerate(plan) if t == top)
            plan[i] = (plan[i][0], "211")
        if not any(t in HAS_JUNIOR for _, t in plan):
            urban = ("111", "112", "121", "122", "123")
            i = next((i for i, (a, t) in enumerate(plan) if t == "211" and a in urban), 0)
            plan[i] = (plan[i][0] if plan[i][0] in urban else "121", "311")
        return plan

    def _enrol(self, school_type: str, section: str, group: str, fill: float = 1.0) -> float:
        low, high, mode = ENROLMENT[(school_type, section)][group]
        calibration = 0.9 if (group, section) == ("city", "primary") else ENROLMENT_SCALE[section]
        scale = self.p.school_size * calibration * fill
        return self.rng.triangular(low, high, mode) * scale

    def new_school(self, school_type: str, area: str, fill: float = 1.0) -> School:
        """A school as it stands in its first year; `fill` < 1 for a school still filling up."""
        rng, p, g = self.rng, self.p, group_of(area)
        sigma = p.balance_sigma
        s = School(self._code(school_type), self.names.school(school_type, area),
                   school_type, area, self.year)
        rural = g in ("r210", "r220")
        if school_type == "218":
            s.primary = rng.triangular(5, 60, 18)
        elif school_type in HAS_PRIMARY:
            s.primary = self._enrol(school_type, "primary", g, fill)
        junior = self._enrol(school_type, "junior", g, fill) if school_type in HAS_JUNIOR else 0.0
        if school_type in HAS_SENIOR:
            s.senior = self._enrol(school_type, "senior", g, fill)
        s.retention = p.retention * (1 + rng.gauss(0, 0.012))
        if junior:
            step = s.retention ** (1 / 3)
            intake = junior / (1 + step + step * step)
            span = 0 if fill < 1 else 3  # a new school has no older cohorts
            for back in range(span, -1, -1):
                s.intakes[self.year - back] = max(
                    5.0, intake * p.junior_trend ** (-back) * (1 + rng.gauss(0, 0.04)))

        ratio_factor = {"city": 1.06, "town": 1.0, "r210": 0.9, "r220": 0.8}[g]
        s.ratio_p = min(24.0, p.primary_ratio * ratio_factor * _lognormal(rng, 0.35 * sigma))
        s.ratio_j = min(20.0, p.junior_ratio * (0.5 + ratio_factor / 2)
                        * _lognormal(rng, 0.35 * sigma))
        edge = 0.03 if g == "city" else -0.03 if rural else 0.0
        s.qual_p = min(1.0, max(0.3, p.qualified_primary + edge + rng.gauss(0, 0.15 * sigma)))
        s.qual_j = min(1.0, max(0.3, p.qualified_junior + edge + rng.gauss(0, 0.15 * sigma)))
        s.title_p = min(0.95, max(0.1, p.senior_title + rng.gauss(0, 0.08)))
        s.title_j = min(0.95, max(0.1, p.senior_title + 0.05 + rng.gauss(0, 0.08)))
        backbone = p.backbone * (1.2 if g == "city" else 0.8 if rural else 1.0)
        s.backbone_p = backbone * _lognormal(rng, 0.6 * sigma)
        s.backbone_j = backbone * _lognormal(rng, 0.6 * sigma)
        s.pe_p = p.pe_arts * (0.85 if rural else 1.0) * _lognormal(rng, 0.5 * sigma)
        s.pe_j = p.pe_arts * (0.9 if rural else 1.05) * _lognormal(rng, 0.5 * sigma)

        crowd = p.crowding if g == "city" else p.crowding / 2 if g == "town" else 0.0
        s.crowded = school_type in ("211", "311", "312") and rng.random() < crowd
        lo_p, hi_p = {"city": (40, 46), "town": (35, 44), "r210": (28, 40), "r220": (20, 35)}[g]
        lo_j, hi_j = {"city": (44, 50), "town": (42, 49), "r210": (36, 46), "r220": (28, 42)}[g]
        s.class_p = rng.uniform(50, 57) if s.crowded else rng.uniform(lo_p, hi_p)
        s.class_j = rng.uniform(52, 58) if s.crowded else rng.uniform(lo_j, hi_j)
        s.max_factor = rng.uniform(1.04, 1.2)

        # Buildings follow the county's means, scaled per school; one shared draw makes a
        # well-funded school good on every asset, as in real returns.
        shared = rng.gauss(0, 1)

        def noise() -> float:
            return math.exp(sigma * (0.6 * shared + 0.8 * rng.gauss(0, 1)) - sigma * sigma / 2)

        sections = (s.primary, junior, s.senior)
        total = sum(sections)
        teach = {"city": 0.9, "town": 1.0, "r210": 1.1, "r220": 1.2}[g]
        sport = {"city": 0.55, "town": 0.95, "r210": 1.3, "r220": 1.5}[g]
        equip = {"city": 1.15, "town": 1.0, "r210": 0.9, "r220": 0.8}[g]
        s.teaching_area = 80 + noise() * teach * p.teaching_area_level * sum(
            n * t for n, t in zip(sections, TEACHING_AREA, strict=True))
        s.sports_area = 150 + noise() * sport * p.sports_area_level * sum(
            n * t for n, t in zip(sections, SPORTS_AREA, strict=True))
        s.equipment = (20000 + noise() * equip * p.equipment_level * sum(
            n * t for n, t in zip(sections, EQUIPMENT_YUAN, strict=True))) / 10000
        s.books = 300 + total * p.books_per_student * (1.3 if not s.primary else 1.0) \
            * _lognormal(rng, 0.25)
        s.computers = 2 + total * p.computers_per_100 / 100 * _lognormal(rng, 0.3)
        s.spare_rooms = 0 if s.crowded else rng.randint(0, 1 if school_type == "218" else 3)
        s.multimedia = min(1.0, max(0.2, p.multimedia_coverage
                                    * (1.05 if g == "city" else 0.9 if rural else 1.0)
                                    * (0.8 if school_type == "218" else 1.0)
                                    * _lognormal(rng, 0.1)))
        if school_type != "218":
            classes = math.ceil(s.primary / s.class_p) + math.ceil(junior / s.class_j)
            need = max(1, math.ceil(classes / 12))
            short = rng.random() < p.room_shortfall * (1.3 if rural else 0.7)
            s.music_rooms = max(0, need - 1) if short and rng.random() < 0.5 else need
            s.art_rooms = max(0, need - 1) if short else need + int(rng.random() < 0.1)
        offline = {"city": 0.0, "town": 0.003, "r210": 0.01, "r220": 0.03}[g]
        if school_type == "218":
            offline = 0.2 * (1.3 - min(1.0, p.wealth / 1.3))
        s.internet = rng.random() >= offline
        ladder = {"city": ((3, 4, 5, 6, 7), (1, 3, 3, 2, 2)), "town": ((2, 3, 4, 5), (2, 4, 3, 1)),
                  "r210": ((1, 2, 3, 4), (2, 3, 4, 1)), "r220": ((0, 1, 2, 3), (3, 3, 3, 2))}[g]
        steps, weights = ((0, 1, 2), (4, 3, 2)) if school_type == "218" else ladder
        s.bw_index = min(7, max(0, rng.choices(steps, weights)[0] + p.bandwidth_shift))
        return s

    def create(self) -> None:
        self.schools = [self.new_school(t, a) for a, t in self._plan(self.p.n_schools)]

    # -- evolution --------------------------------------------------------------------------
    def _receiver(self, leaving: School, same_type: bool) -> School | None:
        pool = [s for s in self.schools if s is not leaving and (
            s.type == leaving.type if same_type else s.type in ("211", "312"))]
        near = [s for s in pool if s.group == leaving.group or s.area in ("210", "220")]
        return self.rng.choice(near or pool) if pool else None

    def _absorb(self, receiver: School, leaving: School) -> None:
        receiver.primary += leaving.primary
        receiver.senior += leaving.senior
        for year, intake in leaving.intakes.items():
            receiver.intakes[year] = receiver.intakes.get(year, 0.0) + intake
        self.schools.remove(leaving)

    def _open(self) -> None:
        rng = self.rng
        urban = rng.random() < self.p.urbanity
        area = rng.choice(("111", "111", "112")) if urban else "121"
        school = self.new_school("312" if rng.random() < 0.3 else "211", area, fill=0.5)
        # The pupils come from the schools around it: county totals do not jump.
        donors = sorted((s for s in self.schools if s.type in ("211", "312")),
                        key=lambda s: -s.primary)[:3]
        if donors:
            share = min(0.25, school.primary / sum(d.primary for d in donors))
            for d in donors:
                d.primary *= 1 - share
        self.schools.append(school)

    def step(self) -> None:
        """Move every school one statistics year on."""
        rng, p = self.rng, self.p
        self.year += 1
        for s in list(self.schools):
            if s.type in HAS_PRIMARY:
                s.primary *= p.primary_trend * (1 + rng.gauss(0, 0.03))
                if s.type == "218":
                    s.primary = min(60.0, s.primary)
            if s.senior:
                s.senior *= 1 + rng.gauss(0.005, 0.03)
            if s.intakes:
                last = s.intakes[max(s.intakes)]
                s.intakes[self.year] = max(5.0, last * p.junior_trend * (1 + rng.gauss(0, 0.04)))
            s.equipment *= 1 + rng.uniform(0.01, 0.08)
            s.books *= 1 + rng.uniform(0.0, 0.04)
            s.computers *= 1 + rng.uniform(-0.03, 0.07)
            s.multimedia += (1 - s.multimedia) * rng.uniform(0.03, 0.2)
            s.qual_p = min(1.0, s.qual_p + rng.uniform(0, 0.012))
            s.qual_j = min(1.0, s.qual_j + rng.uniform(0, 0.012))
            if not s.internet and rng.random() < 0.06:
                s.internet = True
            if rng.random() < 0.12:
                s.bw_index = min(len(BANDWIDTH_LADDER) - 1, s.bw_index + 1)
            if rng.random() < 0.015:  # a new teaching block
                s.teaching_area *= rng.uniform(1.1, 1.3)
                s.sports_area *= rng.uniform(1.0, 1.2)
                s.spare_rooms += 2
            # Consolidation: 教学点 close, tiny village schools merge into a neighbour.
            closing = s.type == "218" and (s.primary < 5 or rng.random() < 0.02)
            merging = s.type == "211" and s.area == "220" and s.primary < 120 \
                and rng.random() < 0.012
            if closing or merging:
                receiver = self._receiver(s, same_type=merging)
                if receiver is not None:
                    self._absorb(receiver, s)
        if rng.random() < 0.05 + 0.35 * p.urbanity**2:
            self._open()

    def years(self, wanted: list[int]) -> Iterator[tuple[int, list[School]]]:
        """(year, schools) for each wanted year, in order, simulating from the base year."""
        start = min(BASE_YEAR, min(wanted))
        self.year = start
        self.create()
        for year in range(start, max(wanted) + 1):
            if year > start:
                self.step()
            if year in wanted:
                yield year, self.schools
