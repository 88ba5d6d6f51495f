"""The district every benchmark builds (77 departments, 3,755 executing projects with
approved targets by default) and the measuring helpers they share. Import it after
``django.setup()``."""

from __future__ import annotations

import os
import random
import re
import statistics
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import Department, User
from accounts.roles import Role, sync_role_groups
from processes.models import BudgetProject, ProjectCategory, Recurrence, TargetRow, TargetSet
from processes.states import ProjectStage, TargetSetStatus

YEAR = 2021
#: level1, level2, name, direction, target, unit, weight — a typical approved version
ROWS = [
    ("output", "quantity", "完成数量", "gte", Decimal("120"), "个", Decimal("30")),
    ("output", "quality", "验收合格率", "gte", Decimal("95"), "%", Decimal("20")),
    ("output", "cost", "单位成本", "lte", Decimal("35"), "万元", Decimal("10")),
    ("effect", "social", "覆盖人数", "gte", Decimal("8000"), "人", Decimal("15")),
    ("effect", "sustainable", "长效管护机制建立情况", "qualitative", None, "", Decimal("15")),
    ("satisfaction", "satisfaction", "服务对象满意度", "gte", Decimal("90"), "%", Decimal("10")),
]


def setup(n_projects: int, n_departments: int) -> tuple[User, dict[int, User]]:
    """A fresh district: ``n_departments`` departments with a staff member and a leader each,
    a finance officer, and ``n_projects`` executing projects of YEAR spread over them, each
    with an approved target version of ROWS — the fast way (bulk_create), since only what
    comes after is measured. Returns the finance officer and each department's staff."""
    call_command("migrate", verbosity=0)
    if BudgetProject.objects.exists():
        raise SystemExit("the database is not empty: give a fresh one (the bench builds its own state)")
    sync_role_groups()
    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
    departments = Department.objects.bulk_create(
        [Department(code=f"D{n:03d}", name=f"部门{n:03d}") for n in range(1, n_departments + 1)]
    )
    finance = User.objects.create(username="finance-bench", full_name="财政绩效科", email="finance@bench.invalid")
    finance.groups.add(groups[Role.FINANCE_OFFICER])
    people = User.objects.bulk_create(
        [
            User(
                username=f"{d.code}-{role}", full_name=f"{d.name}{role}", department=d, email=f"{d.code}@bench.invalid"
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
    return User.objects.get(pk=finance.pk), staff


def busy_seconds() -> float | None:
    """CPU time all processes spent busy (Linux /proc/stat), to tell the other load apart."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def statements(queries: list[dict]) -> str:
    """Statement counts by kind and table, e.g. 'INSERT viewflow_task ×8'."""
    kinds: Counter[str] = Counter()
    for q in queries:
        sql = q["sql"].lstrip()
        verb = sql.split(None, 1)[0].upper() if sql else "?"
        table_ = re.search(r'(?:INTO|FROM|UPDATE)\s+"?([A-Za-z0-9_]+)"?', sql, re.IGNORECASE)
        kinds[f"{verb} {table_.group(1)}" if table_ and verb in ("INSERT", "UPDATE", "DELETE", "SELECT") else verb] += 1
    return ", ".join(f"{k} ×{n}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))


def summary(label: str, seconds: list[float], rows: int | None = None, unit: str = "projects") -> None:
    median = statistics.median(seconds)
    rate = f"  ({rows / median:,.0f} {unit}/s)" if rows else ""
    print(
        f"{label:<48} median {median:6.3f} s  [{min(seconds):.3f}–{max(seconds):.3f}]  "
        f"runs {', '.join(f'{s:.3f}' for s in seconds)}{rate}"
    )
