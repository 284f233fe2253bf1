"""`steppe revoke` and `steppe false-positive` on the embedded data dir."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steppe import cli
from steppe.access.caller import Caller
from steppe.lifecycle.revocation import note_id
from steppe.runtime import ingest_service, services, use_services
from steppe.stix import tlp
from steppe.stix.identities import org_identity_id
from steppe.stix.timestamps import parse_micros
from steppe.store.port import IndexedValue, ObjectQuery

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kyrgyzstan-2009.json"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("STEPPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STEPPE_BACKEND", "sqlite")
    monkeypatch.setenv("STEPPE_CORRELATE", "0")
    use_services(None)
    assert cli.main(["bootstrap"]) == 0
    yield tmp_path / "data"
    use_services(None)


def submitted() -> tuple[str, dict[str, dict[str, Any]]]:
    """The Kyrgyzstan report, submitted by an analyst; its id and its indicators by address."""
    store = services().store
    default = next(c for c in store.list_collections("steppe") if c.default)
    analyst = Caller("analyst", "analyst", tlp.RED.rank, frozenset(), frozenset({default.id}), None)
    accepted = ingest_service(services()).submit(
        body=EXAMPLE.read_bytes(), content_type="application/json", params={}, caller=analyst
    )
    indicators = {}
    for result in store.chunk_results(accepted.submission_id):
        for object_id, _ in result.objects:
            if object_id.startswith("indicator--"):
                body = latest(default.id, object_id)
                indicators[body["pattern"].split("'")[1]] = body
    return accepted.submission_id, indicators


def latest(collection_id: str, object_id: str) -> dict[str, Any]:
    page = services().store.list_objects(
        collection_id, ObjectQuery(ids=frozenset({object_id}), limit=1)
    )
    [record] = page.records
    return json.loads(record.body)


def default_collection() -> str:
    return next(c.id for c in services().store.list_collections("steppe") if c.default)


def test_revoke_an_indicator_and_a_submission(data_dir: Path, capsys: pytest.CaptureFixture):
    submission_id, indicators = submitted()
    target = indicators["198.51.100.7"]["id"]
    code = cli.main(
        ["revoke", "indicator", target, "--reason", "sinkholed", "--analyst", "a.jumabaev"]
    )
    assert code == 0
    assert "revoked in 1 collection" in capsys.readouterr().out
    assert latest(default_collection(), target)["revoked"] is True
    note = latest(default_collection(), note_id(target))
    assert note["authors"] == ["a.jumabaev"] and note["content"] == "sinkholed"

    assert cli.main(["revoke", "submission", submission_id, "--reason", "test upload"]) == 0
    out = capsys.readouterr().out
    # 8 indicators: 6 observables, the bot's SHA-256 sample and its C2 address; one was revoked
    assert len(indicators) == 8
    assert "7 indicator(s) revoked, 1 already revoked" in out
    assert all(latest(default_collection(), i["id"])["revoked"] for i in indicators.values())


def test_false_positives_are_added_listed_and_removed(
    data_dir: Path, capsys: pytest.CaptureFixture
):
    submission_id, indicators = submitted()
    target = indicators["198.51.100.23"]
    store = services().store
    store.index_values(
        [
            IndexedValue(
                key="ipv4-addr:198.51.100.23",
                collection_id=default_collection(),
                object_id=target["id"],
                campaign_id=None,
                source=f"submission:{submission_id}",
                producer=org_identity_id("steppe"),
                tlp=tlp.AMBER.rank,
                first_seen=parse_micros("2009-01-18T02:12:00Z"),
                last_seen=parse_micros("2009-01-21T08:30:00Z"),
            )
        ]
    )
    assert cli.main(["false-positive", "add", "198.51.100.23", "--reason", "our scanner"]) == 0
    assert "1 indicator(s) revoked" in capsys.readouterr().out
    assert latest(default_collection(), target["id"])["revoked"] is True

    assert cli.main(["false-positive", "list"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("198.51.100.23 ") and line.endswith("operator  our scanner")

    assert cli.main(["false-positive", "remove", "198.51.100.23"]) == 0
    assert "no longer a false positive: 198.51.100.23" in capsys.readouterr().out
    assert store.list_false_positives() == []


def test_errors_are_one_line_and_exit_1(data_dir: Path, capsys: pytest.CaptureFixture):
    missing = "indicator--00000000-0000-4000-8000-000000000000"
    assert cli.main(["revoke", "indicator", missing, "--reason", "x"]) == 1
    assert "error: no collection you can see holds" in capsys.readouterr().err
    assert cli.main(["false-positive", "add", "not a value!", "--reason", "x"]) == 1
    assert "'not a value!' is not a value steppe recognises" in capsys.readouterr().err
    assert cli.main(["false-positive", "remove", "192.0.2.1"]) == 1
    assert "not marked as a false positive" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["revoke", "indicator", missing])  # --reason is required
