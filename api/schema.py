"""The OpenAPI document's extras: the API key as a security scheme, and
the post-processing hooks (drf-spectacular's)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

THROTTLED = {
    "description": "Too many requests: past API_ANON_RATE from one client address "
    "without a log-in, API_USER_RATE for one librarian, API_KEY_RATE for one API key "
    "(docs/api.md). "
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


class LibraryKeyScheme(OpenApiAuthenticationExtension):
    """``Authorization: Api-Key <key>`` (api/keys.py)."""

    target_class = "api.keys.LibraryKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A library's API key, made in the admin: `Api-Key <key>`.",
        }
