"""Units of what is shown: money in 元 / 万元 / 亿元 and rates in percent, each to two places
rounded HALF-UP (四舍五入), the one rounding every screen, export, report and API uses
(issue 17, item 6).

Amounts are stored in 元 (every money column is ``processes.models.MONEY``: 16 digits, 2
places); they are converted here when shown, never before they are stored. 12345 元 is
1.23 万元, 12350 元 1.24 and 12250 元 1.23 — half-up, not the half-even ("banker's")
rounding of ``Decimal.quantize``'s default context, which gives 1.22 for 12250. The API's
one money field is ``processes.api.fields.MoneyField`` (the same digits); the screens'
amount fields are ``processes.form_fields.ModelDecimalFormField`` of the model's column.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import overload

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
TEN_THOUSAND = Decimal(10_000)
HUNDRED_MILLION = Decimal(100_000_000)


def half_up(value: Decimal, step: Decimal = CENT) -> Decimal:
    """``value`` rounded half-up to ``step`` (two places by default); -0.00 becomes 0.00."""
    return value.quantize(step, rounding=ROUND_HALF_UP) + ZERO


@overload
def in_yuan(amount: Decimal | int) -> Decimal: ...
@overload
def in_yuan(amount: None) -> None: ...
def in_yuan(amount: Decimal | int | None) -> Decimal | None:
    """元, two places half-up; None stays None."""
    return None if amount is None else half_up(Decimal(amount))


@overload
def in_wan(amount: Decimal | int) -> Decimal: ...
@overload
def in_wan(amount: None) -> None: ...
def in_wan(amount: Decimal | int | None) -> Decimal | None:
    """元 → 万元, two places half-up: 12345 → 1.23, 12350 → 1.24; None stays None."""
    return None if amount is None else half_up(Decimal(amount) / TEN_THOUSAND)


@overload
def in_yi(amount: Decimal | int) -> Decimal: ...
@overload
def in_yi(amount: None) -> None: ...
def in_yi(amount: Decimal | int | None) -> Decimal | None:
    """元 → 亿元, two places half-up: 766000000 → 7.66; None stays None."""
    return None if amount is None else half_up(Decimal(amount) / HUNDRED_MILLION)


@overload
def percent(fraction: Decimal | int) -> Decimal: ...
@overload
def percent(fraction: None) -> None: ...
def percent(fraction: Decimal | int | None) -> Decimal | None:
    """A fraction (0.1515) in percent, two places half-up (15.15); None stays None. For a
    quotient of two amounts use ``processes.scoring.rate_pct``, which divides first."""
    return None if fraction is None else half_up(Decimal(fraction) * HUNDRED)


def wan_text(amount: Decimal | int | None) -> str:
    """万元 with thousands separators, as screens show it: 35000000 → "3,500.00"; "" for None."""
    value = in_wan(amount)
    return "" if value is None else f"{value:,}"


def yi_text(amount: Decimal | int | None) -> str:
    """亿元 with thousands separators: 766000000 → "7.66"; "" for None."""
    value = in_yi(amount)
    return "" if value is None else f"{value:,}"


def yuan_text(amount: Decimal | int | None) -> str:
    """元 with thousands separators: 1200000 → "1,200,000.00"; "" for None."""
    value = in_yuan(amount)
    return "" if value is None else f"{value:,}"


def percent_text(fraction: Decimal | int | None) -> str:
    """A fraction as "15.15%"; "" for None."""
    value = percent(fraction)
    return "" if value is None else f"{value}%"
