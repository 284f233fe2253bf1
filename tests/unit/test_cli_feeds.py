"""`steppe feed` on the embedded data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from steppe import cli
from steppe.access.credentials import hash_key
from steppe.runtime import services, use_services


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("STEPPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STEPPE_BACKEND", "sqlite")
    monkeypatch.setenv("STEPPE_URL", "https://cti.example.org/")
    use_services(None)
    assert cli.main(["bootstrap"]) == 0
    yield tmp_path / "data"
    use_services(None)


def _url(output: str) -> str:
    [line] = [line for line in output.splitlines() if "shown once" in line]
    return line.rsplit(" ", 1)[1]


def test_a_feed_is_added_listed_rotated_and_removed(data_dir: Path, capsys):
    capsys.readouterr()
    code = cli.main(
        [
            "feed",
            "add",
            "fortigate",
            "--format",
            "text",
            "--collection",
            "steppe indicators",
            "--tlp",
            "amber",
            "--types",
            "ipv4-addr, ipv6-addr",
            "--min-score",
            "50",
            "--max-entries",
            "20000",
        ]
    )
    assert code == 0
    added = capsys.readouterr().out
    feed = services().store.get_feed_by_name("fortigate")
    url = _url(added)
    prefix = f"https://cti.example.org/feeds/{feed.id}/"
    assert url.startswith(prefix) and url.endswith("/feed.txt")
    token = url.removeprefix(prefix).removesuffix("/feed.txt")
    assert feed.token_hash == hash_key(token)
    assert "tlp=amber" in added and "types=ipv4-addr,ipv6-addr" in added
    assert "min-score=50" in added and "max-entries=20000" in added

    for command in (["feed", "list"], ["feed", "show", "fortigate"]):
        assert cli.main(command) == 0
        shown = capsys.readouterr().out
        assert shown.startswith(f"fortigate  id={feed.id}  format=text  tlp=amber")
        assert token not in shown and feed.token_hash not in shown and "/feeds/" not in shown

    assert cli.main(["feed", "rotate", "fortigate", "--url", "http://10.0.0.5:8000"]) == 0
    rotated = _url(capsys.readouterr().out)
    assert rotated.startswith(f"http://10.0.0.5:8000/feeds/{feed.id}/") and rotated != url
    new_token = rotated.split("/")[-2]
    assert services().store.get_feed(feed.id).token_hash == hash_key(new_token)

    assert cli.main(["feed", "remove", "fortigate"]) == 0
    assert f"removed feed fortigate ({feed.id})" in capsys.readouterr().out
    assert services().store.list_feeds() == []
    assert cli.main(["feed", "show", "fortigate"]) == 1
    assert "there is no feed named 'fortigate'" in capsys.readouterr().err


def test_bad_options_name_what_is_wrong_and_write_nothing(data_dir: Path, capsys):
    capsys.readouterr()
    cases = [
        (["--format", "pdf"], "(format)"),
        (["--format", "suricata-iprep", "--types", "url"], "(types)"),
        (["--format", "csv", "--min-score", "101"], "(min_score)"),
        (["--format", "csv", "--max-entries", "0"], "(max_entries)"),
        (["--format", "csv", "--tlp", "purple"], "(tlp)"),
        (["--format", "csv", "--collection", "nowhere"], "(collections[0])"),
    ]
    for options, where in cases:
        assert cli.main(["feed", "add", "edl", *options]) == 1, options
        assert where in capsys.readouterr().err, options
    assert services().store.list_feeds() == []
    assert cli.main(["feed", "add", "edl", "--format", "csv"]) == 0
    capsys.readouterr()
    assert cli.main(["feed", "add", "edl", "--format", "zeek"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert [f.format for f in services().store.list_feeds()] == ["csv"]
