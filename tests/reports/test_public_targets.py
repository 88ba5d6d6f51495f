"""信息公开 of targets and self-evaluation results (issue 19, item 5): without a login, the
public page lists the years with approved targets (of budgeted projects) and with accepted
self-evaluations; each year's page shows the projects, budgets, indicators, scores and
grades, and nothing else: no internal comments, no unapproved or superseded targets, no
unaccepted results, no person's name, no other department's data leaking by id."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import URLPattern, reverse
from django.utils import translation

from processes.models import SelfEvaluation, TargetRow, TargetSet
from processes.states import ProjectStage, SelfEvaluationStatus, TargetSetStatus
from reports import urls as report_urls

from .builders import small_year

pytestmark = pytest.mark.django_db

PUBLIC = reverse("reports:public")


def targets_url(year: int) -> str:
    return reverse("reports:public_targets", args=[year])


def results_url(year: int) -> str:
    return reverse("reports:public_self_evaluations", args=[year])


@pytest.fixture
def targets(district):
    """Department A's budgeted project with approved targets (rated 良, with the finance
    section's comment), department B's with targets still under review, a rejected one."""
    approved = district.project(ProjectStage.TARGET_REVIEW, dept="a", name="灌溉渠道改造")
    version = district.approve_targets(approved, rating="good")
    TargetSet.objects.filter(pk=version.pk).update(
        review_comment="内部审核意见：指标偏低", leader_comment="部门内部意见"
    )
    TargetRow.objects.filter(target_set=version).update(review_comment="行审核意见：需细化")
    approved.refresh_from_db()

    pending = district.project(ProjectStage.TARGET_REVIEW, dept="b", name="待审项目")
    from processes.services.targets import target_draft_open, target_set_save
    from tests.conftest import TARGET_ROWS

    draft = target_draft_open(project=pending, actor=district.staff_b)
    target_set_save(target_set=draft, actor=district.staff_b, overall_goal="未审核的目标", rows=TARGET_ROWS)
    return {"approved": approved, "version": version, "pending": pending}


# -- targets ------------------------------------------------------------------------------------


def test_public_page_lists_the_years_of_approved_targets_without_login(client, district, targets):
    body = client.get(PUBLIC).content.decode()
    assert targets_url(2021) in body
    page = client.get(targets_url(2021))
    assert page.status_code == 200
    html = page.content.decode()
    project = targets["approved"]
    assert project.name in html and project.code in html and district.dept_a.name in html
    assert f'data-testid="budget">{project.approved_amount / 10000:,.2f}' in html
    assert "按期完成项目建设任务" in html and "新建灌溉渠道长度" in html and "12.5" in html and "公里" in html


def test_public_targets_show_no_comments_names_nor_unapproved_versions_when_read(client, district, targets):
    html = client.get(targets_url(2021)).content.decode()
    for secret in ("内部审核意见", "部门内部意见", "行审核意见", "待审项目", "未审核的目标", "审核意见"):
        assert secret not in html, secret
    for person in (district.finance, district.staff_a, district.leader_a, district.staff_b):
        assert person.full_name not in html and person.username not in html
    assert district.dept_b.name not in html  # B's targets are not approved


def test_superseded_and_unbudgeted_targets_are_not_disclosed_when_public_reads(client, district, targets):
    TargetSet.objects.filter(pk=targets["version"].pk).update(status=TargetSetStatus.SUPERSEDED)
    assert client.get(targets_url(2021)).status_code == 404
    TargetSet.objects.filter(pk=targets["version"].pk).update(status=TargetSetStatus.APPROVED)
    type(targets["approved"]).objects.filter(pk=targets["approved"].pk).update(stage=ProjectStage.CANCELLED)
    assert client.get(targets_url(2021)).status_code == 404
    assert targets_url(2021) not in client.get(PUBLIC).content.decode()


def test_public_targets_page_takes_fixed_queries_when_many_projects_are_disclosed(
    client, district, targets, django_assert_num_queries
):
    for i in range(3):
        district.approve_targets(district.project(ProjectStage.TARGET_REVIEW, dept="b", name=f"批量项目{i}"))
    with django_assert_num_queries(3):  # count, the page, the indicators
        html = client.get(targets_url(2021)).content.decode()
    assert html.count('data-testid="public-target-set"') == 4


def test_year_without_approved_targets_is_404_for_a_visitor(client, targets):
    assert client.get(targets_url(2020)).status_code == 404
    assert client.get(targets_url(2021) + "?page=9").status_code == 200  # the last page


# -- self-evaluation results ------------------------------------------------------------------


def test_accepted_self_evaluations_are_listed_by_department_with_budget_and_final_accounts(client, district):
    small_year(district)
    assert results_url(2022) in client.get(PUBLIC).content.decode()
    page = client.get(results_url(2022))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(district.dept_a.name) < html.index(district.dept_b.name)
    assert "东沙涌综合整治" in html and "城市更新改造工程" in html
    assert "50.00" in html and "差" in html  # K2's score and grade
    assert "190.00" in html  # K1's executed amount (决算), 万元


def test_unaccepted_self_evaluations_and_comments_are_not_disclosed_when_public_reads(client, district):
    small_year(district)
    SelfEvaluation.objects.filter(project__code="2022-K1").update(
        review_comment="财政内部意见", leader_comment="部门领导意见"
    )
    html = client.get(results_url(2022)).content.decode()
    assert "2022-S1" not in html  # submitted, not accepted
    assert "财政内部意见" not in html and "部门领导意见" not in html
    for person in (district.finance, district.staff_a, district.leader_a, district.staff_b):
        assert person.full_name not in html and person.username not in html
    SelfEvaluation.objects.filter(project__fiscal_year=2022).update(status=SelfEvaluationStatus.SUBMITTED)
    assert client.get(results_url(2022)).status_code == 404


def test_public_results_page_takes_one_query_whatever_the_rows(client, district, django_assert_num_queries):
    small_year(district)
    with django_assert_num_queries(1):
        assert client.get(results_url(2022)).status_code == 200


def test_new_public_pages_need_no_login_and_everything_else_still_does(client, district, targets):
    names = {p.name for p in report_urls.urlpatterns if isinstance(p, URLPattern)}
    assert {"public_targets", "public_self_evaluations"} <= names
    assert client.get(targets_url(2021)).status_code == 200
    response = client.get(reverse("reports:year", args=[2021]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_public_pages_are_in_english_when_asked(client, district, targets):
    try:
        html = client.get(targets_url(2021), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    finally:
        translation.activate(settings.LANGUAGE_CODE)  # the middleware leaves English active
    assert "Performance targets of departments' budget projects" in html.replace("&#x27;", "'")
    assert "新建灌溉渠道长度" in html  # data stays as filed
