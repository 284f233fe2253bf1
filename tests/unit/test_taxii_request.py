"""From an API Gateway proxy event to a TAXII request: headers, parameters, absolute URLs."""

from steppe.handlers.taxii_events import base_url, request_from_event


def _event(**overrides):
    event = {
        "resource": "/taxii2/{api_root}",
        "path": "/taxii2/steppe/",
        "httpMethod": "GET",
        "headers": {"Host": "taxii.cert.example.kg", "X-Forwarded-Proto": "https"},
        "multiValueHeaders": {
            "Host": ["taxii.cert.example.kg"],
            "X-Forwarded-Proto": ["https"],
            "Accept": ["application/taxii+json;version=2.0", "application/taxii+json"],
        },
        "queryStringParameters": {"match[type]": "campaign"},
        "multiValueQueryStringParameters": {"match[type]": ["indicator", "campaign"]},
        "pathParameters": {"api_root": "steppe"},
        "requestContext": {
            "path": "/v1/taxii2/steppe/",
            "stage": "v1",
            "domainName": "taxii.cert.example.kg",
            "requestId": "req-1",
            "authorizer": {"authenticated": "false", "problem": "no credentials"},
        },
        "body": None,
        "isBase64Encoded": False,
    }
    event.update(overrides)
    return event


def test_repeated_headers_and_parameters_are_all_kept():
    request = request_from_event(_event())
    assert request.header("Accept") == (
        "application/taxii+json;version=2.0, application/taxii+json"
    )
    assert request.params == {"match[type]": ["indicator", "campaign"]}
    assert request.query_string == "match[type]=indicator&match[type]=campaign"
    assert request.request_id == "req-1"
    assert not request.caller.authenticated


def test_a_custom_domain_gives_urls_without_the_stage():
    request = request_from_event(_event())
    assert request.url("/taxii2/steppe/") == "https://taxii.cert.example.kg/taxii2/steppe/"


def test_an_execute_api_url_keeps_its_stage():
    host = "a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com"
    context = {"path": "/v1/taxii2/", "stage": "v1", "domainName": host}
    headers = {"host": host, "x-forwarded-proto": "https"}
    assert base_url(headers, context, "/taxii2/") == f"https://{host}/v1"
    # Without a usable requestContext.path, the stage alone.
    assert base_url(headers, {"stage": "v1"}, "/taxii2/") == f"https://{host}/v1"


def test_the_embedded_server_is_reached_at_its_own_host_and_scheme():
    headers = {"host": "127.0.0.1:8000", "x-forwarded-proto": "http"}
    context = {"path": "/v1/taxii2/", "stage": "v1", "domainName": "127.0.0.1:8000"}
    assert base_url(headers, context, "/taxii2/") == "http://127.0.0.1:8000"


def test_base64_bodies_are_decoded():
    import base64

    event = _event(body=base64.b64encode(b'{"objects":[]}').decode(), isBase64Encoded=True)
    assert request_from_event(event).body == b'{"objects":[]}'
