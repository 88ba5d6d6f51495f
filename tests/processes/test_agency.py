"""Third-party agencies managed (issue 19 §4): the finance section returns a final report
for rework with a reason — the agency told, the report back in its hands, audited; the
wrong role and the wrong status refused with nothing changed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Agency
from notifications.models import Notification
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, CommissionedEvaluation, DeliverableScore, FrameworkCommission
from processes.services import agencies as svc_agencies
from processes.services import commissioned as svc
from processes.states import EvaluationKind, EvaluationStatus
from tests.processes.test_commissioned import SCORES, actions, chain, notes, pdf, person, snapshot

pytestmark = pytest.mark.django_db
__all__ = ["chain"]  # the fixture, shared with test_commissioned


def test_final_report_goes_back_to_the_agency_with_the_reason_when_the_finance_section_returns_it(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    assert svc.available_actions(ev, chain.d.finance) == ["disclose", "return-final"]
    revision = ev.revision
    ev = svc.evaluation_return_final(evaluation=ev, actor=chain.d.finance, comment="结论与得分不一致，请修改")
    assert ev.status == EvaluationStatus.EXPERT_REVIEW
    assert ev.final_return_comment == "结论与得分不一致，请修改" and ev.finalized_at is None
    assert ev.revision == revision + 1
    assert "结论与得分不一致，请修改" in notes(chain.staff, ev)[-1]
    assert "结论与得分不一致，请修改" in notes(chain.staff2, ev)[-1]
    row = AuditEvent.objects.filter(object_type="processes.commissionedevaluation", object_id=str(ev.pk)).latest(
        "sequence"
    )
    assert row.action == "return_final" and row.actor == chain.d.finance and row.comment == "结论与得分不一致，请修改"
    # the report is in the agency's hands again: it finalizes anew (the panel has submitted)
    assert svc.available_actions(ev, chain.staff) == ["finalize"]
    assert svc.available_actions(ev, chain.d.finance) == []
    ev = svc.evaluation_finalize(
        evaluation=ev, actor=chain.staff, scores=SCORES, conclusion="修改后的结论", report=pdf("v2.pdf")
    )
    assert ev.status == EvaluationStatus.FINAL and ev.conclusion == "修改后的结论"
    assert actions(ev)[-3:] == ["finalize", "return_final", "finalize"]


def test_return_final_is_refused_with_nothing_changed_when_the_reason_is_empty(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    before = snapshot(ev)
    with pytest.raises(ValidationError) as refused:
        svc.evaluation_return_final(evaluation=ev, actor=chain.d.finance, comment="   ")
    assert "comment" in refused.value.message_dict and snapshot(ev) == before


@pytest.mark.parametrize(
    "name", ["staff", "staff2", "outsider_staff", "staff_a", "leader_a", "supervisor", "auditor", "expert", "deputy"]
)
def test_return_final_is_refused_when_not_the_finance_section(chain, name):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    before = snapshot(ev)
    with pytest.raises(PermissionDenied):
        svc.evaluation_return_final(evaluation=ev, actor=person(chain, name), comment="理由")
    assert snapshot(ev) == before


@pytest.mark.parametrize("status", [EvaluationStatus.EXPERT_REVIEW, EvaluationStatus.PUBLISHED])
def test_return_final_is_refused_when_the_report_is_not_final(chain, status):
    ev = chain.step(chain.commission_key(), status)
    before = snapshot(ev)
    with pytest.raises(ActionNotAllowed):
        svc.evaluation_return_final(evaluation=ev, actor=chain.d.finance, comment="理由")
    assert snapshot(ev) == before
    assert CommissionedEvaluation.objects.get(pk=ev.pk).status == status


# -- the year's framework commission (整体委托) -------------------------------------------------


def framework_rows():
    return list(FrameworkCommission.objects.values_list("fiscal_year", "agency_id", "revision"))


def test_commission_takes_the_years_framework_agency_when_none_is_named(chain):
    svc_agencies.framework_set(actor=chain.d.finance, fiscal_year=chain.project.fiscal_year, agency=chain.agency)
    assert "整体委托" in notes_of(chain.staff)[-1]
    ev = svc.evaluation_commission(
        actor=chain.d.finance,
        kind=EvaluationKind.KEY,
        agency=None,
        due_at=timezone.now() + timedelta(days=30),
        project=chain.project,
    )
    assert ev.agency == chain.agency
    row = AuditEvent.objects.get(action="framework_commission")
    assert row.actor == chain.d.finance and row.to_state == chain.agency.name


def test_commission_keeps_the_named_agency_when_the_year_has_another_framework_agency(chain):
    svc_agencies.framework_set(actor=chain.d.finance, fiscal_year=chain.project.fiscal_year, agency=chain.agency)
    ev = svc.evaluation_commission(
        actor=chain.d.finance,
        kind=EvaluationKind.KEY,
        agency=chain.other_agency,
        due_at=timezone.now() + timedelta(days=30),
        project=chain.project,
    )
    assert ev.agency == chain.other_agency


def test_commission_is_refused_when_no_agency_is_named_and_the_year_has_no_framework(chain):
    with pytest.raises(ValidationError) as refused:
        svc.evaluation_commission(
            actor=chain.d.finance,
            kind=EvaluationKind.KEY,
            agency=None,
            due_at=timezone.now() + timedelta(days=30),
            project=chain.project,
        )
    assert "agency" in refused.value.message_dict and not CommissionedEvaluation.objects.exists()


def test_changing_the_framework_agency_tells_both_agencies_when_the_year_was_contracted(chain):
    svc_agencies.framework_set(actor=chain.d.finance, fiscal_year=2021, agency=chain.agency, contract_no="HT-1")
    found = svc_agencies.framework_set(actor=chain.d.finance, fiscal_year=2021, agency=chain.other_agency)
    assert framework_rows() == [(2021, chain.other_agency.pk, 2)]
    assert found.contract_no == ""
    assert "其他机构" in notes_of(chain.staff)[-1]
    assert "整体委托给本机构" in notes_of(chain.outsider_staff)[-1]
    assert AuditEvent.objects.filter(action="framework_commission").count() == 2


@pytest.mark.parametrize("name", ["staff", "staff_a", "leader_a", "supervisor", "auditor", "expert", "deputy"])
def test_framework_set_is_refused_when_not_the_finance_section(chain, name):
    with pytest.raises(PermissionDenied):
        svc_agencies.framework_set(actor=person(chain, name), fiscal_year=2021, agency=chain.agency)
    assert framework_rows() == []


def test_framework_set_reports_every_problem_when_the_input_is_wrong(chain):
    chain.other_agency.status = Agency.Status.SUSPENDED
    chain.other_agency.save()
    with pytest.raises(ValidationError) as refused:
        svc_agencies.framework_set(
            actor=chain.d.finance, fiscal_year=1800, agency=chain.other_agency, contract_no="x" * 65
        )
    assert set(refused.value.message_dict) == {"fiscal_year", "agency", "contract_no"}
    assert framework_rows() == [] and not AuditEvent.objects.filter(action="framework_commission").exists()


def notes_of(user) -> list[str]:
    return [n.text for n in Notification.objects.filter(recipient=user).order_by("pk")]


# -- quality scores and the yearly rating ---------------------------------------------------


def test_finance_scores_each_handed_in_deliverable_and_the_agency_is_told(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    found = svc_agencies.quality_score(actor=chain.d.finance, evaluation=ev, kind="plan", score="85", comment="规范")
    assert (found.agency, found.fiscal_year, found.score) == (chain.agency, ev.fiscal_year, Decimal("85"))
    assert "85" in notes_of(chain.staff)[-1]
    again = svc_agencies.quality_score(actor=chain.d.finance, evaluation=ev, kind="plan", score="80.5")
    assert again.pk == found.pk and again.revision == 2 and again.score == Decimal("80.5")
    rows = AuditEvent.objects.filter(action="quality_score", object_id=str(ev.pk))
    assert [(r.from_state, r.to_state) for r in rows.order_by("sequence")] == [("", "85.00"), ("85.00", "80.50")]


def test_yearly_rating_weighs_the_final_report_twice_when_computed(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    for kind, score in [("plan", "70"), ("draft", "80"), ("final", "95")]:
        svc_agencies.quality_score(actor=chain.d.finance, evaluation=ev, kind=kind, score=score)
    [row] = svc_agencies.agency_ratings(ev.fiscal_year)
    # (70 + 80 + 2 × 95) / 4 = 85.00 → 良
    assert row["agency"] == chain.agency and row["count"] == 3
    assert row["rating"] == Decimal("85.00") and row["grade"] == "good"
    assert row["means"] == {
        "plan": Decimal("70.00"),
        "draft": Decimal("80.00"),
        "final": Decimal("95.00"),
        "recheck": None,
    }
    assert svc_agencies.agency_ratings(ev.fiscal_year, agency_id=chain.other_agency.pk) == []


def test_quality_score_is_refused_with_nothing_written_when_not_handed_in_or_out_of_range(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FIELDWORK)
    with pytest.raises(ValidationError) as refused:
        svc_agencies.quality_score(actor=chain.d.finance, evaluation=ev, kind="draft", score="101")
    assert set(refused.value.message_dict) == {"kind", "score"}
    for bad in ["abc", "-1", "88.123", "NaN"]:
        with pytest.raises(ValidationError):
            svc_agencies.quality_score(actor=chain.d.finance, evaluation=ev, kind="plan", score=bad)
    assert not DeliverableScore.objects.exists() and not AuditEvent.objects.filter(action="quality_score").exists()


@pytest.mark.parametrize("name", ["staff", "staff_a", "leader_a", "supervisor", "auditor", "expert"])
def test_quality_score_is_refused_when_not_the_finance_section(chain, name):
    ev = chain.step(chain.commission_key(), EvaluationStatus.PLAN_APPROVED)
    with pytest.raises(PermissionDenied):
        svc_agencies.quality_score(actor=person(chain, name), evaluation=ev, kind="plan", score="90")
    assert not DeliverableScore.objects.exists()
