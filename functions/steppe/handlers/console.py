"""The analysts' console at /console/ (in ApiFunction, without the API's authorizer).

GET /console             301 to /console/
GET /console/            index.html
GET /console/{path+}     a file under steppe/console/static/; 404 JSON when there is none

The files hold no data (every datum comes from the API with the caller's key),
so no credential is asked. Every answer carries the console's security headers:
a Content-Security-Policy that allows only this origin, nosniff, no referrer,
and `no-cache` with an ETag (304 on If-None-Match).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from steppe.console.assets import Assets
from steppe.errors import NotFound
from steppe.handlers.common import error_response
from steppe.handlers.http import header

router = APIGatewayRouter()
assets = Assets()

PREFIX = "/console"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@router.get(PREFIX, include_in_schema=False)
def console_root() -> Response[str]:
    path = str(router.current_event.raw_event.get("path") or "")
    if not path.endswith("/"):
        # Relative, so that a stage prefix (/v1/console) is kept.
        return Response(
            status_code=301,
            content_type="text/plain; charset=utf-8",
            body="moved to console/\n",
            headers={**SECURITY_HEADERS, "Location": "console/"},
        )
    return _serve("")


@router.get(f"{PREFIX}/<file_name>", include_in_schema=False)
def console_file(file_name: str) -> Response[str]:
    return _serve(_requested(file_name))


@router.get(f"{PREFIX}/<folder>/<file_name>", include_in_schema=False)
def console_nested_file(folder: str, file_name: str) -> Response[str]:
    return _serve(_requested(f"{folder}/{file_name}"))


def is_console_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def not_found(path: str) -> Response[str]:
    """The console's 404: a JSON error, with the console's headers."""
    response = error_response(NotFound(f"the console has no file {path!r}", where="path"))
    response.headers.update(SECURITY_HEADERS)
    return response


def _requested(captured: str) -> str:
    """The file path as the client meant it: the gateway's decoded {path+} when it has one."""
    decoded = (router.current_event.raw_event.get("pathParameters") or {}).get("path")
    return str(decoded) if decoded is not None else unquote(captured)


def _serve(path: str) -> Response[str]:
    asset = assets.find(path)
    if asset is None:
        return not_found(path)
    headers = {**SECURITY_HEADERS, "ETag": f'"{asset.etag}"'}
    if asset.matches(header(router.current_event.raw_event, "If-None-Match")):
        return Response(status_code=304, content_type=None, body="", headers=headers)
    return Response(
        status_code=200,
        content_type=asset.content_type,
        body=asset.body.decode("utf-8"),
        headers=headers,
    )
