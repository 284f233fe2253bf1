"""Calling a Lambda handler in process: the handler by its dotted path, and its context."""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from steppe.local.account import ACCOUNT_ID, region
from steppe.local.routes import FunctionSpec

Handler = Callable[[Any, Any], Any]

_handlers: dict[str, Handler] = {}
# Taken only to import a handler the first time; invocations never wait on it
# (the handlers keep each request's state apart: steppe.handlers.common.RestResolver).
_lock = threading.Lock()


def load_handler(dotted: str) -> Handler:
    """Import `package.module.function` once and keep it (a warm Lambda keeps its module).

    An import that fails is not remembered, so the next call tries again, as a
    Lambda whose init failed does on its next invocation.
    """
    handler = _handlers.get(dotted)
    if handler is not None:
        return handler
    with _lock:
        handler = _handlers.get(dotted)
        if handler is None:
            module_name, _, attribute = dotted.rpartition(".")
            if not module_name:
                raise ImportError(f"handler {dotted!r} is not of the form module.function")
            module = importlib.import_module(module_name)
            handler = getattr(module, attribute, None)
            if not callable(handler):
                raise ImportError(f"{module_name} has no callable {attribute!r}")
            _handlers[dotted] = handler
    return handler


class LambdaContext:
    """The context object the Lambda Python runtime passes to a handler.

    Same attribute names and types as the runtime's (memory_limit_in_mb is a
    string there too); the remaining time counts down from the function's
    Timeout in the template.
    """

    __slots__ = (
        "_deadline",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
    )

    def __init__(self, function: FunctionSpec, request_id: str | None = None) -> None:
        name = function.logical_id
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region()}:{ACCOUNT_ID}:function:{name}"
        self.memory_limit_in_mb = str(function.memory_mb)
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = time.strftime("%Y/%m/%d", time.gmtime()) + "/[$LATEST]local"
        self.identity = SimpleNamespace(cognito_identity_id=None, cognito_identity_pool_id=None)
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def invoke(function: FunctionSpec, event: dict[str, Any], request_id: str | None = None) -> Any:
    """Run the function's handler on one event, as one Lambda invocation."""
    return load_handler(function.handler)(event, LambdaContext(function, request_id))
