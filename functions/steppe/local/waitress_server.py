"""waitress as the embedded server runs it.

Three additions to stock waitress, each through its documented extension
points (the channel's parser, task and error-task classes):

* the request headers keep the names the client sent (API Gateway passes
  them so; WSGI only has CGI names): environ["steppe.raw_headers"];
* a body over the limit is refused with 413 before it is read: on its
  Content-Length, or as soon as a chunked body has decoded past the limit;
* waitress's own errors (400, 413, 431, 500...) are JSON, rendered by the
  application's error renderer (the API's gateway responses) when given.

LocalServer runs the event loop in the calling thread until stop() is called
from any thread or signal handler, then stops accepting, lets requests in
flight finish and closes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, get_header_lines
from waitress.rfc7230 import HEADER_FIELD_RE
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import RequestEntityTooLarge

from steppe.local.events import HttpResponse

logger = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]
# How errors waitress answers itself are rendered: (status, message) -> response.
ErrorRenderer = Callable[[int, str], HttpResponse]

# A Lambda response is at most 6 MB: keep whole responses in memory rather
# than spilling them to temporary files (waitress's default is 1 MB).
_OUTBUF_OVERFLOW = 16 * 1024 * 1024
# Request bodies up to this size stay in memory; larger ones go to a temp file.
_INBUF_OVERFLOW = 8 * 1024 * 1024


def body_too_large_message(size: int | None, limit: int) -> str:
    if size is None:
        return f"The request body is larger than the limit of {limit} bytes."
    return f"The request body is {size} bytes, larger than the limit of {limit} bytes."


class _BodyTooLarge(RequestEntityTooLarge):
    """413 with a sentence of ours as its message."""


class _Parser(HTTPRequestParser):
    raw_headers: list[tuple[str, str]] | None = None

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        start = header_plus.find(b"\r\n") + 2
        raw = []
        for line in get_header_lines(header_plus[start:]):
            found = HEADER_FIELD_RE.match(line)
            if found is None:  # pragma: no cover - the parent already refused it
                continue
            name, value = found.group("name", "value")
            if b"_" in name:  # waitress drops these (CGI ambiguity); so do we
                continue
            raw.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
        self.raw_headers = raw
        limit: int = self.adj.steppe_max_body
        if not self.chunked and self.content_length > limit:
            self.body_rcv = None  # read none of it
            self.expect_continue = False
            self.error = _BodyTooLarge(body_too_large_message(self.content_length, limit))

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        limit: int = self.adj.steppe_max_body
        body = self.body_rcv
        if self.chunked and body is not None and self.error is None and len(body) > limit:
            self.error = _BodyTooLarge(body_too_large_message(None, limit))
            self.completed = True
        elif isinstance(self.error, RequestEntityTooLarge) and not isinstance(
            self.error, _BodyTooLarge
        ):  # waitress's backstop fired: say it our way
            size = None if self.chunked else self.content_length
            self.error = _BodyTooLarge(body_too_large_message(size, limit))
        return consumed


class _Task(WSGITask):
    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ["steppe.raw_headers"] = getattr(self.request, "raw_headers", None)
        return environ


class _JsonErrorTask(ErrorTask):
    def execute(self) -> None:
        error = self.request.error
        message = (
            error.body if isinstance(error, _BodyTooLarge) else f"{error.reason}: {error.body}"
        )
        render: ErrorRenderer | None = self.channel.adj.steppe_error_response
        if render is None:
            status, headers = f"{error.code} {error.reason}", [("Content-Type", "application/json")]
            body = json.dumps({"message": message}).encode("utf-8")
        else:
            response = render(error.code, message)
            status, headers, body = response.status_line, response.headers, response.body
        self.status = status
        self.response_headers.extend(headers)
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    parser_class = _Parser
    task_class = _Task
    error_task_class = _JsonErrorTask


class _Server(TcpWSGIServer):
    channel_class = _Channel


class LocalServer:
    """A multi-threaded waitress server with a clean stop."""

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 8000,
        threads: int = 8,
        max_body_bytes: int = 50 * 1024 * 1024,
        error_response: ErrorRenderer | None = None,
        channel_timeout: int = 60,
    ) -> None:
        adj = Adjustments(
            host=host,
            port=port,
            threads=threads,
            ident="steppe",
            channel_timeout=channel_timeout,
            connection_limit=max(100, threads * 16),
            # Waitress's own limit only backs ours up: chunk framing counts there.
            max_request_body_size=2 * max_body_bytes + 1024 * 1024,
            inbuf_overflow=_INBUF_OVERFLOW,
            outbuf_overflow=_OUTBUF_OVERFLOW,
            # Headers reach the application as sent: no proxy-header rewriting.
            clear_untrusted_proxy_headers=False,
            asyncore_use_poll=True,
        )
        adj.steppe_max_body = max_body_bytes
        adj.steppe_error_response = error_response
        self._map: dict[int, Any] = {}
        self._dispatcher = ThreadedTaskDispatcher()
        self._dispatcher.set_thread_count(threads)
        self._servers = [
            _Server(app, self._map, dispatcher=self._dispatcher, adj=adj, sockinfo=info)
            for info in adj.listen
        ]
        self._stopping = threading.Event()
        self._stopped = threading.Event()

    @property
    def host(self) -> str:
        return str(self._servers[0].effective_host)

    @property
    def port(self) -> int:
        return int(self._servers[0].effective_port)

    @property
    def base_url(self) -> str:
        host = self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        """Serve until stop(); then finish the requests in flight and close."""
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=1.0, map=self._map, use_poll=True, count=1)
        finally:
            self._shutdown()
            self._stopped.set()

    def stop(self) -> None:
        """Ask run() to return; safe from any thread and from a signal handler."""
        self._stopping.set()
        for server in self._servers:
            with contextlib.suppress(OSError):  # already closed
                server.pull_trigger()

    def wait_stopped(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)

    def _busy(self) -> bool:
        return any(
            channel.requests or channel.total_outbufs_len
            for server in self._servers
            for channel in list(server.active_channels.values())
        )

    def _shutdown(self, grace: float = 10.0) -> None:
        for server in self._servers:
            wasyncore.dispatcher.close(server)  # stop accepting; keep the trigger for now
        deadline = time.monotonic() + grace
        while self._busy() and time.monotonic() < deadline:
            wasyncore.loop(timeout=0.05, map=self._map, use_poll=True, count=1)
        self._dispatcher.shutdown(cancel_pending=True, timeout=grace)
        for server in self._servers:
            server.trigger.close()
        wasyncore.close_all(self._map)
