"""processes.bulk_insert.array_literal: the text form of a column's values that
insert_sql sends to PostgreSQL instead of the list — the server reads back the very array
the driver's own adaptation of the list gives, for any text, integers and NULLs."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.types.numeric import Int4, Int8

from processes.bulk_insert import array_literal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

#: text as PostgreSQL stores it: any character but NUL (the driver refuses it either way)
TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12)
TRICKY = ["", "NULL", "null", '"', "\\", '\\"', "a,b", "{x}", " lead", "trail ", "tab\there", "line\nbreak", "绩效"]


def _read(sql_type: str, param) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{sql_type}[]", [param])
        return cursor.fetchone()[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(TEXT, st.sampled_from(TRICKY)), max_size=20))
def test_text_literal_reads_back_as_the_drivers_list_when_any_text_is_given(values):
    literal = array_literal(values)
    assert literal is not None
    assert _read("text", literal) == _read("text", values) == values
    assert _read("varchar(255)", literal) == values


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), TEXT, st.sampled_from(TRICKY)), max_size=12))
def test_text_with_nulls_reads_back_as_the_drivers_list_when_nulls_are_mixed_in(values):
    literal = array_literal(values)
    assert literal is not None
    assert _read("text", literal) == _read("text", values) == values


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.integers(-(2**31), 2**31 - 1), st.none()), max_size=20))
def test_integer_literal_reads_back_as_the_drivers_list_when_any_ints_are_given(values):
    sized = [None if v is None else Int4(v) for v in values]
    assert _read("integer", array_literal(sized)) == _read("integer", sized) == values
    assert _read("bigint", array_literal([None if v is None else Int8(v) for v in values])) == values


def test_other_values_are_left_to_the_driver():
    from datetime import UTC, datetime
    from decimal import Decimal

    assert array_literal([True, False]) is None
    assert array_literal([1, Decimal("1.5")]) is None
    assert array_literal(["a", datetime.now(UTC)]) is None
    assert array_literal(["a\x00b", "c"]) is None
    assert array_literal([]) == "{}"


def test_insert_rows_reads_back_what_was_given_when_columns_go_as_literals(district):
    """The audit batch's columns (text, integers, JSON) through insert_sql's literals: the
    rows hold the values given, quotes, backslashes and NULL-looking text included."""
    from django.db import transaction

    from processes.models import AuditEvent
    from processes.services.audit import audit_record_many, audit_verify

    reprs = ['a "quoted" name', "back\\slash", "NULL", "", "{brace},comma", "绩效\n项目"]
    with transaction.atomic():
        last = audit_record_many(
            [
                {
                    "object_type": "processes.budgetproject",
                    "object_id": str(i),
                    "object_repr": text,
                    "action": "start_evaluation",
                    "comment": text,
                    "detail": {"text": text, "n": i},
                }
                for i, text in enumerate(reprs)
            ],
            actor=district.finance,
        )
    rows = list(AuditEvent.objects.filter(sequence__gt=last - len(reprs)).order_by("sequence"))
    assert [(r.object_repr, r.comment, r.detail, r.object_id) for r in rows] == [
        (text, text, {"text": text, "n": i}, str(i)) for i, text in enumerate(reprs)
    ]
    assert audit_verify() is None


def test_batch_details_are_stored_as_given_when_repeated_or_alike(district):
    """A detail met before is encoded once for the hash and the column: repeated details,
    True against 1, nested values and non-ASCII text are each stored as their own."""
    from django.db import transaction

    from processes.models import AuditEvent
    from processes.services.audit import audit_record_many, audit_verify

    details = [{"campaign": 7}, {"campaign": 7}, {"x": True}, {"x": 1}, {"x": None}, {"n": {"a": [1, "二"]}}, {}]
    with transaction.atomic():
        last = audit_record_many(
            [
                {"object_type": "t", "object_id": str(i), "object_repr": "", "action": "a", "detail": detail}
                for i, detail in enumerate(details)
            ],
            actor=district.finance,
        )
    rows = AuditEvent.objects.filter(sequence__gt=last - len(details)).order_by("sequence")
    stored = [r.detail for r in rows]
    assert stored == details
    assert [type(d.get("x")) for d in stored[2:5]] == [bool, int, type(None)]
    assert audit_verify() is None
