"""Path converters for every URL conf, screens and API alike (decision 0014).

``<id:pk>``: an object id of at most 18 digits, so it always fits the database's bigint
(``<int:pk>`` took any number of digits: a 20-digit id overflowed into a 500). Anything
else — ``abc``, ``-1``, ``1.5`` — does not match, so the answer is a 404.
``<year:year>``: a four-digit year (a report year).

Registered by ``ProcessesConfig.ready`` before any URL conf is imported; the API routers
name them through ``lookup_value_converter = "id"`` and ``url_path="…/<id:item_id>/…"``.
"""

from __future__ import annotations

from django.urls import register_converter
from django.urls.converters import get_converters

ID_REGEX = "[0-9]{1,18}"


class IdConverter:
    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(value)


class YearConverter(IdConverter):
    regex = "[0-9]{4}"


def register() -> None:
    known = get_converters()
    for name, converter in (("id", IdConverter), ("year", YearConverter)):
        if name not in known:
            register_converter(converter, name)
