"""The API's numeric input fields: one decimal field derived from the model column, one id
field and one year field, used by every serializer (decision 0014).

- ``ModelDecimalField(Model, "field", ...)``: the column's digits and validators
  (``processes.numbers.decimal_bounds``), text with thousands separators or a JSON number,
  blank or null → None when ``allow_null``; NaN, ±Infinity, too many digits or places and
  values out of range → 400 with the same message the service would give.
- ``IdField``: an object id (1 … 2**63 - 1), in a body or a query filter. A larger one
  would overflow the database's integer (500 before); it is now a 400.
- ``FiscalYearField``: a fiscal year within ``JIXIAO["FISCAL_YEAR_RANGE"]``.
- ``DecimalText``: a number the service reads and bounds itself (keyed errors).
- ``MoneyField``: an amount in 元 with the digits of every money column
  (``processes.models.MONEY``: 16 digits, 2 places), the API's one money field; amounts
  are shown in 万元/亿元 through ``processes.units``.
- ``flat_errors``: DRF's nested errors keyed as the services key theirs (``rows.1.weight``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers

from processes import numbers
from processes.fiscal_years import fiscal_year_range
from processes.models import MONEY


class ModelDecimalField(serializers.DecimalField):
    """A decimal bounded like ``model.name`` (narrowed by ``min_value``/``max_value``)."""

    def __init__(
        self,
        model: type[models.Model],
        name: str,
        *,
        min_value: Decimal | int | None = None,
        max_value: Decimal | int | None = None,
        invalid: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.bounds = numbers.decimal_bounds(model, name, min_value=min_value, max_value=max_value)
        self.invalid = invalid
        super().__init__(
            max_digits=self.bounds.max_digits,
            decimal_places=self.bounds.decimal_places,
            min_value=self.bounds.min_value,
            max_value=self.bounds.max_value,
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(data, str) and not data.strip():
            if self.allow_null:
                return None
            self.fail("invalid")
        try:
            return numbers.parse_decimal(data, self.bounds, invalid=self.invalid)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class IdField(serializers.IntegerField):
    """An object's id: 1 … 2**63 - 1 (the database's bigint)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", numbers.MAX_ID)
        super().__init__(**kwargs)


class FiscalYearField(serializers.IntegerField):
    """A fiscal year within the configured range (``JIXIAO["FISCAL_YEAR_RANGE"]``)."""

    def __init__(self, **kwargs: Any) -> None:
        low, high = fiscal_year_range()
        kwargs.setdefault("min_value", low)
        kwargs.setdefault("max_value", high)
        super().__init__(**kwargs)


class DecimalText(serializers.CharField):
    """A number as sent (``"1,200,000.50"`` or a JSON number) that the service reads and
    bounds with ``processes.numbers`` against ``model.name``, so every problem of a sheet is
    reported at once and keyed as the service keys it (``lines.<row id>.band_pct``). Blank
    or null: not filled in. Longer than 64 characters: no column holds it."""

    def __init__(
        self,
        model: type[models.Model],
        name: str,
        *,
        min_value: Decimal | int | None = None,
        max_value: Decimal | int | None = None,
        **kwargs: Any,
    ) -> None:
        self.bounds = numbers.decimal_bounds(model, name, min_value=min_value, max_value=max_value)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)


class MoneyField(serializers.DecimalField):
    """An amount in 元 as every money column keeps it (``processes.models.MONEY``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=MONEY["max_digits"], decimal_places=MONEY["decimal_places"], **kwargs)


def flat_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors ({"rows": [{}, {"weight": [...]}]}) keyed as the services key
    theirs ("rows.1.weight"), so a body refused by its serializer reads like one refused by
    the service."""
    if isinstance(errors, dict):
        out: dict[str, list[str]] = {}
        for key, value in errors.items():
            out.update(flat_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        return {prefix: [str(e) for e in errors]} if errors else {}
    if isinstance(errors, list):
        out = {}
        for i, value in enumerate(errors):
            out.update(flat_errors(value, f"{prefix}.{i}"))
        return out
    return {prefix: [str(errors)]}
