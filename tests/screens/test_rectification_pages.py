"""整改 screens (DESIGN §3.6): the whole path through the pages as real role users — the
finance section issues from a self-evaluation's findings, the department acknowledges,
reports, uploads evidence (a renamed executable and an oversized file refused with a
message and nothing lost), submits; the finance section rejects with a reason, the
department resubmits, asks for an extension, a supervisor refuses it, the finance section
verifies — plus visibility (other department 404, an expert nothing), a past deadline
refused, and the list's query count flat."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from processes.models import DeadlineExtension, Evidence, Rectification
from processes.services.findings import finding_add
from processes.services.rectification import rectification_issue
from processes.states import ExtensionStatus, ProjectStage, RectificationStatus
from tests.processes.test_evaluation import accepted, launch

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
LIST = reverse("workflows:rectification_list")
NEW = reverse("workflows:rectification_new")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00binary"


def text(response) -> str:
    return html.unescape(response.content.decode())


def detail(r) -> str:
    return reverse("workflows:rectification_detail", args=[r.pk])


def act(r, action) -> str:
    return reverse("workflows:rectification_act", args=[r.pk, action])


def as_user(client, user):
    client.force_login(user)
    return client


def fresh(r) -> Rectification:
    return Rectification.objects.get(pk=r.pk)


def local(dt) -> str:
    return dt.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def action_forms(response) -> set[str]:
    return set(re.findall(r'class="action-card[^"]*" data-action="([a-z-]+)"', response.content.decode()))


@pytest.fixture
def se(district):
    """An accepted self-evaluation of a department-A project with two findings."""
    project = district.project(ProjectStage.EXECUTING)
    launch(district)
    evaluation = accepted(district, project)
    finding_add(source=evaluation, actor=district.finance, problem="绩效目标不够细化", requirement="细化量化指标")
    finding_add(
        source=evaluation, actor=district.finance, problem="佐证材料不全", basis="自评办法", requirement="补齐材料"
    )
    return evaluation


def report_data(r, *, revision=None, **files) -> dict:
    data = {"revision": revision or fresh(r).revision, "then": "save"}
    for item in r.items.all():
        data |= {
            f"measure_{item.pk}": "修订绩效目标表",
            f"responsible_{item.pk}": "张三",
            f"completed_on_{item.pk}": "2022-03-01",
            f"progress_{item.pk}": "done",
        }
    return data | files


def test_whole_rectification_path_through_the_pages_as_real_role_users(client, district, se, settings):
    d = district
    source = f"?source=self_evaluation:{se.pk}"

    # the finance section sees the link next to the findings and issues from the form
    page = as_user(client, d.finance).get(reverse("workflows:self_evaluation", args=[se.pk]))
    assert f"/rectifications/new/{source}" in text(page) and "下达整改" in text(page)
    form = client.get(NEW + source)
    assert form.status_code == 200 and "绩效目标不够细化" in text(form) and "绩效自评发现问题整改" in text(form)
    finding_ids = [str(f.pk) for f in se.findings.order_by("pk")]
    deadline = timezone.now() + timedelta(days=20)
    response = client.post(
        NEW + source,
        {
            "source": f"self_evaluation:{se.pk}",
            "findings": finding_ids,
            "title": "自评问题整改",
            "deadline": local(deadline),
            f"requirement_{finding_ids[0]}": "一个月内细化指标",
            f"requirement_{finding_ids[1]}": "补齐材料",
        },
    )
    r = Rectification.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(r)
    assert r.items.count() == 2 and r.items.first().requirement == "一个月内细化指标"
    assert "没有尚未下达整改的问题" in text(client.get(NEW + source))

    # the department acknowledges and reports
    as_user(client, d.staff_a)
    assert action_forms(client.get(detail(r))) == {"acknowledge", "extension"}
    assert client.post(act(r, "acknowledge")).status_code == 302
    assert fresh(r).status == RectificationStatus.ACKNOWLEDGED
    assert action_forms(client.get(detail(r))) == {"report", "extension"}
    item = r.items.order_by("position").first()

    bad = client.post(act(r, "report"), report_data(r, **{f"file_{item.pk}": SimpleUploadedFile("目标表.pdf", EXE)}))
    assert bad.status_code == 400 and "只接受 PDF" in text(bad)
    assert "修订绩效目标表" in text(bad) and 'value="张三"' in text(bad)  # the entries are kept
    assert not Evidence.objects.exists() and fresh(r).items.first().measure == ""  # nothing saved

    settings.JIXIAO = {**settings.JIXIAO, "UPLOAD_MAX_BYTES": 1024 * 1024}
    big = SimpleUploadedFile("大.pdf", PDF + b"0" * (1024 * 1024))
    too_big = client.post(act(r, "report"), report_data(r, **{f"file_{item.pk}": big}))
    assert too_big.status_code == 400 and "文件过大" in text(too_big) and 'value="张三"' in text(too_big)
    assert not Evidence.objects.exists()

    ok = client.post(act(r, "report"), report_data(r, **{f"file_{item.pk}": SimpleUploadedFile("目标表.pdf", PDF)}))
    assert ok.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.item == item and fresh(r).items.first().measure == "修订绩效目标表"
    download = client.get(reverse("workflows:rectification_evidence", args=[evidence.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]

    stale = client.post(act(r, "report"), report_data(r, revision=1))
    assert stale.status_code == 409 and "已被他人修改" in text(stale)

    submitted = client.post(act(r, "report"), report_data(r) | {"then": "submit"})
    assert submitted.status_code == 302 and fresh(r).status == RectificationStatus.SUBMITTED

    # another department and an expert see nothing
    for outsider in (d.staff_b, d.leader_b):
        as_user(client, outsider)
        assert client.get(detail(r)).status_code == 404
        assert client.get(reverse("workflows:rectification_evidence", args=[evidence.pk])).status_code == 404
        assert client.post(act(r, "acknowledge")).status_code == 404
        assert "自评问题整改" not in text(client.get(LIST))
    as_user(client, d.expert)
    assert client.get(detail(r)).status_code == 404 and "自评问题整改" not in text(client.get(LIST))

    # the finance section rejects with a reason
    as_user(client, d.finance)
    assert action_forms(client.get(detail(r))) == {"review"}
    no_reason = client.post(act(r, "review"), {"decision": "reject", "comment": ""})
    assert no_reason.status_code == 400 and "请说明理由" in text(no_reason)
    assert client.post(act(r, "review"), {"decision": "reject", "comment": "佐证材料不足"}).status_code == 302
    assert fresh(r).status == RectificationStatus.ACKNOWLEDGED and fresh(r).rejections == 1

    # the department sees the reason, resubmits, and asks for an extension
    as_user(client, d.staff_a)
    assert "佐证材料不足" in text(client.get(detail(r)))
    early = client.post(act(r, "extension"), {"reason": "", "proposed_deadline": local(deadline - timedelta(days=1))})
    assert early.status_code == 400 and "请说明延期理由" in text(early) and "必须晚于现行整改期限" in text(early)
    later = deadline + timedelta(days=15)
    assert client.post(act(r, "extension"), {"reason": "需招标", "proposed_deadline": local(later)}).status_code == 302
    assert "extension" not in action_forms(client.get(detail(r)))

    # a supervisor refuses it (a reason is required); the deadline stays
    as_user(client, d.supervisor)
    extension = DeadlineExtension.objects.get()
    assert action_forms(client.get(detail(r))) == {"decide"}
    bare = client.post(act(r, "decide"), {"extension": extension.pk, "decision": "refuse", "comment": ""})
    assert bare.status_code == 400 and "请说明理由" in text(bare)
    refused = client.post(act(r, "decide"), {"extension": extension.pk, "decision": "refuse", "comment": "期限足够"})
    assert refused.status_code == 302
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.REFUSED and fresh(r).deadline == fresh(r).original_deadline
    page = text(client.get(detail(r)))
    assert "期限足够" in page and "需招标" in page and "未同意" in page

    as_user(client, d.staff_a)
    assert client.post(act(r, "report"), report_data(r) | {"then": "submit"}).status_code == 302
    assert as_user(client, d.staff_a).post(act(r, "review"), {"decision": "verify"}).status_code == 403

    # the finance section verifies
    as_user(client, d.finance)
    assert client.post(act(r, "review"), {"decision": "verify", "comment": "同意销号"}).status_code == 302
    assert fresh(r).status == RectificationStatus.VERIFIED
    page = client.get(detail(r))
    assert action_forms(page) == set() and "已验收销号" in text(page)
    again = client.post(act(r, "review"), {"decision": "verify"})
    assert again.status_code == 409 and "整改当前为「已验收销号」，不能执行「验收销号」" in text(again)


def test_issue_form_refuses_a_past_deadline_and_keeps_what_was_typed(client, district, se):
    as_user(client, district.finance)
    finding_ids = [str(f.pk) for f in se.findings.order_by("pk")]
    response = client.post(
        NEW + f"?source=self_evaluation:{se.pk}",
        {
            "findings": finding_ids[:1],
            "title": "我的整改标题",
            "deadline": local(timezone.now() - timedelta(days=1)),
            f"requirement_{finding_ids[0]}": "我改过的要求",
        },
    )
    assert response.status_code == 400
    body = text(response)
    assert "整改期限必须晚于现在" in body and "我的整改标题" in body and "我改过的要求" in body
    assert not Rectification.objects.exists()
    none_chosen = client.post(
        NEW + f"?source=self_evaluation:{se.pk}", {"title": "x", "deadline": local(timezone.now() + timedelta(days=9))}
    )
    assert none_chosen.status_code == 400 and "请至少选择一个问题" in text(none_chosen)


@pytest.mark.parametrize("name", ["staff_a", "leader_a", "supervisor", "auditor", "expert"])
def test_issue_form_is_refused_when_not_the_finance_section(client, district, se, name):
    as_user(client, getattr(district, name))
    assert client.get(NEW + f"?source=self_evaluation:{se.pk}").status_code == 403


def test_issue_form_is_404_when_the_source_is_unknown(client, district):
    as_user(client, district.finance)
    assert client.get(NEW + "?source=nonsense:1").status_code == 404
    assert client.get(NEW + "?source=self_evaluation:999999").status_code == 404


def test_supervisor_grant_moves_the_deadline_and_keeps_the_old_one(client, district, se):
    r = rectification_issue(actor=district.finance, findings=list(se.findings.all()), title="整改")
    as_user(client, district.staff_a)
    later = r.deadline + timedelta(days=10)
    client.post(act(r, "extension"), {"reason": "需招标", "proposed_deadline": local(later)})
    extension = DeadlineExtension.objects.get()
    as_user(client, district.supervisor)
    assert client.post(act(r, "decide"), {"extension": extension.pk, "decision": "grant"}).status_code == 302
    r = fresh(r)
    assert r.deadline > r.original_deadline
    body = text(client.get(LIST))
    assert "原定" in body


def test_list_filters_colours_and_query_count_stay_flat(client, district, se, django_assert_max_num_queries):
    findings = list(se.findings.order_by("pk"))
    soon = rectification_issue(
        actor=district.finance, findings=findings[:1], title="即将到期", deadline=timezone.now() + timedelta(days=2)
    )
    Rectification.objects.create(
        department=district.dept_a,
        title="已逾期事项",
        deadline=timezone.now() - timedelta(days=5),
        original_deadline=timezone.now() - timedelta(days=5),
        issued_by=district.finance,
    )
    as_user(client, district.finance)
    body = text(client.get(LIST))
    assert "逾期 5 天" in body and 'data-clock="soon"' in body and "即将到期" in body
    assert "已逾期事项" in text(client.get(LIST + "?due=overdue")) and "即将到期" not in text(
        client.get(LIST + "?due=overdue")
    )
    assert "即将到期" in text(client.get(LIST + "?due=soon"))
    assert "即将到期" not in text(client.get(LIST + f"?department={district.dept_b.pk}"))
    assert soon.pk

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(5):
        Rectification.objects.create(
            department=district.dept_b,
            title=f"批量{i}",
            deadline=timezone.now() + timedelta(days=i + 1),
            original_deadline=timezone.now() + timedelta(days=i),
            issued_by=district.finance,
        )
    assert count() == before


def test_nav_shows_the_rectification_link_to_the_right_roles(client, district):
    assert "整改" in text(as_user(client, district.staff_a).get(LIST))
    assert f'href="{LIST}"' in text(client.get(LIST))
    assert f'href="{LIST}"' not in text(as_user(client, district.expert).get(reverse("notifications:list")))


def test_commissioned_evaluation_findings_link_to_the_issue_form_for_the_finance_section(client, district):
    from tests.processes.test_commissioned import Chain

    ev = Chain(district).commission_key()
    finding_add(source=ev, actor=district.finance, problem="资金拨付滞后", requirement="加快拨付")
    page = reverse("workflows:commissioned_detail", args=[ev.pk])
    link = f"/rectifications/new/?source=evaluation:{ev.pk}"
    assert link in text(as_user(client, district.finance).get(page))
    form = client.get(link)
    assert form.status_code == 200 and "资金拨付滞后" in text(form) and ev.title in text(form)
    assert link not in text(as_user(client, district.staff_a).get(page))


def test_a_refused_submission_leaves_no_file_behind(district, se, client):
    import os

    from django.conf import settings as django_settings

    from processes.services.rectification import rectification_acknowledge

    finding = finding_add(source=se, actor=district.finance, problem="问题", requirement="要求")
    issued = rectification_issue(actor=district.finance, findings=[finding], title="整改")
    rectification = rectification_acknowledge(rectification=issued, actor=district.staff_a)
    item = rectification.items.first()
    before = sum(len(files) for _root, _dirs, files in os.walk(django_settings.PRIVATE_MEDIA_ROOT))
    client.force_login(district.staff_a)
    response = client.post(
        f"/rectifications/{rectification.pk}/act/report/",
        {
            "revision": rectification.revision,
            "then": "submit",
            f"file_{item.pk}": SimpleUploadedFile("证明.pdf", b"%PDF-1.4\n%%EOF\n"),
        },
    )
    assert response.status_code == 400  # the report is incomplete: submission refused
    after = sum(len(files) for _root, _dirs, files in os.walk(django_settings.PRIVATE_MEDIA_ROOT))
    assert after == before
    assert not item.evidence.exists()


def test_valid_files_are_kept_when_another_upload_is_refused(district, se, client):
    from processes.services.rectification import rectification_acknowledge

    findings = [
        finding_add(source=se, actor=district.finance, problem=f"问题{i}", requirement=f"要求{i}") for i in (1, 2)
    ]
    issued = rectification_issue(actor=district.finance, findings=findings, title="整改")
    r = rectification_acknowledge(rectification=issued, actor=district.staff_a)
    good_item, bad_item = list(r.items.order_by("position"))
    client.force_login(district.staff_a)
    response = client.post(
        act(r, "report"),
        report_data(r)
        | {
            "then": "submit",
            f"file_{good_item.pk}": SimpleUploadedFile("整改台账.pdf", PDF),
            f"file_{bad_item.pk}": SimpleUploadedFile("伪装.pdf", EXE),
        },
    )
    body = text(response)
    assert response.status_code == 400
    # the refused file is named with the reason, next to its item
    assert "「伪装.pdf」未被接受" in body and "只接受 PDF" in body
    # the valid one is kept as evidence of its item and listed on the page
    assert [e.name for e in good_item.evidence.all()] == ["整改台账.pdf"] and not bad_item.evidence.exists()
    assert "其他文件已保存为佐证材料：整改台账.pdf" in body
    assert body.count("整改台账.pdf") >= 2  # the message and the evidence list
    # the report itself is neither saved nor submitted; what was typed comes back
    assert fresh(r).status == RectificationStatus.ACKNOWLEDGED and fresh(r).items.first().measure == ""
    assert 'value="张三"' in body
