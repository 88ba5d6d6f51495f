"""JSON rendering of the API: every Decimal as a decimal string (decision 0014).

DRF's encoder turns a Decimal that did not pass through a DecimalField — a
SerializerMethodField's result, a DictField or JSONField value — into a JSON float, while
the schema (COERCE_DECIMAL_TO_STRING) promises decimal strings; re-check amounts came back
as floats. This encoder keeps Decimals exact, as strings, whatever produced them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class DecimalStringEncoder(JSONEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return format(obj, "f")
        return super().default(obj)


class DecimalStringJSONRenderer(JSONRenderer):
    encoder_class = DecimalStringEncoder
