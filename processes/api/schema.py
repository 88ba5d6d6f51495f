"""Schema post-processing (drf-spectacular ``POSTPROCESSING_HOOKS``, decision 0014).

Every paginated list answers 404 for a page past the end (DRF's PageNumberPagination:
``{"detail": "无效页面。"}``); the hook documents that answer on every operation that takes
a ``page`` parameter, so the schema is true for each of them without one annotation per
view (schemathesis's status_code_conformance checks it).
"""

from __future__ import annotations

from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def document_page_not_found(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            names = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
            if "page" in names:
                operation["responses"].setdefault(
                    "404",
                    {
                        "content": {"application/json": {"schema": ERROR_REF}},
                        "description": "页码超出范围（Invalid page）。",
                    },
                )
    return result
