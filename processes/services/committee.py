"""The one writer of the committee's review opinions 审议意见 (issue 19).

The finance section records an opinion of the people's congress standing committee on a
year's report (its text, the session's date) with its items, each assigned to the finance
bureau or to a department with a deadline; the assignee is told. The assignee responds with
a text and evidence files (all or none; the rectification's upload checks); the finance
section accepts the response or returns it with a reason. Every state change goes through
processes.transitions.apply with the declaration on ``CommitteeOpinionItem``; recording
writes one audit row per item with its notice. Overdue items are reminded and escalated by
the sweep (processes.services.reminders) and listed on the supervisors' board.

Locks: item row → audit chain head.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accounts.models import Department, User

from .. import transitions
from ..files import check_upload
from ..models import CommitteeEvidence, CommitteeOpinion, CommitteeOpinionItem
from ..notices import committee as notices
from ..permissions.committee import can_record, can_respond

__all__ = ["committee_item_respond", "committee_item_review", "committee_opinion_record"]

MAX_TITLE = 200
MAX_TEXT = 4000
MAX_ITEMS = 50
MAX_FILES = 10
RESPOND_ROLES = ("dept_staff", "dept_leader", "finance_officer")


def _text(raw: Any, key: str, errors: dict[str, list[str]], *, limit: int = MAX_TEXT, required=True) -> str:
    value = (raw if isinstance(raw, str) else "").strip()
    if required and not value:
        errors[key] = [_("请填写此项。")]
    elif len(value) > limit:
        errors[key] = [_("最多 %(n)s 个字。") % {"n": limit}]
    return value


def _deadline(raw: Any, key: str, errors: dict[str, list[str]], now: datetime) -> datetime | None:
    """A deadline given as a date (the end of that day, Beijing time) or a date-time."""
    value: datetime | None = None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime.combine(raw, time(23, 59))
    elif isinstance(raw, str) and raw.strip():
        text = raw.strip()
        day = parse_date(text) if len(text) <= 10 else None
        value = datetime.combine(day, time(23, 59)) if day else parse_datetime(text)
    if value is None:
        errors[key] = [_("请填写有效的办理期限（YYYY-MM-DD）。")]
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value <= now:
        errors[key] = [_("办理期限应晚于现在。")]
        return None
    return value


@transaction.atomic
def committee_opinion_record(
    *,
    actor: User,
    fiscal_year: int,
    title: str,
    text: str,
    session_date: Any,
    items: Sequence[Mapping[str, Any]],
    now: datetime | None = None,
) -> CommitteeOpinion:
    """录入审议意见 with its items (``requirement``, ``department`` — a Department, its id, or
    None/"" for the finance bureau —, ``deadline``): all or nothing, errors keyed
    ``title``/``text``/``session_date``/``items``/``items.<n>.<field>`` (n from 1)."""
    if not can_record(actor):
        raise PermissionDenied(_("只有财政绩效科可以录入人大审议意见。"))
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    title = _text(title, "title", errors, limit=MAX_TITLE)
    text = _text(text, "text", errors)
    if not isinstance(fiscal_year, int) or not 1990 <= fiscal_year <= 2100:
        errors["fiscal_year"] = [_("年度无效。")]
    session = session_date if isinstance(session_date, date) else parse_date(str(session_date or "").strip())
    if session is None:
        errors["session_date"] = [_("请填写有效的审议会议日期（YYYY-MM-DD）。")]
    elif session > timezone.localdate(now):
        errors["session_date"] = [_("审议会议日期不能晚于今天。")]
    items = list(items)
    if not items:
        errors["items"] = [_("请至少填写一项审议意见事项。")]
    elif len(items) > MAX_ITEMS:
        errors["items"] = [_("审议意见事项最多 %(n)s 项。") % {"n": MAX_ITEMS}]
    wanted_departments = {
        int(raw["department"])
        for raw in items[:MAX_ITEMS]
        if isinstance(raw.get("department"), int | str) and str(raw["department"]).isdigit()
    }
    departments = Department.objects.in_bulk(wanted_departments)
    rows: list[CommitteeOpinionItem] = []
    for n, raw in enumerate(items[:MAX_ITEMS], start=1):
        key = f"items.{n}"
        requirement = _text(raw.get("requirement"), f"{key}.requirement", errors)
        deadline = _deadline(raw.get("deadline"), f"{key}.deadline", errors, now)
        dept_raw = raw.get("department")
        department = None
        if isinstance(dept_raw, Department):
            department = dept_raw
        elif dept_raw not in (None, ""):
            department = departments.get(int(dept_raw)) if str(dept_raw).isdigit() else None
            if department is None:
                errors[f"{key}.department"] = [_("承办部门无效。")]
        rows.append(CommitteeOpinionItem(position=n, requirement=requirement, department=department, deadline=deadline))
    if errors:
        raise ValidationError(errors)
    assert session is not None
    opinion = CommitteeOpinion.objects.create(
        fiscal_year=fiscal_year, title=title, text=text, session_date=session, recorded_by=actor
    )
    for row in rows:
        row.opinion = opinion
    CommitteeOpinionItem.objects.bulk_create(rows)
    role = transitions.acting_role(actor, ["finance_officer"])
    for row in CommitteeOpinionItem.objects.filter(opinion=opinion).select_related("opinion", "department"):
        transitions.record(
            transitions.Step(
                obj=row,
                name="committee_item_assign",
                actor=actor,
                role=role,
                from_state="",
                to_state=row.status,
                detail={"deadline": row.deadline},
            ),
            action="committee_item_assign",
            messages=notices.assigned(row),
        )
    return opinion


def _discard(stored: list[CommitteeEvidence]) -> None:
    for evidence in stored:
        evidence.file.delete(save=False)


def committee_item_respond(
    *, item: CommitteeOpinionItem, actor: User, response: str, files: Iterable[Any] = ()
) -> CommitteeOpinionItem:
    """报送落实情况: the response text and evidence files, all or nothing (a refused file
    keeps no row, no file, and the item stays assigned)."""
    if not can_respond(item, actor):
        raise PermissionDenied(_("只有承办单位可以报送落实情况。"))
    errors: dict[str, list[str]] = {}
    response = _text(response, "response", errors)
    files = list(files)
    if len(files) > MAX_FILES:
        errors["files"] = [_("佐证材料最多 %(n)s 个文件。") % {"n": MAX_FILES}]
    if errors:
        raise ValidationError(errors)
    stored: list[CommitteeEvidence] = []
    try:
        with transaction.atomic():
            locked = cast(CommitteeOpinionItem, transitions.lock(item))
            transitions.check(locked, "respond", actor=actor)
            kinds = [check_upload(f, field="files") for f in files]
            for upload, kind in zip(files, kinds, strict=True):
                name = (getattr(upload, "name", "") or "evidence")[-200:]
                evidence = CommitteeEvidence(item=locked, name=name, kind=kind, size=upload.size, uploaded_by=actor)
                evidence.file.save(name, upload, save=False)
                stored.append(evidence)
                evidence.save()

            def responded_by(i: CommitteeOpinionItem) -> None:
                i.responded_by, i.responded_at = actor, timezone.now()

            return transitions.apply(
                locked,
                "respond",
                actor=actor,
                arguments={"response": response},
                before_save=responded_by,
                detail={"evidence": [e.pk for e in stored]},
                locked=True,
            )
    except Exception:
        _discard(stored)
        raise


@transaction.atomic
def committee_item_review(
    *, item: CommitteeOpinionItem, actor: User, accept: bool, comment: str = ""
) -> CommitteeOpinionItem:
    """验收 (accept) or 退回 (return, reason required) an item's response."""
    if not can_record(actor):
        raise PermissionDenied(_("只有财政绩效科可以验收审议意见落实情况。"))
    comment = (comment or "").strip()
    if len(comment) > MAX_TEXT:
        raise ValidationError({"comment": [_("最多 %(n)s 个字。") % {"n": MAX_TEXT}]})
    if not accept:
        return transitions.apply(item, "send_back", actor=actor, comment=comment, arguments={"comment": comment})

    def accepted_by(i: CommitteeOpinionItem) -> None:
        i.accepted_by, i.accepted_at = actor, timezone.now()

    return transitions.apply(
        item, "accept", actor=actor, comment=comment, arguments={"comment": comment}, before_save=accepted_by
    )
