"""The DynamoDB requests one 1,000-observable chunk makes (AWS shape, on moto).

A real submission of 1,000 observables (IPv4/IPv6 addresses, domains and
URLs, most with AS and country) is queued as one chunk, and the worker's task
(IngestService.process_chunk, as runtime.py builds it for AWS) processes it
while a botocore event hook on the store's DynamoDB client counts every
request by operation. Counts are deterministic; nothing here measures time.

The issue measured 3,008 Query and 1,282 BatchWriteItem requests for such a
chunk (one Query per object to find its latest version). On this tree before
the listing shards (commit 09a91c9) the chunk made 1,613 requests: 1,424
BatchWriteItem (4,447 versions x 8 items / 25), 103 BatchGetItem, 49
TransactWriteItems, 19 UpdateItem, 10 PutItem, 7 GetItem and 1 Query; the
latest-version reads were already batched. Sharding the listings leaves the
count unchanged (it moves items, it does not add any). The 5x target is NOT
met yet: the floor is the 8 items per version written in batches of 25 (see
the README's write ceiling); this test holds the count where it is and keeps
the per-object Query out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steppe.runtime import ingest_service
from support.app import App, example, open_app

OBSERVABLES = 1_000
CEILING = 1_613  # today's count (see the docstring); the 5x target would be 322


class Requests:
    """The DynamoDB operations a client sends, counted by name."""

    def __init__(self, client: Any) -> None:
        self.counts: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", self._sent)

    def _sent(self, model: Any, **_: Any) -> None:
        self.counts[model.name] += 1

    def total(self) -> int:
        return sum(self.counts.values())


def chunk_report(size: int) -> dict[str, Any]:
    """The example report with `size` distinct observables of four kinds."""
    body = example()
    observables: list[dict[str, Any]] = []
    for n in range(size):
        pick = n % 20
        if pick < 15:
            item: dict[str, Any] = {
                "type": "ipv4-addr",
                "value": f"10.{(n >> 8) & 255}.{n & 255}.{1 + pick}",
                "role": "source",
            }
            if pick < 10:
                item["asn"] = 64496 + n % 16
                item["country"] = ("RU", "UA", "KZ", "CN")[n % 4]
        elif pick < 17:
            item = {"type": "ipv6-addr", "value": f"2001:db8::{n:x}", "role": "source"}
        elif pick < 19:
            item = {"type": "domain-name", "value": f"c2-{n}.botnet.example.net", "role": "c2"}
        else:
            item = {"type": "url", "value": f"http://isp-{n}.example.org/", "role": "target"}
        observables.append(item)
    body["observables"] = observables
    return body


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path, backend="aws", STEPPE_SYNC_OBSERVABLES="10")
    yield opened
    opened.close()


def chunk_requests(app: App) -> Counter[str]:
    """Submit one 1,000-observable chunk and count what the worker's task sends."""
    accepted = app.submit(chunk_report(OBSERVABLES))
    assert accepted.status == 202, accepted.body
    submission_id = accepted.json()["id"]
    requests = Requests(app.services.store._table.client)
    result = ingest_service(app.services).process_chunk(submission_id, 1)
    assert result.error is None and sum(result.counts.values()) >= OBSERVABLES, result.counts
    return requests.counts


def test_a_chunk_costs_no_more_requests_than_it_did_and_no_query_per_object(app: App):
    counts = chunk_requests(app)
    assert sum(counts.values()) <= CEILING, counts
    assert counts["Query"] <= 10, counts
