"""Two batches sharing a value, correlated at the same moment, still find each other."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from steppe.runtime import correlator as build_correlator
from support.app import App, example, open_app


@pytest.fixture(params=["sqlite", "aws"])
def quiet(request: pytest.FixtureRequest, tmp_path: Path):
    """Correlation jobs are not queued: the test runs them itself, two at once."""
    opened = open_app(tmp_path / "data", request.param, STEPPE_CORRELATE="0")
    yield opened
    opened.close()


def test_two_batches_correlated_at_once_are_linked(quiet: App, monkeypatch: pytest.MonkeyPatch):
    app = quiet
    first, second = example(), example()
    second["campaign"]["name"] = "Kyrgyzstan ISP DDoS, second wave"
    second["observables"] = [o for o in second["observables"] if o.get("value") == "198.51.100.7"]
    del second["malware"]  # the address alone is what they share
    ids = [app.submit(report).json()["id"] for report in (first, second)]

    # Both jobs reach their first lookup before either goes on: the worst interleaving
    # for a correlator that looked values up before indexing its own.
    store = app.services.store
    lookup = store.find_values
    both_there = threading.Barrier(2, timeout=30)
    waited: list[bool] = []

    def find_values(*args: Any, **kwargs: Any) -> Any:
        if len(waited) < 2:
            waited.append(True)
            both_there.wait()
        return lookup(*args, **kwargs)

    monkeypatch.setattr(store, "find_values", find_values)
    correlator = build_correlator(app.services)
    errors: list[BaseException] = []

    def run(submission_id: str) -> None:
        try:
            correlator.correlate_chunk(submission_id, 1)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []

    campaigns = {c.name: c.id for c in store.list_campaigns()}
    links = store.campaign_links(campaigns[first["campaign"]["name"]])
    exact = [link for link in links if link.strength == "exact"]
    # One evidence set per level from the reports' TLP up, each holding the shared value.
    assert {link.other_id for link in exact} == {campaigns[second["campaign"]["name"]]}
    assert {link.sample for link in exact} == {("ipv4-addr:198.51.100.7",)}
    assert sorted(link.tlp for link in exact) == list(range(min(x.tlp for x in exact), 5))
