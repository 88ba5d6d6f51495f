"""结果应用 on the project page (decision 0025): the proposal the grade of record makes for a
continuing project's request, and the finance officer's decision — accept it, or override
it with an amount and a required reason (processes.services.results)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from processes.errors import ActionNotAllowed
from processes.models import BudgetProject, ResultsDecision
from processes.permissions import can_intake
from processes.results_ledger import DECIDABLE, proposal_for
from processes.selectors import project_get_for
from processes.services.results import results_decide


class ResultsDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("决定"),
        choices=[("accept", gettext_lazy("采纳建议")), ("override", gettext_lazy("不采纳，调整安排金额"))],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(
        label=gettext_lazy("决定安排金额（元）"), required=False, max_digits=16, decimal_places=2, min_value=0
    )
    reason = forms.CharField(
        label=gettext_lazy("调整理由（不采纳时必填）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        data = super().clean() or {}
        if data.get("decision") == "override":
            if data.get("amount") is None and "amount" not in self.errors:
                self.add_error("amount", _("请填写决定安排金额。"))
            if not (data.get("reason") or "").strip():
                self.add_error("reason", _("不采纳建议时必须填写理由。"))
        return data

    def add_service_errors(self, error: ValidationError) -> None:
        for field, errors in error.message_dict.items():
            self.add_error(field if field in self.fields else None, errors)


def results_decision_context(project: BudgetProject, user, *, form: ResultsDecisionForm | None = None) -> dict:
    """What the project page shows of the results application: the decision once taken,
    else the live proposal (to the finance section, and to the department for its own
    project), with the form for a finance officer while the project may be decided."""
    decision = ResultsDecision.objects.filter(project=project).select_related("decided_by", "graded_project").first()
    if decision is not None:
        return {"decision": decision}
    if project.stage not in DECIDABLE:
        return {}
    proposal = proposal_for(project)
    if proposal is None:
        return {}
    can_decide = can_intake(project, user)
    return {
        "proposal": proposal,
        "can_decide": can_decide,
        "form": form or (ResultsDecisionForm(initial={"amount": proposal.proposed_amount}) if can_decide else None),
    }


@login_required
@require_POST
def project_results_decide(request, pk):
    """The finance officer's decision; a refusal (409) or a form error (400) changes nothing."""
    from .views import _project_page

    user = request.user
    project = project_get_for(user, pk)
    if not can_intake(project, user):
        raise PermissionDenied(_("只有财政绩效科可以决定结果应用。"))
    form = ResultsDecisionForm(request.POST)
    if not form.is_valid():
        return _project_page(request, project, results_form=form, status=400)
    data = form.cleaned_data
    try:
        results_decide(
            project=project,
            actor=user,
            accept=data["decision"] == "accept",
            amount=data.get("amount"),
            reason=data.get("reason") or "",
        )
    except ActionNotAllowed as exc:
        return _project_page(request, project_get_for(user, pk), error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _project_page(request, project_get_for(user, pk), results_form=form, status=400)
    messages.success(request, _("结果应用决定已记录。"))
    return redirect("workflows:project_detail", pk=project.pk)
