"""Errors the domain raises; each entry point turns them into a response once."""

from __future__ import annotations


class SteppeError(Exception):
    """Base class. `status` is the HTTP status an entry point should answer with."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where  # the field, row, header or parameter at fault

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"title": self.title, "description": self.message}
        if self.where:
            body["where"] = self.where
        return body


class InvalidInput(SteppeError):
    status = 400
    title = "Invalid input"

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        errors: list[dict[str, object]] | None = None,
    ) -> None:
        super().__init__(message, where=where)
        self.errors = errors or []

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        if self.errors:
            body["errors"] = self.errors
        return body


class Unauthenticated(SteppeError):
    status = 401
    title = "Authentication required"


class Forbidden(SteppeError):
    status = 403
    title = "Forbidden"


class NotFound(SteppeError):
    status = 404
    title = "Not found"


class Conflict(SteppeError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(SteppeError):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(SteppeError):
    status = 415
    title = "Unsupported media type"
