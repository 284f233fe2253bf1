"""`steppe serve`: API Gateway and Lambda in one process.

create_app() is the WSGI application: for each request it finds the route
template.yaml declares, runs that API's Lambda authorizer exactly as API
Gateway would, builds the REST proxy event and calls the same handler the
deployed function runs. serve() runs it on waitress next to the local
workers (processes of their own: steppe.local.worker_processes) that consume
the durable job queue.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from steppe.config import Settings
from steppe.handlers.http import header_value
from steppe.local.events import (
    EventParts,
    GatewayError,
    HttpRequest,
    HttpResponse,
    MalformedLambdaResponse,
    authorize,
    gateway_response,
    headers_from_environ,
    missing_identity_source,
    proxy_event,
    request_authorizer_event,
    response_from_lambda,
    split_request_target,
    token_authorizer_event,
)
from steppe.local.invoke import invoke
from steppe.local.job_thread import LocalWorker, recover_on_start
from steppe.local.routes import (
    Authorizer,
    GatewayResponse,
    MethodNotAllowed,
    RouteMatch,
    RouteTable,
)
from steppe.local.scheduled_events import ScheduledEvents
from steppe.local.waitress_server import LocalServer, WSGIApp, body_too_large_message
from steppe.local.worker_processes import WorkerProcesses, worker_count
from steppe.runtime import Services, build_services, use_services
from steppe.runtime import services as current_services

logger = logging.getLogger(__name__)
access_log = logging.getLogger("steppe.local.access")

# Bodies at least this large are handed to the server as a file (no extra copy).
_FILE_WRAPPER_MIN = 64 * 1024

# The endpoints `steppe serve` announces when it starts.
MAIN_ENDPOINTS = (
    ("analyst API", "/api/v1/"),
    ("OpenAPI", "/api/v1/openapi.json"),
    ("TAXII 2.1", "/taxii2/"),
    ("console", "/console/"),
)


class Gateway:
    """The WSGI application: API Gateway REST in front of the template's handlers."""

    def __init__(self, routes: RouteTable, max_body_bytes: int) -> None:
        self.routes = routes
        self.max_body_bytes = max_body_bytes
        apis = {route.api.logical_id: route.api for route in routes.routes}
        # Errors before a route is known (404) use the API's gateway responses when
        # there is only one API to take them from.
        self._default_responses: Mapping[str, GatewayResponse] = (
            next(iter(apis.values())).gateway_responses if len(apis) == 1 else {}
        )

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        response = self._respond(environ, request_id)
        headers = response.headers
        headers.append(("Content-Length", str(len(response.body))))
        headers.append(("x-amzn-RequestId", request_id))
        start_response(response.status_line, headers)
        access_log.info(
            "%s %s %d %d bytes %.1f ms",
            environ.get("REQUEST_METHOD"),
            environ.get("REQUEST_URI") or environ.get("PATH_INFO"),
            response.status,
            len(response.body),
            (time.perf_counter() - started) * 1000,
        )
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None and len(response.body) >= _FILE_WRAPPER_MIN:
            # waitress then sends straight from these bytes instead of first copying
            # them into its output buffer.
            return wrapper(io.BytesIO(response.body))
        return [response.body]

    def _respond(self, environ: dict[str, Any], request_id: str) -> HttpResponse:
        method = environ["REQUEST_METHOD"].upper()
        path, query = split_request_target(environ)
        match = self.routes.match(method, path)
        try:
            if match is None:  # API Gateway: MISSING_AUTHENTICATION_TOKEN, which we make a 404
                raise GatewayError(
                    "MISSING_AUTHENTICATION_TOKEN", 404, f"No route matches {method} {path}."
                )
            if isinstance(match, MethodNotAllowed):
                allowed = ", ".join(match.allowed)
                raise GatewayError(
                    "METHOD_NOT_ALLOWED",
                    405,
                    f"{path} does not accept {method}; it accepts {allowed}.",
                    headers=(("Allow", allowed),),
                )
            return self._dispatch(environ, method, path, query, match, request_id)
        except GatewayError as error:
            variables = {"httpMethod": method, "path": path}
            if isinstance(match, RouteMatch):
                api = match.route.api
                variables |= {"resourcePath": match.route.resource, "stage": api.stage}
                return gateway_response(error, request_id, api.gateway_responses, variables)
            return gateway_response(error, request_id, self._default_responses, variables)

    def server_error(self, status: int, message: str) -> HttpResponse:
        """An error waitress answers itself (413 before the body, 400...), as the API would."""
        kind = "REQUEST_TOO_LARGE" if status == 413 else "DEFAULT_4XX"
        if status >= 500:
            kind = "DEFAULT_5XX"
        request_id = str(uuid.uuid4())
        response = gateway_response(
            GatewayError(kind, status, message), request_id, self._default_responses
        )
        response.headers.append(("x-amzn-RequestId", request_id))
        return response

    def _dispatch(
        self,
        environ: dict[str, Any],
        method: str,
        path: str,
        query: str,
        match: RouteMatch,
        request_id: str,
    ) -> HttpResponse:
        request = HttpRequest(
            method=method,
            path=path,
            query_string=query,
            headers=headers_from_environ(environ),
            body=self._read_body(environ),
            source_ip=environ.get("REMOTE_ADDR") or "127.0.0.1",
            scheme=environ.get("wsgi.url_scheme", "http"),
            port=str(environ.get("SERVER_PORT", "")),
            protocol=environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        )
        parts = EventParts(request, match, request_id, time.time_ns() // 1_000_000)
        route = match.route
        authorizer = None
        if route.authorizer is not None:
            authorizer = self._authorize(route.authorizer, parts, match, request_id)
        event = proxy_event(parts, match, authorizer)
        try:
            return response_from_lambda(invoke(route.function, event, request_id))
        except MalformedLambdaResponse as error:
            logger.error(
                "%s returned a malformed Lambda proxy response for %s %s: %s",
                route.function.handler,
                method,
                path,
                error,
            )
        except Exception:
            logger.exception("%s failed on %s %s", route.function.handler, method, path)
        raise GatewayError("DEFAULT_5XX", 502, "Internal server error")

    def _read_body(self, environ: dict[str, Any]) -> bytes:
        stream = environ["wsgi.input"]
        limit = self.max_body_bytes
        declared = environ.get("CONTENT_LENGTH")
        if declared:
            try:
                size = int(declared)
            except ValueError:
                raise GatewayError(
                    "BAD_REQUEST_BODY", 400, f"Content-Length {declared!r} is not a number."
                ) from None
            if size > limit:
                raise GatewayError("REQUEST_TOO_LARGE", 413, body_too_large_message(size, limit))
            return stream.read(size) if size > 0 else b""
        if environ.get("wsgi.input_terminated"):
            data = stream.read(limit + 1)
            if len(data) > limit:
                raise GatewayError("REQUEST_TOO_LARGE", 413, body_too_large_message(None, limit))
            return data
        return b""

    def _authorize(
        self, authorizer: Authorizer, parts: EventParts, match: RouteMatch, request_id: str
    ) -> dict[str, Any]:
        if authorizer.payload_type == "TOKEN":
            token = header_value(parts.headers, authorizer.identity_headers[0]) or ""
            if not token:
                raise GatewayError("UNAUTHORIZED", 401, "Unauthorized")
            event = token_authorizer_event(token, match, parts.request.method)
        else:
            if missing_identity_source(
                parts, authorizer.identity_headers, authorizer.identity_query_strings
            ):
                raise GatewayError("UNAUTHORIZED", 401, "Unauthorized")
            event = request_authorizer_event(parts, match)
        started = time.perf_counter()
        try:
            result = invoke(authorizer.function, event, request_id)
        except Exception as error:
            if str(error) == "Unauthorized":
                raise GatewayError("UNAUTHORIZED", 401, "Unauthorized") from None
            logger.exception("authorizer %s failed", authorizer.function.handler)
            raise GatewayError(
                "AUTHORIZER_FAILURE", 500, "The authorizer failed; the server log says why."
            ) from None
        latency_ms = int((time.perf_counter() - started) * 1000)
        try:
            return authorize(result, event["methodArn"], latency_ms)
        except GatewayError as error:
            if error.status >= 500:
                logger.error("authorizer %s: %s", authorizer.function.handler, error.message)
            raise


def create_app(routes: RouteTable, max_body_bytes: int) -> WSGIApp:
    """The WSGI application serving the template's routes through their handlers."""
    return Gateway(routes, max_body_bytes)


def create_server(
    routes: RouteTable, host: str, port: int, threads: int, max_body_bytes: int
) -> LocalServer:
    """waitress serving create_app(), its own errors shaped like the API's gateway responses."""
    gateway = Gateway(routes, max_body_bytes)
    return LocalServer(gateway, host, port, threads, max_body_bytes, gateway.server_error)


def apply_function_environment(variables: Mapping[str, str]) -> None:
    """Give the process the Lambda functions' literal environment (Powertools names, log level).

    STEPPE_* variables describe the AWS shape's resources and are left out;
    variables already set win.
    """
    for name, value in variables.items():
        if not name.startswith("STEPPE_"):
            os.environ.setdefault(name, value)


def _print_urls(base_url: str, settings: Settings) -> None:
    lines = [f"steppe is serving on {base_url}/"]
    lines += [f"  {label:<12} {base_url}{path}" for label, path in MAIN_ENDPOINTS]
    lines.append(f"  {'data':<12} {settings.data_dir}")
    lines.append("Press Ctrl+C to stop.")
    print("\n".join(lines), flush=True)


def configure_logging() -> None:
    """The runtime's own log lines (access log, worker), plain text on stderr.

    Kept apart from the handlers' Powertools loggers, which take over the
    "steppe" logger (JSON, POWERTOOLS_LOG_LEVEL); STEPPE_LOG_LEVEL sets ours.
    """
    local = logging.getLogger("steppe.local")
    if not local.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        local.addHandler(handler)
        local.setLevel(os.environ.get("STEPPE_LOG_LEVEL", "INFO").upper())
        local.propagate = False


def serve(
    settings: Settings,
    host: str,
    port: int,
    threads: int = 8,
    *,
    services: Services | None = None,
    routes: RouteTable | None = None,
) -> None:
    """Serve the embedded shape until SIGINT/SIGTERM.

    The handlers use `services` when given, else the process's services when
    `settings` are those of the environment (so what the CLI already opened
    is reused), else services built from `settings`. serve() closes them when
    it returns, after the local worker has finished its current job.
    """
    # Services or routes made by the caller exist only in this process: the queue is
    # then consumed by threads here; otherwise by worker processes of their own.
    in_process = services is not None or routes is not None
    routes = RouteTable.from_template() if routes is None else routes
    apply_function_environment(routes.environment)
    configure_logging()
    if services is None:
        services = current_services() if settings == Settings.from_env() else None
    use_services(build_services(settings) if services is None else services)
    services = current_services()
    count = worker_count()
    threads_here: list[LocalWorker] = []
    processes: WorkerProcesses | None = None
    if routes.sqs_triggers:
        if in_process:
            threads_here = [LocalWorker(services.queue, routes) for _ in range(count)]
        else:
            processes = WorkerProcesses(settings, count)
    server = create_server(routes, host, port, threads, settings.max_body_bytes)
    scheduled = ScheduledEvents(routes.schedules)
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: server.stop())
    try:
        if routes.sqs_triggers:
            recover_on_start(services, services.queue)  # type: ignore[arg-type]
            released = services.queue.release_claimed()  # type: ignore[attr-defined]
            if released:
                logger.info("%d unfinished job(s) from a previous run are queued again", released)
        for worker in threads_here:
            worker.start(release_claimed=False)
        if processes is not None:
            processes.start()
        scheduled.start()
        _print_urls(server.base_url, settings)
        server.run()
    finally:
        scheduled.stop()
        for worker in threads_here:
            worker.stop()
        if processes is not None:
            processes.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        use_services(None)
        print("steppe stopped.", flush=True)
