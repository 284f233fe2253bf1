"""The embedded server over real HTTP: waitress on an ephemeral port, the fixture handlers."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from local_fixtures import handlers
from local_fixtures.support import (
    echoed,
    fixture_routes,
    http_request,
    post_job,
    raw_exchange,
    running_server,
    start_serve_process,
    wait_for_file,
)

from steppe.config import Settings
from steppe.local.routes import RouteTable
from steppe.local.server import apply_function_environment
from steppe.store.sqlite import open_embedded

ALLOW = ("Authorization", "Bearer allow")
MAX_BODY = 1_000_000
UNIT_TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server():
    with running_server(fixture_routes(), max_body_bytes=MAX_BODY) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_records():
    handlers.reset()


def test_headers_reach_the_handler_with_the_names_the_client_sent(server):
    reply = http_request(
        server,
        "GET",
        "/items/42",
        headers=[
            ALLOW,
            ("x-TAXII-odd-Case", "1"),
            ("Accept", "application/taxii+json;version=2.1"),
            ("Accept", "application/json"),
        ],
    )
    event = echoed(reply)
    assert event["headers"]["x-TAXII-odd-Case"] == "1"
    assert event["headers"]["Authorization"] == "Bearer allow"
    assert event["multiValueHeaders"]["Accept"] == [
        "application/taxii+json;version=2.1",
        "application/json",
    ]
    assert event["headers"]["Accept"] == "application/json"
    assert event["headers"]["Host"] == f"127.0.0.1:{server.port}"
    assert event["headers"]["X-Forwarded-Port"] == str(server.port)
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"


def test_path_parameters_query_strings_and_the_unchanged_path(server):
    reply = http_request(
        server,
        "GET",
        "/items/kg%20ddos%2F2009/children?match%5Btype%5D=indicator&x=1&x=2",
        headers=[ALLOW],
    )
    event = echoed(reply)
    assert event["resource"] == "/items/{item_id}/children"
    assert event["path"] == "/items/kg%20ddos%2F2009/children"
    assert event["pathParameters"] == {"item_id": "kg ddos/2009"}
    assert event["multiValueQueryStringParameters"] == {
        "match[type]": ["indicator"],
        "x": ["1", "2"],
    }
    assert event["queryStringParameters"] == {"match[type]": "indicator", "x": "2"}


def test_taxii_paths_keep_their_trailing_slash(server):
    event = echoed(http_request(server, "GET", "/taxii2/"))
    assert (event["resource"], event["path"]) == ("/taxii2/", "/taxii2/")
    assert "authorizer" not in event["requestContext"]  # Auth: NONE
    assert echoed(http_request(server, "GET", "/taxii2"))["path"] == "/taxii2"


def test_execute_api_style_urls_with_the_stage_work_too(server):
    event = echoed(http_request(server, "GET", "/test/items/7", headers=[ALLOW]))
    assert event["path"] == "/items/7"
    assert event["requestContext"]["path"] == "/test/items/7"


def test_response_headers_status_and_body_come_from_the_handler(server):
    reply = http_request(server, "GET", "/items/1", headers=[ALLOW])
    assert reply.status == 200
    assert reply.header_values("Set-Cookie") == ["a=1", "b=2"]
    assert reply.header_values("X-Multi") == ["x", "y"]
    assert reply.header("X-Single") == "one"
    assert reply.header("Content-Type") == "application/json"
    assert int(reply.header("Content-Length")) == len(reply.body)
    assert reply.header("x-amzn-RequestId") == reply.json()["event"]["requestContext"]["requestId"]


def test_the_functions_literal_environment_is_applied_without_overriding(monkeypatch):
    monkeypatch.delenv("LOCAL_FIXTURE_FLAG", raising=False)
    monkeypatch.setenv("STEPPE_BACKEND", "sqlite")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "already-set")
    apply_function_environment(
        {
            "LOCAL_FIXTURE_FLAG": "from-template",
            "STEPPE_BACKEND": "aws",
            "POWERTOOLS_SERVICE_NAME": "x",
        }
    )
    assert os.environ["LOCAL_FIXTURE_FLAG"] == "from-template"
    assert os.environ["STEPPE_BACKEND"] == "sqlite"  # STEPPE_* describe the AWS shape: skipped
    assert os.environ["POWERTOOLS_SERVICE_NAME"] == "already-set"


def test_an_unknown_path_is_a_json_404_naming_method_and_path(server):
    reply = http_request(server, "PATCH", "/no/such/thing?x=1")
    assert reply.status == 404
    assert reply.header("Content-Type") == "application/json"
    assert reply.json() == {"message": "No route matches PATCH /no/such/thing."}


def test_a_known_path_with_the_wrong_method_is_a_405_with_allow(server):
    reply = http_request(server, "DELETE", "/items/9", headers=[ALLOW])
    assert reply.status == 405
    assert reply.header("Allow") == "GET"
    assert "DELETE" in reply.json()["message"]
    assert handlers.AUTHORIZER_EVENTS == []


def test_the_authorizer_decides_over_http(server):
    for token, status in (("allow", 200), ("deny", 403), ("elsewhere", 403), ("nobody", 401)):
        reply = http_request(
            server, "GET", "/items/1", headers=[("Authorization", f"Bearer {token}")]
        )
        assert reply.status == status, token
    missing = http_request(server, "GET", "/items/1")
    assert (missing.status, missing.json()) == (401, {"message": "Unauthorized"})
    assert len(handlers.ECHO_EVENTS) == 1


def test_the_real_templates_gateway_responses_shape_the_servers_own_errors():
    routes = RouteTable.from_template(UNIT_TESTS.parents[1] / "template.yaml")
    with running_server(routes, max_body_bytes=1000) as real:
        reply = http_request(real, "GET", "/no/such/route")
        assert reply.status == 404
        assert reply.json()["title"] == "Not found"
        assert reply.json()["request_id"] == reply.header("x-amzn-RequestId")

        refused = raw_exchange(
            real, b"POST /api/v1/observations HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"
        )
        head, _, body = refused.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413 ")
        assert json.loads(body)["title"] == "Payload too large"


def test_a_json_body_and_a_binary_body(server):
    text = json.dumps({"ips": ["195.34.16.2", "212.42.97.1"]}).encode()
    event = echoed(
        http_request(
            server,
            "POST",
            "/items",
            body=text,
            headers=[ALLOW, ("Content-Type", "application/json")],
        )
    )
    assert (event["body"], event["isBase64Encoded"]) == (text.decode(), False)

    blob = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    event = echoed(http_request(server, "POST", "/items", body=blob, headers=[ALLOW]))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == blob


def test_a_base64_response_is_sent_as_bytes(server):
    reply = http_request(server, "GET", "/respond/binary")
    assert (reply.status, reply.body) == (200, bytes(range(256)))
    assert reply.header("Content-Type") == "application/octet-stream"


def test_a_large_response_arrives_whole(server):
    reply = http_request(server, "GET", "/respond/big?size=3000000")
    assert reply.status == 200
    assert reply.body == b"x" * 3_000_000


@pytest.mark.parametrize(
    "kind", ["raise", "not-a-dict", "bytes-body", "no-status", "extra-key", "bad-base64"]
)
def test_a_failing_or_malformed_handler_is_a_502(server, kind, caplog):
    caplog.set_level(logging.ERROR, logger="steppe.local")
    reply = http_request(server, "GET", f"/respond/{kind}")
    assert (reply.status, reply.json()) == (502, {"message": "Internal server error"})
    assert any("local_fixtures.handlers.responses" in r.getMessage() for r in caplog.records)
    if kind == "raise":
        assert any(r.exc_info and "the handler broke" in str(r.exc_info[1]) for r in caplog.records)


def test_hop_by_hop_headers_from_the_handler_are_not_sent(server):
    reply = http_request(server, "GET", "/respond/hop-by-hop")
    assert reply.status == 200
    assert reply.header("X-Kept") == "yes"
    assert reply.header("Connection") != "close"


def test_a_body_over_the_limit_is_refused_before_it_is_read(server):
    # Only the headers are sent: the server answers without waiting for the body.
    head = (
        "POST /items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer allow\r\n"
        f"Content-Length: {MAX_BODY + 1}\r\n\r\n"
    ).encode()
    response = raw_exchange(server, head)
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in headers
    assert json.loads(body) == {
        "message": f"The request body is {MAX_BODY + 1} bytes, larger than the limit of "
        f"{MAX_BODY} bytes."
    }
    assert handlers.AUTHORIZER_EVENTS == []


def chunked(data: bytes, size: int) -> bytes:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def test_a_chunked_body_is_decoded_for_the_handler(server):
    data = json.dumps({"observables": list(range(5000))}).encode()
    head = (
        b"POST /items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer allow\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    response = raw_exchange(server, head, chunked(data, 1000))
    assert response.startswith(b"HTTP/1.1 200 OK")
    assert handlers.ECHO_EVENTS[-1]["body"] == data.decode()


def test_a_chunked_body_over_the_limit_is_refused(server):
    head = (
        b"POST /items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer allow\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    response = raw_exchange(server, head, chunked(b"y" * (MAX_BODY + 10), 65536))
    assert response.startswith(b"HTTP/1.1 413 ")
    assert b"larger than the limit of 1000000 bytes" in response
    assert handlers.ECHO_EVENTS == []


def test_waitress_own_errors_are_json_too(server):
    response = raw_exchange(server, b"GET /items/1 HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line.endswith(b" 400 Bad Request")
    assert "Bad Request" in json.loads(rest.partition(b"\r\n\r\n")[2])["message"]


def test_powertools_rest_resolver_runs_unchanged_behind_the_server(server):
    reply = http_request(
        server,
        "GET",
        "/pt/things/ip-195.34.16.2?tag=ddos&tag=kg",
        headers=[ALLOW, ("Accept", "application/json")],
    )
    assert reply.status == 200, reply.body
    assert reply.json() == {
        "thing_id": "ip-195.34.16.2",
        "partner": "kg-cert",
        "principal": "analyst-1",
        "tags": ["ddos", "kg"],
        "accept": "application/json",
    }
    created = http_request(
        server,
        "POST",
        "/pt/things",
        body=b'{"value": "Kyrgyzstan, January 2009"}',
        headers=[ALLOW, ("Content-Type", "application/json")],
    )
    assert (created.status, created.json()) == (
        201,
        {"received": {"value": "Kyrgyzstan, January 2009"}},
    )


def test_one_connection_serves_many_requests(server):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        for n in range(5):
            reply = http_request(server, "GET", f"/items/{n}", headers=[ALLOW], connection=conn)
            assert echoed(reply)["pathParameters"] == {"item_id": str(n)}
    finally:
        conn.close()


def test_requests_are_served_concurrently(server):
    def fetch(n: int) -> int:
        return http_request(server, "GET", f"/items/{n}?sleep=0.05", headers=[ALLOW]).status

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(fetch, range(24))) == [200] * 24
    assert sorted(e["pathParameters"]["item_id"] for e in handlers.ECHO_EVENTS) == sorted(
        str(n) for n in range(24)
    )


def test_stop_lets_a_request_in_flight_finish():
    with running_server(fixture_routes()) as server:
        replies = []
        slow = threading.Thread(
            target=lambda: replies.append(
                http_request(server, "GET", "/items/slow?sleep=0.5", headers=[ALLOW])
            )
        )
        slow.start()
        for _ in range(500):  # wait until the handler has the request
            if handlers.ECHO_EVENTS:
                break
            threading.Event().wait(0.01)
        assert handlers.ECHO_EVENTS, "the slow request never reached the handler"
        server.stop()
        slow.join(30)
        assert server.wait_stopped(30)
    assert [reply.status for reply in replies] == [200]
    with pytest.raises(OSError):
        http_request(server, "GET", "/taxii2/")


def test_serve_announces_its_urls_and_stops_on_sigterm_after_the_current_job(tmp_path):
    """`steppe serve` as a process: real services, real worker, SIGTERM mid-job."""
    serving = start_serve_process(tmp_path / "data", tmp_path / "stderr.log")
    marker = tmp_path / "job"
    try:
        announced = [serving.lines.get(timeout=10) for _ in range(3)]
        assert [line.split()[-1] for line in announced] == [
            f"{serving.base_url}/api/v1/",
            f"{serving.base_url}/api/v1/openapi.json",
            f"{serving.base_url}/taxii2/",
        ]
        post_job(serving.port, {"mode": "slow", "seconds": 1, "marker": str(marker)})
        assert wait_for_file(Path(f"{marker}.started")), "the worker never started the job"
        serving.process.send_signal(signal.SIGTERM)
        assert serving.process.wait(timeout=60) == 0, serving.log.read_text()
        serving.reader.join(10)
    finally:
        if serving.process.poll() is None:
            serving.process.kill()
            serving.process.wait()
    assert Path(f"{marker}.finished").exists()  # the job in hand was finished
    assert "steppe stopped.\n" in serving.stdout_lines()
    services = open_embedded(Settings.from_env({"STEPPE_DATA_DIR": str(tmp_path / "data")}))
    try:
        assert services.queue.pending() == 0  # ... and acknowledged, not left claimed
        assert services.queue.dead_letters() == []
    finally:
        services.close()
