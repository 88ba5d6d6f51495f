"""Two finance officers decide the same results application at the same instant, on
PostgreSQL (decision 0025): one accepts, the other overrides. Exactly one wins; the other is
told (409) and leaves no trace — one decision row, one audit row, the chain intact."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections

from accounts.roles import Role
from processes.api.errors import exception_handler
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, BudgetProject, ResultsDecision
from processes.services.audit import audit_verify
from processes.services.results import results_decide
from tests.processes.test_results_decision import continuing

from ..factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5


def test_one_decision_wins_when_two_officers_decide_at_once(district):
    second = make_user(Role.FINANCE_OFFICER)
    for n in range(ROUNDS):
        _, project = continuing(district, "fair", code=f"PG-RA-{n}", amount="1000000.00")
        barrier = threading.Barrier(2)
        results: list[BaseException | None] = [None, None]

        def run(i: int, project_pk: int = project.pk, barrier=barrier, results=results) -> None:
            try:
                fresh = BudgetProject.objects.get(pk=project_pk)
                barrier.wait(timeout=30)
                if i == 0:
                    results_decide(project=fresh, actor=district.finance, accept=True)
                else:
                    results_decide(project=fresh, actor=second, accept=False, amount="950000", reason="刚性支出")
            except Exception as exc:  # inspected below
                results[i] = exc
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a racer never finished (deadlock?)"

        errors = [r for r in results if r is not None]
        assert len(errors) == 1 and isinstance(errors[0], ActionNotAllowed), results
        assert exception_handler(errors[0], {}).status_code == 409
        decision = ResultsDecision.objects.get(project=project)
        winner = results.index(None)
        assert decision.decided_amount == (Decimal("900000.00") if winner == 0 else Decimal("950000.00"))
        audited = AuditEvent.objects.filter(
            object_type="processes.resultsdecision", action__in=["results_accept", "results_override"]
        )
        assert audited.filter(object_id=str(decision.pk)).count() == 1
    assert ResultsDecision.objects.count() == ROUNDS
    assert audit_verify() is None
