"""The embedded shape in process: the real gateway, authorizer, handlers and store.

Requests go through steppe.local.server's WSGI gateway exactly as the HTTP
server sends them (API Gateway event, authorizer, handler), without a socket.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from steppe.access.bootstrap import BootstrapResult, ensure_bootstrapped
from steppe.config import Settings
from steppe.local.routes import RouteTable
from steppe.local.server import create_app
from steppe.local.worker import LocalWorker
from steppe.runtime import Services, build_services, use_services

ROUTES = RouteTable.from_template()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class App:
    settings: Settings
    services: Services
    boot: BootstrapResult
    gateway: Any = field(repr=False)

    @property
    def admin_key(self) -> str:
        assert self.boot.admin_key
        return self.boot.admin_key

    @property
    def default_collection(self) -> str:
        return self.boot.default_collection.id

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | str | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | list[tuple[str, str]] | None = None,
        key: str | bool | None = True,
        content_type: str | None = None,
    ) -> Reply:
        """One HTTP request; `key=True` sends the admin key, a string sends that key."""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            content_type = content_type or "application/json"
        data = body.encode() if isinstance(body, str) else (body or b"")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": urlencode(query or {}),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data),
            "CONTENT_LENGTH": str(len(data)),
        }
        all_headers = dict(headers or {})
        if key is True:
            all_headers.setdefault("Authorization", f"Bearer {self.admin_key}")
        elif isinstance(key, str):
            all_headers.setdefault("Authorization", f"Bearer {key}")
        if content_type:
            all_headers["Content-Type"] = content_type
        for name, value in all_headers.items():
            if name.lower() == "content-type":
                environ["CONTENT_TYPE"] = value
            else:
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list, exc_info: Any = None) -> None:
            captured["status"] = int(status.split()[0])
            captured["headers"] = dict(response_headers)

        chunks = self.gateway(environ, start_response)
        payload = b"".join(chunks)
        return Reply(captured["status"], captured["headers"], payload)

    def submit(self, report: Any, **kwargs: Any) -> Reply:
        return self.request("POST", "/api/v1/observations", json_body=report, **kwargs)

    def drain(self, max_jobs: int = 10_000) -> int:
        """Run the worker until the queue is empty; returns how many jobs it ran."""
        worker = LocalWorker(self.services.queue, ROUTES, retry_base=0.0, retry_max=0.0)
        ran = 0
        while ran < max_jobs:
            handled = worker.run_once()
            if not handled:
                if self.services.queue.pending() == 0:
                    return ran
                continue
            ran += handled
        raise AssertionError("the queue did not drain")

    def close(self) -> None:
        use_services(None)


def basic(partner: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{partner}:{key}".encode()).decode()


def open_app(data_dir: Path, **env: str) -> App:
    settings = Settings.from_env({"STEPPE_DATA_DIR": str(data_dir), **env})
    services = build_services(settings)
    use_services(services)
    boot = ensure_bootstrapped(services.store, settings, admin_key=None)
    return App(settings, services, boot, create_app(ROUTES, settings.max_body_bytes))


def stored_count(app: App) -> int:
    return sum(
        app.services.store.count_objects(c.id)
        for c in app.services.store.list_collections(app.settings.api_root)
    )


def blob_files(app: App) -> list[Path]:
    root = app.settings.data_dir / "blobs"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def example(name: str = "kyrgyzstan-2009.json") -> dict[str, Any]:
    return json.loads((Path(__file__).resolve().parents[2] / "examples" / name).read_text())
