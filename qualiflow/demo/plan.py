"""The demo plant as data, and the plan of its people: pure and deterministic from the random generator.

华澄医疗器械 makes sterile single-use infusion sets (输液器): parts are injection-moulded, assembled in a
clean room, packed, EO-sterilised at the second site and released by the QC lab and QA. Nothing here
touches the database; `seeding` turns the plan into records.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from .names import PersonName, random_name

PLANT_YEARS = 12
EMAIL_DOMAIN = "huacheng-med.example"
MOBILE_PREFIXES = ("135", "136", "137", "138", "139", "150", "151", "158", "159", "177", "180", "186", "188", "189")


@dataclass(frozen=True)
class CompanySpec:
    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class SiteSpec:
    code: str
    name: str
    name_en: str
    time_zone: str
    address: str


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    site: str
    name: str
    name_en: str


@dataclass(frozen=True)
class WorkCenterSpec:
    suffix: str
    name: str
    name_en: str


@dataclass(frozen=True)
class LineSpec:
    code: str
    department: str
    name: str
    name_en: str
    clean_room_class: str
    work_centers: tuple[WorkCenterSpec, ...]


@dataclass(frozen=True)
class PositionSpec:
    code: str
    name: str
    name_en: str
    description: str
    female_share: float
    office: bool  # office staff have a company e-mail address; shop-floor staff do not


COMPANY = CompanySpec("HC", "华澄医疗器械有限公司", "Huacheng Medical Devices Co., Ltd.")

SITES = (
    SiteSpec("SZ", "苏州工厂", "Suzhou plant", "Asia/Shanghai", "江苏省苏州市工业园区星湖街 1 号"),
    SiteSpec("CZ", "常州工厂", "Changzhou plant", "Asia/Shanghai", "江苏省常州市武进区凤林路 8 号"),
)

DEPARTMENTS = (
    DepartmentSpec("SZ-ASM", "SZ", "洁净组装车间", "Clean-room assembly"),
    DepartmentSpec("SZ-IM", "SZ", "注塑车间", "Injection moulding"),
    DepartmentSpec("SZ-PK", "SZ", "包装车间", "Packaging"),
    DepartmentSpec("SZ-QC", "SZ", "质检实验室", "QC laboratory"),
    DepartmentSpec("SZ-MT", "SZ", "设备维修部", "Maintenance"),
    DepartmentSpec("SZ-HR", "SZ", "人力资源部", "Human resources"),
    DepartmentSpec("SZ-QA", "SZ", "质量保证部", "Quality assurance"),
    DepartmentSpec("CZ-EO", "CZ", "环氧乙烷灭菌车间", "EO sterilisation"),
    DepartmentSpec("CZ-PK", "CZ", "包装车间", "Packaging"),
    DepartmentSpec("CZ-QC", "CZ", "质检实验室", "QC laboratory"),
    DepartmentSpec("CZ-MT", "CZ", "设备维修部", "Maintenance"),
    DepartmentSpec("CZ-QA", "CZ", "质量保证部", "Quality assurance"),
)

_ASSEMBLY_STATIONS = (
    WorkCenterSpec("01", "瓶塞穿刺器组装", "Spike assembly"),
    WorkCenterSpec("02", "滴斗组装", "Drip chamber assembly"),
    WorkCenterSpec("03", "导管粘接", "Tubing bonding"),
    WorkCenterSpec("04", "流量调节器装配", "Flow regulator fitting"),
    WorkCenterSpec("05", "气密性检测", "Leak test"),
    WorkCenterSpec("06", "目检", "Visual inspection"),
)
_MOULDING_STATIONS = tuple(
    WorkCenterSpec(f"{n:02d}", f"注塑机 {n} 号", f"Injection moulding machine {n}") for n in range(1, 5)
)
_PACKAGING_STATIONS = (
    WorkCenterSpec("01", "吸塑包装机", "Blister packaging machine"),
    WorkCenterSpec("02", "封口机", "Heat sealer"),
    WorkCenterSpec("03", "装箱", "Case packing"),
)

LINES = (
    LineSpec("SZ-ASM-A", "SZ-ASM", "输液器组装线A", "Infusion set assembly line A", "ISO 8 (十万级)", _ASSEMBLY_STATIONS),
    LineSpec("SZ-ASM-B", "SZ-ASM", "输液器组装线B", "Infusion set assembly line B", "ISO 8 (十万级)", _ASSEMBLY_STATIONS),
    LineSpec("SZ-IM-1", "SZ-IM", "注塑线1", "Moulding line 1", "ISO 8 (十万级)", _MOULDING_STATIONS),
    LineSpec("SZ-IM-2", "SZ-IM", "注塑线2", "Moulding line 2", "ISO 8 (十万级)", _MOULDING_STATIONS),
    LineSpec("SZ-PK-1", "SZ-PK", "包装线1", "Packaging line 1", "ISO 8 (十万级)", _PACKAGING_STATIONS),
    LineSpec(
        "CZ-EO-1", "CZ-EO", "EO灭菌柜区", "EO sterilisation chamber area", "受控非洁净区 (CNC)",
        (
            WorkCenterSpec("01", "预处理间", "Preconditioning room"),
            WorkCenterSpec("02", "1 号灭菌柜", "Steriliser 1"),
            WorkCenterSpec("03", "2 号灭菌柜", "Steriliser 2"),
            WorkCenterSpec("04", "解析间", "Aeration room"),
        ),
    ),
    LineSpec("CZ-PK-2", "CZ-PK", "包装线2", "Packaging line 2", "受控非洁净区 (CNC)", _PACKAGING_STATIONS),
)

POSITIONS = (
    PositionSpec("OP-ASM", "组装操作工", "Assembly operator", "洁净区内输液器组装与过程检验", 0.7, False),
    PositionSpec("OP-IM", "注塑操作工", "Injection moulding operator", "注塑机操作、换模与首件确认", 0.3, False),
    PositionSpec("OP-EO", "灭菌操作工", "Sterilisation operator", "EO 灭菌柜装载、运行与解析", 0.2, False),
    PositionSpec("OP-PK", "包装操作工", "Packaging operator", "初包装封口、贴标与装箱", 0.65, False),
    PositionSpec("QC-INS", "质检员", "QC inspector", "进货、过程与成品检验及微生物、无菌检测", 0.6, True),
    PositionSpec("MT-TECH", "设备维修技师", "Maintenance technician", "设备维护保养与故障维修", 0.1, True),
    PositionSpec("MT-MET", "计量员", "Metrology technician", "计量器具校准与管理", 0.3, True),
    PositionSpec("TL", "班组长", "Team leader", "带班生产、首件确认与班组培训", 0.5, True),
    PositionSpec("SUP", "生产主管", "Production supervisor", "生产线计划、人员与质量负责人", 0.35, True),
    PositionSpec("WS-MGR", "车间主任", "Workshop manager", "车间生产、人员与设备总负责", 0.3, True),
    PositionSpec("QC-MGR", "质检主管", "QC supervisor", "检验计划与放行检验负责人", 0.5, True),
    PositionSpec("MT-MGR", "设备主管", "Maintenance supervisor", "设备与计量管理负责人", 0.15, True),
    PositionSpec("QA-ENG", "QA 工程师", "QA engineer", "偏差、CAPA、变更与内审", 0.5, True),
    PositionSpec("QA-MGR", "质量经理", "Quality manager", "质量体系与产品放行负责人", 0.45, True),
    PositionSpec("TRN", "培训专员", "Training specialist", "培训计划、上岗培训与资质管理", 0.7, True),
    PositionSpec("HR-SPEC", "人事专员", "HR specialist", "招聘、入离职与员工档案", 0.75, True),
    PositionSpec("HR-MGR", "人事经理", "HR manager", "人力资源管理负责人", 0.6, True),
)
POSITIONS_BY_CODE = {p.code: p for p in POSITIONS}
OPERATOR_POSITIONS = ("OP-ASM", "OP-IM", "OP-EO", "OP-PK")


@dataclass(frozen=True)
class Unit:
    """A team: one head, optional team leaders (one per `span` members), and members by position weight."""

    department: str
    line: str | None
    share: float  # share of the headcount beyond the minimum staffing
    head: str
    members: tuple[tuple[str, float], ...] = ()
    leader: str | None = None
    span: int = 12


def _line_unit(line: str, member: str, share: float) -> Unit:
    return Unit(line.rsplit("-", 1)[0], line, share, head="SUP", members=((member, 1.0),), leader="TL")


UNITS = (
    *(Unit(dept, None, 0.0, head="WS-MGR") for dept in ("SZ-ASM", "SZ-IM", "SZ-PK", "CZ-EO", "CZ-PK")),
    _line_unit("SZ-ASM-A", "OP-ASM", 21),
    _line_unit("SZ-ASM-B", "OP-ASM", 19),
    _line_unit("SZ-IM-1", "OP-IM", 7),
    _line_unit("SZ-IM-2", "OP-IM", 6),
    _line_unit("SZ-PK-1", "OP-PK", 8),
    _line_unit("CZ-EO-1", "OP-EO", 6),
    _line_unit("CZ-PK-2", "OP-PK", 7),
    Unit("SZ-QC", None, 6, head="QC-MGR", members=(("QC-INS", 1.0),)),
    Unit("CZ-QC", None, 3, head="QC-MGR", members=(("QC-INS", 1.0),)),
    Unit("SZ-MT", None, 4, head="MT-MGR", members=(("MT-TECH", 3.0), ("MT-MET", 1.0))),
    Unit("CZ-MT", None, 3, head="MT-MGR", members=(("MT-TECH", 3.0), ("MT-MET", 1.0))),
    Unit("SZ-HR", None, 2, head="HR-MGR", members=(("HR-SPEC", 2.0), ("TRN", 1.0))),
    Unit("SZ-QA", None, 3, head="QA-MGR", members=(("QA-ENG", 1.0),)),
    Unit("CZ-QA", None, 1.5, head="QA-MGR", members=(("QA-ENG", 1.0),)),
)

# The people the demo logins belong to: (department, line, position) of the first such member.
LINKED_LOGINS = {
    "hr": ("SZ-HR", None, "HR-MGR"),
    "training": ("SZ-HR", None, "TRN"),
    "supervisor.a": ("SZ-ASM", "SZ-ASM-A", "SUP"),
    "operator": ("SZ-ASM", "SZ-ASM-A", "OP-ASM"),
    "qa": ("SZ-QA", None, "QA-ENG"),
    "maintenance": ("SZ-MT", None, "MT-TECH"),
}

# Who held which position before: promotions up the ladder, and transfers across the shop floor.
PROMOTED_FROM = {
    "WS-MGR": "SUP", "SUP": "TL", "QC-MGR": "QC-INS", "MT-MGR": "MT-TECH", "QA-MGR": "QA-ENG",
    "HR-MGR": "HR-SPEC", "TRN": "HR-SPEC", "MT-MET": "MT-TECH",
}
TRANSFERRED_FROM = {
    "OP-ASM": ("OP-PK", "OP-IM"), "OP-PK": ("OP-ASM",), "OP-IM": ("OP-ASM", "OP-PK"), "OP-EO": ("OP-PK",),
    "QC-INS": ("OP-ASM", "OP-PK"),
}

EMPLOYMENT_MIX = {
    "shop_floor": (("staff", 0.80), ("temporary", 0.14), ("contractor", 0.03), ("intern", 0.03)),
    "technical": (("staff", 0.85), ("contractor", 0.15)),
    "office": (("staff", 0.88), ("intern", 0.12)),
}


@dataclass
class PlannedEmployee:
    slot: int
    department: str
    site: str
    line: str | None
    position: str
    tier: str  # head, leader or member
    manager_slot: int | None = None
    login: str | None = None
    name: PersonName | None = None
    employment_type: str = "staff"
    hire_date: dt.date | None = None
    birth_date: dt.date | None = None
    termination_date: dt.date | None = None
    history: list[tuple[str, dt.date, dt.date | None]] = field(default_factory=list)
    employee_number: str = ""
    legacy_hr_key: str = ""
    email: str = ""
    phone: str = ""


def minimum_headcount() -> int:
    return sum(_minimum(unit) for unit in UNITS)


def _minimum(unit: Unit) -> int:
    return 1 + (1 if unit.leader else 0) + len(unit.members)


def unit_sizes(total: int) -> list[int]:
    """Each unit's headcount: its minimum staffing plus the rest shared by largest remainder."""
    minimums = [_minimum(u) for u in UNITS]
    spare = total - sum(minimums)
    if spare < 0:
        raise ValueError(f"the demo plant needs at least {sum(minimums)} employees")
    weight = sum(u.share for u in UNITS)
    exact = [spare * u.share / weight for u in UNITS]
    sizes = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(UNITS)), key=lambda i: (-(exact[i] - sizes[i]), i))
    for i in by_remainder[: spare - sum(sizes)]:
        sizes[i] += 1
    return [m + s for m, s in zip(minimums, sizes, strict=True)]


def plan_people(rng: random.Random, total: int, today: dt.date) -> list[PlannedEmployee]:
    """Everyone the plant employs or employed, ordered and numbered by hire date."""
    people = _staff_units(rng, total)
    _link_logins(people)
    for person in people:
        _describe(rng, person, today)
    people.sort(key=lambda p: (p.hire_date, p.slot))
    _number(people)
    return people


def _staff_units(rng: random.Random, total: int) -> list[PlannedEmployee]:
    site_of = {d.code: d.site for d in DEPARTMENTS}
    people: list[PlannedEmployee] = []
    department_heads: dict[str, int] = {}

    def add(unit: Unit, position: str, tier: str, manager: int | None) -> PlannedEmployee:
        person = PlannedEmployee(len(people), unit.department, site_of[unit.department], unit.line, position, tier, manager)
        people.append(person)
        return person

    for unit, size in zip(UNITS, unit_sizes(total), strict=True):
        head = add(unit, unit.head, "head", department_heads.get(unit.department) if unit.line else None)
        if unit.line is None:
            department_heads[unit.department] = head.slot
        remaining = size - 1
        leaders = []
        if unit.leader:
            count = max(1, math.ceil(remaining / (unit.span + 1)))
            leaders = [add(unit, unit.leader, "leader", head.slot) for _ in range(count)]
            remaining -= count
        if not unit.members:
            continue
        positions = [code for code, _ in unit.members]
        weights = [w for _, w in unit.members]
        for position in positions + rng.choices(positions, weights=weights, k=remaining - len(positions)):
            manager = rng.choice(leaders).slot if leaders else head.slot
            add(unit, position, "member", manager)
    return people


def _link_logins(people: list[PlannedEmployee]) -> None:
    for login, (department, line, position) in LINKED_LOGINS.items():
        person = next(p for p in people if (p.department, p.line, p.position) == (department, line, position))
        person.login = login


def _category(position: str) -> str:
    if position in OPERATOR_POSITIONS:
        return "shop_floor"
    if position.startswith("MT-"):
        return "technical"
    return "office"


def _describe(rng: random.Random, person: PlannedEmployee, today: dt.date) -> None:
    spec = POSITIONS_BY_CODE[person.position]
    person.name = random_name(rng, female=rng.random() < spec.female_share)
    if person.tier == "member" and person.login is None:
        kinds, weights = zip(*EMPLOYMENT_MIX[_category(person.position)], strict=True)
        person.employment_type = rng.choices(kinds, weights=weights)[0]
    person.hire_date = today - dt.timedelta(days=_days_since_hire(rng, person))
    age_range = (19, 23) if person.employment_type == "intern" else (28, 50) if person.tier == "head" else (18, 45)
    person.birth_date = person.hire_date - dt.timedelta(days=rng.randint(*age_range) * 365 + rng.randint(0, 364))
    person.history = _history(rng, person, today)
    if person.tier == "member" and person.login is None and rng.random() < 0.05:
        _terminate(rng, person, today)
    person.phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _days_since_hire(rng: random.Random, person: PlannedEmployee) -> int:
    """Temporary staff and interns are recent; leads have been here for years; most hires are recent."""
    plant_days = PLANT_YEARS * 365
    if person.employment_type == "temporary":
        return rng.randint(7, 540)
    if person.employment_type == "intern":
        return rng.randint(7, 300)
    if person.employment_type == "contractor":
        return rng.randint(30, 5 * 365)
    if person.tier == "head":
        return rng.randint(3 * 365, plant_days)
    if person.tier == "leader":
        return rng.randint(2 * 365, plant_days)
    return int(rng.triangular(7, plant_days, 180))


def _history(rng: random.Random, person: PlannedEmployee, today: dt.date) -> list[tuple[str, dt.date, dt.date | None]]:
    """Earlier positions, oldest first: up to three promotions, or one transfer across the shop floor."""
    chain = [person.position]
    while chain[0] in PROMOTED_FROM and len(chain) < 4 and rng.random() < 0.6:
        chain.insert(0, PROMOTED_FROM[chain[0]])
    if len(chain) == 1 and person.position in TRANSFERRED_FROM and rng.random() < 0.12:
        chain.insert(0, rng.choice(TRANSFERRED_FROM[person.position]))
    if chain[0] == "TL" and person.line:
        member_position = next(u.members[0][0] for u in UNITS if u.line == person.line)
        if rng.random() < 0.6:
            chain.insert(0, member_position)
    # Changes happen at least 120 days after hire and 30 days before today, on distinct days.
    candidates = range(120, (today - person.hire_date).days - 30, 30)
    changes = min(len(chain) - 1, len(candidates))
    chain = chain[len(chain) - 1 - changes:]
    starts = [person.hire_date] + [
        person.hire_date + dt.timedelta(days=d) for d in sorted(rng.sample(candidates, changes))
    ]
    ends = [*starts[1:], None]
    return list(zip(chain, starts, ends, strict=True))


def _terminate(rng: random.Random, person: PlannedEmployee, today: dt.date) -> None:
    last_start = person.history[-1][1]
    available = (today - last_start).days - 1
    if available < 30:
        return
    person.termination_date = last_start + dt.timedelta(days=rng.randint(30, available))
    position, start, _ = person.history[-1]
    person.history[-1] = (position, start, person.termination_date)


def _number(people: list[PlannedEmployee]) -> None:
    """Employee numbers run per hire year (2015 00042); the legacy HR system numbered everyone in one series."""
    per_year: dict[int, int] = {}
    mailboxes: dict[str, int] = {}
    for index, person in enumerate(people, start=1):
        year = person.hire_date.year
        per_year[year] = per_year.get(year, 0) + 1
        person.employee_number = f"{year}{per_year[year]:05d}"
        person.legacy_hr_key = f"HR{index:06d}"
        if POSITIONS_BY_CODE[person.position].office:
            local = person.name.latin_name.lower().replace(" ", "").replace("'", "")
            mailboxes[local] = mailboxes.get(local, 0) + 1
            suffix = str(mailboxes[local]) if mailboxes[local] > 1 else ""
            person.email = f"{local}{suffix}@{EMAIL_DOMAIN}"
