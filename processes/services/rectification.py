"""The one writer of rectifications 整改 (DESIGN §3.6).

The finance section issues a notice for one or more findings of one evaluation (or
monitoring report) to their department, with a deadline (default: settings). The
department acknowledges it, reports per finding — measure, person responsible, completion
date, how far — with evidence files, and submits; the finance section verifies it (closed,
销号) or rejects it back with reasons. The department may ask for a later deadline; a
supervisor grants (the deadline moves, the old one stays on record) or refuses.

Every state change goes through processes.transitions.apply with the transition's
declaration on the model (who may, the role recorded, who is told); the writes that move
no state (issuing, the report draft, evidence, an extension request) lock with
transitions.lock and write their own audit row. Who may: processes.permissions.
rectification; who is told: processes.notices.rectification.

Locks: project row (if any) → rectification row → extension row → audit chain head.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.roles import Role
from notifications.services import Message

from .. import transitions
from ..errors import ActionNotAllowed, Conflict
from ..files import check_upload
from ..models import (
    BudgetProject,
    DeadlineExtension,
    Evidence,
    Finding,
    Rectification,
    RectificationItem,
)
from ..notices import rectification as notices
from ..notices.rectification import (  # noqa: F401  (the message ids, imported from here by callers)
    EXTENSION_GRANTED,
    EXTENSION_REFUSED,
    EXTENSION_REQUESTED,
    ISSUED,
    REJECTED,
    SUBMITTED,
    VERIFIED,
    rectification_people,
)
from ..permissions.rectification import can_decide_extension, can_fill, can_issue
from ..states import ExtensionStatus, ItemProgress, ProjectStage, RectificationStatus
from .audit import audit_record
from .projects import project_system_transition
from .records import save_versioned

__all__ = [
    "can_decide_extension",
    "can_fill",
    "can_issue",
    "default_deadline",
    "evidence_add",
    "evidence_add_all",
    "evidence_remove",
    "extension_decide",
    "extension_request",
    "rectification_acknowledge",
    "rectification_issue",
    "rectification_people",
    "rectification_report_save",
    "rectification_review",
    "rectifications_issue",
    "rectification_submit",
]

MAX_TEXT = 2000
#: the roles in which a department fills in its rectification (the one it holds is recorded)
FILL_ROLES = (Role.DEPT_STAFF, Role.DEPT_LEADER)

#: (item, uploaded file) pairs of a report
Uploads = Iterable[tuple[RectificationItem, UploadedFile]]


def default_deadline(now: datetime | None = None) -> datetime:
    days = settings.JIXIAO["RECTIFICATION"]["DEADLINE_DAYS"]
    return (now or timezone.now()) + timedelta(days=days)


def _editable(rectification: Rectification) -> None:
    """The report, its evidence: only while the department is rectifying (签收后、提交前)."""
    if rectification.status != RectificationStatus.ACKNOWLEDGED:
        raise ActionNotAllowed(
            _("整改当前为「%(status)s」，不能执行此操作。") % {"status": rectification.get_status_display()}
        )


def _record(rectification: Rectification, step: str, *, actor: User, role: str, **kwargs: Any) -> None:
    """The audit row of a write that moves no state (and its notices, if ``messages``)."""
    messages = kwargs.pop("messages", None)
    state = kwargs.pop("from_state", rectification.status)
    transitions.record(
        transitions.Step(
            obj=rectification,
            name=step,
            actor=actor,
            role=role,
            from_state=state,
            to_state=rectification.status,
            comment=kwargs.pop("comment", ""),
            detail=kwargs.pop("detail", {}),
        ),
        action=step,
        messages=messages or {},
    )


# -- issuing ---------------------------------------------------------------------------------


def _source_key(finding: Finding) -> tuple[str, int | None]:
    for name in ("self_evaluation_id", "recheck_id", "evaluation_id", "monitoring_report_id"):
        value = getattr(finding, name)
        if value is not None:
            return name, value
    return "", None


@transaction.atomic
def rectification_issue(
    *,
    actor: User,
    findings: Sequence[Finding],
    title: str,
    deadline: datetime | None = None,
    requirements: Mapping[int, str] | None = None,
) -> Rectification:
    """Issue one notice for ``findings`` — all of one evaluation (or report), hence of one
    department and project — each finding at most once, with ``deadline`` (default: the
    settings' days from now). ``requirements`` may restate a finding's requirement (by
    finding id). The project, if evaluated, moves to 整改中."""
    if not can_issue(actor):
        raise PermissionDenied(_("只有财政绩效科可以下达整改。"))
    errors: dict[str, str] = {}
    findings = list(findings)
    title = (title or "").strip()
    if not title:
        errors["title"] = _("请填写整改事项名称。")
    if not findings:
        errors["findings"] = _("请至少选择一个问题。")
    elif len({_source_key(f) for f in findings}) != 1:
        errors["findings"] = _("一份整改通知只能包含同一项评价（或监控报告）发现的问题。")
    deadline = deadline or default_deadline()
    if deadline <= timezone.now():
        errors["deadline"] = _("整改期限必须晚于现在。")
    taken = RectificationItem.objects.filter(finding__in=findings).values_list("finding_id", flat=True)
    if taken:
        errors["findings"] = _("所选问题中有 %(n)s 个已下达过整改。") % {"n": len(taken)}
    if errors:
        raise ValidationError(errors)
    first = findings[0]
    rectification = Rectification.objects.create(
        department_id=first.department_id,
        project_id=first.project_id,
        title=title[:200],
        deadline=deadline,
        original_deadline=deadline,
        issued_by=actor,
    )
    try:
        with transaction.atomic():
            RectificationItem.objects.bulk_create(_items_of(rectification, findings, requirements))
    except IntegrityError as exc:  # the same finding issued by someone else meanwhile
        raise Conflict(_("所选问题已被他人下达整改。")) from exc
    role = transitions.acting_role(actor, [Role.FINANCE_OFFICER])
    if rectification.project_id is not None:
        project = BudgetProject.objects.get(pk=rectification.project_id)
        if project.stage == ProjectStage.EVALUATED:
            project_system_transition(
                project=project,
                actor=actor,
                name="open_rectification",
                role=role,
                detail={"rectification": rectification.pk},
            )
    _record(
        rectification,
        "rectification_issue",
        actor=actor,
        role=role,
        from_state="",
        detail={"findings": [f.pk for f in findings], "deadline": deadline},
        messages=notices.issued(rectification, len(findings)),
    )
    return rectification


# -- issuing from many findings at once (issue 18, bulk actions) ------------------------------

#: The refusal of a finding already in a notice.
ALREADY_ISSUED = gettext_noop("该问题已下达过整改（%(title)s）。")
#: The job's phase while it writes the notices.
ISSUING = gettext_noop("下达整改通知")


def _notice_title(title: str, finding: Finding) -> str:
    """A bulk notice's title: the common title and the project (or department) it concerns."""
    subject = finding.project.name if finding.project is not None else finding.department.name
    return f"{title}：{subject}"[:200]


def rectifications_issue(
    *,
    actor: User,
    findings: Iterable[Finding],
    title: str,
    deadline: datetime | None = None,
    progress=None,
) -> transitions.BulkOutcome:
    """Issue notices for many findings at once: ONE notice per department and source (the
    evaluation or report the findings come from) with its findings as items — each notice
    the rows :func:`rectification_issue` writes for it (items copied from the findings, the
    project moved to 整改中 by its cascade, one audit row per notice) — and each department
    told once for all its notices. A finding already in a notice is refused with the
    notice's title and left as it is; so is one issued by someone else while this runs
    (the unique item per finding decides: its insert is retried without them).

    Returns the outcome over the findings: ``done`` the findings issued, ``refused`` the
    others with the reason. A constant number of statements whatever the number of
    findings and notices."""
    from .audit import audit_record_many

    if not can_issue(actor):
        raise PermissionDenied(_("只有财政绩效科可以下达整改。"))
    title = (title or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("请填写整改事项名称。")
    deadline = deadline or default_deadline()
    if deadline <= timezone.now():
        errors["deadline"] = _("整改期限必须晚于现在。")
    if errors:
        raise ValidationError(errors)
    wanted = [f.pk for f in findings]
    # read again with what the notices name (one query, whatever the caller read)
    by_pk = Finding.objects.select_related("project", "department").in_bulk(wanted)
    findings = [by_pk[pk] for pk in dict.fromkeys(wanted) if pk in by_pk]
    if progress is not None:
        progress.start(ISSUING, len(findings))
    outcome = transitions.BulkOutcome()
    role = transitions.acting_role(actor, [Role.FINANCE_OFFICER])
    with transaction.atomic():
        while True:
            taken = dict(
                RectificationItem.objects.filter(finding__in=[f.pk for f in findings]).values_list(
                    "finding_id", "rectification__title"
                )
            )
            ready = [f for f in findings if f.pk not in taken]
            groups: dict[tuple, list[Finding]] = {}
            for finding in ready:
                groups.setdefault((finding.department_id, _source_key(finding)), []).append(finding)
            try:
                with transaction.atomic():  # a savepoint: a finding issued meanwhile retries without it
                    notices_ = _issue_groups(list(groups.values()), actor=actor, title=title, deadline=deadline)
                break
            except IntegrityError:
                continue
        outcome.refused = [(f, _(ALREADY_ISSUED) % {"title": taken[f.pk]}) for f in findings if f.pk in taken]
        if not notices_:
            return outcome
        rectifications = [r for r, _group in notices_]
        evaluated = list(
            BudgetProject.objects.filter(
                pk__in={r.project_id for r in rectifications if r.project_id is not None},
                stage=ProjectStage.EVALUATED,
            )
        )
        first_of: dict[int | None, int] = {}
        for r in rectifications:
            first_of.setdefault(r.project_id, r.pk)
        moved = transitions.apply_many(
            evaluated,
            "open_rectification",
            actor=actor,
            role=role,
            detail=lambda project: {"rectification": first_of[project.pk]},
        )
        for project, reason in moved.refused:
            # a notice issued meanwhile for another source of the project moved it already;
            # anything else (it cannot happen: a close-out sees these findings) undoes it all
            if project.stage != ProjectStage.RECTIFYING:
                raise ActionNotAllowed(
                    _("项目「%(project)s」不能进入整改：%(reason)s") % {"project": project.name, "reason": reason}
                )
        sequence = audit_record_many(
            [
                {
                    "object_type": r._meta.label_lower,
                    "object_id": str(r.pk),
                    "object_repr": str(r),
                    "action": "rectification_issue",
                    "from_state": "",
                    "to_state": r.status,
                    "detail": {
                        **r.audit_detail(),
                        "findings": [f.pk for f in group],
                        "deadline": deadline,
                    },
                }
                for r, group in notices_
            ],
            actor=actor,
            role=role,
        )
        _tell_issued(notices_, actor=actor, event_key=f"audit:{sequence}")
        outcome.done = [f for _r, group in notices_ for f in group]
    if progress is not None:
        progress.advance(len(findings))
    return outcome


def _issue_groups(
    groups: list[list[Finding]], *, actor: User, title: str, deadline: datetime
) -> list[tuple[Rectification, list[Finding]]]:
    """One notice per group and its items: one INSERT each (IntegrityError if a finding was
    issued meanwhile)."""
    if not groups:
        return []
    rectifications = Rectification.objects.bulk_create(
        [
            Rectification(
                department_id=group[0].department_id,
                project_id=group[0].project_id,
                title=_notice_title(title, group[0]),
                deadline=deadline,
                original_deadline=deadline,
                issued_by=actor,
            )
            for group in groups
        ]
    )
    RectificationItem.objects.bulk_create(
        [item for r, group in zip(rectifications, groups, strict=True) for item in _items_of(r, group)]
    )
    return list(zip(rectifications, groups, strict=True))


def _items_of(
    rectification: Rectification, findings: Sequence[Finding], requirements: Mapping[int, str] | None = None
) -> list[RectificationItem]:
    """A notice's items: each finding's problem, basis and requirement (or the one restated)."""
    return [
        RectificationItem(
            rectification=rectification,
            finding=f,
            position=i,
            problem=f.problem,
            basis=f.basis,
            requirement=((requirements or {}).get(f.pk) or f.requirement).strip(),
        )
        for i, f in enumerate(findings, start=1)
    ]


def _tell_issued(notices_: list[tuple[Rectification, list[Finding]]], *, actor: User, event_key: str) -> None:
    """Each department's people told once: the notice itself if they have one, else one
    message naming all their notices."""
    from notifications.services import notify

    from ..notices import audiences_cached, bulk_message

    per_user: dict[User, list[tuple[Rectification, Message]]] = {}
    with audiences_cached([r for r, _group in notices_]):
        for r, group in notices_:
            for user, message in notices.issued(r, len(group)).items():
                if user != actor:
                    per_user.setdefault(user, []).append((r, message))
    if not per_user:
        return
    told: dict[User, Message] = {}
    urls: dict[User, str] = {}
    for user, items in per_user.items():
        if len(items) == 1:
            told[user] = items[0][1]
            urls[user] = items[0][0].get_absolute_url()
        else:
            told[user] = bulk_message(ISSUING, [r for r, _m in items], kind="task")
    notify(
        messages=told,
        event_key=event_key,
        url=reverse("workflows:rectification_list"),
        urls=urls,
        object_type=Rectification._meta.label_lower,
        object_id="",
    )


# -- the department's side ---------------------------------------------------------------------


def rectification_acknowledge(*, rectification: Rectification, actor: User) -> Rectification:
    """签收: the department takes the notice on; the finance section is told."""
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以签收整改通知。"))
    return transitions.apply(
        rectification,
        "acknowledge",
        actor=actor,
        before_save=lambda r: setattr(r, "acknowledged_at", timezone.now()),
    )


def _date(raw: Any, key: str, errors: dict[str, list[str]]) -> date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    parsed = parse_date(str(raw).strip()) if isinstance(raw, str) else None
    if parsed is None:
        errors.setdefault(key, []).append(_("请填写日期（年-月-日）。"))
    return parsed


def _save_items(
    rectification: Rectification, items: Iterable[Mapping[str, Any]], revision: int | None
) -> list[RectificationItem]:
    """Check and write the report's items (the rectification locked and editable)."""
    if revision is not None and int(revision) != rectification.revision:
        raise Conflict(_("整改报告已被他人修改，请刷新后重新填写。"))
    by_id = {item.pk: item for item in rectification.items.all()}
    errors: dict[str, list[str]] = {}
    changed: list[RectificationItem] = []
    for entry in items:
        try:
            item = by_id[int(entry.get("id"))]  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            errors.setdefault("items", []).append(_("整改问题无效。"))
            continue
        key = f"items.{item.pk}"
        for name in ("measure", "responsible"):
            if name in entry:
                text = str(entry.get(name) or "").strip()
                limit = 64 if name == "responsible" else MAX_TEXT
                if len(text) > limit:
                    errors.setdefault(f"{key}.{name}", []).append(_("最多 %(n)s 个字。") % {"n": limit})
                setattr(item, name, text)
        if "completed_on" in entry:
            item.completed_on = _date(entry.get("completed_on"), f"{key}.completed_on", errors)
        if "progress" in entry:
            progress = str(entry.get("progress") or "")
            if progress and progress not in ItemProgress.values:
                errors.setdefault(f"{key}.progress", []).append(_("请选择已完成、部分完成或未完成。"))
            item.progress = progress
        changed.append(item)
    if errors:
        raise ValidationError(errors)
    RectificationItem.objects.bulk_update(changed, ["measure", "responsible", "completed_on", "progress"])
    return changed


def _discard_on_failure(stored: list[Evidence]) -> None:
    """Files written for a step that rolled back go too (no orphan on disk)."""
    for evidence in stored:
        evidence.file.delete(save=False)


def rectification_report_save(
    *,
    rectification: Rectification,
    actor: User,
    items: Iterable[Mapping[str, Any]],
    revision: int | None = None,
    uploads: Uploads = (),
    submit: bool = False,
) -> Rectification:
    """Save the department's report: per item (by id) the measure, the person responsible,
    the completion date and the progress; attach ``uploads`` as evidence; and, with
    ``submit``, submit it — one step: every problem at once, keyed ``items.<id>.<field>``
    (or ``file_<item id>``), and then nothing is changed and no file is kept."""
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以填报整改报告。"))
    role = transitions.acting_role(actor, FILL_ROLES)
    stored: list[Evidence] = []
    try:
        with transaction.atomic():
            rectification = cast(Rectification, transitions.lock(rectification))
            _editable(rectification)
            _save_items(rectification, items, revision)
            save_versioned(rectification)
            audit_record(
                obj=rectification,
                action="rectification_report_edit",
                actor=actor,
                role=role,
                from_state=rectification.status,
                to_state=rectification.status,
                detail={"revision": rectification.revision},
            )
            for item, upload in uploads:
                stored.append(
                    _evidence_add(
                        rectification, item=item, actor=actor, role=role, file=upload, field=f"file_{item.pk}"
                    )
                )
            if submit:
                rectification = _submit(rectification, actor=actor)
    except Exception:
        _discard_on_failure(stored)
        raise
    return rectification


def _evidence_add(
    rectification: Rectification, *, item: RectificationItem, actor: User, role: str, file, field: str = "file"
) -> Evidence:
    """Attach ``file`` to ``item`` of ``rectification`` (locked, editable); a refused file
    is a ValidationError keyed ``field``."""
    if item.rectification_id != rectification.pk:
        raise ValidationError({field: _("整改问题无效。")})
    kind = check_upload(file, field=field)
    name = (getattr(file, "name", "") or "evidence")[-200:]
    evidence = Evidence(item=item, name=name, kind=kind, size=file.size, uploaded_by=actor)
    evidence.file.save(name, file, save=False)
    try:
        evidence.save()
        audit_record(
            obj=rectification,
            action="evidence_add",
            actor=actor,
            role=role,
            from_state=rectification.status,
            to_state=rectification.status,
            detail={"item": item.pk, "evidence": evidence.pk, "name": name, "size": evidence.size},
        )
    except Exception:
        evidence.file.delete(save=False)
        raise
    return evidence


def evidence_add(*, item: RectificationItem, actor: User, file) -> Evidence:
    """Attach a file to an item: PDF, image or Office, checked by content and size. A refused
    upload changes nothing."""
    return evidence_add_all(rectification=item.rectification, actor=actor, uploads=[(item, file)])[0]


def evidence_add_all(*, rectification: Rectification, actor: User, uploads: Uploads) -> list[Evidence]:
    """Attach each (item, file) of ``uploads``, all or none (a file refused or a failure
    leaves no row and no file)."""
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以上传佐证材料。"))
    role = transitions.acting_role(actor, FILL_ROLES)
    stored: list[Evidence] = []
    try:
        with transaction.atomic():
            rectification = cast(Rectification, transitions.lock(rectification))
            _editable(rectification)
            for item, upload in uploads:
                stored.append(_evidence_add(rectification, item=item, actor=actor, role=role, file=upload))
    except Exception:
        _discard_on_failure(stored)
        raise
    return stored


@transaction.atomic
def evidence_remove(*, evidence: Evidence, actor: User) -> None:
    rectification = evidence.item.rectification
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以删除佐证材料。"))
    rectification = cast(Rectification, transitions.lock(rectification))
    _editable(rectification)
    audit_record(
        obj=rectification,
        action="evidence_remove",
        actor=actor,
        role=transitions.acting_role(actor, FILL_ROLES),
        from_state=rectification.status,
        to_state=rectification.status,
        detail={"item": evidence.item_id, "evidence": evidence.pk, "name": evidence.name},
    )
    stored = evidence.file
    evidence.delete()
    transaction.on_commit(lambda: stored.delete(save=False), robust=True)


def _complete(rectification: Rectification) -> None:
    """A report is submitted whole: every item's measure, person responsible, progress and
    (for a finished one) completion date."""
    errors: dict[str, list[str]] = {}
    for item in rectification.items.all():
        key = f"items.{item.pk}"
        for name in ("measure", "responsible", "progress"):
            if not getattr(item, name):
                errors[f"{key}.{name}"] = [_("提交前请填写此项。")]
        if item.progress == ItemProgress.DONE and item.completed_on is None:
            errors[f"{key}.completed_on"] = [_("已完成的问题请填写完成时间。")]
    if errors:
        raise ValidationError(errors)


def _submit(rectification: Rectification, *, actor: User, locked: bool = True) -> Rectification:
    return transitions.apply(
        rectification,
        "submit",
        actor=actor,
        validate=_complete,
        before_save=lambda r: setattr(r, "submitted_at", timezone.now()),
        locked=locked,
    )


def rectification_submit(*, rectification: Rectification, actor: User) -> Rectification:
    """Submit the report (see ``_complete``); the finance section is asked to verify it."""
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以提交整改报告。"))
    return _submit(rectification, actor=actor, locked=False)


# -- the finance section's verification ----------------------------------------------------------


@transaction.atomic
def rectification_review(
    *, rectification: Rectification, actor: User, verify: bool, comment: str = ""
) -> Rectification:
    """验收: the finance section closes the rectification (销号), or rejects the report back
    to the department with reasons. The project closes with its last open rectification."""
    if not can_issue(actor):
        raise PermissionDenied(_("只有财政绩效科可以验收整改。"))
    comment = (comment or "").strip()
    if not verify and not comment and rectification.status == RectificationStatus.SUBMITTED:
        raise ValidationError({"comment": _("退回整改报告时请说明理由。")})
    if not verify:
        return transitions.apply(rectification, "reject", actor=actor, comment=comment, arguments={"comment": comment})

    def verified_by(r: Rectification) -> None:
        r.verified_by, r.verified_at = actor, timezone.now()

    rectification = transitions.apply(
        rectification,
        "verify",
        actor=actor,
        comment=comment,
        arguments={"comment": comment},
        before_save=verified_by,
    )
    if rectification.project_id is not None:
        _close_project_if_done(rectification, actor)
    return rectification


def _close_project_if_done(rectification: Rectification, actor: User) -> None:
    """The project is 已关闭 once none of its rectifications is open."""
    project = BudgetProject.objects.get(pk=rectification.project_id)
    still_open = Rectification.objects.filter(
        project=project,
        status__in=[RectificationStatus.ISSUED, RectificationStatus.ACKNOWLEDGED, RectificationStatus.SUBMITTED],
    ).exists()
    if project.stage == ProjectStage.RECTIFYING and not still_open:
        project_system_transition(
            project=project,
            actor=actor,
            name="close",
            role=transitions.acting_role(actor, [Role.FINANCE_OFFICER]),
            detail={"rectification": rectification.pk},
        )


# -- extensions --------------------------------------------------------------------------------


def extension_request(
    *, rectification: Rectification, actor: User, reason: str, proposed_deadline: datetime
) -> DeadlineExtension:
    """The department asks for a later deadline; supervisors are asked to decide. One pending
    request at a time."""
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以申请延期。"))
    with transaction.atomic():
        rectification = cast(Rectification, transitions.lock(rectification))
        if rectification.status not in (RectificationStatus.ISSUED, RectificationStatus.ACKNOWLEDGED):
            raise ActionNotAllowed(
                _("整改当前为「%(status)s」，不能执行此操作。") % {"status": rectification.get_status_display()}
            )
        errors: dict[str, str] = {}
        reason = (reason or "").strip()
        if not reason:
            errors["reason"] = _("请说明延期理由。")
        if proposed_deadline <= rectification.deadline:
            errors["proposed_deadline"] = _("申请的期限必须晚于现行整改期限 %(deadline)s。") % {
                "deadline": notices.when(rectification.deadline)
            }
        if rectification.extensions.filter(status=ExtensionStatus.REQUESTED).exists():
            errors["reason"] = _("已有一份延期申请待审批。")
        if errors:
            raise ValidationError(errors)
        extension = DeadlineExtension.objects.create(
            rectification=rectification,
            reason=reason,
            proposed_deadline=proposed_deadline,
            old_deadline=rectification.deadline,
            requested_by=actor,
        )
        _record(
            rectification,
            "extension_request",
            actor=actor,
            role=transitions.acting_role(actor, FILL_ROLES),
            comment=reason,
            detail={"extension": extension.pk, "proposed": proposed_deadline},
            messages=notices.extension_requested(extension),
        )
    return extension


def extension_decide(
    *, extension: DeadlineExtension, actor: User, grant: bool, comment: str = "", new_deadline: datetime | None = None
) -> DeadlineExtension:
    """A supervisor grants the extension — the deadline moves to ``new_deadline`` (default:
    the one asked for); the old one stays on the request — or refuses it."""
    if not can_decide_extension(actor):
        raise PermissionDenied(_("只有分管领导可以审批整改延期。"))
    comment = (comment or "").strip()
    with transaction.atomic():
        rectification = cast(Rectification, transitions.lock(extension.rectification))
        extension = cast(DeadlineExtension, transitions.lock(extension))
        if extension.status != ExtensionStatus.REQUESTED:
            raise Conflict(_("该延期申请已审批。"))
        if not grant:
            if not comment:
                raise ValidationError({"comment": _("不同意延期时请说明理由。")})
            return transitions.apply(
                extension,
                "refuse",
                actor=actor,
                comment=comment,
                arguments={"comment": comment},
                before_save=lambda e: _decided(e, actor),
                locked=True,
            )
        new_deadline = new_deadline or extension.proposed_deadline
        if new_deadline <= rectification.deadline:
            raise ValidationError({"new_deadline": _("新的整改期限必须晚于现行期限。")})

        def move_deadline(e: DeadlineExtension) -> None:
            _decided(e, actor)
            rectification.deadline = new_deadline
            save_versioned(rectification)

        return transitions.apply(
            extension,
            "grant",
            actor=actor,
            comment=comment,
            arguments={"new_deadline": new_deadline, "comment": comment},
            before_save=move_deadline,
            locked=True,
        )


def _decided(extension: DeadlineExtension, actor: User) -> None:
    extension.decided_by, extension.decided_at = actor, timezone.now()
