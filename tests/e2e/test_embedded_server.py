"""The embedded service as a new user meets it: `steppe serve`, HTTP, the CLI, a restart."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import stix2
from stix2validator import ValidationOptions, validate_instance

from support.server import steppe_env, steppe_serve

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kyrgyzstan-2009.json"


def test_submit_restart_and_find_everything_still_there(tmp_path: Path):
    data = tmp_path / "data"
    with steppe_serve(data) as server:
        printed = "".join(server.output)
        key = re.search(r"admin key \(shown once\): (\S+)", printed).group(1)
        assert (data / "admin.key").read_text().strip() == key
        assert (data / "admin.key").stat().st_mode & 0o777 == 0o600
        assert f"{server.url}/api/v1/openapi.json" in printed

        status, resource = server.json(
            "POST",
            "/api/v1/observations",
            key,
            body=EXAMPLE.read_bytes(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 201 and resource["status"] == "complete"
        status, _, bundle_bytes = server.call("GET", resource["links"]["bundle"], key)
        assert status == 200
        bundle = json.loads(bundle_bytes)
        assert validate_instance(bundle, ValidationOptions(version="2.1")).errors == []
        stix2.parse(bundle, allow_custom=False)

    with steppe_serve(data) as server:  # restarted on the same data dir
        assert "admin key (shown once)" not in "".join(server.output)
        status, again = server.json("GET", resource["links"]["self"], key)
        assert status == 200 and again == resource
        status, _, bundle_again = server.call("GET", resource["links"]["bundle"], key)
        assert status == 200 and json.loads(bundle_again) == bundle
        status, error = server.json("GET", resource["links"]["self"], None)
        assert status == 401 and "no credentials" in error["description"]


def test_the_cli_submits_a_file_and_adds_an_analyst(tmp_path: Path):
    data = tmp_path / "data"
    admin_key = "stp_cli-test-admin-key-0123456789"
    with steppe_serve(data, STEPPE_ADMIN_KEY=admin_key) as server:
        port = server.url.rsplit(":", 1)[1]
        env = steppe_env(data, int(port), STEPPE_ADMIN_KEY=admin_key, STEPPE_URL=server.url)
        added = subprocess.run(
            [
                sys.executable,
                "-m",
                "steppe.cli",
                "partner",
                "add",
                "analyst-1",
                "--role",
                "analyst",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        analyst_key = re.search(r"key \(shown once\): (\S+)", added.stdout).group(1)
        submitted = subprocess.run(
            [sys.executable, "-m", "steppe.cli", "submit", str(EXAMPLE), "--key", analyst_key],
            env=env,
            capture_output=True,
            text=True,
        )
        assert submitted.returncode == 0, submitted.stderr
        assert "complete" in submitted.stdout and "bundle:" in submitted.stdout
        submission_id = re.search(r"submission (\S+):", submitted.stdout).group(1)
        status, resource = server.json("GET", f"/api/v1/submissions/{submission_id}", analyst_key)
        assert status == 200 and resource["submitted_by"] == "analyst-1"

        bad = tmp_path / "bad.csv"
        bad.write_text("type,value\nipv4-addr,198.51.100.999\n")
        refused = subprocess.run(
            [
                sys.executable,
                "-m",
                "steppe.cli",
                "submit",
                str(bad),
                "-p",
                "kind=ddos",
                "--key",
                analyst_key,
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        assert refused.returncode == 1
        assert "row 2, column value" in refused.stderr


def test_a_running_server_correlates_in_the_background_and_answers_lookups(tmp_path: Path):
    """Two reports sharing a source address: the server's own worker links them, and both
    the API and `steppe lookup` on the same data dir say where the address was seen."""
    data = tmp_path / "data"
    admin_key = "stp_e2e-correlation-key-0123456789"
    first = json.loads(EXAMPLE.read_text())
    second = json.loads(EXAMPLE.read_text())
    second["campaign"]["name"] = "Kyrgyzstan ISP DDoS, second wave"
    second["observables"] = [o for o in second["observables"] if o.get("value") == "198.51.100.7"]
    del second["malware"]  # the address alone is what they share
    with steppe_serve(data, STEPPE_ADMIN_KEY=admin_key) as server:
        for report in (first, second):
            status, _ = server.json(
                "POST",
                "/api/v1/observations",
                admin_key,
                body=json.dumps(report).encode(),
                headers={"Content-Type": "application/json"},
            )
            assert status == 201
        deadline = time.monotonic() + 60
        while True:  # correlation is a background job of the server's worker
            status, seen = server.json("GET", "/api/v1/observables?value=198.51.100.7", admin_key)
            assert status == 200
            if len(seen["campaigns"]) == 2:
                break
            assert time.monotonic() < deadline, seen
            time.sleep(0.1)
        names = {c["name"] for c in seen["campaigns"]}
        assert names == {first["campaign"]["name"], second["campaign"]["name"]}
        campaign = next(
            c["id"] for c in seen["campaigns"] if c["name"] == first["campaign"]["name"]
        )
        while True:
            status, view = server.json("GET", f"/api/v1/campaigns/{campaign}", admin_key)
            if view["related"]:
                break
            assert time.monotonic() < deadline, view
            time.sleep(0.1)
        [related] = [r for r in view["related"] if r["strength"] == "exact"]
        assert related["shared"] == ["198.51.100.7"]

        port = int(server.url.rsplit(":", 1)[1])
        printed = subprocess.run(
            [sys.executable, "-m", "steppe.cli", "lookup", "198.51.100.7", "192.0.2.99"],
            env=steppe_env(data, port, STEPPE_ADMIN_KEY=admin_key),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert printed.returncode == 0, printed.stderr
        assert first["campaign"]["name"] in printed.stdout
        assert second["campaign"]["name"] in printed.stdout
