"""Filters of the report pages: 亿元 for the summary lines, percent with two places."""

from __future__ import annotations

from decimal import Decimal

from django import template

from processes.units import yi_text
from reports.narrative import plain_number

register = template.Library()


@register.filter
def yi(amount: Decimal | None) -> str:
    """Yuan → 亿元, two places half up: 766000000 → "7.66"."""
    return yi_text(amount)


@register.filter
def pct(rate: Decimal | None) -> str:
    """A rate in percent (already rounded half up to two places) with its sign: 15.15 →
    "15.15%". No rate (nothing to divide by) shows 0.00%, as the JSON and the workbook do."""
    return f"{Decimal('0.00') if rate is None else rate}%"


@register.filter
def score(value: Decimal | None) -> str:
    return "—" if value is None else str(value)


@register.filter
def quantity(value: Decimal | None) -> str:
    """An indicator's total as written, without trailing zeros: 1234.5000 → "1234.5"."""
    return "—" if value is None else plain_number(value)
