"""Post-processing of the OpenAPI document (drf-spectacular's hooks)."""

from typing import Any

THROTTLED = {
    "description": "Too many requests: past API_ANON_RATE from one client address "
    "without a log-in, or API_USER_RATE for one librarian (docs/api.md). "
    "Retry-After says in how many seconds to try again.",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before the next request.",
            "schema": {"type": "integer"},
        }
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def throttled_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every operation may answer 429: the throttles (api/throttles.py) apply to all."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("429", THROTTLED)
    return result
