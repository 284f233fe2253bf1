"""Administering through the console changes what the API says: a partner's rights, a
collection, a Sentinel push destination, a deleted partner (the admin API is the oracle)."""

from __future__ import annotations

from console_pages import sign_in, snapshot
from console_world import World
from playwright.sync_api import Page, expect

TENANT = "11111111-2222-4333-8444-555555555555"
CLIENT = "22222222-3333-4444-8555-666666666666"
WORKSPACE = "33333333-4444-4555-8666-777777777777"


def open_admin(page: Page, world: World) -> None:
    sign_in(page, world.url, world.admin_key)
    page.goto(f"{world.url}/console/#/admin")
    page.locator("[data-testid=admin-partners] tr[data-partner]").first.wait_for()


def test_an_admin_changes_a_partners_rights_and_deletes_a_partner(page: Page, world: World):
    world.api(
        "POST", "/api/v1/admin/partners", world.admin_key, {"name": "cert-edit", "role": "partner"}
    )
    open_admin(page, world)
    row = page.locator("[data-testid=admin-partners] tr[data-partner=cert-edit]")
    row.locator("[data-testid=partner-change]").click()
    form = page.locator("[data-testid=partner-edit]")
    form.get_by_label("Role").select_option("analyst")
    form.get_by_label("Clearance").select_option("amber")
    form.get_by_label("May read").select_option([world.collection])
    form.locator("[data-testid=save]").click()
    expect(form).to_have_count(0)
    expect(row).to_contain_text("analyst")
    changed = world.api("GET", "/api/v1/admin/partners/cert-edit", world.admin_key)
    assert (changed["role"], changed["tlp"], changed["read"]) == (
        "analyst",
        "amber",
        [world.collection],
    )
    snapshot(page, "admin_partner_changed")

    row.locator("[data-testid=partner-delete]").click()
    page.locator("[data-testid=confirm]").click()
    expect(row).to_have_count(0)
    listed = world.api("GET", "/api/v1/admin/partners", world.admin_key)["partners"]
    assert "cert-edit" not in {p["name"] for p in listed}


def test_an_admin_changes_a_collection_and_adds_a_sentinel_workspace(page: Page, world: World):
    added = world.api(
        "POST", "/api/v1/admin/collections", world.admin_key, {"title": "Regional ISPs"}
    )
    open_admin(page, world)
    row = page.locator(f"[data-testid=admin-collections] tr[data-collection-id='{added['id']}']")
    row.locator("[data-testid=collection-change]").click()
    form = page.locator("[data-testid=collection-edit]")
    form.get_by_label("Title").fill("Central Asian ISPs")
    form.get_by_label("TLP of unmarked objects").select_option("amber")
    form.locator("[data-testid=save]").click()
    expect(form).to_have_count(0)
    collections = world.api("GET", "/api/v1/admin/collections", world.admin_key)["collections"]
    [changed] = [c for c in collections if c["id"] == added["id"]]
    assert (changed["title"], changed["unmarked_tlp"]) == ("Central Asian ISPs", "amber")

    # A title another collection has is refused with the API's sentence, and nothing changes.
    row = page.locator(f"[data-testid=admin-collections] tr[data-collection-id='{added['id']}']")
    row.locator("[data-testid=collection-change]").click()
    form = page.locator("[data-testid=collection-edit]")
    default_title = next(c["title"] for c in collections if c["id"] == world.collection)
    form.get_by_label("Title").fill(default_title)
    form.locator("[data-testid=save]").click()
    expect(page.locator("[data-testid=error]")).not_to_be_empty()
    collections = world.api("GET", "/api/v1/admin/collections", world.admin_key)["collections"]
    assert [c["title"] for c in collections if c["id"] == added["id"]] == ["Central Asian ISPs"]

    page.fill("[data-testid=sentinel-name]", "sentinel-soc")
    page.fill("[data-testid=sentinel-tenant]", TENANT)
    page.fill("[data-testid=sentinel-client]", CLIENT)
    page.fill("[data-testid=sentinel-secret]", "app-registration-secret")
    page.fill("[data-testid=sentinel-workspace]", WORKSPACE)
    page.click("[data-testid=sentinel-add]")
    expect(
        page.locator("[data-testid=admin-push] tr[data-destination=sentinel-soc]")
    ).to_be_visible()
    pushed = world.api("GET", "/api/v1/admin/push/sentinel-soc", world.admin_key)
    assert pushed["kind"] == "sentinel" and pushed["settings"]["workspace_id"] == WORKSPACE
    assert "app-registration-secret" not in page.content()
    snapshot(page, "admin_sentinel_added")


def test_after_each_page_change_the_focus_moves_into_the_new_page(page: Page, world: World):
    """Keyboard and screen-reader users land on the page they chose: on its heading, or on
    the field the page is for (the look-up text), never left on the old page or the body."""
    sign_in(page, world.url, world.admin_key)
    for nav, heading, expected in (
        ("nav-lookup", "Look up", "[data-testid=lookup-text]"),
        ("nav-submit", "Submit", "h1"),
        ("nav-admin", "Administer", "h1"),
        ("nav-graph", "Campaign graph", "h1"),
    ):
        page.click(f"[data-testid={nav}]")
        expect(page.locator("main h1")).to_contain_text(heading)
        expect(page.locator(f"main {expected}:focus")).to_have_count(1)
        box = page.locator("main h1").bounding_box()
        assert box is not None and box["y"] >= 0 and box["height"] > 0  # on screen, not hidden
