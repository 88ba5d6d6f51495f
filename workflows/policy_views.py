"""Screens of 重大政策事前评估 (decision 0027): the list of major policies, registering one,
and its page, from which its pre-assessment is started on the one pre-assessment screen
(workflows.pre_assessment_views, with the policy's carrier project)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from processes.models import PreAssessment
from processes.permissions import holds
from processes.selectors import policy_get_for, policy_list_for
from processes.services import policy as policy_services
from processes.states import ProjectStage

from .policy_forms import PolicyForm


def _with_reviews(qs):
    return qs.prefetch_related(
        "co_departments",
        Prefetch(
            "project__pre_assessments",
            queryset=PreAssessment.objects.select_related("agency").order_by("-pk"),
            to_attr="reviews",
        ),
    )


@login_required
def policy_list(request):
    """重大政策: those the user may see, with their latest pre-assessment (no per-row query)."""
    user = request.user
    policies = _with_reviews(policy_list_for(user)).order_by("-start_year", "name")
    return render(
        request,
        "workflows/policy/list.html",
        {"policies": policies, "can_register": policy_services.can_register(user)},
    )


@login_required
def policy_new(request):
    """登记重大政策 (finance section): the carrier project enters 事前绩效评估 at once."""
    user = request.user
    if not policy_services.can_register(user):
        raise PermissionDenied(_("只有财政绩效科可以登记重大政策。"))
    form = PolicyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                policy = policy_services.policy_register(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("已登记重大政策「%(name)s」。") % {"name": policy.name})
                return redirect("workflows:policy_detail", pk=policy.pk)
    return render(request, "workflows/policy/form.html", {"form": form}, status=status)


@login_required
def policy_detail(request, pk):
    user = request.user
    policy = policy_get_for(user, pk)
    reviews = list(policy.project.pre_assessments.select_related("agency").order_by("-pk"))
    can_begin = (
        holds(user, "processes.start_pre_assessment")
        and policy.project.stage == ProjectStage.PRE_ASSESSMENT
        and not any(r.status not in ("confirmed", "cancelled") for r in reviews)
    )
    return render(
        request,
        "workflows/policy/detail.html",
        {"policy": policy, "reviews": reviews, "can_begin": can_begin},
    )
