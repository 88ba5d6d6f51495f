"""Reports and imports:

- the reference year's workbook (data/reference/liwan-2020.xlsx) imported into an empty
  database through ``manage.py import_history`` (processes.services.history), and beside
  it the same rows inserted by the ORM and by the driver;
- the reference year's annual report (``manage.py annual_report --year 2020``) as JSON
  and as XLSX, on the imported year, with the statements of the JSON; beside it, reading
  every row of every table that holds data with a plain cursor (the data's floor);
- a 10,000-row indicator library workbook (225 general rows, the rest department-specific
  over the district's departments; every level-2 kind, ≥ / ≤ / = / 定性, units,
  explanations and scoring standards), read and imported into an empty library through
  the services (``read_indicator_workbook``, ``indicators_import_rows``), then imported
  again (nothing changes); beside it the same library rows by the ORM and by the driver.

Target (issue 9): the annual report as JSON ≤ 2 s.
"""

from __future__ import annotations

import random
import statistics
from io import BytesIO, StringIO
from pathlib import Path

import openpyxl
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Department
from processes.models import Indicator
from processes.services.indicators import COLUMNS, indicators_import_rows, read_indicator_workbook
from processes.states import LEVEL2_PARENT

from .. import district
from ..context import Context
from ..harness import BASE_DIR, timed
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


REFERENCE = BASE_DIR / "data" / "reference" / "liwan-2020.xlsx"
REFERENCE_YEAR = 2020


def run(ctx: Context) -> None:
    n = ctx.size["indicator_rows"]
    s = ctx.report.scenario(
        "imports",
        "Reports and imports",
        workbook=REFERENCE.name,
        indicator_rows=n,
        departments=ctx.size["departments"],
    )
    with ctx.report.timing(s):
        reports(ctx, s)
        indicators(ctx, s)


def _read_everything() -> int:
    """Every row of every table that holds data, through a plain cursor; the rows read."""
    read = 0
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            if model._meta.proxy or not model._meta.managed:
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
            read += len(cursor.fetchall())
    return read


def reports(ctx: Context, s) -> None:
    """The reference workbook imported into an empty database; the year's report from it."""
    ctx.state("history-empty", lambda: district.setup(0, 0))
    watch = NewRows.watch()
    first = timed(lambda: call_command("import_history", str(REFERENCE), stdout=StringIO(), stderr=StringIO()))[0]
    written = watch.take()
    s.note(f"reference workbook: {written.rows:,} rows inserted ({written.describe()})")
    ctx.db.snapshot("history-imported")
    with CaptureQueriesContext(connection) as q:
        out = StringIO()
        call_command("annual_report", year=REFERENCE_YEAR, format="json", stdout=out)
    s.add("annual_report JSON: statements", len(q.captured_queries), "statements")
    s.note(f"annual report {REFERENCE_YEAR} as JSON: {len(out.getvalue().encode()) / 1024:.0f} KiB")
    raw = "executemany" if connection.vendor == "sqlite" else "COPY"
    xlsx = Path(ctx.workdir) / "annual.xlsx"
    runs: dict[str, list[float]] = {"import_history (reference workbook)": [first]}  # the first run: above
    for run in range(ctx.runs):
        if run:
            ctx.state("history-empty", lambda: None)
            runs["import_history (reference workbook)"].append(
                timed(lambda: call_command("import_history", str(REFERENCE), stdout=StringIO(), stderr=StringIO()))[0]
            )
        ctx.state("history-empty", lambda: None)
        runs.setdefault("limit: ORM bulk_create of the imported rows", []).append(timed(written.orm_insert)[0])
        ctx.state("history-empty", lambda: None)
        runs.setdefault(f"limit: raw {raw} of the imported rows", []).append(timed(written.raw_insert)[0])
        ctx.state("history-imported", lambda: None)
        runs.setdefault("annual_report JSON", []).append(
            timed(lambda: call_command("annual_report", year=REFERENCE_YEAR, format="json", stdout=StringIO()))[0]
        )
        runs.setdefault("annual_report XLSX", []).append(
            timed(lambda: call_command("annual_report", year=REFERENCE_YEAR, format="xlsx", output=str(xlsx)))[0]
        )
        seconds, rows_read = timed(_read_everything)
        runs.setdefault("limit: every row of the database read by a plain cursor", []).append(seconds)
    s.note(f"the database after the import holds {rows_read:,} rows")
    for name, values in runs.items():
        s.add(name, values, "s")
    med = {name: statistics.median(values) for name, values in runs.items()}
    s.ratio(
        "import_history ÷ ORM bulk_create of its rows",
        med["import_history (reference workbook)"] / med["limit: ORM bulk_create of the imported rows"],
    )
    s.ratio(
        f"import_history ÷ raw {raw} of its rows",
        med["import_history (reference workbook)"] / med[f"limit: raw {raw} of the imported rows"],
    )
    floor = med["limit: every row of the database read by a plain cursor"]
    s.ratio("annual_report JSON ÷ reading every row", med["annual_report JSON"] / floor)
    s.target(
        "annual_report JSON",
        "≤ 2 s",
        f"{med['annual_report JSON']:.2f} s",
        (ctx.full or None) and med["annual_report JSON"] <= 2,
    )


def indicators(ctx: Context, s) -> None:
    """The 10,000-row indicator library workbook, read and imported into an empty library."""
    n = ctx.size["indicator_rows"]
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
    s.ratio(f"import ÷ raw {raw} of its rows", imported / statistics.median(runs[f"limit: raw {raw} of the same rows"]))
