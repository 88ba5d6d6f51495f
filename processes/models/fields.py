"""Model fields that refuse what their column cannot hold (processes.numbers, decision 0014)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _


class BoundedDecimalField(models.DecimalField):
    """A DecimalField that will not send NaN, an infinity or a value wider than its
    ``max_digits`` to the database.

    SQLite stores such a value and every later read of the row fails (the converter
    quantizes to ``max_digits``); PostgreSQL refuses it with a 500. Input is bounded before
    this (``processes.numbers.parse_decimal``); this is the guard for any path that forgot,
    ``bulk_update`` included (it prepares each value with ``get_db_prep_save``). Extra
    decimal places are rounded to the column's, as PostgreSQL does.

    Deconstructs as ``django.db.models.DecimalField``: the column is unchanged, so this
    needs no migration.
    """

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        if value is not None and not hasattr(value, "resolve_expression"):
            number = self.to_python(value)  # ValidationError for NaN and the infinities
            assert self.max_digits is not None and self.decimal_places is not None
            if isinstance(number, Decimal) and abs(number) >= Decimal(10) ** (self.max_digits - self.decimal_places):
                raise ValidationError(
                    {
                        self.name: _("%(field)s 超出范围：最多 %(int)s 位整数、%(dp)s 位小数。")
                        % {
                            "field": self.verbose_name,
                            "int": self.max_digits - self.decimal_places,
                            "dp": self.decimal_places,
                        }
                    },
                    code="max_digits",
                )
        return super().get_db_prep_save(value, connection)
