"""The demo plant's competence catalogue as data: controlled documents, qualifications, courses, curricula
and what each position (and named capability) requires. Pure: `training_seed` turns it into records.

Days are relative to the seeding day, so the demo always shows a living plant: a gowning SOP and the EO
sterilisation SOP have revisions that became effective recently (a few people have not retrained yet),
annual health certificates and special-equipment licences come due, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RevisionSpec:
    label: str
    days_ago: int  # effective this many days before the seeding day
    grace_days: int = 30
    training_required: bool = True
    summary: str = ""


@dataclass(frozen=True)
class DocumentSpec:
    code: str
    kind: str
    title: str
    title_en: str
    revisions: tuple[RevisionSpec, ...]


@dataclass(frozen=True)
class QualificationSpec:
    code: str
    kind: str  # internal, external_certificate, health_certificate
    name: str
    name_en: str
    validity_days: int | None
    lead_days: int = 0
    documents: tuple[str, ...] = ()
    practical: bool = False
    issuer: str = ""  # certificates: who issues them
    number_prefix: str = ""


@dataclass(frozen=True)
class CourseSpec:
    code: str
    kind: str  # classroom, on_the_job, e_learning, read_and_understand, external
    name: str
    name_en: str
    hours: str
    confers: tuple[str, ...] = ()
    document: str | None = None
    trainer: str | None = None  # qualification a trainer must hold
    pass_mark: int | None = None  # out of 100
    effectiveness_days: int | None = None
    url: str = ""
    external_trainer: str = ""


DOCUMENTS = (
    DocumentSpec("SOP-GMP-001", "sop", "洁净区更衣规程", "Clean-room gowning procedure", (
        RevisionSpec("A", 2400), RevisionSpec("B", 540, 30, summary="增加手套消毒步骤"),
        RevisionSpec("C", 24, 14, summary="更换连体洁净服型号, 更新穿戴顺序"),
    )),
    DocumentSpec("SOP-GMP-002", "sop", "洁净区行为规范与卫生管理", "Clean-room behaviour and hygiene", (
        RevisionSpec("A", 2000), RevisionSpec("B", 300, 30, training_required=False, summary="文字勘误"),
    )),
    DocumentSpec("WI-ASM-001", "wi", "输液器组装作业指导书", "Infusion set assembly work instruction", (
        RevisionSpec("A", 1800), RevisionSpec("B", 400, 30, summary="滴斗粘接固化时间调整"),
    )),
    DocumentSpec("WI-ASM-002", "wi", "气密性检测作业指导书", "Leak test work instruction", (
        RevisionSpec("A", 1500),
    )),
    DocumentSpec("WI-IM-001", "wi", "注塑机操作作业指导书", "Injection moulding machine operation", (
        RevisionSpec("A", 2100), RevisionSpec("B", 620, 30, summary="新增模温机参数确认"),
    )),
    DocumentSpec("SOP-EO-001", "sop", "环氧乙烷灭菌操作规程", "EO sterilisation procedure", (
        RevisionSpec("A", 2200), RevisionSpec("B", 700, 30, summary="预处理时间由12h调整为14h"),
        RevisionSpec("C", 45, 30, summary="新增生物指示剂放置位置图与解析间温度记录"),
    )),
    DocumentSpec("SOP-PK-001", "sop", "初包装封口作业规程", "Primary packaging sealing procedure", (
        RevisionSpec("A", 1900), RevisionSpec("B", 250, 30, summary="封口强度抽检频次调整"),
    )),
    DocumentSpec("SOP-QC-001", "sop", "无菌检查操作规程", "Sterility testing procedure", (
        RevisionSpec("A", 1700), RevisionSpec("B", 480, 30),
    )),
    DocumentSpec("SOP-QC-002", "sop", "成品检验规程", "Finished product inspection procedure", (
        RevisionSpec("A", 1600), RevisionSpec("B", 200, 30, summary="增加微粒污染检验项"),
    )),
    DocumentSpec("SOP-CAL-001", "sop", "计量器具校准管理规程", "Calibration of measuring equipment", (
        RevisionSpec("A", 2300), RevisionSpec("B", 360, 30),
    )),
    DocumentSpec("SOP-MT-001", "sop", "设备维护保养规程", "Equipment maintenance procedure", (
        RevisionSpec("A", 2000),
    )),
    DocumentSpec("SOP-QA-001", "sop", "产品放行规程", "Product release procedure", (
        RevisionSpec("A", 2500), RevisionSpec("B", 390, 30),
    )),
    DocumentSpec("SOP-QA-002", "sop", "纠正和预防措施管理程序", "CAPA procedure", (
        RevisionSpec("A", 2500),
    )),
    DocumentSpec("SOP-QA-003", "sop", "器械历史记录审核规程", "Device history record review", (
        RevisionSpec("A", 2100),
    )),
    DocumentSpec("SOP-TRN-001", "sop", "培训管理程序", "Training procedure", (
        RevisionSpec("A", 2400), RevisionSpec("B", 600, 60),
    )),
)

_CDC = "苏州工业园区疾病预防控制中心"
QUALIFICATIONS = (
    QualificationSpec("Q-GMP", "internal", "医疗器械GMP基础", "Medical device GMP basics", 365, 30),
    QualificationSpec("Q-CR-GOWN", "internal", "洁净区更衣资质", "Clean-room gowning", 365, 30,
                      ("SOP-GMP-001", "SOP-GMP-002"), practical=True),
    QualificationSpec("Q-ASM-OP", "internal", "输液器组装上岗资质", "Infusion set assembly", 730, 60,
                      ("WI-ASM-001",), practical=True),
    QualificationSpec("Q-LEAK", "internal", "气密性检测操作资质", "Leak test operation", 730, 60, ("WI-ASM-002",)),
    QualificationSpec("Q-VIS", "internal", "目检资质", "Visual inspection", 365, 30),
    QualificationSpec("Q-IM-OP", "internal", "注塑机操作资质", "Injection moulding operation", 730, 60,
                      ("WI-IM-001",), practical=True),
    QualificationSpec("Q-IM-SETUP", "internal", "注塑换模资质", "Mould change", 730, 60, ("WI-IM-001",)),
    QualificationSpec("Q-EO-OP", "internal", "环氧乙烷灭菌柜操作资质", "EO steriliser operator", 365, 30,
                      ("SOP-EO-001",), practical=True),
    QualificationSpec("Q-EO-LOAD", "internal", "灭菌装载与解析资质", "EO loading and aeration", 365, 30, ("SOP-EO-001",)),
    QualificationSpec("Q-PK-SEAL", "internal", "初包装封口操作资质", "Primary packaging sealing", 730, 60,
                      ("SOP-PK-001",), practical=True),
    QualificationSpec("Q-QC-STER", "internal", "无菌检查资质", "Sterility testing", 365, 30, ("SOP-QC-001",),
                      practical=True),
    QualificationSpec("Q-QC-FIN", "internal", "成品检验资质", "Finished product inspection", 730, 60, ("SOP-QC-002",)),
    QualificationSpec("Q-QC-REL", "internal", "放行检验授权", "Release testing authorisation", 730, 60, ("SOP-QC-002",)),
    QualificationSpec("Q-CAL", "internal", "计量校准资质", "Calibration technician", 730, 60, ("SOP-CAL-001",),
                      practical=True),
    QualificationSpec("Q-MT", "internal", "设备维护保养资质", "Equipment maintenance", 730, 60, ("SOP-MT-001",)),
    QualificationSpec("Q-QA-REL", "internal", "产品放行授权", "Product release authorisation", None, 0, ("SOP-QA-001",)),
    QualificationSpec("Q-CAPA-APP", "internal", "CAPA批准授权", "CAPA approval authorisation", None, 0, ("SOP-QA-002",)),
    QualificationSpec("Q-DHR-SIGN", "internal", "DHR审核签署授权", "DHR review and signature", None, 0, ("SOP-QA-003",)),
    QualificationSpec("Q-FAI", "internal", "首件确认资质", "First article inspection", 730, 60),
    QualificationSpec("Q-TRAINER", "internal", "内部培训师资格", "Internal trainer", 1095, 90, ("SOP-TRN-001",)),
    QualificationSpec("Q-TRAINER-EO", "internal", "灭菌实操带教资格", "EO practical trainer", 1095, 90, ("SOP-EO-001",)),
    QualificationSpec("Q-FIRST-AID", "internal", "急救员", "First aider", 730, 60),
    QualificationSpec("Q-DISINF", "internal", "洁净区消毒剂配制资质", "Clean-room disinfectant preparation", 365, 30,
                      ("SOP-GMP-002",)),
    QualificationSpec("Q-SE-N1", "external_certificate", "特种设备作业人员证(叉车司机N1)",
                      "Special equipment operator licence (forklift N1)", 1460, 90,
                      issuer="苏州市市场监督管理局", number_prefix="N1-"),
    QualificationSpec("Q-SE-R1", "external_certificate", "特种设备作业人员证(快开门式压力容器操作R1)",
                      "Special equipment operator licence (quick-open pressure vessel R1)", 1460, 90,
                      issuer="常州市市场监督管理局", number_prefix="R1-"),
    QualificationSpec("Q-ELEC", "external_certificate", "特种作业操作证(低压电工)", "Low-voltage electrician licence",
                      2190, 90, issuer="江苏省应急管理厅", number_prefix="T"),
    QualificationSpec("Q-IA-13485", "external_certificate", "ISO 13485内审员证书", "ISO 13485 internal auditor",
                      1095, 90, issuer="中国质量认证中心", number_prefix="CQC-IA-"),
    QualificationSpec("Q-HEALTH", "health_certificate", "健康证", "Health certificate", 365, 30,
                      issuer=_CDC, number_prefix="JK"),
    QualificationSpec("Q-VISION", "health_certificate", "视力与色觉检查合格", "Eyesight and colour vision check", 365, 30,
                      issuer=_CDC, number_prefix="SZSL"),
    QualificationSpec("Q-EO-EXPO", "health_certificate", "环氧乙烷职业健康检查", "EO occupational health check", 365, 30,
                      issuer="常州市职业病防治院", number_prefix="CZZY"),
)

COURSES = (
    CourseSpec("C-GMP-101", "classroom", "医疗器械GMP基础培训", "GMP basics", "4", ("Q-GMP",),
               trainer="Q-TRAINER", pass_mark=80, effectiveness_days=90),
    CourseSpec("C-GOWN-OJT", "on_the_job", "洁净区更衣带教", "Clean-room gowning on the job", "2", ("Q-CR-GOWN",),
               "SOP-GMP-001", "Q-TRAINER", pass_mark=80),
    CourseSpec("C-GOWN-RU", "read_and_understand", "洁净区更衣规程阅读理解", "Gowning procedure: read and understand",
               "0.5", document="SOP-GMP-001"),
    CourseSpec("C-HYG-RU", "read_and_understand", "洁净区行为规范阅读理解", "Clean-room hygiene: read and understand",
               "0.5", document="SOP-GMP-002"),
    CourseSpec("C-ASM-OJT", "on_the_job", "输液器组装岗位带教", "Infusion set assembly on the job", "16", ("Q-ASM-OP",),
               "WI-ASM-001", "Q-TRAINER", pass_mark=80, effectiveness_days=60),
    CourseSpec("C-ASM-RU", "read_and_understand", "组装作业指导书阅读理解", "Assembly WI: read and understand", "0.5",
               document="WI-ASM-001"),
    CourseSpec("C-LEAK-OJT", "on_the_job", "气密性检测带教", "Leak test on the job", "4", ("Q-LEAK",), "WI-ASM-002",
               "Q-TRAINER", pass_mark=80),
    CourseSpec("C-VIS-101", "classroom", "目检标准与缺陷识别", "Visual inspection and defects", "4", ("Q-VIS",),
               trainer="Q-TRAINER", pass_mark=90),
    CourseSpec("C-IM-OJT", "on_the_job", "注塑机操作带教", "Injection moulding on the job", "16", ("Q-IM-OP",),
               "WI-IM-001", "Q-TRAINER", pass_mark=80, effectiveness_days=60),
    CourseSpec("C-IM-SETUP", "on_the_job", "注塑换模与首件确认", "Mould change and first-off check", "8", ("Q-IM-SETUP",),
               "WI-IM-001", "Q-TRAINER", pass_mark=85),
    CourseSpec("C-IM-RU", "read_and_understand", "注塑作业指导书阅读理解", "Moulding WI: read and understand", "0.5",
               document="WI-IM-001"),
    CourseSpec("C-EO-101", "classroom", "环氧乙烷灭菌操作培训", "EO sterilisation operation", "8",
               ("Q-EO-OP", "Q-EO-LOAD"), "SOP-EO-001", "Q-TRAINER-EO", pass_mark=85, effectiveness_days=30),
    CourseSpec("C-EO-RU", "read_and_understand", "灭菌规程阅读理解", "EO procedure: read and understand", "1",
               document="SOP-EO-001"),
    CourseSpec("C-PK-OJT", "on_the_job", "初包装封口带教", "Primary packaging sealing on the job", "8", ("Q-PK-SEAL",),
               "SOP-PK-001", "Q-TRAINER", pass_mark=80),
    CourseSpec("C-PK-RU", "read_and_understand", "封口规程阅读理解", "Sealing procedure: read and understand", "0.5",
               document="SOP-PK-001"),
    CourseSpec("C-QC-STER", "classroom", "无菌检查操作培训", "Sterility testing", "12", ("Q-QC-STER",), "SOP-QC-001",
               "Q-TRAINER", pass_mark=85),
    CourseSpec("C-QC-FIN", "classroom", "成品检验培训", "Finished product inspection", "8", ("Q-QC-FIN",), "SOP-QC-002",
               "Q-TRAINER", pass_mark=80),
    CourseSpec("C-QC-REL", "classroom", "放行检验授权培训", "Release testing", "4", ("Q-QC-REL",), "SOP-QC-002",
               "Q-TRAINER", pass_mark=90),
    CourseSpec("C-QC-RU", "read_and_understand", "检验规程阅读理解", "Inspection procedures: read and understand", "1",
               document="SOP-QC-002"),
    CourseSpec("C-QC-STER-RU", "read_and_understand", "无菌检查规程阅读理解", "Sterility testing: read and understand",
               "1", document="SOP-QC-001"),
    CourseSpec("C-CAL-RU", "read_and_understand", "校准规程阅读理解", "Calibration procedure: read and understand", "0.5",
               document="SOP-CAL-001"),
    CourseSpec("C-TRN-RU", "read_and_understand", "培训管理程序阅读理解", "Training procedure: read and understand", "0.5",
               document="SOP-TRN-001"),
    CourseSpec("C-QA-RU", "read_and_understand", "放行规程修订阅读理解", "Release procedure revision: read and understand",
               "0.5", document="SOP-QA-001"),
    CourseSpec("C-CAL-101", "classroom", "计量校准培训", "Calibration", "8", ("Q-CAL",), "SOP-CAL-001", "Q-TRAINER",
               pass_mark=80),
    CourseSpec("C-MT-101", "on_the_job", "设备维护保养带教", "Equipment maintenance on the job", "8", ("Q-MT",),
               "SOP-MT-001", "Q-TRAINER", pass_mark=75),
    CourseSpec("C-QA-REL", "read_and_understand", "产品放行规程阅读理解", "Product release: read and understand", "2",
               ("Q-QA-REL",), "SOP-QA-001"),
    CourseSpec("C-CAPA-EL", "e_learning", "CAPA管理在线课程", "CAPA e-learning", "2", ("Q-CAPA-APP",), "SOP-QA-002",
               pass_mark=80, url="https://learning.huacheng-med.example/capa"),
    CourseSpec("C-DHR-EL", "e_learning", "DHR审核在线课程", "DHR review e-learning", "2", ("Q-DHR-SIGN",), "SOP-QA-003",
               pass_mark=80, url="https://learning.huacheng-med.example/dhr"),
    CourseSpec("C-FAI-101", "classroom", "首件确认培训", "First article inspection", "4", ("Q-FAI",), trainer="Q-TRAINER",
               pass_mark=80),
    CourseSpec("C-TTT", "classroom", "内部培训师培训", "Train the trainer", "16", ("Q-TRAINER",), "SOP-TRN-001",
               external_trainer="苏州市医疗器械行业协会", pass_mark=80),
    CourseSpec("C-TTT-EO", "on_the_job", "灭菌实操带教师资培训", "EO practical trainer", "8", ("Q-TRAINER-EO",),
               "SOP-EO-001", external_trainer="灭菌设备厂家工程师", pass_mark=85),
    CourseSpec("C-DISINF", "on_the_job", "消毒剂配制带教", "Disinfectant preparation on the job", "2", ("Q-DISINF",),
               "SOP-GMP-002", "Q-TRAINER", pass_mark=80),
    CourseSpec("C-FIRST-AID", "external", "红十字会急救员培训", "Red Cross first aid", "16", ("Q-FIRST-AID",),
               external_trainer="苏州市红十字会"),
    CourseSpec("C-SE-N1", "external", "叉车司机取证培训", "Forklift licence course", "40", ("Q-SE-N1",),
               external_trainer="苏州特种设备培训中心"),
    CourseSpec("C-SE-R1", "external", "压力容器操作取证培训", "Pressure vessel licence course", "40", ("Q-SE-R1",),
               external_trainer="常州特种设备培训中心"),
    CourseSpec("C-IA-13485", "external", "ISO 13485内审员培训", "ISO 13485 internal auditor", "24", ("Q-IA-13485",),
               external_trainer="中国质量认证中心"),
)

# The course that first earns each internal qualification (external ones come with a certificate).
EARNED_BY = {q: c.code for c in COURSES for q in c.confers}
# Read-and-understand courses by document: how holders retrain on a new revision.
REREAD_BY = {c.document: c.code for c in COURSES if c.kind == "read_and_understand" and not c.confers}

CURRICULA = (
    ("ONB-ASM", "组装操作工上岗培训", "Assembly operator onboarding", ("C-GMP-101", "C-GOWN-OJT", "C-HYG-RU", "C-ASM-OJT")),
    ("ONB-IM", "注塑操作工上岗培训", "Moulding operator onboarding", ("C-GMP-101", "C-GOWN-OJT", "C-IM-OJT")),
    ("ONB-EO", "灭菌操作工上岗培训", "Sterilisation operator onboarding", ("C-GMP-101", "C-EO-101", "C-SE-R1")),
    ("ONB-PK", "包装操作工上岗培训", "Packaging operator onboarding", ("C-GMP-101", "C-GOWN-OJT", "C-PK-OJT")),
    ("ONB-QC", "质检员上岗培训", "QC inspector onboarding", ("C-GMP-101", "C-QC-FIN", "C-VIS-101")),
)

# What each position requires: (qualification, grace days after assignment).
POSITION_REQUIREMENTS = {
    "OP-ASM": (("Q-GMP", 30), ("Q-CR-GOWN", 7), ("Q-ASM-OP", 30), ("Q-HEALTH", 0)),
    "OP-IM": (("Q-GMP", 30), ("Q-CR-GOWN", 7), ("Q-IM-OP", 30), ("Q-HEALTH", 0)),
    "OP-EO": (("Q-GMP", 30), ("Q-EO-OP", 60), ("Q-EO-LOAD", 60), ("Q-SE-R1", 90), ("Q-EO-EXPO", 0)),
    "OP-PK": (("Q-GMP", 30), ("Q-PK-SEAL", 30), ("Q-HEALTH", 0)),
    "QC-INS": (("Q-GMP", 30), ("Q-QC-FIN", 60), ("Q-VISION", 0)),
    "MT-TECH": (("Q-GMP", 30), ("Q-MT", 60), ("Q-ELEC", 90)),
    "MT-MET": (("Q-GMP", 30), ("Q-CAL", 60)),
    "TL": (("Q-GMP", 30), ("Q-CR-GOWN", 7), ("Q-FAI", 60), ("Q-TRAINER", 180)),
    "SUP": (("Q-GMP", 30), ("Q-FAI", 90)),
    "WS-MGR": (("Q-GMP", 30),),
    "QC-MGR": (("Q-GMP", 30), ("Q-QC-FIN", 60), ("Q-QC-REL", 60)),
    "MT-MGR": (("Q-GMP", 30), ("Q-MT", 90)),
    "QA-ENG": (("Q-GMP", 30), ("Q-IA-13485", 180)),
    "QA-MGR": (("Q-GMP", 30), ("Q-QA-REL", 60), ("Q-CAPA-APP", 60), ("Q-DHR-SIGN", 60)),
    "TRN": (("Q-GMP", 30), ("Q-TRAINER", 90)),
    "HR-SPEC": (("Q-GMP", 30),),
    "HR-MGR": (("Q-GMP", 30),),
}

# Extra qualifications some holders of a position have, with the share of them who do.
OPTIONAL_BY_POSITION = {
    "OP-ASM": (("Q-LEAK", 0.35), ("Q-VIS", 0.3), ("Q-DISINF", 0.1), ("Q-FIRST-AID", 0.05)),
    "OP-IM": (("Q-IM-SETUP", 0.3),),
    "OP-PK": (("Q-SE-N1", 0.2),),
    "QC-INS": (("Q-QC-STER", 0.4), ("Q-QC-REL", 0.1)),
    "TL": (("Q-FIRST-AID", 0.4), ("Q-DISINF", 0.3)),
    "SUP": (("Q-TRAINER", 0.5),),
    "QC-MGR": (("Q-TRAINER", 0.5),),
    "QA-ENG": (("Q-CAPA-APP", 0.3), ("Q-DHR-SIGN", 0.5)),
    "MT-MET": (("Q-TRAINER", 0.3),),
}

# Health certificates are issued by the disease control centre where the person works.
HEALTH_ISSUER_BY_SITE = {"SZ": _CDC, "CZ": "常州市武进区疾病预防控制中心"}

CAPABILITIES = {
    "release_lot": ("Q-QA-REL",),
    "perform_calibration": ("Q-CAL",),
    "approve_capa": ("Q-CAPA-APP",),
    "sign_dhr": ("Q-DHR-SIGN",),
}
