"""Demo 结果应用台账 (decision 0025) for `manage.py load_demo`: the 2021 requests of six
projects graded in the 2020 evaluation year (workflows/demo_evaluation.py), continuing them
under the same codes, submitted and approved by their departments, and the finance
section's decisions: four proposals accepted (优 with 优先保障, two 良, 中 cut by 10 %), the
差 one overridden with a reason (funds put to another use), and the key-evaluated one left
undecided (待决定), waiting in the finance section's intake.

Everything goes through the real services; a second load changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from accounts.models import User
from processes.models import BudgetProject, Recurrence, ResultsDecision
from processes.results_ledger import ledger, proposal_for
from processes.services.projects import project_create
from processes.services.results import results_decide
from processes.states import ProjectStage

from . import demo_evaluation
from .services import project_act

YEAR = demo_evaluation.YEAR + 1


@dataclass(frozen=True)
class DemoRequest:
    code: str  # the 2020 project's code, continued
    amount: Decimal
    decision: str  # "accept" | "override" | "" (left undecided)
    amount_decided: Decimal | None = None
    reason: str = ""


REQUESTS = [
    DemoRequest("2020-LW105-001", Decimal("1850000.00"), "accept"),
    DemoRequest("2020-LW101-001", Decimal("4000000.00"), "accept"),
    DemoRequest("2020-LW101-002", Decimal("1000000.00"), "accept"),
    DemoRequest("2020-LW103-001", Decimal("2456789.00"), "accept"),
    DemoRequest(
        "2020-LW107-001",
        Decimal("900000.00"),
        "override",
        Decimal("360000.00"),
        "项目自评为差，压减60%；保留资金调整用于社区长者饭堂运营，另行制定绩效目标。",
    ),
    DemoRequest("2020-LW102-001", Decimal("3300000.00"), ""),
]
CODES = {r.code for r in REQUESTS}


def _requested(plan: DemoRequest, users: dict[str, User]) -> BudgetProject:
    existing = BudgetProject.objects.filter(fiscal_year=YEAR, code=plan.code).first()
    if existing is not None:
        return existing
    past = BudgetProject.objects.get(fiscal_year=demo_evaluation.YEAR, code=plan.code)
    key = next(p.department for p in demo_evaluation.PROJECTS if p.code == plan.code)
    staff, leader = users[f"{key}_staff"], users[f"{key}_leader"]
    project = project_create(
        actor=staff,
        fiscal_year=YEAR,
        code=plan.code,
        name=past.name,
        category=past.category,
        recurrence=Recurrence.RECURRING,
        requested_amount=plan.amount,
        overall_goal=past.overall_goal,
    )
    project = project_act(project=project, actor=staff, action="submit")
    return project_act(project=project, actor=leader, action="approve", comment="同意报送。")


def load(users: dict[str, User]) -> dict[str, object]:
    """Load (or complete) the 2021 ledger; returns its figures."""
    for plan in REQUESTS:
        project = _requested(plan, users)
        if not plan.decision or ResultsDecision.objects.filter(project=project).exists():
            continue
        if project.stage != ProjectStage.DEPT_APPROVED or proposal_for(project) is None:
            continue
        results_decide(
            project=project,
            actor=users["finance1"],
            accept=plan.decision == "accept",
            amount=plan.amount_decided,
            reason=plan.reason,
        )
    book = ledger(YEAR)
    return {"rows": book.projects, "decided": book.decided_count, "overridden": book.overridden_count, "cut": book.cut}
