"""Sightings in the analyst API: a SIEM (or an analyst) says what it saw.

    POST /api/v1/sightings   {"value" | "indicator_id", "count", "first_seen", "last_seen",
                              "organisation", "outcome", "note"}

Any authenticated caller, for indicators it may read; the rules live in
steppe.distribution.sightings.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from steppe.distribution.sightings import describe, parse_report
from steppe.handlers.common import caller_of, json_object, json_response, per_services
from steppe.handlers.http import raw_body
from steppe.runtime import sighting_service

router = APIGatewayRouter()

sightings = per_services(sighting_service)


@router.post(
    "/api/v1/sightings",
    summary="Report a sighting of an indicator",
    description="Body: value (an address, domain, URL, hash, email) or indicator_id; count "
    "(1..1,000,000); first_seen, last_seen (default now); organisation (who saw it); outcome "
    '("true-positive" or "false-positive"); note (why, at most 1000 characters). Writes a '
    "STIX sighting of every indicator you may read that carries the value; a true positive "
    "refreshes the score of steppe's indicators, a false positive lowers it, and enough false "
    "positives declare the value one. 404 when no indicator you may read matches.",
    tags=["Sightings"],
)
def report_sighting() -> Response[dict]:
    caller = caller_of(router.current_event.raw_event)
    caller.require_authenticated()
    report = parse_report(json_object(raw_body(router.current_event.raw_event)))
    done = sightings().report(report, caller)
    return json_response(201, describe(done))
