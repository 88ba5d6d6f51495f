"""The one write of the reports app: a finance officer approves a year's summary tables
(附件1–3) for the public page (信息公开, DESIGN §3.7)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from processes.errors import ActionNotAllowed, Conflict
from processes.notices.rectification import disclosed
from processes.permissions import holds
from processes.services.audit import audit_and_notify
from processes.transitions import acting_role

from .figures import annual_report, report_json
from .models import ReportDisclosure
from .selectors import valid_year, year_has_data

DISCLOSE_PERMISSION = "processes.approve_disclosure"
NOTE_MAX_LENGTH = 500


def can_disclose(user: User) -> bool:
    return holds(user, DISCLOSE_PERMISSION)


def already_disclosed_message(year: int) -> str:
    return _("%(year)s 年度汇总表已批准公开，不能重复批准。") % {"year": year}


@transaction.atomic
def report_disclose(*, year: int, actor: User, note: str = "") -> ReportDisclosure:
    """Approve ``year``'s summary tables for the public page.

        Writes the disclosure and an audit event (``disclose_report``) whose detail keeps the
        figures as they stood when approved (``report_json``). Every department's leaders and the
    supervisors are told (processes.notices.rectification.disclosed), with a link to the
    public page.

        Raises PermissionDenied unless the actor holds processes.approve_disclosure;
        ValidationError (``year``, ``note``) for a year without data or a note too long;
        ActionNotAllowed when the year was already disclosed (Conflict when another officer's
        approval of the same year committed first).
    """
    if not can_disclose(actor):
        raise PermissionDenied(_("只有财政绩效科可以批准汇总表公开。"))
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": _("说明不能超过 %(n)s 个字。") % {"n": NOTE_MAX_LENGTH}})
    if not valid_year(year) or not year_has_data(year):
        raise ValidationError({"year": _("%(year)s 年度没有可公开的数据。") % {"year": year}})
    if ReportDisclosure.objects.filter(fiscal_year=year).exists():
        raise ActionNotAllowed(already_disclosed_message(year))
    try:
        with transaction.atomic():
            disclosure = ReportDisclosure.objects.create(fiscal_year=year, approved_by=actor, note=note)
    except IntegrityError as exc:  # another officer's approval of the same year committed first
        raise Conflict(already_disclosed_message(year)) from exc
    audit_and_notify(
        obj=disclosure,
        action="disclose_report",
        actor=actor,
        role=acting_role(actor, [Role.FINANCE_OFFICER]),
        from_state="",
        to_state="disclosed",
        url=reverse("reports:public_report", args=[year]),
        comment=note,
        detail={"fiscal_year": year, "figures": report_json(annual_report(year))},
        told=disclosed(year),
    )
    return disclosure
