"""`steppe push` on the embedded data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from steppe import cli
from steppe.runtime import services, use_services

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "0d6c4e1a-3b2f-4a5e-8c7d-9e0f1a2b3c4d"
WORKSPACE = "a1b2c3d4-e5f6-4789-8abc-def012345678"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("STEPPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STEPPE_BACKEND", "sqlite")
    use_services(None)
    assert cli.main(["bootstrap"]) == 0
    yield tmp_path / "data"
    use_services(None)


def _key(output: str) -> str:
    [line] = [line for line in output.splitlines() if "shown once" in line]
    return line.rsplit(" ", 1)[1]


def test_a_webhook_is_added_listed_rotated_and_removed(data_dir: Path, capsys):
    capsys.readouterr()
    command = ["push", "add", "soc", "--kind", "webhook", "--url", "https://soc.example.kg/in"]
    assert cli.main([*command, "--tlp", "amber", "--collection", "steppe indicators"]) == 0
    added = capsys.readouterr().out
    destination = services().store.get_destination_by_name("soc")
    key = _key(added)
    assert key.startswith("whk_") and destination.secret == key
    assert "kind=webhook" in added and "tlp=amber" in added and "types=indicator" in added

    for listing in (["push", "list"], ["push", "show", "soc"]):
        assert cli.main(listing) == 0
        shown = capsys.readouterr().out
        assert shown.startswith(f"soc  id={destination.id}  kind=webhook  tlp=amber")
        assert "url=https://soc.example.kg/in" in shown and key not in shown

    assert cli.main(["push", "rotate", "soc"]) == 0
    new_key = _key(capsys.readouterr().out)
    assert new_key != key and services().store.get_destination(destination.id).secret == new_key

    assert cli.main(["push", "remove", "soc"]) == 0
    assert f"removed push destination soc ({destination.id})" in capsys.readouterr().out
    assert services().store.list_destinations() == []
    assert cli.main(["push", "show", "soc"]) == 1
    assert "there is no push destination named 'soc'" in capsys.readouterr().err


def test_a_sentinel_secret_is_stored_and_never_printed(data_dir: Path, capsys):
    capsys.readouterr()
    sentinel = [
        "push",
        "add",
        "sentinel",
        "--kind",
        "sentinel",
        "--tenant-id",
        TENANT,
        "--client-id",
        CLIENT,
        "--workspace-id",
        WORKSPACE,
        "--client-secret",
        "Q~first",
    ]
    assert cli.main(sentinel) == 0
    out = capsys.readouterr().out
    assert "Q~first" not in out and "shown once" not in out and f"tenant_id={TENANT}" in out
    assert cli.main(["push", "rotate", "sentinel"]) == 1
    assert "(client_secret)" in capsys.readouterr().err
    assert cli.main(["push", "rotate", "sentinel", "--client-secret", "Q~second"]) == 0
    assert "Q~second" not in capsys.readouterr().out
    assert services().store.get_destination_by_name("sentinel").secret == "Q~second"


def test_bad_options_name_what_is_wrong_and_write_nothing(data_dir: Path, capsys):
    capsys.readouterr()
    cases = [
        (["--kind", "syslog"], "(kind)"),
        (["--kind", "webhook"], "(url)"),
        (["--kind", "webhook", "--url", "http://soc.example.kg/"], "(url)"),
        (["--kind", "webhook", "--url", "https://x.kg", "--tlp", "purple"], "(tlp)"),
        (["--kind", "webhook", "--url", "https://x.kg", "--collection", "no"], "(collections[0])"),
        (["--kind", "sentinel", "--tenant-id", TENANT], "(client_id)"),
    ]
    for options, where in cases:
        assert cli.main(["push", "add", "hook", *options]) == 1, options
        assert where in capsys.readouterr().err, options
    assert services().store.list_destinations() == []
    local = ["push", "add", "hook", "--kind", "webhook", "--url", "http://127.0.0.1:9999/h"]
    assert cli.main(local) == 0
    capsys.readouterr()
    assert cli.main(local) == 1
    assert "already exists" in capsys.readouterr().err
