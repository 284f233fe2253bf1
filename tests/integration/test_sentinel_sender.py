"""The Sentinel sender against a local HTTP server that answers as Microsoft documents.

The server plays both Entra ID's token endpoint and Sentinel's STIX objects upload API
(azure/sentinel/stix-objects-api): it checks the client-credentials form, the bearer
token, the api-version and the 100-objects limit, answers 200 with per-record errors
for objects it refuses, 429 with a retry hint, 500, and 401 for a token it revoked.
Time is a fake clock that advances only when the sender sleeps, so nothing waits.
"""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import stix2

from steppe.errors import InvalidInput
from steppe.push_senders.delivery_errors import DeliveryFailed
from steppe.push_senders.sentinel import RefusedRecord, SentinelSender

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "00001111-aaaa-2222-bbbb-3333cccc4444"
SECRET = "s3cret~value"
WORKSPACE = "6f1c2d3e-0000-4abc-8def-0123456789ab"
UPLOAD_PATH = f"/workspaces/{WORKSPACE}/threat-intelligence-stix-objects:upload"
SUPPORTED = {"indicator", "attack-pattern", "threat-actor", "identity", "relationship"}


class FakeMicrosoft:
    """What the server was told to do, and what it received."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token_forms: list[dict[str, list[str]]] = []
        self.uploads: list[dict] = []  # every upload call: auth, query, body, status
        self.issued = 0
        self.valid_tokens: set[str] = set()
        self.expires_in = 3599
        self.throttle_next = 0
        self.throttle_headers: dict[str, str] = {"Retry-After": "7"}
        self.throttle_message = "Rate limit is exceeded. Try again in 7 seconds."
        self.fail_next = 0
        self.fail_status = 500
        self.fail_headers: dict[str, str] = {}
        self.refuse_ids: set[str] = set()
        self.whole_request_status: int | None = None
        self.accept_tokens = True

    def revoke_tokens(self) -> None:
        with self.lock:
            self.valid_tokens.clear()

    def delivered_ids(self) -> list[str]:
        return [o["id"] for call in self.uploads if call["status"] == 200 for o in call["objects"]]


def make_handler(world: FakeMicrosoft) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def answer(self, status: int, body: object = None, headers: dict | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with world.lock:
                if url.path == f"/{TENANT}/oauth2/v2.0/token":
                    self.token(raw)
                elif url.path == UPLOAD_PATH:
                    self.upload(parse_qs(url.query), raw)
                else:
                    self.answer(404, {"error": {"code": "NotFound", "message": url.path}})

        def token(self, raw: bytes) -> None:
            assert self.headers["Content-Type"] == "application/x-www-form-urlencoded"
            form = parse_qs(raw.decode())
            world.token_forms.append(form)
            if form.get("grant_type") != ["client_credentials"] or form.get("scope") != [
                "https://management.azure.com/.default"
            ]:
                self.answer(400, {"error": "invalid_request", "error_description": "AADSTS900144"})
            elif form.get("client_id") != [CLIENT_ID] or form.get("client_secret") != [SECRET]:
                self.answer(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided.",
                    },
                )
            else:
                world.issued += 1
                token = f"token-{world.issued}"
                world.valid_tokens.add(token)
                self.answer(
                    200,
                    {
                        "token_type": "Bearer",
                        "expires_in": world.expires_in,
                        "ext_expires_in": world.expires_in,
                        "access_token": token,
                    },
                )

        def upload(self, query: dict[str, list[str]], raw: bytes) -> None:
            auth = self.headers.get("Authorization", "")
            body = json.loads(raw)
            call = {"auth": auth, "query": query, "body": body, "objects": body["stixobjects"]}
            world.uploads.append(call)
            call["status"] = status = self.upload_status(auth, query, body)
            if status == 401:
                self.answer(401, {"error": {"code": "InvalidAuthenticationToken"}})
            elif status == 429:
                self.answer(
                    429,
                    {"statusCode": 429, "message": world.throttle_message},
                    world.throttle_headers,
                )
            elif status >= 500:
                self.answer(
                    status,
                    {"error": {"code": "InternalServerError", "message": "boom"}},
                    world.fail_headers,
                )
            elif status == 400:
                self.answer(400, {"error": {"code": "BadRequest", "message": call["why"]}})
            elif status == 403:
                self.answer(403, {"error": {"code": "Forbidden", "message": "no role"}})
            else:
                errors = [
                    {"recordIndex": i, "errorMessages": messages}
                    for i, obj in enumerate(body["stixobjects"])
                    if (messages := record_errors(obj))
                ]
                self.answer(200, {"errors": errors} if errors else None)

        def upload_status(self, auth: str, query: dict, body: dict) -> int:
            token = auth.removeprefix("Bearer ")
            if not (auth.startswith("Bearer ") and world.accept_tokens):
                return 401
            if token not in world.valid_tokens:
                return 401
            if world.throttle_next:
                world.throttle_next -= 1
                return 429
            if world.fail_next:
                world.fail_next -= 1
                return world.fail_status
            if world.whole_request_status:
                world.uploads[-1]["why"] = "refused"
                return world.whole_request_status
            if query.get("api-version") != ["2024-02-01-preview"]:
                world.uploads[-1]["why"] = "unknown api-version"
                return 400
            if self.headers.get("Content-Type") != "application/json":
                world.uploads[-1]["why"] = "not JSON"
                return 400
            source = body.get("sourcesystem")
            if not source or source == "Microsoft Sentinel":
                world.uploads[-1]["why"] = "sourcesystem missing or reserved"
                return 400
            if not 0 < len(body.get("stixobjects") or []) <= 100:
                world.uploads[-1]["why"] = "stixobjects must hold 1 to 100 objects"
                return 400
            return 200

    def record_errors(obj: dict) -> list[str]:
        messages = [
            f"Error for Property={name}: Required property is missing. Actual value: NULL."
            for name in ("id", "type", "created", "modified")
            if name not in obj
        ]
        if obj.get("type") not in SUPPORTED:
            messages.append(f"Error for Property=type: unsupported type {obj.get('type')}")
        if obj.get("id") in world.refuse_ids:
            messages.append("Error for Property=pattern: Invalid pattern.")
        return messages

    return Handler


class FakeTime:
    """A clock that moves only when the sender sleeps; the sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def world():
    state = FakeMicrosoft()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def fake_time():
    return FakeTime()


def sender_for(world: FakeMicrosoft, fake_time: FakeTime, **overrides) -> SentinelSender:
    settings = {
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "workspace_id": WORKSPACE,
        "login_url": world.base,
        "api_url": world.base,
    }
    secret = overrides.pop("secret", SECRET)
    settings.update(overrides)
    return SentinelSender(settings, secret, sleep=fake_time.sleep, clock=fake_time.clock)


def indicators(count: int) -> list[dict]:
    return [
        json.loads(
            stix2.v21.Indicator(
                name=f"C2 server {n}",
                pattern=f"[ipv4-addr:value = '198.51.{n // 256}.{n % 256}']",
                pattern_type="stix",
                valid_from="2026-01-01T00:00:00Z",
                indicator_types=["malicious-activity"],
                object_marking_refs=[stix2.TLP_GREEN.id],
                allow_custom=True,
                x_steppe_score=80,
            ).serialize()
        )
        for n in range(count)
    ]


def test_250_indicators_go_as_100_100_50_in_order_with_one_token(world, fake_time):
    objects = indicators(250)

    refused = sender_for(world, fake_time).send(objects)

    assert refused == []
    assert [len(call["objects"]) for call in world.uploads] == [100, 100, 50]
    assert world.delivered_ids() == [o["id"] for o in objects]
    assert {call["auth"] for call in world.uploads} == {"Bearer token-1"}
    assert [call["body"]["sourcesystem"] for call in world.uploads] == ["steppe"] * 3
    assert len(world.token_forms) == 1
    assert world.token_forms[0]["client_id"] == [CLIENT_ID]
    assert world.token_forms[0]["client_secret"] == [SECRET]
    assert fake_time.waits == []


def test_the_token_is_reused_until_shortly_before_it_expires(world, fake_time):
    sender = sender_for(world, fake_time)
    sender.send(indicators(3))
    fake_time.now += 3000
    sender.send(indicators(3))
    assert world.issued == 1

    fake_time.now += 500  # within the refresh margin of expires_in (3599 s)
    sender.send(indicators(3))

    assert world.issued == 2
    assert world.uploads[-1]["auth"] == "Bearer token-2"


def test_a_throttled_request_waits_the_hinted_time_then_goes_through(world, fake_time):
    world.throttle_next = 2
    objects = indicators(5)

    assert sender_for(world, fake_time).send(objects) == []

    assert fake_time.waits == [7.0, 7.0]
    assert [call["status"] for call in world.uploads] == [429, 429, 200]
    assert world.delivered_ids() == [o["id"] for o in objects]


def test_without_retry_after_the_429_body_gives_the_wait(world, fake_time):
    world.throttle_next = 1
    world.throttle_headers = {}
    world.throttle_message = "Rate limit is exceeded. Try again in 13 seconds."

    sender_for(world, fake_time).send(indicators(2))

    assert fake_time.waits == [13.0]


def test_retry_after_as_an_http_date(world, fake_time):
    world.throttle_next = 1
    world.throttle_headers = {
        "Retry-After": format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    }

    sender_for(world, fake_time).send(indicators(2))

    assert len(fake_time.waits) == 1
    assert 20 < fake_time.waits[0] <= 30


def test_throttling_past_the_budget_fails_with_the_hint_and_caps_each_wait(world, fake_time):
    world.throttle_next = 1000
    world.throttle_headers = {"Retry-After": "300"}

    with pytest.raises(DeliveryFailed) as failed:
        sender_for(world, fake_time).send(indicators(4))

    assert failed.value.retry_after == 300
    assert not failed.value.permanent
    assert fake_time.waits == [60.0, 60.0]
    assert world.delivered_ids() == []


def test_a_server_error_is_retried_after_a_back_off(world, fake_time):
    world.fail_next = 1
    objects = indicators(3)

    assert sender_for(world, fake_time).send(objects) == []

    assert fake_time.waits == [1.0]
    assert world.delivered_ids() == [o["id"] for o in objects]


def test_three_server_errors_fail_for_a_later_retry(world, fake_time):
    world.fail_next = 3

    with pytest.raises(DeliveryFailed) as failed:
        sender_for(world, fake_time).send(indicators(3))

    assert not failed.value.permanent
    assert failed.value.retry_after is None
    assert "boom" in str(failed.value)
    assert len(world.uploads) == 3
    assert fake_time.waits == [1.0, 2.0]


def test_an_unavailable_service_is_waited_for_as_it_asks(world, fake_time):
    world.fail_next, world.fail_status, world.fail_headers = 3, 503, {"Retry-After": "9"}

    with pytest.raises(DeliveryFailed) as failed:
        sender_for(world, fake_time).send(indicators(1))

    assert fake_time.waits == [9.0, 9.0]
    assert failed.value.retry_after == 9
    assert not failed.value.permanent


def test_an_unreachable_api_fails_for_a_later_retry(world, fake_time):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"

    with pytest.raises(DeliveryFailed) as failed:
        sender_for(world, fake_time, api_url=dead).send(indicators(1))

    assert not failed.value.permanent
    assert fake_time.waits == [1.0, 2.0]


def test_refused_records_come_back_with_their_ids_and_do_not_block_the_rest(world, fake_time):
    objects = indicators(150)
    note = json.loads(
        stix2.v21.Note(content="seen on the perimeter", object_refs=[objects[0]["id"]]).serialize()
    )
    objects.insert(10, note)  # Sentinel does not take notes: not sent, indices still count it
    world.refuse_ids = {objects[3]["id"], objects[140]["id"]}

    refused = sender_for(world, fake_time).send(objects)

    assert refused == [
        RefusedRecord(3, objects[3]["id"], ("Error for Property=pattern: Invalid pattern.",)),
        RefusedRecord(140, objects[140]["id"], ("Error for Property=pattern: Invalid pattern.",)),
    ]
    sent = [o["id"] for o in objects if o["type"] == "indicator"]
    assert [o["id"] for call in world.uploads for o in call["objects"]] == sent
    assert [len(call["objects"]) for call in world.uploads] == [100, 50]


def test_a_revoked_token_is_refreshed_once(world, fake_time):
    sender = sender_for(world, fake_time)
    sender.send(indicators(2))
    world.revoke_tokens()

    sender.send(indicators(2))

    assert world.issued == 2
    assert [(c["auth"], c["status"]) for c in world.uploads] == [
        ("Bearer token-1", 200),
        ("Bearer token-1", 401),
        ("Bearer token-2", 200),
    ]


def test_401_after_the_refresh_is_permanent(world, fake_time):
    sender = sender_for(world, fake_time)
    sender.send(indicators(1))
    world.accept_tokens = False  # the app lost its role: every token is refused

    with pytest.raises(DeliveryFailed) as failed:
        sender.send(indicators(1))

    assert failed.value.permanent
    assert world.issued == 2
    assert [c["status"] for c in world.uploads] == [200, 401, 401]


def test_a_bad_secret_is_permanent_and_uploads_nothing(world, fake_time):
    with pytest.raises(DeliveryFailed) as failed:
        sender_for(world, fake_time, secret="wrong").send(indicators(1))

    assert failed.value.permanent
    assert "AADSTS7000215" in str(failed.value)
    assert "wrong" not in str(failed.value)
    assert world.uploads == []
    assert fake_time.waits == []


@pytest.mark.parametrize(("status", "said"), [(400, "refused"), (403, "no role")])
def test_a_refused_request_is_permanent_with_the_apis_message(world, fake_time, status, said):
    world.whole_request_status = status

    with pytest.raises(DeliveryFailed) as failed:
        sender_for(world, fake_time).send(indicators(1))

    assert failed.value.permanent
    assert said in str(failed.value)
    assert len(world.uploads) == 1


def test_an_unknown_workspace_is_permanent(world, fake_time):
    with pytest.raises(DeliveryFailed) as failed:
        sender_for(world, fake_time, workspace_id="not-this-one").send(indicators(1))

    assert failed.value.permanent
    assert "404" in str(failed.value)


def test_nothing_to_send_sends_nothing(world, fake_time):
    assert sender_for(world, fake_time).send([]) == []
    assert world.uploads == [] and world.token_forms == []


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"workspace_id": ""}, "settings.workspace_id"),
        ({"tenant_id": " "}, "settings.tenant_id"),
        ({"source_system": "Microsoft Sentinel"}, "settings.source_system"),
        ({"api_url": "ftp://example.org"}, "settings.api_url"),
        ({"secret": ""}, "client_secret"),
    ],
)
def test_bad_settings_name_what_is_wrong(world, fake_time, overrides, where):
    with pytest.raises(InvalidInput) as bad:
        sender_for(world, fake_time, **overrides)
    assert bad.value.where == where
