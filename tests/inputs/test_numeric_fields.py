"""Every numeric input of every API serializer and every form refuses NaN, the infinities,
numbers wider than its column and out-of-range integers (issue 16, decision 0014).

The fields are found by introspection of the API modules' serializers and the forms
modules' forms, so a new field is covered without touching this test. Text fields that a
service reads as a number (``DecimalText``) carry their column's bounds; the service's
endpoints are fuzzed with the same values in test_record_poisoning.py.
"""

from __future__ import annotations

import importlib
import inspect
from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from processes import numbers
from processes.api.fields import DecimalText

API_MODULES = [
    "processes.api.serializers",
    "workflows.project_api",
    "workflows.commissioned_api",
    "processes.api.indicators",
    "workflows.api",
    "workflows.evaluation_api",
    "workflows.monitoring_api",
    "workflows.pre_assessment_api",
    "workflows.rectification_api",
    "workflows.target_api",
    "reports.api",
    "notifications.api",
]
FORM_MODULES = [
    "processes.forms",
    "workflows.project_forms",
    "workflows.pre_assessment_forms",
    "workflows.commissioned_forms",
    "processes.indicator_forms",
    "workflows.evaluation_forms",
    "workflows.monitoring_forms",
    "workflows.rectification_forms",
    "workflows.target_forms",
]
BAD = ["NaN", "nan", "Infinity", "-inf", "sNaN", str(10**30), "-" + str(10**30), "1e400"]
BAD_INT = [*BAD, "1e-9", "1.5", str(2**63), str(-(2**63) - 1)]


def _walk(field: serializers.Field, path: str):
    if isinstance(field, serializers.ListSerializer):
        yield from _walk(field.child, path + "[]")
    elif isinstance(field, serializers.Serializer):
        for name, child in field.fields.items():
            yield from _walk(child, f"{path}.{name}")
    elif isinstance(field, serializers.ListField | serializers.DictField):
        yield from _walk(field.child, path + "[]")
    elif not field.read_only and isinstance(
        field, serializers.IntegerField | serializers.DecimalField | serializers.FloatField | DecimalText
    ):
        yield path, field


def request_components() -> set[str]:
    """The schema components that are request bodies, with those they nest."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    todo = [
        media["schema"]
        for ops in schema["paths"].values()
        for op in ops.values()
        if isinstance(op, dict) and "requestBody" in op
        for media in op["requestBody"]["content"].values()
    ]
    seen: set[str] = set()
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    todo.append(components[name])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return seen


def is_input(cls: type, requests: set[str]) -> bool:
    """A request body (per the schema) or a query filter serializer."""
    return cls.__name__.removesuffix("Serializer") in requests or "Filter" in cls.__name__


def api_fields() -> list[tuple[str, serializers.Field]]:
    requests = request_components()
    found = {}
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for name, cls in vars(module).items():
            if not (inspect.isclass(cls) and issubclass(cls, serializers.Serializer)):
                continue
            if cls.__module__ != module_name or not is_input(cls, requests):
                continue
            try:
                instance = cls()
            except TypeError:
                continue
            for path, field in _walk(instance, name):
                found[path] = field
    return sorted(found.items())


def form_fields() -> list[tuple[str, forms.Field]]:
    found = {}
    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and issubclass(cls, forms.BaseForm) and cls.__module__ == module_name:
                for field_name, field in cls.base_fields.items():
                    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
                        found[f"{name}.{field_name}"] = field
    return sorted(found.items())


FORM_FIELDS = form_fields()


def pytest_generate_tests(metafunc):
    # The API's fields need the schema, hence Django set up: collected lazily here.
    if "api_field" in metafunc.fixturenames:
        fields = api_fields()
        metafunc.parametrize("api_field", fields, ids=[p for p, _ in fields])


def test_introspection_finds_the_numeric_fields_when_collected():
    api = api_fields()
    paths = dict(api)
    assert "ScoreLineWriteSerializer.band_pct" in paths
    assert "ProjectCreateSerializer.requested_amount" in paths
    assert "RectificationFilterSerializer.department" in paths
    assert len(api) > 30 and len(FORM_FIELDS) > 10


def test_api_field_refuses_nan_infinity_and_overflow_when_sent(api_field):
    path, field = api_field
    if isinstance(field, DecimalText):
        assert field.bounds.max_digits and field.max_length is not None and field.max_length <= 64
        for bad in BAD:
            with pytest.raises(DjangoValidationError):
                numbers.parse_decimal(bad, field.bounds)
        return
    if isinstance(field, serializers.IntegerField):
        assert field.max_value is not None and field.max_value <= numbers.MAX_ID, path
        assert field.min_value is not None and field.min_value >= -numbers.MAX_ID, path
    if isinstance(field, serializers.FloatField):
        pytest.fail(f"{path}: a float input (use a DecimalField bounded by its column)")
    for bad in BAD_INT if isinstance(field, serializers.IntegerField) else [*BAD, "1e-9"]:
        with pytest.raises(serializers.ValidationError):
            field.run_validation(bad)


@pytest.mark.parametrize(("path", "field"), FORM_FIELDS, ids=[p for p, _ in FORM_FIELDS])
def test_form_field_refuses_nan_infinity_and_overflow_when_posted(path, field):
    if isinstance(field, forms.DecimalField):
        assert field.max_digits is not None and field.decimal_places is not None, path
    integer = isinstance(field, forms.IntegerField) and not isinstance(field, forms.DecimalField)
    if integer:
        assert field.max_value is not None or field.validators, path
    for bad in BAD_INT if integer else [*BAD, "1e-9"]:
        with pytest.raises(DjangoValidationError):
            field.clean(bad)


@pytest.mark.parametrize("raw", ["NaN", "-Infinity", "inf", "sNaN", True, [], {"a": 1}, "1" * 65, float("nan")])
def test_to_decimal_refuses_what_is_no_finite_number_when_parsed(raw):
    with pytest.raises(DjangoValidationError):
        numbers.to_decimal(raw)


def test_to_decimal_reads_separators_ints_and_floats_when_parsed():
    assert numbers.to_decimal(" 1,200,000.50 ") == Decimal("1200000.50")
    assert numbers.to_decimal(7) == Decimal(7)
    assert numbers.to_decimal(0.1) == Decimal("0.1")
    assert numbers.to_decimal("") is None and numbers.to_decimal(None) is None
