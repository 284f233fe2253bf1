"""Feeds over HTTP (in ApiFunction, without the API's authorizer): the token is the credential.

GET /feeds/{feed_id}/{token}/{file}  the feed's files (its URL names the main one)
GET /feeds/{feed_id}/{token}         the feed's main file
GET /feeds/{feed_id}/{file}          with HTTP Basic credentials (user: feed id, password: token)

An unknown feed, a wrong token and an unknown file are all 404, the same body
for each: a caller without the token learns nothing about the feed.
"""

from __future__ import annotations

import base64
import binascii
from email.utils import formatdate

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from steppe import runtime
from steppe.distribution.feed_service import FeedAnswer
from steppe.errors import NotFound
from steppe.handlers.common import per_services
from steppe.handlers.http import header

router = APIGatewayRouter()
feed_services = per_services(runtime.feed_service)
_MAX_SEGMENT = 256


@router.get("/feeds/<feed_id>/<token>/<file_name>")
def feed_file(feed_id: str, token: str, file_name: str) -> Response[str]:
    return _serve(feed_id, token, file_name)


@router.get("/feeds/<feed_id>/<token>")
def feed_main(feed_id: str, token: str) -> Response[str]:
    # API Gateway names a path segment once for every route: with Basic
    # credentials, the segment after the feed id is the file.
    basic = _basic_credentials()
    if basic is not None:
        user, password = basic
        if user != feed_id:
            raise NotFound("no such feed", where="path")
        return _serve(feed_id, password, token)
    return _serve(feed_id, token, "")


def _serve(feed_id: str, token: str, file_name: str) -> Response:
    if max(len(feed_id), len(token), len(file_name)) > _MAX_SEGMENT:
        raise NotFound("no such feed", where="path")
    service = feed_services()
    feed = service.authenticate(feed_id, token)
    event = router.current_event.raw_event
    answer = service.serve(feed, file_name, if_none_match=header(event, "If-None-Match"))
    return _response(answer)


def _response(answer: FeedAnswer) -> Response:
    headers = {
        "ETag": f'"{answer.etag}"',
        "Last-Modified": formatdate(answer.last_modified / 1_000_000, usegmt=True),
        "Cache-Control": "private, no-cache",
        "X-Steppe-Truncated": "true" if answer.truncated else "false",
        "X-Steppe-Total": str(answer.total),
    }
    body = "" if answer.body is None else answer.body.decode("utf-8")
    return Response(
        status_code=answer.status, content_type=answer.media_type, body=body, headers=headers
    )


def _basic_credentials() -> tuple[str, str] | None:
    value = header(router.current_event.raw_event, "Authorization") or ""
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        user, sep, password = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None
