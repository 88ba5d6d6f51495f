"""绩效评价 screens (DESIGN §3.5, §3.7): the campaign launched through the form and its
background job, the score sheet filled, previewed live and submitted through the pages, the
leader's and the finance section's decisions, re-check sampling (random with a seed, by
hand), the agency's sheet, the department's feedback and the final score; bad input kept
and named on its field; visibility (another department never sees a self-evaluation or a
re-check of another; experts see nothing); the project page's panel; the XLSX; flat query
counts on the lists."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from processes.models import BudgetProject, Finding, Job, Recheck, RecheckSample, SelfEvaluation
from processes.services import evaluation
from processes.states import Grade, ProjectStage, RecheckStatus, SampleMethod, SelfEvaluationStatus
from tests.factories import AgencyFactory, make_user
from workflows.flows import SelfEvaluationFlow
from workflows.selectors import task_inbox_for
from workflows.services import (
    campaign_launch,
    self_evaluation_dept_review,
    self_evaluation_review,
    self_evaluation_submit,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
HUB = reverse("workflows:evaluations")


def text(response) -> str:
    return response.content.decode()


def login(client, user):
    client.force_login(user)
    return client


def page(se) -> str:
    return reverse("workflows:self_evaluation", args=[se.pk])


def act(se, action) -> str:
    return reverse("workflows:self_evaluation_act", args=[se.pk, action])


def recheck_page(recheck) -> str:
    return reverse("workflows:recheck", args=[recheck.pk])


def recheck_act(recheck, action) -> str:
    return reverse("workflows:recheck_act", args=[recheck.pk, action])


def cell(response, name) -> str:
    """The markup of the form cell holding field ``name`` (its input and its errors)."""
    found = re.search(rf'<(td|div|span)[^>]*data-cell="{re.escape(name)}"[^>]*>(.*?)</\1>', text(response), re.S)
    assert found, f"no cell {name}"
    return html.unescape(found.group(2))


def due_text(days=20) -> str:
    return (timezone.now() + timedelta(days=days)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def agency(district):
    agency = AgencyFactory(name="广州某会计师事务所")
    district.agency_staff.agency = agency
    district.agency_staff.save(update_fields=["agency"])
    return agency


@pytest.fixture
def campaign_ses(district):
    """Two executing projects of department A and one of B, launched in the 2021 campaign."""
    for dept in ("a", "a", "b"):
        district.project(ProjectStage.EXECUTING, dept=dept)
    launched = campaign_launch(actor=district.finance, fiscal_year=2021, due_at=timezone.now() + timedelta(days=20))
    return sorted(launched.created, key=lambda se: se.project.code)


def sheet_data(se, *, executed="1200000", gte="12.5", lte="280", band="achieved", band_pct="100", **extra) -> dict:
    """The sheet form as a browser posts it (TARGET_ROWS: ≥12.5 km, ≤300 天, qualitative)."""
    data: dict = {"revision": se.revision, "executed": executed, "summary": "总体完成"}
    for row in evaluation.approved_rows(se.project):
        key = f"lines.{row.pk}"
        if row.direction == "qualitative":
            data[f"{key}.band"], data[f"{key}.band_pct"] = band, band_pct
        else:
            data[f"{key}.actual"] = gte if row.direction == "gte" else lte
        data[f"{key}.deviation_reason"] = ""
        data[f"{key}.measure"] = ""
    data.update(extra)
    return data


def rows(se):
    return {row.direction: row for row in evaluation.approved_rows(se.project)}


def accept_through_services(district, se, *, staff=None, leader=None, gte="12.5"):
    staff = staff or district.staff_a
    leader = leader or district.leader_a
    lines = []
    for row in evaluation.approved_rows(se.project):
        item = {"target_row": row.pk, "deviation_reason": "原因", "measure": "措施"}
        if row.direction == "qualitative":
            item.update(band="achieved", band_pct="100")
        else:
            item["actual"] = gte if row.direction == "gte" else "280"
        lines.append(item)
    se = evaluation.self_evaluation_save(evaluation=se, actor=staff, executed="1200000", lines=lines)
    se = self_evaluation_submit(evaluation=se, actor=staff)
    se = self_evaluation_dept_review(evaluation=se, actor=leader, approve=True)
    return self_evaluation_review(evaluation=se, actor=district.finance, accept=True)


# -- the hub and the launch form ----------------------------------------------------------------


def test_launch_form_queues_a_job_whose_campaign_gives_each_department_its_tasks(
    client, district, django_capture_on_commit_callbacks
):
    a = district.project(ProjectStage.EXECUTING)
    b = district.project(ProjectStage.EXECUTING, dept="b")
    finance = login(client, district.finance)
    assert 'data-testid="campaign-launch"' in text(finance.get(HUB))

    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(HUB, {"fiscal_year": 2021, "due_at": due_text(), "title": "2021年度项目绩效自评"})

    assert response.status_code == 302, text(response)
    job = Job.objects.get(kind="evaluation_campaign_launch")
    assert response["Location"] == reverse("processes:job_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "succeeded", job.errors
    assert job.result["created"] == 2
    assert {se.project_id for se in SelfEvaluation.objects.all()} == {a.pk, b.pk}
    assert [t.flow_task for t in task_inbox_for(district.staff_b)] == [SelfEvaluationFlow.fill]
    hub = text(finance.get(HUB))
    assert "2021年度项目绩效自评" in hub
    assert reverse("workflows:evaluation_campaign", args=[job.result["campaign"]]) in hub


def test_launch_form_shows_errors_at_once_and_queues_nothing(client, district):
    district.project(ProjectStage.EXECUTING)
    response = login(client, district.finance).post(HUB, {"fiscal_year": 2030, "due_at": due_text(-1)})

    body = html.unescape(text(response))
    assert response.status_code == 400
    assert "自评截止时间必须晚于现在。" in body
    assert "2030 年度没有待评价的执行中项目。" in body
    assert 'value="2030"' in body
    assert not Job.objects.exists()


def test_launch_is_refused_for_everyone_but_the_finance_section(client, district):
    district.project(ProjectStage.EXECUTING)
    for user in (district.staff_a, district.leader_a, district.supervisor, district.auditor):
        response = login(client, user).post(HUB, {"fiscal_year": 2021, "due_at": due_text()})
        assert response.status_code == 403
        assert 'data-testid="campaign-launch"' not in text(client.get(HUB))
    for user in (district.expert, district.deputy, district.sysadmin):
        assert login(client, user).get(HUB).status_code == 403
    assert not Job.objects.exists()


def test_hub_counts_grades_and_rate_of_the_accepted_self_evaluations(client, district, campaign_ses):
    se_a1, se_a2, se_b = campaign_ses
    accept_through_services(district, se_a1)  # 100: 优
    accept_through_services(district, se_a2, gte="6")  # ≈ 83: 良
    accept_through_services(district, se_b, staff=district.staff_b, leader=district.leader_b, gte="0")  # 中
    body = text(login(client, district.finance).get(HUB))
    row = re.search(r'<tr data-campaign="\d+">(.*?)</tr>', body, re.S).group(1)
    assert 'data-col="total">3<' in row
    assert 'data-grade="excellent">1<' in row and 'data-grade="good">1<' in row and 'data-grade="fair">1<' in row
    assert 'data-col="rate">66.67%<' in row
    # a department's people see their own department's figures
    row_b = re.search(r'<tr data-campaign="\d+">(.*?)</tr>', text(login(client, district.staff_b).get(HUB)), re.S)
    assert 'data-col="total">1<' in row_b.group(1) and 'data-col="rate">0.00%<' in row_b.group(1)


# -- the campaign page -------------------------------------------------------------------------


def test_campaign_page_lists_a_department_only_its_own_rows(client, district, campaign_ses):
    se_a1, se_a2, se_b = campaign_ses
    campaign = se_a1.campaign
    url = reverse("workflows:evaluation_campaign", args=[campaign.pk])

    finance = text(login(client, district.finance).get(url))
    assert all(page(se) in finance for se in campaign_ses)
    mine = text(login(client, district.staff_b).get(url))
    assert page(se_b) in mine and page(se_a1) not in mine and page(se_a2) not in mine
    assert 'data-count="total">1<' in mine
    for user in (district.expert, district.deputy, district.agency_staff):
        assert login(client, user).get(url).status_code == 403
    # filters
    filtered = text(login(client, district.finance).get(url, {"department": district.dept_b.pk}))
    assert page(se_b) in filtered and page(se_a1) not in filtered
    by_status = text(client.get(url, {"status": SelfEvaluationStatus.ACCEPTED}))
    assert page(se_a1) not in by_status


def test_campaign_list_takes_the_same_number_of_queries_whatever_its_length(client, district, campaign_ses):
    campaign = campaign_ses[0].campaign
    url = reverse("workflows:evaluation_campaign", args=[campaign.pk])
    login(client, district.finance)
    accept_through_services(district, campaign_ses[0])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(4):
        district.project(ProjectStage.EXECUTING, dept="b")
    launched = campaign_launch(actor=district.finance, fiscal_year=2021, due_at=timezone.now() + timedelta(days=20))
    accept_through_services(district, launched.created[0], staff=district.staff_b, leader=district.leader_b)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert text(response).count("data-self-evaluation=") == 7
    assert len(many.captured_queries) == len(few.captured_queries)
    hub_queries = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as q:
            client.get(HUB)
        hub_queries.append(len(q.captured_queries))
    assert hub_queries[0] == hub_queries[1]


def test_campaign_xlsx_has_the_figures_and_the_rows_the_user_may_see(client, district, campaign_ses):
    from openpyxl import load_workbook

    accept_through_services(district, campaign_ses[0])
    url = reverse("workflows:evaluation_campaign_xlsx", args=[campaign_ses[0].campaign.pk])
    response = login(client, district.finance).get(url)
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["总览", "分部门", "自评清单"]
    listing = list(book["自评清单"].iter_rows(values_only=True))
    assert len(listing) == 1 + 3
    assert any(r[7] == 100 and r[8] == "优" for r in listing[1:])
    mine = load_workbook(BytesIO(login(client, district.staff_b).get(url).content))
    assert len(list(mine["自评清单"].iter_rows(values_only=True))) == 1 + 1
    assert login(client, district.expert).get(url).status_code == 403


# -- the score sheet ---------------------------------------------------------------------------


def test_sheet_is_saved_submitted_returned_and_accepted_through_the_pages(client, district, campaign_ses):
    se = campaign_ses[0]
    project = se.project
    staff = login(client, district.staff_a)
    first = staff.get(page(se))
    assert first.status_code == 200 and 'data-testid="se-fill"' in text(first)
    assert "score_sheet.js" in text(first)

    saved = staff.post(act(se, "fill"), sheet_data(se, gte="10", save="1"))
    assert saved.status_code == 302
    se.refresh_from_db()
    assert se.status == SelfEvaluationStatus.ISSUED and se.score is not None and se.score < 100
    # 10 of 12.5 km without a reason: the submission is refused, nothing typed is lost
    refused = staff.post(act(se, "fill"), sheet_data(se, gte="10", executed="1150000", submit="1"))
    assert refused.status_code == 400
    gte = rows(se)["gte"]
    assert "未满分的指标请说明偏差原因和改进措施。" in cell(refused, f"lines.{gte.pk}.deviation_reason")
    assert 'value="1150000"' in cell(refused, "executed")
    se.refresh_from_db()
    assert se.status == SelfEvaluationStatus.ISSUED and se.sheet.executed == Decimal("1200000.00")

    data = sheet_data(se, gte="10", submit="1")
    data[f"lines.{gte.pk}.deviation_reason"] = "征地滞后"
    data[f"lines.{gte.pk}.measure"] = "加快进度"
    assert staff.post(act(se, "fill"), data).status_code == 302
    se.refresh_from_db()
    assert se.status == SelfEvaluationStatus.SUBMITTED

    leader = login(client, district.leader_a)
    assert 'data-testid="se-dept-review"' in text(leader.get(page(se)))
    no_reason = leader.post(act(se, "dept-review"), {"decision": "return", "comment": ""})
    assert no_reason.status_code == 400 and "请填写理由。" in cell(no_reason, "comment")
    assert leader.post(act(se, "dept-review"), {"decision": "approve", "comment": "同意"}).status_code == 302

    finance = login(client, district.finance)
    assert 'data-testid="se-review"' in text(finance.get(page(se)))
    no_reason = finance.post(act(se, "review"), {"decision": "return", "comment": ""})
    assert no_reason.status_code == 400 and "请填写理由。" in cell(no_reason, "comment")
    done = finance.post(act(se, "review"), {"decision": "accept", "comment": ""}, follow=True)
    assert "绩效自评已确认。" in text(done)
    se.refresh_from_db()
    assert se.status == SelfEvaluationStatus.ACCEPTED
    assert BudgetProject.objects.get(pk=project.pk).stage == ProjectStage.EVALUATED
    assert 'data-testid="recommendation"' in text(done)
    again = finance.post(act(se, "review"), {"decision": "accept", "comment": ""})
    assert again.status_code == 409

    project_page = text(login(client, district.staff_a).get(reverse("workflows:project_detail", args=[project.pk])))
    assert 'data-testid="evaluation-summary"' in project_page
    assert page(se) in project_page
    assert str(se.score) in project_page
    assert evaluation.recommendation_for(project).text in project_page


def test_sheet_errors_are_keyed_per_field_and_what_was_typed_is_kept(client, district, campaign_ses):
    se = campaign_ses[0]
    r = rows(se)
    data = sheet_data(se, gte="十二", executed="abc", band="partly", band_pct="95", save="1")
    response = login(client, district.staff_a).post(act(se, "fill"), data)

    assert response.status_code == 400
    assert "实际完成值必须是数字。" in cell(response, f"lines.{r['gte'].pk}.actual")
    assert 'value="十二"' in cell(response, f"lines.{r['gte'].pk}.actual")
    assert "请填写数字金额（元）。" in cell(response, "executed")
    assert 'value="abc"' in cell(response, "executed")
    assert 'value="95"' in cell(response, f"lines.{r['qualitative'].pk}.band_pct")
    se.refresh_from_db()
    assert se.sheet is None and se.revision == 1


def test_stale_revision_is_a_conflict_and_nothing_is_saved(client, district, campaign_ses):
    se = campaign_ses[0]
    staff = login(client, district.staff_a)
    stale = sheet_data(se, save="1")
    assert staff.post(act(se, "fill"), sheet_data(se, save="1")).status_code == 302
    response = staff.post(act(se, "fill"), {**stale, "executed": "1000000"})
    assert response.status_code == 409
    assert "已被他人修改" in html.unescape(text(response))
    assert SelfEvaluation.objects.get(pk=se.pk).sheet.executed == Decimal("1200000.00")


def test_preview_scores_what_is_typed_without_saving(client, district, campaign_ses):
    se = campaign_ses[0]
    url = reverse("workflows:self_evaluation_preview", args=[se.pk])
    staff = login(client, district.staff_a)
    full = staff.post(url, sheet_data(se)).json()
    assert (full["total"], full["grade"], full["execution_rate"], full["complete"]) == (
        "100.00",
        "excellent",
        "100.00",
        True,
    )
    partial = staff.post(url, sheet_data(se, gte="", executed="600000", band="partly", band_pct="95")).json()
    r = rows(se)
    assert partial["lines"][str(r["gte"].pk)]["score"] is None
    assert f"lines.{r['gte'].pk}.actual" in partial["issues"]
    assert f"lines.{r['qualitative'].pk}.band_pct" in partial["issues"]
    assert partial["execution_rate"] == "50.00" and partial["execution"] == "5.00"
    assert Decimal(partial["total"]) < 100 and not partial["complete"]
    se.refresh_from_db()
    assert se.sheet is None
    assert login(client, district.staff_b).post(url, sheet_data(se)).status_code == 404


def test_wrong_roles_cannot_act_on_the_sheet_and_other_departments_never_see_it(client, district, campaign_ses):
    se = campaign_ses[0]
    for user in (district.staff_b, district.leader_b, district.expert, district.deputy, district.agency_staff):
        login(client, user)
        assert client.get(page(se)).status_code == 404
        assert client.post(act(se, "fill"), sheet_data(se, save="1")).status_code == 404
    for user in (district.leader_a, district.finance, district.supervisor):
        login(client, user)
        body = text(client.get(page(se)))
        assert 'data-testid="se-fill"' not in body
        assert client.post(act(se, "fill"), sheet_data(se, save="1")).status_code == 403
    assert login(client, district.staff_a).post(act(se, "dept-review"), {"decision": "approve"}).status_code == 403
    assert client.post(act(se, "review"), {"decision": "accept"}).status_code == 403
    assert client.post(act(se, "nope"), {}).status_code == 404
    se.refresh_from_db()
    assert se.status == SelfEvaluationStatus.ISSUED and se.sheet is None


def test_findings_are_added_and_removed_by_the_finance_section_only(client, district, campaign_ses):
    se = campaign_ses[0]
    staff = login(client, district.staff_a)
    assert 'data-testid="finding-add"' not in text(staff.get(page(se)))
    assert staff.post(act(se, "finding-add"), {"problem": "x", "requirement": "y"}).status_code == 403
    finance = login(client, district.finance)
    refused = finance.post(act(se, "finding-add"), {"problem": "", "requirement": ""})
    assert refused.status_code == 400 and "请填写存在的问题。" in cell(refused, "problem")
    assert "请选择问题类别。" in cell(refused, "category")
    assert (
        finance.post(
            act(se, "finding-add"), {"category": "management", "problem": "台账不全", "requirement": "补齐"}
        ).status_code
        == 302
    )
    finding = Finding.objects.get(self_evaluation=se)
    assert "台账不全" in text(login(client, district.staff_a).get(page(se)))
    assert client.post(act(se, "finding-remove"), {"finding": finding.pk}).status_code == 403
    assert login(client, district.finance).post(act(se, "finding-remove"), {"finding": finding.pk}).status_code == 302
    assert not Finding.objects.exists()


# -- re-checks ----------------------------------------------------------------------------------


@pytest.fixture
def accepted_ses(district, campaign_ses):
    se_a1, se_a2, se_b = campaign_ses
    return [
        accept_through_services(district, se_a1),
        accept_through_services(district, se_a2, gte="6"),
        accept_through_services(district, se_b, staff=district.staff_b, leader=district.leader_b),
    ]


def test_random_sample_with_a_seed_is_shown_and_replays(client, district, agency, accepted_ses):
    campaign = accepted_ses[0].campaign
    url = reverse("workflows:evaluation_rechecks", args=[campaign.pk])
    finance = login(client, district.finance)
    assert 'data-testid="recheck-sample"' in text(finance.get(url))
    missing = finance.post(url, {"method": "random", "agency": agency.pk, "due_at": due_text()})
    assert missing.status_code == 400 and "请填写抽取数量。" in cell(missing, "size")
    too_many = finance.post(url, {"method": "random", "agency": agency.pk, "due_at": due_text(), "size": 9})
    assert too_many.status_code == 400 and "不能抽取 9 个" in cell(too_many, "size")

    response = finance.post(
        url, {"method": "random", "agency": agency.pk, "due_at": due_text(), "size": 2, "seed": 12345}, follow=True
    )
    assert "随机种子 12345" in text(response)
    sample = RecheckSample.objects.get()
    assert sample.method == SampleMethod.RANDOM and sample.seed == 12345
    assert evaluation.replay_sample(sample) == sorted(sample.rechecks.values_list("self_evaluation_id", flat=True))
    samples = re.search(r'data-testid="samples"(.*?)</section>', text(response), re.S).group(1)
    assert 'data-col="seed">12345<' in samples
    assert text(response).count("data-recheck=") == 2


def test_manual_sample_then_agency_rescoring_feedback_and_final_through_the_pages(
    client, district, agency, accepted_ses
):
    se = accepted_ses[1]  # department A, 良
    campaign = se.campaign
    url = reverse("workflows:evaluation_rechecks", args=[campaign.pk])
    finance = login(client, district.finance)
    none = finance.post(url, {"method": "manual", "agency": agency.pk, "due_at": due_text()})
    assert none.status_code == 400 and "请至少选择一个项目。" in cell(none, "self_evaluations")
    ok = finance.post(url, {"method": "manual", "agency": agency.pk, "due_at": due_text(), "self_evaluations": [se.pk]})
    assert ok.status_code == 302
    recheck = Recheck.objects.get()
    assert recheck.self_evaluation_id == se.pk

    other_agency_staff = make_user("agency_staff", username="agency2", agency=AgencyFactory(name="另一机构"))
    for user in (district.staff_b, district.expert, other_agency_staff):
        assert login(client, user).get(recheck_page(recheck)).status_code == 404
    login(client, district.finance)
    assert client.post(recheck_act(recheck, "fill"), sheet_data(se, save="1", revision=1)).status_code == 403

    agency_client = login(client, district.agency_staff)
    body = text(agency_client.get(recheck_page(recheck)))
    assert 'data-testid="recheck-fill"' in body and 'data-compare="' in body
    gte = rows(se)["gte"]
    data = sheet_data(se, gte="5", submit="1", opinion="", revision=recheck.revision)
    refused = agency_client.post(recheck_act(recheck, "fill"), data)
    assert refused.status_code == 400
    assert "请填写复核意见。" in cell(refused, "opinion")
    assert Recheck.objects.get(pk=recheck.pk).status == RecheckStatus.ASSIGNED
    data.update(
        {
            "opinion": "实际完成长度不足",
            f"lines.{gte.pk}.deviation_reason": "征地滞后",
            f"lines.{gte.pk}.measure": "加快进度",
            "revision": Recheck.objects.get(pk=recheck.pk).revision,
        }
    )
    assert agency_client.post(recheck_act(recheck, "fill"), data).status_code == 302
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.RESCORED

    assert login(client, district.staff_b).post(recheck_act(recheck, "feedback"), {}).status_code == 404
    staff = login(client, district.staff_a)
    assert 'data-testid="recheck-feedback"' in text(staff.get(recheck_page(recheck)))
    assert staff.post(recheck_act(recheck, "feedback"), {"comment": ""}).status_code == 302
    assert staff.post(recheck_act(recheck, "finalize"), {}).status_code == 403

    agency_client = login(client, district.agency_staff)
    assert "无异议" in text(agency_client.get(recheck_page(recheck)))
    done = agency_client.post(recheck_act(recheck, "finalize"), {}, follow=True)
    assert "复核完成" in text(done)
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.FINAL and recheck.final_score < se.score
    assert f'data-testid="difference">{recheck.difference}<' in text(done)
    listing = text(login(client, district.finance).get(url))
    assert f'data-col="difference">{recheck.difference}<' in listing
    se_page = text(client.get(page(se)))
    assert 'data-testid="final-score"' in se_page and str(recheck.final_score) in se_page
    assert recheck.final_grade in (Grade.FAIR, Grade.POOR, Grade.GOOD)


def test_rechecks_are_seen_by_their_department_and_agency_only(client, district, agency, accepted_ses):
    campaign = accepted_ses[0].campaign
    evaluation.recheck_sample(
        actor=district.finance,
        campaign=campaign,
        agency=agency,
        due_at=timezone.now() + timedelta(days=5),
        self_evaluation_ids=[accepted_ses[0].pk, accepted_ses[2].pk],
    )
    url = reverse("workflows:evaluation_rechecks", args=[campaign.pk])
    ra, rb = (Recheck.objects.get(self_evaluation=accepted_ses[i]) for i in (0, 2))
    mine = text(login(client, district.staff_b).get(url))
    assert recheck_page(rb) in mine and recheck_page(ra) not in mine
    assert 'data-testid="recheck-sample"' not in mine and 'data-testid="samples"' not in mine
    assert login(client, district.staff_b).get(recheck_page(ra)).status_code == 404
    agency_view = text(login(client, district.agency_staff).get(url))
    assert recheck_page(ra) in agency_view and recheck_page(rb) in agency_view
    assert recheck_page(ra) in text(client.get(HUB))  # the agency's own tasks on the hub
    assert login(client, district.expert).get(url).status_code == 403
    assert login(client, district.leader_a).post(url, {"method": "random"}).status_code == 403
    # flat query count on the re-check list
    login(client, district.finance)
    client.get(HUB)  # the first request after a login renews the session (a write)
    with CaptureQueriesContext(connection) as two:
        assert client.get(url).status_code == 200
    more = [se for se in SelfEvaluation.objects.filter(campaign=campaign, recheck__isnull=True)]
    evaluation.recheck_sample(
        actor=district.finance,
        campaign=campaign,
        agency=agency,
        due_at=timezone.now() + timedelta(days=5),
        self_evaluation_ids=[se.pk for se in more],
    )
    with CaptureQueriesContext(connection) as three:
        assert text(client.get(url)).count("data-recheck=") == 3
    assert len(three.captured_queries) == len(two.captured_queries)


def test_project_page_panel_keeps_a_constant_query_count(client, district, campaign_ses):
    se = campaign_ses[0]
    url = reverse("workflows:project_detail", args=[se.project_id])
    login(client, district.staff_a)
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        body = text(client.get(url))
    assert 'data-testid="evaluation-summary"' in body and "待自评" in body
    accept_through_services(district, se)
    login(client, district.staff_a)
    client.get(url)
    with CaptureQueriesContext(connection) as after:
        body = text(client.get(url))
    assert "优先保障" in body
    assert abs(len(after.captured_queries) - len(before.captured_queries)) <= 3
