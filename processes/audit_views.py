"""审计日志: the auditor's own screen over the audit trail (issue 21, decision 0019)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .audit_trail import (
    DEFAULT_PAGE_SIZE,
    AuditFilterForm,
    event_row,
    export_xlsx,
    filter_events,
    last_verification,
    problem_label,
    record_verification,
)
from .files import xlsx_response
from .templatetags.jixiao import cst

VIEW_PERM = "processes.view_auditevent"
VERIFY_PERM = "processes.verify_audit"


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(_("只有审计管理员可以查看审计日志。"))


def _filters(request) -> tuple[AuditFilterForm, dict]:
    if request.GET:
        params = request.GET.copy()
        if not params.get("page_size"):
            params["page_size"] = str(DEFAULT_PAGE_SIZE)
        form = AuditFilterForm(params)
    else:
        form = AuditFilterForm(initial={"page_size": DEFAULT_PAGE_SIZE})
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data
    return form, {}


@login_required
def audit_trail(request):
    """The trail, newest first, filtered and paginated; the chain's last verification."""
    _require(request, VIEW_PERM)
    form, data = _filters(request)
    status = 400 if form.is_bound and not form.is_valid() else 200
    page_size = data.get("page_size") or DEFAULT_PAGE_SIZE
    paginator = Paginator(filter_events(data), page_size)
    page = paginator.get_page(request.GET.get("page"))
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    verification = last_verification()
    return render(
        request,
        "processes/audit/trail.html",
        {
            "form": form,
            "page": page,
            "rows": [(event, event_row(event)) for event in page.object_list],
            "query": urlencode(query),
            "verification": verification,
            "problem": problem_label(verification.reason) if verification and not verification.intact else "",
            "can_verify": request.user.has_perm(VERIFY_PERM),
        },
        status=status,
    )


@login_required
def audit_trail_xlsx(request):
    """The filtered trail as XLSX, with the screen's Chinese headers."""
    _require(request, VIEW_PERM)
    form, data = _filters(request)
    if form.is_bound and not form.is_valid():
        return audit_trail(request)
    stamp = cst(timezone.now(), "Ymd-His")
    return xlsx_response(
        export_xlsx(filter_events(data)),
        _("审计日志-%(stamp)s.xlsx") % {"stamp": stamp},
        fallback=f"audit-trail-{stamp}.xlsx",
    )


@login_required
@require_POST
def audit_verify_now(request):
    """Walk the whole chain now and store the result (审计管理员)."""
    _require(request, VERIFY_PERM)
    result = record_verification(request.user)
    if result.intact:
        messages.success(request, _("审计链完整：已校验至第 %(n)s 行。") % {"n": result.last_sequence})
    else:
        messages.error(
            request,
            _("审计链在第 %(n)s 行处被破坏：%(why)s")
            % {"n": result.bad_sequence or "—", "why": problem_label(result.reason)},
        )
    return redirect("processes:audit_trail")
