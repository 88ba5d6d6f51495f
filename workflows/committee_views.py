"""Screens of the committee's review opinions 审议意见 (issue 19): the finance section
records an opinion with its items; each assignee (a department, or the finance bureau) sees
its items, responds with a text and evidence files; the finance section accepts or returns.
The year's 落实情况 table (screen, XLSX, print) is reports/committee.py.

Errors: a refused input 400 with the form as typed, a wrong state 409, a wrong role 403, an
item the user may not see 404 (processes.committee_selectors)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Department
from processes.committee_selectors import item_get_for, items_visible_to
from processes.errors import ActionNotAllowed
from processes.files import file_response
from processes.models import CommitteeEvidence, CommitteeOpinionItem
from processes.permissions.committee import can_read_all, can_record, can_respond
from processes.services import committee as svc
from processes.states import OpinionItemStatus
from processes.transitions import available

PAGE_SIZE = 50
#: how many item rows the recording form offers (more are added by recording again)
ITEM_ROWS = 8


def _may_list(user) -> bool:
    return can_read_all(user) or user.has_perm("processes.respond_committee_opinion")


@login_required
@require_GET
def committee_items(request: HttpRequest) -> HttpResponse:
    """审议意见交办: the items the user answers for or reads, open ones first by deadline."""
    if not _may_list(request.user):
        raise PermissionDenied(_("您没有查看人大审议意见的权限。"))
    rows = items_visible_to(request.user).order_by(  # type: ignore[arg-type]
        Case(When(status=OpinionItemStatus.ACCEPTED, then=Value(1)), default=Value(0), output_field=IntegerField()),
        "deadline",
        "pk",
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "workflows/committee/list.html",
        {"page": page, "now": timezone.now(), "may_record": can_record(request.user)},  # type: ignore[arg-type]
    )


def _form_items(post) -> list[dict[str, Any]]:
    rows = []
    for n in range(1, ITEM_ROWS + 1):
        row = {
            "requirement": post.get(f"requirement_{n}", ""),
            "department": post.get(f"department_{n}", ""),
            "deadline": post.get(f"deadline_{n}", ""),
        }
        if any(str(v).strip() for v in row.values()):
            rows.append(row)
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def committee_opinion_new(request: HttpRequest) -> HttpResponse:
    """录入审议意见: the opinion (year, title, text, session date) and up to ITEM_ROWS items."""
    if not can_record(request.user):  # type: ignore[arg-type]
        raise PermissionDenied(_("只有财政绩效科可以录入人大审议意见。"))
    year_raw = request.POST.get("fiscal_year") or request.GET.get("year") or str(timezone.localdate().year - 1)
    context: dict[str, Any] = {
        "departments": list(Department.objects.order_by("code")),
        "rows": _rows(request.POST if request.method == "POST" else {}, {}),
        "data": request.POST if request.method == "POST" else {"fiscal_year": year_raw},
        "errors": {},
    }
    if request.method == "POST":
        try:
            year = int(year_raw)
        except ValueError:
            year = 0
        try:
            opinion = svc.committee_opinion_record(
                actor=request.user,  # type: ignore[arg-type]
                fiscal_year=year,
                title=request.POST.get("title", ""),
                text=request.POST.get("text", ""),
                session_date=request.POST.get("session_date", ""),
                items=_form_items(request.POST),
            )
        except ValidationError as exc:
            context["errors"] = _flat_errors(exc)
            context["rows"] = _rows(request.POST, context["errors"])
            return render(request, "workflows/committee/new.html", context, status=400)
        messages.success(request, _("已录入审议意见并交办 %(n)s 项。") % {"n": opinion.items.count()})
        return redirect("reports:committee_opinions", year=opinion.fiscal_year)
    return render(request, "workflows/committee/new.html", context)


def _rows(post, errors: dict[str, str]) -> list[dict[str, Any]]:
    """The form's item rows as typed, each with its errors (the service numbers the rows it
    was given, the filled ones, from 1)."""
    rows = []
    filled = 0
    for n in range(1, ITEM_ROWS + 1):
        row = {f: post.get(f"{f}_{n}", "") for f in ("requirement", "department", "deadline")}
        row["n"] = n
        row["errors"] = {}
        if any(str(row[f]).strip() for f in ("requirement", "department", "deadline")):
            filled += 1
            row["errors"] = {f: errors.get(f"{f}_{filled}", "") for f in ("requirement", "department", "deadline")}
        rows.append(row)
    return rows


def _flat_errors(exc: ValidationError) -> dict[str, str]:
    """Field errors keyed as the service keys them (``items.3.deadline`` → ``deadline_3``)."""
    if not hasattr(exc, "error_dict"):
        return {"general": " ".join(exc.messages)}
    out = {}
    for key, errors in exc.message_dict.items():
        parts = key.split(".")
        name = f"{parts[2]}_{parts[1]}" if len(parts) == 3 else key
        out["general" if name == "__all__" else name] = " ".join(errors)
    return out


def _page(request, item: CommitteeOpinionItem, *, error: str = "", errors=None, status: int = 200, data=None):
    user = request.user
    actions = {d.name for d in available(item, user)}
    return render(
        request,
        "workflows/committee/item.html",
        {
            "item": item,
            "evidence": list(item.evidence.all()),
            "may_respond": "respond" in actions,
            "may_review": "accept" in actions,
            "error": error,
            "errors": errors or {},
            "data": data or {},
            "now": timezone.now(),
        },
        status=status,
    )


@login_required
@require_GET
def committee_item(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, item_get_for(request.user, pk))  # type: ignore[arg-type]


DONE = {
    "respond": gettext_lazy("落实情况已报送，等待财政绩效科验收。"),
    "accept": gettext_lazy("落实情况已验收。"),
    "send-back": gettext_lazy("落实情况已退回承办单位。"),
}


@login_required
@require_POST
def committee_item_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    item = item_get_for(request.user, pk)  # type: ignore[arg-type]
    user = request.user
    if action == "respond":
        if not can_respond(item, user):  # type: ignore[arg-type]
            raise PermissionDenied(_("只有承办单位可以报送落实情况。"))

        def call():
            return svc.committee_item_respond(
                item=item,
                actor=user,  # type: ignore[arg-type]
                response=request.POST.get("response", ""),
                files=request.FILES.getlist("files"),
            )
    elif action in ("accept", "send-back"):

        def call():
            return svc.committee_item_review(
                item=item,
                actor=user,  # type: ignore[arg-type]
                accept=action == "accept",
                comment=request.POST.get("comment", ""),
            )
    else:
        raise Http404
    try:
        call()
    except ActionNotAllowed as exc:
        return _page(request, item_get_for(user, pk), error=str(exc.message), status=409)  # type: ignore[arg-type]
    except ValidationError as exc:
        return _page(
            request,
            item_get_for(user, pk),  # type: ignore[arg-type]
            errors=_flat_errors(exc),
            error=" ".join(exc.messages),
            data=request.POST,
            status=400,
        )
    messages.success(request, str(DONE[action]))
    return redirect("workflows:committee_item", pk=pk)


@login_required
@require_GET
def committee_evidence(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence file, to those who may see its item (never a public URL)."""
    evidence = get_object_or_404(CommitteeEvidence, pk=pk)
    item_get_for(request.user, evidence.item_id)  # type: ignore[arg-type]
    return file_response(evidence.file, filename=evidence.name or None)
