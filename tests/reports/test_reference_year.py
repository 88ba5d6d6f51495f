"""The reference year: data/reference/liwan-2020.xlsx, imported, gives every figure of the
district's 2020 report to its people's congress
(../shared/reference/liwan-2020-performance-report.zh.txt), figure by figure."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from processes.units import in_wan, in_yi

WORKBOOK = Path(__file__).resolve().parents[2] / "data" / "reference" / "liwan-2020.xlsx"


def yi(amount: str) -> Decimal:
    return in_yi(Decimal(amount))


@pytest.mark.django_db
def test_the_reference_workbook_reproduces_the_2020_report():
    call_command("import_history", str(WORKBOOK), stdout=StringIO())
    out = StringIO()
    call_command("annual_report", "--year", "2020", "--format", "json", stdout=out)
    report = json.loads(out.getvalue())

    assert set(report) == {
        "year",
        "indicator_library",
        "pre_assessment",
        "self_evaluation",
        "recheck",
        "key_evaluation",
        "department_evaluation",
        "expert_suggestions",
        "evaluated",
        "results_application",
    }
    assert report["year"] == 2020

    # §一(一)2: 7,104 indicators, 225 general and 6,879 department-specific.
    assert report["indicator_library"] == {"total": 7104, "general": 225, "department_specific": 6879}

    # §一(二)1: 3 projects pre-assessed, 0.79亿; 2 予以支持, 1 部分予以支持; 0.12亿 cut, 15.15 %.
    pre = report["pre_assessment"]
    assert pre["projects"] == 3
    assert in_wan(Decimal(pre["requested"])) == Decimal("7920.00")
    assert yi(pre["requested"]) == Decimal("0.79")
    assert in_wan(Decimal(pre["reduction"])) == Decimal("1200.00")
    assert yi(pre["reduction"]) == Decimal("0.12")
    assert Decimal(pre["approved"]) == Decimal(pre["requested"]) - Decimal(pre["reduction"])
    assert pre["reduction_rate"] == "15.15"
    assert pre["conclusions"] == {"support": 2, "partial": 1, "reject": 0}

    # §一(二)4: 77 departments, 3,755 projects self-evaluated, 3,406 优良, 90.71 %.
    self_evaluation = report["self_evaluation"]
    assert self_evaluation["departments"] == 77
    assert self_evaluation["projects"] == 3755
    assert self_evaluation["excellent_or_good"] == 3406
    assert self_evaluation["grades"]["excellent"] + self_evaluation["grades"]["good"] == 3406
    assert sum(self_evaluation["grades"].values()) == 3755
    assert self_evaluation["excellent_or_good_rate"] == "90.71"

    # §二(一)1: re-check of 25 projects of 9 departments, 0.26亿; 2 优 18 良 5 中, 80 %;
    # completion 98 %: 16 at 100 %, 7 above 90 %, 2 below.
    recheck = report["recheck"]
    assert (recheck["departments"], recheck["projects"]) == (9, 25)
    assert yi(recheck["budget"]) == Decimal("0.26")
    assert recheck["grades"] == {"excellent": 2, "good": 18, "fair": 5, "poor": 0}
    assert recheck["excellent_or_good_rate"] == "80.00"
    assert recheck["completion_rate"] == "98.00"
    assert recheck["completion"] == {"full": 16, "at_least_90": 7, "below_90": 2}

    # §二(一)2: key evaluation of 10 projects of 10 departments, 2.67亿; 1 优 9 良, 100 %;
    # completion 97.55 %: 7 at 100 %, 2 above 90 %, 1 below.
    key = report["key_evaluation"]
    assert (key["departments"], key["projects"]) == (10, 10)
    assert yi(key["budget"]) == Decimal("2.67")
    assert key["grades"] == {"excellent": 1, "good": 9, "fair": 0, "poor": 0}
    assert key["excellent_or_good_rate"] == "100.00"
    assert key["completion_rate"] == "97.55"
    assert key["completion"] == {"full": 7, "at_least_90": 2, "below_90": 1}

    # §二(一)3: 区人力和社会保障局 90.06 % and 90.34 points, 多宝街办事处 95.33 % and 85.82;
    # 4.73亿 together.
    departments = report["department_evaluation"]
    assert departments["departments"] == 2
    assert yi(departments["budget"]) == Decimal("4.73")
    items = {item["department"]: item for item in departments["items"]}
    assert (items["区人力和社会保障局"]["completion_rate"], items["区人力和社会保障局"]["score"]) == ("90.06", "90.34")
    assert (items["多宝街办事处"]["completion_rate"], items["多宝街办事处"]["score"]) == ("95.33", "85.82")
    assert Decimal(departments["budget"]) == sum(Decimal(item["budget"]) for item in departments["items"])

    # §二: 35 projects and 2 departments evaluated, 7.66亿; §一(二)4: 86 expert suggestions.
    assert report["evaluated"]["projects"] == 35
    assert report["evaluated"]["departments"] == 2
    assert yi(report["evaluated"]["amount"]) == Decimal("7.66")
    assert report["expert_suggestions"] == 86
