"""The district every benchmark builds — by default the reference year's scale, 77
departments and 3,755 executing projects with approved targets — and the people who work
in it. Import after ``django.setup()``.

The district itself is written the fast way (``bulk_create`` of the project's own
models, in the states its services would leave them), since only what comes after is
measured; everything measured then goes through the project's services and its bulk
recipe (workflows.bulk).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import Department, User
from accounts.roles import Role, sync_role_groups
from processes.models import (
    AuditChainHead,
    BudgetProject,
    ProjectCategory,
    Recurrence,
    SelfEvaluation,
    TargetRow,
    TargetSet,
)
from processes.states import ProjectStage, TargetSetStatus

YEAR = 2021
#: Every bench user's password (the bench settings hash it fast; logins are not measured).
PASSWORD = "Bench-pass-2026!"
#: level1, level2, name, direction, target, unit, weight — a typical approved version
ROWS = [
    ("output", "quantity", "完成数量", "gte", Decimal("120"), "个", Decimal("30")),
    ("output", "quality", "验收合格率", "gte", Decimal("95"), "%", Decimal("20")),
    ("output", "cost", "单位成本", "lte", Decimal("35"), "万元", Decimal("10")),
    ("effect", "social", "覆盖人数", "gte", Decimal("8000"), "人", Decimal("15")),
    ("effect", "sustainable", "长效管护机制建立情况", "qualitative", None, "", Decimal("15")),
    ("satisfaction", "satisfaction", "服务对象满意度", "gte", Decimal("90"), "%", Decimal("10")),
]
#: The actual values entered for ROWS by name when a sheet is filled (some short of target,
#: so the deviation reason and measure count)
ACTUALS = {
    "完成数量": Decimal("112"),
    "验收合格率": Decimal("96.5"),
    "单位成本": Decimal("36.2"),
    "覆盖人数": Decimal("8350"),
    "服务对象满意度": Decimal("88"),
}


@dataclass
class District:
    finance: User
    supervisor: User
    departments: list[Department]
    staff: dict[int, User]  # by department id
    leaders: dict[int, User]  # by department id


def setup(n_projects: int, n_departments: int) -> District:
    """A fresh district on a migrated, empty database: ``n_departments`` departments with a
    staff member and a leader each, a finance officer and a supervisor, and ``n_projects``
    executing projects of YEAR spread over the departments, each with an approved target
    version of ROWS. Every user logs in with PASSWORD."""
    if BudgetProject.objects.exists():
        raise SystemExit("the database is not empty: the bench builds its own state on a fresh one")
    sync_role_groups()
    AuditChainHead.objects.get_or_create(pk=1)  # as the migrations leave it
    password = make_password(PASSWORD)
    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
    departments = Department.objects.bulk_create(
        [Department(code=f"D{n:03d}", name=f"部门{n:03d}") for n in range(1, n_departments + 1)]
    )
    finance = User.objects.create(
        username="finance-bench", full_name="财政绩效科", email="finance@bench.invalid", password=password
    )
    finance.groups.add(groups[Role.FINANCE_OFFICER])
    supervisor = User.objects.create(
        username="supervisor-bench", full_name="分管领导", email="supervisor@bench.invalid", password=password
    )
    supervisor.groups.add(groups[Role.SUPERVISOR])
    people = User.objects.bulk_create(
        [
            User(
                username=f"{d.code}-{role}",
                full_name=f"{d.name}{role}",
                department=d,
                email=f"{d.code}-{role}@bench.invalid",
                password=password,
            )
            for d in departments
            for role in ("staff", "leader")
        ]
    )
    User.groups.through.objects.bulk_create(
        [
            User.groups.through(
                user_id=u.pk, group_id=groups[Role.DEPT_STAFF if u.username.endswith("staff") else Role.DEPT_LEADER].pk
            )
            for u in people
        ]
    )
    staff = {u.department_id: u for u in people if u.username.endswith("staff")}
    rng = random.Random(2021)
    categories, recurrences = ProjectCategory.values, Recurrence.values
    projects = []
    for i in range(n_projects):
        dept = departments[i % len(departments)]
        amount = Decimal(rng.randrange(20, 3000)) * Decimal("10000.00")
        projects.append(
            BudgetProject(
                department=dept,
                fiscal_year=YEAR,
                code=f"{YEAR}-{dept.code}-{i + 1:05d}",
                name=f"{dept.name}项目{i + 1:05d}",
                category=rng.choice(categories),
                recurrence=rng.choice(recurrences),
                requested_amount=amount,
                approved_amount=amount,
                overall_goal="年度总体目标。",
                stage=ProjectStage.EXECUTING,
                created_by=staff[dept.pk],
            )
        )
    projects = BudgetProject.objects.bulk_create(projects, batch_size=500)
    sets = TargetSet.objects.bulk_create(
        [
            TargetSet(
                project=p,
                number=1,
                status=TargetSetStatus.APPROVED,
                overall_goal=p.overall_goal,
                rating="excellent",
                created_by=staff[p.department_id],
            )
            for p in projects
        ],
        batch_size=500,
    )
    TargetRow.objects.bulk_create(
        [
            TargetRow(
                target_set=s,
                position=pos,
                level1=l1,
                level2=l2,
                name=name,
                direction=direction,
                target_value=value,
                target_text="" if value is not None else "机制健全并有效运行",
                unit=unit,
                weight=weight,
            )
            for s in sets
            for pos, (l1, l2, name, direction, value, unit, weight) in enumerate(ROWS, start=1)
        ],
        batch_size=500,
    )
    return load()


def load() -> District:
    """The district's people, from a database ``setup`` built (e.g. after a restore)."""
    people = list(User.objects.filter(department__isnull=False).order_by("username"))
    return District(
        finance=User.objects.get(username="finance-bench"),
        supervisor=User.objects.get(username="supervisor-bench"),
        departments=list(Department.objects.order_by("code")),
        staff={u.department_id: u for u in people if u.username.endswith("-staff") and u.department_id},
        leaders={u.department_id: u for u in people if u.username.endswith("-leader") and u.department_id},
    )


def launch(district: District):
    """The year's self-evaluation campaign through the service (workflows.services)."""
    from workflows.services import campaign_launch

    return campaign_launch(actor=district.finance, fiscal_year=YEAR, due_at=timezone.now() + timedelta(days=30))


def sheet_lines(project: BudgetProject) -> list[dict]:
    """A complete sheet for ``project``'s approved ROWS, with ACTUALS and every reason given."""
    from processes.services.evaluation import approved_rows

    lines = []
    for row in approved_rows(project):
        item = {
            "target_row": row.pk,
            "deviation_reason": "受施工季节影响，进度略有滞后",
            "measure": "优化进度安排，加强过程监控",
        }
        if row.direction == "qualitative":
            item.update(band="achieved", band_pct="90")
        else:
            item["actual"] = str(ACTUALS[row.name])
        lines.append(item)
    return lines


def fill_sheets(district: District, per_department: int) -> dict[int, list[int]]:
    """Save a complete sheet (self_evaluation_save, the service) on the first
    ``per_department`` self-evaluations of every department, ready to submit. Returns the
    saved evaluations' ids by department id."""
    from django.db import transaction

    saved: dict[int, list[int]] = {}
    evaluations = SelfEvaluation.objects.select_related("project").order_by("project__department_id", "project__code")
    with transaction.atomic():  # setup: one commit, not one per sheet
        _fill(district, evaluations, per_department, saved)
    return saved


def _fill(district: District, evaluations, per_department: int, saved: dict[int, list[int]]) -> None:
    from processes.services.evaluation import self_evaluation_save

    for evaluation in evaluations:
        department = evaluation.project.department_id
        ids = saved.setdefault(department, [])
        if len(ids) >= per_department:
            continue
        budget = evaluation.project.approved_amount or Decimal(0)
        self_evaluation_save(
            evaluation=evaluation,
            actor=district.staff[department],
            lines=sheet_lines(evaluation.project),
            executed=str((budget * Decimal("0.92")).quantize(Decimal("0.01"))),
            summary="项目总体按计划实施，主要产出基本完成。",
        )
        ids.append(evaluation.pk)


def statements(queries: list[dict]) -> str:
    """Statement counts by kind and table, e.g. 'INSERT viewflow_task ×8'."""
    kinds: Counter[str] = Counter()
    for q in queries:
        sql = q["sql"].lstrip()
        verb = sql.split(None, 1)[0].upper() if sql else "?"
        table_ = re.search(r'(?:INTO|FROM|UPDATE)\s+"?([A-Za-z0-9_]+)"?', sql, re.IGNORECASE)
        kinds[f"{verb} {table_.group(1)}" if table_ and verb in ("INSERT", "UPDATE", "DELETE", "SELECT") else verb] += 1
    return ", ".join(f"{k} ×{n}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
