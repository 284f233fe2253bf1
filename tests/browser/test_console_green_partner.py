"""A GREEN partner's console never shows the AMBER campaign: not in the graph, the list,
a campaign's related campaigns, a lookup, a campaign URL typed by hand, nor in any
answer the API gave the page (every response to the page is recorded)."""

from __future__ import annotations

from console_pages import (
    CAMPAIGN_LIST,
    edge_set,
    listed_campaigns,
    open_graph,
    rendered_graph,
    snapshot,
)
from console_world import (
    AZERBAIJAN,
    AZERBAIJAN_ONLY,
    AZERBAIJAN_SHARED,
    GEORGIA,
    GREEN_NAMES,
    KYRGYZSTAN,
    LITHUANIA,
    World,
)
from playwright.sync_api import Page, Route, expect


def test_a_green_partner_never_sees_the_amber_campaign_on_any_page(page: Page, world: World):
    amber = world.ids[AZERBAIJAN]
    # The AMBER campaign is there, linked to Kyrgyzstan, for a reader cleared for it.
    staff = world.api("GET", "/api/v1/campaigns/graph", world.admin_key)
    assert amber in {n["id"] for n in staff["nodes"]}

    answers: list[tuple[str, bytes]] = []

    def record(route: Route) -> None:
        response = route.fetch()
        answers.append((route.request.url, response.body()))
        route.fulfill(response=response)

    page.route("**/api/**", record)

    def shows_nothing_amber(label: str) -> None:
        snapshot(page, f"green_partner_{label}")
        text = page.locator("body").inner_text()
        assert AZERBAIJAN not in text, label
        assert page.locator(f"[data-campaign-id='{amber}']").count() == 0, label

    open_graph(page, world.url, world.green_key)
    whoami = page.locator("[data-testid=whoami]")
    expect(whoami).to_contain_text("siem-green")
    expect(whoami).to_contain_text("green", ignore_case=True)
    expect(page.locator("nav a[data-testid=nav-admin]")).to_be_hidden()

    # The graph: what the API answers this key, which is the GREEN part of the scenario.
    answer = world.api("GET", "/api/v1/campaigns/graph", world.green_key)
    drawn = rendered_graph(page)
    assert {n["id"] for n in drawn["nodes"]} == {n["id"] for n in answer["nodes"]}
    assert {n["id"] for n in drawn["nodes"]} == {world.ids[name] for name in GREEN_NAMES}
    assert edge_set(drawn["edges"]) == edge_set(answer["edges"])
    exact = {pair for pair, strength in edge_set(drawn["edges"]) if strength == "exact"}
    assert exact == {
        frozenset((world.ids[KYRGYZSTAN], world.ids[GEORGIA])),
        frozenset((world.ids[KYRGYZSTAN], world.ids[LITHUANIA])),
    }
    assert amber not in listed_campaigns(page)
    shows_nothing_amber("graph")

    # Kyrgyzstan's panel: its exact link to the AMBER campaign is not among its related ones.
    page.locator(f"{CAMPAIGN_LIST} [data-campaign-id='{world.ids[KYRGYZSTAN]}']").click()
    panel = page.locator("[data-testid=campaign-panel]")
    expect(panel.locator("[data-testid=campaign-name]")).to_have_text(KYRGYZSTAN)
    related = panel.locator("[data-testid=campaign-related] li[data-campaign-id]")
    expect(related.first).to_be_visible()
    assert amber not in [
        related.nth(i).get_attribute("data-campaign-id") for i in range(related.count())
    ]
    shows_nothing_amber("campaign_panel")

    # Lookup: the shared address names Kyrgyzstan only; the AMBER campaign's own address
    # is not found and has no weak evidence either (its /24 holds nothing GREEN).
    page.goto(f"{world.url}/console/#/lookup")
    page.fill("[data-testid=lookup-text]", f"{AZERBAIJAN_SHARED[0]}\n{AZERBAIJAN_ONLY}\n")
    page.click("[data-testid=lookup-submit]")
    shared = page.locator(f"[data-testid=lookup-result][data-value='{AZERBAIJAN_SHARED[0]}']")
    expect(shared).to_have_attribute("data-found", "true")
    expect(shared.locator("[data-testid=lookup-campaign]")).to_have_count(1)
    expect(shared).to_contain_text(KYRGYZSTAN)
    own = page.locator(f"[data-testid=lookup-result][data-value='{AZERBAIJAN_ONLY}']")
    expect(own).to_have_attribute("data-found", "false")
    expect(own.locator("[data-testid=lookup-campaign]")).to_have_count(0)
    expect(own.locator("[data-testid=lookup-weak]")).to_have_count(0)
    shows_nothing_amber("lookup")

    # The campaign's URL typed by hand: an error, nothing of the campaign.
    page.goto(f"{world.url}/console/#/campaigns/{amber}")
    expect(page.locator("[data-testid=error]")).to_be_visible()
    shows_nothing_amber("campaign_url")

    # The admin page is not for partners.
    page.goto(f"{world.url}/console/#/admin")
    expect(page.locator("body")).to_contain_text("not allowed", ignore_case=True)
    expect(page.locator("[data-testid=admin-partners]")).to_have_count(0)
    shows_nothing_amber("admin")

    assert answers, "the console asked the API nothing"
    for url, body in answers:
        assert AZERBAIJAN.encode() not in body, url
        if amber not in url:
            assert amber.encode() not in body, url
