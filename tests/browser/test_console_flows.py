"""The console's working flows in a real browser, each checked against the API afterwards:
submitting a JSON report and a queued CSV, revoking and declaring false positives with a
reason, and administering partners and their keys.

The module's server queues any submission of more than SYNC observables, in chunks of
CHUNK, so that a CSV of a few dozen rows is worked through by the background worker.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from console_pages import CAMPAIGN_LIST, GRAPH_READY, choose, open_graph, sign_in
from console_world import ADMIN_KEY, World, kyrgyzstan, seed
from playwright.sync_api import Page, expect
from stix2validator import ValidationOptions, validate_instance

from support.server import RunningServer, steppe_serve

SYNC = 20
CHUNK = 10
TAXII = "application/taxii+json;version=2.1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = tmp_path_factory.mktemp("console-flows") / "data"
    with steppe_serve(
        data,
        STEPPE_ADMIN_KEY=ADMIN_KEY,
        STEPPE_SYNC_OBSERVABLES=str(SYNC),
        STEPPE_CHUNK_OBSERVABLES=str(CHUNK),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def world(server: RunningServer) -> World:
    return seed(server)


def _until(check: Any, what: str, seconds: float = 30) -> Any:
    """Poll the API until `check()` answers something true (background work is awaited)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = check()
        if answer:
            return answer
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _upload(page: Page, name: str, mime: str, content: str) -> None:
    page.set_input_files(
        "[data-testid=submit-file]",
        files=[{"name": name, "mimeType": mime, "buffer": content.encode()}],
    )


def _submission_shown(page: Page) -> str:
    page.wait_for_url("**/console/#/submissions/*")
    return page.url.rsplit("/", 1)[1]


def _taxii_object(world: World, object_id: str) -> dict[str, Any]:
    path = f"/taxii2/steppe/collections/{world.collection}/objects/{object_id}/"
    status, answer = world.server.json("GET", path, world.admin_key, headers={"Accept": TAXII})
    assert status == 200, (path, status, answer)
    (latest,) = answer["objects"]
    return latest


def _csv(values: list[str]) -> str:
    return "type,value,role\n" + "".join(f"ipv4-addr,{v},source\n" for v in values)


def test_a_json_report_submitted_completes_its_bundle_downloads_and_its_campaign_is_drawn(
    page: Page, world: World
):
    report = kyrgyzstan()
    name = "Kyrgyzstan ISP DDoS, replayed from the console"
    report["campaign"]["name"] = name
    sign_in(page, world.url, world.admin_key)
    page.goto(f"{world.url}/console/#/submit")
    _upload(page, "kyrgyzstan-replay.json", "application/json", json.dumps(report))
    page.click("[data-testid=submit-go]")

    submission = _submission_shown(page)
    progress = page.locator("[data-testid=submit-progress]")
    expect(progress).to_have_attribute("data-status", "complete")
    answer = world.api("GET", f"/api/v1/submissions/{submission}", world.admin_key)
    assert answer["status"] == "complete" and answer["observables"] == len(report["observables"])
    expect(progress).to_have_attribute("data-done", str(answer["chunks"]["done"]))
    expect(progress).to_have_attribute("data-total", str(answer["chunks"]["total"]))

    with page.expect_download() as download:
        page.click("[data-testid=submit-bundle]")
    expect(page.locator("[data-testid=submit-bundle]")).to_have_attribute("data-downloaded", "true")
    bundle = json.loads(download.value.path().read_bytes())
    assert bundle["type"] == "bundle"
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.errors == [], [str(e) for e in result.errors]
    assert name in {o.get("name") for o in bundle["objects"] if o["type"] == "campaign"}

    def listed() -> str | None:
        campaigns = world.api("GET", "/api/v1/campaigns", world.admin_key)["campaigns"]
        return next((c["id"] for c in campaigns if c["name"] == name), None)

    campaign = _until(listed, f"{name} never became a campaign")
    open_graph(page, world.url, world.admin_key)
    graph = world.api("GET", "/api/v1/campaigns/graph", world.admin_key)
    assert campaign in {n["id"] for n in graph["nodes"]}
    expect(page.locator(GRAPH_READY)).to_have_attribute("data-nodes", str(len(graph["nodes"])))
    expect(page.locator(f"{CAMPAIGN_LIST} [data-campaign-id='{campaign}']")).to_contain_text(name)
    drawn = page.evaluate("(id) => window.steppeConsole.graph.getElementById(id).length", campaign)
    assert drawn == 1


def test_a_csv_too_large_to_take_at_once_is_queued_and_its_progress_reaches_complete(
    page: Page, world: World
):
    rows = 4 * CHUNK + 5
    assert rows > SYNC
    values = [f"192.0.2.{n}" for n in range(1, rows + 1)]
    sign_in(page, world.url, world.admin_key)
    page.goto(f"{world.url}/console/#/submit")
    _upload(page, "queued.csv", "text/csv", _csv(values))
    choose(page, "[data-testid=submit-kind]", "ddos")
    choose(page, "[data-testid=submit-tlp]", "green")
    page.fill("[data-testid=submit-campaign]", "Queued from the console")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("[data-testid=submit-go]")
    assert posted.value.status == 202
    accepted = posted.value.json()
    assert accepted["status"] == "pending", accepted

    submission = _submission_shown(page)
    assert submission == accepted["id"]
    chunks = -(-rows // CHUNK)
    progress = page.locator("[data-testid=submit-progress]")
    expect(progress).to_have_attribute("data-total", str(chunks))
    expect(progress).to_have_attribute("data-status", "complete", timeout=30_000)
    expect(progress).to_have_attribute("data-done", str(chunks))
    answer = world.api("GET", f"/api/v1/submissions/{submission}", world.admin_key)
    assert answer["status"] == "complete"
    assert answer["chunks"] == {**answer["chunks"], "done": chunks, "total": chunks}
    assert answer["observables"] == rows


def _submit_csv(world: World, values: list[str], campaign: str) -> dict[str, Any]:
    status, answer = world.server.json(
        "POST",
        f"/api/v1/observations?kind=ddos&tlp=green&campaign={campaign.replace(' ', '+')}",
        world.admin_key,
        body=_csv(values).encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert status == 201 and answer["status"] == "complete", (status, answer)
    return answer


def _indicators(submission: dict[str, Any]) -> list[str]:
    objects = submission["objects"]
    every = objects["created"] + objects["updated"] + objects["unchanged"]
    return sorted(i for i in every if i.startswith("indicator--"))


def test_revoking_needs_a_reason_and_then_the_api_shows_the_indicator_revoked(
    page: Page, world: World
):
    values = ["192.0.2.201", "192.0.2.202", "192.0.2.203"]
    submitted = _submit_csv(world, values, "Revocation drill")
    submission = world.api("GET", f"/api/v1/submissions/{submitted['id']}", world.admin_key)
    first, second, third = _indicators(submission)
    sign_in(page, world.url, world.admin_key)
    page.goto(f"{world.url}/console/#/submissions/{submission['id']}")

    def revoke_button(indicator: str):
        return page.locator(f"[data-testid=revoke-indicator][data-indicator-id='{indicator}']")

    # No reason: refused, the form stays open and says why; nothing is revoked.
    revoke_button(second).click()
    page.click("[data-testid=confirm]")
    reason = page.locator("[data-testid=reason]")
    expect(reason).to_be_visible()
    assert reason.evaluate("el => el.validity.valueMissing && el.validationMessage !== ''")
    # Blank (spaces only): the API refuses it and the console shows its sentence.
    reason.fill("   ")
    page.click("[data-testid=confirm]")
    error = page.locator("[data-testid=error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("reason")
    assert _taxii_object(world, second).get("revoked", False) is False
    expect(page.locator("[data-testid=action-done]")).to_have_count(0)

    revoke_button(first).click()
    page.fill("[data-testid=reason]", "sinkholed by the registrar on 2009-02-01")
    page.click("[data-testid=confirm]")
    expect(page.locator("[data-testid=action-done]")).to_be_visible()
    expect(error).to_be_hidden()
    assert _taxii_object(world, first)["revoked"] is True
    assert _taxii_object(world, second).get("revoked", False) is False

    # The same from the campaign panel, once correlation has made the campaign.
    def drill() -> str | None:
        campaigns = world.api("GET", "/api/v1/campaigns", world.admin_key)["campaigns"]
        return next((c["id"] for c in campaigns if c["name"] == "Revocation drill"), None)

    campaign = _until(drill, "the drill's campaign was never made")
    page.goto(f"{world.url}/console/#/campaigns/{campaign}")
    panel = page.locator("[data-testid=campaign-panel]")
    expect(panel.locator("[data-testid=campaign-name]")).to_have_text("Revocation drill")
    panel.locator(f"[data-testid=revoke-indicator][data-indicator-id='{third}']").click()
    page.fill("[data-testid=reason]", "a shared proxy, not the attacker")
    page.click("[data-testid=confirm]")
    expect(panel.locator("[data-testid=action-done]")).to_be_visible()
    assert _taxii_object(world, third)["revoked"] is True
    assert _taxii_object(world, second).get("revoked", False) is False


def test_revoking_a_submission_from_its_page_revokes_every_indicator_in_it(
    page: Page, world: World
):
    values = ["192.0.2.211", "192.0.2.212"]
    submitted = _submit_csv(world, values, "Submission revoked whole")
    indicators = _indicators(
        world.api("GET", f"/api/v1/submissions/{submitted['id']}", world.admin_key)
    )
    sign_in(page, world.url, world.admin_key)
    page.goto(f"{world.url}/console/#/submissions/{submitted['id']}")
    page.click("[data-testid=revoke-submission]")
    reason = "the whole report was a test run"
    page.fill("[data-testid=reason]", reason)
    page.click("[data-testid=confirm]")
    # The page reloads the submission, which now says who revoked it and why.
    expect(
        page.get_by_text(
            f"Revoked by {world.api('GET', '/api/v1/me', world.admin_key)['partner']}: {reason}"
        )
    ).to_be_visible()

    answer = world.api("GET", f"/api/v1/submissions/{submitted['id']}", world.admin_key)
    assert answer["revoked"]["reason"] == reason
    for indicator in indicators:
        assert _taxii_object(world, indicator)["revoked"] is True
    # What the revocation did (the counts) is still said once the page has reloaded.
    expect(page.locator("[data-testid=action-done]")).to_contain_text(
        f"revoked {len(indicators)}, already revoked 0"
    )


def test_a_false_positive_declared_with_a_reason_is_listed_by_the_api(page: Page, world: World):
    value = "192.0.2.221"
    _submit_csv(world, [value], "False positive drill")
    sign_in(page, world.url, world.admin_key)
    page.goto(f"{world.url}/console/#/submit")
    page.fill("[data-testid=false-positive-value]", value)
    page.click("[data-testid=false-positive]")
    reason = "our own scanner, not an attacker"
    page.fill("[data-testid=reason]", reason)
    page.click("[data-testid=confirm]")
    expect(page.locator("[data-testid=action-done]")).to_contain_text("1 indicators revoked")

    listed = world.api("GET", "/api/v1/false-positives", world.admin_key)["false_positives"]
    assert {(e["value"], e["reason"]) for e in listed} >= {(value, reason)}


def test_an_admin_adds_a_partner_whose_key_is_shown_once_signs_in_and_is_rotated(
    page: Page, world: World
):
    partner = "cert-flows"
    sign_in(page, world.url, world.admin_key)
    page.goto(f"{world.url}/console/#/admin")
    partners = page.locator("[data-testid=admin-partners]")
    partners.locator("[data-testid=partner-name]").fill(partner)
    partners.locator("[data-testid=partner-role]").select_option("partner")
    partners.locator("[data-testid=partner-tlp]").select_option("green")
    partners.locator("[data-testid=partner-read]").select_option([world.collection])
    partners.locator("[data-testid=partner-add]").click()
    shown = page.locator("[data-testid=new-key]")
    expect(shown).to_have_count(1)
    key = shown.inner_text().strip()
    assert key.startswith("stp_"), key
    assert world.api("GET", "/api/v1/me", key)["partner"] == partner
    expect(partners.locator(f"tr[data-partner='{partner}']")).to_be_visible()

    page.goto(f"{world.url}/console/#/graph")
    page.goto(f"{world.url}/console/#/admin")
    expect(page.locator("[data-testid=admin-partners]")).to_be_visible()
    expect(page.locator("[data-testid=new-key]")).to_have_count(0)
    assert key not in page.content()

    # The new key signs in; a partner has no admin link and is not allowed there.
    page.click("[data-testid=signout]")
    sign_in(page, world.url, key)
    expect(page.locator("[data-testid=whoami]")).to_contain_text(partner)
    expect(page.locator("nav a[data-testid=nav-admin]")).to_be_hidden()
    page.goto(f"{world.url}/console/#/admin")
    expect(page.locator("[data-testid=not-allowed]")).to_contain_text("Not allowed")
    expect(page.locator("[data-testid=error]")).to_be_visible()
    expect(page.locator("[data-testid=admin-partners]")).to_have_count(0)

    # The partner pulls over TAXII: the audit trail shows it to the admin.
    pulled = f"/taxii2/steppe/collections/{world.collection}/objects/"
    status, _ = world.server.json("GET", pulled, key, headers={"Accept": TAXII})
    assert status == 200
    page.click("[data-testid=signout]")
    sign_in(page, world.url, world.admin_key)
    page.goto(f"{world.url}/console/#/admin")
    audit = page.locator("[data-testid=admin-audit]")
    expect(audit.locator("tr", has_text=partner).filter(has_text=pulled)).not_to_have_count(0)
    records = world.api("GET", f"/api/v1/admin/audit?partner={partner}", world.admin_key)
    assert pulled in {r["path"] for r in records["records"]}

    # Rotation: a new key shown once, the old one refused by the API.
    partners = page.locator("[data-testid=admin-partners]")
    partners.locator(f"tr[data-partner='{partner}'] [data-testid=rotate-key]").click()
    partners.locator("[data-testid=confirm]").click()
    expect(page.locator("[data-testid=new-key]")).not_to_have_text(key)
    rotated = page.locator("[data-testid=new-key]").inner_text().strip()
    assert rotated.startswith("stp_") and rotated != key
    status, _ = world.server.json("GET", "/api/v1/me", key)
    assert status == 401
    assert world.api("GET", "/api/v1/me", rotated)["partner"] == partner
