"""The bulk actions' quick paths (issue 20) give exactly what the general ones gave: the
audit batch's canonical text and hashes, the per-column conversions of processes.bulk_insert,
and the rows and instances of ``insert_instances`` against ``bulk_create``."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, models, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from processes.bulk_insert import _converter, _sqlite_converter, _sqlite_value, insert_instances
from processes.models import AuditEvent, BudgetProject, MonitoringReport, MonitoringRound, SelfEvaluation
from processes.services.audit import (
    _canonical,
    _CanonicalBatch,
    _json_safe,
    _json_safe_fast,
    _plain,
    audit_record_many,
    audit_verify,
    compute_hash,
)
from processes.states import ProjectStage
from tests.processes.test_evaluation import launch

texts = st.text(max_size=30)  # any code point: quotes, controls, CJK, surrogates' neighbours
scalars = st.one_of(st.none(), st.booleans(), st.integers(), texts)
details = st.recursive(
    st.dictionaries(texts, scalars, max_size=4),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, ZoneInfo("Asia/Shanghai"), timezone(timedelta(hours=-3, minutes=-30))]),
)


@settings(max_examples=300, deadline=None)
@given(
    common=st.fixed_dictionaries(
        {
            "occurred_at": moments,
            "actor_id": st.one_of(st.none(), st.integers(min_value=1)),
            "actor_username": texts,
            "actor_role": texts,
            "ip": st.one_of(st.none(), st.ip_addresses().map(str)),
        }
    ),
    row=st.fixed_dictionaries(
        {
            "sequence": st.integers(min_value=1),
            "object_type": texts,
            "object_id": texts,
            "object_repr": texts,
            "action": texts,
            "from_state": texts,
            "to_state": texts,
            "comment": texts,
            "detail": details,
            "prev_hash": texts,
        }
    ),
)
def test_batch_canonical_text_is_the_single_events_when_any_values_are_given(common, row):
    batch = _CanonicalBatch(common)
    assert batch.of(**row) == _canonical(SimpleNamespace(**common, **row))


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(details, st.dictionaries(texts, st.floats(allow_nan=False), max_size=3)))
def test_json_safe_fast_equals_json_safe_when_any_detail_is_given(value):
    assert _json_safe_fast(value) == _json_safe(value)


def test_json_safe_fast_stringifies_like_json_safe_when_a_detail_holds_a_date_or_decimal():
    detail = {"due": datetime(2021, 5, 1, tzinfo=UTC), "amount": Decimal("1.50"), "stage": ProjectStage.EXECUTING}
    assert _json_safe_fast(detail) == _json_safe(detail)
    assert _json_safe_fast(detail)["amount"] == "1.50"


def test_state_members_are_stored_and_hashed_as_their_text_when_batched():
    plain = _plain(ProjectStage.EXECUTING)
    assert type(plain) is str and plain == "executing"
    assert _plain(7) == 7 and _plain(None) is None and _plain("x") == "x"
    common = {"occurred_at": AWARE[0], "actor_id": 1, "actor_username": "u", "actor_role": "r", "ip": None}
    row = dict.fromkeys(("object_type", "object_id", "object_repr", "action", "comment", "prev_hash"), "x")
    enum_row = {**row, "sequence": 1, "detail": {}, "from_state": ProjectStage.EXECUTING, "to_state": "evaluating"}
    text_row = {**enum_row, "from_state": "executing"}
    assert _CanonicalBatch(common).of(**enum_row) == _CanonicalBatch(common).of(**text_row)


def test_batch_rows_hash_and_chain_as_verify_reads_them_when_recorded(district):
    district.project(ProjectStage.SUBMITTED)  # a chain already under way
    events = [
        {
            "object_type": "processes.budgetproject",
            "object_id": i,
            "object_repr": f"2021-{i:05d} “引号” \\ 反斜杠 \u0001 {'长' * 300}",
            "action": "start_evaluation",
            "from_state": ProjectStage.EXECUTING,
            "to_state": ProjectStage.EVALUATING,
            "detail": {"campaign": 7, "nested": {"b": [1, "二", None], "a": True}} if i % 2 else {"campaign": 7},
        }
        for i in range(1, 6)
    ]
    before = AuditEvent.objects.count()
    with transaction.atomic():
        last = audit_record_many(events, actor=district.finance, role="finance_officer")
    rows = list(AuditEvent.objects.filter(sequence__gt=last - 5).order_by("sequence"))
    assert AuditEvent.objects.count() == before + 5 and rows[-1].sequence == last
    assert [r.object_id for r in rows] == ["1", "2", "3", "4", "5"]
    assert all(len(r.object_repr) == 255 for r in rows)
    assert all((r.from_state, r.to_state) == ("executing", "evaluating") for r in rows)
    assert rows[0].detail == {"campaign": 7} or rows[0].detail["nested"] == {"b": [1, "二", None], "a": True}
    for row in rows:
        assert row.hash == compute_hash(row)  # the stored row hashes to its stored hash
    assert audit_verify() is None


# -- processes.bulk_insert: one conversion per column ---------------------------------------

AWARE = [
    datetime(2021, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
    datetime(2021, 3, 4, 13, 6, 7, tzinfo=ZoneInfo("Asia/Shanghai")),
    datetime(2021, 12, 31, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
]
SAMPLES = [
    None,
    "",
    "文本",
    0,
    7,
    2**40,
    True,
    "12",
    ProjectStage.EXECUTING,
    Decimal("3"),
    *AWARE,
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field",
    [
        AuditEvent._meta.get_field("object_id"),
        AuditEvent._meta.get_field("comment"),
        AuditEvent._meta.get_field("sequence"),
        AuditEvent._meta.get_field("occurred_at"),
        AuditEvent._meta.get_field("actor"),
        SelfEvaluation._meta.get_field("project"),
        SelfEvaluation._meta.get_field("revision"),
        SelfEvaluation._meta.get_field("status"),
        MonitoringReport._meta.get_field("budget"),
    ],
    ids=lambda f: f"{f.model.__name__}.{f.name}",
)
def test_column_conversion_equals_the_fields_preparation_when_any_value_is_given(field):
    convert, sqlite = _converter(field), _sqlite_converter(field)
    for value in SAMPLES:
        try:
            expected = field.get_db_prep_save(value, connection)
        except Exception as error:  # the same refusal either way
            with pytest.raises(type(error)):
                convert(value)
            continue
        assert convert(value) == expected and type(convert(value)) is type(expected), value
        if connection.vendor == "sqlite":
            assert sqlite(value) == _sqlite_value(field, value), value


# -- insert_instances against bulk_create ----------------------------------------------------


def _columns(model: type[models.Model], pks, *, skip=("id", "created_at", "updated_at")):
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
    return list(model.objects.filter(pk__in=pks).order_by("pk").values_list(*names))


def test_inserted_instances_match_bulk_create_rows_when_reports_are_inserted(district, django_assert_num_queries):
    projects = [district.project(ProjectStage.EXECUTING, dept="ab"[i % 2]) for i in range(3)]
    one = MonitoringRound.objects.create(
        fiscal_year=2021, start_month=1, end_month=3, due_at=AWARE[0], title="轮次", opened_by=district.finance
    )
    two = MonitoringRound.objects.create(
        fiscal_year=2021, start_month=1, end_month=4, due_at=AWARE[0], title="轮次", opened_by=district.finance
    )
    budgets = [Decimal("1200000.00"), None, Decimal("0.05")]
    made = MonitoringReport.objects.bulk_create(
        [
            MonitoringReport(round=one, project_id=p.pk, budget=b, adjusted_budget=b)
            for p, b in zip(projects, budgets, strict=True)
        ]
    )
    with django_assert_num_queries(1):
        inserted = insert_instances(
            MonitoringReport(round=two),
            {"project_id": [p.pk for p in projects], "budget": budgets, "adjusted_budget": budgets},
        )
    made_rows = [r[1:] for r in _columns(MonitoringReport, [r.pk for r in made])]  # all but the round
    inserted_rows = [r[1:] for r in _columns(MonitoringReport, [r.pk for r in inserted])]
    assert inserted_rows == made_rows
    fresh = MonitoringReport.objects.filter(pk__in=[r.pk for r in inserted]).order_by("pk")
    assert [(r.pk, r.project_id, r.budget, r.status, r.revision) for r in inserted] == [
        (r.pk, r.project_id, r.budget, r.status, r.revision) for r in fresh
    ]
    assert len({r.created_at for r in fresh}) == 1 and fresh[0].created_at == inserted[0].created_at
    with django_assert_num_queries(0):  # saved, keyed, the round cached as bulk_create leaves it
        assert all(not r._state.adding and r._state.db == "default" and r.round is two for r in inserted)
    inserted[0].executed = Decimal("10")
    inserted[0].save(update_fields=["executed"])  # an ordinary saved instance
    assert MonitoringReport.objects.get(pk=inserted[0].pk).executed == Decimal("10")
    assert inserted[1].executed is None  # the copies share no state


def test_launch_issues_the_same_self_evaluations_when_inserted_in_one_statement(district):
    projects = [district.project(ProjectStage.EXECUTING, dept="ab"[i % 2]) for i in range(4)]
    launched = launch(district)
    rows = SelfEvaluation.objects.filter(campaign=launched.campaign).order_by("pk")
    assert [(e.pk, e.project_id, e.status, e.revision) for e in launched.created] == [
        (e.pk, e.project_id, e.status, e.revision) for e in rows
    ]
    assert {e.project_id for e in rows} == {p.pk for p in projects}
    assert all(e.sheet_id is None and e.score is None and e.grade == "" for e in rows)
    assert BudgetProject.objects.filter(stage=ProjectStage.EVALUATING).count() == 4
