"""The rectification API (DESIGN §3.6, §6): the whole path as real role users with status
codes and JSON bodies — issue, acknowledge, report, evidence (a renamed executable and an
oversized file refused, nothing lost), submit, reject with a reason, resubmit, an
extension refused and one granted, verify —, errors keyed as the service keys them (400),
wrong role 403, another department 404, wrong status / stale revision / acting twice 409,
filters, and a flat query count on the list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.models import Evidence, Rectification
from processes.services.findings import finding_add
from processes.states import ProjectStage
from tests.processes.test_evaluation import accepted, launch

from .support import client_for

pytestmark = pytest.mark.django_db

BASE = "/api/rectifications/"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00binary"


def url(r, action=None) -> str:
    pk = r["id"] if isinstance(r, dict) else r.pk
    return f"{BASE}{pk}/" + (f"{action}/" if action else "")


def when(days) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


@pytest.fixture
def findings(district):
    project = district.project(ProjectStage.EXECUTING)
    launch(district)
    se = accepted(district, project)
    return [
        finding_add(source=se, actor=district.finance, problem="绩效目标不够细化", requirement="细化量化指标"),
        finding_add(
            source=se, actor=district.finance, problem="佐证材料不全", basis="自评办法", requirement="补齐材料"
        ),
    ]


def issue(district, chosen, **overrides):
    body = {
        "findings": [f.pk for f in chosen],
        "title": "自评问题整改",
        "deadline": when(20),
        "requirements": {str(chosen[0].pk): "一个月内细化"},
        **overrides,
    }
    return client_for(district.finance).post(BASE, body, format="json")


def report(body, **item_overrides):
    return {
        "revision": body["revision"],
        "items": [
            {
                "id": item["id"],
                "measure": "修订目标表",
                "responsible": "张三",
                "completed_on": "2022-03-01",
                "progress": "done",
                **item_overrides,
            }
            for item in body["items"]
        ],
    }


def test_whole_rectification_path_through_the_api_as_real_role_users(district, findings, settings):
    d = district
    finance, staff, supervisor = client_for(d.finance), client_for(d.staff_a), client_for(d.supervisor)

    created = issue(d, findings)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "issued" and body["department"] == d.dept_a.pk and body["actions"] == []
    assert [i["requirement"] for i in body["items"]] == ["一个月内细化", "补齐材料"]
    assert body["deadline"] == body["original_deadline"] and body["overdue"] is False
    assert issue(d, findings).status_code == 400  # each finding once

    assert staff.get(url(body)).json()["actions"] == ["acknowledge", "extension"]
    assert staff.get(url(body)).json()["transitions"] == [
        {"name": "acknowledge", "label": "签收整改通知", "needs_reason": False, "extension": None}
    ]
    assert staff.put(url(body, "report"), report(body), format="json").status_code == 409  # not acknowledged yet
    r = staff.post(url(body, "acknowledge"))
    assert r.status_code == 200 and r.json()["status"] == "acknowledged" and r.json()["acknowledged_at"]
    assert staff.post(url(body, "acknowledge")).status_code == 409
    body = r.json()

    early = staff.post(url(body, "submit"))
    assert early.status_code == 400 and any(k.endswith(".measure") for k in early.json())
    bad = staff.put(url(body, "report"), report(body, completed_on="明天", progress="maybe"), format="json")
    assert bad.status_code == 400
    item_id = body["items"][0]["id"]
    assert f"items.{item_id}.completed_on" in bad.json() and f"items.{item_id}.progress" in bad.json()
    saved = staff.put(url(body, "report"), report(body), format="json")
    assert saved.status_code == 200 and saved.json()["items"][0]["measure"] == "修订目标表"
    assert saved.json()["items"][0]["progress_display"] == "已完成"
    stale = staff.put(url(body, "report"), report(body), format="json")  # the old revision
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    body = saved.json()

    evidence_url = url(body, f"items/{item_id}/evidence")
    exe = staff.post(evidence_url, {"file": SimpleUploadedFile("目标表.pdf", EXE)})
    assert exe.status_code == 400 and "只接受 PDF" in exe.json()["file"][0]
    settings.JIXIAO = {**settings.JIXIAO, "UPLOAD_MAX_BYTES": 1024 * 1024}
    big = staff.post(evidence_url, {"file": SimpleUploadedFile("大.pdf", PDF + b"0" * (1024 * 1024))})
    assert big.status_code == 400 and "文件过大" in big.json()["file"][0]
    assert not Evidence.objects.exists()
    after = staff.get(url(body)).json()
    assert after["items"][0]["measure"] == "修订目标表" and after["revision"] == body["revision"]  # nothing lost
    assert client_for(d.staff_b).post(evidence_url, {"file": SimpleUploadedFile("a.pdf", PDF)}).status_code == 404
    assert finance.post(evidence_url, {"file": SimpleUploadedFile("a.pdf", PDF)}).status_code == 403
    up = staff.post(evidence_url, {"file": SimpleUploadedFile("目标表.pdf", PDF)})
    assert up.status_code == 201 and up.json()["kind"] == "pdf" and up.json()["size"] == len(PDF)
    assert up.json()["url"] == f"/rectifications/evidence/{up.json()['id']}/"
    extra = staff.post(evidence_url, {"file": SimpleUploadedFile("多余.pdf", PDF)}).json()
    assert staff.delete(url(body, f"evidence/{extra['id']}")).status_code == 204
    assert [e["name"] for e in staff.get(url(body)).json()["items"][0]["evidence"]] == ["目标表.pdf"]

    r = staff.post(url(body, "submit"))
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["actions"] == []
    assert staff.delete(url(body, f"evidence/{up.json()['id']}")).status_code == 409
    assert finance.get(url(body)).json()["actions"] == ["review"]
    assert {(t["name"], t["needs_reason"]) for t in finance.get(url(body)).json()["transitions"]} == {
        ("verify", False),
        ("reject", True),
    }
    assert staff.post(url(body, "review"), {"verify": True}, format="json").status_code == 403
    no_reason = finance.post(url(body, "review"), {"verify": False}, format="json")
    assert no_reason.status_code == 400 and "comment" in no_reason.json()
    r = finance.post(url(body, "review"), {"verify": False, "comment": "佐证不足"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "acknowledged" and r.json()["rejections"] == 1
    assert r.json()["review_comment"] == "佐证不足"

    deadline = r.json()["deadline"]
    short = staff.post(url(body, "extensions"), {"reason": "", "proposed_deadline": when(1)}, format="json")
    assert short.status_code == 400 and {"reason", "proposed_deadline"} <= set(short.json())
    ext = staff.post(url(body, "extensions"), {"reason": "需招标", "proposed_deadline": when(40)}, format="json")
    assert ext.status_code == 201 and ext.json()["status"] == "requested" and ext.json()["old_deadline"] == deadline
    decide = url(body, f"extensions/{ext.json()['id']}/decide")
    assert staff.post(decide, {"grant": True}, format="json").status_code == 403
    assert supervisor.get(url(body)).json()["transitions"] == [
        {"name": "grant", "label": "同意延期", "needs_reason": False, "extension": ext.json()["id"]},
        {"name": "refuse", "label": "不同意延期", "needs_reason": True, "extension": ext.json()["id"]},
    ]
    assert supervisor.post(decide, {"grant": False}, format="json").status_code == 400
    refused = supervisor.post(decide, {"grant": False, "comment": "期限足够"}, format="json")
    assert (
        refused.status_code == 200 and refused.json()["status"] == "refused" and refused.json()["new_deadline"] is None
    )
    assert supervisor.post(decide, {"grant": True}, format="json").status_code == 409
    assert staff.get(url(body)).json()["deadline"] == deadline

    ext2 = staff.post(url(body, "extensions"), {"reason": "仍需时间", "proposed_deadline": when(30)}, format="json")
    granted = supervisor.post(url(body, f"extensions/{ext2.json()['id']}/decide"), {"grant": True}, format="json")
    assert granted.status_code == 200 and granted.json()["status"] == "granted"
    detail = staff.get(url(body)).json()
    assert detail["deadline"] != detail["original_deadline"] and detail["deadline"] == granted.json()["new_deadline"]
    assert [x["status"] for x in detail["extensions"]] == ["refused", "granted"]

    assert staff.post(url(body, "submit")).status_code == 200
    r = finance.post(url(body, "review"), {"verify": True, "comment": "同意销号"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "verified" and r.json()["verified_by"] == d.finance.pk
    assert finance.post(url(body, "review"), {"verify": True}, format="json").status_code == 409


def test_issue_is_refused_with_field_errors_when_input_is_wrong(district, findings):
    past = issue(district, findings, deadline=when(-1))
    assert past.status_code == 400 and "整改期限必须晚于现在" in past.json()["deadline"][0]
    empty = issue(district, findings, findings=[], title="")
    assert empty.status_code == 400 and {"findings", "title"} <= set(empty.json())
    unknown = issue(district, findings, findings=[999999])
    assert unknown.status_code == 400 and "999999" in unknown.json()["findings"][0]
    assert not Rectification.objects.exists()
    default = issue(district, findings, deadline=None)
    assert default.status_code == 201


@pytest.mark.parametrize("name", ["staff_a", "leader_a", "supervisor", "auditor", "expert"])
def test_issue_is_403_when_not_the_finance_section(district, findings, name):
    response = client_for(getattr(district, name)).post(
        BASE, {"findings": [f.pk for f in findings], "title": "x", "deadline": when(10)}, format="json"
    )
    assert response.status_code == 403 and not Rectification.objects.exists()


def test_other_departments_and_outsiders_see_nothing(district, findings):
    body = issue(district, findings).json()
    for name in ("staff_b", "leader_b", "expert"):
        client = client_for(getattr(district, name))
        assert client.get(BASE).json() == [] or client.get(BASE).json().get("results", []) == []
        assert client.get(url(body)).status_code == 404
        assert client.post(url(body, "acknowledge")).status_code == 404
    for name in ("finance", "supervisor", "auditor", "staff_a", "leader_a"):
        listed = client_for(getattr(district, name)).get(BASE).json()
        rows = listed if isinstance(listed, list) else listed["results"]
        assert [row["id"] for row in rows] == [body["id"]]
    assert client_for().get(BASE).status_code in (401, 403)


def test_list_filters_and_query_count_stay_flat(district, findings):
    body = issue(district, findings[:1], deadline=when(2)).json()
    Rectification.objects.create(
        department=district.dept_b,
        title="已逾期",
        deadline=timezone.now() - timedelta(days=3),
        original_deadline=timezone.now() - timedelta(days=3),
        issued_by=district.finance,
    )
    finance = client_for(district.finance)

    def ids(query="") -> list[int]:
        data = finance.get(BASE + query).json()
        return [row["id"] for row in (data if isinstance(data, list) else data["results"])]

    overdue = ids("?due=overdue")
    assert len(overdue) == 1 and overdue[0] != body["id"]
    assert ids("?due=soon") == [body["id"]]
    assert ids(f"?department={district.dept_a.pk}") == [body["id"]]
    assert ids("?status=verified") == []

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert finance.get(BASE).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(5):
        Rectification.objects.create(
            department=district.dept_b,
            title=f"批量{i}",
            deadline=timezone.now() + timedelta(days=i + 1),
            original_deadline=timezone.now() + timedelta(days=i + 1),
            issued_by=district.finance,
        )
    assert count() == before


def test_due_soon_agrees_with_the_supervisors_board_when_deadlines_straddle_the_setting(district, settings):
    """One "due soon" (JIXIAO["REMINDERS"]["SOON_DAYS"]): the API's ?due=soon, the list's and
    the supervisors' board name the same rectifications — for the default 3 days and for
    another value."""
    from django.test import Client
    from django.urls import reverse

    from workflows.board_views import RECTIFICATION, SOON, board_keys

    now = timezone.now()
    made = {}
    for days in (1, 2.5, 4, 6, 9):
        made[days] = Rectification.objects.create(
            department=district.dept_a,
            title=f"{days} 天后到期",
            deadline=now + timedelta(days=days),
            original_deadline=now + timedelta(days=days),
            issued_by=district.finance,
        ).pk
    finance, supervisor = client_for(district.finance), Client()
    supervisor.force_login(district.supervisor)

    def api_soon() -> set[int]:
        data = finance.get(BASE + "?due=soon").json()
        return {row["id"] for row in (data if isinstance(data, list) else data["results"])}

    def board_soon() -> set[int]:
        return {pk for kind, pk, _due in board_keys({"state": SOON}, timezone.now()) if kind == RECTIFICATION}

    def list_soon() -> set[int]:
        page = supervisor.get(reverse("workflows:rectification_list") + "?due=soon").content.decode()
        return {pk for pk in made.values() if f"/rectifications/{pk}/" in page}

    assert settings.JIXIAO["REMINDERS"]["SOON_DAYS"] == 3
    assert api_soon() == board_soon() == list_soon() == {made[1], made[2.5]}

    settings.JIXIAO = {**settings.JIXIAO, "REMINDERS": {**settings.JIXIAO["REMINDERS"], "SOON_DAYS": 7}}
    assert api_soon() == board_soon() == list_soon() == {made[1], made[2.5], made[4], made[6]}
