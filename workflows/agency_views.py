"""Third-party agencies managed (issue 19 §4): the year's framework commission (整体委托)
screen. The finance section sets it; an agency's staff see the years contracted to their
agency; everyone else is refused."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role
from processes.fiscal_years import check_fiscal_year
from processes.models import Deliverable, DeliverableScore, FrameworkCommission
from processes.services import agencies as svc
from processes.states import Grade

from .commissioned_forms import FrameworkCommissionForm


@login_required
def framework_commissions(request):
    user = request.user
    manage = svc.can_manage(user)
    if manage:
        rows = FrameworkCommission.objects.select_related("agency", "set_by")
    elif user.has_role(Role.AGENCY_STAFF) and user.agency_id is not None:
        rows = FrameworkCommission.objects.select_related("agency", "set_by").filter(agency_id=user.agency_id)
    else:
        raise PermissionDenied(_("只有财政绩效科和受托机构可以查看整体委托。"))
    form = None
    status = 200
    if request.method == "POST":
        if not manage:
            raise PermissionDenied(_("只有财政绩效科可以办理整体委托。"))
        form = FrameworkCommissionForm(request.POST)
        if form.is_valid():
            try:
                found = svc.framework_set(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("%(year)s 年度已整体委托给%(agency)s。")
                    % {"year": found.fiscal_year, "agency": found.agency.name},
                )
                return redirect("workflows:framework_commissions")
        status = 400
    elif manage:
        form = FrameworkCommissionForm()
    return render(
        request,
        "workflows/commissioned/frameworks.html",
        {"rows": list(rows.order_by("-fiscal_year")), "form": form},
        status=status,
    )


@login_required
def agency_ratings(request):
    """第三方机构年度质量评级: the finance section sees every agency's rating of a year, an
    agency's staff their own; ``?format=xlsx`` downloads it. Everyone else is refused
    (departments never see scores)."""
    user = request.user
    if svc.can_manage(user):
        scope = None
    elif user.has_role(Role.AGENCY_STAFF) and user.agency_id is not None:
        scope = user.agency_id
    else:
        raise PermissionDenied(_("只有财政绩效科和受托机构可以查看机构质量评级。"))
    years = list(DeliverableScore.objects.order_by("-fiscal_year").values_list("fiscal_year", flat=True).distinct())
    try:
        year = check_fiscal_year(request.GET["fiscal_year"]) if request.GET.get("fiscal_year") else None
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages))
    if year is None:
        year = years[0] if years else timezone.localdate().year
    rows = svc.agency_ratings(year, agency_id=scope)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            svc.ratings_xlsx(year, rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="agency-ratings-{year}.xlsx"'
        return response
    table = [
        {**row, "cells": [row["means"][k] for k in Deliverable.values], "grade_label": Grade(row["grade"]).label}
        for row in rows
    ]
    return render(
        request,
        "workflows/commissioned/ratings.html",
        {
            "year": year,
            "years": years,
            "rows": table,
            "kinds": Deliverable.labels,
            "weights": [(Deliverable(k).label, w) for k, w in svc.RATING_WEIGHTS.items()],
        },
    )
