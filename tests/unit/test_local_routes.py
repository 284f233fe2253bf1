"""The embedded server's route table: read from SAM templates, matched like API Gateway REST."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from local_fixtures.support import fixture_routes

from steppe.local.routes import (
    MethodNotAllowed,
    RouteMatch,
    RouteTable,
    TemplateError,
    default_template_path,
    load_template,
)

REPO_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def write_template(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(body))
    return path


# -- the real template --------------------------------------------------------------


def test_the_real_template_is_the_one_found_by_default():
    assert default_template_path().resolve() == REPO_TEMPLATE


def test_the_real_template_parses_into_the_deployed_routes():
    table = RouteTable.from_template(REPO_TEMPLATE)

    routes = {
        (r.method, r.resource): (
            r.function.handler,
            r.api.logical_id,
            r.api.stage,
            r.authorizer.function.handler if r.authorizer else None,
        )
        for r in table.routes
    }
    api, taxii, authorizer = (
        "steppe.handlers.api.lambda_handler",
        "steppe.handlers.taxii.lambda_handler",
        "steppe.handlers.authorizer.lambda_handler",
    )
    analyst_routes = [
        ("POST", "/api/v1/observations"),
        ("GET", "/api/v1/submissions"),
        ("GET", "/api/v1/submissions/{submission_id}"),
        ("GET", "/api/v1/submissions/{submission_id}/bundle"),
        ("POST", "/api/v1/submissions/{submission_id}/reprocess"),
        ("GET", "/api/v1/observables"),
        ("POST", "/api/v1/observables/lookup"),
        ("GET", "/api/v1/campaigns"),
        ("GET", "/api/v1/campaigns/{campaign_id}"),
        ("GET", "/api/v1/campaigns/graph"),
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/indicators/{indicator_id}/revoke"),
        ("POST", "/api/v1/submissions/{submission_id}/revoke"),
        ("GET", "/api/v1/false-positives"),
        ("POST", "/api/v1/false-positives"),
        ("DELETE", "/api/v1/false-positives"),
        ("POST", "/api/v1/sightings"),
        ("GET", "/api/v1/admin/partners"),
        ("POST", "/api/v1/admin/partners"),
        ("GET", "/api/v1/admin/partners/{name}"),
        ("PATCH", "/api/v1/admin/partners/{name}"),
        ("DELETE", "/api/v1/admin/partners/{name}"),
        ("POST", "/api/v1/admin/partners/{name}/rotate"),
        ("POST", "/api/v1/admin/partners/{name}/revoke"),
        ("GET", "/api/v1/admin/collections"),
        ("POST", "/api/v1/admin/collections"),
        ("PATCH", "/api/v1/admin/collections/{collection_id}"),
        ("GET", "/api/v1/admin/audit"),
        ("GET", "/api/v1/admin/feeds"),
        ("POST", "/api/v1/admin/feeds"),
        ("GET", "/api/v1/admin/feeds/{name}"),
        ("DELETE", "/api/v1/admin/feeds/{name}"),
        ("POST", "/api/v1/admin/feeds/{name}/rotate"),
        ("GET", "/api/v1/admin/push"),
        ("POST", "/api/v1/admin/push"),
        ("GET", "/api/v1/admin/push/{name}"),
        ("DELETE", "/api/v1/admin/push/{name}"),
        ("POST", "/api/v1/admin/push/{name}/rotate"),
    ]
    collection = "/taxii2/{api_root}/collections/{collection_id}"
    taxii_routes = [
        ("GET", "/taxii2"),
        ("GET", "/taxii2/{api_root}"),
        ("GET", "/taxii2/{api_root}/status/{status_id}"),
        ("GET", "/taxii2/{api_root}/collections"),
        ("GET", collection),
        ("GET", f"{collection}/manifest"),
        ("GET", f"{collection}/objects"),
        ("POST", f"{collection}/objects"),
        ("GET", f"{collection}/objects/{{object_id}}"),
        ("DELETE", f"{collection}/objects/{{object_id}}"),
        ("GET", f"{collection}/objects/{{object_id}}/versions"),
    ]
    assert routes == {
        **{route: (api, "SteppeApi", "v1", authorizer) for route in analyst_routes},
        ("GET", "/api/v1/openapi.json"): (api, "SteppeApi", "v1", None),
        # feeds carry their own credential (a token), checked by the function
        ("GET", "/feeds/{feed_id}/{token}"): (api, "SteppeApi", "v1", None),
        ("GET", "/feeds/{feed_id}/{token}/{file_name}"): (api, "SteppeApi", "v1", None),
        # the console's static files: no data, no credential
        ("GET", "/console"): (api, "SteppeApi", "v1", None),
        ("GET", "/console/{path+}"): (api, "SteppeApi", "v1", None),
        **{route: (taxii, "SteppeApi", "v1", authorizer) for route in taxii_routes},
    }
    guarded = next(r for r in table.routes if r.authorizer)
    assert guarded.authorizer.payload_type == "REQUEST"
    assert guarded.function.timeout == 29 and guarded.function.memory_mb == 1024

    trigger = table.sqs_trigger()
    assert trigger.function.handler == "steppe.handlers.worker.lambda_handler"
    assert trigger.function.timeout == 300
    assert (trigger.queue, trigger.batch_size, trigger.report_batch_item_failures) == (
        "WorkQueue",
        1,
        True,
    )
    assert (trigger.visibility_timeout, trigger.max_receive_count) == (1800, 5)

    match = table.match("GET", "/api/v1/submissions/sub-42/bundle")
    assert isinstance(match, RouteMatch)
    assert match.path_parameters == {"submission_id": "sub-42"}


# -- reading templates ----------------------------------------------------------------


def test_cloudformation_short_forms_load_as_their_long_forms(tmp_path):
    path = write_template(
        tmp_path,
        """\
        Resources:
          Thing:
            Type: AWS::SQS::Queue
            Properties:
              A: !Ref Other
              B: !GetAtt Other.Arn
              C: !GetAtt [Other, Arn]
              D: !Sub "arn:${AWS::Partition}:s3:::${Bucket}/*"
              E: !If [IsProd, !Ref Big, !Ref AWS::NoValue]
              F: !Join ["", [a, !Ref B]]
              G: !Select [0, !GetAZs ""]
              H: !Condition IsProd
        """,
    )
    properties = load_template(path)["Resources"]["Thing"]["Properties"]
    assert properties == {
        "A": {"Ref": "Other"},
        "B": {"Fn::GetAtt": ["Other", "Arn"]},
        "C": {"Fn::GetAtt": ["Other", "Arn"]},
        "D": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/*"},
        "E": {"Fn::If": ["IsProd", {"Ref": "Big"}, {"Ref": "AWS::NoValue"}]},
        "F": {"Fn::Join": ["", ["a", {"Ref": "B"}]]},
        "G": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "H": {"Condition": "IsProd"},
    }


def test_fixture_template_routes_functions_and_authorizers():
    table = fixture_routes()
    by_event = {r.event_name: r for r in table.routes}

    assert by_event["GetSpecialItem"].method == "GET"  # declared as "get"
    assert by_event["Files"].method == "ANY"
    assert by_event["Discovery"].resource == "/taxii2/"
    assert by_event["Public"].authorizer is None  # Auth: {Authorizer: NONE}
    assert by_event["GetItem"].function.timeout == 7  # the function's own Timeout
    assert by_event["GetThing"].function.timeout == 10  # from Globals
    assert by_event["GetItem"].function.memory_mb == 256

    request_auth = by_event["GetItem"].authorizer
    assert request_auth.payload_type == "REQUEST"
    assert request_auth.function.handler == "local_fixtures.handlers.authorizer"
    assert request_auth.identity_headers == ("Authorization",)

    token_route = by_event["TokenHello"]
    assert (token_route.api.logical_id, token_route.api.stage) == ("TokenApi", "tok")
    assert token_route.authorizer.payload_type == "TOKEN"  # SAM's default payload type
    assert token_route.authorizer.identity_headers == ("X-Api-Token",)
    unauthorized = token_route.api.gateway_responses["UNAUTHORIZED"]
    assert unauthorized.status == 401
    assert unauthorized.headers == (("WWW-Authenticate", 'Bearer realm="fixture"'),)

    # Only literal environment values are kept (a !Ref has no value locally).
    assert table.environment == {"STEPPE_BACKEND": "aws", "LOCAL_FIXTURE_FLAG": "from-template"}

    trigger = table.sqs_trigger()
    assert (trigger.function.handler, trigger.batch_size) == (
        "local_fixtures.handlers.sqs_worker",
        2,
    )
    assert (trigger.visibility_timeout, trigger.max_receive_count) == (120, 3)


# -- matching --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return fixture_routes()


def matched(table: RouteTable, method: str, path: str) -> RouteMatch:
    result = table.match(method, path)
    assert isinstance(result, RouteMatch), f"{method} {path} -> {result}"
    return result


def test_literal_segments_beat_path_parameters(table):
    assert matched(table, "GET", "/items/special").route.resource == "/items/special"
    other = matched(table, "GET", "/items/ordinary")
    assert other.route.resource == "/items/{item_id}"
    assert other.path_parameters == {"item_id": "ordinary"}


def test_a_literal_that_leads_nowhere_falls_back_to_the_parameter(table):
    # /items/special has no children, /items/{item_id}/children does.
    found = matched(table, "GET", "/items/special/children")
    assert found.route.resource == "/items/{item_id}/children"
    assert found.path_parameters == {"item_id": "special"}


def test_path_parameters_are_url_decoded_and_event_path_is_unchanged(table):
    found = matched(table, "GET", "/items/caf%C3%A9%20%2F%202009")
    assert found.path_parameters == {"item_id": "café / 2009"}
    assert found.path == "/items/caf%C3%A9%20%2F%202009"


def test_greedy_proxy_takes_the_rest_of_the_path(table):
    found = matched(table, "DELETE", "/files/reports/2009/kg%20ddos.pdf")
    assert found.route.resource == "/files/{proxy+}"
    assert found.path_parameters == {"proxy": "reports/2009/kg ddos.pdf"}
    assert table.match("GET", "/files") is None  # {proxy+} needs at least one segment
    assert table.match("GET", "/files/") is None


def test_any_method_accepts_every_method(table):
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"):
        assert matched(table, method, "/public").route.method == "ANY"


def test_a_single_trailing_slash_is_tolerated_and_kept_in_event_path(table):
    assert matched(table, "GET", "/taxii2/").path == "/taxii2/"
    assert matched(table, "GET", "/taxii2").path == "/taxii2"
    assert matched(table, "POST", "/items/").route.resource == "/items"
    assert table.match("GET", "/taxii2//") is None
    assert table.match("GET", "/items//children") is None  # an empty segment is no parameter


def test_known_path_with_wrong_method_reports_the_allowed_ones(table):
    result = table.match("DELETE", "/items/42")
    assert result == MethodNotAllowed("/items/{item_id}", ("GET",))
    assert table.match("GET", "/items") == MethodNotAllowed("/items", ("POST",))


def test_unknown_paths_match_nothing(table):
    assert table.match("GET", "/") is None
    assert table.match("GET", "/nothing/here") is None
    assert table.match("GET", "/items/1/children/2") is None


def test_a_stage_prefixed_path_is_served_with_the_stage_removed(table):
    found = matched(table, "GET", "/test/items/42")
    assert found.route.resource == "/items/{item_id}"
    assert found.path == "/items/42"
    assert matched(table, "GET", "/tok/token/hello").path == "/token/hello"


# -- what the runtime refuses ----------------------------------------------------------

_FUNCTION = """\
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {{StageName: s}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: m.h
      Events:
{events}
"""


def events_template(tmp_path: Path, *events: tuple[str, str]) -> Path:
    lines = []
    for index, (method, path) in enumerate(events):
        lines.append(f"        E{index}:")
        lines.append("          Type: Api")
        lines.append(
            f'          Properties: {{RestApiId: !Ref Api, Path: "{path}", Method: {method}}}'
        )
    return write_template(tmp_path, _FUNCTION.format(events="\n".join(lines)))


@pytest.mark.parametrize(
    ("events", "complaint"),
    [
        ((("GET", "/a/{id}"), ("GET", "/a/{id}")), "declared twice"),
        ((("GET", "/a/{id}"), ("GET", "/a/{name}/b")), "'name' where another route names it 'id'"),
        ((("GET", "/a/{rest+}/b"),), "must be the last segment"),
        ((("FETCH", "/a"),), "unknown Method"),
    ],
)
def test_templates_the_runtime_cannot_serve_are_refused(tmp_path, events, complaint):
    with pytest.raises(TemplateError, match=complaint):
        RouteTable.from_template(events_template(tmp_path, *events))


def test_invalid_yaml_is_reported_with_its_position(tmp_path):
    path = write_template(
        tmp_path,
        """\
        Resources:
          Fn:
            Properties: {Path: /a/{id}, Method: GET}
        """,
    )
    with pytest.raises(TemplateError, match=r"(?s)not valid YAML.*line 3"):
        RouteTable.from_template(path)


def test_an_undeclared_authorizer_is_refused(tmp_path):
    path = write_template(
        tmp_path,
        """\
        Resources:
          Api:
            Type: AWS::Serverless::Api
            Properties: {StageName: s}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Handler: m.h
              Events:
                E:
                  Type: Api
                  Properties: {RestApiId: !Ref Api, Path: /a, Method: GET, Auth: {Authorizer: Nope}}
        """,
    )
    with pytest.raises(TemplateError, match="authorizer Nope is not a Lambda authorizer"):
        RouteTable.from_template(path)


def test_the_worker_needs_exactly_one_sqs_function(tmp_path):
    table = RouteTable.from_template(events_template(tmp_path, ("GET", "/a")))
    with pytest.raises(TemplateError, match="exactly one SQS-triggered function"):
        table.sqs_trigger()
