"""Numbers from outside, bounded by the column they are stored in.

One mechanism for every screen, API and service (decision 0014):

- ``decimal_bounds(Model, "field")`` reads a model DecimalField's digits and its
  ``MinValueValidator``/``MaxValueValidator``; a caller may only narrow them.
- ``parse_decimal(raw, bounds)`` turns what a form, the API or a spreadsheet sends (text with
  thousands separators, an int, a Decimal, a float) into a Decimal or None, and raises
  ``ValidationError`` with a message for text, NaN, ±Infinity, too many digits or places, and
  values outside the bounds. Services call it before they set a value; the API's
  ``processes.api.fields.ModelDecimalField`` and the forms'
  ``processes.form_fields.ModelDecimalFormField`` derive from the same bounds, so a value
  is refused at the edge with the same rule.
- ``BoundedDecimalField`` (processes.models.fields) refuses, at the database boundary, a
  value that would overflow its column, so a forgotten path cannot store a record that
  no one can read again (``bulk_update`` skips ``save()`` but not ``get_db_prep_save``).
- ``MAX_ID``: the largest primary key or integer column value (a signed 64-bit integer);
  the URL converter ``id`` and the API's ``IdField`` bound ids with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext as _

# SQLite and PostgreSQL's bigint: 2**63 - 1. A pk, a filter id or a seed above it cannot
# be looked up (OverflowError on SQLite, an out-of-range error on PostgreSQL).
MAX_ID = 2**63 - 1
# "Integer" columns (PositiveIntegerField, IntegerField) on every backend.
MAX_INT = 2**31 - 1
# PositiveSmallIntegerField / SmallIntegerField.
MAX_SMALL_INT = 2**15 - 1


@dataclass(frozen=True)
class Bounds:
    """What a decimal column holds: at most ``max_digits`` digits, ``decimal_places`` of them
    after the point, within [min_value, max_value] when those are set."""

    max_digits: int
    decimal_places: int
    min_value: Decimal | None = None
    max_value: Decimal | None = None

    @property
    def limit(self) -> Decimal:
        """The first value the column cannot hold: 10 ** (integer digits)."""
        return Decimal(10) ** (self.max_digits - self.decimal_places)

    @property
    def step(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimal_places)

    def narrowed(self, *, min_value: Decimal | int | None = None, max_value: Decimal | int | None = None) -> Bounds:
        """These bounds, narrowed (never widened) by a caller's own range."""
        low, high = self.min_value, self.max_value
        if min_value is not None:
            low = Decimal(min_value) if low is None else max(low, Decimal(min_value))
        if max_value is not None:
            high = Decimal(max_value) if high is None else min(high, Decimal(max_value))
        return replace(self, min_value=low, max_value=high)


def decimal_bounds(
    model: type[models.Model],
    name: str,
    *,
    min_value: Decimal | int | None = None,
    max_value: Decimal | int | None = None,
) -> Bounds:
    """The bounds of ``model.name`` (a DecimalField), narrowed by ``min_value``/``max_value``."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.DecimalField):
        raise TypeError(f"{model.__name__}.{name} is not a DecimalField")
    assert field.max_digits is not None and field.decimal_places is not None
    low = high = None
    for validator in field.validators:
        if isinstance(validator, MinValueValidator):
            low = Decimal(str(validator.limit_value))
        elif isinstance(validator, MaxValueValidator):
            high = Decimal(str(validator.limit_value))
    return Bounds(field.max_digits, field.decimal_places, low, high).narrowed(min_value=min_value, max_value=max_value)


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def to_decimal(raw: Any, *, invalid: str | None = None) -> Decimal | None:
    """A finite Decimal from text (``"1,200,000.50"``), an int, a Decimal or a float; None if
    empty. ValidationError (code ``invalid``) for anything else, NaN and the infinities."""
    message = invalid or _("请填写数字。")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValidationError(message, code="invalid")
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValidationError(message, code="invalid")
        raw = repr(raw)
    if not isinstance(raw, str | int | Decimal):
        raise ValidationError(message, code="invalid")
    text = str(raw).strip().replace(",", "")
    if len(text) > 64:  # a number no column holds; also spares Decimal a million-digit string
        raise ValidationError(message, code="invalid")
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationError(message, code="invalid") from None
    if not value.is_finite():
        raise ValidationError(message, code="invalid")
    return value


def check_decimal(value: Decimal, bounds: Bounds, *, negative: str | None = None) -> Decimal:
    """``value`` if it fits ``bounds``; else ValidationError saying what is allowed
    (``negative``: the message for a value below a minimum of 0)."""
    if bounds.min_value is not None and value < bounds.min_value:
        if bounds.min_value == 0:
            raise ValidationError(negative or _("不能为负数。"), code="min_value")
        raise ValidationError(_("不能小于 %(min)s。") % {"min": _plain(bounds.min_value)}, code="min_value")
    if bounds.max_value is not None and value > bounds.max_value:
        raise ValidationError(_("不能大于 %(max)s。") % {"max": _plain(bounds.max_value)}, code="max_value")
    if abs(value) >= bounds.limit or value != value.quantize(bounds.step, rounding="ROUND_DOWN"):
        raise ValidationError(
            _("最多 %(int)s 位整数、%(dp)s 位小数。")
            % {"int": bounds.max_digits - bounds.decimal_places, "dp": bounds.decimal_places},
            code="max_digits",
        )
    return value


def parse_decimal(
    raw: Any, bounds: Bounds, *, invalid: str | None = None, negative: str | None = None
) -> Decimal | None:
    """``to_decimal`` then ``check_decimal``: the one way a number from outside is read."""
    value = to_decimal(raw, invalid=invalid)
    return None if value is None else check_decimal(value, bounds, negative=negative)


def parse_into(
    errors: dict[str, list[str]],
    key: str,
    raw: Any,
    bounds: Bounds,
    *,
    invalid: str | None = None,
    negative: str | None = None,
) -> Decimal | None:
    """``parse_decimal``, collecting the message under ``errors[key]`` (None then) so a
    service can report every problem of a form at once."""
    try:
        return parse_decimal(raw, bounds, invalid=invalid, negative=negative)
    except ValidationError as exc:
        errors.setdefault(key, []).extend(exc.messages)
        return None


def check_int(value: Any, *, min_value: int = 0, max_value: int = MAX_ID) -> int:
    """An int within [min_value, max_value]; ValidationError otherwise (bools, text, floats)."""
    if isinstance(value, bool):
        raise ValidationError(_("请填写整数。"), code="invalid")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise ValidationError(_("请填写整数。"), code="invalid") from None
    if not min_value <= number <= max_value:
        raise ValidationError(
            _("应在 %(min)s 到 %(max)s 之间。") % {"min": min_value, "max": max_value}, code="out_of_range"
        )
    return number
