"""The console's sources against the DOM contract, and the asset finder's rules.

The browser tests (tests/e2e) drive the console through these hooks; here we
check that each one is written in the static sources, in the form the page
builds it: `data-testid="x"` in HTML or `testid: "x"` / `.testid = "x"` in JS.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from steppe.console.assets import STATIC, Assets, safe_relative

TEST_IDS = [
    "signin-key",
    "signin-submit",
    "signout",
    "whoami",
    "nav-graph",
    "nav-lookup",
    "nav-submit",
    "nav-admin",
    "graph",
    "graph-ready",
    "filter-since",
    "filter-until",
    "filter-kind",
    "filter-collection",
    "filter-tlp",
    "filter-strength",
    "filter-apply",
    "campaign-list",
    "legend",
    "campaign-panel",
    "campaign-name",
    "campaign-indicators",
    "campaign-targets",
    "campaign-timeline",
    "campaign-related",
    "lookup-text",
    "lookup-submit",
    "lookup-result",
    "lookup-campaign",
    "lookup-weak",
    "submit-file",
    "submit-kind",
    "submit-tlp",
    "submit-campaign",
    "submit-go",
    "submit-error",
    "submit-error-row",
    "submit-progress",
    "submit-bundle",
    "revoke-indicator",
    "revoke-submission",
    "false-positive",
    "reason",
    "confirm",
    "admin-partners",
    "admin-collections",
    "admin-feeds",
    "admin-push",
    "admin-audit",
    "new-key",
    "error",
]
# data-* attributes the contract names, as the JS dataset writes them (camelCase).
DATA_ATTRIBUTES = {
    "campaign-id": "campaignId",
    "strength": "strength",
    "value": "value",
    "found": "found",
    "row": "row",
    "column": "column",
    "done": "done",
    "total": "total",
    "nodes": "nodes",
    "edges": "edges",
}
ROUTES = [
    "#/signin",
    "#/graph",
    "#/lookup",
    "#/submit",
    "#/submissions/",
    "#/campaigns/",
    "#/admin",
]


def sources() -> str:
    return "\n".join(
        file.read_text(encoding="utf-8")
        for file in sorted(STATIC.iterdir())
        if file.suffix in (".html", ".js")
    )


@pytest.mark.parametrize("test_id", TEST_IDS)
def test_every_hook_of_the_contract_is_in_the_sources(test_id):
    text = sources()
    quoted = re.escape(f'"{test_id}"')
    assert re.search(rf"data-testid={quoted}|testid:\s*{quoted}|\.testid\s*=\s*{quoted}", text), (
        f"no element carries data-testid={test_id}"
    )


@pytest.mark.parametrize(("attribute", "property_name"), sorted(DATA_ATTRIBUTES.items()))
def test_every_data_attribute_of_the_contract_is_written(attribute, property_name):
    text = sources()
    written = (
        rf"data-{attribute}="
        rf"|dataset:\s*\{{[^{{}}]*\b{property_name}\b"
        rf"|dataset\.{property_name}\s*="
    )
    assert re.search(written, text), f"nothing writes data-{attribute}"


def test_the_routes_and_the_graph_hook_are_there():
    text = sources()
    for route in ROUTES:
        assert route in text, route
    assert "window.steppeConsole.graph = cy" in text
    # the error alert is an ARIA alert
    index = (STATIC / "index.html").read_text(encoding="utf-8")
    assert re.search(r'data-testid="error"[^>]*role="alert"', index)
    assert 'type="password"' in sources().replace('type: "password"', 'type="password"')


def test_the_key_is_kept_in_session_storage_only():
    text = sources()
    assert "sessionStorage" in text
    assert "localStorage" not in text
    assert "document.cookie" not in text


@pytest.mark.parametrize(
    "path",
    [
        "..",
        "../x.js",
        "a/../b.js",
        "./a.js",
        "/etc/passwd",
        "a//b.js",
        ".hidden",
        "a\\b.js",
        "a\0b",
    ],
)
def test_unsafe_paths_are_refused(path):
    assert safe_relative(path) is None


def test_plain_paths_are_kept():
    assert safe_relative("vendor/cytoscape.min.js") == "vendor/cytoscape.min.js"
    assert safe_relative("app.js") == "app.js"


def test_assets_outside_the_folder_or_of_unknown_type_are_not_found(tmp_path: Path):
    root = tmp_path / "static"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html>")
    (root / "data.bin").write_bytes(b"\x00")
    secret = tmp_path / "secret.js"
    secret.write_text("secret")
    os.symlink(secret, root / "link.js")
    assets = Assets(root)
    index = assets.find("")
    assert index is not None and index.path == "index.html"
    assert index.content_type == "text/html; charset=utf-8"
    assert assets.find("data.bin") is None  # a type the console does not serve
    assert assets.find("link.js") is None  # resolves outside the folder
    assert assets.find("../secret.js") is None
    assert assets.listing() == ["index.html"]


def test_a_changed_file_is_read_again(tmp_path: Path):
    root = tmp_path / "static"
    root.mkdir()
    page = root / "app.js"
    page.write_text("one")
    assets = Assets(root)
    first = assets.find("app.js")
    page.write_text("two, longer")
    second = assets.find("app.js")
    assert first is not None and second is not None
    assert (first.body, second.body) == (b"one", b"two, longer")
    assert first.etag != second.etag


def test_the_vendored_graph_library_is_the_locked_one():
    lock = (Path(__file__).resolve().parents[2] / "console" / "package-lock.json").read_text()
    version = re.search(r'"node_modules/cytoscape":\s*{\s*"version":\s*"([^"]+)"', lock)
    assert version is not None
    assert (STATIC / "vendor" / "LICENSE-cytoscape").is_file()
    library = (STATIC / "vendor" / "cytoscape.min.js").read_text(encoding="utf-8")
    assert "Cytoscape Consortium" in library[:2000]
    assert f'.version="{version.group(1)}"' in library


def _exports(source: str) -> set[str]:
    declared = r"^export\s+(?:async\s+)?(?:function|const|let|class)\s+(\w+)"
    return set(re.findall(declared, source, re.M))


def test_every_name_a_module_imports_is_exported_by_it():
    """No bundler checks the ES modules: a misspelt import would only fail in the browser."""
    missing = []
    for module in sorted(STATIC.glob("*.js")):
        source = module.read_text(encoding="utf-8")
        for names, target in re.findall(
            r"import\s*\{([^}]*)\}\s*from\s*\"(\./[\w.-]+)\"", source
        ) + [
            (names, target)
            for names, target in re.findall(
                r"const\s*\{([^}]*)\}\s*=\s*await\s+import\(\"(\./[\w.-]+)\"\)", source
            )
        ]:
            exported = _exports((STATIC / target).read_text(encoding="utf-8"))
            for name in (n.strip().split(" as ")[0] for n in names.split(",")):
                if name and name not in exported:
                    missing.append(f"{module.name} imports {name} from {target}")
    assert not missing
