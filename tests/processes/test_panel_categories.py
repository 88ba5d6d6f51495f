"""Issue 18 item 4, first defect: a panel can be drawn for a project of EVERY category.

``ExpertProfile.Specialty`` is derived from ``ProjectCategory`` (plus the general 财务), and
the demo district's expert library has at least three sector experts for every category, so
the "sector experts at least half" rule can be met for a pre-assessment, a key evaluation and
a department evaluation (the report's 区人力和社会保障局 among them: 人力社保)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import DeputyProfile, ExpertProfile
from processes.models import EvaluationPanelMember, PanelMember, ProjectCategory
from processes.services import pre_assessment as pa_svc
from processes.states import EvaluationStatus, ProjectStage
from tests.factories import make_user
from tests.processes.test_commissioned import Chain, executing
from workflows import demo

pytestmark = pytest.mark.django_db


def demo_library(district) -> None:
    """The demo district's expert library and deputies, as ``load_demo`` makes them
    (conflicts with the demo departments do not concern the test's departments)."""
    for u in demo.USERS:
        if u.role == "expert":
            ExpertProfile.objects.create(
                user=make_user("expert", username=f"demo_{u.username}"),
                specialties=list(u.specialties),
                employer=u.employer,
            )


def test_every_project_category_is_an_expert_specialty_when_the_libraries_are_read():
    specialties = dict(ExpertProfile.Specialty.choices)
    for value, label in ProjectCategory.choices:
        assert specialties.get(value) == label
    assert "finance" in specialties  # the general specialty stays


@pytest.mark.parametrize("category", ProjectCategory.values)
def test_demo_library_has_three_sector_experts_when_the_category_is_any(category):
    experts = [u for u in demo.USERS if u.role == "expert" and category in u.specialties]
    assert len(experts) >= 3, category


@pytest.mark.parametrize("category", ProjectCategory.values)
def test_panel_is_drawn_for_pre_assessment_key_and_department_evaluation_when_the_category_is_any(district, category):
    chain = Chain(district)  # 6 基建工程 experts, a 财务 one, two deputies
    ExpertProfile.objects.filter(specialties=["infrastructure"]).delete()  # only the demo library's sectors
    demo_library(district)
    assert DeputyProfile.objects.count() == 2

    # pre-assessment
    project = district.project(ProjectStage.PRE_ASSESSMENT, category=category)
    pa = pa_svc.pre_assessment_start(
        project=project, actor=district.finance, agency=chain.agency, due_at=timezone.now() + timedelta(days=7)
    )
    pa = pa_svc.pre_assessment_form_panel(pre_assessment=pa, actor=chain.staff, seed=11)
    seated = PanelMember.objects.filter(pre_assessment=pa)
    assert seated.count() == 5 and seated.filter(sector_expert=True).count() >= 3

    # key evaluation of an executing project of the category
    ev = chain.commission_key(project=executing(district, category=category, fiscal_year=2021))
    ev = chain.step(ev, EvaluationStatus.EXPERT_REVIEW)
    members = EvaluationPanelMember.objects.filter(evaluation=ev)
    assert members.count() == 5 and members.filter(sector_expert=True).count() >= 3

    # department evaluation of a year whose largest project is of the category
    executing(district, category=category, fiscal_year=2022)
    ev = chain.commission_department(year=2022)
    ev = chain.step(ev, EvaluationStatus.EXPERT_REVIEW)
    members = EvaluationPanelMember.objects.filter(evaluation=ev)
    assert members.count() == 5 and members.filter(sector_expert=True).count() >= 3
