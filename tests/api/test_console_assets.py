"""The console's static files at /console/, through the real gateway and handler, in both shapes.

No credential is needed (the files hold no data); every answer carries the
console's security headers; only files under steppe/console/static are served.
"""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from steppe.console.assets import STATIC

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# URLs a static file may contain that no browser fetches: XML namespaces and the
# attributions in the vendored library's licence comments. Any other is a failure.
NEVER_FETCHED = {
    "http://www.w3.org/2000/svg",
    "http://en.wikipedia.org/wiki/MIT_License",
    "http://engelschall.com",
    "http://opensource.org/licenses/MIT",
    "https://github.com/gre/bezier-easing",
}


class _References(HTMLParser):
    """What index.html asks the browser to load, and what it has inline."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.inline_scripts = 0
        self.style_elements = 0
        self.style_attributes: list[str] = []
        self.handler_attributes: list[str] = []
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.style_attributes.append(f"<{tag} style={value!r}>")
            if name.startswith("on"):
                self.handler_attributes.append(f"<{tag} {name}>")
        if tag == "script":
            if attributes.get("src"):
                self.references.append(str(attributes["src"]))
            else:
                self._in_script_without_src = True
        elif tag == "style":
            self.style_elements += 1
        elif tag == "link" and attributes.get("href"):
            self.references.append(str(attributes["href"]))
        elif tag in ("img", "source") and attributes.get("src"):
            self.references.append(str(attributes["src"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script_without_src = False

    def handle_data(self, data: str) -> None:
        if self._in_script_without_src:
            self.inline_scripts += 1


def _parsed_index() -> _References:
    parser = _References()
    parser.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    return parser


def _assert_console_headers(reply) -> None:
    assert reply.header("Content-Security-Policy") == CSP
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Referrer-Policy") == "no-referrer"
    assert reply.header("Cache-Control") == "no-cache"


def test_the_index_is_served_without_a_key_with_the_security_headers(app):
    reply = app.request("GET", "/console/", key=None)
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    _assert_console_headers(reply)
    assert reply.body == (STATIC / "index.html").read_bytes()
    assert reply.header("ETag") == f'"{hashlib.sha256(reply.body).hexdigest()}"'
    # index.html by its name is the same file
    named = app.request("GET", "/console/index.html", key=None)
    assert named.status == 200 and named.body == reply.body


def test_console_without_the_slash_is_moved_to_it(app):
    reply = app.request("GET", "/console", key=None)
    assert reply.status == 301
    _assert_console_headers(reply)
    # relative, so that a stage prefix is kept: /console + console/ = /console/
    assert reply.header("Location") == "console/"


def _module_imports(source: str) -> list[str]:
    found = re.findall(r"""\bfrom\s+["'](\.{1,2}/[^"']+)["']""", source)
    found += re.findall(r"""\bimport\s*\(\s*["'](\.{1,2}/[^"']+)["']\s*\)""", source)
    found += re.findall(r"""^\s*import\s+["'](\.{1,2}/[^"']+)["']""", source, re.MULTILINE)
    return found


def test_every_file_the_index_and_its_modules_load_is_served_with_its_type(app):
    references = [r for r in _parsed_index().references if not r.startswith(("#", "data:"))]
    assert {"console.css", "app.js", "vendor/cytoscape.min.js"} <= set(references)
    to_visit = list(references)
    seen: set[str] = set()
    while to_visit:
        reference = to_visit.pop()
        path = Path(reference).as_posix().removeprefix("./")
        if path in seen:
            continue
        seen.add(path)
        reply = app.request("GET", f"/console/{path}", key=None)
        assert reply.status == 200, path
        assert reply.header("Content-Type") == TYPES[Path(path).suffix], path
        _assert_console_headers(reply)
        assert reply.body == (STATIC / path).read_bytes()
        if path.endswith(".js") and not path.startswith("vendor/"):
            to_visit += [
                (Path(path).parent / imported).as_posix()
                for imported in _module_imports(reply.body.decode())
            ]
    # every page module is reached from app.js
    modules = {p.name for p in STATIC.glob("*.js")}
    assert modules <= seen


@pytest.mark.parametrize(
    "path",
    [
        "/console/../template.yaml",
        "/console/../assets.py",
        "/console/vendor/../../assets.py",
        "/console/vendor/../index.html",
        "/console/./index.html",
        "/console/..\\assets.py",
        "/console/.gitignore",
        "/console/no-such-file.js",
        "/console/vendor/no-such-file.js",
        "/console/a/b/c/index.html",
        "/console/index.html\x00.js",
        "/console/__init__.py",
    ],
)
def test_only_files_under_static_are_served(app, path):
    reply = app.request("GET", path, key=None)
    assert reply.status == 404, path
    body = reply.json()
    assert body["title"] == "Not found"
    assert "the console has no file" in body["description"]
    assert reply.header("Content-Type") == "application/json"
    _assert_console_headers(reply)


def test_an_unchanged_file_is_answered_304(app):
    first = app.request("GET", "/console/app.js", key=None)
    etag = first.header("ETag")
    assert etag == f'"{hashlib.sha256((STATIC / "app.js").read_bytes()).hexdigest()}"'
    again = app.request("GET", "/console/app.js", key=None, headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.body == b""
    assert again.header("ETag") == etag
    _assert_console_headers(again)
    listed = app.request(
        "GET", "/console/app.js", key=None, headers={"If-None-Match": f'"other", W/{etag}'}
    )
    assert listed.status == 304
    stale = app.request("GET", "/console/app.js", key=None, headers={"If-None-Match": '"other"'})
    assert stale.status == 200 and stale.body == first.body


def test_the_console_is_not_in_the_openapi_document(app):
    paths = app.request("GET", "/api/v1/openapi.json", key=None).json()["paths"]
    assert not [path for path in paths if path.startswith("/console")]


def test_no_static_file_names_another_host():
    found = {}
    for file in sorted(STATIC.rglob("*")):
        if not file.is_file():
            continue
        text = file.read_text(encoding="utf-8")
        urls = set(re.findall(r"""https?://[^\s"'`<>()\\]+""", text)) - NEVER_FETCHED
        if urls:
            found[file.relative_to(STATIC).as_posix()] = sorted(urls)
    assert not found


def test_the_index_has_no_inline_script_or_style():
    parsed = _parsed_index()
    assert parsed.inline_scripts == 0
    assert parsed.style_elements == 0
    assert parsed.style_attributes == []
    assert parsed.handler_attributes == []
    # the same for what the modules build: no element gets a style attribute or HTML
    for module in STATIC.glob("*.js"):
        source = module.read_text(encoding="utf-8")
        assert "innerHTML" not in source, module.name
        assert not re.search(r"""setAttribute\(\s*["']style""", source), module.name
