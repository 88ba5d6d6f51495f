"""The demo's major policy (重大政策事前评估, decision 0027) for `manage.py load_demo`: the
finance section registers it, commissions the agency, the agency draws the panel (a fixed
seed, so every load draws alike), every member scores, the agency concludes with a cut, the
finance section confirms — the one pre-assessment flow, through the real services.
Loaded once: a policy of that name already there is left as it is."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Agency, Department, User
from processes.models import PanelMember, Policy, ProjectCategory
from processes.services.policy import policy_register

from . import demo
from .services import (
    opinion_submit,
    pre_assessment_begin,
    pre_assessment_decide,
    pre_assessment_draw,
    pre_assessment_propose,
)

YEAR = demo.FISCAL_YEAR
NAME = "荔湾区城乡供水一体化提升政策（2021—2023 年）"
LEAD, CO = "LW101", ("LW108",)  # 区农水局, with 区城市管理和综合执法局
FUNDING = Decimal("60000000.00")
APPROVED = Decimal("51000000.00")
GOALS = "到 2023 年，全区城乡供水管网漏损率降至 10% 以下，二次供水设施改造完成率达到 100%。"
REASONS = "二次供水设施改造单价偏高，第三年管网更新规模与已建项目部分重复，核减 900 万元后部分予以支持。"
SEED = YEAR * 10 + 9


def load(users: dict[str, User], agency: Agency) -> dict[str, int]:
    if Policy.objects.filter(name=NAME).exists():
        return {"policies_pre_assessed": 0}
    finance = users["finance1"]
    policy = policy_register(
        actor=finance,
        name=NAME,
        department=Department.objects.get(code=LEAD),
        co_departments=list(Department.objects.filter(code__in=CO)),
        start_year=YEAR,
        end_year=YEAR + 2,
        funding=FUNDING,
        goals=GOALS,
        category=ProjectCategory.INFRASTRUCTURE,
    )
    pa = pre_assessment_begin(
        project=policy.project, actor=finance, agency=agency, due_at=timezone.now() + timedelta(days=14)
    )
    pa = pre_assessment_draw(pre_assessment=pa, actor=users["agency1"], seed=SEED)
    for member in PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("user", "opinion"):
        opinion_submit(
            opinion=member.opinion,
            actor=member.user,
            scores=demo.DEMO_SCORES,
            recommendation="partial",
            recommended_amount=APPROVED,
            text=REASONS,
        )
    pa = pre_assessment_propose(
        pre_assessment=pa, actor=users["agency1"], conclusion="partial", approved_amount=APPROVED, reasons=REASONS
    )
    pre_assessment_decide(pre_assessment=pa, actor=finance, confirm=True)
    return {"policies_pre_assessed": 1}
