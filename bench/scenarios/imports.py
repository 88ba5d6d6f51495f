"""Imports: a 10,000-row indicator library workbook (225 general rows, the rest
department-specific over the district's departments; every level-2 kind, ≥ / ≤ / = /
定性, units, explanations and scoring standards), read and imported into an empty
library through the services (``read_indicator_workbook``, ``indicators_import_rows``),
then imported again (nothing changes). Beside it, in the same run, the same library rows
inserted by the ORM and by the driver.

(The reference year's annual report and workbook import join this scenario once the
reports app's commands exist: see docs/performance.md.)
"""

from __future__ import annotations

import random
import statistics
from io import BytesIO

import openpyxl
from django.db import connection

from accounts.models import Department
from processes.models import Indicator
from processes.services.indicators import COLUMNS, indicators_import_rows, read_indicator_workbook
from processes.states import LEVEL2_PARENT

from .. import district
from ..context import Context
from ..harness import timed
from ..rows import NewRows

LEVEL1 = {"output": "产出指标", "effect": "效益指标", "satisfaction": "满意度指标", "cost": "成本指标"}
LEVEL2 = {
    "quantity": "数量指标",
    "quality": "质量指标",
    "timeliness": "时效指标",
    "cost": "成本指标",
    "economic": "经济效益指标",
    "social": "社会效益指标",
    "ecological": "生态效益指标",
    "sustainable": "可持续影响指标",
    "satisfaction": "服务对象满意度指标",
    "economic_cost": "经济成本指标",
    "social_cost": "社会成本指标",
    "ecological_cost": "生态环境成本指标",
}
SUBJECTS = [
    "道路",
    "校舍",
    "社区",
    "河涌",
    "绿地",
    "农田",
    "养老服务",
    "医疗设备",
    "就业培训",
    "垃圾分类",
    "消防设施",
    "图书馆",
]
MEASURES = [
    ("维修面积", "平方米", "gte"),
    ("完成数量", "个", "gte"),
    ("覆盖人数", "人", "gte"),
    ("验收合格率", "%", "gte"),
    ("完成时间", "月", "lte"),
    ("单位成本", "万元", "lte"),
    ("投诉率", "%", "lte"),
    ("计划执行率", "%", "eq"),
    ("群众满意度", "%", "gte"),
    ("服务质量提升情况", "", "qualitative"),
    ("长效管护机制建立情况", "", "qualitative"),
]


def indicator_workbook(rows: int, departments: list[str]) -> bytes:
    """A realistic library workbook of ``rows`` rows in the import format (COLUMNS)."""
    rng = random.Random(2020)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("绩效指标库")
    sheet.append(list(COLUMNS))
    level2s = list(LEVEL2)
    general_rows = min(225, rows // 2)
    for i in range(rows):
        general = i < general_rows
        dept = "" if general else departments[i % len(departments)]
        level2 = level2s[i % len(level2s)]
        subject = rng.choice(SUBJECTS)
        measure, unit, direction = rng.choice(MEASURES)
        sheet.append(
            [
                f"G{i + 1:04d}" if general else f"{dept}-{i + 1:05d}",
                LEVEL1[LEVEL2_PARENT[level2]],
                LEVEL2[level2],
                f"{subject}{measure}",
                unit,
                {"gte": "≥", "lte": "≤", "eq": "=", "qualitative": "定性"}[direction],
                "通用类" if general else "部门个性化",
                dept,
                f"反映{subject}项目{measure}的情况，按年度统计，数据来源为项目单位台账及验收资料。",
                f"达到目标值得满分；每低于目标值 {rng.randint(1, 10)}% 扣 1 分，扣完为止。",
                "否" if rng.random() < 0.03 else "是",
            ]
        )
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def run(ctx: Context) -> None:
    n = ctx.size["indicator_rows"]
    s = ctx.report.scenario("imports", "Indicator library import", rows=n, departments=ctx.size["departments"])
    with ctx.report.timing(s):
        ctx.state("imports", lambda: district.setup(0, ctx.size["departments"]))
        data = indicator_workbook(n, list(Department.objects.order_by("code").values_list("code", flat=True)))
        s.size["workbook_kib"] = round(len(data) / 1024)
        finance = district.load().finance
        rows = read_indicator_workbook(BytesIO(data))
        # the rows an import writes, kept for the limit
        watch = NewRows.watch()
        indicators_import_rows(actor=finance, rows=rows)
        written = watch.take()
        s.note(f"rows inserted: {written.describe()}")
        runs: dict[str, list[float]] = {}
        raw = "executemany" if connection.vendor == "sqlite" else "COPY"
        for _ in range(ctx.runs):
            ctx.state("imports", lambda: None)
            seconds, rows = timed(lambda: read_indicator_workbook(BytesIO(data)))
            runs.setdefault("read_indicator_workbook", []).append(seconds)
            seconds, result = timed(lambda rows=rows: indicators_import_rows(actor=finance, rows=rows))
            assert result["created"] == n, result
            runs.setdefault("indicators_import_rows, empty library", []).append(seconds)
            seconds, result = timed(lambda rows=rows: indicators_import_rows(actor=finance, rows=rows))
            assert result["unchanged"] == n, result
            runs.setdefault("indicators_import_rows again (nothing changes)", []).append(seconds)
            assert Indicator.objects.count() == n
            ctx.state("imports", lambda: None)
            runs.setdefault("limit: ORM bulk_create of the same rows", []).append(timed(written.orm_insert)[0])
            ctx.state("imports", lambda: None)
            runs.setdefault(f"limit: raw {raw} of the same rows", []).append(timed(written.raw_insert)[0])
        for name, values in runs.items():
            s.add(name, values, "s")
        imported = statistics.median(runs["indicators_import_rows, empty library"])
        s.ratio(
            "import ÷ ORM bulk_create of its rows",
            imported / statistics.median(runs["limit: ORM bulk_create of the same rows"]),
        )
        s.ratio(
            f"import ÷ raw {raw} of its rows", imported / statistics.median(runs[f"limit: raw {raw} of the same rows"])
        )
