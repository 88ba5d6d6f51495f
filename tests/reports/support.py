"""A small past year (2019) as a history workbook, for the import and page tests."""

from __future__ import annotations

from io import BytesIO

import openpyxl

from processes.services.indicators import COLUMNS

INDICATOR_HEADER = list(COLUMNS)


def sheets(**overrides: list[list]) -> dict[str, list[list]]:
    """A small valid year (2019) as {sheet: rows, header first}; ``overrides`` replace sheets
    (None removes one)."""
    base: dict[str, list[list]] = {
        "projects": [
            [
                "year",
                "department_code",
                "department_name",
                "project_code",
                "project_name",
                "category",
                "requested",
                "approved",
                "adjusted",
                "executed",
            ],
            [2019, "H01", "区甲局", "P1", "甲项目", "基建工程", 1000000, 800000, 800000, 800000],
            [2019, "H01", "区甲局", "P2", "乙项目", "民政", 500000, 500000, 400000, 360000],
            [2019, "H02", "乙街办事处", "P3", "丙项目", "城市管理", 300000.5, 300000.5, 300000.5, 150000.25],
        ],
        "pre_assessments": [
            ["project_code", "agency", "conclusion", "approved"],
            ["P1", "甲咨询公司", "部分予以支持", 800000],
        ],
        "self_evaluations": [["project_code", "score"], ["P1", 92.5], ["P2", 85], ["P3", 59.99]],
        "rechecks": [["project_code", "agency", "final_score"], ["P2", "乙评价所", 79.99]],
        "key_evaluations": [["project_code", "agency", "score"], ["P1", "乙评价所", 90]],
        "department_evaluations": [
            ["year", "department_code", "budget", "executed", "score"],
            [2019, "H02", 2000000, 1900000, 88.8],
        ],
        "suggestions": [
            ["kind", "ref", "text"],
            ["recheck", "P2", "加快执行进度。"],
            ["key", "P1", "细化绩效目标。"],
            ["key", "P1", "规范财务核算。"],
            ["department", "H02", "完善内控制度。"],
        ],
    }
    for name, rows in overrides.items():
        if rows is None:
            base.pop(name)
        else:
            base[name] = rows
    return base


def workbook(data: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in data.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
