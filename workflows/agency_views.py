"""Third-party agencies managed (issue 19 §4): the year's framework commission (整体委托)
screen. The finance section sets it; an agency's staff see the years contracted to their
agency; everyone else is refused."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.roles import Role
from processes.models import FrameworkCommission
from processes.services import agencies as svc

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
