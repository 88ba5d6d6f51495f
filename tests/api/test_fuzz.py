"""API fuzzing (issue 16, decision 0014): schemathesis generates requests for every
operation of /api/schema/ and sends them in-process (WSGI) as three roles — department
staff, finance officer, agency — against a database of factory data. Every response must
pass the checks: no server error, the documented status codes, the response body valid
against its schema. Bounded (FUZZ_EXAMPLES per operation, no deadline) and derandomized,
so a run is reproducible; ``make fuzz`` runs this module alone.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from processes.states import ProjectStage
from tests.factories import AgencyFactory
from workflows.services import campaign_launch, monitoring_round_open

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
ROLES = ["staff_a", "finance", "agency_staff"]


@pytest.fixture
def world(district):
    """Objects for the ids the generator tries (1, 2, …): projects at several stages, a
    self-evaluation campaign, a monitoring round, an agency."""
    agency = AgencyFactory(name="广州某会计师事务所")
    district.agency_staff.agency = agency
    district.agency_staff.save(update_fields=["agency"])
    district.project(ProjectStage.DRAFT)
    for _ in range(2):
        district.project(ProjectStage.EXECUTING)
    district.project(ProjectStage.EXECUTING, dept="b")
    due = timezone.now() + timedelta(days=20)
    campaign_launch(actor=district.finance, fiscal_year=2021, due_at=due)
    monitoring_round_open(actor=district.finance, fiscal_year=2021, end_month=6, due_at=due)
    return district


def fuzz(schema, operation, headers: dict[str, str]) -> list[str]:
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case) -> None:
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # every failing operation is reported, not only the first
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
            raise

    try:
        run()
    except BaseException as exc:  # hypothesis re-raises schemathesis's FailureGroup
        if not failures:
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
    return failures[:1]


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_without_server_error_or_schema_violation_when_fuzzed(world, role):
    user = getattr(world, role)
    token, _ = Token.objects.get_or_create(user=user)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    headers = {"Authorization": f"Token {token.key}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        failures += fuzz(schema, operation, headers)
    print(f"fuzz[{role}]: {operations} operations, {EXAMPLES} examples each, {len(failures)} failing")
    assert operations > 100
    assert not failures, "\n\n".join(failures)
