"""Build data/reference/liwan-2020.xlsx: the Liwan district's 2020 year as a history
workbook (docs/reports.md), made so that, imported, ``manage.py annual_report --year
2020`` gives every figure of the reference report
(../shared/reference/liwan-2020-performance-report.zh.txt).

    .venv/bin/python scripts/build_reference_workbook.py [--output PATH]

The report gives totals, not its 附件 tables, so the rows below are built to those totals:
the named projects and departments are the report's own; the others and all amounts not
stated in the report are made up, deterministically (fixed seed, fixed file dates).

What the report states, and how the workbook meets it:
- 指标库 7,104 = 225 通用类 + 6,879 部门个性化;
- 事前评估: 区农水局 碧道建设工程 and 东沙涌综合整治工程 予以支持, 区住房建设局
  城市更新基础数据调查费用 部分予以支持; 7,920万 requested, 1,200万 cut (15.15 %);
- 自评: 77 departments, 3,755 projects, 3,406 优良 (90.71 %);
- 复核: 9 departments, 25 projects, 0.26亿 (25,980,000), 2 优 18 良 5 中 (80 %),
  completion 98 % (Σ executed = 98.00 % of Σ budget), 16 at 100 %, 7 at 90–100 %, 2 below;
- 重点评价: 10 projects of 10 departments (the report's §二; its §一 says 32 departments,
  see docs/decisions/0010), 2.67亿, 1 优 9 良, completion 97.55 %, 7 / 2 / 1;
- 部门整体: 区人力和社会保障局 90.06 % and 90.34 points, 多宝街办事处 95.33 % and 85.82,
  4.73亿 together;
- evaluated: 35 projects and 2 departments, 7.66亿; 86 expert suggestions.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import django
import openpyxl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

# The workbook's format is the importer's own (nothing here repeats it).
from processes.services.history import SHEETS  # noqa: E402
from processes.services.indicators import COLUMNS as INDICATOR_COLUMNS  # noqa: E402

YEAR = 2020
SEED = 2020
OUTPUT = ROOT / "data" / "reference" / "liwan-2020.xlsx"

# The demo district's codes for the departments it shares with the reference year.
BUREAUS = [
    ("LW101", "区农水局"),
    ("LW102", "区住房建设局"),
    ("LW103", "区人力和社会保障局"),
    ("LW104", "多宝街办事处"),
    ("LW105", "区教育局"),
    ("LW106", "区卫生健康局"),
    ("LW107", "区民政局"),
    ("LW108", "区城市管理和综合执法局"),
] + [
    (f"LW{109 + i}", name)
    for i, name in enumerate(
        [
            "区人民政府办公室",
            "区发展和改革局",
            "区科技工业商务和信息化局",
            "区公安分局",
            "区司法局",
            "区财政局",
            "区审计局",
            "区统计局",
            "区规划和自然资源分局",
            "区生态环境分局",
            "区交通运输局",
            "区文化广电旅游体育局",
            "区退役军人事务局",
            "区应急管理局",
            "区市场监督管理局",
            "区医疗保障局",
            "区政务服务数据管理局",
            "区信访局",
            "区档案馆",
            "区机关事务管理局",
            "区投资促进局",
            "区国有资产监督管理局",
            "区残疾人联合会",
            "区妇女联合会",
            "区总工会",
            "共青团荔湾区委",
            "区科学技术协会",
            "区工商业联合会",
            "区红十字会",
            "区地方志办公室",
            "区委组织部",
            "区委宣传部",
            "区委统战部",
            "区委政法委",
            "区纪委监委",
            "区人大常委会办公室",
            "区政协办公室",
            "区委党校",
            "区融媒体中心",
            "区疾病预防控制中心",
            "区图书馆",
            "区文化馆",
            "区少年宫",
            "区教育发展研究院",
            "区城市更新局",
            "区水务工程建设管理中心",
            "区住房保障服务中心",
            "区物业管理服务中心",
        ]
    )
]
STREETS = [
    "沙面",
    "岭南",
    "华林",
    "昌华",
    "逢源",
    "龙津",
    "金花",
    "彩虹",
    "南源",
    "西村",
    "站前",
    "桥中",
    "白鹤洞",
    "冲口",
    "花地",
    "石围塘",
    "茶滘",
    "东漖",
    "海龙",
    "东沙",
    "中南",
]
DEPARTMENTS = BUREAUS + [(f"LW{109 + len(BUREAUS) - 8 + i}", f"{street}街办事处") for i, street in enumerate(STREETS)]
assert len(DEPARTMENTS) == 77 and len({c for c, _ in DEPARTMENTS}) == 77 and len({n for _, n in DEPARTMENTS}) == 77
CODE = {name: code for code, name in DEPARTMENTS}

AGENCY = "广州某绩效评价咨询有限公司"  # the report: one agency took the whole year's work
PRE_ASSESSMENT_AGENCY = "广东某工程咨询有限公司"

CATEGORIES = ["基建工程", "民政", "产业扶贫", "城市管理", "教育", "医疗卫生", "人力社保", "其他"]
SUBJECTS = [
    "社区服务",
    "办公设备购置",
    "信息化系统运维",
    "专项业务经费",
    "宣传培训",
    "物业管理",
    "安全生产检查",
    "档案数字化",
    "政府购买服务",
    "设施维修改造",
    "志愿服务",
    "课题调研",
    "环境卫生整治",
    "应急物资储备",
    "公共绿化管养",
    "河涌保洁",
]

# 事前评估 (the report's three projects): department, name, requested, approved, conclusion.
PRE_ASSESSED = [
    ("区农水局", "碧道建设工程", Decimal("38000000.00"), Decimal("38000000.00"), "予以支持"),
    ("区农水局", "东沙涌综合整治工程", Decimal("21200000.00"), Decimal("21200000.00"), "予以支持"),
    ("区住房建设局", "城市更新基础数据调查费用", Decimal("20000000.00"), Decimal("8000000.00"), "部分予以支持"),
]

# 重点评价: department, project, budget, executed, score (1 优 9 良; 7 at 100 %, 2 at 90–100 %, 1 below).
KEY_EVALUATED = [
    ("区科技工业商务和信息化局", "重点企业扶持奖励资金", "49000000.00", "49000000.00", "92.30"),
    ("区市场监督管理局", "扶持专利产业化项目资金", "12000000.00", "12000000.00", "86.50"),
    ("区委组织部", "高层次人才激励资金", "9500000.00", "9500000.00", "88.20"),
    ("区国有资产监督管理局", "1906产业园改造提升项目", "30000000.00", "28229250.00", "84.10"),
    ("区城市管理和综合执法局", "公共绿化管养经费", "36000000.00", "36000000.00", "87.60"),
    ("区民政局", "居家养老“3+X”服务项目", "20000000.00", "17000000.00", "81.30"),
    ("区卫生健康局", "发热门诊规范化建设项目", "30000000.00", "28229250.00", "85.40"),
    ("区教育局", "新样态学校建设项目", "45000000.00", "45000000.00", "89.10"),
    ("区农水局", "老旧居民住宅供水改造工程", "26000000.00", "26000000.00", "83.70"),
    ("区投资促进局", "招商引资专项经费", "9500000.00", "9500000.00", "86.90"),
]

# 复核: 25 projects of 9 departments — 2 优 18 良 5 中; 16 at 100 %, 7 at 90–100 %, 2 below 90 %;
# Σ budget 25,980,000.00 and Σ executed 25,460,400.00 (98.00 %).
RECHECK_DEPARTMENTS = [
    ("区司法局", 3),
    ("区退役军人事务局", 3),
    ("区文化广电旅游体育局", 3),
    ("区残疾人联合会", 3),
    ("沙面街办事处", 3),
    ("华林街办事处", 3),
    ("西村街办事处", 3),
    ("区应急管理局", 2),
    ("区交通运输局", 2),
]
RECHECK_GRADES = (
    ["95.20", "91.60"]
    + [f"{80 + (i * 7) % 10}.{(i * 37) % 100:02d}" for i in range(18)]
    + [
        "78.40",
        "75.10",
        "72.80",
        "69.50",
        "66.30",
    ]
)
FULL_BUDGETS = [1150000 + 10000 * ((i * 7) % 9) - 40000 for i in range(15)]
RECHECK_AMOUNTS = (
    # 16 at 100 %
    [(Decimal(b), Decimal(b)) for b in FULL_BUDGETS]
    + [(Decimal(18380000 - sum(FULL_BUDGETS)), Decimal(18380000 - sum(FULL_BUDGETS)))]
    # 7 at 90–100 %
    + [(Decimal(800000), Decimal(800000 - 31000)) for _ in range(6)]
    + [(Decimal(800000), Decimal(800000 - 33600))]
    # 2 below 90 %
    + [(Decimal(1000000), Decimal(850000)), (Decimal(1000000), Decimal(850000))]
)

# 部门整体绩效评价: department, budget, executed, score.
DEPARTMENT_EVALUATED = [
    ("区人力和社会保障局", "300000000.00", "270180000.00", "90.34"),
    ("多宝街办事处", "173000000.00", "164920900.00", "85.82"),
]

SUGGESTION_TEXTS = [
    "建立项目资金常态化监督管理机制，定期开展资金使用检查。",
    "细化绩效目标，增加可量化的产出和效益指标。",
    "加强项目前期论证，合理测算预算规模。",
    "规范财务核算，做到专款专用、单独核算。",
    "加快项目实施进度，提高预算执行率。",
    "完善项目档案管理，保存过程资料和验收资料。",
    "加强基层服务专业人才配备，开展业务培训。",
    "落实问题整改，按期报送整改报告。",
    "建立服务对象满意度调查机制，收集意见改进服务。",
    "完善政府购买服务合同管理，明确服务标准和考核办法。",
    "强化项目绩效运行监控，及时调整无法执行的预算。",
    "健全内部控制制度，明确审批流程和责任分工。",
]

LEVELS = [
    ("产出指标", "数量指标"),
    ("产出指标", "质量指标"),
    ("产出指标", "时效指标"),
    ("成本指标", "经济成本指标"),
    ("效益指标", "经济效益指标"),
    ("效益指标", "社会效益指标"),
    ("效益指标", "生态效益指标"),
    ("效益指标", "可持续影响指标"),
    ("满意度指标", "服务对象满意度指标"),
]
MEASURES = [
    ("完成数量", "个", "≥"),
    ("覆盖人数", "人", "≥"),
    ("验收合格率", "%", "≥"),
    ("完成时间", "月", "≤"),
    ("单位成本", "万元", "≤"),
    ("计划执行率", "%", "="),
    ("群众满意度", "%", "≥"),
    ("长效管护机制建立情况", "", "定性"),
]
GENERAL_INDICATORS = 225
DEPARTMENT_INDICATORS = 6879


def money(value: Decimal | str) -> float:
    """An amount for the cell: yuan with cents (an exact binary double for these values is
    not needed: the import reads the shortest repr back)."""
    return float(Decimal(value))


def build() -> openpyxl.Workbook:
    rng = random.Random(SEED)
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets = {}
    for name, (required, optional) in SHEETS.items():
        sheets[name] = book.create_sheet(name)
        sheets[name].append([*required, *(c for c in optional if c == "agency")])
    projects, pre, selfs = sheets["projects"], sheets["pre_assessments"], sheets["self_evaluations"]
    rechecks, keys = sheets["rechecks"], sheets["key_evaluations"]
    departments, suggestions = sheets["department_evaluations"], sheets["suggestions"]

    # 3,755 projects: 59 departments of 49 and 18 of 48, in code order.
    counts = {code: (49 if i < 59 else 48) for i, (code, _name) in enumerate(DEPARTMENTS)}
    assert sum(counts.values()) == 3755
    named: dict[str, list[tuple[str, ...]]] = {code: [] for code, _ in DEPARTMENTS}
    for dept, name, requested, approved, conclusion in PRE_ASSESSED:
        named[CODE[dept]].append(("pre", name, str(requested), str(approved), conclusion))
    for dept, name, budget, executed, score in KEY_EVALUATED:
        named[CODE[dept]].append(("key", name, budget, executed, score))
    recheck_rows = iter(zip(RECHECK_AMOUNTS, RECHECK_GRADES, strict=True))
    for dept, n in RECHECK_DEPARTMENTS:
        for _ in range(n):
            (budget_, executed_), score = next(recheck_rows)
            named[CODE[dept]].append(("recheck", "", str(budget_), str(executed_), score))

    # Self-evaluation grades: 优 2,100, 良 1,306, 中 300, 差 49 (3,406 优良).
    grades = ["优"] * 2100 + ["良"] * 1306 + ["中"] * 300 + ["差"] * 49
    rng.shuffle(grades)
    bands = {"优": (9000, 9950), "良": (8000, 8999), "中": (6000, 7999), "差": (4000, 5999)}
    grade_of = iter(grades)

    for code, dept_name in DEPARTMENTS:
        special = named[code]
        for n in range(1, counts[code] + 1):
            project_code = f"{code}-{YEAR}-{n:03d}"
            kind, name, budget, executed, extra = special[n - 1] if n <= len(special) else ("", "", "", "", "")
            if not name:
                name = f"{dept_name.removeprefix('区')}{rng.choice(SUBJECTS)}项目" + ("" if n < 10 else f"（{n}）")
            if kind == "pre":
                requested, approved = Decimal(budget), Decimal(executed)
                adjusted = approved
                executed_amount = (approved * Decimal(rng.randint(9200, 10000)) / 10000).quantize(Decimal("0.01"))
            elif kind in ("key", "recheck"):
                requested = approved = adjusted = Decimal(budget)
                executed_amount = Decimal(executed)
            else:
                requested = Decimal(rng.randint(50, 5000) * 1000)
                approved = requested
                adjusted = approved if rng.random() < 0.9 else (approved * Decimal("0.95")).quantize(Decimal("1"))
                executed_amount = (
                    adjusted
                    if rng.random() < 0.6
                    else (adjusted * Decimal(rng.randint(7500, 9999)) / 10000).quantize(Decimal("0.01"))
                )
            projects.append(
                [
                    YEAR,
                    code,
                    dept_name,
                    project_code,
                    name,
                    rng.choice(CATEGORIES),
                    money(requested),
                    money(approved),
                    money(adjusted),
                    money(executed_amount),
                ]
            )
            low, high = bands[next(grade_of)]
            selfs.append([project_code, rng.randint(low, high) / 100])
            if kind == "pre":
                pre.append([project_code, PRE_ASSESSMENT_AGENCY, extra, money(approved)])
            elif kind == "key":
                keys.append([project_code, AGENCY, float(extra)])
                for i in range(3):
                    suggestions.append(["key", project_code, SUGGESTION_TEXTS[(len(keys["A"]) * 3 + i) % 12]])
            elif kind == "recheck":
                rechecks.append([project_code, AGENCY, float(extra)])
                for i in range(2):
                    suggestions.append(["recheck", project_code, SUGGESTION_TEXTS[(len(rechecks["A"]) + i * 5) % 12]])

    for dept, budget, executed, score in DEPARTMENT_EVALUATED:
        departments.append([YEAR, CODE[dept], money(budget), money(executed), float(score), AGENCY])
        for i in range(3):
            suggestions.append(["department", CODE[dept], SUGGESTION_TEXTS[(i * 4 + len(dept)) % 12]])

    indicators = book.create_sheet("indicators")
    indicators.append(list(INDICATOR_COLUMNS))
    for i in range(GENERAL_INDICATORS + DEPARTMENT_INDICATORS):
        general = i < GENERAL_INDICATORS
        dept_code = "" if general else DEPARTMENTS[i % 77][0]
        level1, level2 = LEVELS[i % len(LEVELS)]
        if level1 == "满意度指标":
            measure, unit, direction = ("服务对象满意度", "%", "≥")
        elif level1 == "成本指标":
            measure, unit, direction = ("单位成本", "万元", "≤")
        else:
            measure, unit, direction = rng.choice(MEASURES)
        subject = rng.choice(SUBJECTS)
        indicators.append(
            [
                f"TY{i + 1:04d}" if general else f"{dept_code}-ZB{i + 1:05d}",
                level1,
                level2,
                f"{subject}{measure}",
                unit,
                direction,
                "通用类" if general else "部门个性化",
                dept_code,
                f"反映{subject}{measure}情况，按年度统计，数据来源为项目单位台账及验收资料。",
                "达到目标值得满分，未达到按比例扣分。",
                "是",
            ]
        )
    book.properties.created = book.properties.modified = datetime(2021, 10, 16)
    book.properties.creator = "Jixiao"
    return book


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    build().save(args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
