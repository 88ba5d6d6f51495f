"""Imported years on the everyday pages: every page showing an imported row opens (no
score sheet, panel or report file behind it) and marks it as imported history."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.urls import reverse

from processes.models import CommissionedEvaluation, Recheck, SelfEvaluation
from processes.services.history import history_import
from processes.states import EvaluationKind

from .support import sheets, workbook

pytestmark = pytest.mark.django_db

MARK = "历史导入"


@pytest.fixture
def imported(district):
    return history_import(file=BytesIO(workbook(sheets())), file_name="2019.xlsx", actor=district.finance).history


def pages(history) -> dict[str, str]:
    self_evaluation = SelfEvaluation.objects.get(project__code="P1")
    return {
        "project list": reverse("workflows:project_list") + "?fiscal_year=2019",
        "project": reverse("workflows:project_detail", args=[self_evaluation.project_id]),
        "campaign": reverse("workflows:evaluation_campaign", args=[self_evaluation.campaign_id]),
        "self-evaluation": reverse("workflows:self_evaluation", args=[self_evaluation.pk]),
        "re-check": reverse("workflows:recheck", args=[Recheck.objects.get().pk]),
        "evaluations": reverse("workflows:commissioned_list"),
        "key evaluation": reverse(
            "workflows:commissioned_detail", args=[CommissionedEvaluation.objects.get(kind=EvaluationKind.KEY).pk]
        ),
        "department evaluation": reverse(
            "workflows:commissioned_detail",
            args=[CommissionedEvaluation.objects.get(kind=EvaluationKind.DEPARTMENT).pk],
        ),
    }


@pytest.mark.parametrize(
    "page",
    [
        "project list",
        "project",
        "campaign",
        "self-evaluation",
        "re-check",
        "evaluations",
        "key evaluation",
        "department evaluation",
    ],
)
def test_a_page_showing_imported_rows_opens_and_marks_them(client, district, imported, page):
    client.force_login(district.finance)

    response = client.get(pages(imported)[page])

    assert response.status_code == 200
    assert MARK in response.content.decode() and f'data-history="{imported.pk}"' in response.content.decode()


def test_imported_rows_stay_invisible_to_other_departments(client, district, imported):
    client.force_login(district.staff_a)

    for page in ("project", "self-evaluation", "re-check", "key evaluation", "department evaluation"):
        assert client.get(pages(imported)[page]).status_code == 404, page


def test_an_imported_year_is_read_only_for_re_check_sampling(district, imported):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Agency
    from processes.errors import ActionNotAllowed
    from processes.models import EvaluationCampaign
    from processes.services.evaluation import recheck_sample

    campaign = EvaluationCampaign.objects.get(history=imported)
    with pytest.raises(ActionNotAllowed, match="历史导入"):
        recheck_sample(
            actor=district.finance,
            campaign=campaign,
            agency=Agency.objects.first(),
            due_at=timezone.now() + timedelta(days=30),
            self_evaluation_ids=list(SelfEvaluation.objects.values_list("pk", flat=True)),
        )
    assert Recheck.objects.count() == 1
