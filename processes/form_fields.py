"""The screens' numeric form fields, derived from the model columns (decision 0014): the
same bounds as the API (processes.api.fields) and the services (processes.numbers)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db import models

from . import numbers
from .fiscal_years import fiscal_year_range, validate_fiscal_year


class ModelDecimalFormField(forms.DecimalField):
    """A decimal bounded like ``model.name`` (narrowed by ``min_value``/``max_value``);
    thousands separators accepted; NaN and the infinities refused."""

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
        super().__init__(
            max_digits=self.bounds.max_digits,
            decimal_places=self.bounds.decimal_places,
            min_value=self.bounds.min_value,
            max_value=self.bounds.max_value,
            **kwargs,
        )

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if value in self.empty_values:
            return None
        return numbers.to_decimal(value, invalid=str(self.error_messages["invalid"]))

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None:
            numbers.check_decimal(value, self.bounds)

    def run_validators(self, value: Any) -> None:
        # check_decimal said it all; Django's validators would repeat it in other words.
        return None


def fiscal_year_formfield(**kwargs: Any) -> forms.IntegerField:
    """A fiscal year within ``JIXIAO["FISCAL_YEAR_RANGE"]`` (the widget shows the range)."""
    low, high = fiscal_year_range()
    field = forms.IntegerField(validators=[validate_fiscal_year], **kwargs)
    field.widget.attrs.update({"min": low, "max": high})
    return field


class IdFormField(forms.IntegerField):
    """An id (or a revision): 1 … 2**63 - 1, so no lookup can overflow."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", numbers.MAX_ID)
        super().__init__(**kwargs)


__all__ = ["IdFormField", "ModelDecimalFormField", "fiscal_year_formfield"]
