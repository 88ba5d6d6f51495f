"""Wall time of a 10,000-row indicator library import, and of importing it again.

    .venv/bin/python bench/indicator_import.py [--rows 10000] [--database sqlite:////tmp/bench.sqlite3]

Builds a fresh database (SQLite file by default; DATABASE_URL or --database for
PostgreSQL), 77 departments and a finance officer, and a realistic workbook: 225 general
rows and the rest department-specific, every level-2 kind, ≥ / ≤ / = / 定性, units,
explanations and scoring standards. Then it times:

1. reading the workbook (read_indicator_workbook) and importing its rows
   (indicators_import_rows), then importing the same rows again (nothing changes);
2. the job path (job_start → the runner in a thread, as in the embedded default, then
   as an eager Celery task), from the upload to the job's finished row, on an empty
   library and again on the full one; with the progress the polling page would see.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=10_000)
parser.add_argument("--database", default="")
args = parser.parse_args()

workdir = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
os.environ["DATABASE_URL"] = args.database or os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts.models import Department, User  # noqa: E402
from accounts.roles import sync_role_groups  # noqa: E402
from processes.models import Indicator, Job  # noqa: E402
from processes.services.indicators import (  # noqa: E402
    COLUMNS,
    indicator_import_start,
    indicators_import_rows,
    read_indicator_workbook,
)
from processes.states import LEVEL2_PARENT  # noqa: E402

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


def workbook(rows: int, departments: list[str]) -> bytes:
    rng = random.Random(2020)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("绩效指标库")
    sheet.append(list(COLUMNS))
    level2s = list(LEVEL2)
    for i in range(rows):
        general = i < 225
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


def timed(label: str, fn):
    started = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    print(f"{label:<58} {seconds:7.2f} s   {value if isinstance(value, dict) else ''}")
    return value


def run_job(finance: User, data: bytes, *, in_thread: bool) -> tuple[Job, list[tuple[str, int, int]]]:
    settings.JOBS_IN_THREAD = in_thread
    with transaction.atomic():
        job = indicator_import_start(actor=finance, file=SimpleUploadedFile("indicators.xlsx", data))
    seen: list[tuple[str, int, int]] = []
    while True:
        job.refresh_from_db()
        state = (job.phase, job.done, job.total)
        if not seen or seen[-1] != state:
            seen.append(state)
        if job.finished:
            return job, seen
        time.sleep(0.05)


def main() -> None:
    settings.MEDIA_ROOT = str(workdir / "media")
    call_command("migrate", verbosity=0)
    sync_role_groups()
    departments = [Department.objects.create(code=f"D{n:03d}", name=f"部门{n:03d}").code for n in range(1, 78)]
    finance = User.objects.create(username="finance-bench")
    finance.groups.add(*finance.groups.model.objects.filter(name="finance_officer"))
    finance = User.objects.get(pk=finance.pk)

    data = workbook(args.rows, departments)
    print(f"database: {connection.vendor}; rows: {args.rows}; workbook: {len(data) / 1024:.0f} KiB")
    rows = timed("read_indicator_workbook", lambda: read_indicator_workbook(BytesIO(data)))
    timed("indicators_import_rows (empty library)", lambda: indicators_import_rows(actor=finance, rows=rows))
    timed("indicators_import_rows again (same rows)", lambda: indicators_import_rows(actor=finance, rows=rows))
    print(f"library: {Indicator.objects.count()} rows")

    for in_thread, how in ((True, "thread"), (False, "Celery eager")):
        Indicator.objects.all().delete()
        for label in (f"job path, {how}, empty library", f"job path, {how}, same file again"):
            started = time.perf_counter()
            job, seen = run_job(finance, data, in_thread=in_thread)
            seconds = time.perf_counter() - started
            print(f"{label:<58} {seconds:7.2f} s   {job.status} {job.result}")
            if in_thread:
                print(f"    progress seen by polling: {seen}")


if __name__ == "__main__":
    main()
