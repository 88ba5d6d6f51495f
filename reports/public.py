"""信息公开 of targets and self-evaluation results (issue 19, item 5): what the public page
(no login) shows beside the disclosed years and the published evaluations.

* 绩效目标随预算公开: a project's performance targets once approved (the TargetSet in force,
  审核通过) and its budget approved (the project budgeted or later) — project, department,
  approved budget, overall goal and each indicator's level, name, direction, value, unit.
* 绩效自评结果随决算公开: a self-evaluation once the finance section accepted it — per
  department: project, budget, executed amount (决算), score and grade.

Read as plain values (``values()``), never model rows, so nothing else — internal review
comments, the targets' edits, a reviewer's or filler's name, the ratings' reasons, a draft
or returned version, a self-evaluation not accepted — can reach a template. Fixed queries
whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from processes.models import SelfEvaluation, TargetRow, TargetSet
from processes.states import (
    Direction,
    Grade,
    IndicatorLevel1,
    IndicatorLevel2,
    ProjectStage,
    SelfEvaluationStatus,
    TargetSetStatus,
)

#: A project's budget is approved (批复) from these stages on.
BUDGETED_STAGES = (
    ProjectStage.BUDGETED,
    ProjectStage.EXECUTING,
    ProjectStage.EVALUATING,
    ProjectStage.EVALUATED,
    ProjectStage.RECTIFYING,
    ProjectStage.CLOSED,
)


def disclosed_target_sets():
    """The target versions the public may read: approved, of a budgeted project."""
    return TargetSet.objects.filter(status=TargetSetStatus.APPROVED, project__stage__in=BUDGETED_STAGES)


def accepted_self_evaluations():
    """The self-evaluation results the public may read: accepted by the finance section."""
    return SelfEvaluation.objects.filter(status=SelfEvaluationStatus.ACCEPTED, score__isnull=False)


def target_years() -> list[int]:
    """The years with disclosed targets, newest first (one query)."""
    return list(
        disclosed_target_sets()
        .order_by("-project__fiscal_year")
        .values_list("project__fiscal_year", flat=True)
        .distinct()
    )


def self_evaluation_years() -> list[int]:
    """The years with accepted self-evaluation results, newest first (one query)."""
    return list(
        accepted_self_evaluations()
        .order_by("-project__fiscal_year")
        .values_list("project__fiscal_year", flat=True)
        .distinct()
    )


TARGET_FIELDS = (
    "pk",
    "overall_goal",
    "project__code",
    "project__name",
    "project__approved_amount",
    "project__department__code",
    "project__department__name",
)
ROW_FIELDS = (
    "target_set_id",
    "position",
    "level1",
    "level2",
    "name",
    "direction",
    "target_value",
    "target_text",
    "unit",
)


def targets_of_year(year: int):
    """The disclosed target sets of ``year`` as plain values, by department and project code
    (a queryset, for the paginator)."""
    return (
        disclosed_target_sets()
        .filter(project__fiscal_year=year)
        .order_by("project__department__code", "project__code", "pk")
        .values(*TARGET_FIELDS)
    )


def with_rows(target_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``target_sets`` (one page) each with its indicators, in one query."""
    rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
    ids = [t["pk"] for t in target_sets]
    for row in (
        TargetRow.objects.filter(target_set_id__in=ids).order_by("target_set_id", "position").values(*ROW_FIELDS)
    ):
        row["level1_label"] = IndicatorLevel1(row["level1"]).label
        row["level2_label"] = IndicatorLevel2(row["level2"]).label
        row["direction_label"] = Direction(row["direction"]).label
        value = row["target_value"]
        row["value_text"] = (
            row["target_text"]
            if row["direction"] == Direction.QUALITATIVE or value is None
            else f"{value.normalize():f}"
        )
        rows[row["target_set_id"]].append(row)
    return [{**t, "rows": rows[t["pk"]]} for t in target_sets]


SELF_FIELDS = (
    "project__code",
    "project__name",
    "project__approved_amount",
    "project__executed_amount",
    "project__department__code",
    "project__department__name",
    "score",
    "grade",
)


def self_evaluations_of_year(year: int) -> list[dict[str, Any]]:
    """The accepted self-evaluations of ``year`` grouped by department (one query):
    ``[{"department": name, "results": [...], "projects": n}]``."""
    departments: dict[str, dict[str, Any]] = {}
    rows = (
        accepted_self_evaluations()
        .filter(project__fiscal_year=year)
        .order_by("project__department__code", "project__code")
        .values(*SELF_FIELDS)
    )
    for row in rows:
        row["grade_label"] = Grade(row["grade"]).label if row["grade"] else ""
        code = row["project__department__code"]
        group = departments.setdefault(code, {"department": row["project__department__name"], "results": []})
        group["results"].append(row)
    return list(departments.values())
