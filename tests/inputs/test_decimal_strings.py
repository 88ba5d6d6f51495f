"""Decimals as strings in every API response (issue 16: re-check money came back as JSON
floats while the schema said decimal strings). The API's JSON renderer writes every
Decimal as a string, whatever produced it (processes/api/renderers.py)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from processes.api.renderers import DecimalStringJSONRenderer
from tests.api.support import client_for
from tests.api.test_evaluation_api import RECHECKS, accepted, agency, due, ses  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def floats(value, path="$") -> list[str]:
    if isinstance(value, float):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in floats(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in floats(v, f"{path}[{i}]")]
    return []


def test_recheck_money_is_a_decimal_string_when_listed_and_read(district, agency, ses):  # noqa: F811
    for se in ses[:2]:
        accepted(district, se)
    finance = client_for(district.finance)
    body = {"campaign": ses[0].campaign_id, "agency": agency.pk, "due_at": due(), "self_evaluation_ids": [ses[0].pk]}
    assert finance.post(RECHECKS, body, format="json").status_code == 201

    listed = json.loads(finance.get(RECHECKS).content)
    item = listed["results"][0]
    assert (item["budget"], item["executed"]) == ("1200000.00", "1200000.00")
    assert isinstance(item["completion_rate"], str)
    detail = json.loads(finance.get(f"{RECHECKS}{item['id']}/").content)
    assert floats(listed) == [] and floats(detail) == []


def test_any_decimal_is_rendered_as_a_string_when_no_field_formatted_it():
    rendered = DecimalStringJSONRenderer().render({"a": Decimal("1200000.50"), "b": [Decimal("1E+2")], "c": 0.5})
    assert json.loads(rendered) == {"a": "1200000.50", "b": ["100"], "c": 0.5}
