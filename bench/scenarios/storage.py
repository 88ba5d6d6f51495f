"""Storage: the bytes a project adds to the database over its whole year, everything
included — the project, its targets, its flows' processes and tasks (and their due
times), the monitoring report, the self-evaluation with its score sheet, every audit row
and every notification (and its e-mail claim).

Each project is carried through its lifecycle by the project's services, as the people
would: filed, submitted, approved, routed to target review; targets drafted with six
rows, submitted, passed, rated; budget issued (executing); one monitoring round
(January–June) reported, submitted, passed and cleared; the year's self-evaluation
campaign launched, the sheet filled, submitted, passed and accepted. The database is
measured before and after (PostgreSQL: every table's relation size, indexes and TOAST
included, after VACUUM; SQLite: every b-tree's pages, from dbstat) at two numbers of
projects, and the bytes per project are the difference divided by the difference in
projects — so the fixed cost of a table's first pages does not count.

Limit: the payload alone — the bytes of the rows' values as stored, no page or index
overhead (PostgreSQL: pg_column_size of each row; SQLite: dbstat's payload of the
tables).

Target (issue 9): ≤ 24 KB per project-year.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from processes.lights import cumulative
from processes.models import BudgetProject, MonitoringReport, SelfEvaluation
from processes.services.evaluation import self_evaluation_save
from processes.services.monitoring import approved_rows as monitoring_rows
from processes.services.monitoring import report_save
from processes.services.projects import project_create
from processes.services.targets import target_draft_open, target_set_save
from workflows.services import (
    campaign_launch,
    monitoring_dept_review,
    monitoring_review,
    monitoring_round_open,
    monitoring_submit,
    project_act,
    self_evaluation_dept_review,
    self_evaluation_review,
    self_evaluation_submit,
    targets_dept_review,
    targets_rate,
    targets_submit,
)

from .. import district
from ..context import Context

YEAR = 2022
TARGET_ROWS = [
    {"level1": l1, "level2": l2, "name": name, "direction": direction, "unit": unit, "weight": str(weight)}
    | ({"target_value": str(value)} if value is not None else {"target_text": "机制健全并有效运行"})
    for l1, l2, name, direction, value, unit, weight in district.ROWS
]


def lifecycle(d: district.District, numbers: range) -> None:
    """Carry projects ``numbers`` of YEAR through their year, through the services."""
    projects = []
    departments = d.departments
    for i in numbers:
        dept = departments[i % len(departments)]
        staff, leader = d.staff[dept.pk], d.leaders[dept.pk]
        project = project_create(
            actor=staff,
            fiscal_year=YEAR,
            code=f"{YEAR}-{dept.code}-{i:05d}",
            name=f"{dept.name}年度项目{i:05d}",
            category="infrastructure",
            recurrence="recurring",
            requested_amount=Decimal("1200000.00"),
            overall_goal="按年度计划完成建设任务，服务对象满意度达到 90% 以上。",
        )
        project = project_act(project=project, actor=staff, action="submit")
        project = project_act(project=project, actor=leader, action="approve", comment="同意报送。")
        project = project_act(project=project, actor=d.finance, action="route_to_target_review", comment="低于门槛。")
        target_set = target_set_save(
            target_set=target_draft_open(project=project, actor=staff),
            actor=staff,
            overall_goal=project.overall_goal,
            rows=TARGET_ROWS,
        )
        target_set = targets_submit(target_set=target_set, actor=staff)
        target_set = targets_dept_review(target_set=target_set, actor=leader, approve=True, comment="同意。")
        targets_rate(target_set=target_set, actor=d.finance, rating="excellent", comment="")
        project.refresh_from_db()
        project = project_act(project=project, actor=d.finance, action="start_execution", comment="预算已下达。")
        projects.append(project)
    ids = [p.pk for p in projects]
    due = timezone.now() + timedelta(days=14)
    monitoring_round_open(actor=d.finance, fiscal_year=YEAR, end_month=6, due_at=due, project_ids=ids)
    for report in MonitoringReport.objects.filter(project_id__in=ids).select_related("project"):
        dept = report.project.department_id
        rows = monitoring_rows(report.project)
        indicators = [
            # on pace: half the target by June for what accumulates, the target itself for a rate
            {
                "target_row": r.pk,
                "value": r.target_value * 6 / 12 if cumulative(r) else r.target_value,
                "likelihood": "certain",
            }
            if r.quantitative
            else {"target_row": r.pk, "progress": "achieved", "likelihood": "certain"}
            for r in rows
        ]
        budget = report.budget or Decimal(0)
        report = report_save(
            report=report,
            actor=d.staff[dept],
            executed=(budget * Decimal("0.5")).quantize(Decimal("0.01")),
            expected_full_year=budget,
            indicators=indicators,
        )
        report = monitoring_submit(report=report, actor=d.staff[dept])
        report = monitoring_dept_review(report=report, actor=d.leaders[dept], approve=True)
        monitoring_review(report=report, actor=d.finance, decision="clear")
    campaign_launch(actor=d.finance, fiscal_year=YEAR, due_at=timezone.now() + timedelta(days=30))
    for evaluation in SelfEvaluation.objects.filter(project_id__in=ids).select_related("project"):
        dept = evaluation.project.department_id
        budget = evaluation.project.approved_amount or Decimal(0)
        evaluation = self_evaluation_save(
            evaluation=evaluation,
            actor=d.staff[dept],
            lines=district.sheet_lines(evaluation.project),
            executed=str((budget * Decimal("0.92")).quantize(Decimal("0.01"))),
            summary="项目总体按计划实施，主要产出基本完成。",
        )
        evaluation = self_evaluation_submit(evaluation=evaluation, actor=d.staff[dept])
        evaluation = self_evaluation_dept_review(evaluation=evaluation, actor=d.leaders[dept], approve=True)
        self_evaluation_review(evaluation=evaluation, actor=d.finance, accept=True, comment="确认。")
    assert BudgetProject.objects.filter(pk__in=ids, stage="evaluated").count() == len(ids)


def sizes() -> dict[str, tuple[int, int]]:
    """Every table or index: (bytes on disk, bytes of row payload; 0 for an index)."""
    out: dict[str, tuple[int, int]] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, SUM(pgsize), SUM(payload) FROM dbstat GROUP BY name")
            tables = {
                r[0]
                for r in cursor.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            }
            for name, pages, payload in cursor.fetchall():
                out[name] = (int(pages), int(payload) if name in tables else 0)
            return out
        cursor.execute("VACUUM")
        cursor.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        for name, total in cursor.fetchall():
            cursor.execute(f'SELECT COALESCE(SUM(pg_column_size(t.*)), 0) FROM "{name}" t')
            out[name] = (int(total), int(cursor.fetchone()[0]))
    return out


def run(ctx: Context) -> None:
    small = ctx.size["storage_projects"]
    s = ctx.report.scenario(
        "storage", "Storage per project-year (whole lifecycle)", projects=f"{small} and {2 * small}", runs=1
    )
    with ctx.report.timing(s):
        ctx.state("storage", lambda: district.setup(0, 4))
        d = district.load()
        before = sizes()
        lifecycle(d, range(1, small + 1))
        middle = sizes()
        lifecycle(d, range(small + 1, 2 * small + 1))
        after = sizes()

        def delta(a: dict, b: dict, index: int) -> int:
            return sum(b.get(k, (0, 0))[index] for k in b) - sum(a.get(k, (0, 0))[index] for k in a)

        disk = delta(middle, after, 0) / small
        payload = delta(middle, after, 1) / small
        s.add("bytes on disk per project-year (marginal)", disk, "bytes", note=f"the second {small} projects")
        s.add("bytes on disk per project-year (first projects)", delta(before, middle, 0) / small, "bytes")
        s.add("limit: row payload per project-year (marginal)", payload, "bytes")
        s.ratio("disk ÷ payload", disk / payload if payload else float("nan"))
        grown = sorted(
            ((k, after.get(k, (0, 0))[0] - middle.get(k, (0, 0))[0]) for k in after),
            key=lambda kv: -kv[1],
        )
        s.note("largest per project: " + ", ".join(f"{k} {v / small / 1024:.1f} KB" for k, v in grown[:8] if v > 0))
        s.target("bytes per project-year", "≤ 24 KB", f"{disk / 1024:.1f} KB", (ctx.full or None) and disk <= 24 * 1024)
