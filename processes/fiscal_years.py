"""The fiscal years (预算年度) the system accepts: ``settings.JIXIAO["FISCAL_YEAR_RANGE"]``,
both ends included (decision 0014). Forms, the API, services and the history import all
read it from here, so a year of 0 or 99999 is refused everywhere with one message."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def fiscal_year_range() -> tuple[int, int]:
    low, high = settings.JIXIAO.get("FISCAL_YEAR_RANGE", (2000, 2100))
    return int(low), int(high)


def check_fiscal_year(value: Any) -> int:
    """``value`` as an int within the range; ValidationError (with the range) otherwise."""
    low, high = fiscal_year_range()
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = None
    if year is None or isinstance(value, bool) or not low <= year <= high:
        raise ValidationError(
            _("预算年度应在 %(low)s 到 %(high)s 之间。") % {"low": low, "high": high}, code="fiscal_year"
        )
    return year


def validate_fiscal_year(value: Any) -> None:
    """A model field validator (``validators=[validate_fiscal_year]``)."""
    check_fiscal_year(value)
