"""TAXII error messages (TAXII 2.1 section 3.6.1), in one place.

Every refusal is a steppe.errors.SteppeError; `error_resource` turns one into
the TAXII error resource: a title, a description saying what was wrong and
where, and http_status equal to the status line's code (as a string).
"""

from __future__ import annotations

from steppe.access.auth import challenge
from steppe.errors import SteppeError

# Basic is TAXII's suggested scheme (section 1.6.9); steppe also takes the same
# key as `Bearer <key>` or `Token <key>`.
AUTHENTICATE = challenge(bearer=True)
HOW_TO_AUTHENTICATE = (
    "send Authorization: Basic base64(<partner>:<key>), Bearer <key> or Token <key>"
)


class NotAcceptable(SteppeError):
    status = 406
    title = "Not acceptable"


class Unprocessable(SteppeError):
    status = 422
    title = "Unprocessable content"


class InternalError(SteppeError):
    status = 500
    title = "Internal error"

    def __init__(self) -> None:
        super().__init__("the request failed on the server; it has been logged")


def error_resource(error: SteppeError, request_id: str | None = None) -> dict[str, object]:
    description = error.message
    if error.status == 401:
        description = f"{description}; {HOW_TO_AUTHENTICATE}"
    resource: dict[str, object] = {
        "title": error.title,
        "description": description,
        "http_status": str(error.status),
    }
    if request_id:
        resource["error_id"] = request_id
    details: dict[str, object] = {}
    if error.where:
        details["where"] = error.where
    errors = getattr(error, "errors", None)
    if errors:
        details["errors"] = errors
    if details:
        resource["details"] = details
    return resource


def error_headers(error: SteppeError) -> dict[str, str]:
    return {"WWW-Authenticate": AUTHENTICATE} if error.status == 401 else {}
