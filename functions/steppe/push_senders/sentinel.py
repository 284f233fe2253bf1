"""Deliver STIX objects to Microsoft Sentinel through its STIX objects upload API.

Facts this module relies on, from Microsoft's documentation (learn.microsoft.com,
"Import threat intelligence to Microsoft Sentinel with the upload API (Preview)",
azure/sentinel/stix-objects-api, revision of 2024-05-30, and "Connect your threat
intelligence platform to Microsoft Sentinel with the upload API",
azure/sentinel/connect-threat-intelligence-upload-api):

- Token: OAuth 2.0 client-credentials grant at
  POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token with grant_type,
  client_id, client_secret and scope https://management.azure.com/.default (the API
  accepts only management.azure.com / management.core.windows.net audiences).
- Upload: POST https://api.ti.sentinel.azure.com/workspaces/{workspaceId}/
  threat-intelligence-stix-objects:upload?api-version=2024-02-01-preview, bearer token,
  Content-Type application/json, body {"sourcesystem": str, "stixobjects": [...]};
  the source system name "Microsoft Sentinel" is reserved.
- Types with (enhanced) support: indicator, attack-pattern, threat-actor, identity,
  relationship; an object's type must be a supported one. Other types are not sent.
  Properties outside Sentinel's schema (our custom ones) are accepted and ignored.
- Limits per caller: 100 objects a request, 100 requests a minute. 429 answers with a
  body whose message says "Try again in <n> seconds".
- Status codes: 200 when at least one object was taken; 400 bad format; 401
  unauthorized; 404 workspace not found; 429 rate limit; 500 server error.
- A 200 may carry {"errors": [{"recordIndex": i, "errorMessages": [...]}]}, i counted
  from 0 in the request's stixobjects; an empty body means every object was taken.
- The app needs the Microsoft Sentinel Contributor role on the workspace.

Re-sending an object already taken is harmless (same id and modified), so a batch that
fails part-way is retried whole by the queue.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode

from steppe.errors import InvalidInput
from steppe.push_senders.delivery_errors import DeliveryFailed

logger = logging.getLogger(__name__)

DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"
DEFAULT_API_URL = "https://api.ti.sentinel.azure.com"
DEFAULT_SOURCE_SYSTEM = "steppe"
RESERVED_SOURCE_SYSTEM = "Microsoft Sentinel"
API_VERSION = "2024-02-01-preview"
TOKEN_SCOPE = "https://management.azure.com/.default"
MAX_OBJECTS_PER_REQUEST = 100
ACCEPTED_TYPES = frozenset(
    {"indicator", "attack-pattern", "threat-actor", "identity", "relationship"}
)

TIMEOUT_SECONDS = 10.0
MAX_WAIT_SECONDS = 60.0
WAIT_BUDGET_SECONDS = 120.0
DEFAULT_THROTTLE_WAIT_SECONDS = 10.0
SERVER_ERROR_TRIES = 3
TOKEN_REFRESH_MARGIN_SECONDS = 120.0

_TRY_AGAIN_IN = re.compile(r"try again in (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)


@dataclass(frozen=True)
class RefusedRecord:
    """An object Sentinel would not take; the rest of its request was taken."""

    index: int  # position in the list given to send()
    object_id: str | None
    messages: tuple[str, ...]


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None

    def message(self) -> str:
        """The service's own words on a failed call, whatever shape they came in."""
        data = self.json()
        if isinstance(data, dict):
            error = data.get("error")
            if isinstance(error, dict) and error.get("message"):
                return str(error["message"])
            for key in ("error_description", "message", "error"):
                if data.get(key):
                    return str(data[key])
            if data.get("errors"):
                return json.dumps(data["errors"])[:500]
        return self.body.decode("utf-8", "replace").strip()[:500] or "(no message)"


class _Unreachable(Exception):
    """No HTTP answer: connection refused, reset, DNS failure or timeout."""


def _required(settings: Mapping[str, str], key: str) -> str:
    value = settings.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"a sentinel destination needs {key}", where=f"settings.{key}")
    return value.strip()


def _base_url(settings: Mapping[str, str], key: str, default: str) -> str:
    value = settings.get(key) or default
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise InvalidInput(f"{key} must be an http(s) URL, got {value!r}", where=f"settings.{key}")
    return value.rstrip("/")


class SentinelSender:
    """Uploads STIX objects to one Sentinel workspace, 100 at a time, in order."""

    def __init__(
        self,
        settings: Mapping[str, str],
        secret: str,
        *,
        urlopen: Callable[..., Any] = urllib.request.urlopen,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tenant_id = _required(settings, "tenant_id")
        self._client_id = _required(settings, "client_id")
        workspace_id = _required(settings, "workspace_id")
        if not isinstance(secret, str) or not secret:
            raise InvalidInput(
                "a sentinel destination needs a client secret", where="client_secret"
            )
        self._secret = secret
        self._source_system = (settings.get("source_system") or DEFAULT_SOURCE_SYSTEM).strip()
        if self._source_system.casefold() == RESERVED_SOURCE_SYSTEM.casefold():
            raise InvalidInput(
                f"source_system {RESERVED_SOURCE_SYSTEM!r} is reserved by Microsoft",
                where="settings.source_system",
            )
        login_url = _base_url(settings, "login_url", DEFAULT_LOGIN_URL)
        api_url = _base_url(settings, "api_url", DEFAULT_API_URL)
        self._token_url = f"{login_url}/{quote(self._tenant_id, safe='')}/oauth2/v2.0/token"
        self._upload_url = (
            f"{api_url}/workspaces/{quote(workspace_id, safe='')}"
            f"/threat-intelligence-stix-objects:upload?api-version={API_VERSION}"
        )
        self._urlopen = urlopen
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._token_good_until = 0.0

    def send(self, objects: list[dict]) -> list[RefusedRecord]:
        """Upload the objects; return those Sentinel refused one by one.

        Raises DeliveryFailed when a request as a whole was not taken.
        """
        started = self._clock()
        accepted = [(i, o) for i, o in enumerate(objects) if o.get("type") in ACCEPTED_TYPES]
        if len(accepted) < len(objects):
            skipped = sorted({str(o.get("type")) for o in objects} - ACCEPTED_TYPES)
            logger.info(
                "sentinel: not sending %d objects of types Sentinel does not take: %s",
                len(objects) - len(accepted),
                ", ".join(skipped),
            )
        refused: list[RefusedRecord] = []
        for start in range(0, len(accepted), MAX_OBJECTS_PER_REQUEST):
            refused.extend(self._upload(accepted[start : start + MAX_OBJECTS_PER_REQUEST], started))
        for record in refused:
            logger.warning("sentinel refused %s: %s", record.object_id, "; ".join(record.messages))
        return refused

    def _upload(self, chunk: list[tuple[int, dict]], started: float) -> list[RefusedRecord]:
        body = json.dumps(
            {"sourcesystem": self._source_system, "stixobjects": [o for _, o in chunk]}
        ).encode("utf-8")
        refreshed = False
        server_failures = 0
        while True:
            token = self._access_token(started)
            request = urllib.request.Request(
                self._upload_url,
                data=body,
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            try:
                reply = self._exchange(request)
            except _Unreachable as exc:
                server_failures = self._after_server_failure(server_failures, str(exc), started)
                continue
            if 200 <= reply.status < 300:
                return self._refusals(reply, chunk)
            if reply.status == 401 and not refreshed:
                self._token = None
                refreshed = True
                continue
            if reply.status == 429:
                self._wait_throttled(reply, started)
                continue
            if reply.status >= 500:
                what = f"HTTP {reply.status}: {reply.message()}"
                server_failures = self._after_server_failure(
                    server_failures, what, started, hint=_retry_hint(reply)
                )
                continue
            raise DeliveryFailed(
                f"Sentinel refused the upload (HTTP {reply.status}): {reply.message()}",
                permanent=True,
            )

    def _access_token(self, started: float) -> str:
        if self._token is not None and self._clock() < self._token_good_until:
            return self._token
        form = urlencode(
            {
                "client_id": self._client_id,
                "client_secret": self._secret,
                "grant_type": "client_credentials",
                "scope": TOKEN_SCOPE,
            }
        ).encode("ascii")
        server_failures = 0
        while True:
            request = urllib.request.Request(
                self._token_url,
                data=form,
                method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            try:
                reply = self._exchange(request)
            except _Unreachable as exc:
                server_failures = self._after_server_failure(server_failures, str(exc), started)
                continue
            if reply.status == 200:
                return self._keep_token(reply)
            if reply.status == 429:
                self._wait_throttled(reply, started)
                continue
            if reply.status >= 500:
                what = f"token endpoint HTTP {reply.status}: {reply.message()}"
                server_failures = self._after_server_failure(server_failures, what, started)
                continue
            raise DeliveryFailed(
                f"Entra ID refused the client credentials of app {self._client_id} "
                f"(HTTP {reply.status}): {reply.message()}",
                permanent=True,
            )

    def _keep_token(self, reply: _Reply) -> str:
        data = reply.json()
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise DeliveryFailed("Entra ID answered 200 without an access_token")
        try:
            lifetime = float(data.get("expires_in", 0))
        except (TypeError, ValueError):
            lifetime = 0.0
        self._token = token
        self._token_good_until = (
            self._clock() + lifetime - min(TOKEN_REFRESH_MARGIN_SECONDS, lifetime / 2)
        )
        return token

    def _exchange(self, request: urllib.request.Request) -> _Reply:
        try:
            with self._urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return _Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return _Reply(exc.code, exc.headers, exc.read())
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise _Unreachable(f"{request.full_url.split('?')[0]} unreachable: {exc}") from exc

    def _after_server_failure(
        self, failures: int, what: str, started: float, *, hint: float | None = None
    ) -> int:
        """Back off 1 s, then 2 s (or longer if a 503 says so); the third failure gives up."""
        failures += 1
        if failures >= SERVER_ERROR_TRIES:
            raise DeliveryFailed(
                f"Sentinel failed {failures} times; last: {what}", retry_after=hint
            )
        self._pause(max(float(2 ** (failures - 1)), hint or 0.0), started, hint=hint, why=what)
        return failures

    def _wait_throttled(self, reply: _Reply, started: float) -> None:
        hint = _retry_hint(reply)
        self._pause(
            hint if hint is not None else DEFAULT_THROTTLE_WAIT_SECONDS,
            started,
            hint=hint,
            why=f"HTTP {reply.status}: {reply.message()}",
        )

    def _pause(self, seconds: float, started: float, *, hint: float | None, why: str) -> None:
        wait = min(max(seconds, 0.0), MAX_WAIT_SECONDS)
        if self._clock() - started + wait > WAIT_BUDGET_SECONDS:
            raise DeliveryFailed(
                f"Sentinel still throttling or failing after {WAIT_BUDGET_SECONDS:.0f} s; "
                f"last: {why}",
                retry_after=hint,
            )
        self._sleep(wait)

    @staticmethod
    def _refusals(reply: _Reply, chunk: list[tuple[int, dict]]) -> list[RefusedRecord]:
        data = reply.json()
        errors = data.get("errors") if isinstance(data, dict) else None
        refused = []
        for error in errors or ():
            position = error.get("recordIndex") if isinstance(error, dict) else None
            if not isinstance(position, int) or not 0 <= position < len(chunk):
                logger.warning("sentinel: per-record error without a valid recordIndex: %r", error)
                continue
            index, obj = chunk[position]
            messages = error.get("errorMessages") or []
            refused.append(
                RefusedRecord(
                    index=index,
                    object_id=obj.get("id"),
                    messages=tuple(str(m) for m in messages),
                )
            )
        return refused


def _retry_hint(reply: _Reply) -> float | None:
    """Seconds to wait: Retry-After (seconds or HTTP date), else the 429 body's own words."""
    value = (reply.headers.get("Retry-After") or "").strip() if reply.headers else ""
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max((when - datetime.now(UTC)).total_seconds(), 0.0)
    found = _TRY_AGAIN_IN.search(reply.message())
    return float(found.group(1)) if found else None
