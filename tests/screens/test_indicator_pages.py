"""Indicator library screens: the list (scope, filters, counts, pages, flat query count),
an indicator's page, proposals and their review, edit and (de)activation, the import
through its job page, the template and the export; and the job page's privacy."""

from __future__ import annotations

import re
from io import BytesIO

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from processes.models import Indicator, Job
from processes.services.indicators import COLUMNS, indicator_propose, indicators_import_rows
from processes.states import IndicatorStatus, JobStatus
from tests.processes.test_indicators import GOOD_ROWS, row, xlsx

pytestmark = pytest.mark.django_db

LIST = reverse("processes:indicator_list")


def text(response) -> str:
    return response.content.decode()


def codes_in(response) -> set[str]:
    """The codes the list's table links to."""
    return set(re.findall(r'<td class="nowrap"><a href="/library/\d+/">([^<]+)</a></td>', text(response)))


@pytest.fixture
def library(district):
    indicators_import_rows(actor=district.finance, rows=GOOD_ROWS)
    return {i.code: i for i in Indicator.objects.all()}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def login(client, user):
    client.force_login(user)
    return client


def propose(district, staff=None, name="渠道清淤长度"):
    return indicator_propose(
        actor=staff or district.staff_a, level1="output", level2="quantity", name=name, unit="公里", direction="gte"
    )


# -- the list -------------------------------------------------------------------------------


def test_list_shows_general_and_own_department_rows_when_department_staff_open_it(client, district, library):
    response = login(client, district.staff_a).get(LIST)

    assert response.status_code == 200
    assert codes_in(response) == {"G0001", "G0002", "A01-0001"}
    assert "共 3 个指标：通用类 2 个，部门个性化 1 个" in text(response)
    assert 'href="/library/propose/"' in text(response)
    assert 'href="/library/import/"' not in text(response)
    assert 'id="id_department"' not in text(response)  # one department: no department filter


def test_list_shows_every_row_and_the_finance_actions_when_finance_open_it(client, district, library):
    response = login(client, district.finance).get(LIST)

    assert codes_in(response) == {"G0001", "G0002", "A01-0001", "B01-0001"}
    body = text(response)
    assert 'href="/library/import/"' in body and 'href="/library/template.xlsx"' in body
    assert 'id="id_department"' in body
    assert 'class="active" aria-current="page">指标库' in body


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ({"level1": "satisfaction"}, {"B01-0001"}),
        ({"level2": "timeliness"}, {"A01-0001"}),
        ({"scope": "general"}, {"G0001", "G0002"}),
        ({"direction": "qualitative"}, {"G0002"}),
        ({"active": "0"}, {"B01-0001"}),
        ({"q": "满意"}, {"B01-0001"}),
        ({"department": "DEPT_B"}, {"B01-0001"}),
    ],
)
def test_list_is_filtered_when_filters_are_given(client, district, library, query, codes):
    if query.get("department") == "DEPT_B":
        query = {"department": district.dept_b.pk}

    response = login(client, district.finance).get(LIST, query)

    assert codes_in(response) == codes


def test_list_is_paginated_by_fifty_when_library_is_large(client, district):
    indicators_import_rows(actor=district.finance, rows=[row(**{"指标编码": f"G{i:04d}"}) for i in range(120)])
    client = login(client, district.staff_a)

    first, last = client.get(LIST), client.get(LIST, {"page": 3})

    assert len(codes_in(first)) == 50 and len(codes_in(last)) == 20
    assert "第 1 / 3 页" in text(first)
    assert "共 120 个指标" in text(last)


def test_list_takes_the_same_number_of_queries_when_rows_grow(client, district):
    client = login(client, district.finance)
    indicators_import_rows(
        actor=district.finance,
        rows=[row(**{"指标编码": f"A{i:03d}", "适用范围": "部门个性化", "所属部门编码": "A01"}) for i in range(3)],
    )
    client.get(LIST)  # warm the per-process caches (content types, translations)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    indicators_import_rows(
        actor=district.finance,
        rows=[
            row(**{"指标编码": f"B{i:03d}", "适用范围": "部门个性化", "所属部门编码": "B01" if i % 2 else "A01"})
            for i in range(60)
        ],
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)

    assert len(codes_in(response)) == 50
    assert len(many) == len(few)


# -- an indicator's page ------------------------------------------------------------------------


def test_other_departments_row_is_not_found_when_department_staff_open_it(client, district, library):
    client = login(client, district.staff_a)

    assert client.get(reverse("processes:indicator_detail", args=[library["B01-0001"].pk])).status_code == 404
    page = client.get(reverse("processes:indicator_detail", args=[library["A01-0001"].pk]))
    assert page.status_code == 200
    assert "渠道清淤完成时间" in text(page)
    assert 'action="/library/' not in text(page)  # no action for department staff


def test_finance_deactivates_and_reactivates_a_row_from_its_page(client, district, library):
    client = login(client, district.finance)
    indicator = library["G0001"]
    url = reverse("processes:indicator_set_active", args=[indicator.pk])

    assert 'data-action="active"' in text(client.get(reverse("processes:indicator_detail", args=[indicator.pk])))
    response = client.post(url, {"active": "0"})
    assert response.status_code == 302
    indicator.refresh_from_db()
    assert indicator.active is False
    page = client.get(reverse("processes:indicator_detail", args=[indicator.pk]))
    assert "停用" in text(page) and '<input type="hidden" name="active" value="1">' in text(page)
    client.post(url, {"active": "1"})
    indicator.refresh_from_db()
    assert indicator.active is True
    assert login(client, district.staff_a).post(url, {"active": "0"}).status_code == 403


def test_finance_edits_a_row_and_bad_input_shows_the_errors(client, district, library):
    client = login(client, district.finance)
    indicator = library["G0001"]
    url = reverse("processes:indicator_edit", args=[indicator.pk])
    data = {
        "code": "G0001",
        "level1": "output",
        "level2": "quantity",
        "name": "培训人数",
        "direction": "gte",
        "unit": "人",
        "scope": "general",
        "department": "",
        "description": "",
        "scoring_standard": "",
    }

    assert 'value="培训人次"' in text(client.get(url))
    bad = client.post(url, {**data, "level1": "effect"})
    assert bad.status_code == 400
    assert "不属于一级指标" in text(bad)
    no_unit = client.post(url, {**data, "unit": ""})
    assert no_unit.status_code == 400 and "必须填写计量单位" in text(no_unit)
    good = client.post(url, data)
    assert good.status_code == 302
    indicator.refresh_from_db()
    assert (indicator.name, indicator.unit) == ("培训人数", "人")
    assert login(client, district.staff_a).get(url).status_code == 403


# -- proposals --------------------------------------------------------------------------------------


def test_staff_propose_an_indicator_and_see_it_among_their_proposals(client, district, library):
    client = login(client, district.staff_a)
    url = reverse("processes:indicator_propose")
    data = {"level1": "output", "level2": "quantity", "name": "清淤长度", "direction": "gte", "unit": "公里"}

    bad = client.post(url, {**data, "level1": "effect"})
    assert bad.status_code == 400 and "不属于一级指标" in text(bad)
    missing = client.post(url, {**data, "name": ""})
    assert missing.status_code == 400
    response = client.post(url, data, follow=True)

    proposal = Indicator.objects.get(status=IndicatorStatus.PROPOSED)
    assert (proposal.code, proposal.department) == ("A01-P0001", district.dept_a)
    assert "已提出（编码 A01-P0001）" in text(response)
    assert "清淤长度" in text(response)  # the proposals page lists it
    assert login(client, district.staff_b).get(reverse("processes:indicator_proposals")).status_code == 200
    assert "清淤长度" not in text(client.get(reverse("processes:indicator_proposals")))
    assert login(client, district.finance).get(url).status_code == 403


def test_finance_approves_and_declines_from_the_queue(client, district, library):
    mine, theirs = propose(district), propose(district, staff=district.staff_b, name="住房巡查次数")
    client = login(client, district.finance)
    queue = reverse("processes:indicator_proposals")

    page = text(client.get(queue))
    assert "渠道清淤长度" in page and "住房巡查次数" in page
    approved = client.post(
        reverse("processes:indicator_decide", args=[mine.pk]),
        {"decision": "approve", "code": "NS-01", "comment": "", "next": queue},
    )
    assert approved.status_code == 302 and approved["Location"] == queue
    no_reason = client.post(reverse("processes:indicator_decide", args=[theirs.pk]), {"decision": "decline"})
    assert no_reason.status_code == 400 and "不予入库时必须填写理由" in text(no_reason)
    declined = client.post(
        reverse("processes:indicator_decide", args=[theirs.pk]), {"decision": "decline", "comment": "与通用指标重复"}
    )
    assert declined.status_code == 302
    again = client.post(reverse("processes:indicator_decide", args=[mine.pk]), {"decision": "approve"})
    assert again.status_code == 409 and "不能再次审核" in text(again)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.code, theirs.status) == ("approved", "NS-01", "declined")
    assert "渠道清淤长度" not in text(client.get(queue))  # the queue holds what waits
    assert (
        login(client, district.staff_a)
        .post(reverse("processes:indicator_decide", args=[mine.pk]), {"decision": "approve"})
        .status_code
        == 403
    )


# -- import, template, export ----------------------------------------------------------------------


def test_import_goes_through_the_job_page_to_the_counts_when_file_is_good(
    client, district, django_capture_on_commit_callbacks
):
    client = login(client, district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("processes:indicator_import"), {"file": xlsx(GOOD_ROWS)})

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("processes:job_detail", args=[job.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = text(page)
    assert 'data-testid="job-result"' in body
    assert "<dt>新增</dt><dd>4</dd>" in body and "<dt>未变</dt><dd>0</dd>" in body
    assert "js/job_progress.js" in body
    assert Indicator.objects.count() == 4
    assert "indicators.xlsx" in text(client.get(reverse("processes:indicator_import")))  # recent imports


def test_import_shows_the_error_table_and_writes_nothing_when_a_row_is_bad(
    client, district, django_capture_on_commit_callbacks
):
    client = login(client, district.finance)
    bad = [row(), row(**{"指标编码": "G0002", "一级指标": "效益指标", "二级指标": "数量指标"})]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("processes:indicator_import"), {"file": xlsx(bad)})

    body = text(client.get(response["Location"]))
    assert 'data-testid="job-errors"' in body
    assert '<td class="num">3</td><td>二级指标</td>' in body
    assert Job.objects.get().status == JobStatus.FAILED
    assert not Indicator.objects.exists()


def test_import_form_shows_errors_when_upload_is_missing_or_not_a_workbook(client, district):
    client = login(client, district.finance)
    url = reverse("processes:indicator_import")

    missing = client.post(url, {})
    assert missing.status_code == 400
    wrong = client.post(url, {"file": xlsx([row()], name="indicators.csv")})
    assert wrong.status_code == 400 and "只能导入 Excel 工作簿" in text(wrong)
    assert not Job.objects.exists()
    assert login(client, district.staff_a).get(url).status_code == 403


def test_import_form_refuses_a_file_over_the_limit(client, district, settings):
    settings.JIXIAO = {**settings.JIXIAO, "INDICATOR_IMPORT_MAX_BYTES": 100}
    response = login(client, district.finance).post(reverse("processes:indicator_import"), {"file": xlsx(GOOD_ROWS)})

    assert response.status_code == 400 and "文件过大" in text(response)
    assert not Job.objects.exists()


def test_template_is_a_workbook_with_the_header_when_downloaded(client, district):
    response = login(client, district.finance).get(reverse("processes:indicator_template"))

    assert response.status_code == 200
    book = openpyxl.load_workbook(BytesIO(response.content))
    assert next(book.worksheets[0].iter_rows(values_only=True)) == COLUMNS
    assert "说明" in book.sheetnames


def test_export_holds_only_what_the_user_reads_with_the_filters_applied(client, district, library):
    def exported(user, **query) -> set[str]:
        response = login(client, user).get(reverse("processes:indicator_export"), query)
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(BytesIO(response.content)).worksheets[0]
        return {r[0] for r in list(sheet.iter_rows(values_only=True))[1:]}

    assert exported(district.staff_a) == {"G0001", "G0002", "A01-0001"}
    assert exported(district.staff_b) == {"G0001", "G0002", "B01-0001"}
    assert exported(district.finance, scope="department") == {"A01-0001", "B01-0001"}
    list_page = text(login(client, district.finance).get(LIST, {"scope": "department", "page": "1"}))
    assert 'href="/library/export.xlsx?scope=department"' in list_page


# -- the job page -----------------------------------------------------------------------------------


def test_job_page_and_progress_are_for_their_starter_only(client, district, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        login(client, district.finance).post(reverse("processes:indicator_import"), {"file": xlsx(GOOD_ROWS)})
    job = Job.objects.get()
    page, progress = (
        reverse("processes:job_detail", args=[job.pk]),
        reverse("processes:job_progress", args=[job.pk]),
    )

    state = client.get(progress).json()
    assert {k: state[k] for k in ("status", "done", "total", "percent", "finished")} == {
        "status": "succeeded",
        "done": 4,
        "total": 4,
        "percent": 100,
        "finished": True,
    }
    assert state["phase_display"] == "写入指标库"
    assert state["result"] == {"total": 4, "created": 4, "updated": 0, "unchanged": 0}
    assert state["errors"] == []
    for other in (district.supervisor, district.staff_a):
        login(client, other)
        assert client.get(page).status_code == 404
        assert client.get(progress).status_code == 404
    client.logout()
    assert client.get(progress).status_code == 302


def test_job_page_shows_the_progress_bar_while_the_job_runs(client, district):
    job = Job.objects.create(kind="indicator_import", created_by=district.finance, phase="校验数据", total=200, done=50)

    body = text(login(client, district.finance).get(reverse("processes:job_detail", args=[job.pk])))

    assert 'data-job-finished="0"' in body
    assert '<progress max="100" value="25"' in body
    assert "50 / 200" in body and "校验数据" in body
    assert 'data-testid="job-result"' not in body


def test_queue_lists_every_status_when_finance_choose_all(client, district):
    pending, decided = propose(district), propose(district, name="已审核的指标")
    from processes.services.indicators import indicator_decide

    indicator_decide(indicator=decided, actor=district.finance, approve=True)
    client = login(client, district.finance)
    queue = reverse("processes:indicator_proposals")

    assert "已审核的指标" not in text(client.get(queue))
    everything = text(client.get(queue, {"status": ""}))
    assert "已审核的指标" in everything and pending.name in everything
    assert "已审核的指标" in text(client.get(queue, {"status": "approved"}))
