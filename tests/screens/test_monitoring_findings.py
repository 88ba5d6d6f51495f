"""Findings of a monitoring report (DESIGN §3.6: rectification comes from evaluation or
monitoring): the finance section records them on the report page and issues them."""

from datetime import timedelta

from django.utils import timezone

from processes.models import Finding
from processes.states import ProjectStage
from workflows.services import monitoring_round_open


def test_finance_records_a_monitoring_finding_and_is_offered_to_issue_it(district, client):
    district.project(ProjectStage.EXECUTING)
    opened = monitoring_round_open(
        actor=district.finance, fiscal_year=2021, end_month=7, due_at=timezone.now() + timedelta(days=10)
    )
    report = opened.created[0]
    url = f"/monitoring/reports/{report.pk}/"
    client.force_login(district.staff_a)
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="finding-add"' not in page.content.decode()
    assert client.post(f"{url}act/finding-add/", {"problem": "p", "requirement": "r"}).status_code == 403

    client.force_login(district.finance)
    assert client.post(f"{url}act/finding-add/", {"problem": "", "requirement": ""}).status_code == 400
    response = client.post(
        f"{url}act/finding-add/", {"category": "funds", "problem": "支出进度严重滞后", "requirement": "加快支出进度"}
    )
    assert response.status_code == 302
    assert Finding.objects.get(monitoring_report=report).department_id == district.dept_a.pk
    page = client.get(url).content.decode()
    assert "支出进度严重滞后" in page and f"?source=monitoring_report:{report.pk}" in page
    form = client.get(f"/rectifications/new/?source=monitoring_report:{report.pk}")
    assert form.status_code == 200 and "支出进度严重滞后" in form.content.decode()
