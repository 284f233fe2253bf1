"""The console in a real browser, as staff see it: sign-in, the graph, a campaign, lookup, submit.

Each page is checked against what the API answers the same key, and against the
scenario (console_world): Kyrgyzstan linked exactly to Georgia, Lithuania and the
AMBER Azerbaijan campaign, and to Estonia only through its /24.
"""

from __future__ import annotations

from console_pages import (
    GRAPH_READY,
    LIST_ITEMS,
    choose,
    edge_set,
    listed_campaigns,
    node_on_screen,
    open_graph,
    rendered_graph,
    sign_in,
)
from console_world import (
    AZERBAIJAN,
    ESTONIA,
    EXACT_LINKS,
    GEORGIA,
    GEORGIA_SHARED,
    KYRGYZSTAN,
    LITHUANIA,
    LITHUANIA_SHARED,
    World,
    related_of,
)
from playwright.sync_api import Page, expect


def test_sign_in_shows_who_the_key_is_and_keeps_it_in_the_session_only(page: Page, world: World):
    page.goto(f"{world.url}/console/#/signin")
    page.fill("[data-testid=signin-key]", "stp_not-a-key-anybody-was-given-0123")
    page.click("[data-testid=signin-submit]")
    expect(page.locator("[data-testid=error]")).to_be_visible()
    expect(page.locator("[data-testid=whoami]")).to_have_text("")  # nobody signed in

    sign_in(page, world.url, world.admin_key)
    me = world.api("GET", "/api/v1/me", world.admin_key)
    whoami = page.locator("[data-testid=whoami]")
    for shown in (me["partner"], me["role"], me["clearance"]):
        expect(whoami).to_contain_text(shown, ignore_case=True)
    expect(page.locator("nav a[data-testid=nav-admin]")).to_be_visible()
    stored = page.evaluate("() => [JSON.stringify(sessionStorage), JSON.stringify(localStorage)]")
    assert world.admin_key in stored[0] and world.admin_key not in stored[1]
    assert world.admin_key not in page.evaluate("() => document.cookie")

    page.click("[data-testid=signout]")
    expect(page.locator("[data-testid=signin-key]")).to_be_visible()
    expect(whoami).to_have_text("")
    assert world.admin_key not in page.evaluate("() => JSON.stringify(sessionStorage)")


def test_the_graph_draws_exactly_the_edges_the_api_answers(page: Page, world: World):
    open_graph(page, world.url, world.admin_key)
    answer = world.api("GET", "/api/v1/campaigns/graph", world.admin_key)
    drawn = rendered_graph(page)

    assert {n["id"] for n in drawn["nodes"]} == {n["id"] for n in answer["nodes"]}
    assert edge_set(drawn["edges"]) == edge_set(answer["edges"])
    ready = page.locator(GRAPH_READY)
    assert ready.get_attribute("data-nodes") == str(len(answer["nodes"]))
    assert ready.get_attribute("data-edges") == str(len(answer["edges"]))
    assert sorted(listed_campaigns(page)) == sorted(n["id"] for n in answer["nodes"])

    # The scenario itself: the API is not trusted to be right just because the page agrees.
    names = {v: k for k, v in world.ids.items()}
    exact = {
        (frozenset(names[i] for i in pair), strength)
        for pair, strength in edge_set(drawn["edges"])
        if strength == "exact"
    }
    assert exact == {(pair, "exact") for pair in EXACT_LINKS}
    estonia = world.ids[ESTONIA]
    assert {s for pair, s in edge_set(drawn["edges"]) if estonia in pair} == {"network"}
    assert (frozenset((estonia, world.ids[KYRGYZSTAN])), "network") in edge_set(drawn["edges"])
    shared = {
        frozenset((e["source"], e["target"])): e["shared"]
        for e in answer["edges"]
        if e["strength"] == "exact"
    }
    for pair, values in EXACT_LINKS.items():
        assert sorted(shared[frozenset(world.ids[n] for n in pair)]) == sorted(values)

    # Weak evidence is drawn apart; nodes are sized by how many values they hold.
    lines = {(e["strength"], e["line"]) for e in drawn["edges"]}
    assert {line for strength, line in lines if strength == "exact"} == {"solid"}
    assert {line for strength, line in lines if strength == "network"} == {"dashed"}
    expect(page.locator("[data-testid=legend]")).to_be_visible()
    width = {n["id"]: n["width"] for n in drawn["nodes"]}
    assert width[world.ids[KYRGYZSTAN]] > width[world.ids[ESTONIA]]


def test_clicking_a_campaign_shows_its_related_campaigns_with_the_shared_values(
    page: Page, world: World
):
    open_graph(page, world.url, world.admin_key)
    kyrgyzstan = world.ids[KYRGYZSTAN]
    page.mouse.click(*node_on_screen(page, kyrgyzstan))

    panel = page.locator("[data-testid=campaign-panel]")
    expect(panel.locator("[data-testid=campaign-name]")).to_have_text(KYRGYZSTAN)
    view = world.api("GET", f"/api/v1/campaigns/{kyrgyzstan}", world.admin_key)
    expect(panel.locator("[data-testid=campaign-indicators] li")).to_have_count(
        len(view["indicators"]["items"])
    )
    targets = panel.locator("[data-testid=campaign-targets]")
    for target in ("Kyrgyz ISP A", "Kyrgyz ISP D"):
        expect(targets).to_contain_text(target)
    expect(panel.locator("[data-testid=campaign-timeline] li")).to_have_count(len(view["timeline"]))

    related = panel.locator("[data-testid=campaign-related] li[data-campaign-id][data-strength]")
    shown = {
        (
            related.nth(i).get_attribute("data-campaign-id"),
            related.nth(i).get_attribute("data-strength"),
        )
        for i in range(related.count())
    }
    assert shown == {(r["campaign"]["id"], r["strength"]) for r in view["related"]}
    expected = related_of(world, KYRGYZSTAN, world.admin_key)
    for (name, strength), values in {
        (GEORGIA, "exact"): GEORGIA_SHARED,
        (LITHUANIA, "exact"): LITHUANIA_SHARED,
    }.items():
        assert sorted(expected[(name, strength)]) == sorted(values)
        item = panel.locator(
            f"[data-testid=campaign-related] li[data-campaign-id='{world.ids[name]}']"
            f"[data-strength={strength}]"
        )
        expect(item).to_contain_text(name)
        for value in values:
            expect(item).to_contain_text(value)
    weak = panel.locator(
        f"[data-testid=campaign-related] li[data-campaign-id='{world.ids[ESTONIA]}']"
    )
    expect(weak).to_have_attribute("data-strength", "network")


def test_a_lookup_of_free_text_finds_the_shared_addresses_and_labels_weak_evidence(
    page: Page, world: World
):
    sign_in(page, world.url, world.admin_key)
    page.goto(f"{world.url}/console/#/lookup")
    text = (
        "Flood traffic again from 198.51.100[.]7 and 203.0.113.66 overnight;\n"
        "also 198.51.100.99, which nobody reported before.\n"
    )
    page.fill("[data-testid=lookup-text]", text)
    page.click("[data-testid=lookup-submit]")

    def result(value: str):
        return page.locator(f"[data-testid=lookup-result][data-value='{value}']")

    expect(result("198.51.100.7")).to_have_attribute("data-found", "true")
    expect(result("203.0.113.66")).to_have_attribute("data-found", "true")
    expect(result("198.51.100.99")).to_have_attribute("data-found", "false")
    answer = world.api(
        "POST",
        "/api/v1/observables/lookup",
        world.admin_key,
        {"values": ["198.51.100.7", "203.0.113.66", "198.51.100.99"], "detail": "full"},
    )
    for item in answer["results"]:
        campaigns = result(item["value"]).locator("[data-testid=lookup-campaign]")
        expect(campaigns).to_have_count(len(item["campaigns"]))
        for campaign in item["campaigns"]:
            expect(result(item["value"])).to_contain_text(campaign["name"])
    expect(result("198.51.100.7")).to_contain_text(GEORGIA)
    expect(result("198.51.100.7")).to_contain_text(KYRGYZSTAN)
    expect(result("203.0.113.66")).to_contain_text(LITHUANIA)

    weak = result("198.51.100.99").locator("[data-testid=lookup-weak]")
    assert weak.count() >= 1
    expect(weak.first).to_be_visible()
    labelled = " ".join(weak.all_inner_texts())
    for name in (KYRGYZSTAN, ESTONIA):
        assert name in labelled, labelled
    # Weak evidence is not a match: an address found outright lists no weak campaign as found.
    found_names = result("198.51.100.99").locator("[data-testid=lookup-campaign]")
    expect(found_names).to_have_count(0)


def test_a_csv_with_a_bad_row_shows_the_error_at_that_row_and_column(page: Page, world: World):
    sign_in(page, world.url, world.admin_key)
    page.goto(f"{world.url}/console/#/submit")
    csv = (
        "type,value,role\n"
        "ipv4-addr,198.51.100.7,source\n"
        "ipv4-addr,198.51.100.999,source\n"
        "ipv4-addr,203.0.113.66,source\n"
    )
    page.set_input_files(
        "[data-testid=submit-file]",
        files=[{"name": "flood.csv", "mimeType": "text/csv", "buffer": csv.encode()}],
    )
    choose(page, "[data-testid=submit-kind]", "ddos")
    choose(page, "[data-testid=submit-tlp]", "green")
    page.fill("[data-testid=submit-campaign]", "CSV with a typo")
    before = world.api("GET", "/api/v1/submissions", world.admin_key)
    page.click("[data-testid=submit-go]")

    error = page.locator("[data-testid=submit-error]")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("data-row", "3")
    expect(error).to_have_attribute("data-column", "value")
    expect(error).to_contain_text("198.51.100.999")
    expect(page.locator("[data-testid=submit-error-row]")).to_contain_text(
        "ipv4-addr,198.51.100.999,source"
    )
    expect(page.locator("[data-testid=submit-bundle]")).to_have_count(0)
    # Refused whole: nothing was submitted.
    assert world.api("GET", "/api/v1/submissions", world.admin_key) == before


def test_keyboard_alone_reaches_the_campaign_list_and_opens_a_campaign(page: Page, world: World):
    page.goto(f"{world.url}/console/#/signin")
    _tab_to(page, "[data-testid=signin-key]")
    page.keyboard.type(world.admin_key)
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=whoami]")).not_to_have_text("")
    if not page.locator(LIST_ITEMS).count():
        _tab_to(page, "nav a[data-testid=nav-graph]")
        page.keyboard.press("Enter")
    page.locator(GRAPH_READY).wait_for(state="attached")

    _tab_to(page, LIST_ITEMS)
    chosen = page.evaluate("() => document.activeElement.getAttribute('data-campaign-id')")
    page.keyboard.press("Enter")
    name = {v: k for k, v in world.ids.items()}[chosen]
    expect(page.locator("[data-testid=campaign-panel] [data-testid=campaign-name]")).to_have_text(
        name
    )


def _tab_to(page: Page, selector: str, limit: int = 200) -> None:
    """Press Tab until the focused element matches `selector` (keyboard only, no clicks)."""
    for _ in range(limit):
        if page.evaluate("(s) => !!document.activeElement?.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never took the focus in {limit} Tab presses")


def test_the_filters_redraw_the_graph_the_api_answers_for_them(page: Page, world: World):
    open_graph(page, world.url, world.admin_key)
    choose(page, "[data-testid=filter-strength]", "exact")
    choose(page, "[data-testid=filter-tlp]", "green")
    page.click("[data-testid=filter-apply]")
    answer = world.api("GET", "/api/v1/campaigns/graph?strength=exact&tlp=green", world.admin_key)
    ready = page.locator(GRAPH_READY)
    expect(ready).to_have_attribute("data-edges", str(len(answer["edges"])))
    drawn = rendered_graph(page)
    assert {n["id"] for n in drawn["nodes"]} == {n["id"] for n in answer["nodes"]}
    assert edge_set(drawn["edges"]) == edge_set(answer["edges"])
    assert {strength for _, strength in edge_set(drawn["edges"])} == {"exact"}
    assert world.ids[AZERBAIJAN] not in {n["id"] for n in drawn["nodes"]}
    assert world.ids[KYRGYZSTAN] in {n["id"] for n in drawn["nodes"]}
