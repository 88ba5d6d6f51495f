"""Third-party agencies managed (issue 19 §4): the finance section returns a final report
for rework with a reason — the agency told, the report back in its hands, audited; the
wrong role and the wrong status refused with nothing changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, CommissionedEvaluation
from processes.services import commissioned as svc
from processes.states import EvaluationStatus
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
