"""A major policy taken through its pre-assessment by the services, as its role users."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from processes.models import PanelMember, Policy
from processes.services import policy as policy_services
from tests.processes.test_pre_assessment import FULL_SCORES
from workflows.services import (
    opinion_submit,
    pre_assessment_begin,
    pre_assessment_decide,
    pre_assessment_draw,
    pre_assessment_propose,
)


def registered(review, *, name="区农村供水保障政策", start_year=2026, funding="50000000.00") -> Policy:
    return policy_services.policy_register(
        actor=review.d.finance,
        name=name,
        department=review.d.dept_a,
        co_departments=[review.d.dept_b],
        start_year=start_year,
        end_year=start_year + 2,
        funding=Decimal(funding),
        goals="三年内农村集中供水覆盖率达到 98%。",
        category="infrastructure",
    )


def confirmed(review, policy: Policy, *, conclusion="partial", approved="42000000.00") -> Policy:
    pa = pre_assessment_begin(
        project=policy.project, actor=review.d.finance, agency=review.agency, due_at=timezone.now() + timedelta(days=7)
    )
    pa = pre_assessment_draw(pre_assessment=pa, actor=review.staff)
    for member in PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("user", "opinion"):
        opinion_submit(
            opinion=member.opinion,
            actor=member.user,
            scores=FULL_SCORES,
            recommendation=conclusion,
            recommended_amount=approved,
            text="意见",
        )
    pa = pre_assessment_propose(
        pre_assessment=pa, actor=review.staff, conclusion=conclusion, approved_amount=Decimal(approved), reasons="理由"
    )
    pre_assessment_decide(pre_assessment=pa, actor=review.d.finance, confirm=True)
    policy.refresh_from_db()
    return policy
