"""Build data/samples/budget-projects-2022.xlsx: the demo district's 2022 项目库 as the budget
system exports it (the budget-preparation import's sample; docs/processes/execution-data.md, "Budget-preparation import").

    .venv/bin/python scripts/build_budget_sample.py

Deterministic: the same file every run (fixed workbook timestamps). Departments are given
by code on some rows and by name on others, as the budget system's exports differ.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

YEAR = 2022
OUT = Path(__file__).resolve().parent.parent / "data" / "samples" / f"budget-projects-{YEAR}.xlsx"
HEADER = ["预算部门", "项目编码", "项目名称", "项目类别", "项目性质", "申报金额（元）", "总体目标"]
ROWS = [
    [
        "LW101",
        "2022-LW101-001",
        "碧道建设工程（二期）",
        "基建工程",
        "一次性项目",
        28600000,
        "2022 年建成滨水碧道 6.2 公里。",
    ],
    [
        "LW101",
        "2022-LW101-002",
        "高标准农田水利设施维护",
        "基建工程",
        "经常性项目",
        980000,
        "维护农田水利设施，保障灌溉。",
    ],
    [
        "区住房建设局",
        "2022-LW102-001",
        "老旧小区微改造",
        "城市管理",
        "一次性项目",
        3600000,
        "完成 12 个老旧小区微改造。",
    ],
    ["LW103", "2022-LW103-001", "职业技能提升培训补贴", "人力社保", "经常性项目", 2900000, "全年补贴培训 3,000 人次。"],
    ["区人力和社会保障局", "2022-LW103-002", "“羊城家政”试点推广", "人力社保", "经常性项目", 1750000, ""],
    ["LW104", "2022-LW104-001", "网格化服务管理", "城市管理", "经常性项目", 1600000, "全年巡查走访 52,000 户。"],
    ["LW105", "2022-LW105-001", "中小学课后服务", "教育", "经常性项目", 1680000, "课后服务覆盖全部公办中小学。"],
    ["区卫生健康局", "2022-LW106-001", "区儿童医院建设前期工作经费", "医疗卫生", "一次性项目", 6000000, ""],
    [
        "LW106001",
        "2022-LW106001-001",
        "医疗设备更新",
        "医疗卫生",
        "一次性项目",
        4200000,
        "更新 CT 等大型医疗设备 3 台。",
    ],
    ["LW107", "2022-LW107-001", "居家养老服务补贴", "民政", "经常性项目", 2450000, "为 3,200 名老人提供居家养老服务。"],
    [
        "区城市管理和综合执法局",
        "2022-LW108-001",
        "公共绿化管养",
        "城市管理",
        "经常性项目",
        3550000,
        "管养公共绿化 126.53 万平方米。",
    ],
    ["LW108", "2022-LW108-002", "街区垃圾分类督导", "其他", "一次性项目", 860000.5, ""],
]


def build() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "项目库"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in ROWS:
        sheet.append(row)
    for column, width in zip("ABCDEFG", (22, 20, 30, 10, 12, 16, 40), strict=True):
        sheet.column_dimensions[column].width = width
    stamp = datetime.datetime(YEAR - 1, 10, 1)
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = "jixiao"
    from io import BytesIO

    out = BytesIO()
    book.save(out)
    return out.getvalue()


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(build())
    sys.stdout.write(f"{OUT}\n")
