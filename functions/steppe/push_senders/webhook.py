"""The webhook sender: a signed JSON POST of a batch of STIX objects.

The body is `{"destination": <name>, "objects": [...]}`. Two headers let
the receiver check it came from steppe and is fresh:

    X-Steppe-Timestamp: <seconds since the epoch>
    X-Steppe-Signature: sha256=<hex HMAC-SHA256, keyed with the destination's
                        key, of the timestamp, ".", and the body's bytes>

A receiver recomputes the HMAC over the bytes it received, compares in
constant time, and refuses timestamps far from its clock (replays).

Any 2xx takes the batch. 5xx, 408, timeouts and unreachable hosts are tried
again within the call, TRIES times with a doubling pause; a 429 waits for
its Retry-After when that is at most MAX_INLINE_WAIT seconds, and otherwise
hands the hint to the caller (DeliveryFailed.retry_after) for the queue to
wait. Other answers (4xx, and redirects, which are not followed: a POST
redirected would arrive as a GET, or not at all) are permanent failures.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from steppe.push_senders.delivery_errors import DeliveryFailed

TIMEOUT = 10.0
TRIES = 3
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
MAX_INLINE_WAIT = 30.0
SIGNATURE_HEADER = "X-Steppe-Signature"
TIMESTAMP_HEADER = "X-Steppe-Timestamp"


def signature(key: str, timestamp: str, body: bytes) -> str:
    """The X-Steppe-Signature value of a body sent at `timestamp`."""
    mac = hmac.new(key.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is raised as an HTTPError


_opener = urllib.request.build_opener(_NoRedirects)


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds a Retry-After header asks to wait (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


class WebhookSender:
    """POSTs batches to one destination's URL, signed with its key."""

    def __init__(
        self,
        settings: Mapping[str, str],
        secret: str,
        *,
        name: str,
        urlopen: Callable[..., Any] = _opener.open,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = settings["url"]
        self._key = secret
        self._name = name
        self._urlopen = urlopen
        self._sleep = sleep
        self._clock = clock

    def send(self, objects: list[dict]) -> None:
        body = orjson.dumps({"destination": self._name, "objects": objects})
        for attempt in range(1, TRIES + 1):
            failure = self._post(body)
            if failure is None:
                return
            if failure.permanent or attempt == TRIES:
                raise failure
            wait = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
            if failure.retry_after is not None:
                if failure.retry_after > MAX_INLINE_WAIT:
                    raise failure  # the queue waits that long, not this call
                wait = max(wait, failure.retry_after)
            self._sleep(wait)
        raise AssertionError("unreachable")

    def _post(self, body: bytes) -> DeliveryFailed | None:
        """One POST: None when the batch was taken, else why not."""
        timestamp = str(int(self._clock()))
        request = urllib.request.Request(
            self._url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "steppe-push",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(self._key, timestamp, body),
            },
        )
        try:
            with self._urlopen(request, timeout=TIMEOUT) as response:
                response.read()
                return None
        except urllib.error.HTTPError as error:
            code = error.code
            hint = retry_after(error.headers.get("Retry-After"), self._clock())
            error.close()
            where = f"webhook {self._name}: {self._url} answered {code}"
            if code == 429 or code == 408 or code >= 500:
                return DeliveryFailed(where, retry_after=hint)
            return DeliveryFailed(where, permanent=True)
        except ValueError as error:  # a URL http.client refuses: no retry mends it
            return DeliveryFailed(f"webhook {self._name}: {error}", permanent=True)
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            return DeliveryFailed(f"webhook {self._name}: {self._url} unreachable: {reason}")
