"""The demo plant's production and equipment as data: products, one routing per product with its
operations (work centers from the org plan, qualifications and controlled documents from the training
plan), equipment classes, and the assets of each line with their calibration and maintenance plans.

Pure: `production_seed` turns it into records. Each line makes one item (a moulded part, an assembled,
packed or sterilised infusion set), the way an MES tracks semi-finished goods stage by stage.

Days are relative to the seeding moment, so the equipment list always shows a living plant: most
calibrations current, a few due within the week, exactly one overdue (that asset is blocked), and one
leak tester that failed a calibration some months ago and passed again two days later (the runs since
its previous passing calibration are the impact QA assessed).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import plan
from . import training_plan as training


@dataclass(frozen=True)
class InspectionSpec:
    code: str
    characteristic: str
    unit: str = ""
    lower: float | None = None
    upper: float | None = None
    decimals: int = 2

    def as_point(self) -> dict:
        return {"code": self.code, "characteristic": self.characteristic, "unit": self.unit,
                "lower": self.lower, "upper": self.upper}


@dataclass(frozen=True)
class OperationSpec:
    sequence: int
    station: str  # work center suffix on the product's line
    name: str
    name_en: str
    standard_minutes: str  # per unit
    qualifications: tuple[str, ...]
    work_instruction: str | None = None
    equipment_class: str | None = None
    inspections: tuple[InspectionSpec, ...] = ()


@dataclass(frozen=True)
class ProductSpec:
    code: str
    name: str
    name_en: str
    model: str
    line: str
    lot_sizes: tuple[int, int, int]  # smallest, largest, step
    orders: int  # historical work orders over the last year
    operations: tuple[OperationSpec, ...]
    udi_di: str = ""
    device_class: str = "III"  # infusion sets are class III devices in China


@dataclass(frozen=True)
class EquipmentClassSpec:
    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class PlanSpec:
    kind: str  # maintenance or calibration
    title: str
    interval_days: int
    tasks: str = ""
    tolerance: str = ""
    external_lab: str = ""  # calibrated by an outside laboratory (certificate numbers) instead of in-house
    # Where the plan stands today: next due this many days from now (negative: overdue, so blocked).
    due_in_days: int | None = None
    failed_days_ago: int | None = None  # a calibration found out of tolerance this long ago, passed 2 days later
    open_maintenance: bool = False  # maintenance started a few hours ago and still open (the asset is blocked)


@dataclass(frozen=True)
class AssetSpec:
    asset_number: str
    name: str
    name_en: str
    equipment_class: str
    line: str
    station: str  # work center suffix
    manufacturer: str
    model_number: str
    serial_number: str
    plans: tuple[PlanSpec, ...]


EQUIPMENT_CLASSES = (
    EquipmentClassSpec("EC-LEAK", "气密性检测仪", "Leak tester"),
    EquipmentClassSpec("EC-IMM", "注塑机", "Injection moulding machine"),
    EquipmentClassSpec("EC-SEAL", "封口机", "Heat sealer"),
    EquipmentClassSpec("EC-EO", "环氧乙烷灭菌柜", "EO steriliser"),
)

# The qualification a technician must hold for each kind of plan (training plan: capabilities).
PLAN_QUALIFICATION = {"calibration": "Q-CAL", "maintenance": "Q-MT"}
CALIBRATION_LAB = "江苏省计量科学研究院"

_GMP_CLEAN = ("Q-CR-GOWN", "Q-HEALTH")
_ASSEMBLY = (
    OperationSpec(10, "01", "输液器组装 (瓶塞穿刺器、滴斗、导管与流量调节器)",
                  "Assembly (spike, drip chamber, tubing, flow regulator)", "0.25", ("Q-ASM-OP", *_GMP_CLEAN),
                  "WI-ASM-001", inspections=(InspectionSpec("BOND", "导管粘接拉脱力", "N", 15, None, 1),)),
    OperationSpec(20, "05", "气密性检测", "Leak test", "0.05", ("Q-LEAK", *_GMP_CLEAN), "WI-ASM-002", "EC-LEAK",
                  (InspectionSpec("LEAK", "压降 (50 kPa, 15 s)", "kPa", 0, 0.5, 2),)),
    OperationSpec(30, "06", "目检", "Visual inspection", "0.04", ("Q-VIS", "Q-CR-GOWN"),
                  inspections=(InspectionSpec("VIS", "外观 (异物、毛刺、缺件)"),)),
)
_MOULDING = (
    OperationSpec(10, "01", "注塑成型", "Injection moulding", "0.01", ("Q-IM-OP", *_GMP_CLEAN), "WI-IM-001", "EC-IMM",
                  (InspectionSpec("WALL", "壁厚", "mm", 0.9, 1.1, 3),)),
    OperationSpec(20, "02", "外观全检与计数", "Visual check and count", "0.01", ("Q-IM-OP", "Q-CR-GOWN"),
                  inspections=(InspectionSpec("VIS", "外观 (缩痕、飞边、黑点)"),)),
)
_PACKAGING = (
    OperationSpec(10, "02", "吸塑包装与封口", "Blister packing and heat sealing", "0.05", ("Q-PK-SEAL", "Q-HEALTH"),
                  "SOP-PK-001", "EC-SEAL",
                  (InspectionSpec("PEEL", "封口强度", "N/15mm", 1.5, 5.0, 2), InspectionSpec("DYE", "染色渗透密封性"))),
    OperationSpec(20, "03", "装箱与贴标", "Case packing and labelling", "0.01", ("Q-GMP",),
                  inspections=(InspectionSpec("LABEL", "标签与批号核对"),)),
)
_STERILISATION = (
    OperationSpec(10, "01", "预处理", "Preconditioning", "0.01", ("Q-EO-LOAD", "Q-EO-EXPO"), "SOP-EO-001",
                  inspections=(InspectionSpec("TEMP", "预处理温度", "°C", 45, 55, 1),
                               InspectionSpec("RH", "预处理相对湿度", "%RH", 40, 80, 0))),
    OperationSpec(20, "02", "环氧乙烷灭菌", "EO sterilisation", "0.02", ("Q-EO-OP", "Q-SE-R1", "Q-EO-EXPO"),
                  "SOP-EO-001", "EC-EO",
                  (InspectionSpec("TEMP", "灭菌温度", "°C", 50, 58, 1), InspectionSpec("BI", "生物指示剂培养结果"))),
    OperationSpec(30, "04", "解析", "Aeration", "0.01", ("Q-EO-LOAD", "Q-EO-EXPO"), "SOP-EO-001",
                  inspections=(InspectionSpec("EO", "环氧乙烷残留量", "µg/g", 0, 10, 1),)),
)

PRODUCTS = (
    ProductSpec("HC-IS20-A", "一次性使用输液器 (组装半成品)", "Infusion set, assembled (unsterile)", "IS-20 带针 0.7mm",
                "SZ-ASM-A", (3000, 6000, 500), 52, _ASSEMBLY),
    ProductSpec("HC-ISPF-A", "一次性使用精密过滤输液器 (组装半成品)", "Precision-filter infusion set, assembled (unsterile)",
                "ISPF-5μm 带针 0.7mm", "SZ-ASM-B", (2000, 5000, 500), 46, _ASSEMBLY),
    ProductSpec("HC-DC-M", "滴斗注塑件", "Drip chamber, moulded", "DC-20 PVC", "SZ-IM-1", (20000, 48000, 4000), 24, _MOULDING),
    ProductSpec("HC-SP-M", "瓶塞穿刺器注塑件", "Spike, moulded", "SP-20 ABS", "SZ-IM-2", (20000, 48000, 4000), 24, _MOULDING),
    ProductSpec("HC-IS20-P", "一次性使用输液器 (包装半成品, 未灭菌)", "Infusion set, packed (unsterile)", "IS-20 单支吸塑",
                "SZ-PK-1", (3000, 6000, 500), 24, _PACKAGING),
    ProductSpec("HC-IS20", "一次性使用输液器 重力输液式 (灭菌)", "Infusion set, gravity feed, sterile", "IS-20 带针 0.7mm",
                "CZ-EO-1", (12000, 24000, 2000), 14, _STERILISATION, udi_di="06971234500017"),
    ProductSpec("HC-ISPF-P", "一次性使用精密过滤输液器 (包装半成品, 未灭菌)", "Precision-filter infusion set, packed (unsterile)",
                "ISPF-5μm 单支吸塑", "CZ-PK-2", (2000, 5000, 500), 16, _PACKAGING),
)


def _leak_tester(number: str, line: str, serial: str, *plans: PlanSpec) -> AssetSpec:
    return AssetSpec(number, "气密性检测仪", "Leak tester", "EC-LEAK", line, "05", "深圳精测", "JC-LT200", serial, plans)


def _leak_calibration(**when) -> PlanSpec:
    return PlanSpec("calibration", "压力传感器校准", 180, "压力传感器与计时器校准 (0-100 kPa)", "±0.05 kPa", **when)


def _moulder(number: str, line: str, station: str, serial: str, *, calibration: dict, maintenance: dict) -> AssetSpec:
    return AssetSpec(number, f"注塑机 {int(station)} 号", f"Injection moulding machine {int(station)}", "EC-IMM", line,
                     station, "海天", "MA1200III", serial, (
                         PlanSpec("calibration", "模温与料筒温度校准", 365, "料筒各段与模温机热电偶校准", "±2 °C", **calibration),
                         PlanSpec("maintenance", "季度保养", 90, "液压油检查, 拉杆润滑, 过滤器清洁", **maintenance),
                     ))


def _sealer(number: str, line: str, serial: str, *, due_in_days: int) -> AssetSpec:
    return AssetSpec(number, "封口机", "Heat sealer", "EC-SEAL", line, "02", "上海索普", "SPB-450", serial, (
        PlanSpec("calibration", "封口温度与压力校准", 180, "热封温度、压力与时间校准", "±3 °C", due_in_days=due_in_days),
        PlanSpec("maintenance", "月度保养", 30, "封口模具清洁, 加热板检查", due_in_days=12),
    ))


def _steriliser(number: str, station: str, serial: str, *, due_in_days: int) -> AssetSpec:
    index = int(station) - 1
    return AssetSpec(number, f"{index} 号环氧乙烷灭菌柜", f"EO steriliser {index}", "EC-EO", "CZ-EO-1", station,
                     "新华医疗", "HMQ-10", serial, (
                         PlanSpec("calibration", "温度、压力与湿度传感器校准", 365, "温度、压力、湿度传感器及记录仪校准",
                                  "温度 ±1 °C, 压力 ±1 kPa", external_lab=CALIBRATION_LAB, due_in_days=due_in_days),
                         PlanSpec("maintenance", "月度保养", 30, "门密封圈、真空泵与管路检查", due_in_days=9),
                     ))


ASSETS = (
    _leak_tester("SZ-LT-A01", "SZ-ASM-A", "LT2019-0412", _leak_calibration(due_in_days=64)),
    # The one overdue calibration: blocked since three days ago.
    _leak_tester("SZ-LT-A02", "SZ-ASM-A", "LT2021-1107", _leak_calibration(due_in_days=-3)),
    # Found out of tolerance about four months ago, adjusted and passed again two days later.
    _leak_tester("SZ-LT-B01", "SZ-ASM-B", "LT2020-0630", _leak_calibration(failed_days_ago=118)),
    _leak_tester("SZ-LT-B02", "SZ-ASM-B", "LT2022-0218", _leak_calibration(due_in_days=5)),
    _moulder("SZ-IMM-101", "SZ-IM-1", "01", "HT1512A001", calibration={"due_in_days": 140}, maintenance={"due_in_days": 40}),
    _moulder("SZ-IMM-102", "SZ-IM-1", "02", "HT1512A002", calibration={"due_in_days": 3}, maintenance={"due_in_days": 22}),
    _moulder("SZ-IMM-103", "SZ-IM-1", "03", "HT1706B114", calibration={"due_in_days": 211},
             maintenance={"due_in_days": 0, "open_maintenance": True}),
    _moulder("SZ-IMM-104", "SZ-IM-1", "04", "HT1706B115", calibration={"due_in_days": 97}, maintenance={"due_in_days": 61}),
    _moulder("SZ-IMM-201", "SZ-IM-2", "01", "HT1809C021", calibration={"due_in_days": 180}, maintenance={"due_in_days": 15}),
    _moulder("SZ-IMM-202", "SZ-IM-2", "02", "HT1809C022", calibration={"due_in_days": 6}, maintenance={"due_in_days": 70}),
    _moulder("SZ-IMM-203", "SZ-IM-2", "03", "HT2003D305", calibration={"due_in_days": 255}, maintenance={"due_in_days": 33}),
    _moulder("SZ-IMM-204", "SZ-IM-2", "04", "HT2003D306", calibration={"due_in_days": 48}, maintenance={"due_in_days": -4}),
    _sealer("SZ-HS-101", "SZ-PK-1", "SPB2018-077", due_in_days=88),
    _steriliser("CZ-EO-101", "02", "XH-EO-1603", due_in_days=120),
    _steriliser("CZ-EO-102", "03", "XH-EO-1811", due_in_days=230),
    _sealer("CZ-HS-201", "CZ-PK-2", "SPB2020-131", due_in_days=41),
)

# Lead time in which a calibration counts as due soon (the equipment list's warning).
DUE_SOON_DAYS = 7

# Override reasons a supervisor and QA sign for today's refused track-ins on assembly line A.
OVERRIDE_REASONS = (
    "急单交付 (客户订单 SO-2026-118); 该员工已完成实操带教, 书面再培训已排期本周五; 班组长全程监督, QA 在线抽检。",
    "该员工资质复训考核已通过, 培训记录待培训专员录入系统; 经生产主管与 QA 评估风险可控, 本批次加严抽检。",
    "人员临时短缺; 由持证班组长一对一监督作业, 本工序产品 100% 复检, 偏差调查中跟进再培训。",
)


def _check() -> None:
    """The plan refers only to what the org and training plans define (run at import: a typo fails fast)."""
    lines = {line.code: {wc.suffix for wc in line.work_centers} for line in plan.LINES}
    qualifications = {q.code for q in training.QUALIFICATIONS}
    documents = {d.code for d in training.DOCUMENTS}
    classes = {c.code for c in EQUIPMENT_CLASSES}
    for product in PRODUCTS:
        assert product.line in lines, product.code
        for op in product.operations:
            assert op.station in lines[product.line], (product.code, op.sequence)
            assert set(op.qualifications) <= qualifications, (product.code, op.sequence)
            assert op.work_instruction is None or op.work_instruction in documents, (product.code, op.sequence)
            assert op.equipment_class is None or op.equipment_class in classes, (product.code, op.sequence)
    for asset in ASSETS:
        assert asset.station in lines[asset.line] and asset.equipment_class in classes, asset.asset_number
    assert set(PLAN_QUALIFICATION.values()) <= qualifications
    overdue = [a for a in ASSETS for p in a.plans if p.kind == "calibration" and (p.due_in_days or 0) < 0]
    assert len(overdue) == 1


_check()
