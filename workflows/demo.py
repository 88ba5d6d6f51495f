"""Demo data: a small Liwan-like district (荔湾区) for `manage.py load_demo`.

Everything here is data. The command creates people and organisations from it and moves
the projects through the real services, so audit trail, flows and notifications are real.

Sources: the department names and the three pre-assessed projects are those of the Liwan
report on 2020 budget performance management — 《广州市荔湾区人民政府关于广州市荔湾区
2020年度财政支出绩效管理情况的报告》, made to the district congress's standing committee
on 16 October 2021 (a public document, not kept in this repository), §一(二)1. The
report gives only their total, 0.79亿 — DESIGN §2 states it exactly as 7,920万 — and the
reduction, 0.12亿 (1,200万, 15.15 %), all on the one project that was 部分予以支持. The
individual amounts below are therefore *chosen* to sum to exactly 79,200,000.00 yuan;
they are not from the report. Departments the report names only by sector (education,
health, civil affairs, urban management) are given their usual district names. Every
other project, every person and the agency are invented.

Fiscal year: the report (read to the congress in October 2021, on the 2020 year's
performance management) dates the pre-assessment only as "今年". The demo reads it as the
pre-assessment of the 2021 budget and files every project under fiscal year 2021, as the
test fixtures do; change FISCAL_YEAR (and the codes) if the bureau dates it otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from accounts.models import ExpertProfile
from accounts.roles import Role
from processes.models import ProjectCategory, Recurrence
from processes.states import Disposal, Light, Likelihood, ProjectStage, QualitativeProgress

FISCAL_YEAR = 2021
#: Next year's 项目库 from the budget system, imported as drafts by ``load_demo`` (issue 18).
BUDGET_SAMPLE_YEAR = 2022
BUDGET_SAMPLE = (
    Path(__file__).resolve().parent.parent / "data" / "samples" / f"budget-projects-{BUDGET_SAMPLE_YEAR}.xlsx"
)
PASSWORD = "Jixiao@2021demo"
EMAIL_DOMAIN = "demo.jixiao.invalid"  # RFC 2606: never delivered anywhere


@dataclass(frozen=True)
class DemoDepartment:
    key: str  # username prefix of its staff and leader
    code: str
    name: str
    parent: str | None = None  # key of the 主管部门


DEPARTMENTS = [
    DemoDepartment("nongshui", "LW101", "区农水局"),
    DemoDepartment("zhujian", "LW102", "区住房建设局"),
    DemoDepartment("renshe", "LW103", "区人力和社会保障局"),
    DemoDepartment("duobao", "LW104", "多宝街办事处"),
    DemoDepartment("jiaoyu", "LW105", "区教育局"),
    DemoDepartment("weijian", "LW106", "区卫生健康局"),
    DemoDepartment("hospital", "LW106001", "荔湾区人民医院", parent="weijian"),
    DemoDepartment("minzheng", "LW107", "区民政局"),
    DemoDepartment("chengguan", "LW108", "区城市管理和综合执法局"),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    full_name: str
    department: str | None = None  # DemoDepartment.key
    agency: bool = False
    is_staff: bool = False
    specialties: tuple[str, ...] = ()  # experts
    employer: str = ""  # experts
    conflicts: tuple[str, ...] = ()  # experts: DemoDepartment keys
    delegation: str = ""  # deputies


def _department_users() -> list[DemoUser]:
    users = []
    for dept in DEPARTMENTS:
        users.append(DemoUser(f"{dept.key}_staff", Role.DEPT_STAFF, f"{dept.name}经办人", dept.key))
        users.append(DemoUser(f"{dept.key}_leader", Role.DEPT_LEADER, f"{dept.name}负责人", dept.key))
    return users


S = ExpertProfile.Specialty
USERS: list[DemoUser] = [
    *_department_users(),
    DemoUser("finance1", Role.FINANCE_OFFICER, "财政绩效科一", is_staff=True),  # keeps the libraries in the admin
    DemoUser("finance2", Role.FINANCE_OFFICER, "财政绩效科二", is_staff=True),
    DemoUser("supervisor", Role.SUPERVISOR, "分管领导"),
    DemoUser("auditor", Role.AUDITOR, "审计管理员", is_staff=True),  # reads the audit trail in the admin
    DemoUser("sysadmin", Role.SYSADMIN, "系统管理员", is_staff=True),
    DemoUser(
        "expert1", Role.EXPERT, "专家一", specialties=(S.INFRASTRUCTURE, S.FINANCE), employer="某工程咨询有限公司"
    ),
    DemoUser(
        "expert2",
        Role.EXPERT,
        "专家二",
        specialties=(S.URBAN, S.INFRASTRUCTURE),
        employer="某城市规划设计研究院",
        conflicts=("zhujian",),
    ),
    DemoUser("expert3", Role.EXPERT, "专家三", specialties=(S.FINANCE,), employer="某会计师事务所"),
    DemoUser("expert4", Role.EXPERT, "专家四", specialties=(S.CIVIL_AFFAIRS, S.POVERTY), employer="某高校社会工作系"),
    DemoUser("expert5", Role.EXPERT, "专家五", specialties=(S.EDUCATION, S.HEALTH), employer="某高校公共管理学院"),
    # enough sector experts for the report's panels (基建工程 and 城市管理: at least 3 each)
    DemoUser("expert6", Role.EXPERT, "专家六", specialties=(S.INFRASTRUCTURE, S.URBAN), employer="某市政工程设计院"),
    DemoUser("expert7", Role.EXPERT, "专家七", specialties=(S.INFRASTRUCTURE,), employer="某水利水电勘测设计院"),
    DemoUser("expert8", Role.EXPERT, "专家八", specialties=(S.URBAN, S.INFRASTRUCTURE), employer="某高校建筑学院"),
    DemoUser("expert9", Role.EXPERT, "专家九", specialties=(S.URBAN,), employer="某城市更新研究中心"),
    # at least 3 sector experts for every other category too, so a panel can be drawn for
    # any project (issue 18: the 人力社保 and 其他 projects could not have one)
    DemoUser(
        "expert10", Role.EXPERT, "专家十", specialties=(S.EDUCATION, S.SOCIAL_SECURITY), employer="某师范大学教育学院"
    ),
    DemoUser(
        "expert11",
        Role.EXPERT,
        "专家十一",
        specialties=(S.HEALTH, S.SOCIAL_SECURITY),
        employer="某医科大学公共卫生学院",
    ),
    DemoUser(
        "expert12",
        Role.EXPERT,
        "专家十二",
        specialties=(S.CIVIL_AFFAIRS, S.SOCIAL_SECURITY),
        employer="某劳动和社会保障研究所",
    ),
    DemoUser("expert13", Role.EXPERT, "专家十三", specialties=(S.POVERTY, S.OTHER), employer="某农业科学院"),
    DemoUser("expert14", Role.EXPERT, "专家十四", specialties=(S.EDUCATION, S.OTHER), employer="某社会科学院"),
    DemoUser(
        "expert15", Role.EXPERT, "专家十五", specialties=(S.HEALTH, S.CIVIL_AFFAIRS), employer="某区疾病预防控制中心"
    ),
    DemoUser("expert16", Role.EXPERT, "专家十六", specialties=(S.POVERTY, S.OTHER), employer="某乡村振兴研究院"),
    DemoUser("deputy1", Role.DEPUTY, "人大代表一", delegation="多宝街道代表组"),
    DemoUser("deputy2", Role.DEPUTY, "人大代表二", delegation="东漖街道代表组"),
    # 人大预算工委 (issue 19): reads the reports of every year and the 审议意见落实情况 table
    DemoUser("congress1", Role.CONGRESS_READER, "人大预算工委"),
    DemoUser("agency1", Role.AGENCY_STAFF, "第三方机构项目经理", agency=True),
    DemoUser("agency2", Role.AGENCY_STAFF, "第三方机构评审助理", agency=True),
]

#: The one agency (the report: the year's work commissioned to a single agency as a whole).
#: Fictitious; the credit code carries a valid GB 32100 check character.
AGENCY_NAME = "广州荔信绩效评价咨询有限公司（示例）"
AGENCY_CREDIT_CODE = "91440103MA59LW0011"


@dataclass(frozen=True)
class Step:
    action: str  # a BudgetProject transition name
    actor: str  # "staff" / "leader" (of the project's department) or a username
    comment: str = ""


SUBMIT = Step("submit", "staff")
APPROVE = Step("approve", "leader", "同意报送。")
TO_PRE_ASSESSMENT = Step(
    "route_to_pre_assessment",
    "finance1",
    "送审金额达到一次性项目 500 万元门槛，委托第三方机构开展事前绩效评估，邀请人大代表和专家参与。",
)
TO_TARGET_REVIEW = Step("route_to_target_review", "finance2", "低于事前绩效评估门槛，转绩效目标审核。")


@dataclass(frozen=True)
class DemoProject:
    code: str
    department: str  # DemoDepartment.key
    name: str
    category: str
    recurrence: str
    amount: Decimal
    stage: ProjectStage  # where the path below leaves it
    path: tuple[Step, ...] = ()
    goal: str = ""
    pre_assessed: bool = False  # one of the report's three


ONE_OFF, RECURRING = Recurrence.ONE_OFF, Recurrence.RECURRING
C = ProjectCategory
TO_PRE = (SUBMIT, APPROVE, TO_PRE_ASSESSMENT)

PROJECTS: list[DemoProject] = [
    # The report's three pre-assessed projects: 31,800,000 + 22,400,000 + 25,000,000 = 79,200,000.00.
    DemoProject(
        code="2021-LW101-001",
        department="nongshui",
        name="碧道建设工程",
        category=C.INFRASTRUCTURE,
        recurrence=ONE_OFF,
        amount=Decimal("31800000.00"),
        stage=ProjectStage.PRE_ASSESSMENT,
        path=TO_PRE,
        pre_assessed=True,
        goal="建设滨水碧道，改善河涌水环境和沿岸公共空间。",
    ),
    DemoProject(
        code="2021-LW101-002",
        department="nongshui",
        name="东沙涌综合整治工程",
        category=C.INFRASTRUCTURE,
        recurrence=ONE_OFF,
        amount=Decimal("22400000.00"),
        stage=ProjectStage.PRE_ASSESSMENT,
        path=TO_PRE,
        pre_assessed=True,
        goal="东沙涌截污、清淤和堤岸整治，消除黑臭水体。",
    ),
    DemoProject(
        code="2021-LW102-001",
        department="zhujian",
        name="城市更新基础数据调查费用",
        category=C.URBAN,
        recurrence=ONE_OFF,
        amount=Decimal("25000000.00"),
        stage=ProjectStage.PRE_ASSESSMENT,
        path=TO_PRE,
        pre_assessed=True,
        goal="完成城市更新片区土地、房屋、人口等基础数据调查。",
    ),
    # Projects at the other stages of intake, across departments (all invented).
    DemoProject(
        code="2021-LW105-001",
        department="jiaoyu",
        name="新样态学校建设试点",
        category=C.EDUCATION,
        recurrence=ONE_OFF,
        amount=Decimal("3800000.00"),
        stage=ProjectStage.DRAFT,
        path=(),
        goal="推进新样态学校建设，扩增优质教育资源。",
    ),
    DemoProject(
        code="2021-LW108-001",
        department="chengguan",
        name="综合指挥调度平台建设",
        category=C.URBAN,
        recurrence=ONE_OFF,
        amount=Decimal("2400000.00"),
        stage=ProjectStage.DRAFT,
        path=(SUBMIT, Step("send_back", "leader", "请补充平台建设内容的测算依据和分年度实施计划。")),
        goal="建立“令行禁止、有呼必应”综合指挥调度平台。",
    ),
    DemoProject(
        code="2021-LW106001-001",
        department="hospital",
        name="发热门诊规范化建设",
        category=C.HEALTH,
        recurrence=ONE_OFF,
        amount=Decimal("3200000.00"),
        stage=ProjectStage.SUBMITTED,
        path=(SUBMIT,),
        goal="完成发热门诊规范化改造，增强疫情防控救治能力。",
    ),
    DemoProject(
        code="2021-LW107-001",
        department="minzheng",
        name="长者配餐服务",
        category=C.CIVIL_AFFAIRS,
        recurrence=RECURRING,
        amount=Decimal("2600000.00"),
        stage=ProjectStage.DEPT_APPROVED,
        path=(SUBMIT, APPROVE),
        goal="为辖区长者提供助餐配餐服务。",
    ),
    DemoProject(
        code="2021-LW101-003",
        department="nongshui",
        name="老旧居民住宅供水改造",
        category=C.INFRASTRUCTURE,
        recurrence=ONE_OFF,
        amount=Decimal("4800000.00"),
        stage=ProjectStage.DEPT_APPROVED,
        path=(SUBMIT, APPROVE),
        goal="推进老旧居民住宅供水改造，供水服务到终端。",
    ),
    DemoProject(  # at the one-off threshold: the finance section must route it to pre-assessment
        code="2021-LW106-001",
        department="weijian",
        name="区儿童医院建设前期工作经费",
        category=C.HEALTH,
        recurrence=ONE_OFF,
        amount=Decimal("6000000.00"),
        stage=ProjectStage.DEPT_APPROVED,
        path=(SUBMIT, APPROVE),
        goal="开展区儿童医院建设前期勘察、设计和报批。",
    ),
    DemoProject(
        code="2021-LW103-001",
        department="renshe",
        name="“羊城家政”试点推广",
        category=C.SOCIAL_SECURITY,
        recurrence=RECURRING,
        amount=Decimal("1800000.00"),
        stage=ProjectStage.TARGET_REVIEW,
        path=(SUBMIT, APPROVE, TO_TARGET_REVIEW),
        goal="推广“羊城家政”街道试点经验。",
    ),
    DemoProject(
        code="2021-LW108-002",
        department="chengguan",
        name="公共绿化管养",
        category=C.URBAN,
        recurrence=RECURRING,
        amount=Decimal("3500000.00"),
        stage=ProjectStage.TARGET_REVIEW,
        path=(SUBMIT, APPROVE, TO_TARGET_REVIEW),
        goal="公共绿化管养面积 126.53 万平方米。",
    ),
    DemoProject(  # budgeted through target review alone, then left unreported in the monitoring round
        code="2021-LW104-002",
        department="duobao",
        name="网格化服务管理",
        category=C.URBAN,
        recurrence=RECURRING,
        amount=Decimal("1560000.00"),
        stage=ProjectStage.TARGET_REVIEW,
        path=(SUBMIT, APPROVE, TO_TARGET_REVIEW),
        goal="配齐街道网格员，常态化开展网格巡查走访，及时发现和处置网格事件。",
    ),
    DemoProject(
        code="2021-LW104-001",
        department="duobao",
        name="社区综合服务购买服务",
        category=C.CIVIL_AFFAIRS,
        recurrence=RECURRING,
        amount=Decimal("900000.00"),
        stage=ProjectStage.WITHDRAWN,
        path=(SUBMIT, Step("withdraw", "staff", "与区民政局项目内容重复，撤回后合并申报。")),
        goal="购买社区综合服务，为特殊群体提供多元化社区服务。",
    ),
]

#: What the report says the pre-assessment concluded; load_demo runs each of the three
#: through the real pre-assessment flow to this end. Only the 住房建设局 project was cut:
#: 12,000,000.00 of 79,200,000.00 requested in all, a reduction rate of 15.15 %.
REPORT_CONCLUSIONS = {
    "2021-LW101-001": ("support", Decimal("31800000.00")),
    "2021-LW101-002": ("support", Decimal("22400000.00")),
    "2021-LW102-001": ("partial", Decimal("13000000.00")),
}
#: The reasons the agency gives, and the score every panel member gives per dimension.
REPORT_REASONS = {
    "support": "项目立项依据充分，绩效目标明确，实施方案可行，预算测算基本合理，予以支持。",
    "partial": "基础数据调查范围与已有成果部分重复，部分单价偏高，核减 1,200 万元后部分予以支持。",
}
DEMO_SCORES = {"necessity": "18", "economy": "16", "targets": "17", "feasibility": "17", "funding": "18"}


# -- the indicator library and the projects' targets (DESIGN §2, §3.3) -----------------------

#: The demo library: 225 general indicators a district uses for every kind of project and
#: the demo departments' own, in the import template's columns (docs/processes/
#: indicator-library.md). Written for the demo, not taken from Liwan's library.
INDICATOR_FILE = "workflows/demo_data/indicators.csv"


@dataclass(frozen=True)
class DemoTarget:
    """A target row: a library indicator by code, or (code "") one written fresh."""

    indicator: str
    value: str  # the target value (quantitative) or its description (qualitative)
    weight: str
    level1: str = ""
    level2: str = ""
    name: str = ""
    direction: str = ""
    unit: str = ""


@dataclass(frozen=True)
class DemoTargets:
    """A project's targets and how far their review goes in the demo."""

    goal: str
    rows: tuple[DemoTarget, ...]
    rating: str = ""  # excellent / good / fair; "" leaves the version submitted to the leader
    comment: str = ""
    edits: tuple[tuple[int, str, str], ...] = ()  # (row position, field, new value) agreed when rated 良
    after_pre_assessment: bool = False  # filed once the pre-assessment is confirmed
    change_reason: str = ""  # then a change request (version 2) waiting for the finance section
    change_edits: tuple[tuple[int, str, str], ...] = ()


T = DemoTarget
TARGETS: dict[str, DemoTargets] = {
    # The report's three: two with targets approved before the pre-assessment is confirmed
    # (the confirmation budgets them), one after (it waits in target review).
    "2021-LW101-001": DemoTargets(
        goal="2021 年建成滨水碧道 8.6 公里，河涌水质稳定达标，沿岸公共空间品质明显提升。",
        rows=(
            T("LW101-0001", "8.6", "30"),
            T("LW101-0028", "100", "15"),
            T("LW101-0030", "370", "15"),
            T("LW101-0045", "90", "15"),
            T("LW101-0053", "建立碧道运营管护机制并有效运行", "15"),
            T("LW101-0055", "90", "10"),
        ),
        rating="excellent",
    ),
    "2021-LW101-002": DemoTargets(
        goal="完成东沙涌截污清淤和堤岸整治 3.2 公里，消除黑臭水体，改善沿涌居民生活环境。",
        rows=(
            T("LW101-0002", "3.2", "25"),
            T("LW101-0003", "48000", "20"),
            T("LW101-0023", "0", "15"),
            T("LW101-0046", "100", "20"),
            T("TY0139", "沿涌居民生活环境明显改善", "10"),
            T("TY0192", "90", "10"),
        ),
        rating="good",
        comment="清淤量按设计文件调整为 52,000 立方米后通过。",
        edits=((2, "target_value", "52000"),),
    ),
    "2021-LW102-001": DemoTargets(
        goal="完成城市更新片区 4.5 平方公里土地、房屋、人口等基础数据调查，建立动态更新的数据库。",
        rows=(
            T("LW102-0012", "4.5", "30"),
            T("LW102-0023", "98", "20"),
            T("LW102-0031", "100", "15"),
            T("LW102-0035", "290", "10"),
            T("LW102-0044", "为片区策划方案和改造决策提供数据支撑", "15"),
            T("TY0193", "85", "10"),
        ),
        rating="excellent",
        after_pre_assessment=True,
    ),
    # Below the threshold: target review alone decides.
    "2021-LW103-001": DemoTargets(
        goal="在 22 个街道推广“羊城家政”试点经验，全年培训家政从业人员 1,200 人次。",
        rows=(
            T("LW103-0007", "1200", "30"),
            T("LW103-0008", "22", "20"),
            T("TY0076", "100", "15"),
            T("", "80", "15", "effect", "social", "家政从业人员持证上岗率", "gte", "%"),
            T("TY0136", "家政服务供给明显改善", "10"),
            T("TY0195", "90", "10"),
        ),
        rating="good",
        comment="培训人次按上年实际完成数提高至 1,500 人次后通过。",
        edits=((1, "target_value", "1500"),),
        change_reason="两个街道试点合并，推广街道数由 22 个调整为 20 个。",
        change_edits=((2, "target_value", "20"),),
    ),
    "2021-LW108-002": DemoTargets(
        goal="全年管养公共绿化 126.53 万平方米，绿化管养质量达标率 95% 以上。",
        rows=(
            T("LW108-0007", "126.53", "30"),
            T("LW108-0023", "95", "20"),
            T("LW108-0034", "30", "10"),
            T("LW108-0039", "2.77", "10"),
            T("LW108-0044", "市容环境秩序明显改善", "20"),
            T("TY0193", "85", "10"),
        ),
        rating="fair",
        comment="管养单价测算依据不足，请补充管养定额依据并修改后重新报送。",
    ),
    "2021-LW104-002": DemoTargets(
        goal="全年巡查走访 48,000 户，网格事件办结率和按时处置率均达 95% 以上，矛盾纠纷调解成功率和居民满意度 90% 以上。",
        rows=(
            T("LW104-0002", "48000", "25"),
            T("LW104-0003", "6000", "20"),
            T("LW104-0022", "95", "15"),
            T("LW104-0030", "95", "15"),
            T("LW104-0043", "90", "15"),  # 矛盾纠纷调解成功率
            T("LW104-0051", "90", "10"),
        ),
        rating="excellent",
    ),
}


# -- execution and the monitoring round (DESIGN §3.4) ---------------------------------------

#: Once the targets are through, the finance section issues every budgeted demo project's
#: budget (start_execution) and opens the January–July round over them, due
#: MONITORING_DUE_DAYS after the load (the service refuses a due date in the past).
#: The treasury's exports for the demo year (workflows/demo_data), imported through the real
#: importer (a job and an audit row each) once the budgets are issued, before the monitoring
#: round: payments January–July of the five executing projects (to July they equal what the
#: reports declare, but for 2021-LW103-001), and payment plans of three of them, which the
#: spending light reads (to July: 2021-LW101-001 97.2 % of plan → green, 2021-LW104-002 92.3 %).
#: data/samples/ holds the same rows as the treasury's XLSX and GBK CSV (scripts/execution_samples.py).
PAYMENTS_FILE = "workflows/demo_data/payments-2021.csv"
PLANS_FILE = "workflows/demo_data/payment-plans-2021.csv"

START_EXECUTION = Step("start_execution", "finance1", "预算已批复下达，项目进入执行阶段。")
MONITORING_MONTHS = (1, 7)
MONITORING_DUE_DAYS = 14

CERTAIN, POSSIBLE, IMPOSSIBLE = Likelihood.CERTAIN, Likelihood.POSSIBLE, Likelihood.IMPOSSIBLE
ACHIEVED, PARTLY = QualitativeProgress.ACHIEVED, QualitativeProgress.PARTLY


@dataclass(frozen=True)
class DemoProgress:
    """One approved target row's progress to date, in the row order of the version in force."""

    value: str  # the value to date (quantitative) or a QualitativeProgress (定性)
    likelihood: str


@dataclass(frozen=True)
class DemoReport:
    """What the department reports for January–July and how far the review goes. The
    amounts are in yuan; the values are read against the approved rows (after the 良
    edits), paced by 7/12 for ≥ indicators (processes/lights.py)."""

    light: str  # the project light these figures read as; load_demo checks it
    executed: Decimal
    expected_full_year: Decimal
    indicators: tuple[DemoProgress, ...]
    deviation_causes: str = ""
    measures: str = ""
    #: Why ``executed`` differs from the imported payments to July (the prefill rule), if it does.
    executed_reason: str = ""
    proposed_amount: Decimal | None = None  # the department asks to adjust the budget
    leader_comment: str = "同意报送。"
    decision: str = ""  # the finance section's: clear / warn
    review_comment: str = ""
    disposal: str = ""  # of a warned report
    disposal_reason: str = ""
    new_amount: Decimal | None = None  # the adjusted budget (disposal "adjust")


P = DemoProgress
#: By project code; an executing demo project not listed keeps its report unfilled (待填报).
#: Time pace at July: 7/12 = 58.33 %. Only cumulative indicators are read against the pace;
#: rates, percentages and satisfaction against the target itself (``lights.cumulative``,
#: docs/processes/monitoring.md).
MONITORING: dict[str, DemoReport] = {
    # 31,800,000 budget, 17,490,000 spent: 55.0 % of it, 94.3 % of the time pace → green.
    "2021-LW101-001": DemoReport(
        light=Light.GREEN,
        executed=Decimal("17490000.00"),
        expected_full_year=Decimal("31800000.00"),
        indicators=(
            P("4.6", CERTAIN),  # 碧道建设长度 of 8.6 km: 91.7 % of pace
            P("100", CERTAIN),  # 按期完工率: the 3 标段 finished so far all finished on time
            P("362", CERTAIN),  # 单位长度造价, ≤ 370 万元/公里
            P("88.9", POSSIBLE),  # 河涌水质达标率: 8 of 9 断面
            P(ACHIEVED, CERTAIN),  # 管护主体、标准和经费已明确
            P("92.3", CERTAIN),  # 碧道使用者满意度, spring survey
        ),
        decision="clear",
        review_comment="支出进度与工程进度基本匹配，审核通过。",
    ),
    # 22,400,000 budget, 5,226,000 spent: 23.3 % of it, 40.0 % of the pace → red; the
    # department asks to cut the year's budget to what it can spend, and the section does.
    "2021-LW101-002": DemoReport(
        light=Light.RED,
        executed=Decimal("5226000.00"),
        expected_full_year=Decimal("15800000.00"),
        indicators=(
            P("1.1", IMPOSSIBLE),  # 河涌综合整治长度 of 3.2 km: 58.9 % of pace
            P("21500", POSSIBLE),  # 河涌清淤量 of 52,000 m³ (the 良 edit): 70.9 %
            P("0", CERTAIN),  # 返黑返臭, ≤ 0
            P("50", POSSIBLE),  # 黑臭水体消除率: 2 of 4 listed reaches
            P(PARTLY, POSSIBLE),
            P("81.5", POSSIBLE),
        ),
        deviation_causes=(
            "沿涌截污管线与燃气、通信管线交叉，迁改方案 4 月才获批复；5—6 月汛期暂停河道清淤，"
            "剩余 1.2 公里堤岸涉及征拆，年内无法开工。"
        ),
        measures="汛后增开两个清淤作业面；征拆范围内的 1.2 公里堤岸整治结转下年度实施，相应调减本年度预算。",
        proposed_amount=Decimal("16000000.00"),
        decision="warn",
        review_comment="支出进度和整治长度均为红灯，预计全年执行 1,580 万元，同意按申请调减预算。",
        disposal=Disposal.ADJUST,
        disposal_reason="征拆范围内的堤岸整治年内无法实施，预算由 2,240 万元调减至 1,600 万元，调减资金收回统筹。",
        new_amount=Decimal("16000000.00"),
    ),
    # 1,800,000 budget, 745,000 spent: 71.0 % of the pace → yellow; training behind too.
    # The treasury paid 705,000 to July: the department declares 40,000 more, with its reason
    # (the exceptions list, 执行数差异清单, shows it).
    "2021-LW103-001": DemoReport(
        light=Light.YELLOW,
        executed=Decimal("745000.00"),
        executed_reason="7 月已完成培训并报账的培训费 4 万元，国库于 8 月初支付，尚未计入支付数据。",
        expected_full_year=Decimal("1700000.00"),
        indicators=(
            P("640", POSSIBLE),  # 培训人次 of 1,500 (the 良 edit): 73.1 % of pace
            P("14", CERTAIN),  # 推广街道数 of 22 (the change to 20 is not yet approved)
            P("60", CERTAIN),
            P("76", POSSIBLE),  # 持证上岗率
            P(PARTLY, POSSIBLE),
            P("93", CERTAIN),
        ),
        deviation_causes="3—5 月受疫情防控影响暂停集中培训，培训人次和支出进度滞后于时序进度。",
        measures="下半年每月增开 2 期线上线下结合培训班，确保全年完成 1,500 人次培训。",
        decision="clear",
        review_comment="请按纠偏措施加快培训进度，9 月底前报送进度情况。",
    ),
    # 1,560,000 budget, 840,000 spent: 92.3 % of the pace → green; its two cumulative
    # indicators far ahead of the pace (≥ 120 %) → blue (set too low); its rates a little
    # above their targets → green, so the project is green.
    "2021-LW104-002": DemoReport(
        light=Light.GREEN,
        executed=Decimal("840000.00"),
        expected_full_year=Decimal("1560000.00"),
        indicators=(
            P("35200", CERTAIN),  # 巡查走访户数 of 48,000: 125.7 % of pace
            P("4500", CERTAIN),  # 网格事件上报数量 of 6,000: 128.6 %
            P("97.8", CERTAIN),  # 办结率, a rate read against its target: 102.9 %
            P("96.1", CERTAIN),
            P("93.5", CERTAIN),
            P("94", CERTAIN),
        ),
        decision="clear",
        review_comment=(
            "巡查走访户数和事件上报数量大幅快于时序进度（蓝灯），目标值设定偏低，下一年度请按实际工作量调高目标。"
        ),
    ),
}
